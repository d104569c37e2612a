"""build_model: a MetaQNN layer sequence as a ``torch.nn.Module``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

from torch import nn

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
    format_architecture,
)

_CONV: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d}
_MAX_POOL: dict[int, type[nn.Module]] = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_GLOBAL_AVG_POOL: dict[int, type[nn.Module]] = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}


def build_model(
    layers: Sequence[Layer], input_shape: Sequence[int], num_classes: int
) -> nn.Module:
    """Build the PyTorch model that a MetaQNN layer sequence describes.

    The layers map to modules as in :meth:`~optuna_srm.MetaQNNSpace.count_params`, so a model
    has exactly that many parameters: ``C(f, k, s)`` is a convolution with ``f`` filters, a
    bias, stride ``s`` (1 in the space) and "same" padding ``k // 2`` (``k`` odd), followed by
    ReLU; ``P(k, s)`` is max
    pooling without padding, mapping size ``r`` to ``(r - k) // s + 1``; ``D(i, n)`` is
    :class:`torch.nn.Dropout` with rate ``i / (2 n)``; ``FC(u)`` flattens a spatial input and
    is a linear layer to ``u`` units followed by ReLU; ``GAP(c)`` is a 1x1 convolution to ``c``
    maps averaged over the whole input, and the ``SM(c)`` after it adds nothing; any other
    ``SM(c)`` flattens a spatial input and is a linear layer to ``c`` outputs. Inputs of shape
    ``(batch, channels, length)`` use the 1-D modules (``Conv1d``, ``MaxPool1d``), inputs of
    shape ``(batch, channels, height, width)`` the 2-D ones.

    The model returns logits of shape ``(batch, num_classes)``, without a softmax: train it with
    :func:`torch.nn.functional.cross_entropy` (or :class:`torch.nn.CrossEntropyLoss`) and apply
    ``softmax`` for probabilities. Its parameters are created on the default device and dtype;
    build it inside ``with torch.device("cuda"):`` or call ``model.to(device)`` for a GPU.

    The layers need not be choices of a :class:`~optuna_srm.MetaQNNSpace` (any filter counts,
    odd kernel sizes and strides will do), but the sequence must make a network: it ends with
    ``SM(num_classes)``, ``GAP`` comes only directly before it, no convolution, pooling or
    ``GAP`` comes after an FC layer, and no pooling kernel is larger than the representation
    it pools.

    Example:

        .. code::

            import optuna
            import torch
            import optuna_srm
            from optuna_srm.torch import build_model

            space = optuna_srm.MetaQNNSpace(input_shape=(1, 8, 8), conv_filters=(8, 16))
            x, y = torch.randn(64, 1, 8, 8), torch.randint(10, (64,))


            def objective(trial):
                layers = optuna_srm.suggest_architecture(trial, space)
                model = build_model(layers, space.input_shape, space.num_classes)
                optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
                for _ in range(3):
                    optimizer.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(x), y)
                    loss.backward()
                    optimizer.step()
                return loss.item()


            study = optuna.create_study()
            study.optimize(objective, n_trials=3)

    Args:
        layers: The layer specs, as :func:`~optuna_srm.parse_architecture` or
            :func:`~optuna_srm.suggest_architecture` return them.
        input_shape: ``(channels, length)`` for 1-D inputs or ``(channels, height, width)``
            for 2-D inputs, without the batch axis, every entry at least 1.
        num_classes: Number of outputs, the classes of the final ``SM`` layer.

    Returns:
        A :class:`torch.nn.Sequential` in training mode.

    Raises:
        ValueError: if an argument is invalid or ``layers`` do not make a network for this
            input.
    """
    shape = tuple(input_shape)
    if len(shape) not in (2, 3) or not all(is_int(v) and v >= 1 for v in shape):
        raise ValueError(
            "input_shape must be (channels, length) or (channels, height, width) of positive "
            f"integers, but got {input_shape=}."
        )
    check_int("num_classes", num_classes, 1)
    check_layers(layers)
    plan = _plan(list(layers), tuple(int(v) for v in shape), num_classes)
    return nn.Sequential(*(make() for make in plan))


def _plan(
    layers: list[Layer], input_shape: tuple[int, ...], num_classes: int
) -> list[Callable[[], nn.Module]]:
    """Check ``layers`` against the input and list the constructors of the model's modules.

    Nothing is allocated here, so a bad architecture fails before any weights are created.
    """
    text = format_architecture(layers)
    last = layers[-1] if layers else None
    if not isinstance(last, Softmax):
        raise ValueError(f"layers must end with SM(classes), but got {text}.")
    if last.classes != num_classes:
        raise ValueError(
            f"num_classes must equal the classes of the final layer {last}, but got "
            f"{num_classes=}."
        )

    channels, spatial = input_shape[0], input_shape[1:]
    ndim = len(spatial)
    conv, max_pool, global_avg_pool = _CONV[ndim], _MAX_POOL[ndim], _GLOBAL_AVG_POOL[ndim]
    plan: list[Callable[[], nn.Module]] = []
    for index, layer in enumerate(layers):
        where = f"{layer} (layer {index} of {text})"
        if isinstance(layer, Conv | Pool | GAP) and not spatial:
            raise ValueError(f"{where} needs a spatial input, but it comes after an FC layer.")
        if isinstance(layer, Conv):
            if layer.kernel % 2 == 0:
                raise ValueError(f"{where} has an even kernel; 'same' padding needs an odd one.")
            padding = layer.kernel // 2
            plan += [
                partial(conv, channels, layer.filters, layer.kernel, layer.stride, padding),
                nn.ReLU,
            ]
            channels = layer.filters
            spatial = tuple((r + 2 * padding - layer.kernel) // layer.stride + 1 for r in spatial)
        elif isinstance(layer, Pool):
            if layer.kernel > min(spatial):
                raise ValueError(f"{where} has a kernel larger than its input of size {spatial}.")
            plan.append(partial(max_pool, layer.kernel, layer.stride))
            spatial = tuple((r - layer.kernel) // layer.stride + 1 for r in spatial)
        elif isinstance(layer, Dropout):
            plan.append(partial(nn.Dropout, layer.rate))
        elif isinstance(layer, FC):
            plan += _linear(channels, spatial, layer.units)
            plan.append(nn.ReLU)
            channels, spatial = layer.units, ()
        elif isinstance(layer, GAP):
            if index != len(layers) - 2 or layer.classes != last.classes:
                raise ValueError(
                    f"{where} must come directly before SM({layer.classes}) at the end."
                )
            plan += [
                partial(conv, channels, layer.classes, 1),
                partial(global_avg_pool, 1),
                nn.Flatten,
            ]
            channels, spatial = layer.classes, ()
        elif index != len(layers) - 1:
            raise ValueError(f"{where} must be the last layer.")
        elif index == 0 or not isinstance(layers[index - 1], GAP):
            plan += _linear(channels, spatial, layer.classes)
    return plan


def _linear(channels: int, spatial: tuple[int, ...], units: int) -> list[Callable[[], nn.Module]]:
    """A linear layer on the representation ``(channels, *spatial)``, flattened if spatial."""
    linear = partial(nn.Linear, channels * math.prod(spatial), units)
    return [nn.Flatten, linear] if spatial else [linear]
