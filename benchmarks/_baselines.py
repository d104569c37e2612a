"""Baseline final-value predictors for ``benchmarks/prediction.py``.

Every baseline has the interface of ``optuna_srm.SequentialRegressionModel``::

    model.fit(curves, params=None, final_values=None)  # returns self
    mean, std = model.predict(prefixes, params=None)   # arrays of shape (len(prefixes),)

and is deliberately independent of ``optuna_srm`` so that it stays a fixed point of comparison.

- :class:`LastValue`: the prediction is the last observed value; the std is the std of
  ``final - y_tau`` over the training curves at that prefix length ``tau``.
- :class:`NuSVRGain`: untuned nu-SVR (RBF, ``C=1``, ``nu=0.5``) per prefix length on
  standardised features, predicting the gain ``y_T - y_tau``; std of 5-fold CV residuals.
- :class:`NuSVRTuned`: the same features predicting ``y_T`` itself, with ``C``, ``nu`` and
  ``gamma`` chosen per prefix length by a seeded randomized search (3-fold CV, 20 draws); std
  of 3-fold CV residuals of the chosen model.
- :class:`DomhanLCE`: a simplified parametric learning-curve extrapolation after Domhan et al.
  (2015); see its docstring.

Features of the per-length models: the parameters (numbers as floats, log10 when every value is
positive and they span more than a factor of 100; booleans as 0/1; anything else one-hot), the
observed values ``y_1 .. y_tau`` and the last 3 first and last 3 second differences (zero-padded
on the left when the prefix is too short to have them).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.stats import loguniform, uniform
from sklearn.model_selection import KFold, RandomizedSearchCV, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import NuSVR

Params = Sequence[Mapping[str, Any]]
Curves = Sequence[Sequence[float] | np.ndarray]
Prediction = tuple[np.ndarray, np.ndarray]

Z90 = 1.645


# ---------------------------------------------------------------------------------------------
# Features


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating)


class ParamEncoder:
    """Numeric matrix from dicts of parameters (see the module docstring for the rules).

    Missing or unusable numeric values are filled with the training mean of their column;
    unseen categories encode as all zeros.
    """

    def fit(self, params: Params) -> ParamEncoder:
        names = sorted({name for p in params for name in p})
        self.log_: dict[str, bool] = {}
        self.categories_: dict[str, list[str]] = {}
        for name in names:
            values = [p[name] for p in params if name in p]
            if all(_is_number(v) for v in values):
                arr = np.asarray(values, dtype=float)
                arr = arr[np.isfinite(arr)]
                wide = arr.size > 0 and arr.min() > 0 and arr.max() > 100 * arr.min()
                self.log_[name] = bool(wide)
            else:
                self.categories_[name] = sorted({str(v) for v in values})
        raw = self._numeric(params)
        means = np.nanmean(np.where(np.isfinite(raw), raw, np.nan), axis=0) if raw.size else raw
        self.fill_ = np.nan_to_num(np.atleast_1d(means), nan=0.0)
        return self

    def transform(self, params: Params) -> np.ndarray:
        numeric = self._numeric(params)
        numeric = np.where(np.isfinite(numeric), numeric, self.fill_)
        return np.hstack([numeric, self._onehot(params)])

    def _numeric(self, params: Params) -> np.ndarray:
        out = np.full((len(params), len(self.log_)), np.nan)
        for col, (name, log) in enumerate(self.log_.items()):
            for row, p in enumerate(params):
                value = p.get(name)
                if _is_number(value):
                    number = float(value)  # type: ignore[arg-type]
                    out[row, col] = (
                        (math.log10(number) if number > 0 else np.nan) if log else number
                    )
        return out

    def _onehot(self, params: Params) -> np.ndarray:
        blocks = []
        for name, categories in self.categories_.items():
            labels = [str(p.get(name)) for p in params]
            blocks.append(np.array([[float(lab == c) for c in categories] for lab in labels]))
        return np.hstack(blocks) if blocks else np.empty((len(params), 0))


def _last3(diffs: np.ndarray) -> np.ndarray:
    tail = diffs[:, -3:]
    pad = np.zeros((diffs.shape[0], 3 - tail.shape[1]))
    return np.hstack([pad, tail])


def curve_features(prefixes: np.ndarray) -> np.ndarray:
    """``[y_1..y_tau, last 3 first differences, last 3 second differences]`` per row."""
    d1 = np.diff(prefixes, axis=1)
    d2 = np.diff(prefixes, n=2, axis=1)
    return np.hstack([prefixes, _last3(d1), _last3(d2)])


# ---------------------------------------------------------------------------------------------
# Per-prefix-length models


def _as_arrays(curves: Curves) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float).ravel() for c in curves]


def _finals(curves: list[np.ndarray], final_values: Sequence[float] | None) -> np.ndarray:
    if final_values is None:
        return np.array([c[-1] for c in curves])
    return np.asarray(final_values, dtype=float)


class PerLengthModel:
    """Base class: one model per observed prefix length ``tau`` (``1 <= tau < T``).

    ``lengths`` restricts the fit to those prefix lengths (default: every length). A prefix is
    predicted by the model of the longest fitted length not above its own length, cut to that
    length (the shortest fitted length when it is shorter than all of them). Subclasses
    implement :meth:`_fit_length` and :meth:`_predict_length`.
    """

    min_curves = 6

    def __init__(
        self, random_state: int | None = None, lengths: Sequence[int] | None = None
    ) -> None:
        self.random_state = random_state
        self.lengths = lengths

    def fit(
        self,
        curves: Curves,
        params: Params | None = None,
        final_values: Sequence[float] | None = None,
    ) -> PerLengthModel:
        ys = _as_arrays(curves)
        finals = _finals(ys, final_values)
        self.encoder_ = ParamEncoder().fit(params) if params is not None else None
        encoded = self._encode(params, len(ys))
        self.models_: dict[int, Any] = {}
        for tau in self._lengths_to_fit(max(c.size for c in ys)):
            rows = [i for i, c in enumerate(ys) if c.size > tau]
            if len(rows) < self.min_curves:
                continue
            prefixes = np.array([ys[i][:tau] for i in rows])
            seed = self._seed(tau)
            self.models_[tau] = self._fit_length(encoded[rows], prefixes, finals[rows], seed)
        if not self.models_:
            raise ValueError(f"need at least {self.min_curves} curves longer than one step")
        return self

    def predict(self, prefixes: Curves, params: Params | None = None) -> Prediction:
        ys = _as_arrays(prefixes)
        encoded = self._encode(params, len(ys))
        lengths = np.array([self._length(c.size) for c in ys])
        mean = np.empty(len(ys))
        std = np.empty(len(ys))
        for tau in np.unique(lengths):
            rows = np.flatnonzero(lengths == tau)
            block = np.array([ys[i][:tau] for i in rows])
            mean[rows], std[rows] = self._predict_length(
                self.models_[int(tau)], encoded[rows], block
            )
        return mean, std

    def _lengths_to_fit(self, longest: int) -> list[int]:
        if self.lengths is None:
            return list(range(1, longest))
        return sorted({tau for tau in self.lengths if 1 <= tau < longest})

    def _seed(self, tau: int) -> int:
        """Seed of the model for length ``tau``: the same whichever other lengths are fitted."""
        entropy = None if self.random_state is None else [self.random_state, tau]
        return int(np.random.default_rng(entropy).integers(2**31 - 1))

    def _length(self, k: int) -> int:
        fitted = [tau for tau in self.models_ if tau <= k]
        return max(fitted) if fitted else min(self.models_)

    def _encode(self, params: Params | None, n: int) -> np.ndarray:
        if self.encoder_ is None or params is None:
            return np.empty((n, 0))
        return self.encoder_.transform(params)

    def _fit_length(
        self, params: np.ndarray, prefixes: np.ndarray, finals: np.ndarray, seed: int
    ) -> Any:
        raise NotImplementedError

    def _predict_length(self, state: Any, params: np.ndarray, prefixes: np.ndarray) -> Prediction:
        raise NotImplementedError


class LastValue(PerLengthModel):
    """Prediction = last observed value; std = std of ``final - y_tau`` in the training set."""

    def _fit_length(
        self, params: np.ndarray, prefixes: np.ndarray, finals: np.ndarray, seed: int
    ) -> float:
        return float(np.std(finals - prefixes[:, -1]))

    def _predict_length(self, state: Any, params: np.ndarray, prefixes: np.ndarray) -> Prediction:
        last = prefixes[:, -1]
        return last.copy(), np.full(last.size, float(state))


@dataclass
class _Fitted:
    model: Pipeline
    std: float


def _cv_std(model: Any, x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> float:
    cv = KFold(n_splits=min(folds, len(y)), shuffle=True, random_state=seed)
    return float(np.std(y - cross_val_predict(model, x, y, cv=cv)))


class NuSVRGain(PerLengthModel):
    """Untuned nu-SVR (RBF, C=1, nu=0.5) on standardised features predicting ``y_T - y_tau``."""

    def _fit_length(
        self, params: np.ndarray, prefixes: np.ndarray, finals: np.ndarray, seed: int
    ) -> _Fitted:
        x = np.hstack([params, curve_features(prefixes)])
        gain = finals - prefixes[:, -1]
        model = make_pipeline(StandardScaler(), NuSVR(kernel="rbf", C=1.0, nu=0.5))
        std = _cv_std(model, x, gain, folds=5, seed=seed)
        return _Fitted(model.fit(x, gain), std)

    def _predict_length(
        self, state: _Fitted, params: np.ndarray, prefixes: np.ndarray
    ) -> Prediction:
        x = np.hstack([params, curve_features(prefixes)])
        mean = prefixes[:, -1] + state.model.predict(x)
        return mean, np.full(mean.size, state.std)


class NuSVRTuned(PerLengthModel):
    """nu-SVR on the same features predicting ``y_T``, tuned by RandomizedSearchCV.

    Search space: ``C`` log-uniform on [1e-2, 1e3], ``nu`` uniform on [0.05, 1], ``gamma``
    log-uniform on [1e-4, 1]; ``n_iter`` draws, 3-fold CV, R^2 scoring.
    """

    def __init__(
        self,
        random_state: int | None = None,
        lengths: Sequence[int] | None = None,
        n_iter: int = 20,
    ) -> None:
        super().__init__(random_state, lengths)
        self.n_iter = n_iter

    def _fit_length(
        self, params: np.ndarray, prefixes: np.ndarray, finals: np.ndarray, seed: int
    ) -> _Fitted:
        x = np.hstack([params, curve_features(prefixes)])
        space = {
            "nusvr__C": loguniform(1e-2, 1e3),
            "nusvr__nu": uniform(0.05, 0.95),
            "nusvr__gamma": loguniform(1e-4, 1.0),
        }
        search = RandomizedSearchCV(
            make_pipeline(StandardScaler(), NuSVR(kernel="rbf")),
            space,
            n_iter=self.n_iter,
            cv=KFold(n_splits=3, shuffle=True, random_state=seed),
            random_state=seed,
        )
        best = search.fit(x, finals).best_estimator_
        std = _cv_std(best, x, finals, folds=3, seed=seed)
        return _Fitted(best, std)

    def _predict_length(
        self, state: _Fitted, params: np.ndarray, prefixes: np.ndarray
    ) -> Prediction:
        x = np.hstack([params, curve_features(prefixes)])
        mean = state.model.predict(x)
        return mean, np.full(mean.size, state.std)


# ---------------------------------------------------------------------------------------------
# Domhan-style parametric extrapolation


@dataclass(frozen=True)
class Family:
    """A parametric curve family ``f(x, *theta)`` with start values and box bounds."""

    name: str
    func: Callable[..., np.ndarray]
    start: Callable[[np.ndarray], list[float]]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    @property
    def n_params(self) -> int:
        return len(self.lower)


def _pow3(x: np.ndarray, c: float, a: float, alpha: float) -> np.ndarray:
    return c - a * x ** (-alpha)


def _pow4(x: np.ndarray, c: float, a: float, b: float, alpha: float) -> np.ndarray:
    return c - (a * x + b) ** (-alpha)


def _log_power(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a / (1.0 + (x / math.exp(b)) ** c)


def _exp3(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return c - np.asarray(np.exp(-a * x + b))


def _vapor_pressure(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return np.asarray(np.exp(a + b / x + c * np.log(x)))


def _mmf(x: np.ndarray, alpha: float, beta: float, k: float, delta: float) -> np.ndarray:
    return alpha - (alpha - beta) / (1.0 + (k * x) ** delta)


def _janoschek(x: np.ndarray, alpha: float, beta: float, k: float, delta: float) -> np.ndarray:
    return alpha - (alpha - beta) * np.asarray(np.exp(-k * x**delta))


def _ilog2(x: np.ndarray, c: float, a: float) -> np.ndarray:
    return c - a / np.asarray(np.log(x + 1.0))


def _log_log_linear(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return np.asarray(np.log(a * np.log(x) + b))


def _hill(x: np.ndarray, alpha: float, eta: float, kappa: float) -> np.ndarray:
    return np.asarray(alpha * x**eta / (kappa**eta + x**eta))


# Start values use the (normalised, increasing) prefix u; normalised curves live in about [0, 1].
FAMILIES: tuple[Family, ...] = (
    Family("pow3", _pow3, lambda u: [u[-1] + 0.1, 0.5, 0.5], (-1, 0, 1e-3), (3, 10, 5)),
    Family("ilog2", _ilog2, lambda u: [u[-1] + 0.1, 0.2], (-1, 0), (3, 10)),
    Family(
        "log_log_linear",
        _log_log_linear,
        lambda u: [0.5, float(np.exp(u[0]))],
        (1e-6, 1e-6),
        (100, 100),
    ),
    Family("exp3", _exp3, lambda u: [0.3, 0.0, u[-1] + 0.1], (1e-4, -20, -1), (10, 10, 3)),
    Family("log_power", _log_power, lambda u: [u[-1] + 0.1, 0.0, -1.0], (0, -10, -10), (3, 10, 0)),
    Family(
        "vapor_pressure", _vapor_pressure, lambda u: [0.0, -0.5, 0.0], (-10, -10, -3), (5, 10, 3)
    ),
    Family("hill", _hill, lambda u: [u[-1] + 0.1, 1.0, 2.0], (0, 1e-3, 1e-3), (3, 10, 1e3)),
    Family(
        "pow4",
        _pow4,
        lambda u: [u[-1] + 0.1, 1.0, 1.0, 0.5],
        (-1, 1e-6, 1e-6, 1e-3),
        (3, 100, 100, 5),
    ),
    Family(
        "mmf", _mmf, lambda u: [u[-1] + 0.1, u[0], 0.5, 1.0], (-1, -1, 1e-4, 1e-3), (3, 3, 10, 5)
    ),
    Family(
        "janoschek",
        _janoschek,
        lambda u: [u[-1] + 0.1, u[0], 0.1, 1.0],
        (-1, -1, 1e-4, 1e-3),
        (3, 3, 10, 5),
    ),
)


@dataclass
class _FitResult:
    prediction: float
    mse: float


def _curve_fit(
    family: Family, x: np.ndarray, u: np.ndarray, start: np.ndarray, bounded: bool
) -> np.ndarray | None:
    kwargs: dict[str, Any] = (
        {"bounds": (family.lower, family.upper), "max_nfev": 400} if bounded else {"maxfev": 800}
    )
    try:
        theta, _ = curve_fit(family.func, x, u, p0=start, **kwargs)
    except (RuntimeError, ValueError, FloatingPointError):
        return None
    return np.asarray(theta)


def _evaluate_fit(
    family: Family, theta: np.ndarray | None, x: np.ndarray, u: np.ndarray, horizon: float
) -> _FitResult | None:
    if theta is None:
        return None
    fitted = family.func(x, *theta)
    prediction = float(family.func(np.array([horizon]), *theta)[0])
    if not (np.all(np.isfinite(fitted)) and math.isfinite(prediction)):
        return None
    return _FitResult(prediction, float(np.mean((fitted - u) ** 2)))


def fit_family(
    family: Family, x: np.ndarray, u: np.ndarray, horizon: float, valid: tuple[float, float]
) -> _FitResult | None:
    """Least-squares fit of one family; the extrapolation to ``horizon`` must lie in ``valid``.

    Unbounded Levenberg-Marquardt first (as Domhan et al.'s maximum-likelihood start, and fast);
    when it fails or extrapolates outside ``valid``, bounded trust-region reflective.
    """
    lower = np.asarray(family.lower, dtype=float)
    upper = np.asarray(family.upper, dtype=float)
    margin = 1e-6 * (upper - lower)
    start = np.clip(family.start(u), lower + margin, upper - margin)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for bounded in (False, True):
            theta = _curve_fit(family, x, u, start, bounded)
            result = _evaluate_fit(family, theta, x, u, horizon)
            if result is not None and valid[0] <= result.prediction <= valid[1]:
                return result
    return None


class DomhanLCE:
    """Parametric learning-curve extrapolation, simplified from Domhan et al. (IJCAI 2015).

    Each prefix is fitted on its own (no training curves are needed for the fit itself) with
    the families of the paper (pow3, pow4, log-power, exp3, vapor pressure, MMF, Janoschek,
    ilog2, log-log-linear, Hill) by least squares (``scipy.optimize.curve_fit``: unbounded
    Levenberg-Marquardt, then bounded trust-region reflective when that fails), one fit per
    family; families left when ``time_limit`` seconds per prefix have passed are skipped.
    A family is used only when the prefix has more points than it has parameters. This is a
    maximum-likelihood ensemble: the fits are averaged with weights ``1 / (mse + eps)`` -- NOT
    the paper's MCMC over the weighted combination of all families.

    The training curves are used only to (a) orient and normalise the values (curves that
    decrease on average are mirrored so that every family models an increasing curve, and
    values are scaled by the training range), (b) know the horizon ``T`` (longest training
    curve), (c) reject extrapolations below the prefix's minimum or more than 50% of the
    training range above the training maximum (the analogue of the paper's prior that the
    curve increases and stays in [0, 1]) and (d) provide the fallback: the last observed value
    with :class:`LastValue`'s std, used when no family fits.

    The std is the square root of the weighted variance across families plus the weighted
    mean squared fit residual.
    """

    eps = 1e-6

    def __init__(
        self,
        random_state: int | None = None,
        lengths: Sequence[int] | None = None,
        time_limit: float = 0.5,
        families: Sequence[Family] = FAMILIES,
    ) -> None:
        self.random_state = random_state
        self.lengths = lengths
        self.time_limit = time_limit
        self.families = tuple(families)

    def fit(
        self,
        curves: Curves,
        params: Params | None = None,
        final_values: Sequence[float] | None = None,
    ) -> DomhanLCE:
        ys = _as_arrays(curves)
        values = np.concatenate(ys)
        first = np.mean([c[0] for c in ys])
        self.sign_ = 1.0 if np.mean(_finals(ys, final_values)) >= first else -1.0
        oriented = self.sign_ * values
        self.offset_ = float(oriented.min())
        self.scale_ = float(max(oriented.max() - self.offset_, 1e-12))
        self.horizon_ = max(c.size for c in ys)
        self.fallback_ = LastValue(self.random_state, self.lengths).fit(ys, None, final_values)
        return self

    def predict(self, prefixes: Curves, params: Params | None = None) -> Prediction:
        ys = _as_arrays(prefixes)
        mean, std = self.fallback_.predict(ys)
        for i, y in enumerate(ys):
            result = self._extrapolate(y)
            if result is not None:
                mean[i], std[i] = result
        return mean, std

    def _extrapolate(self, y: np.ndarray) -> tuple[float, float] | None:
        u = (self.sign_ * y - self.offset_) / self.scale_
        x = np.arange(1, y.size + 1, dtype=float)
        fits = self._fit_all(x, u)
        if not fits:
            return None
        predictions = np.array([f.prediction for f in fits])
        mses = np.array([f.mse for f in fits])
        weights = 1.0 / (mses + self.eps)
        weights /= weights.sum()
        mean_u = float(weights @ predictions)
        var_u = float(weights @ (predictions - mean_u) ** 2 + weights @ mses)
        mean = self.sign_ * (mean_u * self.scale_ + self.offset_)
        return mean, math.sqrt(var_u) * self.scale_

    def _fit_all(self, x: np.ndarray, u: np.ndarray) -> list[_FitResult]:
        deadline = time.perf_counter() + self.time_limit
        fits = []
        for family in self.families:
            if family.n_params >= u.size or time.perf_counter() > deadline:
                continue
            result = fit_family(family, x, u, float(self.horizon_), (float(u.min()), 1.5))
            if result is not None:
                fits.append(result)
        return fits
