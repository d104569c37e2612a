"""MetaQNN layer specs and their text notation (``[C(64,3,1), P(2,2), GAP(10), SM(10)]``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from numbers import Integral


class _LayerSpec:
    """Every number of a layer spec is a positive integer (numpy's are stored as ``int``)."""

    def __post_init__(self) -> None:
        for field in fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise ValueError(
                    f"{type(self).__name__}'s {field.name} must be a positive integer, but got "
                    f"{field.name}={value!r}."
                )
            object.__setattr__(self, field.name, int(value))


@dataclass(frozen=True)
class Conv(_LayerSpec):
    """Convolution ``C(filters, kernel, stride)`` with "same" padding, followed by ReLU."""

    filters: int
    kernel: int
    stride: int = 1

    def __str__(self) -> str:
        return f"C({self.filters},{self.kernel},{self.stride})"


@dataclass(frozen=True)
class Pool(_LayerSpec):
    """Max pooling ``P(kernel, stride)`` without padding."""

    kernel: int
    stride: int

    def __str__(self) -> str:
        return f"P({self.kernel},{self.stride})"


@dataclass(frozen=True)
class FC(_LayerSpec):
    """Fully connected layer ``FC(units)`` on the flattened input, followed by ReLU."""

    units: int

    def __str__(self) -> str:
        return f"FC({self.units})"


@dataclass(frozen=True)
class Dropout(_LayerSpec):
    """``D(index, total)``: the ``index``-th of ``total`` dropouts, rate index / (2 total)."""

    index: int
    total: int

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.index > self.total:
            raise ValueError(
                f"Dropout's index must be at most its total, but got index={self.index}, "
                f"total={self.total}."
            )

    @property
    def rate(self) -> float:
        return self.index / (2 * self.total)

    def __str__(self) -> str:
        return f"D({self.index},{self.total})"


@dataclass(frozen=True)
class GAP(_LayerSpec):
    """Global average pooling ``GAP(classes)``: a 1x1 convolution to ``classes`` maps, averaged."""

    classes: int

    def __str__(self) -> str:
        return f"GAP({self.classes})"


@dataclass(frozen=True)
class Softmax(_LayerSpec):
    """The output ``SM(classes)``: a linear layer to ``classes`` logits (none after ``GAP``)."""

    classes: int

    def __str__(self) -> str:
        return f"SM({self.classes})"


Layer = Conv | Pool | FC | Dropout | GAP | Softmax

_LAYER_TYPES: dict[str, tuple[type[Layer], int]] = {
    "C": (Conv, 3),
    "P": (Pool, 2),
    "FC": (FC, 1),
    "D": (Dropout, 2),
    "GAP": (GAP, 1),
    "SM": (Softmax, 1),
}
_TOKEN = re.compile(r"\s*([A-Z]+)\(\s*(\d+(?:\s*,\s*\d+)*)\s*\)\s*")


def parse_layer(text: str) -> Layer:
    """Parse one layer token such as ``"C(64,3,1)"``."""
    match = _TOKEN.fullmatch(text)
    if match is None or match.group(1) not in _LAYER_TYPES:
        raise ValueError(f"not a MetaQNN layer: {text!r}")
    cls, n_args = _LAYER_TYPES[match.group(1)]
    args = [int(a) for a in match.group(2).split(",")]
    if len(args) != n_args:
        raise ValueError(f"{match.group(1)} takes {n_args} numbers, but got {text!r}")
    try:
        return cls(*args)
    except ValueError:
        raise ValueError(f"not a valid layer: {text!r}") from None


def parse_architecture(text: str) -> list[Layer]:
    """Parse a MetaQNN layer string into layer specs.

    The notation is the one of the paper's data set:
    ``C(filters,kernel,stride)``, ``P(kernel,stride)``, ``FC(units)``, ``D(index,total)``,
    ``GAP(classes)`` and ``SM(classes)``, comma-separated inside square brackets.

    Example:

        .. code::

            import optuna_srm

            layers = optuna_srm.parse_architecture("[C(64,3,1), P(2,2), GAP(10), SM(10)]")
            assert optuna_srm.format_architecture(layers) == "[C(64,3,1), P(2,2), GAP(10), SM(10)]"

    Raises:
        ValueError: if ``text`` is not in that notation.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, but got {text!r}.")
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        raise ValueError(f"an architecture is written in square brackets, but got {text!r}")
    body = stripped[1:-1].strip()
    if not body:
        return []
    tokens = re.split(r",(?![^()]*\))", body)  # the commas outside parentheses
    return [parse_layer(token) for token in tokens]


def format_architecture(layers: Sequence[Layer]) -> str:
    """Write layer specs in the notation of :func:`parse_architecture`."""
    check_layers(layers)
    return "[" + ", ".join(str(layer) for layer in layers) + "]"


def check_layers(layers: object) -> None:
    """Raise a ``ValueError`` naming ``layers`` unless it is a sequence of layer specs."""
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise ValueError(f"layers must be a sequence of layer specs, but got {layers!r}.")
    for i, layer in enumerate(layers):
        if not isinstance(layer, _LayerSpec):
            raise ValueError(f"layers[{i}] must be a layer spec such as Conv, but got {layer!r}.")
