"""MetaQNNSpace: the legal layer sequences of MetaQNN (Baker et al., ICLR 2017)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from optuna_srm._keys import LAYER_PARAM_PREFIX
from optuna_srm._validation import check_int, is_int
from optuna_srm.architecture._layers import (
    FC,
    GAP,
    Conv,
    Dropout,
    Layer,
    Pool,
    Softmax,
    check_layers,
    parse_layer,
)


@dataclass(frozen=True)
class State:
    """Where a walk through the space stands after ``depth`` layers (dropout not counted)."""

    depth: int
    previous: Layer | None  # None at the input
    spatial: tuple[int, ...]  # representation size per spatial axis; () after an FC layer
    channels: int
    n_fc: int = 0
    terminal: bool = False

    @property
    def size(self) -> int:
        """The representation size that the space's rules look at (the smallest axis)."""
        return min(self.spatial) if self.spatial else 0


class MetaQNNSpace:
    """The MetaQNN search space of CNN layer sequences.

    An architecture is a walk from the input to a termination. The representation size (the
    smallest spatial axis) is tracked in bins, and the rules look at the lower edge ``b`` of
    its bin, as in the authors' code: convolutions ``C(f, k, 1)`` with ``k < b``, max pooling
    ``P(k, s)`` with ``k < b`` (never first, never twice in a row), fully connected ``FC(u)``
    once ``b <= fc_max_size`` (at most ``max_fc`` in a row, each no wider than the previous
    one), and a termination by global
    average pooling (``GAP(c), SM(c)``, not after an FC layer) or softmax (``SM(c)``), allowed
    from any state and forced after ``max_depth`` layers. Dropout ``D(i, n)`` follows every
    second convolution or pooling layer and every FC layer, with rate ``i / (2 n)``.
    Convolutions keep the representation size ("same" padding); pooling without padding maps
    size ``r`` to ``(r - k) // s + 1``.

    The defaults are the paper's space for SVHN. For CIFAR-10 the paper used ``max_depth=18``.

    Example:

        .. code::

            import optuna
            import optuna_srm

            space = optuna_srm.MetaQNNSpace(input_shape=(1, 8, 8), conv_filters=(8, 16))


            def objective(trial):
                layers = optuna_srm.suggest_architecture(trial, space)
                return space.count_params(layers)


            study = optuna.create_study()
            study.optimize(objective, n_trials=5)

    Args:
        input_shape: ``(channels, length)`` for 1-D inputs or ``(channels, height, width)``
            for 2-D inputs, every entry at least 1.
        num_classes: Number of outputs of the final layer, at least 1.
        max_depth: Most layers before the termination (``GAP`` counts as one), at least 1.
        conv_filters: Choices of the number of filters of a convolution.
        conv_kernels: Choices of a convolution's kernel size (odd, for "same" padding).
        pools: Choices of ``(kernel, stride)`` of a pooling layer, ``1 <= stride <= kernel``.
        fc_units: Choices of the width of an FC layer.
        max_fc: Most FC layers in a row, at least 0.
        fc_max_size: FC layers are allowed once the lower edge of the size bin is at most this.
        size_bins: Lower edges of the representation-size bins, in decreasing order, each at
            least 2; the default ``(8, 4)`` gives the paper's bins ``[8, inf)``, ``[4, 8)``
            and ``[1, 4)``. The legal layers and the Q-learning state depend on the bin.
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (3, 32, 32),
        num_classes: int = 10,
        max_depth: int = 12,
        *,
        conv_filters: Sequence[int] = (64, 128, 256, 512),
        conv_kernels: Sequence[int] = (1, 3, 5),
        pools: Sequence[tuple[int, int]] = ((5, 3), (3, 2), (2, 2)),
        fc_units: Sequence[int] = (512, 256, 128),
        max_fc: int = 2,
        fc_max_size: int = 4,
        size_bins: Sequence[int] = (8, 4),
    ) -> None:
        shape = _ints(
            "input_shape", input_shape, 1, "(channels, length) or (channels, height, width)"
        )
        if len(shape) not in (2, 3):
            raise ValueError(
                "input_shape must be (channels, length) or (channels, height, width), "
                f"but got {input_shape=}."
            )
        check_int("num_classes", num_classes, 1)
        check_int("max_depth", max_depth, 1)
        check_int("max_fc", max_fc, 0)
        check_int("fc_max_size", fc_max_size, 1)
        filters = _ints("conv_filters", conv_filters, 1, "distinct integers >= 1", distinct=True)
        kernels = _ints("conv_kernels", conv_kernels, 1, "distinct odd integers", distinct=True)
        if any(k % 2 == 0 for k in kernels):
            raise ValueError(
                f"conv_kernels must be odd (for 'same' padding), but got {conv_kernels=}."
            )
        units = _ints("fc_units", fc_units, 1, "distinct integers >= 1", distinct=True)
        pool_pairs: list[tuple[int, int]] = []
        what = "distinct (kernel, stride) pairs with 1 <= stride <= kernel"
        for pair in _sequence("pools", pools, what, empty=True):
            ints = _ints("pools", pair, 1, what)
            if len(ints) != 2 or ints[1] > ints[0]:
                raise ValueError(f"pools must be {what}, but got {pools=}.")
            pool_pairs.append((ints[0], ints[1]))
        if len(set(pool_pairs)) != len(pool_pairs):
            raise ValueError(f"pools must be {what}, but got {pools=}.")
        bins = _ints("size_bins", size_bins, 2, "decreasing integers >= 2")
        if list(bins) != sorted(set(bins), reverse=True):
            raise ValueError(f"size_bins must be decreasing integers >= 2, but got {size_bins=}.")
        self.input_shape: tuple[int, ...] = shape
        self.num_classes = num_classes
        self.max_depth = max_depth
        self.conv_filters = filters
        self.conv_kernels = kernels
        self.pools = tuple(pool_pairs)
        self.fc_units = units
        self.max_fc = max_fc
        self.fc_max_size = fc_max_size
        self.size_bins = bins
        # Derived data: the legal layers of a state and the state after a layer.
        self._actions: dict[State, tuple[str, ...]] = {}
        self._steps: dict[tuple[State, str], State] = {}

    def __repr__(self) -> str:
        return (
            f"MetaQNNSpace(input_shape={self.input_shape}, num_classes={self.num_classes}, "
            f"max_depth={self.max_depth}, conv_filters={self.conv_filters}, "
            f"conv_kernels={self.conv_kernels}, pools={self.pools}, fc_units={self.fc_units}, "
            f"max_fc={self.max_fc}, fc_max_size={self.fc_max_size}, "
            f"size_bins={self.size_bins})"
        )

    # --- walking the space -------------------------------------------------------------------

    def initial_state(self) -> State:
        return State(0, None, self.input_shape[1:], self.input_shape[0])

    def actions(self, state: State) -> tuple[str, ...]:
        """The legal next layers from ``state``, as tokens in a fixed order."""
        actions = self._actions.get(state)
        if actions is None:
            actions = self._actions[state] = self._legal(state)
        return actions

    def step(self, state: State, token: str) -> State:
        """The state after adding the layer ``token`` (one of ``actions(state)``)."""
        nxt = self._steps.get((state, token))
        if nxt is None:
            nxt = self._steps[state, token] = self._step(state, token)
        return nxt

    def _legal(self, state: State) -> tuple[str, ...]:
        if state.terminal:
            return ()
        out: list[Layer] = []
        size, previous = self.size_bin(state.size), state.previous
        spatial = bool(state.spatial)
        if state.depth < self.max_depth:
            if spatial:
                out += [
                    Conv(f, k, 1) for f in self.conv_filters for k in self.conv_kernels if k < size
                ]
                if isinstance(previous, Conv):
                    out += [Pool(k, s) for k, s in self.pools if k < size]
                if size <= self.fc_max_size and self.max_fc > 0:
                    out += [FC(u) for u in self.fc_units]
            elif isinstance(previous, FC) and state.n_fc < self.max_fc:
                out += [FC(u) for u in self.fc_units if u <= previous.units]
            if spatial:
                out.append(GAP(self.num_classes))
        out.append(Softmax(self.num_classes))
        return tuple(str(layer) for layer in out)

    def _step(self, state: State, token: str) -> State:
        if token not in self.actions(state):
            raise ValueError(
                f"{token} is not a legal layer {state.depth} ({self.describe(state)})"
            )
        layer = parse_layer(token)
        if isinstance(layer, Conv):
            return replace(state, depth=state.depth + 1, previous=layer, channels=layer.filters)
        if isinstance(layer, Pool):
            spatial = tuple((r - layer.kernel) // layer.stride + 1 for r in state.spatial)
            return replace(state, depth=state.depth + 1, previous=layer, spatial=spatial)
        if isinstance(layer, FC):
            return State(state.depth + 1, layer, (), layer.units, state.n_fc + 1)
        return replace(state, depth=state.depth + 1, previous=layer, terminal=True)

    def describe(self, state: State) -> str:
        """What decides the legal layers of ``state``, in words (used in param names)."""
        if state.previous is None:
            where = "input"
        elif isinstance(state.previous, FC):
            where = f"after FC({state.previous.units}) #{state.n_fc}"
        else:
            where = f"after {type(state.previous).__name__}"
        if state.spatial:
            where += f", size {self.bin_label(state.size)}"
        return where

    def param_name(self, state: State) -> str:
        """The name of the categorical param that chooses the layer after ``state``.

        It holds the position and what decides the legal layers there, so that every param
        name keeps the same choices throughout a study.
        """
        return f"{LAYER_PARAM_PREFIX}{state.depth:02d} ({self.describe(state)})"

    def q_state(self, state: State) -> str:
        """The Q-learning state: depth, previous layer and representation-size bin."""
        previous = "input" if state.previous is None else str(state.previous)
        if isinstance(state.previous, FC):
            previous += f"#{state.n_fc}"
        return f"{state.depth}|{previous}|{self.size_bin(state.size) if state.spatial else 0}"

    def size_bin(self, size: int) -> int:
        """The lower edge of the bin of representation size ``size``."""
        for edge in self.size_bins:
            if size >= edge:
                return edge
        return 1

    def bin_label(self, size: int) -> str:
        low = self.size_bin(size)
        if low == (self.size_bins[0] if self.size_bins else 1):
            return f"{low}+"
        high = min(edge for edge in self.size_bins if edge > low) - 1
        return str(low) if high == low else f"{low}-{high}"

    def choose_walk(
        self, choose: Callable[[State, tuple[str, ...]], object]
    ) -> list[tuple[State, tuple[str, ...], str | None]]:
        """Walk from the input to a termination, ``choose(state, actions)`` picking the layer
        wherever more than one is legal.

        Returns the ``(state, legal layers, chosen layer)`` of each step. The chosen layer is
        ``None`` where ``choose`` returned none of the legal layers, and the walk ends there.
        """
        steps: list[tuple[State, tuple[str, ...], str | None]] = []
        state = self.initial_state()
        while not state.terminal:
            actions = self.actions(state)
            token = actions[0] if len(actions) == 1 else choose(state, actions)
            if token not in actions:
                steps.append((state, actions, None))
                break
            steps.append((state, actions, str(token)))
            state = self.step(state, str(token))
        return steps

    def walk(self, tokens: Sequence[str]) -> list[State]:
        """The states visited by choosing ``tokens`` from the input (``len(tokens) + 1``)."""
        states = [self.initial_state()]
        for token in tokens:
            states.append(self.step(states[-1], token))
        return states

    # --- whole architectures -----------------------------------------------------------------

    def with_dropout(self, tokens: Sequence[str]) -> list[Layer]:
        """The layer specs of a walk, with ``GAP`` followed by ``SM`` and the dropout schedule."""
        core: list[Layer] = [parse_layer(t) for t in tokens]
        if core and isinstance(core[-1], GAP):
            core.append(Softmax(self.num_classes))
        after: list[bool] = []
        n_spatial = 0
        for layer in core:
            if isinstance(layer, Conv | Pool):
                n_spatial += 1
                after.append(n_spatial % 2 == 0)
            else:
                after.append(isinstance(layer, FC))
        total = sum(after)
        out: list[Layer] = []
        index = 0
        for layer, drop in zip(core, after, strict=True):
            out.append(layer)
            if drop:
                index += 1
                out.append(Dropout(index, total))
        return out

    def tokens(self, layers: Sequence[Layer]) -> list[str]:
        """The walk of an architecture: its layers without dropout and the ``SM`` after ``GAP``."""
        check_layers(layers)
        core = [layer for layer in layers if not isinstance(layer, Dropout)]
        if len(core) >= 2 and isinstance(core[-2], GAP) and core[-1] == Softmax(self.num_classes):
            core.pop()
        return [str(layer) for layer in core]

    def validate(self, layers: Sequence[Layer]) -> None:
        """Raise ``ValueError`` unless ``layers`` is an architecture of this space.

        Dropout layers are not checked against the schedule (the paper's data set has other
        dropout counts); every other layer must be a legal step and the walk must terminate.
        """
        states = self.walk(self.tokens(layers))
        if not states[-1].terminal or not (layers and isinstance(layers[-1], Softmax)):
            raise ValueError(
                f"the architecture does not end with SM({self.num_classes}) or "
                f"GAP({self.num_classes}), SM({self.num_classes})"
            )

    def count_params(self, layers: Sequence[Layer]) -> int:
        """Number of weights and biases of the network ``layers`` describes for this input."""
        states = self.walk(self.tokens(layers))
        total = 0
        for state, nxt in itertools.pairwise(states):
            layer = nxt.previous
            flat = state.channels * math.prod(state.spatial)
            if isinstance(layer, Conv):
                ndim = len(state.spatial)
                total += state.channels * layer.filters * layer.kernel**ndim + layer.filters
            elif isinstance(layer, FC):
                total += flat * layer.units + layer.units
            elif isinstance(layer, GAP):
                total += state.channels * layer.classes + layer.classes
            elif isinstance(layer, Softmax):
                total += flat * layer.classes + layer.classes
        return total

    def features(self, layers: Sequence[Layer]) -> dict[str, int]:
        """Architecture features for the regression models: ``depth`` and ``num_params``.

        ``depth`` counts the layers other than dropout, ``SM`` included (the ``depth`` column
        of the paper's data set).
        """
        check_layers(layers)
        depth = sum(not isinstance(layer, Dropout) for layer in layers)
        return {"depth": depth, "num_params": self.count_params(layers)}


def _sequence(name: str, value: object, what: str, *, empty: bool = False) -> tuple[Any, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not (value or empty):
        raise ValueError(
            f"{name} must be a non-empty sequence of {what}, but got {name}={value!r}."
        )
    return tuple(value)


def _ints(
    name: str, value: object, low: int, what: str, *, distinct: bool = False
) -> tuple[int, ...]:
    """``value`` as a non-empty tuple of integers >= ``low``, or a ``ValueError`` naming it."""
    items = _sequence(name, value, what)
    if not all(is_int(v) and v >= low for v in items) or (
        distinct and len(set(items)) != len(items)
    ):
        raise ValueError(f"{name} must be {what}, but got {name}={value!r}.")
    return tuple(int(v) for v in items)
