"""Sequential regression models: predict a learning curve's final value from its beginning."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from optuna_srm._validation import check_int, is_int
from optuna_srm.prediction._features import ParamEncoder, ParamValue, clean_curve, curve_features
from optuna_srm.prediction._regressors import REGRESSORS, Regressor, make_regressor

Params = Sequence[Mapping[str, ParamValue]]

# A length model needs this many training curves; below it the prediction is the last value.
MIN_TRAIN_CURVES = 3
# Prediction features are clipped to the training range widened by this fraction of it on
# each side: a curve just beyond the best training curves extrapolates a little, none wildly.
_CLIP_MARGIN = 0.1
# A category of fewer training curves is encoded as an unseen one: its one-hot column would
# hold a single 1, which is constant in every leave-one-out fit without that curve, so the
# out-of-sample errors would miss what the column does to new curves and the intervals would
# come out too narrow (an architecture written as text has a category per curve). SRMPruner
# keeps every category: the wider error scale near the top is what lets a trial whose last
# epochs jump, which no model foresees, run to its end.
_MIN_CATEGORY_COUNT = 2
# A prediction's change from the last value is clipped to the training curves' changes,
# widened by this fraction of their range on each side but never past zero. Wider than the
# features' margin, which would cut off the real late gains of the few curves that make them;
# this one still keeps a linear regressor from predicting a drop that no training curve made
# (tests/pruners/test_srm.py).
_GAIN_MARGIN = 1.0
_MAX_FLOAT = int(np.finfo(float).max)


class LengthModel:
    """One regression model for prefixes of (about) one length: the paper's tau-th SRM.

    It averages two regressions on the standardised prefix features and encoded
    hyperparameters: one of the final value itself (unless ``level`` is false) and one of the
    gain ``final - last observed value``. Both targets are standardised too, so the model is
    blind to the scale of the objective. The out-of-sample errors of the average give the
    spread of its errors.

    The features of a prediction are clipped, one by one, to the range of the training
    features (widened by ``_CLIP_MARGIN``): far outside it a regression extrapolates wildly (a
    curve that collapsed and recovered, a learning rate beyond those of the finished trials).
    Features clipped one by one can still make a curve that no run had (its last value clipped,
    its minimum not), so the predicted change from the last value is clipped too, to the range
    of the training curves' changes from the same length (widened by ``_GAIN_MARGIN``, never
    past zero): where every training curve improved after this length, no prediction says the
    curve will get worse.

    Curves and finals are first brought to a range of about ``[-1, 1]`` (``units_``), so that
    objectives of any magnitude, 1e-12 or 1e200, are fitted as precisely as accuracies; means,
    ``residuals_`` and ``sigma_`` are in the objective's own units.
    """

    def __init__(self, make_regressor: Callable[[], Regressor], *, level: bool = True) -> None:
        self.make_regressor = make_regressor
        self.level = level

    def fit(self, prefixes: Sequence[np.ndarray], params: np.ndarray, finals: np.ndarray) -> None:
        # Small matrices: one BLAS thread is fastest, and several spin badly on a busy machine.
        with threadpool_limits(limits=1, user_api="blas"):
            self._fit(prefixes, params, finals)

    def _fit(self, prefixes: Sequence[np.ndarray], params: np.ndarray, finals: np.ndarray) -> None:
        self.units_ = Units.fit(np.concatenate([*prefixes, finals]))
        prefixes = [self.units_.to(p) for p in prefixes]
        finals = self.units_.to(finals)
        x = _design(prefixes, params)
        # Columns are centred and scaled in units of their largest finite value, so that the
        # sums of a mean or a variance neither overflow (1e306) nor fall below the floor of a
        # constant column (1e-12).
        self.peak_ = np.max(np.abs(x), axis=0, initial=0.0, where=np.isfinite(x))
        self.peak_[self.peak_ == 0.0] = 1.0
        in_peaks = x / self.peak_
        # A column without a finite value (a parameter that no training curve has) stays 0.
        seen = np.isfinite(x).any(axis=0)
        self.center_ = np.zeros(x.shape[1])
        self.center_[seen] = np.nanmean(in_peaks[:, seen], axis=0)
        self.center_[~np.isfinite(self.center_)] = 0.0
        self.scale_ = np.zeros(x.shape[1])
        self.scale_[seen] = np.nanstd(in_peaks[:, seen], axis=0)
        # A constant column has a std of rounding noise (1e-17 for 0.1s): dividing by it would
        # turn any other value into a feature of 1e15.
        constant = ~(self.scale_ > 1e-9)
        self.scale_[constant] = 1.0
        x = self._standardise(x)
        low, high = x.min(axis=0), x.max(axis=0)
        self.low_ = low - _CLIP_MARGIN * (high - low)
        self.high_ = high + _CLIP_MARGIN * (high - low)
        last = np.array([p[-1] for p in prefixes])
        gains = finals - last
        low, high = gains.min(), gains.max()
        self.gain_low_ = low - _GAIN_MARGIN * (high - low)
        self.gain_high_ = high + _GAIN_MARGIN * (high - low)
        # The margin never turns the sign of the training curves' changes.
        if low >= 0.0:
            self.gain_low_ = max(self.gain_low_, 0.0)
        if high <= 0.0:
            self.gain_high_ = min(self.gain_high_, 0.0)
        offsets = np.column_stack((np.zeros_like(last), last) if self.level else (last,))
        targets = finals[:, None] - offsets
        center = targets.mean(axis=0)
        scale = targets.std(axis=0)
        scale[scale == 0.0] = float(np.std(finals)) or 1.0
        # One regressor fits both targets: the kernels' decompositions serve both.
        self.regressor_ = self.make_regressor()
        predicted = self.regressor_.fit(x, (targets - center) / scale) * scale + center
        self.center_scale_ = center, scale
        out_of_sample = np.mean(predicted + offsets, axis=1)
        residuals = finals - out_of_sample
        self.residuals_ = residuals * self.units_.size
        n = len(finals)
        # Finite-sample inflation: a new point's error exceeds the LOO errors' spread.
        self.sigma_ = float(np.sqrt(np.mean(residuals**2) * (n + 1) / n) * self.units_.size)

    def predict(self, prefixes: Sequence[np.ndarray], params: np.ndarray) -> np.ndarray:
        x = self.standardised_features(prefixes, params)
        return self.predict_standardised(x, np.array([p[-1] for p in prefixes]))

    def predict_standardised(self, x: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Predict from standardised features ``x`` and the prefixes' ``last`` values."""
        x = np.clip(x, self.low_, self.high_)
        # The gain over the last value in units: a last value beyond them (1e308 where the
        # training curves were accuracies) makes no inf - inf.
        in_units = self.units_.to(last)
        center, scale = self.center_scale_
        predicted = self.regressor_.predict(x) * scale + center
        if self.level:  # the first target is the final value itself
            predicted[:, 0] -= in_units
        gain = np.clip(predicted.mean(axis=1), self.gain_low_, self.gain_high_)
        return np.asarray(last + gain * self.units_.size)

    def standardised_features(
        self, prefixes: Sequence[np.ndarray], params: np.ndarray
    ) -> np.ndarray:
        """The regressor's input for ``prefixes`` and encoded ``params``."""
        return self._standardise(_design([self.units_.to(p) for p in prefixes], params))

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        x = (x / self.peak_ - self.center_) / self.scale_
        return np.where(np.isfinite(x), x, 0.0)


@dataclass(frozen=True)
class Units:
    """An affine map of an objective's values to about ``[-1, 1]``: ``(v / peak - mid) / spread``
    in two steps, so that neither 1e-300 nor 1e300 over- or underflows on the way."""

    peak: float
    mid: float
    spread: float

    @classmethod
    def fit(cls, values: np.ndarray) -> Units:
        """The map of the finite ``values`` (1 where they are all zero or all equal)."""
        values = values[np.isfinite(values)]
        peak = float(np.max(np.abs(values), initial=0.0)) or 1.0
        mid = float(np.median(values / peak)) if values.size else 0.0
        spread = float(np.max(np.abs(values / peak - mid), initial=0.0)) or 1.0
        return cls(peak, mid, spread)

    @property
    def size(self) -> float:
        """What one unit is worth in the objective's own units."""
        return self.peak * self.spread

    def to(self, values: np.ndarray) -> np.ndarray:
        return np.asarray((values / self.peak - self.mid) / self.spread)


def _grid(sizes: Sequence[int], n: int) -> np.ndarray:
    """At most ``n`` prefix lengths, up to the longest that ``MIN_TRAIN_CURVES`` curves reach.

    They are spread evenly over the values observed up to each length, not over the lengths
    themselves: curves of 20 values and a few of 500 get lengths among the first 20 as among
    the rest. For curves of one length this is ``linspace(1, length, n)``, rounded.
    """
    longest = sorted(sizes)[-MIN_TRAIN_CURVES]
    length = np.arange(1, longest + 1)
    reaching = np.searchsorted(np.sort(sizes), length, side="left")
    observed = np.cumsum(len(sizes) - reaching)  # values observed up to each length
    targets = np.linspace(observed[0], observed[-1], n)
    return np.unique(np.round(np.interp(targets, observed, length)).astype(int))


def _design(prefixes: Sequence[np.ndarray], params: np.ndarray) -> np.ndarray:
    curves = np.array([curve_features(p) for p in prefixes]).reshape(len(prefixes), -1)
    return np.hstack([curves, params.reshape(len(prefixes), -1)])


class SequentialRegressionModel(BaseEstimator):  # type: ignore[misc]
    """Predict the final value of learning curves from their first values.

    One regression model per observed length (the paper's sequential regression models), each
    trained on the training curves' prefixes of that length, their first and second
    differences, and the hyperparameters. A prefix whose length falls between two trained
    lengths, or beyond the longest, is predicted by the model of the longest trained length it
    covers, from that many of its values.

    Each model averages a regression of the final value and one of the gain over the last
    observed value, both on standardised features and targets, so objectives of any scale
    (accuracies, losses, perplexities in the hundreds) work without tuning. The reported
    standard deviation is that of the model's out-of-sample errors (leave-one-out for the
    default kernel ridge regressor, k-fold for the others), inflated for the size of the
    training set. The features of a prediction are clipped to the range the training curves
    spanned (widened by a tenth), so a curve unlike any of them (a collapse and a recovery, a
    hyperparameter outside the trained range) is predicted from the nearest edge of that range
    rather than by a wild extrapolation. Categorical hyperparameters are one-hot encoded; a
    category of a single training curve counts as an unseen one.

    Non-finite values in curves and prefixes count as missing: each takes the last finite value
    before it, and those after the last finite value end the curve (NaN pads the shorter rows
    of a DataFrame or an array). A training curve without a finite value, or with a non-finite
    target, is skipped.

    Example:

        .. code-block:: python

            import numpy as np
            from optuna_srm import SequentialRegressionModel

            steps = np.arange(1, 21)
            rates = np.linspace(0.1, 1.0, 30)
            curves = [0.9 - 0.5 * np.exp(-r * steps) for r in rates]
            model = SequentialRegressionModel(random_state=0).fit(curves)
            mean, std = model.predict([c[:5] for c in curves[:3]])

    Args:
        regressor:
            ``"auto"`` (the default, currently ``"kernel_ridge"``), ``"kernel_ridge"`` (the
            mean of kernel ridge regressions with RBF plus linear kernels of several widths and
            with a linear kernel, each tuned by closed-form leave-one-out, which needs no
            search, and refitted with Huber weights, so that a few curves unlike the rest pull
            less), or one of the paper's ``"nu_svr_rbf"``, ``"nu_svr_linear"``,
            ``"random_forest"``, ``"ols"`` (tuned by random search with ``cv``-fold
            cross-validation and ``n_iter`` candidates).
        max_lengths:
            At most this many prefix lengths get their own model (spread evenly up to the
            length that at least 3 curves reach); at least 1.
        n_iter:
            Random-search candidates for the searched regressors; at least 1.
        cv:
            Cross-validation folds for the searched regressors; at least 2.
        max_train_curves:
            Train on at most this many curves (the first ones), bounding the fitting cost,
            which grows as the cube of their number (the default regressor decomposes a
            curves-by-curves kernel matrix per kernel and prefix length); ``None`` for all. At
            least ``3``.
        random_state:
            Seed or ``numpy.random.RandomState`` for the searched regressors.

    See https://arxiv.org/abs/1705.10823 for the paper.
    """

    def __init__(
        self,
        regressor: str = "auto",
        *,
        max_lengths: int = 25,
        n_iter: int = 20,
        cv: int = 3,
        max_train_curves: int | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.regressor = regressor
        self.max_lengths = max_lengths
        self.n_iter = n_iter
        self.cv = cv
        self.max_train_curves = max_train_curves
        self.random_state = random_state

    def fit(
        self,
        curves: Sequence[Sequence[float]] | np.ndarray,
        params: Params | None = None,
        final_values: Sequence[float] | np.ndarray | None = None,
    ) -> SequentialRegressionModel:
        """Fit one model per prefix length on fully observed ``curves``.

        Args:
            curves: Learning curves, each a 1-D sequence; lengths may differ.
            params: One dict of hyperparameters per curve, or ``None``.
            final_values: The values to predict, one per curve; default: each curve's last.

        Returns:
            ``self``.
        """
        rng = self._check_arguments()
        cleaned = _check_curves(curves, "curves")
        finals = _check_finals(final_values, cleaned)
        params_list = _check_params(params, len(cleaned), "params")
        keep = [i for i, c in enumerate(cleaned) if c.size and np.isfinite(finals[i])]
        if self.max_train_curves is not None:
            keep = keep[: self.max_train_curves]
        if len(keep) < MIN_TRAIN_CURVES:
            raise ValueError(
                f"curves must hold at least {MIN_TRAIN_CURVES} curves with a finite value and "
                f"a finite final value, but got {len(keep)}."
            )
        cleaned = [cleaned[i] for i in keep]
        finals = finals[keep]
        params_list = [params_list[i] for i in keep]
        encoder = ParamEncoder(min_count=_MIN_CATEGORY_COUNT).fit(params_list)
        encoded = encoder.transform(params_list)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        lengths = _grid([c.size for c in cleaned], self.max_lengths)
        models = {}
        for length in lengths:
            rows = [i for i, c in enumerate(cleaned) if c.size >= length]
            model = LengthModel(
                functools.partial(make_regressor, self.regressor, self.n_iter, self.cv, seed)
            )
            model.fit([cleaned[i][:length] for i in rows], encoded[rows], finals[rows])
            models[int(length)] = model
        # Set only now: a fit that fails leaves the previous one whole.
        self.encoder_, self.models_ = encoder, models
        self.lengths_ = np.array(sorted(models))
        return self

    def predict(
        self, prefixes: Sequence[Sequence[float]] | np.ndarray, params: Params | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predict the final value of each partial curve in ``prefixes``.

        Args:
            prefixes: The first values of each curve (at least one finite value each).
            params: One dict of hyperparameters per prefix, or ``None``.

        Returns:
            Two arrays of shape ``(len(prefixes),)``: the predicted final values and their
            standard deviations.
        """
        check_is_fitted(self, "models_")
        cleaned = _check_curves(prefixes, "prefixes")
        for i, prefix in enumerate(cleaned):
            if not prefix.size:
                raise ValueError(f"prefixes[{i}] must hold a finite value, but got none.")
        encoded = self.encoder_.transform(_check_params(params, len(cleaned), "params"))
        mean = np.empty(len(cleaned))
        std = np.empty(len(cleaned))
        for length in np.unique([c.size for c in cleaned]):
            rows = [i for i, c in enumerate(cleaned) if c.size == length]
            mean[rows], std[rows] = self._predict_length(
                int(length), [cleaned[i] for i in rows], encoded[rows]
            )
        return mean, std

    def _predict_length(
        self, length: int, prefixes: list[np.ndarray], encoded: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        # The model of the longest trained length that the prefix covers, on that many values:
        # a model never sees a prefix length it was not trained on.
        trained = int(
            self.lengths_[max(int(np.searchsorted(self.lengths_, length, "right")) - 1, 0)]
        )
        model = self.models_[trained]
        mean = model.predict([p[:trained] for p in prefixes], encoded)
        return mean, np.full(len(prefixes), model.sigma_)

    def _check_arguments(self) -> np.random.RandomState:
        """Check the constructor's arguments; return the random state of ``random_state``."""
        if self.regressor not in REGRESSORS:
            raise ValueError(
                f"regressor must be one of {REGRESSORS}, but got regressor={self.regressor!r}."
            )
        for name, low in (("max_lengths", 1), ("n_iter", 1), ("cv", 2)):
            check_int(name, getattr(self, name), low)
        if self.max_train_curves is not None:
            check_int("max_train_curves", self.max_train_curves, MIN_TRAIN_CURVES)
        try:
            rng: np.random.RandomState = check_random_state(self.random_state)
            return rng
        except ValueError:
            raise ValueError(
                "random_state must be None, an integer or a numpy.random.RandomState, "
                f"but got random_state={self.random_state!r}."
            ) from None

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.regressor not in ("auto", "kernel_ridge", "ols")
        return tags


def _check_curves(curves: Any, name: str) -> list[np.ndarray]:
    if isinstance(curves, str | bytes) or not hasattr(curves, "__len__"):
        raise ValueError(f"{name} must be a sequence of 1-D sequences, but got {curves!r}.")
    if hasattr(curves, "to_numpy"):  # a pandas DataFrame iterates over its columns' labels
        curves = curves.to_numpy()
    cleaned = []
    for i, curve in enumerate(curves):
        try:
            arr = np.asarray(curve, dtype=float)
        except (TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"{name}[{i}] must be a 1-D sequence of numbers: {error}") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(
                f"{name}[{i}] must be a non-empty 1-D sequence, but got shape {arr.shape}."
            )
        # Trailing missing values pad a shorter curve (a row of a DataFrame): they end it.
        finite = np.flatnonzero(np.isfinite(arr))
        cleaned.append(clean_curve(arr[: finite[-1] + 1] if finite.size else arr))
    if not cleaned:
        raise ValueError(f"{name} must not be empty.")
    return cleaned


def _check_finals(final_values: Any, cleaned: list[np.ndarray]) -> np.ndarray:
    if final_values is None:
        return np.array([c[-1] if c.size else np.nan for c in cleaned])
    try:
        finals = np.asarray(final_values, dtype=float).ravel()
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"final_values must hold numbers: {error}") from None
    if finals.size != len(cleaned):
        raise ValueError(
            f"final_values must hold one value per curve ({len(cleaned)}), but got {finals.size}."
        )
    return finals


def _check_params(params: Params | None, n: int, name: str) -> list[Mapping[str, ParamValue]]:
    if params is None:
        return [{}] * n
    params_list = list(params)
    if len(params_list) != n:
        raise ValueError(f"{name} must hold one dict per curve ({n}), but got {len(params_list)}.")
    for i, p in enumerate(params_list):
        if not isinstance(p, Mapping):
            raise ValueError(f"{name}[{i}] must be a dict of hyperparameters, but got {p!r}.")
        for key, value in p.items():
            if not isinstance(key, str):
                raise ValueError(f"{name}[{i}] must have str names, but got {key!r}.")
            if is_int(value) and abs(value) > _MAX_FLOAT:
                raise ValueError(f"{name}[{i}][{key!r}] is too large for a float: {value}.")
    return params_list
