"""Record real learning curves of scikit-learn MLPs on datasets bundled with scikit-learn.

The pruning benchmarks replay learning curves instead of training networks. The curves in
``benchmarks/data/mlp_*.csv`` were recorded by this script: it samples multilayer
perceptron configurations at random, trains each one epoch at a time with
``MLPClassifier.partial_fit`` and records, after every epoch, the accuracy and the log-loss on a
held-out validation split. Nothing is downloaded: the datasets ship with scikit-learn
(``load_digits``: 1797 8x8 images of handwritten digits, 10 classes; ``load_breast_cancer``:
569 tumours, 30 features, 2 classes; ``load_wine``: 178 wines, 13 features, 3 classes).

Search space (sampled independently per configuration with a seeded ``numpy.random.Generator``):

==================== ===========================================================
hidden layers        1 to 3 layers, each 8 to 256 units (log-uniform)
learning_rate_init   1e-4 to 1 (log-uniform)
alpha (L2 penalty)   1e-6 to 1e-1 (log-uniform)
batch_size           16, 32, 64, 128 or 256
activation           relu, tanh or logistic
solver               sgd (with momentum 0.5 to 0.99, Nesterov) or adam
==================== ===========================================================

The ranges are wide on purpose: some networks diverge or stay at chance level, some learn
slowly, some reach their best accuracy early and then get worse, so curves cross and a
prediction from the first epochs is not trivial. A network whose weights become non-finite is
scored from then on as a constant predictor: the validation accuracy of always predicting the
majority class and the log-loss ``LOSS_CAP``. Log-loss values are clipped to ``LOSS_CAP``.

Output, in the format of the Accelerating-NAS curve files (parameter columns, then one column
per epoch), for ``--dataset NAME``:

- ``mlp_NAME.csv``: ``acc_1 .. acc_T``, validation accuracy (maximize);
- ``mlp_NAME_loss.csv``: the same runs, ``loss_1 .. loss_T``, validation log-loss (minimize).

Parameter columns: ``hidden_layer_sizes`` (units per layer joined by ``-``, e.g. ``64-32``),
``n_layers``, ``num_params`` (weights and biases), ``learning_rate_init``, ``alpha``,
``batch_size``, ``activation``, ``solver``, ``momentum`` (``0.0`` for adam, which ignores it).

Usage::

    python benchmarks/record_curves.py                      # digits, 400 configs, 30 epochs
    python benchmarks/record_curves.py --dataset breast_cancer --n-configs 200 --epochs 20

Runs are reproducible for a given ``--seed``; configuration ``i`` depends only on the seed and
``i``, so a smaller ``--n-configs`` records a prefix of the same runs. The default digits run
takes about 5 minutes on 2 CPU cores (``--n-jobs 2``). It prints a markdown summary: quantiles
of the final values, how often curves cross, and Kendall's tau between the ranking of the
configurations at early epochs and their final ranking.
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

DATASETS: dict[str, Callable[..., Any]] = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
}
VALIDATION_FRACTION = 1 / 3
LOSS_CAP = 10.0
DECIMALS = 5
BATCH_SIZES = (16, 32, 64, 128, 256)
ACTIVATIONS = ("relu", "tanh", "logistic")
SOLVERS = ("sgd", "adam")
PARAM_COLUMNS = (
    "hidden_layer_sizes",
    "n_layers",
    "num_params",
    "learning_rate_init",
    "alpha",
    "batch_size",
    "activation",
    "solver",
    "momentum",
)


@dataclass(frozen=True)
class Split:
    """A standardised train/validation split of one bundled dataset."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    classes: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def chance_accuracy(self) -> float:
        """Validation accuracy of always predicting the most frequent training class."""
        values, counts = np.unique(self.y_train, return_counts=True)
        return float(np.mean(self.y_val == values[np.argmax(counts)]))


@functools.lru_cache(maxsize=4)
def load_split(dataset: str, seed: int) -> Split:
    """Load a bundled dataset and split it (stratified) into standardised train and validation."""
    X, y = DATASETS[dataset](return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return Split(
        X_train=scaler.transform(X_train),
        y_train=np.asarray(y_train),
        X_val=scaler.transform(X_val),
        y_val=np.asarray(y_val),
        classes=np.unique(y),
    )


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def sample_config(rng: np.random.Generator) -> dict[str, Any]:
    """Draw one MLP configuration from the search space described in the module docstring."""
    n_layers = int(rng.integers(1, 4))
    widths = [round(_log_uniform(rng, 8, 256)) for _ in range(n_layers)]
    solver = str(rng.choice(SOLVERS))
    momentum = 1.0 - _log_uniform(rng, 0.01, 0.5) if solver == "sgd" else 0.0
    return {
        "hidden_layer_sizes": tuple(widths),
        "learning_rate_init": _log_uniform(rng, 1e-4, 1.0),
        "alpha": _log_uniform(rng, 1e-6, 1e-1),
        "batch_size": int(rng.choice(BATCH_SIZES)),
        "activation": str(rng.choice(ACTIVATIONS)),
        "solver": solver,
        "momentum": momentum,
    }


def count_params(hidden_layer_sizes: Sequence[int], n_features: int, n_classes: int) -> int:
    """Number of weights and biases of an MLPClassifier (one output unit for two classes)."""
    n_out = 1 if n_classes == 2 else n_classes
    units = [n_features, *hidden_layer_sizes, n_out]
    return sum((n_in + 1) * n_next for n_in, n_next in itertools.pairwise(units))


def _validation_log_loss(proba: np.ndarray, y: np.ndarray, classes: np.ndarray) -> float:
    p_true = proba[np.arange(len(y)), np.searchsorted(classes, y)]
    loss = float(-np.mean(np.log(np.clip(p_true, 1e-300, 1.0))))
    return min(loss, LOSS_CAP) if math.isfinite(loss) else LOSS_CAP


def train_curve(
    config: dict[str, Any], split: Split, epochs: int, rng: np.random.Generator
) -> tuple[list[float], list[float]]:
    """Train one configuration for ``epochs`` epochs; return validation accuracy and log-loss.

    The training set is reshuffled every epoch with ``rng`` (``partial_fit`` itself would reuse
    the same permutation when given an integer ``random_state``).
    """
    model = MLPClassifier(
        hidden_layer_sizes=config["hidden_layer_sizes"],
        activation=config["activation"],
        solver=config["solver"],
        alpha=config["alpha"],
        batch_size=config["batch_size"],
        learning_rate_init=config["learning_rate_init"],
        momentum=config["momentum"],
        shuffle=False,
        random_state=int(rng.integers(2**31 - 1)),
    )
    accuracies: list[float] = []
    losses: list[float] = []
    diverged = False
    n_train = len(split.y_train)
    for _ in range(epochs):
        if not diverged:
            order = rng.permutation(n_train)
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.partial_fit(
                        split.X_train[order], split.y_train[order], classes=split.classes
                    )
                    proba = model.predict_proba(split.X_val)
                diverged = not np.all(np.isfinite(proba))
            except ValueError:  # "Solver produced non-finite parameter weights"
                diverged = True
        if diverged:
            accuracies.append(split.chance_accuracy)
            losses.append(LOSS_CAP)
            continue
        predicted = split.classes[np.argmax(proba, axis=1)]
        accuracies.append(float(np.mean(predicted == split.y_val)))
        losses.append(_validation_log_loss(proba, split.y_val, split.classes))
    return accuracies, losses


def _record_one(
    task: tuple[dict[str, Any], np.random.SeedSequence, str, int, int],
) -> tuple[list[float], list[float]]:
    config, seed_seq, dataset, split_seed, epochs = task
    with threadpool_limits(limits=1):
        split = load_split(dataset, split_seed)
        return train_curve(config, split, epochs, np.random.default_rng(seed_seq))


def record(
    dataset: str, n_configs: int, epochs: int, seed: int, n_jobs: int
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Sample ``n_configs`` configurations and train them; return configs, accuracies, losses."""
    children = np.random.SeedSequence(seed).spawn(n_configs)
    configs: list[dict[str, Any]] = []
    tasks = []
    for child in children:
        config_seq, train_seq = child.spawn(2)
        config = sample_config(np.random.default_rng(config_seq))
        configs.append(config)
        tasks.append((config, train_seq, dataset, seed, epochs))
    if n_jobs == 1:
        results = [_record_one(task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=n_jobs) as executor:
            results = list(executor.map(_record_one, tasks, chunksize=1))
    accuracies = np.round(np.array([acc for acc, _ in results]), DECIMALS)
    losses = np.round(np.array([loss for _, loss in results]), DECIMALS)
    return configs, accuracies, losses


def _param_row(config: dict[str, Any], split: Split) -> list[Any]:
    sizes = config["hidden_layer_sizes"]
    return [
        "-".join(str(width) for width in sizes),
        len(sizes),
        count_params(sizes, split.n_features, len(split.classes)),
        f"{config['learning_rate_init']:.6g}",
        f"{config['alpha']:.6g}",
        config["batch_size"],
        config["activation"],
        config["solver"],
        f"{config['momentum']:.6g}",
    ]


def write_curves(
    path: Path, prefix: str, configs: list[dict[str, Any]], curves: np.ndarray, split: Split
) -> None:
    """Write one CSV: parameter columns, then ``{prefix}_1 .. {prefix}_T``."""
    epochs = curves.shape[1]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*PARAM_COLUMNS, *(f"{prefix}_{t}" for t in range(1, epochs + 1))])
        for config, curve in zip(configs, curves, strict=True):
            values = [f"{round(float(v), DECIMALS):g}" for v in curve]
            writer.writerow([*_param_row(config, split), *values])


def _crossing_fraction(early: np.ndarray, final: np.ndarray) -> float:
    """Fraction of pairs of curves strictly ordered one way early and the other way at the end."""
    diff_early = early[:, None] - early[None, :]
    diff_final = final[:, None] - final[None, :]
    n = len(early)
    return float(np.sum(diff_early * diff_final < 0) / (n * (n - 1)))


def _rank_changed_fraction(early: np.ndarray, final: np.ndarray) -> float:
    """Fraction of curves whose rank (ties share the best rank) differs early and at the end."""
    rank_early = np.sum(early[None, :] > early[:, None], axis=1)
    rank_final = np.sum(final[None, :] > final[:, None], axis=1)
    return float(np.mean(rank_early != rank_final))


def _top_recall(early: np.ndarray, final: np.ndarray, fraction: float = 0.1) -> float:
    """Fraction of the final top ``fraction`` of curves that are also in the top early on."""
    n_top = max(1, round(fraction * len(final)))
    top_early = set(np.argsort(-early, kind="stable")[:n_top].tolist())
    top_final = set(np.argsort(-final, kind="stable")[:n_top].tolist())
    return len(top_early & top_final) / n_top


def summarize(
    dataset: str, accuracies: np.ndarray, losses: np.ndarray, chance: float, seconds: float
) -> str:
    """Markdown summary of the recorded curves."""
    n, epochs = accuracies.shape
    quantiles = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    lines = [
        f"## MLP learning curves on `{dataset}`: {n} configurations x {epochs} epochs "
        f"({seconds:.0f} s)",
        "",
        "| final value | " + " | ".join(f"q{int(q * 100)}" for q in quantiles) + " |",
        "|---|" + "---:|" * len(quantiles),
    ]
    for name, curves in (("val accuracy", accuracies), ("val log-loss", losses)):
        values = np.quantile(curves[:, -1], quantiles)
        lines.append(f"| {name} | " + " | ".join(f"{v:.4f}" for v in values) + " |")
    final_acc = accuracies[:, -1]
    at_chance = np.mean(final_acc <= chance + 0.05)
    overfit = np.mean(accuracies.max(axis=1) - final_acc >= 0.02)
    loss_up = np.mean(losses[:, -1] - losses.min(axis=1) >= 0.1)
    slow = np.mean((accuracies[:, min(2, epochs - 1)] < 0.5) & (final_acc >= 0.8))
    lines += [
        "",
        f"- at chance at the end (accuracy <= {chance:.3f} + 0.05): {at_chance:.1%}",
        f"- slow learners (accuracy < 0.5 at epoch 3, >= 0.8 at the end): {slow:.1%}",
        f"- best accuracy >= final + 0.02 (overfit or unstable): {overfit:.1%}",
        f"- final log-loss >= its minimum + 0.1: {loss_up:.1%}",
        "",
        "| epoch k | Kendall tau (acc_k, final) | crossing pairs | curves whose rank changes "
        "| final top 10% in top 10% at k |",
        "|---:|---:|---:|---:|---:|",
    ]
    for k in sorted({1, 3, 5, 10, epochs // 2, epochs - 1} & set(range(1, epochs))):
        early = accuracies[:, k - 1]
        tau = kendalltau(early, final_acc).statistic
        crossing = _crossing_fraction(early, final_acc)
        changed = _rank_changed_fraction(early, final_acc)
        recall = _top_recall(early, final_acc)
        lines.append(f"| {k} | {tau:.3f} | {crossing:.1%} | {changed:.1%} | {recall:.1%} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    parser.add_argument("--n-configs", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "data")
    args = parser.parse_args(argv)
    for name in ("n_configs", "epochs", "n_jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")

    start = time.perf_counter()
    configs, accuracies, losses = record(
        args.dataset, args.n_configs, args.epochs, args.seed, args.n_jobs
    )
    seconds = time.perf_counter() - start
    split = load_split(args.dataset, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    acc_path = args.out_dir / f"mlp_{args.dataset}.csv"
    loss_path = args.out_dir / f"mlp_{args.dataset}_loss.csv"
    write_curves(acc_path, "acc", configs, accuracies, split)
    write_curves(loss_path, "loss", configs, losses, split)
    print(summarize(args.dataset, accuracies, losses, split.chance_accuracy, seconds))
    print(f"\nwrote {acc_path} and {loss_path}")


if __name__ == "__main__":
    main()
