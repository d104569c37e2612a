"""The example scripts run end to end as a user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna

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
