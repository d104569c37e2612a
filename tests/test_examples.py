"""The example scripts run end to end as a user would run them, at a tiny size."""

from __future__ import annotations

import os
import pickle
import re
import runpy
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import optuna
import pytest

import optuna_srm

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
SRM_ATTRS = {"srm_predicted_final", "srm_predicted_std", "srm_p_improve", "srm_step"}
NEEDS_TORCH = ("metaqnn_digits.py", "metaqnn_hyperband.py", "pytorch_cifar10.py")
TORCH_MESSAGE = 'This example needs PyTorch: pip install "optuna-srm[torch]"'
# The networks of the tiny runs are small: on a busy machine, more threads only slow them down.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# Every option of each example and the default that its --help shows.
DEFAULTS = {
    "sklearn_digits.py": {
        "--n-trials": "60",
        "--epochs": "30",
        "--pruner": "srm",
        "--storage": "sqlite:///sklearn_digits.db",
        "--study-name": "sklearn_digits-{pruner}",
    },
    "metaqnn_digits.py": {
        "--n-trials": "60",
        "--epochs": "10",
        "--storage": "sqlite:///metaqnn_digits.db",
    },
    "pytorch_cifar10.py": {
        "--data-dir": "./data",
        "--n-trials": "50",
        "--epochs": "15",
        "--max-train": "None",
        "--batch-size": "128",
        "--storage": "sqlite:///pytorch_cifar10.db",
    },
    "metaqnn_hyperband.py": {
        "--n-trials": "60",
        "--epochs": "20",
        "--max-train": "None",
        "--storage": "sqlite:///metaqnn_hyperband.db",
    },
    "distributed_postgresql.py": {
        "--n-trials": "100",
        "--epochs": "20",
        "--study-name": "distributed_postgresql",
    },
}


def _start(
    script: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start an example in ``cwd``, as ``python examples/<script> ARGS``."""
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env={**os.environ, **ONE_THREAD, "COLUMNS": "1000", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _call(
    script: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    process = _start(script, *args, cwd=cwd, env=env)
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _run(script: str, tmp_path: Path, *args: str) -> tuple[str, str]:
    """Run an example on the SQLite file ``tmp_path/x.db``; its output and that storage."""
    storage = f"sqlite:///{tmp_path / 'x.db'}"
    completed = _call(script, *args, f"--storage={storage}", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    # The default file in the working directory is not touched.
    assert [path.name for path in tmp_path.glob("*.db")] == ["x.db"]
    return completed.stdout, storage


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's trials, after checking that every one of them finished."""
    trials = study.get_trials()
    assert all(t.state in FINISHED for t in trials), [t.state for t in trials]
    return trials


def _has_srm_attrs(trials: list[optuna.trial.FrozenTrial]) -> bool:
    """Whether the SRM rule recorded its prediction on any of ``trials``."""
    return any(SRM_ATTRS.issubset(t.user_attrs) for t in trials)


def _help_entries(text: str) -> dict[str, str]:
    """Each option of a --help text (its long name) and the text that explains it."""
    entries: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        match = re.match(r"  (?:-\w, )?(--[\w-]+)", line)
        if match:
            name = match.group(1)
            entries[name] = line
        elif name is not None and line.startswith("    "):
            entries[name] += " " + line.strip()
        else:
            name = None
    return entries


@pytest.mark.parametrize("script", sorted(DEFAULTS))
def test_help_explains_every_option_with_its_default(script: str, tmp_path: Path) -> None:
    completed = _call(script, "--help", cwd=tmp_path)

    assert completed.returncode == 0, completed.stderr
    entries = _help_entries(completed.stdout)
    assert set(entries) == {"--help", *DEFAULTS[script]}
    for option, default in DEFAULTS[script].items():
        assert f"(default: {default})" in entries[option], entries[option]
        # A sentence besides the default.
        assert len(entries[option].split("(default:")[0].split()) > 3, entries[option]


def test_every_example_is_tested() -> None:
    assert sorted(DEFAULTS) == sorted(path.name for path in EXAMPLES.glob("*.py"))


def _without_torch(tmp_path: Path) -> dict[str, str]:
    """The environment of a Python where ``import torch`` fails, as where it is not installed."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "torch.py").write_text("raise ImportError('No module named torch')\n")
    return {"PYTHONPATH": str(blocked)}


@pytest.mark.parametrize("script", NEEDS_TORCH)
def test_help_without_torch(script: str, tmp_path: Path) -> None:
    completed = _call(script, "--help", cwd=tmp_path, env=_without_torch(tmp_path))

    assert completed.returncode == 0, completed.stderr
    assert set(_help_entries(completed.stdout)) == {"--help", *DEFAULTS[script]}


@pytest.mark.parametrize("script", NEEDS_TORCH)
def test_without_torch_one_line_instead_of_a_traceback(script: str, tmp_path: Path) -> None:
    completed = _call(script, "--n-trials=1", cwd=tmp_path, env=_without_torch(tmp_path))

    assert completed.returncode == 1
    assert completed.stderr == TORCH_MESSAGE + "\n"
    assert not list(tmp_path.glob("*.db"))


@pytest.mark.slow
def test_sklearn_digits(tmp_path: Path) -> None:
    out, storage = _run("sklearn_digits.py", tmp_path, "--n-trials=8", "--epochs=8")

    assert "Study 'sklearn_digits-srm' (srm pruner) statistics:" in out
    assert "  Number of finished trials: 8\n" in out
    assert "Number of trials stopped by the SRM rule: " in out
    assert "Best trial:\n  Value: 0.9" in out
    assert "training epochs (speed-up " in out
    trials = _finished(optuna.load_study(study_name="sklearn_digits-srm", storage=storage))
    assert len(trials) == 8
    assert all(len(t.intermediate_values) <= 8 for t in trials)
    assert _has_srm_attrs(trials)


@pytest.mark.slow
def test_sklearn_digits_gives_each_pruner_its_own_study(tmp_path: Path) -> None:
    out, storage = _run(
        "sklearn_digits.py", tmp_path, "--n-trials=6", "--epochs=5", "--pruner=median"
    )
    assert "Study 'sklearn_digits-median' (median pruner)" in out
    out, _ = _run(
        "sklearn_digits.py",
        tmp_path,
        "--n-trials=4",
        "--epochs=5",
        "--pruner=none",
        "--study-name=mine-{pruner}",
    )
    assert "Study 'mine-none' (none pruner)" in out
    assert "Trained 20 epochs instead of 20 without pruning: pruning saved 0.0%" in out

    summaries = optuna.get_all_study_summaries(storage)
    assert sorted((s.study_name, s.n_trials) for s in summaries) == [
        ("mine-none", 4),
        ("sklearn_digits-median", 6),
    ]
    for name in ("mine-none", "sklearn_digits-median"):
        trials = _finished(optuna.load_study(study_name=name, storage=storage))
        # The SRM rule did not run: no trial holds its attrs.
        assert not any(key.startswith("srm_") for t in trials for key in t.user_attrs)


@pytest.mark.slow
def test_sklearn_digits_with_srm_hyperband(tmp_path: Path) -> None:
    out, storage = _run(
        "sklearn_digits.py", tmp_path, "--n-trials=12", "--epochs=9", "--pruner=srm-hyperband"
    )

    assert "Study 'sklearn_digits-srm-hyperband' (srm-hyperband pruner)" in out
    assert "Number of trials stopped by the SRM rule: " in out
    study = optuna.load_study(study_name="sklearn_digits-srm-hyperband", storage=storage)
    trials = _finished(study)
    assert len(trials) == 12
    # Hyperband's rungs stopped trials: pruned at a step where the SRM rule did not decide.
    assert any(
        t.state == optuna.trial.TrialState.PRUNED
        and t.user_attrs.get("srm_step") != t.last_step
        and "diverged_at_epoch" not in t.user_attrs
        for t in trials
    )


@pytest.mark.slow
def test_metaqnn_digits(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out, storage = _run("metaqnn_digits.py", tmp_path, "--n-trials=8", "--epochs=3")

    assert "  Device: cpu\n" in out
    assert "  Number of finished trials: 8 (" in out
    assert "  Architecture: [" in out
    assert "training epochs (speed-up " in out
    trials = _finished(optuna.load_study(study_name="metaqnn_digits", storage=storage))
    assert len(trials) == 8
    space = runpy.run_path(str(EXAMPLES / "metaqnn_digits.py"))["SPACE"]
    for trial in trials:
        space.validate(optuna_srm.parse_architecture(trial.user_attrs["architecture"]))
        assert "train_seconds" in trial.user_attrs  # trained by optuna_srm.torch.train_trial
    assert _has_srm_attrs(trials)


def _write_cifar10(root: Path, per_batch: int) -> None:
    """CIFAR-10's five training batches as torchvision keeps them: pickled dicts whose "data"
    holds rows of 3072 bytes (the red, green and blue planes); the red level tells the class."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        labels = rng.integers(0, 10, per_batch)
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        data[:, :1024] = (20 * labels + 20)[:, None]
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump({"data": data, "labels": labels.tolist()}, f, protocol=2)


@pytest.mark.slow
def test_pytorch_cifar10(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    _write_cifar10(tmp_path / "data", per_batch=8)
    out, storage = _run(
        "pytorch_cifar10.py",
        tmp_path,
        "--data-dir=data",
        "--n-trials=6",
        "--epochs=3",
        "--max-train=16",
    )

    assert "  Device: cpu\n" in out
    assert "  Images: 16 training, 8 validation\n" in out
    assert "  Number of finished trials: 6\n" in out
    assert "    n_blocks: " in out
    trials = _finished(optuna.load_study(study_name="pytorch_cifar10", storage=storage))
    assert len(trials) == 6
    assert {"n_blocks", "n_units", "dropout", "lr", "weight_decay"} <= set(trials[0].params)
    assert _has_srm_attrs(trials)


@pytest.mark.slow
def test_metaqnn_hyperband(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("mnist1d")
    out, storage = _run(
        "metaqnn_hyperband.py", tmp_path, "--n-trials=8", "--epochs=3", "--max-train=200"
    )

    assert "  Number of finished trials: 8\n" in out
    assert "    stopped at a rung of Hyperband: " in out
    assert "  Architecture: [" in out
    study = optuna.load_study(study_name="metaqnn_hyperband", storage=storage)
    trials = _finished(study)
    assert len(trials) == 8
    # Hyperband's rungs and the SRM rule both checked trials.
    assert any(key.startswith("completed_rung_") for t in trials for key in t.system_attrs)
    assert _has_srm_attrs(trials)
    space = runpy.run_path(str(EXAMPLES / "metaqnn_hyperband.py"))["SPACE"]
    assert space.input_shape == (1, 40)
    for trial in trials:
        space.validate(optuna_srm.parse_architecture(trial.user_attrs["architecture"]))


def test_distributed_postgresql_without_a_storage(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPTUNA_SRM_STORAGE"}
    process = subprocess.run(
        [sys.executable, str(EXAMPLES / "distributed_postgresql.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert process.returncode == 1
    assert process.stderr.count("\n") == 1
    assert process.stderr.startswith("Set OPTUNA_SRM_STORAGE to the database URL")


@pytest.mark.slow
@pytest.mark.integration
def test_distributed_postgresql_workers_share_one_budget(
    postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    # A schema of its own in the session's database: the workers find no Optuna tables and
    # race to create them, as they would on a new database.
    schema = f"examples_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    budget, n_workers = 12, 3

    workers = [
        _start(
            "distributed_postgresql.py",
            f"--n-trials={budget}",
            "--epochs=10",
            cwd=tmp_path,
            env={"OPTUNA_SRM_STORAGE": url},
        )
        for _ in range(n_workers)
    ]
    try:
        results = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, (_, stderr) in zip(workers, results, strict=True):
        assert worker.returncode == 0, stderr[-3000:]
    outputs = [stdout for stdout, _ in results]

    study = optuna.load_study(study_name="distributed_postgresql", storage=url)
    trials = _finished(study)  # none left running or failed
    # MaxTrialsCallback stops each worker once the budget is reached; the trials still running
    # in the other workers then finish: at most one each.
    assert budget <= len(trials) <= budget + n_workers - 1
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # none lost or doubled
    ran = [int(re.findall(r": ran (\d+) trials", out)[0]) for out in outputs]
    assert sum(ran) == len(trials)
    workers_seen = {t.user_attrs["worker"] for t in trials}
    assert len(workers_seen) == sum(n > 0 for n in ran)
    assert _has_srm_attrs(trials)
    for out in outputs:
        assert f"finished trials of a budget of {budget}" in out
