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


def _run(script: str, tmp_path: Path, *args: str) -> tuple[str, optuna.Study]:
    """Run an example on a SQLite file in ``tmp_path``; its output and its study."""
    storage = f"sqlite:///{tmp_path / 'x.db'}"
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args, f"--storage={storage}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    study_name = script.removesuffix(".py")
    assert not (tmp_path / f"{study_name}.db").exists()  # the default file is not touched
    return completed.stdout, optuna.load_study(study_name=study_name, storage=storage)


def test_sklearn_digits(tmp_path: Path) -> None:
    out, study = _run("sklearn_digits.py", tmp_path, "--n-trials=12")

    assert "speed-up" in out
    assert len(study.trials) == 12
    assert all(t.state.is_finished() for t in study.trials)


@pytest.mark.parametrize("pruner", ["median", "none"])
def test_sklearn_digits_with_optunas_pruners(tmp_path: Path, pruner: str) -> None:
    out, study = _run("sklearn_digits.py", tmp_path, "--n-trials=12", f"--pruner={pruner}")

    assert len(study.trials) == 12
    # The SRM rule did not run: no trial holds its attrs.
    assert not any(key.startswith("srm_") for t in study.trials for key in t.user_attrs)
    if pruner == "none":
        assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
        assert "pruning saved 0.0% of the training epochs" in out


def test_sklearn_digits_with_srm_hyperband(tmp_path: Path) -> None:
    out, study = _run("sklearn_digits.py", tmp_path, "--n-trials=20", "--pruner=srm-hyperband")

    assert "Number of trials stopped by the SRM rule: " in out
    assert len(study.trials) == 20
    assert all(t.state.is_finished() for t in study.trials)
    # Hyperband's rungs stopped trials too: pruned at a step where the SRM rule did not decide.
    pruned = study.get_trials(states=[optuna.trial.TrialState.PRUNED])
    assert any(
        t.user_attrs.get("srm_step") != t.last_step and "diverged_at_epoch" not in t.user_attrs
        for t in pruned
    )


def test_metaqnn_digits(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out, study = _run("metaqnn_digits.py", tmp_path, "--n-trials=10", "--epochs=4")

    assert "Architecture: [" in out
    assert "speed-up" in out
    assert len(study.trials) == 10
    space = runpy.run_path(str(EXAMPLES / "metaqnn_digits.py"))["SPACE"]
    for trial in study.trials:
        assert trial.state.is_finished()
        space.validate(optuna_srm.parse_architecture(trial.user_attrs["architecture"]))
