"""benchmarks/search.py and benchmarks/gpu.py run the command end to end at a tiny size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

REPO_ROOT = Path(__file__).resolve().parent.parent


def _run(script: str, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


@pytest.mark.slow
def test_search_compares_the_pruners_on_real_trainings(tmp_path: Path) -> None:
    out = _run(
        "search.py",
        "--datasets=digits",
        "--pruners=none,srm",
        "--seeds=1",
        "--n-trials=4",
        "--epochs=3",
        f"--json={tmp_path / 'r.json'}",
        f"--plot={tmp_path / 'r.png'}",
    )
    runs = json.loads((tmp_path / "r.json").read_text())
    assert [(r["pruner"], r["n_trials"]) for r in runs] == [("none", 4), ("srm", 4)]
    none = runs[0]
    assert none["n_pruned"] == 0 and none["epochs"] <= 4 * 3
    assert 0.0 < none["best"] <= 1.0 and none["train_s"] > 0.0
    assert "| none |" in out and "| srm |" in out
    assert "digits srm: " in out and "target" in out
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_gpu_check_runs_end_to_end_on_the_cpu() -> None:
    out = _run("gpu.py", "--devices=cpu", "--dataset=digits", "--n-trials=3", "--epochs=2")
    row = next(line for line in out.splitlines() if line.startswith("| CPU (cpu) | digits |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2] == "3" and 1 <= int(cells[3]) <= 6  # trials, epochs
    assert float(cells[4]) > 0.0  # epochs per second
    assert "Target (< 2% outside training)" in out
