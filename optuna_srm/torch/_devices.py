"""resolve_devices: the ``--devices`` option of the command as PyTorch device names."""

from __future__ import annotations

import torch

_FORMS = "'cpu', 'auto', or GPU indices separated by commas such as '0' or '0,1'"


class DeviceError(ValueError):
    """A device specification that PyTorch cannot serve, with a one-line message."""


def resolve_devices(spec: str) -> list[str]:
    """Turn a device specification into the PyTorch devices to train on, one per worker.

    ``"cpu"`` gives ``["cpu"]``; ``"auto"`` gives every GPU that PyTorch sees (``"cuda:0"``,
    ``"cuda:1"``, ...), or ``["cpu"]`` where it sees none; GPU indices separated by commas, such
    as ``"0"`` or ``"1,3"``, give those GPUs in that order (``["cuda:1", "cuda:3"]``). Indices
    count the GPUs that PyTorch sees, so they follow ``CUDA_VISIBLE_DEVICES``. Spaces around
    the entries are ignored.

    Args:
        spec: The specification, as the ``--devices`` option takes it.

    Returns:
        The device names, without duplicates.

    Raises:
        DeviceError: if ``spec`` has none of these forms, names a GPU twice, or names a GPU
            that PyTorch does not see.
    """
    if not isinstance(spec, str):
        raise DeviceError(f"--devices must be {_FORMS}, but got {spec!r}.")
    text = spec.strip().lower()
    if text == "cpu":
        return ["cpu"]
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if text == "auto":
        return [f"cuda:{index}" for index in range(count)] or ["cpu"]

    entries = [entry.strip() for entry in text.split(",")]
    if not all(entry.isascii() and entry.isdigit() for entry in entries):
        raise DeviceError(f"--devices must be {_FORMS}, but got {spec!r}.")
    indices = [int(entry) for entry in entries]
    for index in indices:
        if indices.count(index) > 1:
            raise DeviceError(f"--devices {spec} names GPU {index} more than once.")
    if count == 0:
        raise DeviceError(
            f"--devices {spec} asks for a GPU, but PyTorch sees none "
            "(torch.cuda.is_available() is False)."
        )
    for index in indices:
        if index >= count:
            seen = "1 GPU (0)" if count == 1 else f"{count} GPUs (0 to {count - 1})"
            raise DeviceError(f"--devices {spec} asks for GPU {index}, but PyTorch sees {seen}.")
    return [f"cuda:{index}" for index in indices]
