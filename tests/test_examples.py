"""The example scripts run end to end as a user would run them."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

import optuna_srm

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_sklearn_digits(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'x.db'}"
    completed = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "sklearn_digits.py"),
            "--n-trials",
            "12",
            "--storage",
            storage,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "speed-up" in completed.stdout
    study = optuna.load_study(study_name="sklearn_digits", storage=storage)
    assert len(study.trials) == 12
    assert all(t.state.is_finished() for t in study.trials)
    assert not (tmp_path / "sklearn_digits.db").exists()


def test_metaqnn_digits(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    storage = f"sqlite:///{tmp_path / 'x.db'}"
    completed = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "metaqnn_digits.py"),
            "--n-trials=10",
            "--epochs=4",
            f"--storage={storage}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Architecture: [" in completed.stdout
    assert "speed-up" in completed.stdout
    study = optuna.load_study(study_name="metaqnn_digits", storage=storage)
    assert len(study.trials) == 10
    space = runpy.run_path(str(EXAMPLES / "metaqnn_digits.py"))["SPACE"]
    for trial in study.trials:
        assert trial.state.is_finished()
        space.validate(optuna_srm.parse_architecture(trial.user_attrs["architecture"]))
