"""Regressors behind the sequential regression models: plain numpy and scikit-learn."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, PredefinedSplit, RandomizedSearchCV, cross_val_predict
from sklearn.svm import NuSVR

REGRESSORS = ("auto", "kernel_ridge", "nu_svr_rbf", "nu_svr_linear", "random_forest", "ols")

# Grids searched by leave-one-out in closed form: gamma is scaled by 1 / n_features, and 0
# leaves the linear kernel alone (the paper found linear models as good as RBF ones).
GAMMAS = (0.0, 0.03, 0.1, 0.3, 1.0)
_LAMBDAS = tuple(float(v) for v in np.logspace(-3, 2, 11))


class Regressor(Protocol):
    """What a length model needs: a fit that also yields out-of-sample residuals.

    ``y`` holds one target per column, each fitted on its own (but for robust row weights,
    which ``KernelRidgeLOO`` shares among them): a length model regresses the final value and
    the gain over the last value on the same features.
    """

    def fit(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Fit on standardised ``x`` and the ``(n, k)`` targets ``y``; return out-of-sample
        predictions of ``y``."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict the ``(m, k)`` targets for standardised ``x``."""


class KernelRidgeLOO:
    """Kernel ridge regression averaged over a grid of kernels, each tuned by leave-one-out.

    The kernels are RBF plus linear kernels of several widths (and the linear kernel alone for
    ``gamma=0``). For a fixed kernel, the leave-one-out residual of every training point
    follows from one eigendecomposition: ``r_i = (y_i - f_i) / (1 - H_ii)``, so each kernel
    gets the ridge penalty with the smallest mean squared LOO residual at the cost of that one
    decomposition, and every target of ``y`` too. Identical rows are left out together
    (``r_G = (I - H_GG)^-1 (y_G - f_G)``). The prediction is the mean of the kernels' models:
    the choice of a single kernel by LOO on the few curves of a study is noisy, and the mean
    varies less. With ``average=False`` only the kernel with the smallest LOO error is kept,
    target by target.

    With ``robust`` (the default), each kernel is fitted a second time with Huber weights of
    its first fit's leave-one-out errors (one weighted eigendecomposition more), so that a few
    curves far from the rest, a late learner among early ones, pull less on the others'
    predictions (the targets share these row weights, the mean of their Huber distances). The
    leave-one-out errors and the choice of the penalty are then those of the weighted fit.
    """

    def __init__(
        self, gammas: tuple[float, ...] = GAMMAS, *, average: bool = True, robust: bool = True
    ) -> None:
        self.gammas = gammas
        self.average = average
        self.robust = robust

    def fit(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d = x.shape[1]
        linear = x @ x.T / max(d, 1)
        sq = np.sum(x**2, axis=1)
        dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
        self.x_ = x
        # Per kernel, the dual coefficients of every target: (W K + lam I)^-1 W y.
        self.duals_: list[tuple[float, np.ndarray]] = []
        # Identical rows (a configuration trained twice alike) are left out together: left out
        # alone, a row is predicted by its copy, and the errors come out near zero.
        group = _identical_rows(x)
        copies = [np.flatnonzero(group == g) for g in np.flatnonzero(np.bincount(group) > 1)]
        loos, scores = [], []
        for gamma in self.gammas:
            kernel = _kernel(dist, linear, gamma, d)
            dual, loo, score = _ridge_loo(kernel, y, np.ones(len(x)), copies)
            if self.robust:
                row_weights = _huber_weights(y - loo)
                dual, loo, score = _ridge_loo(kernel, y, row_weights, copies)
            self.duals_.append((gamma, dual))
            loos.append(loo)
            scores.append(score)
        # The weight of each kernel in each target's model: equal, or all on the kernel of the
        # smallest LOO error.
        if self.average:
            weights = np.full((len(self.gammas), y.shape[1]), 1.0 / len(self.gammas))
        else:
            chosen = np.argmin(scores, axis=0)
            weights = (np.arange(len(self.gammas))[:, None] == chosen).astype(float)
        used = np.flatnonzero(weights.any(axis=1))
        self.duals_ = [self.duals_[k] for k in used]
        self.weights_ = weights[used]
        return np.asarray(np.einsum("kt,knt->nt", weights, np.array(loos)))

    def predict(self, x: np.ndarray) -> np.ndarray:
        d = self.x_.shape[1]
        sq = np.sum(x**2, axis=1)[:, None] + np.sum(self.x_**2, axis=1)[None, :]
        dist = np.maximum(sq - 2.0 * x @ self.x_.T, 0.0)
        linear = x @ self.x_.T / max(d, 1)
        out = np.zeros((len(x), self.weights_.shape[1]))
        for (gamma, dual), weights in zip(self.duals_, self.weights_, strict=True):
            out += (_kernel(dist, linear, gamma, d) @ dual) * weights
        return out


def _ridge_loo(
    kernel: np.ndarray, y: np.ndarray, weights: np.ndarray, copies: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted kernel ridge regression of every target of ``y``, its penalty chosen by LOO.

    Minimises ``sum_i w_i (y_i - f_i)^2 + lam |f|^2`` for each penalty of ``_LAMBDAS`` from one
    eigendecomposition of ``W^1/2 K W^1/2``, and keeps, target by target, the penalty of the
    smallest weighted mean squared leave-one-out residual. Returns the dual coefficients
    ``(W K + lam I)^-1 W y``, the out-of-sample predictions and their scores.
    """
    root = np.sqrt(weights)
    eigval, eigvec = np.linalg.eigh(root[:, None] * kernel * root[None, :])
    eigval = np.maximum(eigval, 0.0)
    proj = eigvec.T @ (root[:, None] * y)
    best_score = np.full(y.shape[1], np.inf)
    best_lam = np.zeros(y.shape[1])
    best_loo = np.zeros_like(y)
    for lam in _LAMBDAS:
        shrink = eigval / (eigval + lam)
        # The hat matrix W^-1/2 A W^1/2, with A = V diag(shrink) V^T, has A's diagonal.
        fitted = eigvec @ (shrink[:, None] * proj) / root[:, None]
        leverage = np.einsum("ij,j,ij->i", eigvec, shrink, eigvec)
        loo = y - (y - fitted) / np.maximum(1.0 - leverage, 1e-9)[:, None]
        for rows in copies:  # r_G = (I - H_GG)^-1 (y_G - f_G)
            hat = (eigvec[rows] * shrink) @ eigvec[rows].T * root[rows] / root[rows, None]
            keep = np.eye(len(rows)) * (1.0 + 1e-9) - hat
            loo[rows] = y[rows] - np.linalg.solve(keep, (y - fitted)[rows])
        score = weights @ (y - loo) ** 2 / weights.sum()
        better = score < best_score
        best_score[better], best_lam[better] = score[better], lam
        best_loo[:, better] = loo[:, better]
    dual = root[:, None] * (eigvec @ (proj / (eigval[:, None] + best_lam)))
    return dual, best_loo, best_score


def _huber_weights(residuals: np.ndarray) -> np.ndarray:
    """Huber's weights, ``min(1, 1.345 / z)``, of rows whose residuals are ``z`` robust standard
    deviations (1.4826 median absolute residuals) away, on average over the targets."""
    spread = 1.4826 * np.median(np.abs(residuals), axis=0)
    z = np.abs(residuals) / np.where(spread > 0.0, spread, np.inf)
    return np.asarray(np.minimum(1.0, 1.345 / np.maximum(z.mean(axis=1), 1e-12)))


def _kernel(dist: np.ndarray, linear: np.ndarray, gamma: float, d: int) -> np.ndarray:
    """RBF (of squared distances ``dist``) plus linear kernel; linear alone for ``gamma=0``."""
    if gamma == 0.0:
        return linear
    rbf: np.ndarray = np.exp(-gamma / max(d, 1) * dist)
    return np.asarray(rbf + linear, dtype=float)


class SearchedRegressor:
    """A scikit-learn regressor tuned by random search with k-fold cross-validation.

    Each target gets its own search and model. Out-of-sample predictions come from
    ``cross_val_predict`` with the chosen settings. Identical rows share a fold.
    """

    def __init__(
        self, estimator: Any, space: dict[str, Any], n_iter: int, cv: int, seed: int
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.n_iter = n_iter
        self.cv = cv
        self.seed = seed

    def fit(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        folds = _folds(x, self.cv, self.seed)
        self.models_ = []
        out_of_sample = np.empty_like(y)
        for column in range(y.shape[1]):
            target = y[:, column]
            model = clone(self.estimator)
            if self.space and folds is not None:
                search = RandomizedSearchCV(
                    model,
                    self.space,
                    n_iter=self.n_iter,
                    cv=folds,
                    scoring="neg_mean_squared_error",
                    random_state=self.seed,
                )
                model = search.fit(x, target).best_estimator_
            self.models_.append(clone(model).fit(x, target))
            if folds is None:
                out_of_sample[:, column] = target.mean()
            else:
                out_of_sample[:, column] = cross_val_predict(model, x, target, cv=folds)
        return out_of_sample

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([model.predict(x) for model in self.models_])


def _identical_rows(x: np.ndarray) -> np.ndarray:
    """The group of each row of ``x``: identical rows share one, numbered in the order of
    their first row."""
    _, first, group = np.unique(x, axis=0, return_index=True, return_inverse=True)
    number = np.empty(len(first), dtype=int)
    number[np.argsort(first)] = np.arange(len(first))
    return number[group.ravel()]


def _folds(x: np.ndarray, cv: int, seed: int) -> PredefinedSplit | None:
    """Shuffled ``cv``-fold splits that keep identical rows in one fold.

    A row whose copy sat in the training folds would be predicted by it, and its error would
    come out near zero (as in ``KernelRidgeLOO``). ``None`` where there are fewer than two
    distinct rows per fold.
    """
    # Without copies, group i is row i: the folds of KFold.
    group = _identical_rows(x)
    n_groups = int(group.max()) + 1
    n_splits = min(cv, n_groups)
    if n_groups < 2 * n_splits:
        return None
    fold = np.empty(n_groups, dtype=int)
    splits = KFold(n_splits, shuffle=True, random_state=seed).split(np.arange(n_groups))
    for k, (_, test) in enumerate(splits):
        fold[test] = k
    return PredefinedSplit(fold[group])


def make_regressor(name: str, n_iter: int, cv: int, seed: int) -> Regressor:
    """Build the regressor called ``name`` (one of ``REGRESSORS``)."""
    if name in ("auto", "kernel_ridge"):
        return KernelRidgeLOO()
    if name == "nu_svr_rbf":
        space = {
            "C": loguniform(1e-2, 1e3),
            "nu": uniform(0.05, 0.95),
            "gamma": loguniform(1e-4, 1),
        }
        return SearchedRegressor(NuSVR(kernel="rbf"), space, n_iter, cv, seed)
    if name == "nu_svr_linear":
        space = {"C": loguniform(1e-3, 1e2), "nu": uniform(0.05, 0.95)}
        return SearchedRegressor(NuSVR(kernel="linear"), space, n_iter, cv, seed)
    if name == "random_forest":
        space = {"max_features": uniform(0.1, 0.9), "min_samples_leaf": [1, 2, 4, 8]}
        forest = RandomForestRegressor(n_estimators=100, random_state=seed)
        return SearchedRegressor(forest, space, n_iter, cv, seed)
    if name == "ols":
        return SearchedRegressor(LinearRegression(), {}, n_iter, cv, seed)
    raise ValueError(f"regressor must be one of {REGRESSORS}, but got {name=}.")
