"""Each private path of optuna_srm/_optuna_internals.py falls back on Optuna's public API, with
one warning, where a release of Optuna has changed what it uses. Optuna's own storage uses the
same private names, so the change is simulated where only optuna-srm would meet it: the fast
path raises what a renamed attribute raises."""

from __future__ import annotations

import logging
from pathlib import Path

import optuna
import pytest

import optuna_srm
from optuna_srm import _optuna_internals
from optuna_srm._optuna_internals import set_user_attrs

LOGGER = "optuna_srm._optuna_internals"
SPACE = optuna_srm.MetaQNNSpace(input_shape=(1, 8, 8), conv_filters=(8, 16), max_depth=4)


@pytest.fixture(autouse=True)
def _warn_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_optuna_internals, "_warned", set())


def _changed(*args: object) -> None:
    raise AttributeError("module 'optuna.storages._rdb.models' has no attribute 'TrialModel'")


def _study(tmp_path: Path, **kwargs: object) -> optuna.Study:
    return optuna.create_study(storage=f"sqlite:///{tmp_path / 'x.db'}", **kwargs)  # type: ignore[arg-type]


def test_user_attrs_fall_back_on_the_storage_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_optuna_internals, "_upsert_user_attrs", _changed)
    study = _study(tmp_path)
    trial = study.ask()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        set_user_attrs(study, trial, {"a": 1.5, "b": "x"})
        set_user_attrs(study, trial, {"a": 2.5})
    stored = study.trials[0].user_attrs
    assert stored == {"a": 2.5, "b": "x"} and trial.user_attrs == stored
    warnings = [r for r in caplog.records if r.name == LOGGER]
    assert len(warnings) == 1 and "user-attr upsert" in warnings[0].getMessage()


def test_the_pruner_records_its_attrs_through_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_optuna_internals, "_upsert_user_attrs", _changed)
    study = _study(tmp_path, direction="maximize", pruner=optuna_srm.SRMPruner())
    for number in range(8):
        trial = study.ask()
        for step in range(6):
            trial.report((number + 1) * (1.0 - 0.5**step) / 8.0, step)
            trial.should_prune()
        study.tell(trial, (number + 1) / 8.0)
    checked = [t for t in study.trials if "srm_p_improve" in t.user_attrs]
    assert checked, "the pruner recorded nothing"


def test_layers_are_suggested_one_at_a_time_without_the_batched_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_optuna_internals, "_set_trial_params", _changed)
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=6, seed=0)
    study = _study(tmp_path, sampler=sampler)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        study.optimize(lambda t: len(optuna_srm.suggest_architecture(t, SPACE)), n_trials=6)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 6
    for trial in study.trials:
        SPACE.validate(optuna_srm.parse_architecture(trial.user_attrs["architecture"]))
    warnings = [r for r in caplog.records if r.name == LOGGER]
    assert len(warnings) == 1 and "batched params" in warnings[0].getMessage()
