"""QLearningArchitectureSampler through real Optuna studies."""

from __future__ import annotations

import itertools
import json
import pickle
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.samplers import BaseSampler, RandomSampler
from optuna.storages import BaseStorage
from optuna.trial import TrialState

import optuna_srm

SPACE = optuna_srm.MetaQNNSpace(
    input_shape=(1, 12, 12), max_depth=4, conv_filters=(8, 16), conv_kernels=(1, 3)
)


try:  # Optuna's contract suite for samplers, published with Optuna 5.0
    from optuna.testing.pytest_samplers import BasicSamplerTestCase, SingleOnlySamplerTestCase
except ImportError:
    pass
else:

    class TestBasicSampler(BasicSamplerTestCase):
        @pytest.fixture
        def sampler(self) -> Callable[[], BaseSampler]:
            return lambda: optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=20, seed=0)

    class TestSingleOnly(SingleOnlySamplerTestCase):
        @pytest.fixture
        def sampler(self) -> Callable[[], BaseSampler]:
            return lambda: optuna_srm.QLearningArchitectureSampler(SPACE)


def _first_layer_objective(good: str, direction: str) -> Callable[[optuna.Trial], float]:
    """1 when the architecture starts with ``good`` and 0 otherwise (negated to minimize)."""
    sign = 1.0 if direction == "maximize" else -1.0

    def objective(trial: optuna.Trial) -> float:
        layers = optuna_srm.suggest_architecture(trial, SPACE)
        return sign * float(str(layers[0]) == good)

    return objective


def _greedy_first_layer(sampler: optuna_srm.QLearningArchitectureSampler, study) -> str:  # type: ignore[no-untyped-def]
    state = SPACE.initial_state()
    row = sampler.q_values(study)[SPACE.q_state(state)]
    return max(row, key=row.__getitem__)


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_learns_the_rewarded_layer_in_both_directions(direction: str) -> None:
    good = "C(16,3,1)"
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=120, seed=1)
    study = optuna.create_study(direction=direction, sampler=sampler)
    study.optimize(_first_layer_objective(good, direction), n_trials=120)
    assert _greedy_first_layer(sampler, study) == good
    trials = study.trials
    # Epsilon falls from 1 to 0.1: the last third mostly exploits what was learned.
    late = [str(optuna_srm.parse_architecture(t.user_attrs["architecture"])[0]) for t in trials]
    assert late[-40:].count(good) >= 25
    assert late[:40].count(good) <= 15


def test_every_sampled_architecture_is_legal_and_recorded() -> None:
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=60, seed=3)
    study = optuna.create_study(sampler=sampler)
    returned: dict[int, list[optuna_srm.Layer]] = {}

    def objective(trial: optuna.Trial) -> float:
        layers = optuna_srm.suggest_architecture(trial, SPACE)
        returned[trial.number] = layers
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        return len(layers) + lr

    study.optimize(objective, n_trials=60)
    for trial in study.trials:
        layers = returned[trial.number]
        assert SPACE.validate(layers) is None
        assert trial.user_attrs["architecture"] == optuna_srm.format_architecture(layers)
        assert trial.user_attrs["architecture_num_params"] == SPACE.count_params(layers)
        # The trial's params, replayed, give the same architecture.
        fixed = optuna.trial.FixedTrial(trial.params)
        assert optuna_srm.suggest_architecture(fixed, SPACE) == layers
    assert len({t.user_attrs["architecture"] for t in study.trials}) > 10


def test_epsilon_schedule_default_scaled_custom_and_paper() -> None:
    default = optuna_srm.QLearningArchitectureSampler(SPACE)
    assert [default.epsilon(i) for i in (0, 899, 900, 2699, 5000)] == [1.0, 1.0, 0.05, 0.05, 0.05]
    scaled = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=300)
    assert [scaled.epsilon(i) for i in (0, 99, 100, 299)] == [1.0, 1.0, 0.05, 0.05]
    schedule = optuna_srm.QLearningArchitectureSampler.PAPER_EPSILON_SCHEDULE
    paper = optuna_srm.QLearningArchitectureSampler(SPACE, epsilon_schedule=schedule)
    assert [paper.epsilon(i) for i in (0, 1499, 1500, 2699, 5000)] == [1.0, 1.0, 0.9, 0.1, 0.1]
    paper = optuna_srm.QLearningArchitectureSampler(SPACE, epsilon_schedule=schedule, n_trials=270)
    assert [paper.epsilon(i) for i in (0, 149, 150, 269)] == [1.0, 1.0, 0.9, 0.1]
    custom = optuna_srm.QLearningArchitectureSampler(SPACE, epsilon_schedule=[(0.5, 2), (0.0, 1)])
    assert [custom.epsilon(i) for i in range(4)] == [0.5, 0.5, 0.0, 0.0]
    both = optuna_srm.QLearningArchitectureSampler(
        SPACE, epsilon_schedule=[(1.0, 1), (0.0, 1)], n_trials=10
    )
    assert [both.epsilon(i) for i in (0, 4, 5, 9)] == [1.0, 1.0, 0.0, 0.0]
    numpy = optuna_srm.QLearningArchitectureSampler(
        SPACE, epsilon_schedule=[(np.float32(0.5), np.int64(4)), (0, 4)]
    )
    assert [numpy.epsilon(i) for i in (0, 3, 4, 100)] == [0.5, 0.5, 0.0, 0.0]


def test_q_values_do_not_depend_on_the_seed_or_on_when_they_were_learned() -> None:
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=40, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_first_layer_objective("C(8,1,1)", "maximize"), n_trials=40)
    learned_along_the_way = sampler.q_values(study)
    fresh = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=40, seed=123)
    assert fresh.q_values(study) == learned_along_the_way
    assert learned_along_the_way  # something was learned


def test_a_study_created_again_under_the_same_id_is_learned_afresh(tmp_path: Path) -> None:
    # SQLite gives a study created after the deletion of the last one that study's id: the
    # sampler's memory of the first must not carry over to the second.
    storage = optuna.storages.get_storage(f"sqlite:///{tmp_path / 'studies.db'}")
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=30, seed=0)
    first = optuna.create_study(storage=storage, study_name="search", sampler=sampler)
    first.optimize(_first_layer_objective("C(8,1,1)", "minimize"), n_trials=30)
    optuna.delete_study(study_name="search", storage=storage)
    again = optuna.create_study(storage=storage, study_name="search", sampler=sampler)
    again.optimize(_first_layer_objective("C(16,3,1)", "minimize"), n_trials=5)

    assert again._study_id == first._study_id  # the case at stake: the same storage and id
    fresh = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=30, seed=0)
    assert sampler.q_values(again) == fresh.q_values(again)


def test_a_study_created_again_from_the_same_warm_start_is_learned_afresh(
    tmp_path: Path,
) -> None:
    # Both studies start with study.add_trials(base.trials), which copies the trials' starts,
    # and SQLite gives their first trials the same ids: only their later trials differ.
    base = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    base.optimize(_first_layer_objective("C(8,1,1)", "minimize"), n_trials=10)
    storage = optuna.storages.get_storage(f"sqlite:///{tmp_path / 'studies.db'}")
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=30, seed=0)

    def warm_study() -> optuna.Study:
        study = optuna.create_study(storage=storage, study_name="search", sampler=sampler)
        study.add_trials(base.trials)
        return study

    first = warm_study()
    first.optimize(_first_layer_objective("C(16,3,1)", "minimize"), n_trials=15)
    sampler.q_values(first)
    optuna.delete_study(study_name="search", storage=storage)
    again = warm_study()

    assert again._study_id == first._study_id  # the case at stake: the same storage and id
    fresh = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=30, seed=0)
    assert sampler.q_values(again) == fresh.q_values(again)


def test_pruned_trials_teach_their_predicted_final_value() -> None:
    def study_with(predicted: float | None) -> optuna.Study:
        study = optuna.create_study(direction="maximize")
        trial = study.ask()
        optuna_srm.suggest_architecture(trial, SPACE)
        trial.report(0.1, step=0)
        if predicted is not None:
            trial.set_user_attr("srm_predicted_final", predicted)
        study.tell(trial, state=TrialState.PRUNED)
        return study

    def learned(study: optuna.Study) -> float:
        row = optuna_srm.QLearningArchitectureSampler(SPACE, n_replays=5).q_values(study)
        (value,) = row[SPACE.q_state(SPACE.initial_state())].values()
        return value

    # With a single trial the mean reward (where Q starts) is that trial's reward, and so is
    # every learned value.
    assert learned(study_with(0.9)) == pytest.approx(0.9)
    assert learned(study_with(0.3)) == pytest.approx(0.3)
    # Without a prediction, the pruned trial's value (its last report) is the reward.
    assert learned(study_with(None)) == pytest.approx(0.1)
    # ... also for a pruned trial added by hand, which has no value, only its reports.
    added = optuna.create_study(direction="maximize")
    (source,) = study_with(None).trials
    added.add_trial(
        optuna.trial.create_trial(
            state=TrialState.PRUNED,
            params=source.params,
            distributions=source.distributions,
            intermediate_values={0: 0.3, 3: 0.7},
        )
    )
    assert learned(added) == pytest.approx(0.7)


def test_failed_and_foreign_trials_teach_nothing() -> None:
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=1.0))
    trial = study.ask()
    optuna_srm.suggest_architecture(trial, SPACE)
    study.tell(trial, state=TrialState.FAIL)
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=3)
    assert sampler.q_values(study) == {}
    # ... and sampling still works.
    study.sampler = sampler
    study.optimize(lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), n_trials=3)


def test_other_params_go_to_the_independent_sampler() -> None:
    names: list[str] = []

    class Recording(RandomSampler):
        def sample_independent(self, study, trial, param_name, param_distribution):  # type: ignore[no-untyped-def]
            names.append(param_name)
            return super().sample_independent(study, trial, param_name, param_distribution)

    inner = Recording(seed=0)
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=5, independent_sampler=inner)
    study = optuna.create_study(sampler=sampler)

    def objective(trial: optuna.Trial) -> float:
        optuna_srm.suggest_architecture(trial, SPACE)
        # A categorical param that looks like an architecture layer but has other choices.
        trial.suggest_categorical("layer_00 (input, size 8+)x", ["a", "b"])
        return trial.suggest_float("x", 0, 1)

    with pytest.warns(UserWarning, match="not one of the sampler's space"):
        study.optimize(objective, n_trials=5)
    assert set(names) == {"x", "layer_00 (input, size 8+)x"}


def test_independent_sampler_draws_the_other_params_as_it_would_alone() -> None:
    def tpe() -> optuna.samplers.TPESampler:
        return optuna.samplers.TPESampler(seed=0, n_startup_trials=3)

    def loss(trial: optuna.Trial) -> float:
        return (trial.suggest_float("x", -1.0, 1.0) - 0.3) ** 2

    def with_architecture(trial: optuna.Trial) -> float:
        optuna_srm.suggest_architecture(trial, SPACE)
        return loss(trial)

    sampler = optuna_srm.QLearningArchitectureSampler(
        SPACE, n_trials=10, seed=0, independent_sampler=tpe()
    )
    study = optuna.create_study(sampler=sampler)
    study.optimize(with_architecture, n_trials=10)
    alone = optuna.create_study(sampler=tpe())
    alone.optimize(loss, n_trials=10)

    # TPE's model, past its 3 random startup trials, chose the same x as without architectures.
    assert [t.params["x"] for t in study.trials] == [t.params["x"] for t in alone.trials]


@pytest.mark.parametrize(
    "hyperband", [optuna.pruners.HyperbandPruner, optuna_srm.SRMHyperbandPruner]
)
def test_works_under_hyperband_with_the_whole_study_as_memory(
    hyperband: type[optuna.pruners.HyperbandPruner],
) -> None:
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=30, seed=0)
    pruner = hyperband(min_resource=1, max_resource=9, reduction_factor=3)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)

    def objective(trial: optuna.Trial) -> float:
        layers = optuna_srm.suggest_architecture(trial, SPACE)
        value = 0.0
        for step in range(9):
            value = (step + 1) / 9 * len(layers) / 10
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=30)
    assert len(study.trials) == 30
    assert {t.state for t in study.trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    fresh = optuna_srm.QLearningArchitectureSampler(SPACE)
    assert sampler.q_values(study) == fresh.q_values(study)


def test_threads_of_one_study_learn_what_a_fresh_sampler_learns() -> None:
    # study.optimize(n_jobs=...) asks from several threads; switching threads every 10 us makes
    # their asks interleave inside the sampler.
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=40, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def objective(trial: optuna.Trial) -> float:
        layers = optuna_srm.suggest_architecture(trial, SPACE)
        return SPACE.count_params(layers) % 7 / 7

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        study.optimize(objective, n_trials=40, n_jobs=4)
    finally:
        sys.setswitchinterval(interval)
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 40
    for trial in study.trials:
        SPACE.validate(optuna_srm.parse_architecture(trial.user_attrs["architecture"]))
    fresh = optuna_srm.QLearningArchitectureSampler(SPACE)
    assert sampler.q_values(study) == fresh.q_values(study)


def test_with_srm_pruner_end_to_end() -> None:
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=40, seed=0)
    study = optuna.create_study(
        direction="maximize", sampler=sampler, pruner=optuna_srm.SRMPruner(n_startup_trials=5)
    )

    def objective(trial: optuna.Trial) -> float:
        layers = optuna_srm.suggest_architecture(trial, SPACE)
        quality = SPACE.count_params(layers) % 7 / 7
        value = 0.0
        for step in range(10):
            value = quality * (1 - 0.5 ** (step + 1))
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=40)
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert all("srm_predicted_final" in t.user_attrs for t in pruned)
    assert sampler.q_values(study)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"space": "default"}, "space"),
        ({"n_trials": 0}, "n_trials"),
        ({"n_trials": 2.5}, "n_trials"),
        ({"epsilon_schedule": [(2.0, 10)]}, "epsilon_schedule"),
        ({"epsilon_schedule": []}, "epsilon_schedule"),
        ({"epsilon_schedule": [("0.5", 10)]}, "epsilon_schedule"),
        ({"epsilon_schedule": [(True, 10)]}, "epsilon_schedule"),
        ({"epsilon_schedule": [(0.5, 10.0)]}, "epsilon_schedule"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": 1.5}, "learning_rate"),
        ({"discount_factor": -0.1}, "discount_factor"),
        ({"discount_factor": 1.1}, "discount_factor"),
        ({"n_replays": 0}, "n_replays"),
        ({"q_init": float("nan")}, "q_init"),
        ({"q_init": "0.5"}, "q_init"),
        ({"independent_sampler": "random"}, "independent_sampler"),
        ({"seed": 1.5}, "seed"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        optuna_srm.QLearningArchitectureSampler(**kwargs)  # type: ignore[arg-type]


def test_multi_objective_studies_are_rejected_by_name() -> None:
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=3)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=RandomSampler(0))
    study.optimize(
        lambda t: (float(len(optuna_srm.suggest_architecture(t, SPACE))), 1.0), n_trials=3
    )
    message = "QLearningArchitectureSampler supports single-objective studies only"
    with pytest.raises(ValueError, match=message):
        sampler.q_values(study)
    study.sampler = sampler
    with pytest.raises(ValueError, match=message):
        study.optimize(lambda t: (float(len(optuna_srm.suggest_architecture(t, SPACE))), 1.0))


def test_q_init_is_the_value_of_unvisited_pairs() -> None:
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({"layer_00 (input, size 8+)": "SM(10)"})
    study.optimize(lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), n_trials=1)
    start = SPACE.q_state(SPACE.initial_state())
    reward = 1.0  # the architecture [SM(10)] has one layer

    def learned(q_init: float | None) -> float:
        sampler = optuna_srm.QLearningArchitectureSampler(
            SPACE, q_init=q_init, learning_rate=0.01, n_replays=1
        )
        return sampler.q_values(study)[start]["SM(10)"]

    # One replay (of the only trial): 1% of the way from the initial value to the reward.
    for q_init in (100.0, 0.5, -3):
        assert learned(q_init) == pytest.approx(reward + (q_init - reward) * 0.99)
    assert learned(None) == pytest.approx(reward)  # the mean reward: nothing to move


def _study_of(*tokens: str) -> optuna.Study:
    """A study of one finished trial, of reward 1, whose architecture is the walk ``tokens``."""
    states = SPACE.walk(tokens)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(
        {
            SPACE.param_name(state): str(following.previous)
            for state, following in itertools.pairwise(states)
            if len(SPACE.actions(state)) > 1
        }
    )

    def objective(trial: optuna.Trial) -> float:
        layers = optuna_srm.suggest_architecture(trial, SPACE)
        assert SPACE.tokens(layers) == list(tokens)
        return 1.0

    study.optimize(objective, n_trials=1)
    return study


def test_learning_rate_discount_factor_and_n_replays_set_the_update() -> None:
    study = _study_of("C(8,1,1)", "SM(10)")
    first = SPACE.q_state(SPACE.initial_state())
    last = SPACE.q_state(SPACE.walk(["C(8,1,1)"])[-1])

    def learned(**kwargs: Any) -> tuple[float, float]:
        sampler = optuna_srm.QLearningArchitectureSampler(SPACE, q_init=0.0, **kwargs)
        q = sampler.q_values(study)
        return q[first]["C(8,1,1)"], q[last]["SM(10)"]

    # Replayed backwards: the last layer moves towards the reward, then the first towards the
    # discounted best value after it.
    assert learned(learning_rate=1.0, n_replays=1) == (1.0, 1.0)
    assert learned(learning_rate=1.0, discount_factor=0.0, n_replays=1) == (0.0, 1.0)
    assert learned(learning_rate=1.0, discount_factor=0.5, n_replays=1) == (0.5, 1.0)
    assert learned(learning_rate=0.5, n_replays=1) == (0.25, 0.5)
    # Each replay of the only trial halves the last layer's distance to the reward.
    assert learned(learning_rate=0.5, n_replays=3)[1] == pytest.approx(0.875)


def test_same_seed_same_architectures() -> None:
    def run(seed: int) -> list[str]:
        sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=30, seed=seed)
        study = optuna.create_study(sampler=sampler)
        study.optimize(
            lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), n_trials=30
        )
        return [t.user_attrs["architecture"] for t in study.trials]

    assert run(5) == run(5) == run(np.int64(5))  # type: ignore[arg-type]
    assert run(5) != run(6)


def test_reseed_rng_changes_the_draws() -> None:
    def architectures(reseed: bool) -> list[str]:
        sampler = optuna_srm.QLearningArchitectureSampler(
            SPACE, epsilon_schedule=((1.0, 1),), seed=0
        )
        if reseed:
            sampler.reseed_rng()
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), 8)
        return [t.user_attrs["architecture"] for t in study.trials]

    assert architectures(reseed=False) == architectures(reseed=False)
    assert architectures(reseed=True) != architectures(reseed=False)


def test_on_every_storage(storage: BaseStorage) -> None:
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=12, seed=0)
    study = optuna.create_study(storage=storage, sampler=sampler, direction="maximize")
    study.optimize(_first_layer_objective("C(16,3,1)", "maximize"), n_trials=12)
    assert len(study.trials) == 12
    assert optuna_srm.QLearningArchitectureSampler(SPACE).q_values(study) == sampler.q_values(
        study
    )


_WORKER = textwrap.dedent(
    """
    import json, sys, time
    import optuna, optuna_srm
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url, name, n_each, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    space = optuna_srm.MetaQNNSpace(
        input_shape=(1, 12, 12), max_depth=4, conv_filters=(8, 16), conv_kernels=(1, 3)
    )
    sampler = optuna_srm.QLearningArchitectureSampler(space, n_trials=2 * n_each, seed=None)
    study = optuna.load_study(study_name=name, storage=url, sampler=sampler)

    def objective(trial):
        layers = optuna_srm.suggest_architecture(trial, space)
        trial.set_user_attr("worker", out)
        time.sleep(0.02)
        return float(str(layers[0]) == "C(16,3,1)") + 0.01 * len(layers)

    study.optimize(objective, n_trials=n_each)
    while len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) < 2 * n_each:
        time.sleep(0.1)
    q = sampler.q_values(study)
    eps = {t.number: sampler.epsilon(t.number) for t in study.trials}
    with open(out, "w") as f:
        json.dump({"q": q, "eps": eps}, f)
    """
)


@pytest.mark.slow
@pytest.mark.integration
def test_two_worker_processes_on_postgresql_agree(postgres_url: str, tmp_path: Path) -> None:
    name = "two-workers"
    optuna.create_study(study_name=name, storage=postgres_url, direction="maximize")
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    n_each = 15
    outs = [tmp_path / f"worker{i}.json" for i in range(2)]
    procs = [
        subprocess.Popen([sys.executable, str(script), postgres_url, name, str(n_each), str(o)])
        for o in outs
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0
    results = [json.loads(o.read_text()) for o in outs]
    study = optuna.load_study(study_name=name, storage=postgres_url)
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert workers == {str(o) for o in outs}  # both really ran trials
    assert results[0]["q"] == results[1]["q"]
    assert results[0]["eps"] == results[1]["eps"]
    here = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=2 * n_each)
    assert here.q_values(study) == results[0]["q"]
    assert results[0]["eps"] == {str(t.number): here.epsilon(t.number) for t in study.trials}


def test_pickles_and_learns_the_same_afterwards() -> None:
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, n_trials=10, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), n_trials=10)
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy.q_values(study) == sampler.q_values(study)
    assert copy.epsilon(5) == sampler.epsilon(5)
    study.sampler = copy
    study.optimize(lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), n_trials=2)


def test_warns_once_when_the_spaces_differ() -> None:
    other = optuna_srm.MetaQNNSpace(input_shape=(1, 12, 12), max_depth=4, conv_filters=(4,))
    sampler = optuna_srm.QLearningArchitectureSampler(SPACE, seed=0)
    study = optuna.create_study(sampler=sampler)
    with pytest.warns(UserWarning, match="same MetaQNNSpace") as record:
        study.optimize(lambda t: float(len(optuna_srm.suggest_architecture(t, other))), n_trials=3)
    # One warning for all the layers and trials, attributed to the objective that asked.
    assert len(record) == 1
    assert record[0].filename == __file__


def test_warns_once_that_the_default_schedule_is_not_scaled() -> None:
    study = optuna.create_study(sampler=optuna_srm.QLearningArchitectureSampler(SPACE, seed=0))
    with pytest.warns(UserWarning, match="pass n_trials=") as record:
        study.optimize(lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), n_trials=3)
    assert sum("n_trials=" in str(w.message) for w in record) == 1
    assert [w.filename for w in record if "n_trials=" in str(w.message)] == [__file__]
    for kwargs in ({"n_trials": 3}, {"epsilon_schedule": [(1.0, 3)]}):
        sampler = optuna_srm.QLearningArchitectureSampler(SPACE, seed=0, **kwargs)  # type: ignore[arg-type]
        study = optuna.create_study(sampler=sampler)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            study.optimize(
                lambda t: float(len(optuna_srm.suggest_architecture(t, SPACE))), n_trials=3
            )
