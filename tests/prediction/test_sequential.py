"""SequentialRegressionModel: predicting a learning curve's final value from its beginning."""

from __future__ import annotations

import csv
import math
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score
from sklearn.utils import estimator_checks

from optuna_srm import SequentialRegressionModel

DOCUMENTED_REGRESSORS = ("auto", "nu_svr_rbf", "nu_svr_linear", "random_forest", "ols")
Z_90 = 1.645  # half-width of a two-sided 90% Gaussian interval, in standard deviations


def saturating_curves(n: int, length: int, seed: int, noise: float = 0.003) -> np.ndarray:
    """Curves ``a - b * exp(-c t)`` plus a little noise, with random ``a``, ``b`` and ``c``."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, length + 1)
    a = rng.uniform(0.5, 1.0, (n, 1))
    b = rng.uniform(0.2, 0.5, (n, 1))
    c = rng.uniform(0.05, 0.3, (n, 1))
    return a - b * np.exp(-c * t) + rng.normal(0.0, noise, (n, length))


def r2_at(model: SequentialRegressionModel, curves: np.ndarray, length: int) -> float:
    mean, _ = model.predict(curves[:, :length])
    return float(r2_score(curves[:, -1], mean))


@pytest.fixture(scope="module")
def train() -> np.ndarray:
    return saturating_curves(40, 30, seed=0)


@pytest.fixture(scope="module")
def held_out() -> np.ndarray:
    return saturating_curves(100, 30, seed=1)


@pytest.fixture(scope="module")
def fitted(train: np.ndarray) -> SequentialRegressionModel:
    return SequentialRegressionModel().fit(train)


def learning_rates(n: int) -> list[dict[str, float]]:
    """One hyperparameter, ``lr``, spread evenly over [0.01, 0.1] among ``n`` curves."""
    return [{"lr": float(lr)} for lr in np.linspace(0.01, 0.1, n)]


@pytest.fixture(scope="module")
def fitted_with_lr(train: np.ndarray) -> SequentialRegressionModel:
    return SequentialRegressionModel().fit(train, learning_rates(len(train)))


# Fitting and predicting.


def test_fit_returns_the_model_and_predict_one_mean_and_std_per_prefix(
    train: np.ndarray, held_out: np.ndarray
) -> None:
    model = SequentialRegressionModel()

    assert model.fit(train) is model
    mean, std = model.predict(held_out[:7, :10])

    assert mean.shape == std.shape == (7,)
    assert np.isfinite(mean).all()
    assert (std > 0).all()


def test_accepts_lists_of_lists_as_well_as_arrays(train: np.ndarray) -> None:
    from_array = SequentialRegressionModel().fit(train).predict(train[:3, :5])
    from_lists = SequentialRegressionModel().fit(train.tolist()).predict(train[:3, :5].tolist())

    np.testing.assert_allclose(from_lists, from_array)
    frame = pd.DataFrame(train, columns=[f"epoch_{i}" for i in range(train.shape[1])])
    from_frame = SequentialRegressionModel().fit(frame).predict(frame.iloc[:3, :5])
    np.testing.assert_allclose(from_frame, from_array)  # rows are curves, as in an array


def test_predicts_prefixes_of_every_length_at_once(
    fitted: SequentialRegressionModel, held_out: np.ndarray
) -> None:
    prefixes = [held_out[i % 100, : 1 + i] for i in range(30)]

    mean, std = fitted.predict(prefixes)

    assert mean.shape == std.shape == (30,)
    assert np.isfinite(mean).all()
    assert np.isfinite(std).all()
    # The longer the prefix, the better; the full curve predicts (about) its own last value.
    errors = np.abs(mean - held_out[np.arange(30), -1])
    assert errors[-1] < 0.01
    assert errors[-10:].mean() < errors[:10].mean()
    assert std[-1] < std[0]


def test_lengths_between_trained_ones_are_predicted(held_out: np.ndarray) -> None:
    model = SequentialRegressionModel(max_lengths=5).fit(saturating_curves(60, 30, seed=2))
    assert 1 < model.lengths_.size <= 5
    assert model.lengths_[0] == 1
    assert model.lengths_[-1] == 30
    assert 7 not in model.lengths_
    below = int(model.lengths_[model.lengths_ < 7].max())
    above = int(model.lengths_[model.lengths_ > 7].min())

    mean, std = model.predict(held_out[:, :7])

    assert np.isfinite(mean).all()
    _, std_below = model.predict(held_out[:, :below])
    _, std_above = model.predict(held_out[:, :above])
    lowest, highest = sorted([std_below[0], std_above[0]])
    assert lowest <= std[0] <= highest
    # Seeing 7 values predicts at least as well as seeing only the trained length below.
    assert r2_at(model, held_out, 7) >= r2_at(model, held_out, below) - 0.02


def test_seeing_more_of_the_curve_never_predicts_much_worse(held_out: np.ndarray) -> None:
    # Between two trained lengths, a prediction should be at least as good as the one made
    # from the shorter trained length alone (it could simply ignore the extra values).
    model = SequentialRegressionModel(max_lengths=5).fit(saturating_curves(60, 30, seed=2))
    below = int(model.lengths_[1])  # the second trained length; the first is 1
    reference = r2_at(model, held_out, 1)

    scores = {k: round(r2_at(model, held_out, k), 3) for k in range(1, below + 1)}

    assert all(score >= reference - 0.05 for score in scores.values()), f"R^2 by length: {scores}"


def test_prefixes_longer_than_the_training_curves_predict_their_last_value(
    fitted: SequentialRegressionModel, held_out: np.ndarray
) -> None:
    # The training curves end at 30 values; these go on, flat, for 15 more.
    longer = np.hstack([held_out, np.repeat(held_out[:, -1:], 15, axis=1)])

    mean, std = fitted.predict(longer)

    assert np.isfinite(std).all()
    # Finals spread over about 0.5; the whole curve is known, so the error should be tiny.
    error = np.abs(mean - held_out[:, -1])
    assert error.max() < 0.01, f"max error {error.max():.4f}, std {std.max():.4f}"


def test_curves_of_different_lengths(held_out: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    full = saturating_curves(40, 30, seed=3)
    lengths = rng.integers(5, 31, size=40)
    lengths[:3] = 30
    curves = [curve[:n] for curve, n in zip(full, lengths, strict=True)]

    model = SequentialRegressionModel().fit(curves)
    prefixes = [held_out[i, : 1 + i % 35] for i in range(40)]
    mean, std = model.predict(prefixes)

    assert model.lengths_[-1] == 30
    assert np.isfinite(mean).all()
    assert np.isfinite(std).all()


@pytest.mark.parametrize("n_long", [1, 3])
def test_a_few_longer_curves_leave_the_others_their_lengths(
    n_long: int, train: np.ndarray, held_out: np.ndarray
) -> None:
    # The lengths were spread evenly up to the longest curve: one curve of 500 values left a
    # model of length 1 only, three a model at 1 and the next at 22, for 40 curves of 30.
    long = saturating_curves(n_long, 500, seed=6)
    model = SequentialRegressionModel().fit([*train, *long])
    alone = SequentialRegressionModel().fit(train)

    for k in (5, 15, 29):
        assert model.lengths_[model.lengths_ <= k][-1] >= k - 2, model.lengths_
        mean, _ = model.predict(held_out[:, :k])
        reference, _ = alone.predict(held_out[:, :k])
        error, reference_error = (
            np.sqrt(np.mean((m - held_out[:, -1]) ** 2)) for m in (mean, reference)
        )
        assert error < 1.5 * reference_error, (k, error, reference_error)


def test_lengths_reached_by_fewer_than_three_curves_get_no_model() -> None:
    curves = [*saturating_curves(5, 10, seed=4), *saturating_curves(2, 20, seed=5)]

    model = SequentialRegressionModel(max_lengths=20).fit(curves)
    mean, _ = model.predict([curves[-1]])

    assert model.lengths_[-1] == 10
    assert np.isfinite(mean).all()


def _curves_whose_final_depends_on(kind: str, n: int, seed: int) -> tuple[np.ndarray, list[Any]]:
    """Curves whose late rise is set by one hyperparameter of ``kind`` (unseen at 25%)."""
    rng = np.random.default_rng(seed)
    if kind == "categorical":
        labels = rng.choice(["adam", "sgd", "rmsprop"], n)
        offset = np.array([{"adam": 0.15, "sgd": 0.0, "rmsprop": -0.15}[v] for v in labels])
        params: list[Any] = [{"optimizer": str(v)} for v in labels]
    elif kind == "boolean":
        flags = rng.random(n) < 0.5
        offset = np.where(flags, 0.2, 0.0)
        params = [{"batch_norm": bool(v)} for v in flags]
    elif kind == "numeric":
        dropout = rng.uniform(0.0, 1.0, n)
        offset = 0.3 * dropout
        params = [{"dropout": float(v)} for v in dropout]
    else:  # log-scaled: the final depends on the order of magnitude of the learning rate
        lr = 10 ** rng.uniform(-5.0, -1.0, n)
        offset = 0.1 * (np.log10(lr) + 3.0)
        params = [{"lr": float(v)} for v in lr]
    t = np.arange(1, 21)
    late = np.clip((t - 10) / 10, 0.0, 1.0)
    curves = saturating_curves(n, 20, seed + 1000) + offset[:, None] * late
    return curves, params


@pytest.mark.parametrize("kind", ["categorical", "boolean", "numeric", "log-scaled"])
def test_params_improve_predictions_when_the_final_depends_on_them(kind: str) -> None:
    curves, params = _curves_whose_final_depends_on(kind, 60, seed=6)
    test_curves, test_params = _curves_whose_final_depends_on(kind, 100, seed=7)

    with_params = SequentialRegressionModel(max_lengths=20).fit(curves, params)
    without = SequentialRegressionModel(max_lengths=20).fit(curves)
    r2_with = r2_score(test_curves[:, -1], with_params.predict(test_curves[:, :5], test_params)[0])
    r2_without = r2_score(test_curves[:, -1], without.predict(test_curves[:, :5])[0])

    assert r2_with > 0.85
    assert r2_with > r2_without + 0.2


def test_a_category_of_a_single_training_curve_counts_as_unseen() -> None:
    # Like an architecture written as text: almost every curve has its own value.
    curves, params = _curves_whose_final_depends_on("numeric", 60, seed=6)
    test_curves, test_params = _curves_whose_final_depends_on("numeric", 100, seed=7)
    labelled = [dict(p, layers=f"{i}-{i % 7}") for i, p in enumerate(params)]
    test_labelled = [dict(p, layers=f"{i + 60}-{i % 7}") for i, p in enumerate(test_params)]

    model = SequentialRegressionModel(max_lengths=20).fit(curves, labelled)
    without = SequentialRegressionModel(max_lengths=20).fit(curves, params)
    mean, _ = model.predict(test_curves[:, :5], test_labelled)

    # A column per training curve would cost accuracy (R^2 0.82 here).
    assert r2_score(test_curves[:, -1], mean) > 0.9
    assert model.encoder_.categories_ == {"layers": []}
    np.testing.assert_allclose(mean, without.predict(test_curves[:, :5], test_params)[0])


def test_params_of_every_kind_together() -> None:
    curves = saturating_curves(30, 10, seed=8)
    rng = np.random.default_rng(8)
    params = [
        {
            "lr": float(10 ** rng.uniform(-5, -1)),
            "units": int(rng.integers(16, 512)),
            "dropout": float(rng.uniform(0, 0.5)),
            "optimizer": str(rng.choice(["adam", "sgd"])),
            "batch_norm": bool(rng.random() < 0.5),
        }
        for _ in range(30)
    ]

    model = SequentialRegressionModel().fit(curves, params)
    # Unseen category, a missing entry and an extra name are all tolerated.
    query = [dict(params[0], optimizer="rmsprop"), {"lr": 1e-3}, dict(params[1], extra=1.0)]
    mean, std = model.predict(curves[:3, :4], query)

    assert np.isfinite(mean).all()
    assert np.isfinite(std).all()


def test_final_values_are_the_targets(train: np.ndarray) -> None:
    model = SequentialRegressionModel(max_lengths=5).fit(train, final_values=train[:, -1] + 0.3)
    default = SequentialRegressionModel(max_lengths=5).fit(train)

    mean, _ = model.predict(train[:5])
    default_mean, _ = default.predict(train[:5])

    # Finals spread over about 0.5: both models learnt their own targets.
    np.testing.assert_allclose(mean, train[:5, -1] + 0.3, atol=0.05)
    np.testing.assert_allclose(default_mean, train[:5, -1], atol=0.01)


def test_non_finite_values_in_curves_count_as_missing(train: np.ndarray) -> None:
    dirty = train.copy()
    dirty[0, 5:8] = math.nan
    dirty[1, 10] = math.inf
    dirty[2, 0] = -math.inf
    clean = train.copy()
    clean[0, 5:8] = clean[0, 4]
    clean[1, 10] = clean[1, 9]
    clean[2, 0] = clean[2, 1]
    # Trailing missing values end the curve: NaN pads a shorter row of an array.
    dirty[4, -3:] = math.nan
    clean_curves = [*clean[:4], clean[4, :-3], *clean[5:]]

    from_dirty = SequentialRegressionModel(max_lengths=30).fit(dirty)
    from_clean = SequentialRegressionModel(max_lengths=30).fit(clean_curves)
    prefixes = [[0.4, math.nan, 0.5, math.inf, 0.55], [math.nan, 0.3, 0.4, math.nan, math.nan]]
    filled = [[0.4, 0.4, 0.5, 0.5, 0.55], [0.3, 0.3, 0.4]]

    np.testing.assert_allclose(from_dirty.predict(prefixes), from_clean.predict(filled))
    assert np.isfinite(from_dirty.predict(prefixes)).all()


def test_curves_without_a_finite_value_or_final_value_are_skipped(train: np.ndarray) -> None:
    curves = [*train[:10], np.full(30, math.nan), [math.inf, -math.inf]]
    finals = [*train[:10, -1], 0.9, 0.9]
    finals[0] = math.nan

    model = SequentialRegressionModel(max_lengths=5).fit(curves, final_values=finals)
    reference = SequentialRegressionModel(max_lengths=5).fit(train[1:10])

    np.testing.assert_allclose(
        model.predict(train[20:25, :6]), reference.predict(train[20:25, :6])
    )


@pytest.mark.parametrize("regressor", DOCUMENTED_REGRESSORS)
def test_every_regressor_fits_and_predicts_finite_values(
    regressor: str, train: np.ndarray, held_out: np.ndarray
) -> None:
    model = SequentialRegressionModel(regressor, max_lengths=2, n_iter=2, cv=2, random_state=0)

    model.fit(train[:, :12])
    mean, std = model.predict([c[:k] for c in held_out[:12, :12] for k in (1, 6, 12, 15)])

    assert np.isfinite(mean).all()
    assert np.isfinite(std).all()
    assert (std >= 0).all()
    # At a trained length the regressor has learnt something: better than the average final.
    first, _ = model.predict(held_out[:, :1])
    assert r2_score(held_out[:, 11], first) > 0.5


def test_smooth_curves_are_predicted_well_from_a_quarter_of_the_curve() -> None:
    train = saturating_curves(100, 40, seed=9, noise=0.005)
    test = saturating_curves(200, 40, seed=10, noise=0.005)

    model = SequentialRegressionModel(random_state=0).fit(train)

    assert r2_at(model, test, 10) > 0.9


def test_std_gives_a_calibrated_90_percent_interval() -> None:
    train = saturating_curves(100, 40, seed=11, noise=0.005)
    test = saturating_curves(400, 40, seed=12, noise=0.005)
    model = SequentialRegressionModel(random_state=0).fit(train)

    coverage = {}
    for length in (5, 10, 20):
        mean, std = model.predict(test[:, :length])
        coverage[length] = float(np.mean(np.abs(test[:, -1] - mean) <= Z_90 * std))

    assert all(0.75 <= c <= 0.99 for c in coverage.values()), coverage


# The leave-one-out of the default regressor, and the folds that every searched regressor
# shares (a random forest's, 15 times slower, too).
@pytest.mark.parametrize("regressor", ["auto", "nu_svr_rbf"])
def test_curves_trained_twice_alike_do_not_narrow_the_std(regressor: str) -> None:
    # Left out alone (or in another fold than its copy), a curve was predicted by its
    # identical copy: the errors came out near zero, the std halved, and the 90% intervals
    # covered about half of the finals. Copies left out apart make the std 20% (nu_svr_rbf)
    # to 40% (auto) narrower at length 20 here.
    train = saturating_curves(100, 40, seed=11, noise=0.005)
    test = saturating_curves(400, 40, seed=12, noise=0.005)
    kwargs = {"max_lengths": 4, "n_iter": 3, "random_state": 0}
    once = SequentialRegressionModel(regressor, **kwargs).fit(train)
    twice = SequentialRegressionModel(regressor, **kwargs).fit(np.vstack([train, train]))

    for length in (5, 10, 20):
        _, std = once.predict(test[:, :length])
        mean, std_twice = twice.predict(test[:, :length])
        np.testing.assert_allclose(std_twice, std, rtol=0.1)
        assert np.mean(np.abs(test[:, -1] - mean) <= Z_90 * std_twice) >= 0.75


@pytest.mark.parametrize("regressor", ["auto", "nu_svr_rbf", "ols"])
def test_a_prediction_beyond_the_training_range_is_the_one_at_its_edge(
    regressor: str, train: np.ndarray
) -> None:
    # A hyperparameter far beyond the trained range, or a curve unlike every training curve,
    # predicts as at the edge of the range (widened by a tenth): no extrapolation, however far.
    params = [{"lr": lr} for lr in np.linspace(0.01, 0.1, len(train))]
    model = SequentialRegressionModel(regressor, n_iter=2, cv=2, random_state=0)
    model.fit(train, params)
    prefix = train[:1, :8]

    edge, _ = model.predict(prefix, [{"lr": 0.2}])
    for lr in (10.0, 1e6):
        np.testing.assert_allclose(model.predict(prefix, [{"lr": lr}])[0], edge)
    inside, _ = model.predict(prefix, [{"lr": 0.05}])
    assert not np.allclose(inside, edge)

    # Raising a prefix's early values beyond every training curve's changes its features only
    # up to the edge: the predicted gain over its (unchanged) last value stops moving.
    gains = []
    for lift in (5.0, 50.0):
        lifted = prefix.copy()
        lifted[0, 0] += lift
        mean, _ = model.predict(lifted, [{"lr": 0.05}])
        gains.append(mean - lifted[0, -1])
    np.testing.assert_allclose(gains[0], gains[1])


def test_a_hyperparameter_with_one_value_is_a_constant_feature(
    train: np.ndarray, held_out: np.ndarray
) -> None:
    # The std of a column of 0.1s is rounding noise (1e-17), not 0 as for 0.5s: standardised by
    # it, the column became a feature of noise in the fit, and any other value one of 1e15.
    # Constant at 0.1 or at 0.5, the column must tell the model the same: nothing.
    lrs = np.linspace(0.01, 0.1, len(train))
    models = {
        wd: SequentialRegressionModel().fit(train, [{"wd": wd, "lr": lr} for lr in lrs])
        for wd in (0.1, 0.5)
    }

    for k in (3, 10, 30):
        prefixes = held_out[:20, :k]
        at_01, _ = models[0.1].predict(prefixes, [{"wd": 0.1, "lr": 0.05}] * 20)
        at_05, _ = models[0.5].predict(prefixes, [{"wd": 0.5, "lr": 0.05}] * 20)
        np.testing.assert_allclose(at_01, at_05)


@pytest.mark.parametrize(
    ("scale", "shift"), [(1e-12, 0.0), (1e-12, 3e-9), (1e200, -1e201), (-1.0, 7.0)]
)
def test_predictions_follow_the_objective_at_any_scale(
    train: np.ndarray,
    held_out: np.ndarray,
    fitted_with_lr: SequentialRegressionModel,
    scale: float,
    shift: float,
) -> None:
    # An objective of 1e-12 lost its curve features as constant columns; one of 1e200
    # overflowed the variance to NaN. The model must treat every affine image of a curve alike.
    reference = fitted_with_lr
    mapped = SequentialRegressionModel().fit(train * scale + shift, learning_rates(len(train)))
    for k in (1, 5, 20):
        prefixes = held_out[:20, :k]
        params = [{"lr": 0.05}] * 20
        mean, std = reference.predict(prefixes, params)
        mapped_mean, mapped_std = mapped.predict(prefixes * scale + shift, params)
        np.testing.assert_allclose(
            mapped_mean, mean * scale + shift, rtol=1e-6, atol=1e-6 * abs(scale)
        )
        np.testing.assert_allclose(mapped_std, std * abs(scale), rtol=1e-6)


def test_a_prefix_near_the_float_limit_is_predicted_finite(
    fitted: SequentialRegressionModel,
) -> None:
    # In the units of accuracies, 1e308 overflowed to inf, and inf - inf made the mean NaN.
    prefixes = [[0.5, 1e308], [1e308], [-1e308], [0.5, 0.6, 1e308]]
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = fitted.predict(prefixes)
    assert np.isfinite(mean).all(), mean
    assert np.isfinite(std).all(), std


@pytest.mark.parametrize("scale", [1e-300, 1e-12, 1e306])
def test_hyperparameters_of_any_scale_are_fitted_alike(
    train: np.ndarray,
    held_out: np.ndarray,
    fitted_with_lr: SequentialRegressionModel,
    scale: float,
) -> None:
    # Means and variances of a column near 1e306 overflowed (every fit failed); a column of
    # 1e-12s had a std below the floor that marks constant columns, and was ignored.
    reference = fitted_with_lr
    scaled_lrs = [{"lr": p["lr"] * scale} for p in learning_rates(len(train))]
    with np.errstate(over="raise"):
        scaled = SequentialRegressionModel().fit(train, scaled_lrs)
        for k in (3, 10):
            prefixes = held_out[:20, :k]
            lr = np.linspace(0.0, 0.2, 20)
            mean, std = reference.predict(prefixes, [{"lr": v} for v in lr])
            scaled_mean, scaled_std = scaled.predict(prefixes, [{"lr": v * scale} for v in lr])
            np.testing.assert_allclose(scaled_mean, mean, rtol=1e-6)
            np.testing.assert_allclose(scaled_std, std, rtol=1e-6)


MLP_DIGITS = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "mlp_digits.csv"


def _read_mlp_digits() -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The recorded accuracy curves of 400 MLPs on digits (30 epochs) and their settings."""
    with MLP_DIGITS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    curves = np.array([[float(row[f"acc_{i}"]) for i in range(1, 31)] for row in rows])
    params: list[dict[str, Any]] = [
        {
            "learning_rate_init": float(row["learning_rate_init"]),
            "alpha": float(row["alpha"]),
            "momentum": float(row["momentum"]),
            "batch_size": int(row["batch_size"]),
            "n_layers": int(row["n_layers"]),
            "num_params": int(row["num_params"]),
            "activation": row["activation"],
            "solver": row["solver"],
        }
        for row in rows
    ]
    return curves, params


def test_real_curves_are_predicted_from_a_quarter_of_their_epochs() -> None:
    # The paper's protocol: 100 fully observed curves drawn at random train the model, which
    # predicts the others' final accuracy from their first epochs.
    curves, params = _read_mlp_digits()
    order = np.random.default_rng(0).permutation(len(curves))
    train, test = order[:100], order[100:]

    model = SequentialRegressionModel(random_state=0)
    model.fit(curves[train], [params[i] for i in train])
    mean, _ = model.predict(curves[test, :8], [params[i] for i in test])

    r2 = r2_score(curves[test, -1], mean)
    last_value = r2_score(curves[test, -1], curves[test, 7])
    assert r2 > 0.6, r2
    assert r2 > last_value + 0.15, (r2, last_value)  # far better than the last value seen


# Constructor arguments: checked by fit, as in scikit-learn.


def test_regressor_argument(train: np.ndarray) -> None:
    means = {
        regressor: SequentialRegressionModel(regressor, max_lengths=3)
        .fit(train)
        .predict(train[:5, :4])[0]
        for regressor in ("auto", "kernel_ridge", "ols")
    }
    np.testing.assert_array_equal(means["auto"], means["kernel_ridge"])  # as documented
    assert not np.allclose(means["ols"], means["auto"])

    for regressor in ("nope", "", "AUTO", None):
        with pytest.raises(ValueError, match="regressor"):
            SequentialRegressionModel(regressor).fit(train[:5])  # type: ignore[arg-type]


def test_max_lengths_argument(train: np.ndarray) -> None:
    for max_lengths in (1, 3, 100):
        model = SequentialRegressionModel(max_lengths=max_lengths).fit(train)
        assert model.lengths_.size <= max_lengths
        assert np.isfinite(model.predict(train[:2, :10])[0]).all()

    for max_lengths in (0, -1, 2.5, True, "3", None):
        with pytest.raises(ValueError, match="max_lengths"):
            SequentialRegressionModel(max_lengths=max_lengths).fit(train)  # type: ignore[arg-type]


def test_n_iter_argument(train: np.ndarray) -> None:
    means = [
        SequentialRegressionModel("nu_svr_linear", max_lengths=2, n_iter=n_iter, random_state=0)
        .fit(train)
        .predict(train[:5, :4])[0]
        for n_iter in (1, 3)
    ]
    assert not np.allclose(means[0], means[1])  # more candidates, another choice

    for n_iter in (0, -1, 1.5, "2", None):
        with pytest.raises(ValueError, match="n_iter"):
            SequentialRegressionModel(n_iter=n_iter).fit(train)  # type: ignore[arg-type]


def test_cv_argument(train: np.ndarray) -> None:
    stds = {
        cv: SequentialRegressionModel(
            "nu_svr_linear", max_lengths=2, n_iter=1, cv=cv, random_state=0
        )
        .fit(train)
        .predict(train[:5, :4])[1]
        for cv in (2, 5, len(train), 100)
    }
    assert not np.allclose(stds[2], stds[5])  # the out-of-sample errors of other folds
    np.testing.assert_array_equal(stds[100], stds[len(train)])  # clipped to one per curve

    for cv in (1, 0, 2.0, "3", None):
        with pytest.raises(ValueError, match="cv"):
            SequentialRegressionModel(cv=cv).fit(train)  # type: ignore[arg-type]


def test_max_train_curves_argument(train: np.ndarray) -> None:
    for limit in (None, 3, 50):
        SequentialRegressionModel(max_train_curves=limit, max_lengths=2).fit(train)
    # Only the first curves are learnt from.
    limited = SequentialRegressionModel(max_train_curves=10, max_lengths=5).fit(train)
    first = SequentialRegressionModel(max_lengths=5).fit(train[:10])
    np.testing.assert_allclose(limited.predict(train[30:, :8]), first.predict(train[30:, :8]))

    for limit in (2, 0, -1, 5.0, "10"):
        with pytest.raises(ValueError, match="max_train_curves"):
            SequentialRegressionModel(max_train_curves=limit).fit(train)  # type: ignore[arg-type]


def test_random_state_argument(train: np.ndarray) -> None:
    for random_state in (None, 0, np.random.RandomState(0)):
        SequentialRegressionModel(
            "nu_svr_rbf", max_lengths=2, n_iter=2, random_state=random_state
        ).fit(train)
    # The same seed gives the same model.
    runs = [
        SequentialRegressionModel("nu_svr_rbf", max_lengths=3, n_iter=3, random_state=7)
        .fit(train)
        .predict(train[:5, :4])
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])

    for random_state in ("x", 1.5, [1, 2, 3, -1]):
        with pytest.raises(ValueError, match="random_state"):
            SequentialRegressionModel(random_state=random_state).fit(train)  # type: ignore[arg-type]

    # A rejected fit leaves the previous one whole (the encoder of the new params replaced
    # the fitted one before the seed was checked).
    model = SequentialRegressionModel(random_state=0).fit(train, [{"lr": 0.1}] * len(train))
    before = model.predict(train[:5, :4], [{"lr": 0.1}] * 5)
    model.set_params(random_state="x")
    with pytest.raises(ValueError, match="random_state"):
        model.fit(train, [{"lr": 0.1, "optimizer": "sgd"}] * len(train))
    np.testing.assert_array_equal(model.predict(train[:5, :4], [{"lr": 0.1}] * 5), before)


@pytest.mark.parametrize("name", ["max_lengths", "n_iter", "cv", "max_train_curves"])
def test_integer_arguments_accept_numpy_integers(name: str, train: np.ndarray) -> None:
    # Grids built with numpy (np.arange, np.linspace(...).astype(int)) hand over numpy integers.
    model = SequentialRegressionModel("nu_svr_linear", max_lengths=2, n_iter=1)

    model.set_params(**{name: np.int64(4)}).fit(train)

    assert np.isfinite(model.predict(train[:2, :5])[0]).all()


# Arguments of fit and predict.


@pytest.mark.parametrize(
    ("curves", "match"),
    [
        ([], "curves"),
        ("0.1 0.2 0.3", "curves"),
        (5, "curves"),
        ([[0.1, 0.2], [[0.1, 0.2], [0.3, 0.4]], [0.5]], r"curves\[1\]"),
        ([[0.1, 0.2], [], [0.5]], r"curves\[1\]"),
        ([[0.1, 0.2], ["a", "b"], [0.5]], r"curves\[1\]"),
        ([[0.1, 0.2], [10**400, 0.5], [0.5]], r"curves\[1\] must be a 1-D sequence of numbers"),
    ],
)
def test_fit_rejects_bad_curves(curves: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SequentialRegressionModel().fit(curves)


@pytest.mark.parametrize(
    "params",
    [
        [{"x": 1.0}] * 4,  # one short
        [{"x": 1.0}] * 6,  # one too many
        [{"x": 1.0}, {"x": 2.0}, ("x", 3.0), {"x": 4.0}, {"x": 5.0}],
        [1.0, 2.0, 3.0, 4.0, 5.0],
        [{"x": 1.0}, {"x": 10**400}, {"x": 3.0}, {"x": 4.0}, {"x": 5.0}],  # beyond a float
        [{1: 1.0}] * 5,  # names must be str
    ],
)
def test_fit_rejects_bad_params(params: Any, train: np.ndarray) -> None:
    with pytest.raises(ValueError, match="params"):
        SequentialRegressionModel().fit(train[:5], params)


@pytest.mark.parametrize("final_values", [[0.9] * 4, [0.9] * 6, []])
def test_fit_rejects_final_values_of_another_length(
    final_values: list[float], train: np.ndarray
) -> None:
    with pytest.raises(ValueError, match="final_values"):
        SequentialRegressionModel().fit(train[:5], final_values=final_values)


def test_fit_rejects_final_values_that_are_not_numbers(train: np.ndarray) -> None:
    with pytest.raises(ValueError, match="final_values must hold numbers: could not convert"):
        SequentialRegressionModel().fit(train[:5], final_values=["a"] * 5)
    with pytest.raises(ValueError, match="final_values must hold numbers: int too large"):
        SequentialRegressionModel().fit(train[:5], final_values=[10**400] * 5)


def test_a_parameter_without_any_finite_value_is_ignored_quietly(train: np.ndarray) -> None:
    params = [{"lr": math.nan, "depth": i} for i in range(len(train))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning about empty slices either
        model = SequentialRegressionModel(max_lengths=5).fit(train, params)
        mean, _ = model.predict(train[:3, :4], [{"lr": 0.1, "depth": 1}] * 3)
    assert np.isfinite(mean).all()


@pytest.mark.parametrize(
    ("curves", "final_values"),
    [
        ([[0.1, 0.2], [0.3, 0.4]], None),
        ([[0.1, 0.2], [0.3, 0.4], [math.nan, math.nan]], None),
        ([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [0.2, math.nan, 0.6]),
        ([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [0.2, math.inf, -math.inf]),
    ],
)
def test_fit_needs_three_usable_curves(curves: Any, final_values: Any) -> None:
    with pytest.raises(ValueError, match="curves"):
        SequentialRegressionModel().fit(curves, final_values=final_values)


def test_predict_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        SequentialRegressionModel().predict([[0.1, 0.2]])


@pytest.mark.parametrize("prefix", [[math.nan], [math.nan, math.inf, -math.inf]])
def test_predict_rejects_a_prefix_without_finite_value(
    prefix: list[float], fitted: SequentialRegressionModel
) -> None:
    with pytest.raises(ValueError, match=r"prefixes\[1\]"):
        fitted.predict([[0.3, 0.4], prefix])


@pytest.mark.parametrize(
    ("prefixes", "params", "match"),
    [
        ([], None, "prefixes"),
        ([[[0.1, 0.2]]], None, r"prefixes\[0\]"),
        ([[]], None, r"prefixes\[0\]"),
        ([[0.1], [0.2]], [{}], "params"),
        ([[0.1], [0.2]], [{}, "x"], "params"),
    ],
)
def test_predict_rejects_bad_arguments(
    prefixes: Any, params: Any, match: str, fitted: SequentialRegressionModel
) -> None:
    with pytest.raises(ValueError, match=match):
        fitted.predict(prefixes, params)


# scikit-learn conventions.

# The checks of scikit-learn's own suite that apply to an estimator of curves; the older
# scikit-learn releases that pyproject.toml admits lack some of them (tags came in 1.6).
ESTIMATOR_CHECKS: list[Callable[[str, Any], None]] = [
    getattr(estimator_checks, name)
    for name in (
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_repr",
        "check_estimator_cloneable",
        "check_do_not_raise_errors_in_init_or_set_params",
        "check_estimator_tags_renamed",
        "check_valid_tag_types",
        "check_mixin_order",
        "check_estimators_unfitted",
    )
    if hasattr(estimator_checks, name)
]


@pytest.mark.parametrize("check", ESTIMATOR_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("regressor", ["auto", "random_forest"])
def test_sklearn_estimator_checks(check: Callable[[str, Any], None], regressor: str) -> None:
    check("SequentialRegressionModel", SequentialRegressionModel(regressor))


def test_get_params_set_params_and_clone_round_trip() -> None:
    params = {
        "regressor": "ols",
        "max_lengths": 7,
        "n_iter": 4,
        "cv": 5,
        "max_train_curves": 30,
        "random_state": 3,
    }
    model = SequentialRegressionModel().set_params(**params)

    assert model.get_params() == params
    assert clone(model).get_params() == params
    assert SequentialRegressionModel(**params).get_params() == params
    assert "max_lengths=7" in repr(model)


def test_clone_of_a_fitted_model_is_unfitted(fitted: SequentialRegressionModel) -> None:
    copy = clone(fitted)

    assert copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        copy.predict([[0.1, 0.2]])


def test_fit_leaves_the_parameters_alone(train: np.ndarray) -> None:
    model = SequentialRegressionModel("nu_svr_rbf", max_lengths=3, n_iter=2, random_state=0)
    before = model.get_params()

    model.fit(train)

    assert model.get_params() == before


def test_refit_forgets_the_previous_fit(train: np.ndarray) -> None:
    model = SequentialRegressionModel(max_lengths=30).fit(train)
    model.fit(train[:, :10] + 0.2)
    fresh = SequentialRegressionModel(max_lengths=30).fit(train[:, :10] + 0.2)

    assert model.lengths_.tolist() == fresh.lengths_.tolist()
    prefixes = [train[0, :k] for k in (3, 10, 20)]
    np.testing.assert_array_equal(model.predict(prefixes), fresh.predict(prefixes))


def test_a_fitted_model_pickles(fitted: SequentialRegressionModel, held_out: np.ndarray) -> None:
    restored = pickle.loads(pickle.dumps(fitted))

    np.testing.assert_array_equal(
        restored.predict(held_out[:, :6]), fitted.predict(held_out[:, :6])
    )
