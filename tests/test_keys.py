"""The names that the pruners, the architecture search, the command and the dashboard share in
the storage."""

from __future__ import annotations

import random

import pytest

from optuna_srm import MetaQNNSpace, _keys

# The names as studies in users' databases hold them.
STORED_NAMES = {
    "PREDICTED_FINAL": "srm_predicted_final",
    "PREDICTED_STD": "srm_predicted_std",
    "P_IMPROVE": "srm_p_improve",
    "STEP": "srm_step",
    "PREDICTION_HISTORY": "srm_history",
    "TRAIN_SECONDS": "train_seconds",
    "REUSED_FROM": "reused_from",
    "SEARCH_CONFIG": "optuna_srm_search",
    "ARCHITECTURE": "architecture",
    "DEPTH": "architecture_depth",
    "NUM_PARAMS": "architecture_num_params",
    "LAYER_PARAM_PREFIX": "layer_",
}


@pytest.mark.parametrize(("constant", "name"), STORED_NAMES.items())
def test_the_stored_names_stay_what_studies_already_hold(constant: str, name: str) -> None:
    # A rename would leave the pruners, the sampler, the command and the dashboard blind to
    # every trial recorded before it.
    assert getattr(_keys, constant) == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("layer_00 (input, size 8+)", True),
        ("layer_11 (after FC(256) #2)", True),
        ("layer_123 (after Conv, size 1-3)", True),
        ("layer_size", False),
        ("layer_00", False),
        ("layer_01(after Conv)", False),
        ("my_layer_00 (input, size 8+)", False),
        ("lr", False),
    ],
)
def test_is_layer_param(name: str, expected: bool) -> None:
    assert _keys.is_layer_param(name) is expected


def test_every_param_name_of_a_space_is_a_layer_param() -> None:
    space = MetaQNNSpace((1, 12, 12), size_bins=(6, 3), max_depth=6)
    rng = random.Random(0)
    names = set()
    for _ in range(50):
        state = space.initial_state()
        while not state.terminal:
            names.add(space.param_name(state))
            state = space.step(state, rng.choice(space.actions(state)))

    assert len(names) > 5
    assert all(_keys.is_layer_param(name) for name in names), names
    assert all(name.startswith(_keys.LAYER_PARAM_PREFIX) for name in names)
