"""MetaQNN layer specs and their notation: parse_architecture, format_architecture, parse_layer."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

from optuna_srm import (
    FC,
    GAP,
    Conv,
    Dropout,
    Layer,
    MetaQNNSpace,
    Pool,
    Softmax,
    format_architecture,
    parse_architecture,
)
from optuna_srm.architecture._layers import parse_layer

# Architectures in the paper's notation, as its MetaQNN runs on SVHN recorded them (Baker et al.,
# "Accelerating Neural Architecture Search using Performance Prediction", public data set):
# between them every layer type, dropout schedules of 2 to 6 layers, depths of 2 to 13.
PAPER_NETS = [
    "[C(64,5,1), SM(10)]",
    "[C(128,1,1), C(256,5,1), D(1,2), P(5,3), SM(10)]",
    "[C(256,5,1), C(512,3,1), D(1,2), C(64,5,1), P(5,3), D(2,2), GAP(10), SM(10)]",
    "[C(128,5,1), P(2,2), D(1,5), C(64,1,1), P(3,2), D(2,5), FC(256), D(3,5), FC(256), D(4,5), "
    "SM(10)]",
    "[C(256,3,1), C(128,1,1), D(1,6), C(64,5,1), C(256,3,1), D(2,6), C(64,5,1), C(128,1,1), "
    "D(3,6), C(256,5,1), P(5,3), D(4,6), C(256,5,1), C(512,1,1), D(5,6), C(128,5,1), "
    "C(512,1,1), D(6,6), SM(10)]",
]
# Spaces whose random walks give architectures to round-trip: 2-D and 1-D inputs, FC chains.
SPACES = [
    MetaQNNSpace(),
    MetaQNNSpace((2, 20), 5, 6, conv_filters=(4, 8), fc_units=(16, 8), max_fc=3),
    MetaQNNSpace((1, 12, 12), max_depth=6, size_bins=(6, 3)),
]


def sampled_nets(space: MetaQNNSpace, n: int, seed: int) -> list[list[Layer]]:
    """``n`` architectures of random walks through ``space``, with its dropout schedule."""
    rng = random.Random(seed)
    nets = []
    for _ in range(n):
        state, tokens = space.initial_state(), []
        while not state.terminal:
            tokens.append(rng.choice(space.actions(state)))
            state = space.step(state, tokens[-1])
        nets.append(space.with_dropout(tokens))
    return nets


@pytest.mark.parametrize("net", PAPER_NETS)
def test_the_papers_architectures_round_trip(net: str) -> None:
    layers = parse_architecture(net)

    assert all(isinstance(layer, Conv | Pool | FC | Dropout | GAP | Softmax) for layer in layers)
    assert format_architecture(layers) == net
    assert parse_architecture(format_architecture(layers)) == layers


def test_the_papers_architectures_use_every_layer_type() -> None:
    types = {type(layer) for net in PAPER_NETS for layer in parse_architecture(net)}

    assert types == {Conv, Pool, FC, Dropout, GAP, Softmax}


@pytest.mark.parametrize("space", SPACES, ids=["default", "1d", "bins_6_3"])
def test_sampled_architectures_round_trip(space: MetaQNNSpace) -> None:
    nets = sampled_nets(space, 200, seed=0)

    for layers in nets:
        text = format_architecture(layers)

        assert parse_architecture(text) == layers, text
        assert format_architecture(parse_architecture(text)) == text
    types = {type(layer) for layers in nets for layer in layers}
    assert types == {Conv, Pool, FC, Dropout, GAP, Softmax}  # the sample covers every layer


LAYER_TEXTS: list[tuple[Layer, str]] = [
    (Conv(64, 3, 1), "C(64,3,1)"),
    (Conv(512, 1, 2), "C(512,1,2)"),
    (Pool(5, 3), "P(5,3)"),
    (Pool(2, 2), "P(2,2)"),
    (FC(128), "FC(128)"),
    (Dropout(2, 6), "D(2,6)"),
    (GAP(10), "GAP(10)"),
    (Softmax(10), "SM(10)"),
]


@pytest.mark.parametrize(("layer", "text"), LAYER_TEXTS)
def test_each_layer_type_prints_and_parses(layer: Layer, text: str) -> None:
    assert str(layer) == text
    assert parse_layer(text) == layer
    assert type(parse_layer(text)) is type(layer)
    assert parse_architecture(f"[{text}]") == [layer]
    assert format_architecture([layer]) == f"[{text}]"


def test_architecture_prints_layers_in_order_with_comma_and_space() -> None:
    layers: list[Layer] = [layer for layer, _ in LAYER_TEXTS]

    text = format_architecture(layers)

    assert text == "[" + ", ".join(t for _, t in LAYER_TEXTS) + "]"
    assert parse_architecture(text) == layers


def test_parse_architecture_example_of_the_issue() -> None:
    text = "[C(64,1,1), C(128,1,1), D(1,3), P(2,2), GAP(10), SM(10)]"

    layers = parse_architecture(text)

    assert layers == [
        Conv(64, 1, 1),
        Conv(128, 1, 1),
        Dropout(1, 3),
        Pool(2, 2),
        GAP(10),
        Softmax(10),
    ]
    assert format_architecture(layers) == text


def test_parse_architecture_tolerates_whitespace() -> None:
    assert parse_architecture("  [ C(64, 3, 1) ,P(2,2),SM( 10 ) ]  ") == [
        Conv(64, 3, 1),
        Pool(2, 2),
        Softmax(10),
    ]


def test_empty_architecture() -> None:
    assert parse_architecture("[]") == []
    assert parse_architecture("[ ]") == []
    assert format_architecture([]) == "[]"


def test_conv_stride_defaults_to_one() -> None:
    assert Conv(64, 3) == Conv(64, 3, 1)
    assert str(Conv(64, 3)) == "C(64,3,1)"


@pytest.mark.parametrize(
    ("dropout", "rate"),
    [
        (Dropout(1, 1), 0.5),
        (Dropout(1, 2), 0.25),
        (Dropout(2, 2), 0.5),
        (Dropout(3, 6), 0.25),
        (Dropout(1, 5), 0.1),
        (Dropout(6, 6), 0.5),
    ],
)
def test_dropout_rate_is_index_over_twice_total(dropout: Dropout, rate: float) -> None:
    assert dropout.rate == pytest.approx(rate)


def test_layers_are_frozen_and_hashable() -> None:
    layer = Conv(64, 3, 1)

    with pytest.raises(AttributeError):
        layer.filters = 128  # type: ignore[misc]
    assert len({Conv(64, 3, 1), Conv(64, 3, 1), Pool(2, 2)}) == 2


@pytest.mark.parametrize(
    "text",
    [
        # missing or broken brackets
        "C(64,3,1), SM(10)",
        "[C(64,3,1), SM(10)",
        "C(64,3,1), SM(10)]",
        "(C(64,3,1), SM(10))",
        "",
        # unknown layer or malformed token
        "[X(3)]",
        "[c(64,3,1)]",
        "[Conv(64,3,1)]",
        "[SM]",
        "[SM()]",
        "[C(64,3,1]",
        "[C((64,3,1), SM(10)]",
        "[C(64,3,1)), SM(10)]",
        "[SM(10) x]",
        "[SM(10)(3)]",
        "[C(64,3,1)junk, SM(10)]",
        # wrong arity
        "[C(64,3)]",
        "[C(64,3,1,1)]",
        "[P(2)]",
        "[P(2,2,2)]",
        "[FC(128,64)]",
        "[D(1)]",
        "[GAP(10,10)]",
        "[SM(10,10)]",
        # zero, negative or non-integer values
        "[C(0,3,1)]",
        "[C(64,0,1)]",
        "[C(64,3,0)]",
        "[P(2,0)]",
        "[FC(0)]",
        "[D(0,2)]",
        "[GAP(0)]",
        "[SM(0)]",
        "[C(-64,3,1)]",
        "[C(64.0,3,1)]",
        # dropout index above its total
        "[D(3,2)]",
    ],
)
def test_parse_architecture_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_architecture(text)


@pytest.mark.parametrize("value", [None, 42, ["C(64,3,1)"], b"[SM(10)]", [Conv(64, 3, 1)]])
def test_parse_architecture_rejects_non_strings(value: object) -> None:
    with pytest.raises(ValueError, match="string"):
        parse_architecture(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["C(64,3)", "D(3,2)", "SM(0)", "X(1)", "C(64,3,1), SM(10)", "[C(64,3,1)]", ""]
)
def test_parse_layer_rejects_malformed_tokens(text: str) -> None:
    with pytest.raises(ValueError):
        parse_layer(text)


@pytest.mark.parametrize(
    "text",
    [
        "[C(64,3,1) SM(10)]",
        "[C(64,3,1)SM(10)]",
        "[C(64,3,1),, SM(10)]",
        "[C(64,3,1), SM(10),]",
        "[, SM(10)]",
    ],
)
def test_parse_architecture_rejects_missing_or_empty_entries(text: str) -> None:
    """The layers are comma-separated: a missing comma or an empty entry is not the notation.

    A tokenizer built on ``re.findall`` skipped stray commas and split adjacent tokens, and
    read each of these typos silently as ``[C(64,3,1), SM(10)]``.
    """
    with pytest.raises(ValueError):
        parse_architecture(text)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Conv(0, 3), "Conv's filters must be a positive integer, but got filters=0"),
        (lambda: Conv(64, "3"), "Conv's kernel must be a positive integer"),
        (lambda: Conv(64, 3, 1.0), "Conv's stride must be a positive integer"),
        (lambda: Pool(2, -1), "Pool's stride"),
        (lambda: FC(True), "FC's units"),
        (lambda: GAP(None), "GAP's classes"),
        (lambda: Softmax(0), "Softmax's classes"),
        (lambda: Dropout(0, 2), "Dropout's index"),
        (lambda: Dropout(3, 2), "Dropout's index must be at most its total"),
    ],
)
def test_layer_specs_reject_bad_numbers(make: Callable[[], Layer], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_layer_specs_store_numpy_integers_as_int() -> None:
    layer = Conv(np.int64(64), np.int32(3))  # type: ignore[arg-type]
    assert layer == Conv(64, 3)
    assert type(layer.filters) is int
    assert format_architecture([layer, Softmax(np.int64(10))]) == "[C(64,3,1), SM(10)]"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("layers", "match"),
    [
        ("[C(64,3,1)]", "layers must be a sequence of layer specs"),
        (None, "layers must be a sequence of layer specs"),
        ([Conv(64, 3), "SM(10)"], r"layers\[1\] must be a layer spec"),
        ([1, 2], r"layers\[0\] must be a layer spec"),
    ],
)
def test_format_architecture_rejects_what_is_not_layer_specs(layers: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        format_architecture(layers)  # type: ignore[arg-type]
