"""What users watch: the pruner's history of checks (``srm_history``), its plot and the study
note for optuna-dashboard, all driven through real studies (ask, report, should_prune, tell)."""

from __future__ import annotations

import inspect
import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import optuna
import pytest
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from optuna_srm import MetaQNNSpace, QLearningArchitectureSampler, SRMPruner, _keys
from tests.pruners.test_srm import SRM_ATTRS, add_finished_trial, objective_curve
from tests.test_docstrings import examples

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # no display: draw into images
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

from optuna_srm.visualization import write_study_note  # noqa: E402
from optuna_srm.visualization.matplotlib import plot_prediction_history  # noqa: E402

DIRECTIONS = ["maximize", "minimize"]
N_STEPS = 8
N_FINISHED = 6  # trials 0-5 finish before the pruner's checks begin (n_startup_trials=5)
BEST = 37  # the curve of trial 37 ends best (tests.pruners.test_srm)
Z_90 = 1.645
HISTORY = _keys.PREDICTION_HISTORY


def run_trial(study: optuna.Study, values: Sequence[float]) -> tuple[int, int | None]:
    """Run one trial on ``values`` through the public path; its number and the step at which
    it was pruned (``None`` if it completed)."""
    trial = study.ask()
    for step, value in enumerate(values):
        trial.report(float(value), step)
        if trial.should_prune():
            study.tell(trial, state=TrialState.PRUNED)
            return trial.number, step
    study.tell(trial, float(values[-1]))
    return trial.number, None


def make_study(
    direction: str,
    storage: str | BaseStorage | None = None,
    n_running: int = 10,
    study_name: str | None = None,
) -> optuna.Study:
    """``N_FINISHED`` finished trials, then ``n_running`` trials that the pruner checks; the
    fifth of those (number 10) runs the best curve."""
    study = optuna.create_study(
        direction=direction, pruner=SRMPruner(), storage=storage, study_name=study_name
    )
    for number in range(N_FINISHED):
        add_finished_trial(study, objective_curve(number, direction, N_STEPS))
    for number in range(N_FINISHED, N_FINISHED + n_running):
        run_trial(study, curve_of(number, direction))
    return study


def curve_of(number: int, direction: str) -> np.ndarray:
    return objective_curve(BEST if number == 10 else number, direction, N_STEPS)


def rows(trial: FrozenTrial) -> list[list[float]]:
    history = trial.user_attrs[HISTORY]
    assert isinstance(history, list)
    return history


# The history of checks, through the public path.


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_history_holds_every_check_of_the_trial(direction: str, tmp_path: Path) -> None:
    study = optuna.create_study(
        direction=direction, pruner=SRMPruner(), storage=f"sqlite:///{tmp_path / 'h.db'}"
    )
    for number in range(N_FINISHED):
        add_finished_trial(study, objective_curve(number, direction, N_STEPS))
    finals = [t.value for t in study.trials if t.value is not None]
    bar = max(finals) if direction == "maximize" else min(finals)
    trial = study.ask()
    seen = []  # the srm attrs after each check, as the storage holds them
    for step, value in enumerate(objective_curve(BEST, direction, N_STEPS)):
        trial.report(float(value), step)
        assert not trial.should_prune()
        stored = study.get_trials()[trial.number].user_attrs
        if stored.get(_keys.STEP) == step:
            seen.append(stored)
    assert len(seen) >= N_STEPS - 2

    history = rows(study.get_trials()[trial.number])
    json.dumps(history, allow_nan=False)  # plain JSON: what the dashboard and SQL tools read
    assert [row[0] for row in history] == [attrs[_keys.STEP] for attrs in seen]
    for row, attrs in zip(history, seen, strict=True):
        step, predicted, std, p_improve, best = row
        assert isinstance(step, int)
        # In the objective's units, as the srm_* attrs of the same check (6 digits).
        assert predicted == pytest.approx(attrs[_keys.PREDICTED_FINAL], rel=1e-5)
        assert std == pytest.approx(attrs[_keys.PREDICTED_STD], rel=1e-5)
        assert p_improve == pytest.approx(attrs[_keys.P_IMPROVE], rel=1e-5)
        assert best == pytest.approx(bar, rel=1e-5)
    # The latest check stays exact in the four attrs of before.
    final_attrs = study.get_trials()[trial.number].user_attrs
    assert set(SRM_ATTRS) < set(final_attrs)
    assert final_attrs[_keys.STEP] == history[-1][0]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_pruned_trials_history_ends_at_the_step_it_was_pruned(direction: str) -> None:
    study = make_study(direction)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned
    for trial in pruned:
        history = rows(trial)
        assert history[-1][0] == trial.last_step == trial.user_attrs[_keys.STEP]
        assert history[-1][3] == pytest.approx(trial.user_attrs[_keys.P_IMPROVE], rel=1e-5)
    for trial in study.trials[:N_FINISHED]:  # finished before the pruner could check
        assert HISTORY not in trial.user_attrs


def test_a_check_repeated_at_the_same_step_replaces_its_row() -> None:
    study = make_study("maximize", n_running=0)
    trial = study.ask()
    values = objective_curve(BEST, "maximize", N_STEPS)
    for step in range(3):
        trial.report(float(values[step]), step)
        for _ in range(3):
            trial.should_prune()
    history = rows(study.trials[trial.number])
    assert [row[0] for row in history] == [0, 1, 2]


def test_the_history_is_bounded_and_spreads_over_the_whole_curve() -> None:
    """600 checks, one per step: 200 rows kept, the first and the latest among them, about
    every third step in between."""
    study = optuna.create_study(direction="maximize", pruner=SRMPruner(n_startup_trials=3))
    for final in (0.5, 0.6, 0.7):  # checked at three steps only: three models serve all
        add_finished_trial(study, [final - 0.2, final - 0.1, final], steps=[0, 300, 600])
    trial = study.ask()
    for step in range(600):
        trial.report(0.9 + 1e-4 * step, step)  # ahead of every finished trial: never pruned
        assert not trial.should_prune()

    stored = study.trials[trial.number].user_attrs
    assert stored[_keys.STEP] == 599
    history = rows(study.trials[trial.number])
    steps = [row[0] for row in history]
    assert len(history) == _keys.MAX_HISTORY == 200
    assert steps[0] == 0 and steps[-1] == 599
    gaps = np.diff(steps)
    assert gaps.min() >= 1 and gaps.max() <= 4
    assert len(json.dumps(history)) < 200 * 50


JUNK: list[object] = [
    None,
    "not a history",
    {"0": [0.5, 0.1, 0.2, 0.9]},
    [[1, 2]],
    [[3, 0.5, 0.1, 0.2, 0.9], [1, 0.5, 0.1, 0.2, 0.9]],  # steps out of order
    [[True, 0.5, 0.1, 0.2, 0.9]],
    [[0, float("nan"), 0.1, 0.2, 0.9]],
    [[0, 0.5, 0.1, 0.2, "x"]],
]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_history_does_not_change_what_is_pruned(direction: str) -> None:
    """The same trials replayed with the history overwritten by junk before every check: the
    same decisions, the same predictions, and the junk replaced by a history of the pruner."""

    def replay(tamper: bool) -> list[tuple[int, int, bool, dict[str, object]]]:
        study = optuna.create_study(direction=direction, pruner=SRMPruner())
        for number in range(N_FINISHED):
            add_finished_trial(study, objective_curve(number, direction, N_STEPS))
        decisions = []
        for number in range(N_FINISHED, N_FINISHED + 10):
            trial = study.ask()
            values = curve_of(number, direction)
            for step, value in enumerate(values):
                trial.report(float(value), step)
                if tamper:
                    junk = JUNK[(number + step) % len(JUNK)]
                    trial.set_user_attr(HISTORY, junk)
                pruned = trial.should_prune()
                attrs = study.trials[trial.number].user_attrs
                decisions.append(
                    (number, step, pruned, {key: attrs.get(key) for key in SRM_ATTRS})
                )
                if tamper and attrs.get(_keys.STEP) == step:  # the junk went
                    assert [row[0] for row in attrs[HISTORY]] == [step]
                if pruned:
                    study.tell(trial, state=TrialState.PRUNED)
                    break
            else:
                study.tell(trial, float(values[-1]))
        return decisions

    plain = replay(tamper=False)
    assert any(pruned for _, _, pruned, _ in plain)
    assert replay(tamper=True) == plain


# The plot.


def lines_by_label(ax: matplotlib.axes.Axes) -> dict[str, np.ndarray]:
    return {str(line.get_label()): np.asarray(line.get_xydata()) for line in ax.get_lines()}


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # metric names
def test_plot_shows_the_curve_and_the_predictions(direction: str) -> None:
    study = make_study(direction)
    study.set_metric_names(["accuracy" if direction == "maximize" else "loss"])
    for trial in study.trials[N_FINISHED:]:
        ax = plot_prediction_history(study, trial.number)
        try:
            lines = lines_by_label(ax)
            curve = lines["reported value"]
            assert curve[:, 0].tolist() == sorted(trial.intermediate_values)
            assert curve[:, 1].tolist() == [
                trial.intermediate_values[s] for s in sorted(trial.intermediate_values)
            ]

            (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
            assert bars.get_label() == "predicted final value (90% interval)"
            data_line, _, (segments,) = bars.lines
            points = np.asarray(data_line.get_xydata())
            history = rows(trial)
            assert points[:, 0].tolist() == [row[0] for row in history]
            assert points[:, 1].tolist() == [row[1] for row in history]
            half_widths = [abs(s[1][1] - s[0][1]) / 2 for s in segments.get_segments()]
            assert half_widths == pytest.approx([Z_90 * row[2] for row in history])

            bar_line = lines["best finished value at the check"]
            assert bar_line[:, 1].tolist() == [row[4] for row in history]
            if trial.state == TrialState.COMPLETE:
                assert lines["final value"][0, 1] == trial.value
            assert str(trial.number) in ax.get_title()
            assert ax.get_xlabel() == "Step"
            assert ax.get_ylabel() == ("accuracy" if direction == "maximize" else "loss")
        finally:
            plt.close(ax.figure)


def test_plot_of_a_trial_the_pruner_never_checked(caplog: pytest.LogCaptureFixture) -> None:
    study = make_study("maximize", n_running=0)
    with caplog.at_level(logging.WARNING):
        ax = plot_prediction_history(study, 0)
    try:
        assert "holds no predictions" in caplog.text
        assert "reported value" in lines_by_label(ax)
        assert not ax.containers
        assert ax.get_ylabel() == "Objective value"
    finally:
        plt.close(ax.figure)


def test_plot_rejects_unknown_trials_and_multi_objective_studies() -> None:
    study = make_study("maximize", n_running=0)
    with pytest.raises(ValueError, match="trial_number=99"):
        plot_prediction_history(study, 99)
    multi = optuna.create_study(directions=["maximize", "minimize"])
    multi.optimize(lambda t: (1.0, 2.0), n_trials=1)
    with pytest.raises(ValueError, match="2 objectives"):
        plot_prediction_history(multi, 0)


def test_the_missing_library_is_named_with_the_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['optuna_dashboard'] = None\n"
        "import optuna, optuna_srm.visualization as v\n"  # the import itself needs neither
        "study = optuna.create_study()\n"
        "for call in (lambda: v.matplotlib.plot_prediction_history(study, 0),\n"
        "             lambda: v.write_study_note(study)):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as error:\n"
        "        print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    install = 'pip install "optuna-srm[dashboard]"'
    assert out == [
        f"optuna_srm.visualization.matplotlib needs matplotlib: {install}",
        f"write_study_note needs optuna-dashboard: {install}",
    ]


# The study note.


@pytest.fixture
def dashboard_api() -> ModuleType:
    return pytest.importorskip("optuna_dashboard", reason='pip install -e ".[dashboard]"')


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_note_summarises_the_pruners_work(
    direction: str, tmp_path: Path, dashboard_api: ModuleType
) -> None:
    study = make_study(direction, storage=f"sqlite:///{tmp_path / 'note.db'}")
    trials = study.get_trials()
    body = write_study_note(study)

    # Read back through optuna-dashboard's API, from another view of the storage.
    again = optuna.load_study(study_name=study.study_name, storage=f"sqlite:///{tmp_path}/note.db")
    assert dashboard_api.get_note(again) == body
    assert body.startswith("## optuna-srm\n")
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert f"| {len(complete)} |" in body and f"| pruned | {len(pruned)} |" in body
    checked = sum(1 for t in trials if _keys.STEP in t.user_attrs)
    assert f"| checked by the pruner | {checked} |" in body
    # Each pruned trial saves the steps of the complete curves after its last one.
    saved = sum(N_STEPS - 1 - (t.last_step or 0) for t in pruned)
    assert f"Steps saved by pruning: {saved} (" in body

    # The out-of-sample error at step 0: the complete trials' predictions at that step
    # against their final values.
    errors = [
        (abs(row[1] - t.value), abs(row[1] - t.value) <= Z_90 * row[2])
        for t in complete
        if HISTORY in t.user_attrs and t.value is not None
        for row in rows(t)
        if row[0] == 0
    ]
    assert errors
    mean = sum(e for e, _ in errors) / len(errors)
    inside = sum(1 for _, i in errors if i) / len(errors)
    assert f"| 0 | {len(errors)} | {mean:.4g} | {inside:.0%} |" in body

    best = study.best_trial
    assert f"| {best.number} | {best.value:.4g} |" in body


def test_the_note_keeps_the_text_above_it_and_replaces_its_own(dashboard_api: ModuleType) -> None:
    study = make_study("maximize", n_running=3)
    dashboard_api.save_note(study, "# Our search\n\nLearning rates up to 0.1 only.\n")
    write_study_note(study)
    run_trial(study, curve_of(9, "maximize"))
    body = write_study_note(study)

    assert dashboard_api.get_note(study) == body
    assert body.startswith("# Our search\n\nLearning rates up to 0.1 only.\n\n## optuna-srm\n")
    assert body.count("## optuna-srm") == 1
    assert f"| pruned | {len(study.get_trials(states=(TrialState.PRUNED,)))} |" in body


def test_the_note_uploads_the_plot_of_the_best_trials(
    tmp_path: Path, dashboard_api: ModuleType
) -> None:
    from optuna.artifacts import FileSystemArtifactStore, get_all_artifact_meta
    from optuna_dashboard.artifact import get_artifact_path

    study = make_study("maximize")
    store = FileSystemArtifactStore(str(tmp_path))
    write_study_note(study, artifact_store=store, n_best=2)
    body = write_study_note(study, artifact_store=store, n_best=2)  # over the first one

    (meta,) = get_all_artifact_meta(study)
    assert meta.filename == "srm_prediction_history.png" and meta.mimetype == "image/png"
    with store.open_reader(meta.artifact_id) as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"
    assert f"]({get_artifact_path(study, meta.artifact_id)}?t=" in body


def test_the_note_shows_the_epsilon_of_an_architecture_search(dashboard_api: ModuleType) -> None:
    study = make_study("maximize", n_running=1)
    for _ in range(3):
        trial = study.ask()
        trial.set_user_attr(_keys.ARCHITECTURE, "[GAP(10), SM(10)]")
        study.tell(trial, 0.5)
    sampler = QLearningArchitectureSampler(MetaQNNSpace(), n_trials=9, seed=0)
    next_number = len(study.trials)

    body = write_study_note(study, sampler=sampler)

    assert "Trials with an architecture: 3." in body
    epsilon = sampler.epsilon(next_number)
    assert f"Epsilon of the next trial (number {next_number}): {epsilon:.3g}." in body
    assert "Epsilon" not in write_study_note(study)  # not in the storage without the sampler


def test_the_note_of_a_study_without_checks(dashboard_api: ModuleType) -> None:
    body = write_study_note(optuna.create_study())
    assert "No complete trial holds predictions of the pruner yet." in body
    assert "### Best trials" not in body


def test_the_note_arguments(dashboard_api: ModuleType) -> None:
    study = optuna.create_study()
    with pytest.raises(ValueError, match="n_best=0"):
        write_study_note(study, n_best=0)
    with pytest.raises(ValueError, match="2 objectives"):
        write_study_note(optuna.create_study(directions=["maximize", "minimize"]))


@pytest.mark.parametrize("function", [plot_prediction_history, write_study_note])
def test_the_docstring_example_runs(
    function: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("optuna_dashboard", reason='pip install -e ".[dashboard]"')
    monkeypatch.chdir(tmp_path)  # the examples write a storage, artifacts and an image
    (code,) = examples(inspect.getdoc(function) or "")
    try:
        exec(compile(code, "<docstring example>", "exec"), {"__name__": "__example__"})
    finally:
        plt.close("all")
    assert list(tmp_path.iterdir())
