"""Argument checks shared by every part: each failure is a ValueError naming the argument."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

if TYPE_CHECKING:  # the prediction core uses these checks and never imports Optuna
    import optuna


def is_int(value: object) -> TypeGuard[int | np.integer[Any]]:
    """Whether ``value`` is an integer: Python's or numpy's, not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """Whether ``value`` is a real number: Python's or numpy's int or float, not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool
    )


def check_int(name: str, value: object, low: int) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``value`` is an integer >= ``low``."""
    if not is_int(value) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, but got {name}={value!r}.")


def check_seed(seed: object) -> int | None:
    """Return ``seed`` as an int, or raise a ``ValueError`` naming ``seed`` unless it is
    ``None`` or an integer in ``[0, 2**32 - 1]`` (numpy's range of seeds)."""
    if seed is None:
        return None
    if is_int(seed) and 0 <= seed < 2**32:
        return int(seed)
    raise ValueError(f"seed must be None or an integer in [0, 2**32 - 1], but got {seed=}.")


def check_single_objective(study: optuna.study.Study, who: str) -> None:
    """Raise a ``ValueError`` for a multi-objective ``study``, naming the pruner or sampler."""
    if len(study.directions) > 1:
        raise ValueError(
            f"{who} supports single-objective studies only, but the study has "
            f"{len(study.directions)} objectives."
        )
