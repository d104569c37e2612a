"""Compare pruners by replaying recorded learning curves through real Optuna studies.

Each CSV row is one finished training run: parameter columns and a learning curve in columns
``<prefix><step>`` (``acc_1``, ``acc_2``, ...; ``acc_0``, the untrained net, is replayed as step
0). For each of ``--orderings`` seeds, ``--n-trials`` rows are drawn without replacement and, for
every pruner, a fresh in-memory study replays them: the row's parameters are enqueued and read
back with ``trial.suggest_*`` (so the pruner sees parameters and distributions), then each curve
value is reported with ``trial.report`` followed by ``trial.should_prune()``. A pruned trial
stops there; a complete one returns its final value.

Per data file and pruner it reports:

- speed-up: epochs without pruning / epochs used (one epoch = one report), median over orderings;
- best kept: orderings in which the row with the best final value finished (was not pruned);
- regret: best final value of the ordering's rows minus the best value among complete trials
  (sign flipped for ``--direction minimize``, so regret >= 0), median and max over orderings;
- epochs used (median) and the mean wall time of one replayed ordering.

It ends with one line per file and SRM pruner saying whether it meets the target: the best kept
in at least 90% of the orderings, a median speed-up above 1, and fewer epochs (median) than every
other pruner that keeps the best as often (``nop`` excluded).

Settings that depend on the curve length use T, the last step (20 for acc_1..acc_20, 49 for
acc_0..acc_49): e.g. ``hyperband`` is ``HyperbandPruner(max_resource=T)`` and ``srm_hyperband``
``SRMHyperbandPruner(max_resource=T)`` (``srm`` is ``SRMPruner()``). ``--min-step 1`` leaves
acc_0 out of the replay. Studies are named ``<file stem>-<seed>``, so that HyperbandPruner, which
hashes the study name and the trial number to pick a bracket, gives the same result every run.

Pruners are named on ``--pruners`` (comma-separated, default ``all``; ``optuna`` = every named
pruner except the SRM ones): the names of ``PRUNERS`` below, or ``name(key=value, ...)`` for the
names of ``PARAMETRIC_PRUNERS``, e.g. ``srm(relative_threshold=0.05)`` or
``median(n_warmup_steps=4)``; the values must be Python literals. ``optuna_srm`` is imported only
when an SRM pruner is asked for.

Run from the repository root, e.g.::

    python benchmarks/pruning.py ../shared/data/accelerating_nas/metaqnn_svhn.csv \\
        ../shared/data/accelerating_nas/deep_resnets_cifar10.csv --json results.json --plot out.png
    python benchmarks/pruning.py --quick --pruners "median,srm(relative_threshold=0.05)" data.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution
from optuna.pruners import (
    BasePruner,
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    PatientPruner,
    PercentilePruner,
    SuccessiveHalvingPruner,
)
from optuna.trial import TrialState

try:
    from _specs import parse_spec, split_specs
except ImportError:  # imported as ``benchmarks.<module>``
    from benchmarks._specs import parse_spec, split_specs  # type: ignore[no-redef]

N_ORDERINGS = 10
N_TRIALS = 300
QUICK_ORDERINGS = 2
QUICK_TRIALS = 100
IGNORED_COLUMNS = ("net", "training_dataset")
LOG_SCALE_RATIO = 100.0
TARGET_FRACTION = 0.9

Direction = Literal["maximize", "minimize"]


def _optuna_srm(name: str) -> Callable[..., BasePruner]:
    """The pruner class ``name`` of optuna_srm, with a hint when the project is not installed."""
    try:
        import optuna_srm
    except ImportError as error:
        raise ImportError(
            "optuna_srm is not importable: install the project (pip install -e .) or leave the "
            f"SRM pruners out of --pruners ({error})."
        ) from error
    cls: Callable[..., BasePruner] = getattr(optuna_srm, name)
    return cls


def _srm_pruner(**kwargs: Any) -> BasePruner:
    return _optuna_srm("SRMPruner")(**kwargs)


def _srm_hyperband_pruner(**kwargs: Any) -> BasePruner:
    return _optuna_srm("SRMHyperbandPruner")(**kwargs)


def _tenth(horizon: int) -> int:
    return round(0.1 * horizon)


# Named pruners: name -> factory of the horizon T (the last step of the curves).
PRUNERS: dict[str, Callable[[int], BasePruner]] = {
    "nop": lambda t: NopPruner(),
    "median": lambda t: MedianPruner(),
    "percentile25": lambda t: PercentilePruner(25.0),
    "sha": lambda t: SuccessiveHalvingPruner(),
    "hyperband": lambda t: HyperbandPruner(max_resource=t),
    "patient": lambda t: PatientPruner(MedianPruner(5, 4), patience=3),
    "median_scaled": lambda t: MedianPruner(n_startup_trials=5, n_warmup_steps=_tenth(t)),
    "percentile25_scaled": lambda t: PercentilePruner(
        25.0, n_startup_trials=5, n_warmup_steps=_tenth(t)
    ),
    "sha_scaled": lambda t: SuccessiveHalvingPruner(
        min_resource=max(1, round(t / 27)), reduction_factor=3
    ),
    "hyperband_scaled": lambda t: HyperbandPruner(
        min_resource=1, max_resource=t, reduction_factor=3
    ),
    "patient_scaled": lambda t: PatientPruner(
        MedianPruner(5, _tenth(t)), patience=max(1, _tenth(t))
    ),
    "srm": lambda t: _srm_pruner(),
    "srm_hyperband": lambda t: _srm_hyperband_pruner(max_resource=t),
}

# Pruners that accept keyword arguments on the command line: ``name(key=value, ...)``.
PARAMETRIC_PRUNERS: dict[str, Callable[..., BasePruner]] = {
    "srm": _srm_pruner,
    "srm_hyperband": _srm_hyperband_pruner,
    "median": MedianPruner,
    "percentile": PercentilePruner,
    "sha": SuccessiveHalvingPruner,
    "hyperband": HyperbandPruner,
}


@dataclass(frozen=True)
class Curves:
    """Learning curves of one data file: one row per finished run."""

    name: str
    steps: tuple[int, ...]
    values: np.ndarray  # shape (n_rows, len(steps))
    params: tuple[dict[str, Any], ...]
    distributions: dict[str, BaseDistribution]

    def __len__(self) -> int:
        return len(self.params)

    @property
    def horizon(self) -> int:
        return self.steps[-1]

    def take(self, rows: Sequence[int]) -> Curves:
        return Curves(
            name=self.name,
            steps=self.steps,
            values=self.values[list(rows)],
            params=tuple(self.params[i] for i in rows),
            distributions=self.distributions,
        )


@dataclass(frozen=True)
class Task:
    curves: Curves  # the ordering's rows, in replay order
    pruner: str
    ordering: int
    seed: int
    direction: Direction


@dataclass(frozen=True)
class OrderingResult:
    data: str
    pruner: str
    ordering: int
    seed: int
    n_trials: int
    n_pruned: int
    epochs_full: int
    epochs_used: int
    speed_up: float
    best_kept: bool
    regret: float
    wall_s: float


@dataclass(frozen=True)
class Summary:
    data: str
    pruner: str
    n_orderings: int
    speed_up: float
    best_kept: int
    median_regret: float
    max_regret: float
    epochs: float
    s_per_ordering: float


# ---------------------------------------------------------------------------------------------
# Data


def _curve_columns(columns: Sequence[str], prefix: str) -> list[tuple[int, str]]:
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    matches = ((pattern.fullmatch(c), c) for c in columns)
    return sorted((int(m.group(1)), c) for m, c in matches if m is not None)


def _floats(column: Sequence[str]) -> list[float] | None:
    try:
        return [float(text) for text in column]
    except ValueError:
        return None


def _distribution(column: Sequence[str]) -> BaseDistribution:
    numbers = _floats(column)
    if numbers is None:
        return CategoricalDistribution(sorted(set(column)))
    low, high = min(numbers), max(numbers)
    return FloatDistribution(low, high, log=low > 0 and high / low > LOG_SCALE_RATIO)


def _param_value(text: str, distribution: BaseDistribution) -> float | str:
    return float(text) if isinstance(distribution, FloatDistribution) else text


def _curve(row: dict[str, str], columns: Sequence[str]) -> list[float]:
    return [float(row[c]) if row[c].strip() else math.nan for c in columns]


def load_curves(path: Path, prefix: str, ignored: Sequence[str], min_step: int = 0) -> Curves:
    """Read a CSV of learning curves; rows with a missing curve value are dropped.

    Curve columns ``<prefix><step>`` with ``step < min_step`` are left out of the replay.
    """
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
        columns = list(reader.fieldnames or [])
    steps = [(step, c) for step, c in _curve_columns(columns, prefix) if step >= min_step]
    if not steps:
        raise ValueError(f"{path}: no curve columns named {prefix}<int> with int >= {min_step}.")
    curve_columns = [c for _, c in steps]
    values = np.array([_curve(row, curve_columns) for row in rows], dtype=float)
    complete = ~np.isnan(values).any(axis=1)
    if not complete.all():
        print(f"{path}: dropped {int((~complete).sum())} incomplete curves.", file=sys.stderr)
        rows = [row for row, keep in zip(rows, complete, strict=True) if keep]
    param_columns = [c for c in columns if c not in ignored and not c.startswith(prefix)]
    distributions = {c: _distribution([row[c] for row in rows]) for c in param_columns}
    return Curves(
        name=path.stem,
        steps=tuple(step for step, _ in steps),
        values=values[complete],
        params=tuple(
            {c: _param_value(row[c], d) for c, d in distributions.items()} for row in rows
        ),
        distributions=distributions,
    )


def draw_rows(n_rows: int, n_trials: int, seed: int) -> list[int]:
    """Rows of one ordering: ``n_trials`` drawn without replacement, or all rows shuffled."""
    rng = np.random.default_rng(seed)
    return [int(i) for i in rng.choice(n_rows, size=min(n_trials, n_rows), replace=False)]


# ---------------------------------------------------------------------------------------------
# Pruners


def make_pruner(spec: str, horizon: int) -> BasePruner:
    name, kwargs = parse_spec(spec)
    if kwargs is None and name in PRUNERS:
        return PRUNERS[name](horizon)
    if kwargs is not None and name in PARAMETRIC_PRUNERS:
        return PARAMETRIC_PRUNERS[name](**kwargs)
    raise ValueError(
        f"Unknown pruner {spec!r}: the names are {sorted(PRUNERS)}, or name(key=value, ...) "
        f"for {sorted(PARAMETRIC_PRUNERS)}."
    )


def is_srm(spec: str) -> bool:
    return spec.startswith("srm")


def expand_specs(text: str) -> list[str]:
    """Pruner specs of ``--pruners``, with ``all`` and ``optuna`` expanded."""
    aliases = {"all": list(PRUNERS), "optuna": [p for p in PRUNERS if not is_srm(p)]}
    specs = [s for spec in split_specs(text) for s in aliases.get(spec, [spec])]
    return list(dict.fromkeys(specs))


# ---------------------------------------------------------------------------------------------
# Replay


def _suggest(trial: optuna.Trial, name: str, distribution: BaseDistribution) -> None:
    if isinstance(distribution, FloatDistribution):
        trial.suggest_float(name, distribution.low, distribution.high, log=distribution.log)
    else:
        assert isinstance(distribution, CategoricalDistribution)
        trial.suggest_categorical(name, distribution.choices)


def replay(curves: Curves, pruner: BasePruner, direction: Direction, seed: int) -> optuna.Study:
    """Run one study whose trial ``i`` replays row ``i`` of ``curves``."""
    study = optuna.create_study(
        study_name=f"{curves.name}-{seed}",  # HyperbandPruner hashes it to pick brackets
        direction=direction,
        pruner=pruner,
        sampler=optuna.samplers.RandomSampler(seed=seed),
    )
    for params in curves.params:
        study.enqueue_trial(params)

    def objective(trial: optuna.Trial) -> float:
        for name, distribution in curves.distributions.items():
            _suggest(trial, name, distribution)
        assert trial.params == curves.params[trial.number]
        curve = curves.values[trial.number]
        for step, value in zip(curves.steps, curve, strict=True):
            trial.report(float(value), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(curve[-1])

    study.optimize(objective, n_trials=len(curves))
    return study


def _score_result(task: Task, study: optuna.Study, wall_s: float) -> OrderingResult:
    trials = study.get_trials(deepcopy=False)
    sign = 1.0 if task.direction == "maximize" else -1.0
    scores = sign * task.curves.values[:, -1]
    best = float(scores.max())
    completed = [t.number for t in trials if t.state == TrialState.COMPLETE]
    best_completed = float(scores[completed].max()) if completed else -math.inf
    epochs_full = task.curves.values.size
    epochs_used = sum(len(t.intermediate_values) for t in trials)
    return OrderingResult(
        data=task.curves.name,
        pruner=task.pruner,
        ordering=task.ordering,
        seed=task.seed,
        n_trials=len(trials),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        epochs_full=epochs_full,
        epochs_used=epochs_used,
        speed_up=epochs_full / epochs_used,
        best_kept=bool(np.any(scores[completed] == best)) if completed else False,
        regret=best - best_completed,
        wall_s=wall_s,
    )


def run_task(task: Task) -> OrderingResult:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    pruner = make_pruner(task.pruner, task.curves.horizon)
    start = time.perf_counter()
    study = replay(task.curves, pruner, task.direction, task.seed)
    return _score_result(task, study, time.perf_counter() - start)


def make_tasks(
    data: Sequence[Curves],
    specs: Sequence[str],
    seeds: Sequence[int],
    n_trials: int,
    direction: Direction,
) -> list[Task]:
    tasks = []
    for curves in data:
        for ordering, seed in enumerate(seeds):
            rows = curves.take(draw_rows(len(curves), n_trials, seed))
            tasks += [Task(rows, spec, ordering, seed, direction) for spec in specs]
    return tasks


def run_tasks(tasks: Sequence[Task], jobs: int) -> Iterator[OrderingResult]:
    if jobs == 1:
        yield from map(run_task, tasks)
        return
    with ProcessPoolExecutor(max_workers=jobs) as executor:
        futures = [executor.submit(run_task, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


# ---------------------------------------------------------------------------------------------
# Report


def summarise(results: Sequence[OrderingResult]) -> list[Summary]:
    groups: dict[tuple[str, str], list[OrderingResult]] = {}
    for result in results:
        groups.setdefault((result.data, result.pruner), []).append(result)
    return [
        Summary(
            data=data,
            pruner=pruner,
            n_orderings=len(group),
            speed_up=statistics.median(r.speed_up for r in group),
            best_kept=sum(r.best_kept for r in group),
            median_regret=statistics.median(r.regret for r in group),
            max_regret=max(r.regret for r in group),
            epochs=statistics.median(r.epochs_used for r in group),
            s_per_ordering=statistics.fmean(r.wall_s for r in group),
        )
        for (data, pruner), group in groups.items()
    ]


def markdown_table(summaries: Sequence[Summary]) -> str:
    header = (
        "| data | pruner | speed-up | best kept | median regret | max regret | epochs (median) "
        "| s/ordering |\n|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {s.data} | {s.pruner} | {s.speed_up:.1f}x | {s.best_kept}/{s.n_orderings} "
        f"| {s.median_regret:.4g} | {s.max_regret:.4g} | {s.epochs:g} | {s.s_per_ordering:.2f} |"
        for s in summaries
    ]
    return "\n".join([header, *rows])


def _kept_enough(summary: Summary) -> bool:
    return summary.best_kept >= math.ceil(TARGET_FRACTION * summary.n_orderings - 1e-9)


def target_lines(summaries: Sequence[Summary]) -> list[str]:
    """Per file: does each SRM pruner keep the best often enough with the fewest epochs?"""
    lines = []
    for data in dict.fromkeys(s.data for s in summaries):
        rows = [s for s in summaries if s.data == data]
        rivals = [s for s in rows if s.pruner != "nop" and not is_srm(s.pruner)]
        safe = [s for s in rivals if _kept_enough(s)]
        cheapest = min(safe, key=lambda s: s.epochs, default=None)
        bar = (
            f"{cheapest.pruner} ({cheapest.epochs:g} epochs)"
            if cheapest
            else "no other pruner keeps the best often enough"
        )
        srm_rows = [s for s in rows if is_srm(s.pruner)]
        if not srm_rows:
            lines.append(f"target {data}: srm not run; bar to beat: {bar}")
        for s in srm_rows:
            met = _kept_enough(s) and s.speed_up > 1.0 and all(s.epochs < r.epochs for r in safe)
            verdict = "MET" if met else "missed"
            lines.append(
                f"target {data} {s.pruner}: {verdict} (best kept {s.best_kept}/{s.n_orderings}, "
                f"{s.epochs:g} epochs; bar to beat: {bar})"
            )
    return lines


def record_floor(curves: Curves, direction: Direction) -> int:
    """Epochs used by a pruner that completes exactly the trials ending better than all before
    them and stops every other trial after its first step: how little a pruner that keeps the
    best could use without knowing the future (the trials that set a record may win)."""
    finals = (1.0 if direction == "maximize" else -1.0) * curves.values[:, -1]
    records = finals > np.maximum.accumulate(np.concatenate([[-np.inf], finals[:-1]]))
    return int(records.sum()) * len(curves.steps) + int((~records).sum())


def floor_lines(tasks: Sequence[Task]) -> list[str]:
    """Per file, the median over orderings of :func:`record_floor`."""
    floors: dict[str, dict[int, int]] = {}
    for task in tasks:
        by_ordering = floors.setdefault(task.curves.name, {})
        by_ordering[task.ordering] = record_floor(task.curves, task.direction)
    return [
        f"floor {data}: {float(np.median(list(values.values()))):g} epochs (completing only "
        "the trials that end better than all before them, stopping the others after one step)"
        for data, values in floors.items()
    ]


def write_json(path: Path, results: Sequence[OrderingResult], config: dict[str, Any]) -> None:
    def clean(record: dict[str, Any]) -> dict[str, Any]:
        return {
            k: None if isinstance(v, float) and math.isinf(v) else v for k, v in record.items()
        }

    payload = {"config": config, "results": [clean(asdict(r)) for r in results]}
    path.write_text(json.dumps(payload, indent=1) + "\n")


def write_plot(path: Path, summaries: Sequence[Summary]) -> None:
    """Speed-up (log x) against best kept, one panel per data file, one point per pruner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    names = list(dict.fromkeys(s.data for s in summaries))
    figure, panels = plt.subplots(
        1, len(names), figsize=(6 * len(names), 4.5), sharey=True, squeeze=False
    )
    for axes, name in zip(panels[0], names, strict=True):
        rows = sorted((s for s in summaries if s.data == name), key=lambda s: s.speed_up)
        axes.scatter([s.speed_up for s in rows], [s.best_kept for s in rows], alpha=0.7)
        for i, s in enumerate(rows):  # stagger the labels of neighbouring points
            axes.annotate(
                s.pruner,
                (s.speed_up, s.best_kept),
                xytext=(4, 10 * (i % 4) - 12),
                textcoords="offset points",
                fontsize=7,
            )
        n_orderings = max(s.n_orderings for s in rows)
        axes.axhline(TARGET_FRACTION * n_orderings, color="grey", linestyle=":", linewidth=1)
        axes.set_xscale("log")
        right = 2.0 * max(s.speed_up for s in rows)
        axes.set_xlim(0.8, right)
        axes.set_xticks([x for x in (1, 2, 3, 5, 10, 20, 50, 100) if x <= right])
        axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}x"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(name)
        axes.set_xlabel("speed-up (epochs without pruning / epochs used)")
        axes.set_ylim(-0.7, n_orderings + 1.0)
    panels[0][0].set_ylabel("orderings that kept the best trial")
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


# ---------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="+", type=Path, help="CSV files of learning curves")
    parser.add_argument("--pruners", default="all", help="comma-separated pruner specs")
    parser.add_argument("--orderings", type=int, default=N_ORDERINGS)
    parser.add_argument("--n-trials", type=int, default=N_TRIALS)
    parser.add_argument("--seed", type=int, default=0, help="seed of the first ordering")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_ORDERINGS} orderings of {QUICK_TRIALS} trials",
    )
    parser.add_argument("--direction", choices=("maximize", "minimize"), default="maximize")
    parser.add_argument("--curve-prefix", default="acc_")
    parser.add_argument(
        "--min-step",
        type=int,
        default=0,
        help="replay only the curve columns from this step on (1 leaves out acc_0)",
    )
    parser.add_argument(
        "--ignore-columns",
        default=",".join(IGNORED_COLUMNS),
        help="comma-separated columns that are neither curve nor parameter",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the per-ordering results here")
    parser.add_argument("--plot", type=Path, help="write a speed-up vs best-kept plot here")
    args = parser.parse_args(argv)
    if args.quick:
        args.orderings, args.n_trials = QUICK_ORDERINGS, QUICK_TRIALS
    if min(args.orderings, args.n_trials, args.jobs) < 1:
        parser.error("--orderings, --n-trials and --jobs must be positive.")
    try:
        args.pruners = expand_specs(args.pruners)
        args.data = [
            load_curves(p, args.curve_prefix, args.ignore_columns.split(","), args.min_step)
            for p in args.csv
        ]
        for curves in args.data:  # fail here, not in the workers
            for spec in args.pruners:
                make_pruner(spec, curves.horizon)
    except (ValueError, TypeError, ImportError, OSError) as error:
        parser.error(str(error))
    for out in (args.json, getattr(args, "plot", None)):  # their folders, before the run
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
    return args


def _run(tasks: Sequence[Task], jobs: int) -> list[OrderingResult]:
    """All results, in the order of ``tasks``; progress goes to stderr."""
    results = []
    for result in run_tasks(tasks, jobs):
        results.append(result)
        print(
            f"[{len(results)}/{len(tasks)}] {result.data} {result.pruner} "
            f"#{result.ordering}: {result.speed_up:.1f}x, {result.wall_s:.1f}s",
            file=sys.stderr,
        )
    rank = {(t.curves.name, t.pruner, t.ordering): i for i, t in enumerate(tasks)}
    return sorted(results, key=lambda r: rank[r.data, r.pruner, r.ordering])


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    seeds = [args.seed + k for k in range(args.orderings)]
    tasks = make_tasks(args.data, args.pruners, seeds, args.n_trials, args.direction)
    start = time.perf_counter()
    results = _run(tasks, args.jobs)
    wall_s = time.perf_counter() - start
    summaries = summarise(results)
    print(markdown_table(summaries))
    print()
    print("\n".join(target_lines(summaries)))
    print("\n".join(floor_lines(tasks)))
    print(
        f"\n{len(tasks)} replays of {args.orderings} orderings x {args.n_trials} trials in "
        f"{wall_s:.0f}s with {args.jobs} jobs (Optuna {optuna.__version__})."
    )
    if args.json:
        config = {
            "command": sys.argv,
            "optuna": optuna.__version__,
            "orderings": args.orderings,
            "n_trials": args.n_trials,
            "direction": args.direction,
            "steps": {c.name: [c.steps[0], c.steps[-1]] for c in args.data},
            "wall_s": wall_s,
        }
        write_json(args.json, results, config)
    if args.plot:
        write_plot(args.plot, summaries)


if __name__ == "__main__":
    main()
