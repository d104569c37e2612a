"""suggest_architecture through real Optuna studies: samplers, storages, enqueue_trial."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import optuna
import pytest
import sqlalchemy
from optuna.distributions import CategoricalDistribution
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import (
    Conv,
    Layer,
    MetaQNNSpace,
    QLearningArchitectureSampler,
    format_architecture,
    parse_architecture,
    suggest_architecture,
)
from optuna_srm._keys import is_layer_param

SPACES = {
    "default": MetaQNNSpace(),
    "1d": MetaQNNSpace((2, 20), 5, conv_filters=(4, 8), fc_units=(16, 8)),
    "max_depth_3": MetaQNNSpace(max_depth=3),
    "bins_6_3": MetaQNNSpace((1, 12, 12), size_bins=(6, 3)),
    "fc_heavy": MetaQNNSpace((1, 6, 6), 2, 5, conv_filters=(2,), fc_units=(8, 4, 2), max_fc=3),
}
SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
    "tpe_multivariate": lambda seed: optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=5, multivariate=True, group=True
    ),
}
N_TRIALS = 40
DEFAULT_FIRST_PARAM = "layer_00 (input, size 8+)"


def architecture_objective(
    space: MetaQNNSpace | None, returned: dict[int, list[Layer]]
) -> Callable[[optuna.Trial], float]:
    """An objective that suggests an architecture and keeps what suggest_architecture returned."""

    def objective(trial: optuna.Trial) -> float:
        layers = suggest_architecture(trial, space)
        returned[trial.number] = layers
        # Favour shallow nets with few parameters, so that TPE has something to learn.
        num_params: int = trial.user_attrs["architecture_num_params"]
        return len(layers) + num_params / 1e7

    return objective


def check_trial(space: MetaQNNSpace, trial: FrozenTrial) -> list[Layer]:
    """Assert that ``trial`` holds a legal architecture of ``space``, recorded consistently."""
    layers = parse_architecture(trial.user_attrs["architecture"])
    space.validate(layers)
    features = space.features(layers)
    assert trial.user_attrs["architecture_depth"] == features["depth"]
    assert trial.user_attrs["architecture_num_params"] == features["num_params"]
    assert space.with_dropout(space.tokens(layers)) == layers

    # One categorical param per step with a choice, holding exactly the legal layers there.
    expected: dict[str, str] = {}
    states = space.walk(space.tokens(layers))
    for state, nxt in itertools.pairwise(states):
        actions = space.actions(state)
        if len(actions) > 1:
            name = space.param_name(state)
            expected[name] = str(nxt.previous)
            assert trial.distributions[name] == CategoricalDistribution(actions)
    architecture_params = {k: v for k, v in trial.params.items() if is_layer_param(k)}
    assert architecture_params == expected
    return layers


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.filterwarnings("error::UserWarning")
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("space_name", sorted(SPACES))
@pytest.mark.parametrize("sampler_name", sorted(SAMPLERS))
def test_sampled_architectures_are_legal(sampler_name: str, space_name: str, seed: int) -> None:
    space = SPACES[space_name]
    returned: dict[int, list[Layer]] = {}
    study = optuna.create_study(sampler=SAMPLERS[sampler_name](seed))

    # Optuna raises (and optimize re-raises) if a param name ever changed its choices.
    study.optimize(architecture_objective(space, returned), n_trials=N_TRIALS)

    trials = study.get_trials()
    assert len(trials) == N_TRIALS
    assert all(t.state == TrialState.COMPLETE for t in trials)
    for trial in trials:
        assert check_trial(space, trial) == returned[trial.number]
    assert len({t.user_attrs["architecture"] for t in trials}) > 1


@pytest.mark.filterwarnings("error::UserWarning")
def test_on_every_storage_and_across_workers(storage: BaseStorage) -> None:
    space = SPACES["default"]
    returned: dict[int, list[Layer]] = {}
    study = optuna.create_study(
        storage=storage, sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=3)
    )
    study.optimize(architecture_objective(space, returned), n_trials=6)
    # A second worker on the same study, with another sampler.
    worker = optuna.load_study(
        study_name=study.study_name,
        storage=storage,
        sampler=optuna.samplers.RandomSampler(seed=1),
    )
    worker.optimize(architecture_objective(space, returned), n_trials=4)
    first = study.get_trials()[0]
    study.enqueue_trial(first.params)
    study.optimize(architecture_objective(space, returned), n_trials=1)

    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 11
    for trial in trials:
        assert check_trial(space, trial) == returned[trial.number]
    assert trials[-1].params == first.params
    assert trials[-1].user_attrs["architecture"] == first.user_attrs["architecture"]


def test_enqueue_trial_reproduces_the_architecture() -> None:
    space = SPACES["1d"]
    returned: dict[int, list[Layer]] = {}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(architecture_objective(space, returned), n_trials=10)
    old = study.get_trials()

    for trial in old:
        study.enqueue_trial(trial.params)
    study.optimize(architecture_objective(space, returned), n_trials=len(old))

    new = study.get_trials()[len(old) :]
    for before, after in zip(old, new, strict=True):
        assert after.params == before.params
        assert after.user_attrs == before.user_attrs
        assert returned[after.number] == returned[before.number]


def test_fixed_trial_rebuilds_the_architecture_outside_the_study() -> None:
    space = SPACES["default"]
    returned: dict[int, list[Layer]] = {}
    study = optuna.create_study(sampler=QLearningArchitectureSampler(space, n_trials=8, seed=0))
    study.optimize(architecture_objective(space, returned), n_trials=8)

    for trial in study.get_trials():
        fixed = optuna.trial.FixedTrial(trial.params)
        assert suggest_architecture(fixed, space) == returned[trial.number]
        assert fixed.user_attrs == trial.user_attrs


def test_enqueue_trial_fixes_a_prefix_of_the_architecture() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        study.enqueue_trial({DEFAULT_FIRST_PARAM: "C(512,5,1)"})
    returned: dict[int, list[Layer]] = {}

    study.optimize(architecture_objective(None, returned), n_trials=5)

    for trial in study.get_trials():
        assert returned[trial.number][0] == Conv(512, 5, 1)
        check_trial(MetaQNNSpace(), trial)


class PerLayerQLearning(QLearningArchitectureSampler):
    """The same sampler, asked one layer at a time as any other sampler is."""

    def plan_architecture(self, *args: object) -> None:
        return None


def qlearning_objective(
    space: MetaQNNSpace, record: list[tuple[int, int]], commits: list[object]
) -> Callable[[optuna.Trial], float]:
    """Suggests twice per trial; records (commits during the first suggestion, layer params)."""

    def objective(trial: optuna.Trial) -> float:
        before = len(commits)
        layers = suggest_architecture(trial, space)
        record.append((len(commits) - before, len(trial.params)))
        assert suggest_architecture(trial, space) == layers  # read back, nothing new drawn
        return space.features(layers)["depth"] + trial.suggest_float("x", 0.0, 1.0)

    return objective


@pytest.mark.filterwarnings("error::UserWarning")
def test_qlearning_sampler_stores_the_whole_architecture_at_once(storage: BaseStorage) -> None:
    space = SPACES["default"]
    commits: list[object] = []
    if isinstance(storage, RDBStorage):
        sqlalchemy.event.listen(storage.engine, "commit", commits.append)
    record: list[tuple[int, int]] = []
    study = optuna.create_study(
        storage=storage, sampler=QLearningArchitectureSampler(space, n_trials=20, seed=0)
    )
    for _ in range(3):  # the planned walk must honour a layer fixed by enqueue_trial
        study.enqueue_trial({DEFAULT_FIRST_PARAM: "C(512,5,1)"})

    study.optimize(qlearning_objective(space, record, commits), n_trials=20)

    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 20
    for trial in trials:
        check_trial(space, trial)
    assert all(t.params[DEFAULT_FIRST_PARAM] == "C(512,5,1)" for t in trials[:3])
    # The same seed, one layer at a time, chooses the same layers.
    per_layer = optuna.create_study(sampler=PerLayerQLearning(space, n_trials=20, seed=0))
    for _ in range(3):
        per_layer.enqueue_trial({DEFAULT_FIRST_PARAM: "C(512,5,1)"})
    per_layer.optimize(qlearning_objective(space, [], []), n_trials=20)
    assert [t.params for t in per_layer.get_trials()] == [t.params for t in trials]
    if isinstance(storage, RDBStorage):
        # One commit for all layer params, whatever their number (after the enqueued trials,
        # whose fixed first layer goes the ordinary way).
        planned = record[3:]
        assert len({n_params for _, n_params in planned}) > 1
        assert len({n_commits for n_commits, _ in planned}) == 1
        assert planned[0][0] < max(n_params for _, n_params in planned)


def test_default_space_when_space_is_none() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()

    layers = suggest_architecture(trial)
    study.tell(trial, 0.0)

    frozen = study.get_trials()[0]
    assert DEFAULT_FIRST_PARAM in frozen.params
    assert check_trial(MetaQNNSpace(), frozen) == layers
    # The same params give the same layers in an explicit default space.
    study.enqueue_trial(frozen.params)
    replay = study.ask()
    assert suggest_architecture(replay, MetaQNNSpace()) == layers


def test_space_argument_must_be_a_space() -> None:
    trial = optuna.create_study().ask()
    with pytest.raises(
        ValueError, match="space must be a MetaQNNSpace or None, but got space='x'"
    ):
        suggest_architecture(trial, "x")  # type: ignore[arg-type]
    assert trial.params == {}  # nothing was suggested


def test_user_attrs_describe_the_returned_layers() -> None:
    space = SPACES["default"]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    trial = study.ask()

    layers = suggest_architecture(trial, space)

    assert trial.user_attrs == {
        "architecture": format_architecture(layers),
        "architecture_depth": space.features(layers)["depth"],
        "architecture_num_params": space.count_params(layers),
    }
    assert type(trial.user_attrs["architecture_depth"]) is int
    assert type(trial.user_attrs["architecture_num_params"]) is int


def test_architecture_params_are_told_apart_from_user_params() -> None:
    space = SPACES["1d"]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=3))

    def objective(trial: optuna.Trial) -> float:
        size = trial.suggest_int("layer_size", 1, 4)
        layers = suggest_architecture(trial, space)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        return size * lr * len(layers)

    study.optimize(objective, n_trials=10)

    for trial in study.get_trials():
        check_trial(space, trial)
        names = [name for name in trial.params if is_layer_param(name)]
        assert names
        assert all(name.startswith("layer_") and " (" in name for name in names)
        assert set(trial.params) - set(names) == {"layer_size", "lr"}


def all_architectures(space: MetaQNNSpace) -> set[str]:
    """Every architecture of ``space``, by depth-first enumeration of the legal transitions."""
    found: set[str] = set()

    def visit(tokens: list[str]) -> None:
        state = space.walk(tokens)[-1]
        if state.terminal:
            found.add(format_architecture(space.with_dropout(tokens)))
        for token in space.actions(state):
            visit([*tokens, token])

    visit([])
    return found


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_brute_force_sampler_enumerates_exactly_the_space() -> None:
    space = MetaQNNSpace(
        (1, 6), 2, 3, conv_filters=(2,), conv_kernels=(1, 3), pools=((2, 2),), fc_units=(4, 2)
    )
    expected = all_architectures(space)
    returned: dict[int, list[Layer]] = {}
    study = optuna.create_study(sampler=optuna.samplers.BruteForceSampler(seed=0))

    study.optimize(architecture_objective(space, returned), n_trials=len(expected) + 20)

    trials = study.get_trials()
    for trial in trials:
        check_trial(space, trial)
    assert len(trials) == len(expected)  # BruteForceSampler stops once all were tried
    assert {t.user_attrs["architecture"] for t in trials} == expected
