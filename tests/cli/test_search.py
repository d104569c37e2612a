"""``optuna-srm search`` end to end: real training on digits, real storages, every user mistake."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner
from optuna.trial import TrialState

pytest.importorskip("torch")

from optuna_srm import _keys, parse_architecture
from optuna_srm.cli import main
from optuna_srm.cli._search import SPACES
from optuna_srm.torch import DATASETS

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
TINY = ["--n-trials", "4", "--epochs", "2", "--devices", "cpu"]


def run(*args: str) -> tuple[int, str]:
    """Run the command in this process; its exit code and everything it printed."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``optuna-srm`` entry point in a process of its own."""
    executable = Path(sys.executable).with_name("optuna-srm")
    return subprocess.run(
        [str(executable), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line_error(code: int, output: str) -> str:
    """Assert a failure that printed one error line and no traceback; return that line."""
    assert code != 0
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    return errors[0]


def test_the_spaces_cover_every_data_set() -> None:
    assert tuple(SPACES) == DATASETS


def test_help_explains_every_option_with_its_default() -> None:
    code, output = run("--help")
    assert code == 0 and "search" in output
    code, output = run("search", "--help")
    assert code == 0
    text = " ".join(output.split())
    for option in (
        "--dataset",
        "--data-dir",
        "--storage",
        "--study",
        "--n-trials",
        "--timeout",
        "--epochs",
        "--devices",
        "--pruner",
        "--sampler",
        "--seed",
    ):
        assert option in text
    for default in (
        "[default: digits]",
        "[default: sqlite:///optuna-srm.db]",
        "[default: 60; x>=1]",
        "[default: auto]",
        "[default: srm]",
        "[default: qlearning]",
    ):
        assert default in text


@pytest.mark.slow
def test_a_search_trains_prunes_and_summarises(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    code, output = run("search", *TINY, "--storage", storage)
    assert code == 0, output
    study = optuna.load_study(study_name="digits-qlearning-srm", storage=storage)
    finished = study.get_trials(states=FINISHED)
    assert len(finished) == 4
    for trial in finished:
        SPACES["digits"].validate(parse_architecture(trial.user_attrs[_keys.ARCHITECTURE]))
        if _keys.REUSED_FROM in trial.user_attrs:  # its architecture was trained before
            continue
        assert 1 <= len(trial.intermediate_values) <= 2
        assert 0.0 <= trial.intermediate_values[0] <= 1.0
        assert trial.user_attrs[_keys.TRAIN_SECONDS] > 0.0
    assert study.user_attrs[_keys.SEARCH_CONFIG]["dataset"] == "digits"
    best = max(t.value for t in finished if t.state == TrialState.COMPLETE)
    assert f"| 1 | {best:.4f} |" in output
    epochs = sum(len(t.intermediate_values) for t in finished)
    full = 2 * sum(_keys.REUSED_FROM not in t.user_attrs for t in finished)
    assert f"Epochs: {epochs} trained of the {full} that the trials that trained" in output
    assert f"Watch it: optuna-dashboard {storage}" in output

    # Run again: the study already holds its budget, so nothing more is trained.
    code, again = run("search", *TINY, "--storage", storage)
    assert code == 0 and "4 trials finished before" in again
    assert len(study.get_trials(states=FINISHED)) == 4


@pytest.mark.slow
def test_a_second_process_joins_the_study(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    first = command("search", *TINY, "--storage", storage, "--study", "s", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # Options left out are the study's own; the budget grows to 6.
    second = command(
        "search", "--storage", storage, "--study", "s", "--n-trials", "6", cwd=tmp_path
    )
    assert second.returncode == 0, second.stderr
    assert "Warning" not in first.stderr + second.stderr
    assert "4 trials finished before" in second.stdout
    study = optuna.load_study(study_name="s", storage=storage)
    finished = study.get_trials(states=FINISHED)
    assert [t.number for t in finished] == list(range(6))
    assert all(len(t.intermediate_values) <= 2 for t in finished)  # --epochs 2 from the study


@pytest.mark.slow
def test_the_default_storage_is_sqlite_in_the_working_directory(tmp_path: Path) -> None:
    done = command("search", *TINY, "--pruner", "none", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(
        study_name="digits-qlearning-none", storage=f"sqlite:///{tmp_path / 'optuna-srm.db'}"
    )
    for trial in study.trials:
        if _keys.REUSED_FROM in trial.user_attrs:
            assert not trial.intermediate_values
        else:
            assert len(trial.intermediate_values) == 2


@pytest.mark.slow
def test_an_architecture_trained_before_is_not_trained_again(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    code, output = run("search", *TINY, "--n-trials", "1", "--storage", storage, "--study", "s")
    assert code == 0, output
    study = optuna.load_study(study_name="s", storage=storage)
    first = study.trials[0]
    study.enqueue_trial(first.params)
    code, output = run("search", *TINY, "--n-trials", "2", "--storage", storage, "--study", "s")
    assert code == 0, output
    again = study.trials[1]
    assert again.user_attrs[_keys.ARCHITECTURE] == first.user_attrs[_keys.ARCHITECTURE]
    assert again.user_attrs[_keys.REUSED_FROM] == 0
    assert again.value == first.value and not again.intermediate_values
    assert "1 proposed an architecture trained before" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "imagenet"], "Invalid value for '--dataset'"),
        (["--dataset", "mnist"], "--data-dir"),
        (["--dataset", "cifar10", "--data-dir", "{tmp}/missing"], "missing"),
        (["--storage", "not a url"], "Invalid value for --storage"),
        (["--storage", "nosuchdb://x"], "--storage"),
        (["--storage", "postgresql+psycopg://nobody@127.0.0.1:1/none"], "cannot open --storage"),
        (["--devices", "0"], "GPU"),
        (["--devices", "gpu"], "--devices"),
        (["--n-trials", "0"], "Invalid value for '--n-trials'"),
        (["--pruner", "percentile"], "Invalid value for '--pruner'"),
    ],
)
def test_each_mistake_ends_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--storage" not in args:
        args += ["--storage", f"sqlite:///{tmp_path / 'x.db'}"]
    code, output = run("search", "--devices", "cpu", *args)
    assert message in one_line_error(code, output)


def test_a_study_of_another_kind_is_refused(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'x.db'}"
    optuna.create_study(study_name="mine", storage=storage)
    code, output = run("search", "--storage", storage, "--study", "mine", "--devices", "cpu")
    assert "not made by optuna-srm search" in one_line_error(code, output)


def test_joining_with_other_settings_is_refused(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'x.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    config = {
        "dataset": "digits",
        "epochs": 2,
        "seed": 0,
        "pruner": "srm",
        "sampler": "qlearning",
        "batch_size": 64,
    }
    study.set_user_attr(_keys.SEARCH_CONFIG, config)
    code, output = run("search", "--storage", storage, "--study", "s", "--epochs", "3")
    line = one_line_error(code, output)
    assert re.search(r"made with --epochs 2, not 3", line)


def test_passwords_are_never_printed(tmp_path: Path) -> None:
    url = "postgresql+psycopg://someone:s3cret@127.0.0.1:1/none"
    code, output = run("search", "--devices", "cpu", "--storage", url)
    assert "s3cret" not in output
    assert "***" in one_line_error(code, output)


@pytest.mark.slow
def test_the_trial_of_a_killed_worker_fails_and_is_retried(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    args = ["search", "--storage", storage, "--study", "s", "--n-trials", "2", "--epochs", "8"]
    args += ["--devices", "cpu", "--heartbeat", "1"]
    executable = Path(sys.executable).with_name("optuna-srm")
    worker = subprocess.Popen([str(executable), *args], cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill -9 it in the middle of its first trial
            trials = _trials(storage)
            if trials and trials[0].state == TrialState.RUNNING and trials[0].intermediate_values:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait()
    assert _trials(storage)[0].state == TrialState.RUNNING  # left behind
    time.sleep(2.5)  # two missed heartbeats

    second = command(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    trials = _trials(storage)
    assert trials[0].state == TrialState.FAIL
    retry = optuna.storages.RetryFailedTrialCallback
    retried = [t for t in trials if retry.retried_trial_number(t) == 0]
    assert len(retried) == 1
    assert retried[0].params == trials[0].params
    assert len([t for t in trials if t.state in FINISHED]) == 2


def _trials(storage: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name="s", storage=storage).get_trials()
    except KeyError:  # not created yet
        return []


@pytest.mark.slow
@pytest.mark.integration
def test_workers_started_together_share_one_postgresql_study(
    tmp_path: Path, postgres_url: str
) -> None:
    args = ["search", *TINY, "--n-trials", "6", "--storage", postgres_url, "--study", "together"]
    executable = Path(sys.executable).with_name("optuna-srm")
    workers = [
        subprocess.Popen(
            [str(executable), *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], outputs
    trials = optuna.load_study(study_name="together", storage=postgres_url).get_trials()
    # MaxTrialsCallback lets each other worker finish the trial it is running.
    assert 6 <= len(trials) <= 8
    assert [t.number for t in trials] == list(range(len(trials)))
    assert all(t.state in FINISHED for t in trials)
