"""Reading what the pruner recorded at its checks, as the user attrs of ``_keys`` lay it out."""

from __future__ import annotations

import math
from typing import NamedTuple

import optuna
from optuna.trial import FrozenTrial

from optuna_srm import _keys

# The half width of a 90% interval of a normal distribution, in standard deviations.
Z_90 = 1.645


class Check(NamedTuple):
    """One check of the pruner: the final value it predicted at ``step``, with its std, the
    probability it gave the trial to beat ``bar`` (the best finished value; ``None`` where
    there was none)."""

    step: int
    predicted: float
    std: float
    p_improve: float
    bar: float | None


def checks(trial: FrozenTrial) -> list[Check]:
    """The checks recorded in ``trial``'s history, in the order of their steps (rows that are
    not the pruner's are left out)."""
    rows = trial.user_attrs.get(_keys.PREDICTION_HISTORY)
    if not isinstance(rows, list):
        return []
    found = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 5 and _is_int(row[0])):
            continue
        step, predicted, std, p_improve, bar = row
        if not all(_is_finite(v) for v in (predicted, std, p_improve)):
            continue
        found.append(
            Check(
                step,
                float(predicted),
                float(std),
                float(p_improve),
                float(bar) if _is_finite(bar) else None,
            )
        )
    return sorted(found, key=lambda c: c.step)


def curve(trial: FrozenTrial) -> tuple[list[int], list[float]]:
    """The trial's finite intermediate values, by step."""
    pairs = [(s, v) for s, v in sorted(trial.intermediate_values.items()) if math.isfinite(v)]
    return [s for s, _ in pairs], [v for _, v in pairs]


def trial_numbered(study: optuna.Study, trial_number: int) -> FrozenTrial:
    """The trial of ``study`` numbered ``trial_number``."""
    for trial in study.get_trials(deepcopy=False):
        if trial.number == trial_number:
            return trial
    raise ValueError(
        f"trial_number must be the number of a trial of the study, but got {trial_number=}."
    )


def metric_name(study: optuna.Study) -> str:
    """The name of the study's objective (``study.set_metric_names``), or "Objective value"."""
    names = study.metric_names
    return names[0] if names else "Objective value"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
