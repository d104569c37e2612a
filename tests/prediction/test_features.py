"""Feature extraction: cleaning curves, describing prefixes, encoding hyperparameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optuna_srm.prediction._features import (
    N_CURVE_FEATURES,
    ParamEncoder,
    clean_curve,
    curve_features,
)

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, NAN, 3.0, INF, -INF, 5.0], [1.0, 1.0, 3.0, 3.0, 3.0, 5.0]),
        ([NAN, INF, 2.0, NAN, 4.0], [2.0, 2.0, 2.0, 2.0, 4.0]),
        ([0.5, NAN, NAN], [0.5, 0.5, 0.5]),
        ([-INF, 7.0], [7.0, 7.0]),
        ([1, 2, 3], [1.0, 2.0, 3.0]),
    ],
)
def test_clean_curve_fills_missing_values_from_neighbours(
    values: list[float], expected: list[float]
) -> None:
    cleaned = clean_curve(values)

    assert cleaned.dtype == np.float64
    np.testing.assert_array_equal(cleaned, expected)


def test_clean_curve_leaves_its_input_alone() -> None:
    values = np.array([NAN, 1.0, INF, 2.0])

    clean_curve(values)

    np.testing.assert_array_equal(values, [NAN, 1.0, INF, 2.0])


@pytest.mark.parametrize("values", [[NAN], [NAN, INF, -INF], [], np.full(5, NAN)])
def test_clean_curve_without_finite_value_is_empty(values: list[float]) -> None:
    cleaned = clean_curve(values)

    assert cleaned.shape == (0,)


@pytest.mark.parametrize("length", [1, 2, 5, 50])
def test_curve_features_have_a_fixed_size(length: int) -> None:
    prefix = np.linspace(0.1, 0.9, length) ** 0.5

    features = curve_features(prefix)

    assert features.shape == (N_CURVE_FEATURES,)
    assert np.isfinite(features).all()


@pytest.mark.parametrize("length", [1, 2, 5, 50])
def test_curve_features_of_a_flat_curve_are_its_value_and_zeros(length: int) -> None:
    features = curve_features(np.full(length, 0.7))

    # Values (sampled, last, recent mean, extremes) equal the level; differences and slope are 0.
    assert set(np.round(features, 12)) == {0.7, 0.0}
    assert np.count_nonzero(features) == N_CURVE_FEATURES - 5


def test_curve_features_tell_prefixes_apart() -> None:
    rising = curve_features(np.array([0.1, 0.3, 0.5, 0.6, 0.65]))
    falling = curve_features(np.array([0.65, 0.6, 0.5, 0.3, 0.1]))
    shifted = curve_features(np.array([0.2, 0.4, 0.6, 0.7, 0.75]))

    assert not np.allclose(rising, falling)
    # A shift moves the 8 levels by the shift and leaves the 5 differences and the slope alone.
    change = np.sort(shifted - rising)
    np.testing.assert_allclose(change, [0.0] * 5 + [0.1] * 8, atol=1e-12)


def test_param_encoder_fit_returns_itself() -> None:
    encoder = ParamEncoder()

    assert encoder.fit([{"x": 1.0}]) is encoder


def test_param_encoder_turns_booleans_into_zero_and_one() -> None:
    encoder = ParamEncoder().fit([{"bn": True}, {"bn": False}])

    assert encoder.n_features == 1
    np.testing.assert_array_equal(encoder.transform([{"bn": False}, {"bn": True}]), [[0.0], [1.0]])


def test_param_encoder_keeps_narrow_numbers() -> None:
    encoder = ParamEncoder().fit([{"dropout": 0.5}, {"dropout": 40}])

    np.testing.assert_array_equal(encoder.transform([{"dropout": 2}]), [[2.0]])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1e-4, 1e-1], [-4.0, -1.0]),  # positive, spans a factor of 1000
        ([16, 4096], [math.log10(16), math.log10(4096)]),  # integers too
    ],
)
def test_param_encoder_takes_log10_of_wide_positive_ranges(
    values: list[float], expected: list[float]
) -> None:
    encoder = ParamEncoder().fit([{"lr": v} for v in values])

    np.testing.assert_allclose(encoder.transform([{"lr": v} for v in values]).ravel(), expected)


@pytest.mark.parametrize("values", [[1.0, 100.0], [-1.0, 1000.0], [0.0, 1000.0]])
def test_param_encoder_keeps_ranges_that_are_narrow_or_not_positive(values: list[float]) -> None:
    encoder = ParamEncoder().fit([{"x": v} for v in values])

    np.testing.assert_array_equal(encoder.transform([{"x": v} for v in values]).ravel(), values)


def test_param_encoder_takes_log10_of_log_names() -> None:
    encoder = ParamEncoder(log_names=frozenset({"lr"})).fit([{"lr": 0.01}, {"lr": 0.1}])

    np.testing.assert_allclose(encoder.transform([{"lr": 0.01}, {"lr": 0.1}]), [[-2.0], [-1.0]])


def test_param_encoder_one_hot_encodes_categories() -> None:
    params = [{"optimizer": "sgd"}, {"optimizer": "adam"}, {"optimizer": "sgd"}]
    encoder = ParamEncoder().fit(params)

    encoded = encoder.transform(params)

    assert encoder.n_features == 2
    np.testing.assert_array_equal(encoded.sum(axis=1), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(encoded[0], encoded[2])
    assert not np.array_equal(encoded[0], encoded[1])


def test_param_encoder_one_hot_encodes_none_and_mixed_choices() -> None:
    params = [{"activation": None}, {"activation": "relu"}, {"activation": 3}]
    encoder = ParamEncoder().fit(params)

    encoded = encoder.transform(params)

    assert encoder.n_features == 3
    np.testing.assert_array_equal(np.sort(encoded, axis=None), [0] * 6 + [1] * 3)
    assert np.linalg.matrix_rank(encoded) == 3


def test_param_encoder_takes_numpy_booleans_for_booleans() -> None:
    python = ParamEncoder().fit([{"flag": True}, {"flag": False}])
    numpy = ParamEncoder().fit([{"flag": np.True_}, {"flag": np.False_}])

    for encoder in (python, numpy):
        for flags in ([True, False], [np.True_, np.False_]):
            encoded = encoder.transform([{"flag": flag} for flag in flags])
            np.testing.assert_array_equal(encoded, [[1.0], [0.0]])


def test_param_encoder_takes_none_beside_numbers_as_missing() -> None:
    encoder = ParamEncoder().fit([{"lr": 0.1}, {"lr": None}, {"lr": 0.3}])

    assert encoder.n_features == 1  # one numeric column, not a category per value
    np.testing.assert_array_equal(
        encoder.transform([{"lr": 0.2}, {"lr": None}, {}]), [[0.2], [np.nan], [np.nan]]
    )


def test_param_encoder_keeps_values_of_different_types_apart() -> None:
    # Optuna allows such choices side by side; their texts alone would merge them.
    values: list[object] = [1, "1", True, None, "None", np.int64(1)]
    encoder = ParamEncoder().fit([{"choice": v} for v in values])

    encoded = encoder.transform([{"choice": v} for v in values])

    assert encoder.n_features == 5  # numpy's 1 is Python's
    assert len({tuple(row) for row in encoded[:5]}) == 5
    np.testing.assert_array_equal(encoded[5], encoded[0])


def test_param_encoder_encodes_an_unseen_category_as_zeros() -> None:
    encoder = ParamEncoder().fit([{"optimizer": "sgd"}, {"optimizer": "adam"}])

    np.testing.assert_array_equal(encoder.transform([{"optimizer": "rmsprop"}]), [[0.0, 0.0]])


def test_param_encoder_encodes_a_category_rarer_than_min_count_as_unseen() -> None:
    params = [{"optimizer": "sgd"}, {"optimizer": "adam"}, {"optimizer": "sgd"}]
    encoder = ParamEncoder(min_count=2).fit(params)

    encoded = encoder.transform([*params, {"optimizer": "rmsprop"}])

    assert encoder.n_features == 1
    np.testing.assert_array_equal(encoded, [[1.0], [0.0], [1.0], [0.0]])


def test_param_encoder_encodes_missing_entries_as_nan() -> None:
    params = [{"bn": True, "lr": 1e-3, "units": 64, "optimizer": "sgd"}]
    params.append({"bn": False, "lr": 1e-1, "units": 128, "optimizer": "adam"})
    encoder = ParamEncoder().fit(params)

    encoded = encoder.transform([{}, {"units": 32}])

    assert encoded.shape == (2, 5)
    assert np.isnan(encoded[0]).all()
    assert np.count_nonzero(encoded[1] == 32.0) == 1
    assert np.isnan(encoded[1]).sum() == 4


def test_param_encoder_ignores_names_not_seen_in_fit() -> None:
    encoder = ParamEncoder().fit([{"x": 1.0}, {"x": 2.0}])

    np.testing.assert_array_equal(encoder.transform([{"x": 1.5, "y": "new"}]), [[1.5]])


def test_param_encoder_maps_non_positive_values_of_log_columns_to_nan() -> None:
    encoder = ParamEncoder(log_names=frozenset({"lr"})).fit([{"lr": 0.01}, {"lr": 0.1}])

    assert np.isnan(encoder.transform([{"lr": 0.0}, {"lr": -1.0}])).all()
