"""The benchmark scripts run end to end at a tiny size and print their tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO_ROOT / "benchmarks"


def _run(script: str, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


@pytest.mark.slow
def test_sampler_surrogate(tmp_path: Path) -> None:
    out = _run(
        "sampler.py",
        "surrogate",
        "--n-trials=12",
        "--seeds=2",
        "--walks=200",
        "--samplers=qlearning,qlearning_paper(n_replays=10),random,tpe",
        f"--json={tmp_path / 'r.json'}",
        f"--plot={tmp_path / 'r.png'}",
    )
    assert "| qlearning | 2 |" in out
    assert "| qlearning_paper(n_replays=10) | 2 |" in out
    assert "| random | 2 |" in out
    assert "target" in out
    assert (tmp_path / "r.png").stat().st_size > 0
    raw = json.loads((tmp_path / "r.json").read_text())
    assert raw


@pytest.mark.slow
def test_sampler_cnn_trains_real_models() -> None:
    pytest.importorskip("torch")
    out = _run(
        "sampler.py",
        "cnn",
        "--n-trials=4",
        "--seeds=1",
        "--epochs=1",
        "--jobs=1",
        "--samplers=qlearning,random",
    )
    assert "| qlearning | 1 |" in out


@pytest.mark.slow
def test_sampler_latency() -> None:
    out = _run(
        "sampler.py", "latency", "--n-finished", "20", "--asks=3", "--samplers=qlearning,random"
    )
    assert "| 20 | qlearning |" in out
    assert "| 20 | random |" in out


def test_prediction_prints_medians_and_the_draws_against_the_tuned_nu_svr(tmp_path: Path) -> None:
    out = _run(
        "prediction.py",
        str(BENCHMARKS / "data" / "mlp_digits.csv"),
        "--exclude=hidden_layer_sizes",
        "--models=srm,last_value,nusvr_tuned",
        "--n-train=30",
        "--n-test=40",
        "--draws=0,1",
        "--fractions=0.1,0.5",
        f"--json={tmp_path / 'r.json'}",
    )
    medians, draws = out.strip().split("\n\n")
    assert medians.startswith("| data | model | R2@10% | R2@50% |")
    assert "| mlp_digits | srm |" in medians
    assert draws.startswith("| data | model | mean R2@10% | mean R2@50% | worst R2@10% |")
    rows = {line.split(" | ")[1]: line.split(" | ")[2:] for line in draws.splitlines()[2:]}
    assert set(rows) == {"srm", "last_value", "nusvr_tuned"}
    for model in ("srm", "last_value"):
        above = [cell.strip(" |") for cell in rows[model][-2:]]
        assert all(cell in {"0/2", "1/2", "2/2"} for cell in above), rows[model]
    assert [cell.strip(" |") for cell in rows["nusvr_tuned"][-2:]] == ["", ""]
    heads = draws.splitlines()[0].split(" | ")
    share = heads.index("worst-5 share@10%")
    for cells in rows.values():  # 5 of 40 test curves hold at least 5/40 of the squared error
        assert all(0.125 <= float(cell) <= 1.0 for cell in cells[share - 2 : share]), cells
    raw = json.loads((tmp_path / "r.json").read_text())
    assert len(raw["results"]) == 3


@pytest.mark.slow
def test_pruning_replays_the_recorded_curves_and_judges_the_srm_pruners(tmp_path: Path) -> None:
    # One ordering of --quick's 100 trials: the SRMPruner's replay alone takes most of the time.
    out = _run(
        "pruning.py",
        "--orderings=1",
        "--n-trials=100",
        "--pruners=nop,hyperband,srm,srm_hyperband",
        f"--json={tmp_path / 'r.json'}",
        f"--plot={tmp_path / 'p.png'}",
        str(BENCHMARKS / "data" / "mlp_digits.csv"),
    )
    for pruner in ("nop", "hyperband", "srm", "srm_hyperband"):
        assert f"| mlp_digits | {pruner} |" in out
    assert "target mlp_digits srm: " in out
    assert "target mlp_digits srm_hyperband: " in out
    assert "floor mlp_digits: " in out
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    assert len(results) == 4  # pruners, one ordering
    epochs = {(r["pruner"], r["ordering"]): r["epochs_used"] for r in results}
    for r in results:
        if r["pruner"] == "nop":  # 100 trials of 30 epochs, none stopped
            assert r["epochs_used"] == r["epochs_full"] == 3000
            assert r["best_kept"] and r["n_pruned"] == 0
        else:
            assert r["epochs_used"] < r["epochs_full"]
    # The same brackets, and the SRM stops more within them.
    assert epochs["srm_hyperband", 0] < epochs["hyperband", 0]
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")


def _calibration_rows(out: str) -> dict[str, tuple[int, float, int]]:
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "mlp_digits":
            rows[cells[1]] = (int(cells[2]), float(cells[3]), int(cells[4]))
    return rows


@pytest.mark.slow
def test_calibration_compares_the_recorded_probabilities_with_what_happened() -> None:
    data = str(BENCHMARKS / "data" / "mlp_digits.csv")
    stopped = _calibration_rows(_run("calibration.py", "--orderings=2", "--n-trials=30", data))
    labels = ["[0, 0.0001)", "[0.0001, 0.001)", "[0.001, 0.01)"]
    assert list(stopped) == [*labels, "[0.01, 0.05)", "[0.05, 0.2)", "[0.2, 1]", "pruned"]
    for checks, promised, observed in stopped.values():
        assert 0 <= observed <= checks and 0.0 <= promised <= checks
    n_checks = sum(stopped[label][0] for label in stopped if label != "pruned")
    # Every stop happens at a check whose probability is below the pruner's threshold, at
    # most 0.02 / 6 with 5 startup trials.
    assert 0 < stopped["pruned"][0] <= sum(stopped[label][0] for label in labels)
    assert n_checks > stopped["pruned"][0]

    never = _calibration_rows(
        _run("calibration.py", "--orderings=2", "--n-trials=30", "--no-stop", data)
    )
    # No trial stopped: the checks go on past the steps where the pruner said stop.
    assert sum(never[label][0] for label in never if label != "pruned") > n_checks


@pytest.mark.slow
def test_overhead_measures_both_pruners_on_each_storage(tmp_path: Path) -> None:
    out = _run(
        "overhead.py",
        "--storages",
        "inmemory",
        "sqlite",
        "--n-finished=20",
        "--steps=5",
        "--trials=2",
        f"--json={tmp_path / 'r.json'}",
    )
    for storage in ("inmemory", "sqlite"):
        for pruner in ("SRMPruner", "MedianPruner"):
            assert f"| {storage} | 20 | 5 | {pruner} |" in out
    assert "Target 2 (no SRMPruner check after the first slower than 1 s): " in out
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    assert len(results) == 4
    assert all(r["n_checks"] > 0 and r["median_ms"] > 0 for r in results)


@pytest.mark.slow
def test_search_compares_the_pruners_on_real_trainings(tmp_path: Path) -> None:
    pytest.importorskip("torch")
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
    pytest.importorskip("torch")
    out = _run("gpu.py", "--devices=cpu", "--dataset=digits", "--n-trials=3", "--epochs=2")
    row = next(line for line in out.splitlines() if line.startswith("| CPU (cpu) | digits |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2] == "3" and 1 <= int(cells[3]) <= 6  # trials, epochs
    assert float(cells[4]) > 0.0  # epochs per second
    assert "Target (< 2% outside training)" in out
