"""Regressors behind the sequential regression models: plain numpy and scikit-learn."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, RandomizedSearchCV, cross_val_predict
from sklearn.svm import NuSVR

REGRESSORS = ("auto", "kernel_ridge", "nu_svr_rbf", "nu_svr_linear", "random_forest", "ols")

# Grids searched by leave-one-out in closed form: gamma is scaled by 1 / n_features, and 0
# leaves the linear kernel alone (the paper found linear models as good as RBF ones).
GAMMAS = (0.0, 0.03, 0.1, 0.3, 1.0)
_LAMBDAS = tuple(float(v) for v in np.logspace(-3, 2, 11))


class Regressor(Protocol):
    """What a length model needs: a fit that also yields out-of-sample residuals."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Fit on standardised ``x`` and ``y``; return out-of-sample predictions of ``y``."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict ``y`` for standardised ``x``."""


class KernelRidgeLOO:
    """Kernel ridge regression (RBF plus linear kernel) tuned by closed-form leave-one-out.

    For a fixed kernel, the leave-one-out residual of every training point follows from one
    eigendecomposition: ``r_i = (y_i - f_i) / (1 - H_ii)``. The kernel width and the ridge
    penalty are picked from a small grid by the mean squared LOO residual, so a fit costs a few
    eigendecompositions of an n x n matrix and needs no random search.
    """

    def __init__(self, gammas: tuple[float, ...] = GAMMAS) -> None:
        self.gammas = gammas

    def fit(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        n, d = x.shape
        linear = x @ x.T / max(d, 1)
        sq = np.sum(x**2, axis=1)
        dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
        best: tuple[float, float, float, np.ndarray] | None = None
        for gamma in self.gammas:
            kernel = _kernel(dist, linear, gamma, d)
            eigval, eigvec = np.linalg.eigh(kernel)
            eigval = np.maximum(eigval, 0.0)
            proj = eigvec.T @ y
            for lam in _LAMBDAS:
                shrink = eigval / (eigval + lam)
                fitted = eigvec @ (shrink * proj)
                leverage = np.einsum("ij,j,ij->i", eigvec, shrink, eigvec)
                loo = y - (y - fitted) / np.maximum(1.0 - leverage, 1e-9)
                score = float(np.mean((y - loo) ** 2))
                if best is None or score < best[0]:
                    best = (score, gamma, lam, loo)
        assert best is not None
        _, self.gamma_, self.lambda_, loo = best
        kernel = _kernel(dist, linear, self.gamma_, d)
        self.x_ = x
        self.dual_ = np.linalg.solve(kernel + self.lambda_ * np.eye(n), y)
        return loo

    def predict(self, x: np.ndarray) -> np.ndarray:
        d = self.x_.shape[1]
        sq = np.sum(x**2, axis=1)[:, None] + np.sum(self.x_**2, axis=1)[None, :]
        dist = np.maximum(sq - 2.0 * x @ self.x_.T, 0.0)
        kernel = _kernel(dist, x @ self.x_.T / max(d, 1), self.gamma_, d)
        return np.asarray(kernel @ self.dual_)


def _kernel(dist: np.ndarray, linear: np.ndarray, gamma: float, d: int) -> np.ndarray:
    """RBF (of squared distances ``dist``) plus linear kernel; linear alone for ``gamma=0``."""
    if gamma == 0.0:
        return linear
    rbf: np.ndarray = np.exp(-gamma / max(d, 1) * dist)
    return np.asarray(rbf + linear, dtype=float)


class SearchedRegressor:
    """A scikit-learn regressor tuned by random search with k-fold cross-validation.

    Out-of-sample predictions come from ``cross_val_predict`` with the chosen settings.
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
        folds = KFold(min(self.cv, len(y)), shuffle=True, random_state=self.seed)
        model = clone(self.estimator)
        if self.space and len(y) >= 2 * folds.n_splits:
            search = RandomizedSearchCV(
                model,
                self.space,
                n_iter=self.n_iter,
                cv=folds,
                scoring="neg_mean_squared_error",
                random_state=self.seed,
            )
            model = search.fit(x, y).best_estimator_
        self.model_ = clone(model).fit(x, y)
        if len(y) < 2 * folds.n_splits:
            return np.full_like(y, y.mean())
        return np.asarray(cross_val_predict(model, x, y, cv=folds))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(x))


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
