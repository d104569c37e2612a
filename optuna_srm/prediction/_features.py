"""Feature extraction for sequential regression models: plain numpy, no Optuna."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from optuna_srm._validation import is_number

ParamValue = float | int | str | bool | None

# Positions (as fractions of the prefix) sampled as features beside the last values.
_QUANTILE_POSITIONS = (0.0, 0.25, 0.5, 0.75)
N_CURVE_FEATURES = len(_QUANTILE_POSITIONS) + 9


def clean_curve(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return ``values`` as a float array with non-finite entries filled from their neighbours.

    NaN and infinite values count as missing: each takes the last finite value before it, and
    leading missing values take the first finite one. A curve with no finite value comes back
    empty.
    """
    arr = np.asarray(values, dtype=float).ravel()
    finite = np.isfinite(arr)
    if not finite.any():
        return np.empty(0)
    if finite.all():
        return arr
    index = np.where(finite, np.arange(arr.size), 0)
    np.maximum.accumulate(index, out=index)
    first = int(np.argmax(finite))
    index[:first] = first
    return arr[index]


def curve_features(prefix: np.ndarray) -> np.ndarray:
    """Fixed-size description of a (clean, non-empty) partial learning curve.

    The paper feeds the whole prefix and its first and second differences; a fixed-size summary
    (values at fixed fractions of the prefix, the last values, the extremes and the recent
    differences) keeps one model usable for prefixes of neighbouring lengths.
    """
    k = prefix.size
    last = prefix[-1]
    sampled = [prefix[min(k - 1, round(q * (k - 1)))] for q in _QUANTILE_POSITIONS]
    d1 = np.diff(prefix[-4:]) if k > 1 else np.zeros(1)
    d2 = np.diff(prefix[-5:], n=2) if k > 2 else np.zeros(1)
    recent = prefix[-3:]
    return np.array(
        [
            *sampled,
            last,
            recent.mean(),
            prefix.max(),
            prefix.min(),
            d1[-1],
            d1.mean(),
            d2[-1],
            d2.mean(),
            (last - prefix[0]) / max(k - 1, 1),
        ]
    )


class ParamEncoder:
    """Turn dicts of hyperparameters into a numeric matrix.

    Booleans become 0/1, numbers stay numbers (log10 when every value is positive and they
    span more than a factor of 100, or when the name is in ``log_names``), anything else is
    one-hot encoded over the categories seen at least ``min_count`` times in ``fit`` (a rarer
    or unseen category sets none of the columns). Missing entries become NaN and are
    later replaced by the training mean.
    """

    def __init__(self, log_names: frozenset[str] = frozenset(), *, min_count: int = 1) -> None:
        self.log_names = log_names
        self.min_count = min_count

    def fit(self, params: Sequence[Mapping[str, ParamValue]]) -> ParamEncoder:
        names = sorted({name for p in params for name in p})
        self.numeric_: dict[str, bool] = {}
        self.categories_: dict[str, list[str]] = {}
        for name in names:
            values = [p[name] for p in params if name in p]
            # Beside numbers or booleans only, None is a missing value; among other choices,
            # a category of its own.
            present = [v for v in values if v is not None]
            if all(isinstance(v, bool | np.bool_) for v in present):
                self.numeric_[name] = False
            elif all(is_number(v) for v in present):
                arr = np.asarray(present, dtype=float)
                arr = arr[np.isfinite(arr)]
                wide = arr.size > 0 and arr.min() > 0 and arr.max() > 100 * arr.min()
                self.numeric_[name] = bool(name in self.log_names or wide)
            else:
                counts = Counter(_category(v) for v in values)
                kept = (c for c, n in counts.items() if n >= self.min_count)
                self.categories_[name] = sorted(kept)
        return self

    @property
    def n_features(self) -> int:
        return len(self.numeric_) + sum(len(c) for c in self.categories_.values())

    def transform(self, params: Sequence[Mapping[str, ParamValue]]) -> np.ndarray:
        out = np.full((len(params), self.n_features), np.nan)
        for row, p in enumerate(params):
            col = 0
            for name, log in self.numeric_.items():
                value = p.get(name)
                if is_number(value) or isinstance(value, bool | np.bool_):
                    number = float(value)  # type: ignore[arg-type]
                    if log:
                        number = math.log10(number) if number > 0 else math.nan
                    out[row, col] = number
                col += 1
            for name, categories in self.categories_.items():
                if name in p:
                    out[row, col : col + len(categories)] = 0.0
                    label = _category(p[name])
                    if label in categories:
                        out[row, col + categories.index(label)] = 1.0
                col += len(categories)
        return out


def _category(value: object) -> str:
    """The label of a categorical value: a string stands for itself, any other value is written
    with its type, so that ``1``, ``"1"`` and ``True``, or ``None`` and ``"None"``, stay apart."""
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
