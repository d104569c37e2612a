"""Are SRMPruner's probabilities right where it decides?

Replays recorded learning curves through real Optuna studies as ``pruning.py`` does (the same
orderings, the same seeds) and, after every ``should_prune``, reads the ``srm_p_improve`` that
the pruner recorded for the check. Each check is compared with what happened: the trial's
recorded final value beat the best value of the trials completed at that moment ("win").
Checks are grouped by their probability; for each group the table gives the wins the
probabilities promise (their sum) and the wins that came. Far fewer wins than promised mean
the pruner waits for more evidence than it needs, on these curves; any win at a probability
below the pruner's threshold is a trial it would stop wrongly.

The same trials are stopped as in a real run, so a stopped trial contributes the checks up to
its last; with ``--no-stop`` every trial runs to its end and every check is counted (the
pruner then learns from complete trials only).

Run from the repository root, e.g.::

    python benchmarks/calibration.py ../shared/data/accelerating_nas/metaqnn_svhn.csv \\
        ../shared/data/accelerating_nas/deep_resnets_cifar10.csv benchmarks/data/mlp_digits.csv
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import optuna

try:
    import pruning
except ImportError:  # imported as ``benchmarks.<module>``
    from benchmarks import pruning  # type: ignore[no-redef]

BINS = (0.0, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 1.0)


def replay_checks(
    curves: pruning.Curves, spec: str, direction: pruning.Direction, seed: int, stop: bool
) -> list[tuple[float, bool, bool]]:
    """``(p_improve, win, pruned)`` of every check of one ordering replayed with ``spec``."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    sign = 1.0 if direction == "maximize" else -1.0
    study = optuna.create_study(
        study_name=f"{curves.name}-{seed}",
        direction=direction,
        pruner=pruning.make_pruner(spec, curves.horizon),
        sampler=optuna.samplers.RandomSampler(seed=seed),
    )
    for params in curves.params:
        study.enqueue_trial(params)
    checks: list[tuple[float, bool, bool]] = []
    best = -math.inf  # the best completed value so far, times sign

    def objective(trial: optuna.Trial) -> float:
        nonlocal best
        for name, distribution in curves.distributions.items():
            pruning._suggest(trial, name, distribution)
        curve = curves.values[trial.number]
        final = sign * float(curve[-1])
        for step, value in zip(curves.steps, curve, strict=True):
            trial.report(float(value), step)
            pruned = trial.should_prune()
            attrs = trial.user_attrs
            if attrs.get("srm_step") == step:
                checks.append((float(attrs["srm_p_improve"]), final > best, pruned))
            if pruned and stop:
                raise optuna.TrialPruned()
        best = max(best, final)
        return float(curve[-1])

    study.optimize(objective, n_trials=len(curves))
    return checks


def _task(
    args: tuple[pruning.Curves, str, pruning.Direction, int, bool],
) -> list[tuple[float, bool, bool]]:
    return replay_checks(*args)


def table(name: str, checks: Sequence[tuple[float, bool, bool]]) -> list[str]:
    """Markdown rows of one file: checks, promised and observed wins per probability bin."""
    p = np.array([c[0] for c in checks])
    win = np.array([c[1] for c in checks])
    pruned = np.array([c[2] for c in checks])
    rows = []
    groups = [
        (f"[{lo:g}, {hi:g}{']' if hi == 1.0 else ')'}", (p >= lo) & ((p < hi) | (hi == 1.0)))
        for lo, hi in itertools.pairwise(BINS)
    ]
    for label, mask in [*groups, ("pruned", pruned)]:
        promised = float(p[mask].sum())
        rows.append(
            f"| {name} | {label} | {int(mask.sum())} | {promised:.1f} | {int(win[mask].sum())} |"
        )
    return rows


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="+", type=Path, help="CSV files of learning curves")
    parser.add_argument("--pruner", default="srm", help="an SRM pruner spec, e.g. srm")
    parser.add_argument("--orderings", type=int, default=pruning.N_ORDERINGS)
    parser.add_argument("--n-trials", type=int, default=pruning.N_TRIALS)
    parser.add_argument("--seed", type=int, default=0, help="seed of the first ordering")
    parser.add_argument("--direction", choices=("maximize", "minimize"), default="maximize")
    parser.add_argument("--curve-prefix", default="acc_")
    parser.add_argument("--no-stop", action="store_true", help="never stop a trial")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if min(args.orderings, args.n_trials, args.jobs) < 1:
        parser.error("--orderings, --n-trials and --jobs must be positive.")
    if not pruning.is_srm(args.pruner):
        parser.error(f"--pruner must be an SRM pruner, but got {args.pruner!r}.")
    try:
        args.data = [
            pruning.load_curves(p, args.curve_prefix, pruning.IGNORED_COLUMNS) for p in args.csv
        ]
        pruning.make_pruner(args.pruner, args.data[0].horizon)
    except (ValueError, TypeError, ImportError, OSError) as error:
        parser.error(str(error))
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    lines = [
        "| data | p_improve | checks | wins promised | wins observed |",
        "|---|---|---|---|---|",
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        for curves in args.data:
            tasks = [
                (
                    curves.take(pruning.draw_rows(len(curves), args.n_trials, seed)),
                    args.pruner,
                    args.direction,
                    seed,
                    not args.no_stop,
                )
                for seed in range(args.seed, args.seed + args.orderings)
            ]
            checks = [c for result in pool.map(_task, tasks) for c in result]
            lines += table(curves.name, checks)
            print(f"{curves.name}: {len(checks)} checks", file=sys.stderr)
    print("\n".join(lines))
    print(
        f"\n{args.pruner}, {args.orderings} orderings x {args.n_trials} trials per file, "
        f"{'no trial stopped' if args.no_stop else 'trials stopped as in a real run'}, "
        f"{time.perf_counter() - start:.0f}s (Optuna {optuna.__version__})."
    )


if __name__ == "__main__":
    main()
