"""The stopping rule on top of a length model, whole: plain numpy, no Optuna.

Everything here works in "higher is better" units; the pruners flip the sign for minimisation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from optuna_srm.prediction._regressors import GAMMAS, KernelRidgeLOO, Regressor, make_regressor
from optuna_srm.prediction._sequential import LengthModel

# The pruner's default model: the gain regression alone, with an RBF part always in the kernel,
# the one kernel that LOO prefers. The estimator's default (also the final value itself, a
# linear-only kernel, kernels averaged) gives error scales too small to prune safely with when
# it is fitted on a handful of finished trials.
_PRUNER_GAMMAS = tuple(g for g in GAMMAS if g > 0)

# Weight, in training points, of the global mean square in the local error scale.
_SCALE_PRIOR = 3.0


def p_exceed(need: np.ndarray | float, scale: np.ndarray | float, n: int) -> np.ndarray:
    """Probability that a prediction error exceeds ``need``.

    Student's t with ``n - 1`` degrees of freedom (at least one) and the given scale: heavier
    tails than a Gaussian while the scale rests on few out-of-sample errors.
    """
    df = max(n - 1, 1)
    tiny = np.finfo(float).tiny
    return np.atleast_1d(student_t.sf(np.asarray(need) / np.maximum(scale, tiny), df))


def threshold(relative_threshold: float, n: int) -> float:
    """``relative_threshold`` times the chance that one more trial beats the best of ``n``."""
    return relative_threshold / (n + 1)


def saved_fraction(step: int, first: int, horizon: int) -> float:
    """The fraction of a training from ``first`` to ``horizon`` that stopping at ``step`` saves."""
    return max(horizon - step, 0) / max(horizon - first + 1, 1)


@dataclass
class StepModel:
    """A length model fitted for one step, with what the rule needs to trust it."""

    model: LengthModel
    features: np.ndarray  # standardised features of the observed rows, for the local scale
    residuals: np.ndarray  # out-of-sample errors on the observed rows
    trusted: bool

    @property
    def n(self) -> int:
        return int(self.residuals.size)

    def predict(self, prefix: np.ndarray, params: np.ndarray) -> tuple[float, float]:
        """Predicted final value and the local standard deviation of its error."""
        x = self.model.standardised_features([prefix], params.reshape(1, -1))
        mean = self.model.predict_standardised(x, prefix[-1:])
        return float(mean[0]), float(local_scale(self.features, self.residuals, x)[0])

    def p_improve(self, mean: float, std: float, reference: float) -> float:
        return float(p_exceed(reference - mean, std, self.n)[0])

    def should_stop(
        self,
        p_improve: float,
        relative_threshold: float,
        *,
        last: float,
        leader: float,
        saved: float,
    ) -> bool:
        """The rule: stop a trial whose chance ``p_improve`` to beat the best is below the
        threshold times the ``saved`` fraction of its training (stopping late saves little, so
        it takes more evidence), unless the model failed its self-check or the trial's ``last``
        value is ahead of every finished trial's at this step (the ``leader``): beyond them the
        model can only extrapolate."""
        limit = threshold(relative_threshold, self.n) * saved
        return bool(self.trusted and last < leader and p_improve < limit)


def local_scale(train: np.ndarray, residuals: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Error scale near ``x``: kernel-weighted mean of nearby squared residuals.

    Shrunk towards the global mean square with the weight of ``_SCALE_PRIOR`` training points, and
    inflated by ``(n + 1) / n`` since a new point errs more than the training points' LOO errors
    spread.
    """
    n = residuals.size
    dist = np.sum((x[:, None, :] - train[None, :, :]) ** 2, axis=2) / max(train.shape[1], 1)
    weights = np.exp(-dist)
    # In units of the largest error, so that squares of objectives like 1e200 stay finite.
    unit = float(np.abs(residuals).max(initial=0.0)) or 1.0
    squares = (residuals / unit) ** 2
    local = (weights @ squares + _SCALE_PRIOR * squares.mean()) / (
        weights.sum(axis=1) + _SCALE_PRIOR
    )
    return np.asarray(np.maximum(np.sqrt(local * (n + 1) / n), 1e-9) * unit)


def fit_step_model(
    prefixes: Sequence[np.ndarray],
    params: np.ndarray,
    finals: np.ndarray,
    observed: np.ndarray,
    *,
    relative_threshold: float,
    regressor: str,
    n_top: int,
    seed: int,
) -> StepModel:
    """Fit the model for one step and check it against the training trials themselves.

    The check replays the rule on the out-of-sample predictions: each of the ``n_top`` best
    training trials is compared with the next-best final value below its own. Had the rule
    stopped any of them (a trial that did beat its reference), the model does not yet rank
    the best trials reliably at this step and is not trusted. Nor is a model whose
    out-of-sample errors are all zero.

    Rows whose ``observed`` flag is false carry an estimated final value (of a trial stopped
    early): they train the regressor but take no part in the error scale or the check.
    """
    make: Callable[[], Regressor]
    if regressor == "auto":
        make = functools.partial(KernelRidgeLOO, _PRUNER_GAMMAS, average=False)
    else:
        make = functools.partial(make_regressor, regressor, 10, 3, seed)
    model = LengthModel(make, level=False)
    model.fit(prefixes, params, finals)
    features = model.standardised_features(prefixes, params)[observed]
    residuals = model.residuals_[observed]
    finals = finals[observed]
    out_of_sample = finals - residuals
    order = np.argsort(-finals)
    # Out-of-sample errors of exactly zero (finished curves that all stayed flat) would make
    # the rule certain about any curve on a handful of examples.
    trusted = bool(np.any(np.abs(residuals) > 1e-9 * model.units_.size))
    n = finals.size
    limit = threshold(relative_threshold, n)
    for rank in range(min(n_top, n - 1) if trusted else 0):
        top, below = order[rank], order[rank + 1]
        others = np.delete(np.arange(n), top)
        scale = local_scale(features[others], residuals[others], features[top : top + 1])
        p = p_exceed(finals[below] - out_of_sample[top], scale, n - 1)[0]
        if p < limit:
            trusted = False
            break
    return StepModel(model, features, residuals, trusted)
