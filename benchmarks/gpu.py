"""Throughput of ``optuna-srm search`` on one device: epochs per second, memory, utilisation.

Runs a short search in this process (the command's own worker, ``--devices`` as the command
takes it) and prints one markdown table: epochs trained per second, peak GPU memory
(``torch.cuda.max_memory_allocated``), mean GPU utilisation (``nvidia-smi``, sampled every
0.5 s), and the share of the wall time spent outside training and validation (sampler, pruner,
storage, building models). The target on a GPU: under 2% outside training.

With ``--synthetic`` (the default for cifar10) the CIFAR-10 files are written first, in their
real format but with random pixels and labels, so that a machine without internet measures
the speed of real-sized epochs (the accuracies then mean nothing).

    bash benchmarks/gpu.sh                         # installs, then runs this on --devices auto
    python benchmarks/gpu.py --devices cpu --dataset digits --n-trials 6 --epochs 3
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import optuna
import torch

from optuna_srm.cli._search import SearchConfig, Worker, run_worker
from optuna_srm.torch import resolve_devices

TARGET_OUTSIDE = 0.02


def write_synthetic_cifar10(root: Path, n_train: int = 50_000, seed: int = 0) -> None:
    """CIFAR-10's python files (``cifar-10-batches-py``) with random images and labels."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    per_batch = n_train // 5
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8),
            "labels": rng.integers(0, 10, size=per_batch).tolist(),
        }
        with open(folder / name, "wb") as file:
            pickle.dump(batch, file, protocol=2)
    with open(folder / "batches.meta", "wb") as file:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, file, protocol=2)


class Utilisation:
    """Mean GPU utilisation from ``nvidia-smi`` while the block runs (None without it)."""

    def __init__(self, index: int) -> None:
        self._index, self._samples, self._stop = index, [], threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        query = ["nvidia-smi", f"--id={self._index}", "--query-gpu=utilization.gpu"]
        while not self._stop.wait(0.5):
            done = subprocess.run(
                [*query, "--format=csv,noheader,nounits"], capture_output=True, text=True
            )
            if done.returncode == 0 and done.stdout.strip().isdigit():
                self._samples.append(float(done.stdout.strip()))

    def __enter__(self) -> Utilisation:
        if shutil.which("nvidia-smi"):
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()

    @property
    def mean(self) -> float | None:
        return sum(self._samples) / len(self._samples) if self._samples else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--devices", default="auto", help="as optuna-srm search --devices")
    parser.add_argument("--dataset", default="cifar10", help="a data set of optuna-srm search")
    parser.add_argument("--data-dir", default=None, help="for the torchvision data sets")
    parser.add_argument(
        "--synthetic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write random CIFAR-10 files first (default: for cifar10 without --data-dir)",
    )
    parser.add_argument("--n-trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--pruner", default="srm")
    args = parser.parse_args()
    device = resolve_devices(args.devices)[0]
    scratch = Path(tempfile.mkdtemp(prefix="optuna-srm-gpu-"))
    data_dir = args.data_dir
    if args.synthetic or (args.synthetic is None and args.dataset == "cifar10" and not data_dir):
        data_dir = str(scratch / "data")
        write_synthetic_cifar10(Path(data_dir))
    storage = f"sqlite:///{scratch / 'gpu.db'}"
    config = SearchConfig(args.dataset, args.epochs, 0, args.pruner, "qlearning", args.batch_size)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.create_study(storage=storage, study_name="gpu", direction="maximize")
    worker = Worker(storage, "gpu", config, data_dir, args.n_trials, None, device, 0)
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    index = int(device.split(":")[1]) if cuda else 0
    with Utilisation(index) as utilisation:
        start = time.perf_counter()
        run_worker(worker)
        wall = time.perf_counter() - start
    study = optuna.load_study(study_name="gpu", storage=storage)
    trials = study.get_trials(deepcopy=False)
    epochs = sum(len(t.intermediate_values) for t in trials)
    training = sum(float(t.user_attrs.get("train_seconds", 0.0)) for t in trials)
    # The data set is loaded inside run_worker: its time is neither training nor overhead.
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    loop = (max(ends) - min(starts)).total_seconds() if starts and ends else wall
    outside = max(1.0 - training / loop, 0.0)
    name = torch.cuda.get_device_name(device) if cuda else "CPU"
    peak = f"{torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB" if cuda else "-"
    util = f"{utilisation.mean:.0f}%" if utilisation.mean is not None else "-"
    print(
        f"| device | data | trials | epochs | epochs/s | peak GPU memory | GPU utilisation "
        f"| outside training |\n|---|---|---|---|---|---|---|---|\n"
        f"| {name} ({device}) | {args.dataset} | {len(trials)} | {epochs} | "
        f"{epochs / loop:.2f} | {peak} | {util} | {outside:.1%} |"
    )
    verdict = "met" if outside < TARGET_OUTSIDE else "missed"
    print(
        f"\nTarget (< {TARGET_OUTSIDE:.0%} outside training): {verdict}. "
        f"torch {torch.__version__}, Optuna {optuna.__version__}."
    )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
