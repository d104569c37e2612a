"""MetaQNNSpace: legal transitions, validation, parameter counts and param names."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from optuna_srm._keys import is_layer_param
from optuna_srm.architecture._space import State
from tests.architecture.test_layers import PAPER_NETS

DEFAULT_CONVS = tuple(f"C({f},{k},1)" for f in (64, 128, 256, 512) for k in (1, 3, 5))
DEFAULT_POOLS = ("P(5,3)", "P(3,2)", "P(2,2)")
DEFAULT_FCS = ("FC(512)", "FC(256)", "FC(128)")
TERMINALS = ("GAP(10)", "SM(10)")

# Walks through the default space (3, 32, 32) to each size bin:
# C keeps 32; P(5,3): 32 -> (32-5)//3+1 = 10; P(3,2): 10 -> (10-3)//2+1 = 4; P(2,2): 4 -> 2.
TO_BIN_8 = ("C(64,1,1)", "P(5,3)")  # size 10, bin [8, inf)
TO_BIN_4 = (*TO_BIN_8, "C(64,1,1)", "P(3,2)")  # size 4, bin [4, 8)
TO_BIN_1 = (*TO_BIN_4, "C(64,1,1)", "P(2,2)")  # size 2, bin [1, 4)


def after(space: MetaQNNSpace, *tokens: str) -> State:
    """The state reached by choosing ``tokens`` from the input."""
    return space.walk(tokens)[-1]


def kinds(actions: Sequence[str]) -> set[str]:
    """The layer types among ``actions`` ("C", "P", "FC", "GAP", "SM")."""
    return {token.split("(")[0] for token in actions}


def random_walk(space: MetaQNNSpace, rng: random.Random) -> list[State]:
    state, states = space.initial_state(), [space.initial_state()]
    while not state.terminal:
        state = space.step(state, rng.choice(space.actions(state)))
        states.append(state)
    return states


def walk_tokens(states: Sequence[State]) -> list[str]:
    return [str(state.previous) for state in states[1:]]


SPACES = {
    "default": MetaQNNSpace(),
    "cifar": MetaQNNSpace(max_depth=18),
    "1d": MetaQNNSpace((2, 20), 5, 6, conv_filters=(4, 8), fc_units=(16, 8), max_fc=3),
    "bins_6_3": MetaQNNSpace((1, 12, 12), max_depth=6, size_bins=(6, 3)),
    "rect": MetaQNNSpace((1, 9, 30), 3, 5, conv_filters=(2,), pools=((3, 3), (2, 1))),
    "shallow": MetaQNNSpace(max_depth=3, fc_max_size=8),
    "one_bin": MetaQNNSpace((1, 16), 2, 4, size_bins=(2,), conv_kernels=(1,)),
}


# The paper's architectures.


@pytest.mark.parametrize("net", PAPER_NETS)
def test_the_papers_architectures_are_legal_in_the_default_space(net: str) -> None:
    space = MetaQNNSpace()
    layers = parse_architecture(net)

    assert space.validate(layers) is None


# The depths that the paper's runs recorded beside these architectures: every layer but dropout.
PAPER_DEPTHS = [2, 4, 6, 7, 13]


@pytest.mark.parametrize(("net", "depth"), list(zip(PAPER_NETS, PAPER_DEPTHS, strict=True)))
def test_depth_feature_counts_as_the_paper_does(net: str, depth: int) -> None:
    space = MetaQNNSpace()
    layers = parse_architecture(net)

    features = space.features(layers)

    assert features["depth"] == depth
    assert features["num_params"] == space.count_params(layers) > 0


# Parameter counts, worked out by hand.
# conv: in * out * k^d + out; FC: flat * units + units; GAP: in * classes + classes and the SM
# after it is free; SM otherwise: flat * classes + classes; pooling and dropout: nothing.


def test_count_params_2d_conv_pool_fc_softmax() -> None:
    space = MetaQNNSpace((3, 8, 8), conv_filters=(16,), fc_units=(32,))
    layers: list[Layer] = [
        Conv(16, 3, 1),
        Pool(2, 2),
        Dropout(1, 2),
        FC(32),
        Dropout(2, 2),
        Softmax(10),
    ]

    # C(16,3,1): 3 * 16 * 3^2 + 16 = 432 + 16 = 448; size stays 8
    # P(2,2): size 8 -> (8 - 2) // 2 + 1 = 4, no params
    # FC(32): flat 16 * 4 * 4 = 256 -> 256 * 32 + 32 = 8224
    # SM(10): 32 * 10 + 10 = 330
    assert space.count_params(layers) == 448 + 8224 + 330 == 9002
    assert space.features(layers) == {"depth": 4, "num_params": 9002}


def test_count_params_2d_gap_makes_softmax_free() -> None:
    space = MetaQNNSpace((3, 8, 8), conv_filters=(16,))
    layers: list[Layer] = [Conv(16, 3, 1), GAP(10), Softmax(10)]

    # C(16,3,1): 3 * 16 * 3^2 + 16 = 448
    # GAP(10): 16 * 10 + 10 = 170; SM after GAP: 0
    assert space.count_params(layers) == 448 + 170 == 618
    assert space.features(layers) == {"depth": 3, "num_params": 618}


def test_count_params_2d_softmax_on_a_feature_map() -> None:
    space = MetaQNNSpace((3, 8, 8), conv_filters=(16,))

    # C(16,3,1): 448; SM(10) on 16 * 8 * 8 = 1024 values: 1024 * 10 + 10 = 10250
    assert space.count_params([Conv(16, 3, 1), Softmax(10)]) == 448 + 10250 == 10698
    # SM(10) on the input, 3 * 32 * 32 = 3072 values: 3072 * 10 + 10 = 30730
    assert MetaQNNSpace().count_params([Softmax(10)]) == 30730


def test_count_params_2d_pools_each_axis() -> None:
    space = MetaQNNSpace((1, 8, 6), conv_filters=(2,), pools=((3, 2),))
    layers: list[Layer] = [Conv(2, 1, 1), Pool(3, 2), Softmax(10)]

    # C(2,1,1): 1 * 2 * 1^2 + 2 = 4
    # P(3,2): 8 -> (8 - 3) // 2 + 1 = 3 and 6 -> (6 - 3) // 2 + 1 = 2
    # SM(10): flat 2 * 3 * 2 = 12 -> 12 * 10 + 10 = 130
    assert space.count_params(layers) == 4 + 130 == 134
    assert after(space, "C(2,1,1)", "P(3,2)").spatial == (3, 2)


def test_count_params_1d_conv_pool_conv_softmax() -> None:
    space = MetaQNNSpace((2, 20), 5, conv_filters=(8, 4))
    layers: list[Layer] = [Conv(8, 5, 1), Pool(3, 2), Dropout(1, 1), Conv(4, 1, 1), Softmax(5)]

    # C(8,5,1): 2 * 8 * 5^1 + 8 = 88
    # P(3,2): length 20 -> (20 - 3) // 2 + 1 = 9
    # C(4,1,1): 8 * 4 * 1^1 + 4 = 36
    # SM(5): flat 4 * 9 = 36 -> 36 * 5 + 5 = 185
    assert space.count_params(layers) == 88 + 36 + 185 == 309
    assert space.features(layers) == {"depth": 4, "num_params": 309}


def test_count_params_1d_gap() -> None:
    space = MetaQNNSpace((2, 20), 5, conv_filters=(8,))

    # C(8,3,1): 2 * 8 * 3 + 8 = 56; GAP(5): 8 * 5 + 5 = 45; SM after GAP: 0
    assert space.count_params([Conv(8, 3, 1), GAP(5), Softmax(5)]) == 56 + 45 == 101


def test_count_params_1d_fc_chain() -> None:
    space = MetaQNNSpace((2, 4), 5, fc_units=(16, 8))
    layers: list[Layer] = [FC(16), Dropout(1, 2), FC(8), Dropout(2, 2), Softmax(5)]

    # FC(16) on 2 * 4 = 8 values: 8 * 16 + 16 = 144
    # FC(8): 16 * 8 + 8 = 136
    # SM(5): 8 * 5 + 5 = 45
    assert space.count_params(layers) == 144 + 136 + 45 == 325


def test_count_params_same_layers_differ_between_1d_and_2d() -> None:
    layers: list[Layer] = [Conv(4, 3, 1), Softmax(2)]

    # 1-D (1, 8): 1 * 4 * 3 + 4 = 16; SM: 4 * 8 * 2 + 2 = 66
    assert MetaQNNSpace((1, 8), 2, conv_filters=(4,)).count_params(layers) == 16 + 66
    # 2-D (1, 8, 8): 1 * 4 * 3^2 + 4 = 40; SM: 4 * 64 * 2 + 2 = 514
    assert MetaQNNSpace((1, 8, 8), 2, conv_filters=(4,)).count_params(layers) == 40 + 514


def test_features_depth_counts_all_but_dropout() -> None:
    space = MetaQNNSpace()
    layers = parse_architecture(
        "[C(64,3,1), C(128,1,1), D(1,2), P(2,2), C(64,1,1), D(2,2), GAP(10), SM(10)]"
    )

    assert space.features(layers)["depth"] == 6
    assert space.features(layers)["num_params"] == space.count_params(layers)


# The legal transitions.


def test_from_the_input_convs_and_terminations_but_no_pool() -> None:
    space = MetaQNNSpace()

    actions = space.actions(space.initial_state())

    assert actions == (*DEFAULT_CONVS, *TERMINALS)


def test_pool_only_directly_after_a_conv() -> None:
    space = MetaQNNSpace()

    after_conv = space.actions(after(space, "C(64,3,1)"))
    after_pool = space.actions(after(space, "C(64,3,1)", "P(2,2)"))

    assert after_conv == (*DEFAULT_CONVS, *DEFAULT_POOLS, *TERMINALS)
    assert after_pool == (*DEFAULT_CONVS, *TERMINALS)
    assert "P" in kinds(space.actions(after(space, "C(64,3,1)", "P(2,2)", "C(64,3,1)")))


def test_kernels_must_be_below_the_lower_edge_of_the_size_bin() -> None:
    space = MetaQNNSpace()

    in_bin_8 = space.actions(after(space, *TO_BIN_8, "C(64,1,1)"))  # size 10
    in_bin_4 = space.actions(after(space, *TO_BIN_4, "C(64,1,1)"))  # size 4
    in_bin_1 = space.actions(after(space, *TO_BIN_4, "C(64,1,1)", "P(2,2)"))  # size 2

    assert {"C(64,5,1)", "P(5,3)", "P(3,2)", "P(2,2)"} <= set(in_bin_8)
    # size 4: lower edge 4, so kernels 1 and 3 but not 5, and pools P(3,2), P(2,2)
    assert [t for t in in_bin_4 if t[0] in "CP"] == [
        *(f"C({f},{k},1)" for f in (64, 128, 256, 512) for k in (1, 3)),
        "P(3,2)",
        "P(2,2)",
    ]
    # size 2: lower edge 1, no kernel is below it
    assert kinds(in_bin_1) == {"FC", "GAP", "SM"}


def test_size_changes_by_pooling_only() -> None:
    space = MetaQNNSpace()

    assert after(space, "C(64,5,1)").spatial == (32, 32)
    assert after(space, *TO_BIN_8).spatial == (10, 10)
    assert after(space, *TO_BIN_4).spatial == (4, 4)
    assert after(space, *TO_BIN_1).spatial == (2, 2)
    assert after(space, "C(128,3,1)").channels == 128
    assert after(space, "C(128,3,1)", "P(2,2)").channels == 128


def test_fc_only_once_the_size_bin_is_small_enough() -> None:
    space = MetaQNNSpace()  # fc_max_size=4

    assert "FC" not in kinds(space.actions(space.initial_state()))
    assert "FC" not in kinds(space.actions(after(space, *TO_BIN_8)))
    assert [t for t in space.actions(after(space, *TO_BIN_4)) if t[0] == "F"] == list(DEFAULT_FCS)
    assert [t for t in space.actions(after(space, *TO_BIN_1)) if t[0] == "F"] == list(DEFAULT_FCS)


def test_fc_widths_never_grow_and_at_most_max_fc_in_a_row() -> None:
    space = MetaQNNSpace()  # max_fc=2

    after_512 = space.actions(after(space, *TO_BIN_4, "FC(512)"))
    after_256 = space.actions(after(space, *TO_BIN_4, "FC(256)"))
    after_128 = space.actions(after(space, *TO_BIN_4, "FC(128)"))
    after_two = space.actions(after(space, *TO_BIN_4, "FC(512)", "FC(512)"))

    assert after_512 == ("FC(512)", "FC(256)", "FC(128)", "SM(10)")
    assert after_256 == ("FC(256)", "FC(128)", "SM(10)")
    assert after_128 == ("FC(128)", "SM(10)")
    assert after_two == ("SM(10)",)


def test_no_conv_pool_or_gap_after_fc() -> None:
    space = MetaQNNSpace()

    state = after(space, *TO_BIN_4, "FC(256)")

    assert kinds(space.actions(state)) == {"FC", "SM"}
    assert state.spatial == ()
    assert state.channels == 256
    with pytest.raises(ValueError):
        space.step(state, "GAP(10)")


def test_only_softmax_after_max_depth_layers() -> None:
    space = MetaQNNSpace(max_depth=3)

    assert "GAP(10)" in space.actions(after(space, "C(64,3,1)", "C(64,3,1)"))
    assert space.actions(after(space, "C(64,3,1)", "C(64,3,1)", "P(2,2)")) == ("SM(10)",)
    # GAP counts as a layer: GAP as the third layer, then the SM it implies.
    space.validate(parse_architecture("[C(64,3,1), C(64,3,1), D(1,1), GAP(10), SM(10)]"))


def test_terminations_end_the_walk() -> None:
    space = MetaQNNSpace()

    for token in TERMINALS:
        state = after(space, "C(64,3,1)", token)

        assert state.terminal
        assert space.actions(state) == ()
        with pytest.raises(ValueError):
            space.step(state, "SM(10)")


def test_step_rejects_an_illegal_token() -> None:
    space = MetaQNNSpace()

    with pytest.raises(ValueError, match="P\\(2,2\\) is not a legal layer 0"):
        space.step(space.initial_state(), "P(2,2)")


def test_size_bins_change_what_is_legal() -> None:
    default = MetaQNNSpace((1, 7, 7))
    bins_6_3 = MetaQNNSpace((1, 7, 7), size_bins=(6, 3))
    small_default = MetaQNNSpace((1, 5, 5))
    small_6_3 = MetaQNNSpace((1, 5, 5), size_bins=(6, 3))

    # size 7: bin [4, 8) by default, FC allowed; bin [6, inf) with (6, 3), no FC
    assert "FC" in kinds(default.actions(default.initial_state()))
    assert "FC" not in kinds(bins_6_3.actions(bins_6_3.initial_state()))
    # size 5: lower edge 4 by default (kernels 1, 3), 3 with (6, 3) (kernel 1 only)
    assert {t for t in small_default.actions(small_default.initial_state()) if t[0] == "C"} == {
        f"C({f},{k},1)" for f in (64, 128, 256, 512) for k in (1, 3)
    }
    assert {t for t in small_6_3.actions(small_6_3.initial_state()) if t[0] == "C"} == {
        f"C({f},1,1)" for f in (64, 128, 256, 512)
    }
    # after a conv at size 5: pools with kernel below 4 by default, below 3 with (6, 3)
    assert [
        t for t in small_default.actions(after(small_default, "C(64,1,1)")) if t[0] == "P"
    ] == [
        "P(3,2)",
        "P(2,2)",
    ]
    assert [t for t in small_6_3.actions(after(small_6_3, "C(64,1,1)")) if t[0] == "P"] == [
        "P(2,2)"
    ]
    assert small_default.param_name(small_default.initial_state()).endswith("size 4-7)")
    assert small_6_3.param_name(small_6_3.initial_state()).endswith("size 3-5)")


def test_bins_and_param_names() -> None:
    default = MetaQNNSpace()
    bins_6_3 = MetaQNNSpace((1, 12, 12), size_bins=(6, 3))
    one_bin = MetaQNNSpace(size_bins=(2,))

    assert [default.size_bin(r) for r in (32, 8, 7, 4, 3, 1)] == [8, 8, 4, 4, 1, 1]
    assert [default.bin_label(r) for r in (32, 7, 3)] == ["8+", "4-7", "1-3"]
    assert [bins_6_3.bin_label(r) for r in (12, 5, 2)] == ["6+", "3-5", "1-2"]
    assert [one_bin.bin_label(r) for r in (32, 1)] == ["2+", "1"]
    assert default.param_name(default.initial_state()) == "layer_00 (input, size 8+)"
    assert default.param_name(after(default, "C(64,3,1)")) == "layer_01 (after Conv, size 8+)"
    assert default.param_name(after(default, *TO_BIN_4)) == "layer_04 (after Pool, size 4-7)"
    assert (
        default.param_name(after(default, *TO_BIN_4, "FC(256)")) == "layer_05 (after FC(256) #1)"
    )
    assert bins_6_3.param_name(bins_6_3.initial_state()) == "layer_00 (input, size 6+)"


# Whole architectures.


def test_validate_accepts_a_legal_architecture_and_not_its_illegal_variants() -> None:
    space = MetaQNNSpace()
    legal = (
        "[C(64,1,1), P(5,3), D(1,4), C(64,1,1), P(3,2), D(2,4), "
        "FC(512), D(3,4), FC(256), D(4,4), SM(10)]"
    )
    # Each variant changes one thing; the layer named is the first that is not legal.
    variants = {
        legal.replace("FC(512)", "FC(128)"): "FC(256)",  # an FC wider than the one before
        legal.replace(" P(3,2), D(2,4),", " D(2,4),"): "FC(512)",  # an FC at size 10
        legal.replace("P(3,2)", "P(3,3)"): "P(3,3)",  # a pool not among the choices
        legal.replace("SM(10)", "SM(5)"): "SM(5)",  # another number of classes
        legal.replace("C(64,1,1), P(5,3)", "P(5,3), C(64,1,1)"): "P(5,3)",  # a pool first
    }

    assert space.validate(parse_architecture(legal)) is None
    for variant, layer in variants.items():
        with pytest.raises(ValueError, match=re.escape(f"{layer} is not a legal layer")):
            space.validate(parse_architecture(variant))


@pytest.mark.parametrize(
    "text",
    [
        "[P(2,2), SM(10)]",  # pool first
        "[C(64,3,1), P(2,2), P(2,2), SM(10)]",  # pool after pool
        "[FC(512), SM(10)]",  # FC at size 32
        "[C(64,7,1), SM(10)]",  # kernel not among the choices
        "[C(64,3,2), SM(10)]",  # stride other than 1
        "[C(100,3,1), SM(10)]",  # filters not among the choices
        "[C(64,3,1), P(4,4), SM(10)]",  # pool not among the choices
        "[C(64,1,1), P(5,3), C(64,1,1), P(3,2), C(64,5,1), SM(10)]",  # kernel 5 at size 4
        "[C(64,1,1), P(5,3), C(64,1,1), P(3,2), FC(128), FC(256), SM(10)]",  # wider FC
        "[C(64,1,1), P(5,3), C(64,1,1), P(3,2), FC(128), FC(128), FC(128), SM(10)]",  # 3 FCs
        "[C(64,1,1), P(5,3), C(64,1,1), P(3,2), FC(128), GAP(10), SM(10)]",  # GAP after FC
        "[C(64,1,1), P(5,3), C(64,1,1), P(3,2), FC(128), C(64,1,1), SM(10)]",  # conv after FC
        "[C(64,3,1), SM(5)]",  # wrong number of classes
        "[C(64,3,1), SM(10), SM(10)]",  # a layer after the termination
        "[C(64,3,1), GAP(10), SM(10), C(64,3,1)]",
        "[C(64,3,1), SM(10), C(64,3,1), SM(10)]",
        "[" + ", ".join(["C(64,3,1)"] * 13) + ", SM(10)]",  # deeper than max_depth=12
    ],
)
def test_validate_rejects_illegal_architectures(text: str) -> None:
    space = MetaQNNSpace()

    with pytest.raises(ValueError):
        space.validate(parse_architecture(text))


def test_validate_rejects_what_is_not_layer_specs() -> None:
    space = MetaQNNSpace()
    with pytest.raises(ValueError, match="layers must be a sequence of layer specs"):
        space.validate("[C(64,3,1), SM(10)]")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"layers\[0\] must be a layer spec"):
        space.count_params(["C(64,3,1)", "SM(10)"])  # type: ignore[list-item]
    for not_layers in (None, 5):
        with pytest.raises(ValueError, match="layers must be a sequence of layer specs"):
            space.features(not_layers)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["[]", "[C(64,3,1)]", "[C(64,3,1), P(2,2), D(1,1)]"])
def test_validate_rejects_an_architecture_without_termination(text: str) -> None:
    space = MetaQNNSpace()

    with pytest.raises(ValueError, match="does not end with SM"):
        space.validate(parse_architecture(text))


@pytest.mark.parametrize(
    "text",
    [
        "[C(64,3,1), GAP(10)]",  # GAP without the SM after it
        "[C(64,3,1), GAP(10), SM(5)]",  # SM with the wrong number of classes after GAP
        "[C(64,3,1), GAP(10), D(1,1), SM(1)]",
    ],
)
def test_validate_checks_the_softmax_after_gap(text: str) -> None:
    """The GAP termination is ``GAP(c), SM(c)``.

    ``MetaQNNSpace.tokens`` once dropped the last layer whenever it was an ``SM`` after a
    ``GAP``, whatever its class count, and ``validate`` accepted a walk that ended with ``GAP``
    alone: these passed validation.
    """
    space = MetaQNNSpace()

    with pytest.raises(ValueError):
        space.validate(parse_architecture(text))


def test_with_dropout_schedule_and_tokens() -> None:
    space = MetaQNNSpace()
    tokens = ["C(64,1,1)", "P(5,3)", "C(64,1,1)", "P(3,2)", "C(64,1,1)", "FC(256)", "FC(128)"]

    conv_fc = space.with_dropout([*tokens, "SM(10)"])
    gap = space.with_dropout(["C(64,1,1)", "GAP(10)"])

    # after the 2nd and 4th conv/pool and after each FC: 4 dropouts, rate i / 8
    assert format_architecture(conv_fc) == (
        "[C(64,1,1), P(5,3), D(1,4), C(64,1,1), P(3,2), D(2,4), C(64,1,1), "
        "FC(256), D(3,4), FC(128), D(4,4), SM(10)]"
    )
    assert [d.rate for d in conv_fc if isinstance(d, Dropout)] == [0.125, 0.25, 0.375, 0.5]
    assert gap == [Conv(64, 1, 1), GAP(10), Softmax(10)]
    assert space.tokens(conv_fc) == [*tokens, "SM(10)"]
    assert space.tokens(gap) == ["C(64,1,1)", "GAP(10)"]
    space.validate(conv_fc)
    space.validate(gap)


@settings(max_examples=150, deadline=None, database=None)
@given(name=st.sampled_from(sorted(SPACES)), rng=st.randoms(use_true_random=False))
def test_random_walks_are_legal_architectures(name: str, rng: random.Random) -> None:
    space = SPACES[name]

    states = random_walk(space, rng)
    tokens = walk_tokens(states)
    layers = space.with_dropout(tokens)

    space.validate(layers)
    assert space.tokens(layers) == tokens
    assert parse_architecture(format_architecture(layers)) == layers
    assert isinstance(layers[-1], Softmax)
    assert states[-1].depth <= space.max_depth + 1
    core = [layer for layer in layers if not isinstance(layer, Dropout)]
    assert (
        space.features(layers)["depth"] == len(core) == len(tokens) + tokens[-1].startswith("GAP")
    )
    assert not isinstance(core[0], Pool)
    assert all(not isinstance(b, Pool) or isinstance(a, Conv) for a, b in itertools.pairwise(core))
    widths = [layer.units for layer in core if isinstance(layer, FC)]
    assert widths == sorted(widths, reverse=True)
    assert len(widths) <= space.max_fc


def test_param_names_keep_identical_choices() -> None:
    for seed, space in enumerate(SPACES.values()):
        rng = random.Random(seed)
        choices: dict[str, tuple[str, ...]] = {}
        for _ in range(400):
            for state in random_walk(space, rng)[:-1]:
                name = space.param_name(state)

                assert is_layer_param(name)
                assert choices.setdefault(name, space.actions(state)) == space.actions(state)
        assert len(choices) > 5


# One test per constructor argument.


def test_input_shape() -> None:
    one_d = MetaQNNSpace((2, 20))
    two_d = MetaQNNSpace((3, 16, 8))

    assert one_d.initial_state().spatial == (20,)
    assert one_d.initial_state().channels == 2
    assert two_d.initial_state().spatial == (16, 8)
    assert two_d.initial_state().size == 8
    assert MetaQNNSpace([1, 4]).input_shape == (1, 4)
    # size 4 (bin 4): no kernel 5, and FC already allowed
    assert kinds(MetaQNNSpace((1, 4)).actions(MetaQNNSpace((1, 4)).initial_state())) == {
        "C",
        "FC",
        "GAP",
        "SM",
    }
    for bad in [(3,), (3, 32, 32, 1), (), (0, 32, 32), (3, 0, 32), (3, 32.0, 32), (True, 8)]:
        with pytest.raises(ValueError, match="input_shape"):
            MetaQNNSpace(bad)  # type: ignore[arg-type]


def test_num_classes() -> None:
    space = MetaQNNSpace(num_classes=5)

    assert space.actions(space.initial_state())[-2:] == ("GAP(5)", "SM(5)")
    space.validate([Conv(64, 3, 1), GAP(5), Softmax(5)])
    with pytest.raises(ValueError):
        space.validate([Softmax(10)])
    for bad in [0, -1, 2.5, True, "10"]:
        with pytest.raises(ValueError, match="num_classes"):
            MetaQNNSpace(num_classes=bad)  # type: ignore[arg-type]


def test_max_depth() -> None:
    space = MetaQNNSpace(max_depth=1)

    assert space.actions(space.initial_state()) == (*DEFAULT_CONVS, *TERMINALS)
    assert space.actions(after(space, "C(64,3,1)")) == ("SM(10)",)
    space.validate([GAP(10), Softmax(10)])
    with pytest.raises(ValueError):
        space.validate([Conv(64, 3, 1), GAP(10), Softmax(10)])
    for bad in [0, -3, 1.0, None]:
        with pytest.raises(ValueError, match="max_depth"):
            MetaQNNSpace(max_depth=bad)  # type: ignore[arg-type]


def test_conv_filters() -> None:
    space = MetaQNNSpace(conv_filters=(16, 8))

    assert space.actions(space.initial_state()) == (
        *("C(16,1,1)", "C(16,3,1)", "C(16,5,1)", "C(8,1,1)", "C(8,3,1)", "C(8,5,1)"),
        *TERMINALS,
    )
    for bad in [(0,), (-8,), (8, 8), (8.0,), (True,), ("8",)]:
        with pytest.raises(ValueError, match="conv_filters"):
            MetaQNNSpace(conv_filters=bad)  # type: ignore[arg-type]


def test_conv_kernels() -> None:
    space = MetaQNNSpace(conv_filters=(8,), conv_kernels=(3, 7))

    assert space.actions(space.initial_state()) == ("C(8,3,1)", "C(8,7,1)", *TERMINALS)
    # kernel 7 only while the bin's lower edge is above 7: not at size 7 (bin 4)
    small = MetaQNNSpace((1, 7), conv_filters=(8,), conv_kernels=(3, 7))
    assert [t for t in small.actions(small.initial_state()) if t[0] == "C"] == ["C(8,3,1)"]
    for bad in [(2,), (1, 4), (3, 3), (0,), (-1,), (3.0,)]:
        with pytest.raises(ValueError, match="conv_kernels"):
            MetaQNNSpace(conv_kernels=bad)  # type: ignore[arg-type]


def test_pools() -> None:
    space = MetaQNNSpace(pools=((3, 3), (2, 1)))
    no_pools = MetaQNNSpace(pools=())

    assert space.pools == ((3, 3), (2, 1))
    assert [t for t in space.actions(after(space, "C(64,1,1)")) if t[0] == "P"] == [
        "P(3,3)",
        "P(2,1)",
    ]
    assert after(space, "C(64,1,1)", "P(3,3)").spatial == (10, 10)  # (32 - 3) // 3 + 1
    assert after(space, "C(64,1,1)", "P(2,1)").spatial == (31, 31)  # (32 - 2) // 1 + 1
    assert "P" not in kinds(no_pools.actions(after(no_pools, "C(64,1,1)")))
    assert MetaQNNSpace(pools=[[2, 2]]).pools == ((2, 2),)  # type: ignore[list-item]
    for bad in [((2, 3),), ((2, 0),), ((2, 2), (2, 2)), ((2,),), ((2, 2, 1),), ((2.0, 2),)]:
        with pytest.raises(ValueError, match="pools"):
            MetaQNNSpace(pools=bad)  # type: ignore[arg-type]


def test_fc_units() -> None:
    space = MetaQNNSpace((1, 4), fc_units=(64, 32))

    assert [t for t in space.actions(space.initial_state()) if t[0] == "F"] == [
        "FC(64)",
        "FC(32)",
    ]
    assert space.actions(after(space, "FC(32)")) == ("FC(32)", "SM(10)")
    for bad in [(0,), (32, 32), (32.0,), (-1,)]:
        with pytest.raises(ValueError, match="fc_units"):
            MetaQNNSpace(fc_units=bad)  # type: ignore[arg-type]


def test_max_fc() -> None:
    no_fc = MetaQNNSpace((1, 4), max_fc=0)
    one_fc = MetaQNNSpace((1, 4), max_fc=1)
    three_fc = MetaQNNSpace((1, 4), max_fc=3)

    assert "FC" not in kinds(no_fc.actions(no_fc.initial_state()))
    assert one_fc.actions(after(one_fc, "FC(512)")) == ("SM(10)",)
    assert "FC(512)" in three_fc.actions(after(three_fc, "FC(512)", "FC(512)"))
    assert three_fc.actions(after(three_fc, "FC(512)", "FC(512)", "FC(512)")) == ("SM(10)",)
    for bad in [-1, 1.5, None]:
        with pytest.raises(ValueError, match="max_fc"):
            MetaQNNSpace(max_fc=bad)  # type: ignore[arg-type]


def test_fc_max_size() -> None:
    wide = MetaQNNSpace(fc_max_size=8)
    narrow = MetaQNNSpace(fc_max_size=1)

    assert "FC" in kinds(wide.actions(wide.initial_state()))  # size 32, bin 8
    assert "FC" not in kinds(narrow.actions(after(narrow, *TO_BIN_4)))  # bin 4
    assert "FC" in kinds(narrow.actions(after(narrow, *TO_BIN_1)))  # bin 1
    for bad in [0, -4, 4.0]:
        with pytest.raises(ValueError, match="fc_max_size"):
            MetaQNNSpace(fc_max_size=bad)  # type: ignore[arg-type]


def test_size_bins() -> None:
    space = MetaQNNSpace(size_bins=(16, 6, 3))
    one_bin = MetaQNNSpace(size_bins=[2])

    assert space.size_bins == (16, 6, 3)
    assert [space.size_bin(r) for r in (32, 16, 15, 6, 5, 3, 2)] == [16, 16, 6, 6, 3, 3, 1]
    assert one_bin.size_bins == (2,)
    assert "C(64,5,1)" not in one_bin.actions(one_bin.initial_state())  # 5 is not below 2
    for bad in [(4, 8), (8, 8), (8, 1), (8, 0), (8.0, 4), (True,)]:
        with pytest.raises(ValueError, match="size_bins"):
            MetaQNNSpace(size_bins=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("argument", ["conv_filters", "conv_kernels", "size_bins"])
def test_empty_choices_that_leave_no_convolution_are_rejected(argument: str) -> None:
    """An empty list for these makes every convolution illegal: a CNN space without CNNs.

    Checks by ``all(...)`` over the choices hold for an empty list: they accepted
    ``MetaQNNSpace(conv_filters=())``, which offered only ``GAP`` and ``SM`` (and FC where
    allowed).
    """
    with pytest.raises(ValueError, match=argument):
        MetaQNNSpace(**{argument: ()})  # type: ignore[arg-type]


def test_repr_names_every_argument() -> None:
    text = repr(MetaQNNSpace((2, 20), 5, 6, size_bins=(6, 3)))

    for argument in [
        "input_shape=(2, 20)",
        "num_classes=5",
        "max_depth=6",
        "conv_filters=",
        "conv_kernels=",
        "pools=",
        "fc_units=",
        "max_fc=",
        "fc_max_size=",
        "size_bins=(6, 3)",
    ]:
        assert argument in text
