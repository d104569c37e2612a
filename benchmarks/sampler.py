"""QLearningArchitectureSampler against Optuna's samplers: search quality and sampling latency.

Three modes, one subcommand each; every one prints a markdown table (progress goes to stderr).

``surrogate``: a cheap deterministic stand-in for the accuracy of a CNN
------------------------------------------------------------------------
The search space is ``MetaQNNSpace()`` (the paper's SVHN space, input ``(3, 32, 32)``). The
surrogate scores an architecture by CNN design principles, written down before any sampler was
run on it and never looking at the sampler's Q-learning state (depth, previous layer, size bin):

- receptive field: walking the layers with ``jump = 1``, a convolution of kernel ``k`` adds
  ``(k - 1) * jump`` to the receptive field, a pooling layer ``P(k, s)`` adds ``(k - 1) * jump``
  and multiplies ``jump`` by ``s``. ``coverage = min(1, field / input size)``; a flattening
  output (``FC`` or ``SM`` on a spatial map) mixes all positions, which is worth a third of the
  missing coverage (``coverage + 0.3 (1 - coverage)``). Weight 2.5.
- depth, with diminishing returns: ``1 - exp(-n_conv / 4)``. Weight 1.5.
- size: ``exp(-((log10(params) - 6) / 0.75)^2 / 2)`` with ``params`` from
  ``MetaQNNSpace.count_params``: about a million weights is the sweet spot for 32x32 inputs,
  tiny networks underfit and the huge flattening layers overfit. Weight 1.
- VGG-style blocks, interactions between consecutive layers: +0.5 for a pooling layer after at
  least two convolutions since the last pooling (or the input), -0.5 after a single one;
  filter counts should not shrink: -0.2 per halving from one convolution to the next inside a
  block, -0.4 per halving from the last convolution before a pooling layer to the first after
  it, +0.25 when the first convolution after a pooling layer widens.
- fully connected head: -0.15 per doubling of an FC layer's width above 128, -0.2 for every FC
  layer after the first.
- termination: +0.1 for global average pooling.

The score ``z`` (the weighted sum) is squashed into ``0.1 + 0.85 sigmoid((z - 2.9) / 1.1)``, plus
a deterministic "training noise" of standard deviation 0.01 drawn from a generator seeded by
the CRC-32 of the architecture text, clipped to [0, 1]. The two constants of the squashing were
chosen from random walks only (the walks that ``RandomSampler`` makes through
``suggest_architecture``), so that the median random architecture scores about 0.45 and about
1% score above 0.85; the output reports these fractions for 10000 walks. A VGG-like
``[C(64,3) C(64,3) P(2,2) C(128,3) C(128,3) P(2,2) C(256,3) C(256,3) P(2,2) C(512,3) C(512,3)
GAP]`` scores 0.94.

``cnn``: the real objective
---------------------------
Small CNNs on scikit-learn's bundled digits data (1797 grayscale 8x8 images, 10 classes),
scaled to [0, 1], with a fixed stratified split of 1200 training and 597 validation images
(``random_state=0``). The space is ``MetaQNNSpace(**CNN_SPACE)`` below (printed in the output).
Each trial builds the suggested network with ``optuna_srm.torch.build_model``, trains it with
Adam (``lr = 1e-3``, fixed for every sampler), batch size 64, for ``--epochs`` epochs on one
thread, reports the validation accuracy after every epoch (no pruner) and returns the last one.
The initial weights and the batch order are seeded by the study seed and the trial number.

Both searches run, for every sampler and seed, one in-memory study (maximize) whose objective
is the mode's accuracy of ``suggest_architecture(trial, space)``. The samplers:

- ``qlearning``: ``QLearningArchitectureSampler(space, n_trials=N, seed=seed)`` (its default
  epsilon schedule scaled to the budget ``N``);
- ``qlearning_paper``: the same with the paper's settings, ``epsilon_schedule=
  QLearningArchitectureSampler.PAPER_EPSILON_SCHEDULE, learning_rate=0.01``;
- ``random``: ``RandomSampler(seed=seed)`` (uniform random walks through the space);
- ``tpe``: ``TPESampler(seed=seed)``;
- ``tpe_mv``: ``TPESampler(seed=seed, multivariate=True, group=True)``.

``--samplers`` takes these names, or ``name(key=value, ...)`` with Python literals passed as
keyword arguments on top of the above, e.g. ``"qlearning(learning_rate=0.1)"``.

Per sampler the table gives, over the seeds, the mean and standard deviation of the mean value
of the trials in the last quarter of the budget (the issue's measure: the epsilon-greedy
exploitation is there), the mean best value, the mean of all trials, the number of distinct
architectures proposed (in the whole study and in its last quarter: a sampler that repeats one
architecture scores its value again), the wall time of one study and the part of it spent in
``suggest_architecture`` (the sampler's work). For every Q-learning sampler, one line per
other sampler says whether its last-quarter mean is higher and in how many seeds; the target
line, judged when ``random`` and ``tpe`` both ran, whether it beats both (the issue's target).

``latency``: one ``study.ask()`` plus the architecture suggestion on SQLite
---------------------------------------------------------------------------
For each ``--n-finished`` N a temporary SQLite study of the default space is filled through
``study.add_trials`` with N complete trials whose params are uniform random walks (the same
params, distributions and user attrs as ``suggest_architecture`` writes) valued by the
surrogate. The file is copied for each sampler, so each starts from exactly N finished trials.
A fresh worker (``optuna.load_study`` with the URL: a new storage with an empty cache) then
runs ``--asks`` times ``trial = study.ask(); suggest_architecture(trial, space)`` (timed) and
``study.tell(trial, surrogate)`` (timed apart), so each new trial finishes before the next ask.
The first call is reported on its own: it reads every trial (all samplers) and the Q-learning
sampler learns the whole history. ``qlearning`` is
``QLearningArchitectureSampler(space, n_trials=N + 100, seed=0)``; ``random`` and ``tpe`` are
anchors. Columns: the first call (in brackets the part of it inside the sampler's methods),
the median, 90th percentile and maximum of the other calls, the median time inside the
sampler's ask-side methods (``before_trial``, ``infer_relative_search_space``,
``sample_relative``, ``sample_independent`` and Q-learning's ``plan_architecture``, wrapped on
the instance; it includes the storage reads and writes the sampler makes itself), the mean
number of params an ask suggested (one per layer choice; the rest of the time is mostly
writing them: a commit per param, except with the Q-learning sampler, whose whole
architecture ``suggest_architecture`` stores in one), the median time per param, and the
median ``tell``. The target line checks qlearning's median below 50 ms at
the largest N. The times depend on the disk (every write is a SQLite commit): compare samplers
within one run.

How to run (from the repository root; set ``OPENBLAS_NUM_THREADS=1``)::

    python benchmarks/sampler.py surrogate --json benchmarks/results/sampler_surrogate.json \\
        --plot benchmarks/results/sampler_surrogate.png
    python benchmarks/sampler.py cnn --n-trials 80 --jobs 2 --plot benchmarks/results/cnn.png
    python benchmarks/sampler.py latency --n-finished 100 1000 3000
    python benchmarks/sampler.py surrogate --n-trials 60 --seeds 2    # a quick check
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import sqlalchemy
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial

from optuna_srm import (
    FC,
    GAP,
    Conv,
    Layer,
    MetaQNNSpace,
    Pool,
    QLearningArchitectureSampler,
    format_architecture,
    parse_architecture,
    suggest_architecture,
)
from optuna_srm._keys import ARCHITECTURE, DEPTH, NUM_PARAMS

try:
    from _specs import parse_spec, split_specs
except ImportError:  # imported as ``benchmarks.<module>``
    from benchmarks._specs import parse_spec, split_specs  # type: ignore[no-redef]

SAMPLERS = ("qlearning", "qlearning_paper", "random", "tpe", "tpe_mv")
N_SEEDS = 5
SURROGATE_TRIALS = 300
CNN_TRIALS = 80
CNN_EPOCHS = 8
CNN_BATCH = 64
CNN_LR = 1e-3
CNN_TRAIN = 1200
CNN_VALID = 597  # the rest of the 1797 images
CNN_SPACE: dict[str, Any] = {
    "input_shape": (1, 8, 8),
    "num_classes": 10,
    "max_depth": 6,
    "conv_filters": (8, 16, 32),
    "conv_kernels": (1, 3, 5),
    "pools": ((3, 2), (2, 2)),
    "fc_units": (64, 32),
    "max_fc": 2,
    "fc_max_size": 4,
    "size_bins": (6, 4, 2),
}
LATENCY_FINISHED = (100, 1000, 3000)
LATENCY_ASKS = 30
LATENCY_TARGET_MS = 50.0
RARITY_WALKS = 10000
RARITY_THRESHOLDS = (0.8, 0.85, 0.9)
REFERENCE_ARCHITECTURE = (
    "[C(64,3,1), C(64,3,1), P(2,2), C(128,3,1), C(128,3,1), P(2,2), C(256,3,1), C(256,3,1), "
    "P(2,2), C(512,3,1), C(512,3,1), GAP(10), SM(10)]"
)
STUDY_NAME = "sampler-latency"

# Surrogate weights and squashing (see the module docstring).
W_FIELD, W_DEPTH, W_SIZE = 2.5, 1.5, 1.0
FLATTEN_COVERAGE = 0.3
DEPTH_SCALE = 4.0
SIZE_CENTRE, SIZE_WIDTH = 6.0, 0.75
POOL_AFTER_PAIR, POOL_AFTER_ONE = 0.5, -0.5
SHRINK_IN_BLOCK, SHRINK_ACROSS_POOL, WIDEN_ACROSS_POOL = 0.2, 0.4, 0.25
FC_PER_DOUBLING, FC_BASE_UNITS, FC_EXTRA = 0.15, 128, 0.2
GAP_BONUS = 0.1
SQUASH_LOW, SQUASH_SPAN, SQUASH_CENTRE, SQUASH_SCALE = 0.1, 0.85, 2.9, 1.1
NOISE_STD = 0.01


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Surrogate


def surrogate_terms(space: MetaQNNSpace, layers: Sequence[Layer]) -> dict[str, float]:
    """The ingredients of the surrogate score of ``layers`` (an architecture of ``space``)."""
    size = min(space.input_shape[1:])
    field_, jump = 1, 1
    n_conv = convs_since_pool = 0
    filters: int | None = None  # of the last convolution
    before_pool: int | None = None  # filters of the last convolution before the last pooling
    after_pool = False
    blocks = fc_penalty = 0.0
    n_fc = 0
    core = [layer for layer in layers if isinstance(layer, Conv | Pool | FC | GAP)]
    for layer in core:
        if isinstance(layer, Conv):
            field_ += (layer.kernel - 1) * jump
            n_conv += 1
            convs_since_pool += 1
            if after_pool and before_pool is not None:
                if layer.filters < before_pool:
                    blocks -= SHRINK_ACROSS_POOL * math.log2(before_pool / layer.filters)
                elif layer.filters > before_pool:
                    blocks += WIDEN_ACROSS_POOL
            elif filters is not None and layer.filters < filters:
                blocks -= SHRINK_IN_BLOCK * math.log2(filters / layer.filters)
            filters, after_pool = layer.filters, False
        elif isinstance(layer, Pool):
            field_ += (layer.kernel - 1) * jump
            jump *= layer.stride
            blocks += POOL_AFTER_PAIR if convs_since_pool >= 2 else POOL_AFTER_ONE
            convs_since_pool, before_pool, after_pool = 0, filters, True
        elif isinstance(layer, FC):
            n_fc += 1
            fc_penalty += FC_PER_DOUBLING * max(0.0, math.log2(layer.units / FC_BASE_UNITS))
            fc_penalty += FC_EXTRA if n_fc > 1 else 0.0
    gap = bool(core) and isinstance(core[-1], GAP)
    coverage = min(1.0, field_ / size)
    if not gap:
        coverage += FLATTEN_COVERAGE * (1.0 - coverage)
    log_params = math.log10(space.count_params(layers))
    return {
        "coverage": coverage,
        "depth": 1.0 - math.exp(-n_conv / DEPTH_SCALE),
        "size": math.exp(-0.5 * ((log_params - SIZE_CENTRE) / SIZE_WIDTH) ** 2),
        "blocks": blocks,
        "fc_penalty": fc_penalty,
        "gap": float(gap),
    }


def surrogate_score(space: MetaQNNSpace, layers: Sequence[Layer]) -> float:
    t = surrogate_terms(space, layers)
    return (
        W_FIELD * t["coverage"]
        + W_DEPTH * t["depth"]
        + W_SIZE * t["size"]
        + t["blocks"]
        - t["fc_penalty"]
        + GAP_BONUS * t["gap"]
    )


def surrogate_accuracy(space: MetaQNNSpace, layers: Sequence[Layer]) -> float:
    """Deterministic surrogate accuracy in [0, 1] of ``layers`` (see the module docstring)."""
    z = surrogate_score(space, layers)
    squashed = SQUASH_LOW + SQUASH_SPAN / (1.0 + math.exp(-(z - SQUASH_CENTRE) / SQUASH_SCALE))
    rng = np.random.default_rng(zlib.crc32(format_architecture(layers).encode()))
    return float(min(1.0, max(0.0, squashed + NOISE_STD * rng.standard_normal())))


def random_walk(space: MetaQNNSpace, rng: np.random.Generator) -> list[str]:
    """A uniform random walk through ``space`` (what ``RandomSampler`` proposes)."""
    state, tokens = space.initial_state(), []
    while not state.terminal:
        actions = space.actions(state)
        token = actions[int(rng.integers(len(actions)))]
        tokens.append(token)
        state = space.step(state, token)
    return tokens


def rarity(space: MetaQNNSpace, n_walks: int, seed: int) -> dict[str, Any]:
    """Distribution of the surrogate over ``n_walks`` random walks."""
    rng = np.random.default_rng(seed)
    values = np.array(
        [
            surrogate_accuracy(space, space.with_dropout(random_walk(space, rng)))
            for _ in range(n_walks)
        ]
    )
    return {
        "n_walks": n_walks,
        "median": float(np.median(values)),
        "p99": float(np.quantile(values, 0.99)),
        "max": float(values.max()),
        "above": {str(t): float(np.mean(values > t)) for t in RARITY_THRESHOLDS},
        "reference": surrogate_accuracy(space, parse_architecture(REFERENCE_ARCHITECTURE)),
    }


# ---------------------------------------------------------------------------------------------
# CNN objective


@dataclass(frozen=True)
class DigitsSplit:
    x_train: Any  # torch tensors
    y_train: Any
    x_valid: Any
    y_valid: Any


@functools.cache
def digits_split() -> DigitsSplit:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    x_train, x_valid, y_train, y_valid = train_test_split(
        x, digits.target, train_size=CNN_TRAIN, stratify=digits.target, random_state=0
    )
    return DigitsSplit(
        torch.from_numpy(x_train),
        torch.from_numpy(y_train).long(),
        torch.from_numpy(x_valid),
        torch.from_numpy(y_valid).long(),
    )


def train_cnn(
    layers: Sequence[Layer],
    space: MetaQNNSpace,
    epochs: int,
    seed: int,
    report: Callable[[float, int], None] | None = None,
) -> float:
    """Validation accuracy of ``layers`` trained on the digits split; ``report(acc, epoch)``."""
    import torch

    from optuna_srm.torch import build_model

    torch.set_num_threads(1)
    data = digits_split()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = build_model(layers, space.input_shape, space.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=CNN_LR)
    n = len(data.y_train)
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(n, generator=generator)
        for begin in range(0, n, CNN_BATCH):
            batch = order[begin : begin + CNN_BATCH]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(
                model(data.x_train[batch]), data.y_train[batch]
            )
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            predicted = model(data.x_valid).argmax(dim=1)
        accuracy = float((predicted == data.y_valid).float().mean())
        if report is not None:
            report(accuracy, epoch)
    return accuracy


# ---------------------------------------------------------------------------------------------
# Search runs


def make_sampler(
    spec: str, space: MetaQNNSpace, n_trials: int, seed: int
) -> optuna.samplers.BaseSampler:
    """The sampler of ``spec`` (a name of ``SAMPLERS``, optionally with keyword arguments)."""
    name, parsed = parse_spec(spec)
    if name not in SAMPLERS:
        raise ValueError(f"Unknown sampler {spec!r}: the names are {', '.join(SAMPLERS)}.")
    kwargs = parsed or {}
    if name == "qlearning_paper":
        paper = {"epsilon_schedule": QLearningArchitectureSampler.PAPER_EPSILON_SCHEDULE}
        kwargs = {**paper, "learning_rate": 0.01, **kwargs}
    if is_qlearning(name):
        return QLearningArchitectureSampler(
            space, **{"n_trials": n_trials, "seed": seed, **kwargs}
        )
    if name == "random":
        return optuna.samplers.RandomSampler(**{"seed": seed, **kwargs})
    if name == "tpe":
        return optuna.samplers.TPESampler(**{"seed": seed, **kwargs})
    return optuna.samplers.TPESampler(
        **{"seed": seed, "multivariate": True, "group": True, **kwargs}
    )


def make_space(mode: str) -> MetaQNNSpace:
    return MetaQNNSpace(**CNN_SPACE) if mode == "cnn" else MetaQNNSpace()


@dataclass(frozen=True)
class SearchTask:
    mode: str  # "surrogate" or "cnn"
    sampler: str
    seed: int
    n_trials: int
    epochs: int


@dataclass
class SearchResult:
    mode: str
    sampler: str
    seed: int
    n_trials: int
    values: list[float]
    architectures: list[str]
    wall_s: float
    suggest_s: float
    n_distinct: int = field(init=False)
    n_distinct_last: int = field(init=False)  # distinct architectures in the last quarter
    last_quarter: float = field(init=False)
    best: float = field(init=False)
    mean: float = field(init=False)

    def __post_init__(self) -> None:
        start = self.n_trials - self.n_trials // 4
        self.last_quarter = statistics.fmean(self.values[start:])
        self.best = max(self.values)
        self.mean = statistics.fmean(self.values)
        self.n_distinct = len(set(self.architectures))
        self.n_distinct_last = len(set(self.architectures[start:]))


def run_search(task: SearchTask) -> SearchResult:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    space = make_space(task.mode)
    sampler = make_sampler(task.sampler, space, task.n_trials, task.seed)
    study = optuna.create_study(
        direction="maximize", sampler=sampler, pruner=optuna.pruners.NopPruner()
    )
    suggest_s = 0.0

    def objective(trial: optuna.Trial) -> float:
        nonlocal suggest_s
        start = time.perf_counter()
        layers = suggest_architecture(trial, space)
        suggest_s += time.perf_counter() - start
        if task.mode == "surrogate":
            return surrogate_accuracy(space, layers)
        return train_cnn(
            layers, space, task.epochs, 10007 * task.seed + trial.number, trial.report
        )

    start = time.perf_counter()
    study.optimize(objective, n_trials=task.n_trials)
    wall_s = time.perf_counter() - start
    trials = study.get_trials(deepcopy=False)
    assert all(t.value is not None for t in trials)
    return SearchResult(
        mode=task.mode,
        sampler=task.sampler,
        seed=task.seed,
        n_trials=task.n_trials,
        values=[float(t.value) for t in trials],  # type: ignore[arg-type]
        architectures=[str(t.user_attrs[ARCHITECTURE]) for t in trials],
        wall_s=wall_s,
        suggest_s=suggest_s,
    )


def run_searches(tasks: Sequence[SearchTask], jobs: int) -> list[SearchResult]:
    """All results in the order of ``tasks``; progress goes to stderr."""
    results: dict[int, SearchResult] = {}

    def done(index: int, result: SearchResult) -> None:
        results[index] = result
        log(
            f"[{len(results)}/{len(tasks)}] {result.mode} {result.sampler} seed {result.seed}: "
            f"last quarter {result.last_quarter:.4f}, best {result.best:.4f}, "
            f"{result.wall_s:.1f}s"
        )

    if jobs == 1:
        for index, task in enumerate(tasks):
            done(index, run_search(task))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as executor:
            futures = {executor.submit(run_search, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                done(futures[future], future.result())
    return [results[i] for i in range(len(tasks))]


@dataclass(frozen=True)
class SearchSummary:
    sampler: str
    n_seeds: int
    last_quarter: float
    last_quarter_std: float
    best: float
    mean: float
    distinct: float
    distinct_last: float
    wall_s: float
    suggest_s: float


def summarise_searches(results: Sequence[SearchResult]) -> list[SearchSummary]:
    groups: dict[str, list[SearchResult]] = {}
    for result in results:
        groups.setdefault(result.sampler, []).append(result)
    return [
        SearchSummary(
            sampler=name,
            n_seeds=len(group),
            last_quarter=statistics.fmean(r.last_quarter for r in group),
            last_quarter_std=statistics.stdev(r.last_quarter for r in group)
            if len(group) > 1
            else 0.0,
            best=statistics.fmean(r.best for r in group),
            mean=statistics.fmean(r.mean for r in group),
            distinct=statistics.fmean(r.n_distinct for r in group),
            distinct_last=statistics.fmean(r.n_distinct_last for r in group),
            wall_s=statistics.fmean(r.wall_s for r in group),
            suggest_s=statistics.fmean(r.suggest_s for r in group),
        )
        for name, group in groups.items()
    ]


def search_table(summaries: Sequence[SearchSummary]) -> str:
    header = (
        "| sampler | seeds | last-quarter mean | std over seeds | best | mean of all trials "
        "| distinct architectures (last quarter) | wall s/study | suggest s/study |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {s.sampler} | {s.n_seeds} | {s.last_quarter:.4f} | {s.last_quarter_std:.4f} "
        f"| {s.best:.4f} | {s.mean:.4f} | {s.distinct:.1f} ({s.distinct_last:.1f}) "
        f"| {s.wall_s:.1f} | {s.suggest_s:.2f} |"
        for s in summaries
    ]
    return "\n".join([header, *rows])


def is_qlearning(spec: str) -> bool:
    return spec.startswith("qlearning")


def search_target_lines(results: Sequence[SearchResult]) -> list[str]:
    """Does each Q-learning sampler's last-quarter mean beat every other sampler's? Per seed.

    The target is the issue's: above ``random`` and ``tpe``; the other rivals are shown.
    """
    by = {(r.sampler, r.seed): r.last_quarter for r in results}
    samplers = list(dict.fromkeys(r.sampler for r in results))
    seeds = sorted({r.seed for r in results})
    mean = {s: statistics.fmean(by[s, seed] for seed in seeds) for s in samplers}
    rivals = [s for s in samplers if not is_qlearning(s)]
    lines = []
    for ours in filter(is_qlearning, samplers):
        for other in rivals:
            wins = sum(by[ours, seed] > by[other, seed] for seed in seeds)
            verdict = "beats" if mean[ours] > mean[other] else "does NOT beat"
            lines.append(
                f"{ours} {verdict} {other}: last-quarter mean {mean[ours]:.4f} vs "
                f"{mean[other]:.4f} ({ours} higher in {wins}/{len(seeds)} seeds)"
            )
        if not {"random", "tpe"} <= set(rivals):
            lines.append(f"target ({ours}): not judged, random and tpe must both run")
            continue
        met = all(mean[ours] > mean[other] for other in ("random", "tpe"))
        lines.append(
            f"target ({ours}: last-quarter mean above random's and tpe's): "
            f"{'MET' if met else 'missed'}"
        )
    return lines or ["target: no Q-learning sampler run"]


def running_mean(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(1, len(values) + 1)
    low = np.maximum(0, index - window)
    means: np.ndarray = (cumulative[index] - cumulative[low]) / (index - low)
    return means


def write_search_plot(path: Path, results: Sequence[SearchResult], title: str) -> None:
    """Objective against trial number: trailing mean over a tenth of the budget, seed mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_trials = results[0].n_trials
    window = max(1, n_trials // 10)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name in dict.fromkeys(r.sampler for r in results):
        curves = np.array([running_mean(r.values, window) for r in results if r.sampler == name])
        mean = curves.mean(axis=0)
        x = np.arange(n_trials)
        axes.plot(x, mean, label=name)
        if len(curves) > 1:
            axes.fill_between(x, mean - curves.std(axis=0), mean + curves.std(axis=0), alpha=0.15)
    axes.axvline(n_trials - n_trials // 4, color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("trial number")
    axes.set_ylabel(f"objective, trailing mean of {window} trials (mean over seeds)")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


# ---------------------------------------------------------------------------------------------
# Latency


def walk_trial(space: MetaQNNSpace, tokens: Sequence[str], value: float) -> FrozenTrial:
    """A complete trial with the params, distributions and user attrs of
    ``suggest_architecture`` for the walk ``tokens``."""
    params: dict[str, Any] = {}
    distributions: dict[str, BaseDistribution] = {}
    state = space.initial_state()
    for token in tokens:
        actions = space.actions(state)
        if len(actions) > 1:
            name = space.param_name(state)
            params[name] = token
            distributions[name] = CategoricalDistribution(actions)
        state = space.step(state, token)
    layers = space.with_dropout(tokens)
    features = space.features(layers)
    return optuna.trial.create_trial(
        params=params,
        distributions=distributions,
        value=value,
        user_attrs={
            ARCHITECTURE: format_architecture(layers),
            DEPTH: features["depth"],
            NUM_PARAMS: features["num_params"],
        },
    )


def _sqlite_no_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def populate(url: str, space: MetaQNNSpace, n_finished: int, seed: int) -> float:
    """Create the study at ``url`` with ``n_finished`` random-walk trials; returns seconds."""
    start = time.perf_counter()
    storage = RDBStorage(url)
    sqlalchemy.event.listen(storage.engine, "connect", _sqlite_no_sync)  # population only
    storage.engine.dispose()
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage, direction="maximize")
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_finished):
        tokens = random_walk(space, rng)
        trials.append(
            walk_trial(space, tokens, surrogate_accuracy(space, space.with_dropout(tokens)))
        )
    for begin in range(0, n_finished, 500):
        study.add_trials(trials[begin : begin + 500])
        done = min(begin + 500, n_finished)
        log(f"  populated {done}/{n_finished} ({time.perf_counter() - start:.0f} s)")
    storage.engine.dispose()
    return time.perf_counter() - start


@dataclass(frozen=True)
class LatencyResult:
    n_finished: int
    sampler: str
    first_ms: float
    ask_ms: list[float]  # the calls after the first
    tell_ms: list[float]
    first_tell_ms: float
    n_params: list[int]  # params suggested by each call after the first
    first_sampler_ms: float  # of first_ms, the time inside the sampler's methods
    sampler_ms: list[float]  # the same for the calls after the first

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ask_ms)

    @property
    def p90_ms(self) -> float:
        return float(np.quantile(self.ask_ms, 0.9))

    @property
    def max_ms(self) -> float:
        return max(self.ask_ms)


def measure_latency(
    url: str, space: MetaQNNSpace, sampler_name: str, n_finished: int, asks: int
) -> LatencyResult:
    sampler = make_sampler(sampler_name, space, n_finished + 100, 0)
    clock = time_sampler_methods(sampler)
    study = optuna.load_study(study_name=STUDY_NAME, storage=url, sampler=sampler)
    ask_ms, tell_ms, sampler_ms, n_params = [], [], [], []
    for _ in range(asks):
        clock[0] = 0.0
        start = time.perf_counter()
        trial = study.ask()
        layers = suggest_architecture(trial, space)
        middle = time.perf_counter()
        sampler_ms.append(1000.0 * clock[0])
        study.tell(trial, surrogate_accuracy(space, layers))
        ask_ms.append(1000.0 * (middle - start))
        n_params.append(len(trial.params))
        tell_ms.append(1000.0 * (time.perf_counter() - middle))
    n_complete = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    assert n_complete == n_finished + asks, (n_complete, n_finished, asks)
    backend = getattr(study._storage, "_backend", study._storage)
    if isinstance(backend, RDBStorage):
        backend.engine.dispose()
    return LatencyResult(
        n_finished=n_finished,
        sampler=sampler_name,
        first_ms=ask_ms[0],
        ask_ms=ask_ms[1:],
        tell_ms=tell_ms[1:],
        first_tell_ms=tell_ms[0],
        n_params=n_params[1:],
        first_sampler_ms=sampler_ms[0],
        sampler_ms=sampler_ms[1:],
    )


def time_sampler_methods(sampler: optuna.samplers.BaseSampler) -> list[float]:
    """Make the sampler add the seconds spent in its ask-side methods to the returned cell.

    The methods are wrapped on the instance (``study.ask`` and ``trial.suggest_*`` look them up
    there), so the time includes whatever storage reads the sampler makes itself.
    """
    clock = [0.0]
    for name in (
        "before_trial",
        "infer_relative_search_space",
        "sample_relative",
        "sample_independent",
        "plan_architecture",  # QLearningArchitectureSampler's, for suggest_architecture
    ):
        method = getattr(sampler, name, None)
        if method is None:
            continue

        def timed(*args: Any, _method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                clock[0] += time.perf_counter() - start

        setattr(sampler, name, timed)
    return clock


def run_latency(
    space: MetaQNNSpace, samplers: Sequence[str], grid: Sequence[int], asks: int, seed: int
) -> Iterator[LatencyResult]:
    with tempfile.TemporaryDirectory(prefix="optuna_srm_sampler_") as tmp:
        for n_finished in grid:
            template = Path(tmp) / f"populated_{n_finished}.db"
            log(f"populating {n_finished} finished trials")
            populate(f"sqlite:///{template}", space, n_finished, seed)
            for name in samplers:
                copy = Path(tmp) / f"{name}_{n_finished}.db"
                shutil.copyfile(template, copy)
                result = measure_latency(f"sqlite:///{copy}", space, name, n_finished, asks)
                log(
                    f"  {name}: first {result.first_ms:.0f} ms, median {result.median_ms:.1f} ms, "
                    f"max {result.max_ms:.1f} ms"
                )
                copy.unlink()
                yield result
            template.unlink()


def latency_table(results: Sequence[LatencyResult]) -> str:
    header = (
        "| finished | sampler | first ask+suggest ms (in sampler) | median ms | p90 ms | max ms "
        "| in sampler ms (median) | params/ask | median ms/param | tell ms (median) |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r.n_finished} | {r.sampler} | {r.first_ms:.0f} ({r.first_sampler_ms:.0f}) "
        f"| {r.median_ms:.1f} | {r.p90_ms:.1f} | {r.max_ms:.1f} "
        f"| {statistics.median(r.sampler_ms):.1f} | {statistics.fmean(r.n_params):.1f} "
        f"| {statistics.median(map(_per_param, r.ask_ms, r.n_params)):.2f} "
        f"| {statistics.median(r.tell_ms):.1f} |"
        for r in results
    ]
    return "\n".join([header, *rows])


def _per_param(ms: float, n_params: int) -> float:
    return ms / max(1, n_params)


def latency_target_line(results: Sequence[LatencyResult]) -> str:
    lines = []
    for spec in dict.fromkeys(r.sampler for r in results if is_qlearning(r.sampler)):
        largest = max((r for r in results if r.sampler == spec), key=lambda r: r.n_finished)
        met = largest.median_ms < LATENCY_TARGET_MS
        lines.append(
            f"target ({spec}: median below {LATENCY_TARGET_MS:g} ms at {largest.n_finished} "
            f"finished): {'MET' if met else 'missed'} ({largest.median_ms:.1f} ms)"
        )
    return "\n".join(lines) or "target: no Q-learning sampler run"


# ---------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    for mode, n_trials in (("surrogate", SURROGATE_TRIALS), ("cnn", CNN_TRIALS)):
        sub = modes.add_parser(mode, help=f"search quality on the {mode} objective")
        sub.add_argument("--n-trials", type=int, default=n_trials, help="budget of every study")
        sub.add_argument("--seeds", type=int, default=N_SEEDS, help="number of seeds")
        sub.add_argument("--seed", type=int, default=0, help="the first seed")
        sub.add_argument("--samplers", default=",".join(SAMPLERS), help="comma-separated")
        sub.add_argument("--jobs", type=int, default=2, help="studies run in parallel")
        sub.add_argument("--plot", type=Path, help="write objective vs trial number here")
        if mode == "cnn":
            sub.add_argument("--epochs", type=int, default=CNN_EPOCHS)
        else:
            sub.add_argument("--walks", type=int, default=RARITY_WALKS, help="for the rarity")
    latency = modes.add_parser("latency", help="ask + suggest latency on SQLite")
    latency.add_argument("--n-finished", type=int, nargs="+", default=list(LATENCY_FINISHED))
    latency.add_argument("--asks", type=int, default=LATENCY_ASKS)
    latency.add_argument("--samplers", default="qlearning,random,tpe", help="comma-separated")
    latency.add_argument("--seed", type=int, default=0, help="seed of the populating walks")
    for sub in modes.choices.values():
        sub.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args(argv)
    args.samplers = split_specs(args.samplers)
    try:
        if not args.samplers:
            raise ValueError("--samplers names no sampler.")
        for spec in args.samplers:  # fail here, not in the workers
            make_sampler(spec, make_space(args.mode), 10, 0)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    if args.mode == "latency":
        if min(*args.n_finished, args.asks - 1) < 1:
            parser.error("--n-finished must be positive and --asks at least 2.")
    elif min(args.n_trials - 3, args.seeds, args.jobs) < 1:
        parser.error("--n-trials must be at least 4, --seeds and --jobs positive.")
    for out in (args.json, getattr(args, "plot", None)):  # their folders, before the run
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    args = parse_args(argv)
    config: dict[str, Any] = {
        "command": sys.argv,
        "optuna": optuna.__version__,
        **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    start = time.perf_counter()
    payload: dict[str, Any] = {"config": config}
    if args.mode == "latency":
        space = make_space("latency")
        results = list(run_latency(space, args.samplers, args.n_finished, args.asks, args.seed))
        wall_s = time.perf_counter() - start
        print(f"Space: {space!r}\n")
        print(latency_table(results))
        print()
        print(latency_target_line(results))
        print(f"\n{args.asks} asks per cell in {wall_s:.0f}s (Optuna {optuna.__version__}).")
        payload["results"] = [
            {**asdict(r), "median_ms": r.median_ms, "p90_ms": r.p90_ms} for r in results
        ]
    else:
        space = make_space(args.mode)
        seeds = [args.seed + k for k in range(args.seeds)]
        epochs = getattr(args, "epochs", 0)
        if args.mode == "surrogate":
            stats = rarity(space, args.walks, args.seed)
            payload["rarity"] = stats
            log(f"rarity: {stats}")
        tasks = [
            SearchTask(args.mode, s, seed, args.n_trials, epochs)
            for seed in seeds
            for s in args.samplers
        ]
        search_results = run_searches(tasks, args.jobs)
        wall_s = time.perf_counter() - start
        summaries = summarise_searches(search_results)
        print(f"Space: {space!r}")
        if args.mode == "surrogate":
            above = ", ".join(f"{float(t):.0%}: {v:.2%}" for t, v in stats["above"].items())
            print(
                f"Surrogate over {stats['n_walks']} random walks: median {stats['median']:.3f}, "
                f"99th percentile {stats['p99']:.3f}, max {stats['max']:.3f}; fraction above "
                f"{above}. VGG-like reference: {stats['reference']:.3f}."
            )
        else:
            print(
                f"Digits CNNs: Adam lr {CNN_LR:g}, batch {CNN_BATCH}, {epochs} epochs, "
                f"{CNN_TRAIN} training / {CNN_VALID} validation images."
            )
        print()
        print(search_table(summaries))
        print()
        print("\n".join(search_target_lines(search_results)))
        print(
            f"\n{len(tasks)} studies of {args.n_trials} trials ({len(seeds)} seeds) in "
            f"{wall_s:.0f}s with {args.jobs} jobs (Optuna {optuna.__version__})."
        )
        payload["results"] = [asdict(r) for r in search_results]
        if args.plot:
            write_search_plot(
                args.plot,
                search_results,
                f"{args.mode}: {args.n_trials} trials, {len(seeds)} seeds",
            )
    config["wall_s"] = wall_s
    if args.json:
        args.json.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
