"""The regressors behind the length models: kernel ridge regression with closed-form
leave-one-out errors, averaged over kernels, and its robust refit."""

from __future__ import annotations

import numpy as np

from optuna_srm.prediction._regressors import _LAMBDAS, KernelRidgeLOO, _folds, _ridge_loo


def test_kernel_ridge_averages_its_kernels_or_keeps_the_one_with_the_least_loo_error() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    # Two targets fitted at once, each on its own: a wavy one and a linear one.
    y = np.column_stack(
        [
            np.sin(2.0 * x[:, 0]) + 0.5 * x[:, 1] + rng.normal(0.0, 0.1, 60),
            x[:, 2] - x[:, 3] + rng.normal(0.0, 0.1, 60),
        ]
    )
    x_new = rng.normal(size=(10, 4))
    gammas = (0.0, 0.3, 3.0)
    # Without the robust refit, whose row weights the targets share, each target is fitted on
    # its own.
    singles = [[KernelRidgeLOO((gamma,), robust=False) for gamma in gammas] for _ in range(2)]
    loos = np.array([[m.fit(x, y[:, [t]])[:, 0] for m in row] for t, row in enumerate(singles)])
    predictions = np.array([[m.predict(x_new)[:, 0] for m in row] for row in singles])
    assert np.ptp(predictions[0], axis=0).max() > 0.1  # the kernels disagree

    averaged = KernelRidgeLOO(gammas, robust=False)
    np.testing.assert_allclose(averaged.fit(x, y), loos.mean(axis=1).T)
    np.testing.assert_allclose(averaged.predict(x_new), predictions.mean(axis=1).T)

    best = np.argmin(np.mean((y.T[:, None, :] - loos) ** 2, axis=2), axis=1)
    assert best[0] != 0 and best[1] == 0  # not simply the first kernel, nor the same for both
    chosen = KernelRidgeLOO(gammas, average=False, robust=False)
    np.testing.assert_allclose(chosen.fit(x, y), loos[[0, 1], best].T)
    np.testing.assert_allclose(chosen.predict(x_new), predictions[[0, 1], best].T)


def test_weighted_leave_one_out_errors_are_those_of_fits_without_the_row_or_its_copies() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 3))
    x[[5, 17]] = x[2]  # a row trained three times alike: left out together
    kernel = np.exp(-0.5 * np.sum((x[:, None] - x[None]) ** 2, axis=2)) + x @ x.T / 3
    y = np.column_stack([np.sin(x[:, 0]) + rng.normal(0, 0.1, 30), x[:, 1] ** 2])
    weights = rng.uniform(0.1, 1.0, 30)

    dual, loo, score = _ridge_loo(kernel, y, weights, [np.array([2, 5, 17])])

    def fit_without(out: np.ndarray, lam: float) -> np.ndarray:
        keep = np.setdiff1d(np.arange(30), out)
        w = np.diag(weights[keep])
        penalised = w @ kernel[np.ix_(keep, keep)] + lam * np.eye(keep.size)
        coef = np.linalg.solve(penalised, w @ y[keep])
        return np.asarray(kernel[np.ix_(out, keep)] @ coef)

    groups = [np.array([2, 5, 17])] + [np.array([i]) for i in range(30) if i not in (2, 5, 17)]
    brute = np.empty((len(_LAMBDAS), 30, 2))
    for k, lam in enumerate(_LAMBDAS):
        for rows in groups:
            brute[k, rows] = fit_without(rows, lam)
    scores = np.array([weights @ (y - b) ** 2 / weights.sum() for b in brute])
    best = np.argmin(scores, axis=0)
    np.testing.assert_allclose(score, scores.min(axis=0))
    np.testing.assert_allclose(loo, brute[best, :, [0, 1]].T, atol=1e-6)
    # The dual coefficients are those of the weighted fit on every row.
    w = np.diag(weights)
    for t in range(2):
        lam = _LAMBDAS[best[t]]
        expected = np.linalg.solve(w @ kernel + lam * np.eye(30), w @ y[:, t])
        np.testing.assert_allclose(dual[:, t], expected, atol=1e-6)


def test_a_few_wild_training_targets_pull_less_on_the_robust_kernel_ridge() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3))
    truth = np.sin(x[:, 0]) + 0.5 * x[:, 1]
    y = truth + rng.normal(0.0, 0.1, 100)
    y[:5] += 4.0  # late learners, say: far above what their features suggest
    x_new = rng.normal(size=(200, 3))
    truth_new = np.sin(x_new[:, 0]) + 0.5 * x_new[:, 1]

    errors = {}
    for robust in (False, True):
        model = KernelRidgeLOO(robust=robust)
        model.fit(x, y[:, None])
        errors[robust] = float(np.mean((model.predict(x_new)[:, 0] - truth_new) ** 2))

    assert errors[True] < 0.5 * errors[False], errors


def test_the_folds_of_the_searched_regressors_keep_identical_rows_together() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 3))
    twice = np.vstack([x, x, x[:5]])  # each row two or three times

    folds = _folds(twice, cv=4, seed=0)

    assert folds is not None
    assert folds.get_n_splits() == 4
    fold = folds.test_fold
    for row in range(20):
        copies = [row, row + 20, *([row + 40] if row < 5 else [])]
        assert len(set(fold[copies])) == 1, row
    # Too few distinct rows for two per fold: no folds (the mean predicts out of sample).
    assert _folds(np.vstack([x[:3]] * 5), cv=2, seed=0) is None
