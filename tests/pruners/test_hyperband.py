"""SRMHyperbandPruner, driven through real Optuna studies next to Optuna's HyperbandPruner."""

from __future__ import annotations

import pickle
import sys
import threading
from typing import Any

import optuna
import pytest
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import SRMHyperbandPruner, SRMPruner
from tests.pruners.test_srm import (
    BEST,
    DIRECTIONS,
    N_STEPS,
    N_TRIALS,
    add_finished_trial,
    make_objective,
)


def run_study(
    pruner: optuna.pruners.BasePruner,
    direction: str,
    storage: BaseStorage | None = None,
    *,
    n_trials: int = N_TRIALS,
    n_steps: int = N_STEPS,
    best: int = BEST,
) -> optuna.Study:
    """The behaviour study of tests/pruners/test_srm.py under ``pruner``.

    Hyperband picks a trial's bracket from the study name and the trial number, so two runs
    with the same name put the same trials in the same brackets; the params, which the model
    learns from, come from a seeded sampler.
    """
    name = f"hyperband-{direction}" if storage is None else None
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction=direction,
        pruner=pruner,
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    study.optimize(make_objective(direction, n_steps, best), n_trials=n_trials)
    return study


def steps_trained(study: optuna.Study) -> int:
    return sum(len(t.intermediate_values) for t in study.trials)


def srm_checked(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.trials if "srm_step" in t.user_attrs]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_stops_trials_that_hyperband_lets_run_and_keeps_the_best(direction: str) -> None:
    hyperband = run_study(optuna.pruners.HyperbandPruner(max_resource=N_STEPS), direction)
    srm = run_study(SRMHyperbandPruner(max_resource=N_STEPS), direction)

    assert isinstance(srm.pruner, optuna.pruners.HyperbandPruner)
    assert srm.trials[BEST].state == TrialState.COMPLETE
    assert srm.best_trial.number == hyperband.best_trial.number == BEST
    assert steps_trained(srm) < steps_trained(hyperband)
    # The SRM stopped trials that Hyperband's rungs let through: some of its checks ended a
    # trial (a pruned trial whose last step is its last SRM check).
    checked = srm_checked(srm)
    assert checked
    assert any(
        t.state == TrialState.PRUNED and t.user_attrs["srm_step"] == t.last_step for t in checked
    )


def test_runs_the_given_srm_pruner() -> None:
    # An SRMPruner that never checks before the last step leaves Hyperband's decisions alone.
    late = SRMPruner(n_warmup_steps=N_STEPS - 1)
    hyperband = run_study(optuna.pruners.HyperbandPruner(max_resource=N_STEPS), "maximize")
    srm = run_study(SRMHyperbandPruner(max_resource=N_STEPS, srm_pruner=late), "maximize")

    assert steps_trained(srm) == steps_trained(hyperband)
    assert not srm_checked(srm)
    assert [t.state for t in srm.trials] == [t.state for t in hyperband.trials]


def test_learns_from_every_storage(storage: BaseStorage) -> None:
    # The smaller study of test_prunes_through_every_storage: 16 trials of 8 steps.
    pruner = SRMHyperbandPruner(max_resource=8)
    study = run_study(pruner, "maximize", storage, n_trials=16, n_steps=8, best=12)

    assert study.trials[12].state == TrialState.COMPLETE
    # The attrs reach the storage: a fresh view of the study reads them back.
    reloaded = optuna.load_study(study_name=study.study_name, storage=storage)
    assert srm_checked(reloaded)


def test_threads_sharing_the_pruner_build_the_brackets_once() -> None:
    # Optuna's HyperbandPruner builds its brackets at its first check; with max_resource="auto"
    # that is the first check after a trial finished. Eight threads of study.optimize make that
    # check at once (a barrier), with a thread switch every microsecond.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(10):
            pruner = SRMHyperbandPruner()
            study = optuna.create_study(direction="maximize", pruner=pruner)
            add_finished_trial(study, list(range(9)))  # max_resource: 9 steps
            barrier = threading.Barrier(8)

            def objective(trial: optuna.Trial, barrier: threading.Barrier = barrier) -> float:
                x = trial.suggest_float("x", 0, 1)
                for step in range(9):
                    trial.report(x * step, step)
                    if trial.number <= 8 and step == 0:
                        barrier.wait()
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                return x * 9

            study.optimize(objective, n_trials=24, n_jobs=8, catch=())
            assert {t.state for t in study.trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    finally:
        sys.setswitchinterval(interval)


def test_pickles() -> None:
    pruner = SRMHyperbandPruner(max_resource=N_STEPS)
    run_study(pruner, "maximize")

    copy = pickle.loads(pickle.dumps(pruner))

    assert isinstance(copy, SRMHyperbandPruner)
    assert steps_trained(run_study(copy, "minimize")) == steps_trained(
        run_study(SRMHyperbandPruner(max_resource=N_STEPS), "minimize")
    )


def test_multi_objective_study_is_rejected() -> None:
    pruner = SRMHyperbandPruner()
    study = optuna.create_study(directions=["maximize", "minimize"], pruner=pruner)
    study.ask()
    running: FrozenTrial = study.get_trials(deepcopy=False)[0]

    with pytest.raises(ValueError, match="SRMHyperbandPruner supports single-objective"):
        pruner.prune(study, running)


def outcome(study: optuna.Study) -> list[tuple[TrialState, int | None]]:
    return [(t.state, t.last_step) for t in study.trials]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        ((2, 18, 2, 0), {}),
        ((), {"min_resource": 2, "max_resource": 2, "reduction_factor": 2, "bootstrap_count": 4}),
        ((), {"min_resource": 3, "max_resource": "auto", "reduction_factor": 4}),
    ],
    ids=["defaults", "positional", "one-rung-bootstrap", "auto"],
)
def test_valid_arguments_shape_the_brackets_as_in_hyperband(
    args: tuple[int, ...], kwargs: dict[str, Any]
) -> None:
    # With an SRM rule that never checks, the pruner stops the trials that Optuna's
    # HyperbandPruner with the same arguments stops, at the same steps.
    late = SRMPruner(n_warmup_steps=N_STEPS)
    srm = run_study(SRMHyperbandPruner(*args, **kwargs, srm_pruner=late), "maximize")
    hyperband = run_study(optuna.pruners.HyperbandPruner(*args, **kwargs), "maximize")

    assert outcome(srm) == outcome(hyperband)
    assert not srm_checked(srm)
    if args or kwargs:  # and the arguments made a difference
        default = run_study(optuna.pruners.HyperbandPruner(), "maximize")
        assert outcome(srm) != outcome(default)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_resource": 0}, "min_resource must be an integer >= 1, but got min_resource=0"),
        ({"min_resource": 1.5}, "min_resource must be an integer >= 1"),
        ({"max_resource": 0}, r"max_resource must be 'auto' or an integer >= min_resource \(1\)"),
        (
            {"min_resource": 5, "max_resource": 4},
            r"integer >= min_resource \(5\), but got max_resource=4",
        ),
        ({"max_resource": "all"}, "but got max_resource='all'"),
        ({"max_resource": 20.0}, "but got max_resource=20.0"),
        ({"reduction_factor": 1}, "reduction_factor must be an integer >= 2"),
        ({"bootstrap_count": -1}, "bootstrap_count must be an integer >= 0"),
        ({"bootstrap_count": 2}, "bootstrap_count > 0 and max_resource == 'auto'"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SRMHyperbandPruner(**kwargs)  # type: ignore[arg-type]


def test_srm_pruner_must_be_an_srm_pruner() -> None:
    with pytest.raises(TypeError, match="srm_pruner must be an SRMPruner or None"):
        SRMHyperbandPruner(srm_pruner=optuna.pruners.MedianPruner())  # type: ignore[arg-type]
