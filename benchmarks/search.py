"""``optuna-srm search`` with each pruner side by side: epochs, wall time, best accuracy.

For every data set, seed and pruner, the installed ``optuna-srm`` command runs a search of
``--n-trials`` trials of ``--epochs`` epochs into a fresh SQLite file, with the same sampler
(Q-learning by default), seed and budget, so the pruners differ only in what they stop. From the
study it leaves, the script reads:

- epochs: epochs trained over all trials (one epoch = one ``trial.report``); ``none`` trains
  ``n_trials * epochs``;
- best: the best validation accuracy of a complete trial;
- wall s: from the first trial's start to the last trial's end (the command's start-up, importing
  PyTorch and loading the data, is left out);
- outside training: the share of that wall time not spent training or validating (the
  ``train_seconds`` the training loop records): sampler, pruner, storage, building models.

It prints one table per data set (means over seeds) and the targets: a pruner trains at least 3x
fewer epochs than ``none`` with a best accuracy within 0.5 percentage points of it (means over
seeds), and the time outside training stays under 5% of the wall time.

Run from the repository root, after ``pip install -e ".[torch]"``::

    python benchmarks/search.py                                   # digits and mnist1d, 3 seeds
    python benchmarks/search.py --datasets digits --seeds 1 --n-trials 20 --epochs 5
    python benchmarks/search.py --devices auto --json out.json --plot out.png
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

PRUNERS = ("none", "srm", "median", "hyperband", "srm-hyperband")
DATASETS = ("digits", "mnist1d")
N_TRIALS = 60
EPOCHS = 20
N_SEEDS = 3
TARGET_SPEED_UP = 3.0
TARGET_ACCURACY_GAP = 0.005
TARGET_OUTSIDE = 0.05


@dataclass
class Run:
    dataset: str
    pruner: str
    seed: int
    n_trials: int
    n_pruned: int
    epochs: int
    best: float
    wall_s: float
    train_s: float

    @property
    def outside(self) -> float:
        return max(1.0 - self.train_s / self.wall_s, 0.0) if self.wall_s > 0 else 0.0


def run_search(
    dataset: str, pruner: str, seed: int, args: argparse.Namespace, workdir: Path
) -> Run:
    """Run ``optuna-srm search`` in a fresh directory and read what its study holds."""
    storage = f"sqlite:///{workdir / f'{dataset}-{pruner}-{seed}.db'}"
    command = [
        args.command,
        "search",
        f"--dataset={dataset}",
        f"--pruner={pruner}",
        f"--sampler={args.sampler}",
        f"--seed={seed}",
        f"--n-trials={args.n_trials}",
        f"--epochs={args.epochs}",
        f"--devices={args.devices}",
        f"--storage={storage}",
        "--study=benchmark",
    ]
    if args.data_dir:
        command.append(f"--data-dir={args.data_dir}")
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    study = optuna.load_study(study_name="benchmark", storage=storage)
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    values = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    return Run(
        dataset=dataset,
        pruner=pruner,
        seed=seed,
        n_trials=len(trials),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        epochs=sum(len(t.intermediate_values) for t in trials),
        best=max(values, default=float("nan")),
        wall_s=(max(ends) - min(starts)).total_seconds() if starts and ends else 0.0,
        train_s=sum(float(t.user_attrs.get("train_seconds", 0.0)) for t in trials),
    )


def table(runs: list[Run], dataset: str) -> tuple[str, list[str]]:
    """The markdown table of ``dataset`` (means over seeds) and its verdict lines."""
    rows = [
        "| pruner | epochs | speed-up | best accuracy | wall s | outside training | pruned |",
        "|---|---|---|---|---|---|---|",
    ]
    by_pruner = {
        p: [r for r in runs if r.dataset == dataset and r.pruner == p]
        for p in PRUNERS
        if any(r.dataset == dataset and r.pruner == p for r in runs)
    }
    base = by_pruner.get("none")
    base_epochs = statistics.mean(r.epochs for r in base) if base else None
    base_best = statistics.mean(r.best for r in base) if base else None
    verdicts = []
    for pruner, group in by_pruner.items():
        epochs = statistics.mean(r.epochs for r in group)
        best = statistics.mean(r.best for r in group)
        speed_up = base_epochs / epochs if base_epochs else float("nan")
        outside = statistics.mean(r.outside for r in group)
        rows.append(
            f"| {pruner} | {epochs:.0f} | {speed_up:.2f}x | {best:.4f} | "
            f"{statistics.mean(r.wall_s for r in group):.1f} | {outside:.1%} | "
            f"{statistics.mean(r.n_pruned for r in group):.1f} |"
        )
        if pruner.startswith("srm") and base_best is not None:
            met = speed_up >= TARGET_SPEED_UP and best >= base_best - TARGET_ACCURACY_GAP
            verdicts.append(
                f"{dataset} {pruner}: {speed_up:.2f}x fewer epochs than none, best "
                f"{best:.4f} against {base_best:.4f}: target "
                f"{'met' if met else 'missed'} (>= {TARGET_SPEED_UP}x, within "
                f"{TARGET_ACCURACY_GAP * 100:.1f} points)"
            )
        if pruner == "srm":
            verdicts.append(
                f"{dataset} srm: {outside:.1%} of the wall time outside training: target "
                f"{'met' if outside < TARGET_OUTSIDE else 'missed'} (< {TARGET_OUTSIDE:.0%})"
            )
    return "\n".join(rows), verdicts


def write_plot(path: Path, runs: list[Run]) -> None:
    """Best accuracy against epochs trained, one point per run, one panel per data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({r.dataset for r in runs})
    figure, panels = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    for panel, dataset in zip(panels[0], datasets, strict=True):
        for pruner in PRUNERS:
            group = [r for r in runs if r.dataset == dataset and r.pruner == pruner]
            if group:
                panel.scatter([r.epochs for r in group], [r.best for r in group], label=pruner)
        panel.set_title(dataset)
        panel.set_xlabel("epochs trained")
        panel.set_ylabel("best validation accuracy")
        panel.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    parser.add_argument("--pruners", default=",".join(PRUNERS), help="comma-separated")
    parser.add_argument("--sampler", default="qlearning", help="qlearning, tpe or random")
    parser.add_argument("--seeds", type=int, default=N_SEEDS, help="seeds 0 .. SEEDS-1")
    parser.add_argument("--n-trials", type=int, default=N_TRIALS, help="trials per search")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs per trial")
    parser.add_argument("--devices", default="cpu", help="as optuna-srm search --devices")
    parser.add_argument("--data-dir", default=None, help="for the torchvision data sets")
    parser.add_argument(
        "--command",
        default=shutil.which("optuna-srm") or str(Path(sys.executable).with_name("optuna-srm")),
        help="the optuna-srm executable",
    )
    parser.add_argument("--json", type=Path, help="write every run here")
    parser.add_argument("--plot", type=Path, help="write best accuracy vs epochs here (PNG)")
    args = parser.parse_args(argv)
    datasets = args.datasets.split(",")
    pruners = args.pruners.split(",")
    unknown = set(pruners) - set(PRUNERS)
    if unknown:
        parser.error(f"unknown pruners {sorted(unknown)}; choose from {PRUNERS}")

    runs: list[Run] = []
    start = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        for dataset in datasets:
            for seed in range(args.seeds):
                for pruner in pruners:
                    run = run_search(dataset, pruner, seed, args, Path(scratch))
                    runs.append(run)
                    print(
                        f"[{len(runs)}/{len(datasets) * args.seeds * len(pruners)}] {dataset} "
                        f"{pruner} seed {seed}: {run.epochs} epochs, best {run.best:.4f}, "
                        f"{run.wall_s:.1f} s, {run.outside:.1%} outside training",
                        file=sys.stderr,
                    )
    verdicts = []
    for dataset in datasets:
        text, lines = table(runs, dataset)
        verdicts += lines
        print(
            f"\n{dataset}: {args.n_trials} trials x {args.epochs} epochs, {args.sampler} "
            f"sampler, means over {args.seeds} seeds\n\n{text}"
        )
    print()
    print("\n".join(verdicts))
    print(
        f"\n{len(runs)} searches in {time.time() - start:.0f} s on {args.devices} "
        f"(Optuna {optuna.__version__})."
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1))
    if args.plot:
        write_plot(args.plot, runs)


if __name__ == "__main__":
    main()
