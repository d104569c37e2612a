"""Latency of ``trial.should_prune()``: ``optuna_srm.SRMPruner`` next to ``MedianPruner``.

What it measures
----------------
For every cell of the grid storage x number of finished trials x steps per curve, a study
(maximize) is created and populated quickly through ``study.add_trials`` with synthetic finished
trials: learning curves ``y_t = a - b * exp(-c * t) + noise`` (starting near 0.1) whose asymptote
``a`` and rate ``c`` depend on the parameters ``x`` (uniform in [0, 1]) and ``lr`` (log-uniform in
[1e-5, 1e-1]). About 80 % of them are COMPLETE with full curves, about 20 % (drawn from the worse
trials) are PRUNED with truncated curves. The data of a cell depend only on ``--seed``, the number
of finished trials and the number of steps, so every storage sees the same trials. For SQLite and
PostgreSQL, ``add_trials`` gets the trials without their curves, which are then bulk-inserted into
Optuna's intermediate-values table: ``RDBStorage`` writes a template trial's intermediate values
one ORM query at a time, which would take hours for 5000 x 100 values (``--populate add_trials``
still does it that way). The trials themselves still cost 20-60 ms each through ``add_trials``,
so a 5000-trial cell takes a few minutes to populate on SQLite and PostgreSQL.

Then one FRESH WORKER per pruner opens the populated study: an in-memory study is reopened from
its storage object; for SQLite and PostgreSQL ``optuna.load_study`` is given the URL, so it
builds a new storage object with an empty cache. Each worker asks ``--trials`` new trials (same
distributions, ``RandomSampler`` with the same seed, so every pruner sees the same new trials)
and reports the same synthetic curves step by step, timing every ``trial.report`` and every
``trial.should_prune()`` with ``time.perf_counter``. The workers take turns at every step (the
order alternates), so both pruners run under the same machine load and their ratio is fair even
when the absolute times are noisy. The pruner's decision is ignored: every trial reports all its
steps, and the new trials stay RUNNING (visible to both workers, as with parallel workers) until
the end, when they are marked FAIL. Afterwards each worker's view of the finished trials is
checked against what was generated.

In Optuna 5.0 a fresh worker's first read of all finished trials happens in ``study.ask()``
(``_CachedStorage`` fills its cache while looking for waiting trials), so it is reported in its
own column; the first ``should_prune()`` then covers the pruner's first pass over the cached
trials (for SRMPruner: the first model fit).

How to run
----------
    python benchmarks/overhead.py                       # full grid, both pruners
    python benchmarks/overhead.py --quick               # 100 and 1000 finished, 20 steps
    python benchmarks/overhead.py --pruners median --storages inmemory sqlite
    python benchmarks/overhead.py --json out.json --plot out.png

PostgreSQL: a scratch database (``--pg-db``, default ``optuna_srm_bench_<pid>``; it must not
exist) is created on the server of ``--pg-url`` for every cell and dropped afterwards. SQLite: a
file in a temporary directory. Progress goes to stderr; the table and the verdicts go to stdout.
A cell that fails (say, the database server restarts) is reported and skipped; the exit status
is then 1.

Columns
-------
storage          inmemory, sqlite or postgresql
finished         number of finished trials in the study before the measurement
steps            steps per learning curve (full curves; pruned ones are shorter)
pruner           SRMPruner() or MedianPruner(), both with default arguments
ask ms           the fresh worker's first ``study.ask()`` (its first read of all finished trials)
first check ms   the first ``should_prune()`` of the fresh worker
median ms        median of the other ``should_prune()`` calls (all steps of all new trials)
max ms           maximum of those calls (the first check excluded)
report ms        median of the ``trial.report()`` calls, for reference
ratio            median divided by MedianPruner's median in the same cell

Before the grid, every pruner runs once on a tiny in-memory study (``warm_up``), so that lazy
imports and other one-off costs of the process do not land in the first cell's first check.

The verdicts at the end check the issue's targets: SRMPruner's median at most 2x MedianPruner's
at 1000 finished trials on SQLite, and no SRMPruner check after the first one slower than 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import sqlalchemy
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.pruners import BasePruner
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

STORAGES = ("inmemory", "sqlite", "postgresql")
PRUNERS = {"srm": "SRMPruner", "median": "MedianPruner"}
DISTRIBUTIONS: dict[str, BaseDistribution] = {
    "x": FloatDistribution(0.0, 1.0),
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
}
PRUNED_FRACTION = 0.2
TARGET_RATIO = 2.0
TARGET_FINISHED = 1000
TARGET_STORAGE = "sqlite"
TARGET_MAX_S = 1.0
STUDY_NAME = "overhead"
IV_CHUNK = 50_000


@dataclass
class CellResult:
    storage: str
    finished: int
    steps: int
    pruner: str
    populate_s: float
    load_ms: float
    ask_ms: float
    first_check_ms: float
    median_ms: float
    max_ms: float
    report_ms: float
    n_checks: int
    n_prune_decisions: int
    ratio: float | None = None


# --------------------------------------------------------------------------- synthetic data


def synthetic_curve(rng: np.random.Generator, params: dict[str, Any], steps: int) -> np.ndarray:
    """Saturating learning curve whose level and speed depend on ``x`` and ``lr``."""
    x = float(params["x"])
    log_lr = math.log10(float(params["lr"]))
    lr_unit = (log_lr + 5.0) / 4.0  # 0 for lr=1e-5, 1 for lr=1e-1
    a = 0.92 - 0.3 * (x - 0.65) ** 2 - 0.05 * (log_lr + 2.5) ** 2 + rng.normal(0.0, 0.01)
    b = a - rng.uniform(0.05, 0.2)  # starts near chance level
    c = rng.uniform(2.0, 6.0) * (0.3 + lr_unit) / steps
    t = np.arange(1, steps + 1, dtype=float)
    return a - b * np.exp(-c * t) + rng.normal(0.0, 0.005, size=steps)


def sample_params(rng: np.random.Generator) -> dict[str, float]:
    return {"x": float(rng.uniform(0.0, 1.0)), "lr": float(10.0 ** rng.uniform(-5.0, -1.0))}


def pruned_lengths(rng: np.random.Generator, finals: np.ndarray, steps: int) -> np.ndarray:
    """Curve length per trial: ``steps`` for COMPLETE, shorter for the ~20 % PRUNED ones.

    Only trials in the worse 60 % by final value are pruned, each with probability 1/3.
    """
    worse = finals <= np.quantile(finals, 0.6)
    pruned = worse & (rng.uniform(size=finals.size) < PRUNED_FRACTION / 0.6)
    low, high = max(1, steps // 10), max(2, steps // 2)
    cut = rng.integers(low, high + 1, size=finals.size)
    return np.where(pruned, cut, steps)


def make_trial(params: dict[str, float], curve: np.ndarray, length: int) -> FrozenTrial:
    values = [float(v) for v in curve[:length]]
    state = TrialState.COMPLETE if length == len(curve) else TrialState.PRUNED
    return optuna.trial.create_trial(
        params=params,
        distributions=DISTRIBUTIONS,
        value=values[-1],
        intermediate_values=dict(enumerate(values)),
        state=state,
    )


def make_finished_trials(seed: int, n_finished: int, steps: int) -> list[FrozenTrial]:
    rng = np.random.default_rng([seed, n_finished, steps])
    params = [sample_params(rng) for _ in range(n_finished)]
    curves = [synthetic_curve(rng, p, steps) for p in params]
    lengths = pruned_lengths(rng, np.array([c[-1] for c in curves]), steps)
    return [make_trial(p, c, int(n)) for p, c, n in zip(params, curves, lengths, strict=True)]


# --------------------------------------------------------------------------- storages


@dataclass
class StorageRef:
    """Where a cell's study lives: a storage object (in-memory) or a URL (RDB)."""

    kind: str
    url: str | None = None
    memory: InMemoryStorage | None = None

    def writer(self) -> BaseStorage:
        """Storage used to populate the study, tuned for fast writes."""
        if self.memory is not None:
            return self.memory
        assert self.url is not None
        return fast_write_rdb(self.url)

    def fresh(self) -> str | BaseStorage:
        """What a fresh worker passes to ``optuna.load_study``."""
        return self.memory if self.memory is not None else str(self.url)


def fast_write_rdb(url: str) -> RDBStorage:
    """RDBStorage whose commits do not wait for the disk (population only, not measured)."""
    if url.startswith("postgresql"):
        kwargs = {"connect_args": {"options": "-c synchronous_commit=off"}}
        return RDBStorage(url, engine_kwargs=kwargs)
    storage = RDBStorage(url)
    if url.startswith("sqlite"):
        sqlalchemy.event.listen(storage.engine, "connect", _sqlite_no_sync)
        storage.engine.dispose()  # reconnect so that every connection gets the pragma
    return storage


def _sqlite_no_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def dispose(storage: str | BaseStorage) -> None:
    """Close the connection pool of an RDB storage (possibly wrapped in ``_CachedStorage``)."""
    backend = getattr(storage, "_backend", storage)
    if isinstance(backend, RDBStorage):
        backend.engine.dispose()


@contextlib.contextmanager
def open_storage(kind: str, pg_url: str, pg_db: str) -> Iterator[StorageRef]:
    if kind == "inmemory":
        yield StorageRef(kind, memory=InMemoryStorage())
    elif kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="optuna_srm_bench_") as tmp:
            yield StorageRef(kind, url=f"sqlite:///{Path(tmp) / 'bench.db'}")
    elif kind == "postgresql":
        with scratch_database(pg_url, pg_db) as url:
            yield StorageRef(kind, url=url)
    else:
        raise ValueError(f"unknown storage {kind!r}")


@contextlib.contextmanager
def scratch_database(admin_url: str, name: str) -> Iterator[str]:
    """Create database ``name`` on the server of ``admin_url`` (it must not exist); drop it on
    exit."""
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f"CREATE DATABASE {quoted}"))
    try:
        url = sqlalchemy.make_url(admin_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        except sqlalchemy.exc.SQLAlchemyError as err:
            log(f"could not drop scratch database {name}; drop it by hand ({err})")
        admin.dispose()


# --------------------------------------------------------------------------- measurement


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_pruner(key: str) -> BasePruner:
    if key == "median":
        return optuna.pruners.MedianPruner()
    pruner: BasePruner = import_srm().SRMPruner()
    return pruner


def import_srm() -> Any:
    """Import ``optuna_srm`` lazily, also when run as a script from a source checkout."""
    try:
        import optuna_srm
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import optuna_srm
    return optuna_srm


class Progress:
    """Logs ``[label] what done/total (seconds)`` at most every ``every`` s, and when done."""

    def __init__(self, label: str, every: float = 5.0) -> None:
        self.label = label
        self.every = every
        self.start = self.last = time.perf_counter()

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - self.last >= self.every:
            log(f"  [{self.label}] {what} {done}/{total} ({now - self.start:.1f} s)")
            self.last = now


def populate(
    ref: StorageRef, trials: Sequence[FrozenTrial], label: str, batch: int, hybrid: bool
) -> float:
    """Create the study and add ``trials`` in batches; returns the seconds it took.

    With ``hybrid`` and an RDB storage, ``add_trials`` gets the trials without their curves and
    the curves are bulk-inserted afterwards (see ``insert_intermediate_values``).
    """
    start = time.perf_counter()
    progress = Progress(label)
    storage = ref.writer()
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    bulk = hybrid and isinstance(storage, RDBStorage)
    rows = [without_intermediate_values(t) for t in trials] if bulk else trials
    for begin in range(0, len(rows), batch):
        study.add_trials(rows[begin : begin + batch])
        progress("add_trials", min(begin + batch, len(rows)), len(rows))
    if bulk:
        assert isinstance(storage, RDBStorage)
        insert_intermediate_values(storage, trials, progress)
    dispose(storage)
    return time.perf_counter() - start


def without_intermediate_values(trial: FrozenTrial) -> FrozenTrial:
    return optuna.trial.create_trial(
        params=trial.params,
        distributions=trial.distributions,
        value=trial.value,
        state=trial.state,
    )


def insert_intermediate_values(
    storage: RDBStorage, trials: Sequence[FrozenTrial], progress: Progress
) -> None:
    """Bulk-insert the curves of ``trials`` (added in this order) into Optuna's own table.

    ``RDBStorage`` writes a template trial's intermediate values one ORM query at a time (about
    1-3 ms each here), hours for 5000 x 100 values; one multi-row INSERT per chunk through
    Optuna's model of the table takes seconds and stores the same rows.
    """
    from optuna.storages._rdb import models

    ivm = models.TrialIntermediateValueModel
    study_id = storage.get_study_id_from_name(STUDY_NAME)
    query = sqlalchemy.select(models.TrialModel.number, models.TrialModel.trial_id).where(
        models.TrialModel.study_id == study_id
    )
    with storage.engine.connect() as conn:
        trial_ids = {number: trial_id for number, trial_id in conn.execute(query)}
    if sorted(trial_ids) != list(range(len(trials))):
        raise RuntimeError(f"expected trial numbers 0..{len(trials) - 1} in the new study")
    rows = intermediate_rows(trials, trial_ids, ivm)
    for begin in range(0, len(rows), IV_CHUNK):
        with storage.engine.begin() as conn:
            conn.execute(sqlalchemy.insert(ivm.__table__), rows[begin : begin + IV_CHUNK])
        progress("curves", min(begin + IV_CHUNK, len(rows)), len(rows))


def intermediate_rows(
    trials: Sequence[FrozenTrial], trial_ids: dict[int, int], ivm: Any
) -> list[dict[str, Any]]:
    rows = []
    for number, trial in enumerate(trials):
        for step, value in trial.intermediate_values.items():
            stored, value_type = ivm.intermediate_value_to_stored_repr(value)
            row = {"trial_id": trial_ids[number], "step": step, "intermediate_value": stored}
            rows.append(row | {"intermediate_value_type": value_type})
    return rows


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1e3


class Worker:
    """A fresh worker with one pruner; it times its ``ask``, ``report`` and ``should_prune``."""

    def __init__(self, ref: StorageRef, key: str, seed: int) -> None:
        self.key = key
        start = time.perf_counter()
        self.study = optuna.load_study(
            study_name=STUDY_NAME,
            storage=ref.fresh(),
            sampler=optuna.samplers.RandomSampler(seed=seed),
            pruner=make_pruner(key),
        )
        self.load_ms = ms_since(start)
        self.ask_ms: list[float] = []
        self.report_ms: list[float] = []
        self.check_ms: list[float] = []
        self.decisions = 0
        self.trials: list[optuna.Trial] = []

    def ask(self) -> dict[str, Any]:
        start = time.perf_counter()
        self.trials.append(self.study.ask(DISTRIBUTIONS))
        self.ask_ms.append(ms_since(start))
        return self.trials[-1].params

    def step(self, value: float, step: int) -> None:
        trial = self.trials[-1]
        start = time.perf_counter()
        trial.report(value, step)
        self.report_ms.append(ms_since(start))
        start = time.perf_counter()
        self.decisions += bool(trial.should_prune())  # ignored: the trial goes on
        self.check_ms.append(ms_since(start))

    def close(self) -> tuple[int, int, int]:
        """Mark the new trials FAIL, free the connections; returns ``seen_counts``."""
        for trial in self.trials:
            self.study.tell(trial, state=TrialState.FAIL)
        seen = seen_counts(self.study)
        dispose(self.study._storage)
        return seen


def measure(
    ref: StorageRef, keys: Sequence[str], steps: int, n_trials: int, seed: int
) -> list[Worker]:
    """One fresh worker per pruner, interleaved step by step so that both share the noise.

    Every worker asks the same ``n_trials`` trials (same sampler seed) and reports the same
    curves; the order of the workers alternates from step to step.
    """
    workers = [Worker(ref, key, seed) for key in keys]
    rng = np.random.default_rng([seed, steps, 1])
    for _ in range(n_trials):
        params, *others = [worker.ask() for worker in workers]
        if any(other != params for other in others):
            raise RuntimeError("the workers' samplers disagree on the new trial's params")
        for step, value in enumerate(synthetic_curve(rng, params, steps)):
            for worker in workers if step % 2 == 0 else workers[::-1]:
                worker.step(float(value), step)
    return workers


def seen_counts(study: optuna.Study) -> tuple[int, int, int]:
    """(complete, pruned, intermediate values) the worker read, to check the population."""
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    complete = sum(t.state == TrialState.COMPLETE for t in trials)
    values = sum(len(t.intermediate_values) for t in trials)
    return complete, len(trials) - complete, values


def expected_counts(trials: Sequence[FrozenTrial]) -> tuple[int, int, int]:
    complete = sum(t.state == TrialState.COMPLETE for t in trials)
    values = sum(len(t.intermediate_values) for t in trials)
    return complete, len(trials) - complete, values


def summarize(
    ref: StorageRef, finished: int, steps: int, populate_s: float, worker: Worker
) -> CellResult:
    checks = worker.check_ms
    rest = checks[1:] or checks
    return CellResult(
        storage=ref.kind,
        finished=finished,
        steps=steps,
        pruner=PRUNERS[worker.key],
        populate_s=populate_s,
        load_ms=worker.load_ms,
        ask_ms=worker.ask_ms[0],
        first_check_ms=checks[0],
        median_ms=statistics.median(rest),
        max_ms=max(rest),
        report_ms=statistics.median(worker.report_ms),
        n_checks=len(checks),
        n_prune_decisions=worker.decisions,
    )


def run_cell(args: argparse.Namespace, kind: str, finished: int, steps: int) -> list[CellResult]:
    label = f"{kind} {finished}x{steps}"
    trials = make_finished_trials(args.seed, finished, steps)
    with open_storage(kind, args.pg_url, args.pg_db) as ref:
        populate_s = populate(ref, trials, label, args.batch, args.populate == "hybrid")
        workers = measure(ref, args.pruners, steps, args.trials, args.seed)
        results = [summarize(ref, finished, steps, populate_s, w) for w in workers]
        for worker in workers:
            seen = worker.close()
            if seen != expected_counts(trials):
                raise RuntimeError(
                    f"{label}: worker read {seen} (complete, pruned, values), "
                    f"expected {expected_counts(trials)}"
                )
    set_ratios(results)
    for r in results:
        log(
            f"  [{label}] {r.pruner}: first {r.first_check_ms:.1f} ms, median {r.median_ms:.3f} ms"
        )
    return results


def set_ratios(cell: list[CellResult]) -> None:
    base = next((r.median_ms for r in cell if r.pruner == "MedianPruner"), None)
    for r in cell:
        r.ratio = r.median_ms / base if base else None


# --------------------------------------------------------------------------- output


def markdown_table(results: Sequence[CellResult]) -> str:
    header = (
        "| storage | finished | steps | pruner | ask ms | first check ms | median ms "
        "| max ms (after first) | report ms | ratio to MedianPruner |"
    )
    lines = [header, "|" + "---|" * 10]
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "n/a"
        lines.append(
            f"| {r.storage} | {r.finished} | {r.steps} | {r.pruner} | {r.ask_ms:.1f} "
            f"| {r.first_check_ms:.2f} | {r.median_ms:.3f} | {r.max_ms:.2f} "
            f"| {r.report_ms:.3f} | {ratio} |"
        )
    return "\n".join(lines)


def ratio_verdict(results: Sequence[CellResult]) -> str:
    name = (
        f"Target 1 (SRMPruner median <= {TARGET_RATIO:g}x MedianPruner's, "
        f"{TARGET_STORAGE}, {TARGET_FINISHED} finished)"
    )
    cells = [
        r
        for r in results
        if r.pruner == "SRMPruner"
        and r.storage == TARGET_STORAGE
        and r.finished == TARGET_FINISHED
        and r.ratio is not None
    ]
    if not cells:
        return f"{name}: not evaluated (needs both pruners on that cell)"
    met = all(r.ratio is not None and r.ratio <= TARGET_RATIO for r in cells)
    detail = ", ".join(f"{r.steps} steps {r.ratio:.2f}x" for r in cells)
    return f"{name}: {'met' if met else 'NOT MET'} ({detail})"


def max_verdict(results: Sequence[CellResult]) -> str:
    name = f"Target 2 (no SRMPruner check after the first slower than {TARGET_MAX_S:g} s)"
    cells = [r for r in results if r.pruner == "SRMPruner"]
    if not cells:
        return f"{name}: not evaluated (SRMPruner not measured)"
    worst = max(cells, key=lambda r: r.max_ms)
    first = max(cells, key=lambda r: r.first_check_ms)
    met = worst.max_ms <= TARGET_MAX_S * 1e3
    return (
        f"{name}: {'met' if met else 'NOT MET'} (worst {worst.max_ms:.1f} ms, "
        f"{worst.storage} {worst.finished}x{worst.steps}; first checks reported separately, "
        f"worst {first.first_check_ms:.1f} ms, {first.storage} {first.finished}x{first.steps})"
    )


def write_plot(results: Sequence[CellResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    kinds = list(dict.fromkeys(r.storage for r in results))
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 4), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        series = sorted({(r.pruner, r.steps) for r in results if r.storage == kind})
        for pruner, steps in series:
            pts = sorted(
                (r.finished, r.median_ms)
                for r in results
                if (r.storage, r.pruner, r.steps) == (kind, pruner, steps)
            )
            ax.plot(
                *zip(*pts, strict=True),
                color="C1" if pruner == "SRMPruner" else "C0",
                linestyle="-" if steps == min(r.steps for r in results) else "--",
                marker="o",
                label=f"{pruner}, {steps} steps",
            )
        ax.set(xscale="log", yscale="log", title=kind, xlabel="finished trials")
        finished = sorted({r.finished for r in results})
        ax.set_xticks(finished, [str(n) for n in finished])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 3.0, 5.0)))
        for formatter in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            formatter(FuncFormatter(lambda value, _pos: f"{value:.3g}"))
        ax.set_ylabel("median should_prune latency [ms]")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--storages", nargs="+", choices=STORAGES, default=None)
    p.add_argument("--n-finished", nargs="+", type=int, default=None)
    p.add_argument("--steps", nargs="+", type=int, default=None)
    p.add_argument("--pruners", nargs="+", default=["srm", "median"], help="srm and/or median")
    p.add_argument("--trials", type=int, default=3, help="new trials measured per worker")
    p.add_argument("--batch", type=int, default=250, help="trials per add_trials call")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--populate",
        choices=("hybrid", "add_trials"),
        default="hybrid",
        help="hybrid: RDB curves bulk-inserted; add_trials: everything through add_trials",
    )
    p.add_argument("--quick", action="store_true", help="100 and 1000 finished, 20 steps")
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    p.add_argument(
        "--pg-db",
        default=f"optuna_srm_bench_{os.getpid()}",
        help="scratch database, created per cell and dropped (must not exist)",
    )
    p.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    p.add_argument("--plot", type=Path, default=None, help="write a PNG of the medians")
    args = p.parse_args(argv)
    args.storages = args.storages or list(STORAGES)
    args.n_finished = args.n_finished or ([100, 1000] if args.quick else [100, 1000, 5000])
    args.steps = args.steps or ([20] if args.quick else [20, 100])
    args.pruners = [key for item in args.pruners for key in item.split(",") if key]
    unknown = sorted(set(args.pruners) - set(PRUNERS))
    if unknown:
        p.error(f"unknown pruners {unknown}; choose from {sorted(PRUNERS)}")
    for out in (args.json, getattr(args, "plot", None)):  # their folders, before the run
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
    return args


def check_pruners(keys: Sequence[str]) -> None:
    if "srm" in keys:
        try:
            found = hasattr(import_srm(), "SRMPruner")
        except ImportError as err:
            sys.exit(f"optuna_srm is not importable ({err}); try --pruners median")
        if not found:
            sys.exit("optuna_srm has no SRMPruner yet; try --pruners median")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    check_pruners(args.pruners)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    wall = time.perf_counter()
    warm_up(args.pruners, args.seed)
    results, failed = run_grid(args)
    wall_s = time.perf_counter() - wall
    print(markdown_table(results))
    print()
    for cell in failed:
        print(f"FAILED: {cell} (see stderr)")
    print(ratio_verdict(results))
    print(max_verdict(results))
    print(f"Wall time: {wall_s:.1f} s")
    if args.json:
        meta = {"optuna": optuna.__version__, "wall_s": wall_s, "args": vars(args)}
        payload = {"meta": meta, "results": [asdict(r) for r in results]}
        payload["failed"] = failed
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    if args.plot and results:
        write_plot(results, args.plot)
    if failed:
        sys.exit(1)


def warm_up(keys: Sequence[str], seed: int) -> None:
    """Run every pruner once on a tiny in-memory study, so that one-off costs of the process
    (lazy imports, first calls into compiled libraries) do not land in the first cell."""
    ref = StorageRef("inmemory", memory=InMemoryStorage())
    populate(ref, make_finished_trials(seed, 20, 5), "warm-up", 20, hybrid=False)
    for worker in measure(ref, keys, 5, 1, seed):
        worker.close()


def run_grid(args: argparse.Namespace) -> tuple[list[CellResult], list[str]]:
    """All cells; a cell that raises (e.g. the database server restarts) is logged and skipped."""
    results: list[CellResult] = []
    failed: list[str] = []
    for kind in args.storages:
        for finished in args.n_finished:
            for steps in args.steps:
                log(f"cell {kind} {finished} finished x {steps} steps")
                try:
                    results.extend(run_cell(args, kind, finished, steps))
                except Exception as err:
                    first_line = str(err).splitlines()[0] if str(err) else ""
                    log(f"  cell failed: {type(err).__name__}: {first_line}")
                    failed.append(f"{kind} {finished}x{steps}: {type(err).__name__}")
    return results, failed


if __name__ == "__main__":
    main()
