"""How well do sequential regression models predict the final value of a learning curve?

For each curve file, each draw (seed) and each model: pick ``--n-train`` training curves at
random and ``--n-test`` test curves from the rest (all the rest if fewer), fit the model on the
complete training curves, then predict the final value of every test curve from its first
``k = max(1, round(f * T))`` values (halves rounded up) for each fraction ``f`` in
``--fractions``. Reported per fraction, as the median over the draws:

- ``R2``: coefficient of determination of the predicted final values;
- ``tau``: Kendall's tau between predicted and true final values (the ranking matters for
  pruning);
- ``cover90``: fraction of test curves whose final value lies in the nominal 90% interval
  ``mean +/- 1.645 std``;

and ``fit s`` (seconds to fit) and ``ms/pred`` (prediction wall time over all fractions divided
by the number of predicted prefixes). A second table gives, per fraction, the mean and the
worst R2 over the draws and, when ``nusvr_tuned`` ran, in how many draws a model's R2 is above
the tuned nu-SVR's on the same split (a median hides a draw where a model fails badly), and
the median share of the squared error that comes from the ``N_WORST`` worst-predicted test
curves (how much a few curves decide R2).
The per-length baselines fit one model per prefix length; by default only for the evaluated
lengths (``--all-lengths``: for every length, as a pruner would need, which multiplies their
``fit s`` by about (T - 1) / 3). ``srm*`` models are fitted as they come.

Models (``--models``, comma-separated, or ``all``; default: all but ``srm_nu_svr_linear`` and
``srm_random_forest``, which take about 80 s and 5-7 min per fit on 2 cores):

- ``srm``: ``optuna_srm.SequentialRegressionModel(random_state=seed)``, otherwise defaults;
- ``srm_nu_svr_rbf``, ``srm_nu_svr_linear``, ``srm_random_forest``, ``srm_ols``: the paper's
  regressors through the same class, ``SequentialRegressionModel(regressor=NAME)``;
- ``last_value``, ``nusvr_gain``, ``nusvr_tuned``, ``lce``: the baselines of
  ``benchmarks/_baselines.py`` (last observed value; untuned nu-SVR on the gain; tuned nu-SVR on
  the final value; Domhan-style parametric extrapolation, a maximum-likelihood ensemble of
  curve families rather than the paper's MCMC).

``optuna_srm`` is imported lazily; when it (or a regressor name) is not available the ``srm*``
models are skipped with a note on stderr, as is any model whose fit or predict raises.

Data: CSV files in the format of ``../shared/data/accelerating_nas/*.csv``: curve columns
``<prefix><int>`` (``--curve-prefix``, default ``acc_``; sorted by the integer), parameter
columns = every other column except ``--exclude`` (default ``net,training_dataset``); numeric
columns become floats, others categories. Rows with a missing curve value are dropped.

Run from the repository root (the data lives outside the project and is never copied in)::

    python benchmarks/prediction.py ../shared/data/accelerating_nas/metaqnn_svhn.csv \\
        ../shared/data/accelerating_nas/deep_resnets_cifar10.csv
    python benchmarks/prediction.py FILE.csv --models last_value,nusvr_gain --draws 0,1,2 \\
        --plot benchmarks/results/r2.png --json benchmarks/results/prediction.json

The markdown table goes to stdout (to stderr with ``--json -``), progress and notes to stderr.
The default run on both files takes about 7.5 minutes on 2 CPU cores, 4.5 of them in the
parametric fits of ``lce`` (46-126 ms per prediction on 2026-12-03); ``--models all`` adds
about 40 minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy.stats import kendalltau
from sklearn.metrics import r2_score

try:
    from _baselines import Z90, DomhanLCE, LastValue, NuSVRGain, NuSVRTuned
except ImportError:  # imported as ``benchmarks.prediction``
    from benchmarks._baselines import (  # type: ignore[no-redef]
        Z90,
        DomhanLCE,
        LastValue,
        NuSVRGain,
        NuSVRTuned,
    )

ROOT = Path(__file__).resolve().parent.parent


class Model(Protocol):
    def fit(self, curves: Any, params: Any = None, final_values: Any = None) -> Any: ...

    def predict(self, prefixes: Any, params: Any = None) -> tuple[np.ndarray, np.ndarray]: ...


SRM_MODELS = {
    "srm": None,
    "srm_nu_svr_rbf": "nu_svr_rbf",
    "srm_nu_svr_linear": "nu_svr_linear",
    "srm_random_forest": "random_forest",
    "srm_ols": "ols",
}
BASELINES: dict[str, Callable[[int, list[int] | None], Model]] = {
    "last_value": lambda seed, lengths: LastValue(seed, lengths),
    "nusvr_gain": lambda seed, lengths: NuSVRGain(seed, lengths),
    "nusvr_tuned": lambda seed, lengths: NuSVRTuned(seed, lengths),
    "lce": lambda seed, lengths: DomhanLCE(seed, lengths),
}
ALL_MODELS = (*SRM_MODELS, *BASELINES)
# The two slow paper regressors (about 80 s and 5-7 min per fit on 2 cores) only on request.
SLOW_MODELS = ("srm_nu_svr_linear", "srm_random_forest")
DEFAULT_MODELS = tuple(m for m in ALL_MODELS if m not in SLOW_MODELS)
N_WORST = 5


class ModelUnavailable(Exception):
    """The model cannot be built here (``optuna_srm`` missing or incomplete)."""


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Dataset:
    name: str
    curves: np.ndarray  # (n_curves, T)
    params: list[dict[str, float | str]]


def _curve_columns(columns: Sequence[str], prefix: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    matched = [(int(m.group(1)), c) for c in columns if (m := pattern.match(c))]
    return [c for _, c in sorted(matched)]


def _param_records(frame: pd.DataFrame) -> list[dict[str, float | str]]:
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns}
    return [
        {c: float(v) if numeric[c] else str(v) for c, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def load_csv(path: Path, curve_prefix: str, exclude: Sequence[str]) -> Dataset:
    frame = pd.read_csv(path)
    columns = _curve_columns([str(c) for c in frame.columns], curve_prefix)
    if len(columns) < 2:
        raise SystemExit(f"{path}: fewer than two columns named {curve_prefix}<int>")
    complete = frame[columns].notna().all(axis=1)
    if not complete.all():
        note(f"{path.name}: dropped {int((~complete).sum())} rows with missing curve values")
    frame = frame[complete]
    others = [c for c in frame.columns if c not in columns and c not in exclude]
    return Dataset(path.stem, frame[columns].to_numpy(dtype=float), _param_records(frame[others]))


# ---------------------------------------------------------------------------------------------
# Models


def _import_srm() -> Any:
    try:
        import optuna_srm
    except ImportError:
        sys.path.insert(0, str(ROOT))
        try:
            import optuna_srm
        except ImportError as error:
            raise ModelUnavailable(f"optuna_srm is not importable ({error})") from error
    cls = getattr(optuna_srm, "SequentialRegressionModel", None)
    if cls is None:
        raise ModelUnavailable("optuna_srm has no SequentialRegressionModel yet")
    return cls


def make_model(name: str, seed: int, lengths: list[int] | None = None) -> Model:
    """Build model ``name``; ``lengths`` restricts the per-length baselines' fits."""
    if name in BASELINES:
        return BASELINES[name](seed, lengths)
    cls = _import_srm()
    regressor = SRM_MODELS[name]
    try:
        if regressor is None:
            return cls(random_state=seed)  # type: ignore[no-any-return]
        return cls(regressor=regressor, random_state=seed)  # type: ignore[no-any-return]
    except (TypeError, ValueError) as error:
        raise ModelUnavailable(f"SequentialRegressionModel({regressor!r}): {error}") from error


# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class Split:
    seed: int
    train: np.ndarray
    test: np.ndarray


@dataclass
class DrawResult:
    r2: list[float]
    tau: list[float]
    cover90: list[float]
    worst_share: list[float]  # of the squared error, from the N_WORST worst test curves
    fit_s: float
    ms_per_pred: float


@dataclass
class ModelResult:
    data: str
    model: str
    draws: list[DrawResult] = field(default_factory=list)
    note: str = ""


def make_split(n_curves: int, n_train: int, n_test: int, seed: int) -> Split:
    if n_train >= n_curves:
        raise SystemExit(f"--n-train {n_train} leaves no test curves out of {n_curves}")
    order = np.random.default_rng(seed).permutation(n_curves)
    return Split(seed, order[:n_train], order[n_train : n_train + n_test])


def prefix_length(fraction: float, length: int) -> int:
    """``max(1, round(fraction * length))``, rounding halves up (25% of 50 steps is 13)."""
    return max(1, math.floor(fraction * length + 0.5))


def _kendall(y: np.ndarray, pred: np.ndarray) -> float:
    if np.ptp(pred) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(kendalltau(y, pred).statistic)


def _metrics(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> tuple[float, float, float, float]:
    covered = np.abs(y - mean) <= Z90 * np.asarray(std)
    squares = np.sort((y - mean) ** 2)
    share = float(squares[-N_WORST:].sum() / squares.sum()) if squares.sum() > 0 else 0.0
    return float(r2_score(y, mean)), _kendall(y, mean), float(np.mean(covered)), share


def _subset(params: list[dict[str, float | str]], rows: np.ndarray) -> list[dict[str, Any]]:
    return [params[i] for i in rows]


def evaluate(model: Model, data: Dataset, split: Split, fractions: Sequence[float]) -> DrawResult:
    train = data.curves[split.train]
    test = data.curves[split.test]
    test_params = _subset(data.params, split.test)
    start = time.perf_counter()
    model.fit(list(train), _subset(data.params, split.train), train[:, -1])
    fit_s = time.perf_counter() - start
    result = DrawResult([], [], [], [], fit_s, 0.0)
    predict_s = 0.0
    for fraction in fractions:
        k = prefix_length(fraction, data.curves.shape[1])
        start = time.perf_counter()
        mean, std = model.predict(list(test[:, :k]), test_params)
        predict_s += time.perf_counter() - start
        r2, tau, cover, share = _metrics(test[:, -1], np.asarray(mean), np.asarray(std))
        result.r2.append(r2)
        result.tau.append(tau)
        result.cover90.append(cover)
        result.worst_share.append(share)
    result.ms_per_pred = 1e3 * predict_s / (len(test) * len(fractions))
    return result


def run_model(
    name: str, data: Dataset, splits: list[Split], fractions: Sequence[float], all_lengths: bool
) -> ModelResult:
    length = data.curves.shape[1]
    lengths = None if all_lengths else [prefix_length(f, length) for f in fractions]
    result = ModelResult(data.name, name)
    for split in splits:
        try:
            model = make_model(name, split.seed, lengths)
            draw = evaluate(model, data, split, fractions)
        except ModelUnavailable as error:
            result.note = f"skipped: {error}"
            break
        except Exception as error:  # a half-written model must not stop the benchmark
            result.note = f"failed: {type(error).__name__}: {error}"
            break
        result.draws.append(draw)
        timing = f"fit {draw.fit_s:.1f} s, {draw.ms_per_pred:.2f} ms/pred"
        note(f"{data.name} {name} seed={split.seed}: R2 {_fmt_list(draw.r2)}, {timing}")
    if result.note:
        note(f"{data.name} {name}: {result.note}")
    return result


# ---------------------------------------------------------------------------------------------
# Output


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "nan"
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"


def _fmt_list(values: Sequence[float]) -> str:
    return " ".join(_fmt(v) for v in values)


def _median(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.nanmedian(arr)) if np.isfinite(arr).any() else float("nan")


def summary(result: ModelResult) -> dict[str, Any]:
    """Medians over draws: lists per fraction for r2, tau and cover90; scalars for times."""
    draws = result.draws
    per_fraction = {
        key: [_median(v) for v in zip(*(getattr(d, key) for d in draws), strict=True)]
        for key in ("r2", "tau", "cover90")
    }
    return {
        **per_fraction,
        "fit_s": _median([d.fit_s for d in draws]),
        "ms_per_pred": _median([d.ms_per_pred for d in draws]),
    }


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def markdown_table(results: list[ModelResult], fractions: Sequence[float]) -> str:
    heads = [f"{metric}@{_percent(f)}" for metric in ("R2", "tau", "cover90") for f in fractions]
    lines = [
        "| " + " | ".join(["data", "model", *heads, "fit s", "ms/pred"]) + " |",
        "|" + "---|" * (len(heads) + 4),
    ]
    for result in results:
        if not result.draws:
            cells = [result.note] + [""] * (len(heads) + 1)
        else:
            s = summary(result)
            cells = [_fmt(v) for key in ("r2", "tau", "cover90") for v in s[key]]
            cells += [f"{s['fit_s']:.2f}", f"{s['ms_per_pred']:.3f}"]
        lines.append("| " + " | ".join([result.data, result.model, *cells]) + " |")
    return "\n".join(lines)


def draws_table(results: list[ModelResult], fractions: Sequence[float]) -> str:
    """Mean and worst R2 over the draws, the median share of the squared error from the
    ``N_WORST`` worst test curves, and the draws above ``nusvr_tuned``'s on one split."""
    reference = {r.data: r for r in results if r.model == "nusvr_tuned" and r.draws}
    heads = [f"{what} R2@{_percent(f)}" for what in ("mean", "worst") for f in fractions]
    heads += [f"worst-{N_WORST} share@{_percent(f)}" for f in fractions]
    heads += [f"above nusvr_tuned @{_percent(f)}" for f in fractions]
    lines = [
        "| " + " | ".join(["data", "model", *heads]) + " |",
        "|" + "---|" * (len(heads) + 2),
    ]
    for result in (r for r in results if r.draws):
        r2 = np.array([d.r2 for d in result.draws])
        shares = np.median([d.worst_share for d in result.draws], axis=0)
        cells = [_fmt(v) for v in (*np.mean(r2, axis=0), *np.min(r2, axis=0), *shares)]
        ref = reference.get(result.data)
        if ref is None or ref is result or len(ref.draws) != len(result.draws):
            cells += [""] * len(fractions)
        else:
            above = np.sum(r2 > np.array([d.r2 for d in ref.draws]), axis=0)
            cells += [f"{n}/{len(r2)}" for n in above]
        lines.append("| " + " | ".join([result.data, result.model, *cells]) + " |")
    return "\n".join(lines)


def write_json(path: str, results: list[ModelResult], config: dict[str, Any]) -> None:
    payload = {
        "config": config,
        "results": [
            {
                "data": r.data,
                "model": r.model,
                "note": r.note,
                "median": summary(r) if r.draws else None,
                "draws": [vars(d) for d in r.draws],
            }
            for r in results
        ],
    }
    text = json.dumps(payload, indent=2, allow_nan=True)
    if path == "-":
        print(text)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")


def plot(path: str, results: list[ModelResult], fractions: Sequence[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.data for r in results))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    xs = [100 * f for f in fractions]
    for ax, name in zip(axes[0], names, strict=True):
        for result in (r for r in results if r.data == name and r.draws):
            r2 = summary(result)["r2"]
            below = " (below -1)" if max(r2) < -1 else ""
            ax.plot(xs, r2, marker="o", label=result.model + below)
        ax.set_ylim(-1.0, 1.0)
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set(title=name, xlabel="observed part of the curve (%)", ylabel="R^2 (clipped at -1)")
        ax.legend(fontsize="small")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# Command line


def _floats(text: str) -> list[float]:
    return [float(t) for t in text.split(",") if t]


def _ints(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t]


def _models(text: str) -> list[str]:
    if text.strip() == "all":
        return list(ALL_MODELS)
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = sorted(set(names) - set(ALL_MODELS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown models {unknown}; choose from {ALL_MODELS}")
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, help="learning-curve CSV files")
    parser.add_argument(
        "--models",
        type=_models,
        default=list(DEFAULT_MODELS),
        help=f"comma list, or 'all'; from {', '.join(ALL_MODELS)}",
    )
    parser.add_argument("--draws", type=_ints, default=[0, 1, 2], help="seeds, comma list")
    parser.add_argument("--n-train", type=int, default=100)
    parser.add_argument("--n-test", type=int, default=180)
    parser.add_argument("--fractions", type=_floats, default=[0.1, 0.25, 0.5])
    parser.add_argument("--curve-prefix", default="acc_")
    parser.add_argument("--exclude", default="net,training_dataset", help="non-parameter columns")
    parser.add_argument(
        "--all-lengths",
        action="store_true",
        help="fit the per-length baselines for every prefix length, not only the evaluated ones",
    )
    parser.add_argument("--plot", metavar="OUT.png", help="R^2 against fraction, per file")
    parser.add_argument("--json", metavar="OUT.json", help="all results ('-' for stdout)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    exclude = [c.strip() for c in args.exclude.split(",") if c.strip()]
    start = time.perf_counter()
    results: list[ModelResult] = []
    for path in args.files:
        data = load_csv(path, args.curve_prefix, exclude)
        splits = [make_split(len(data.curves), args.n_train, args.n_test, s) for s in args.draws]
        note(f"{data.name}: {data.curves.shape[0]} curves of length {data.curves.shape[1]}")
        results += [
            run_model(name, data, splits, args.fractions, args.all_lengths) for name in args.models
        ]
    # With ``--json -`` stdout carries only the JSON; the table then goes to stderr.
    out = sys.stderr if args.json == "-" else None
    print(markdown_table(results, args.fractions), file=out)
    print(file=out)
    print(draws_table(results, args.fractions), file=out)
    note(f"total {time.perf_counter() - start:.0f} s")
    if args.plot:
        plot(args.plot, results, args.fractions)
    if args.json:
        config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        config["files"] = [str(f) for f in args.files]
        write_json(args.json, results, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
