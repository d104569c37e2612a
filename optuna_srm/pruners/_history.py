"""The history of a trial's checks, kept in one user attr for watching (never read by the rule)."""

from __future__ import annotations

import bisect
import math
from itertools import pairwise
from typing import Any

from optuna_srm import _keys
from optuna_srm._validation import is_int, is_number

HistoryRow = list[int | float | None]


def with_check(
    previous: object, step: int, predicted: float, std: float, p_improve: float, bar: float
) -> list[HistoryRow] | None:
    """The trial's history of checks (``_keys.PREDICTION_HISTORY``) with the check at ``step``
    in it; ``None`` where a value is not finite (the history stays as it was).

    A history that is not one the pruner wrote starts afresh. A check at a step already in it
    replaces that row. Beyond ``_keys.MAX_HISTORY`` rows, the row whose neighbours lie closest
    together goes (the earliest of ties), never the first or the latest.
    """
    if not all(math.isfinite(v) for v in (predicted, std, p_improve)):
        return None
    rows = [row for row in _history_rows(previous) if row[0] != step]
    row: HistoryRow = [step, _short(predicted), _short(std), _short(p_improve)]
    row.append(_short(bar) if math.isfinite(bar) else None)
    rows.insert(bisect.bisect([r[0] for r in rows], step), row)
    while len(rows) > _keys.MAX_HISTORY:
        steps = [r[0] for r in rows]
        spans = [steps[i + 1] - steps[i - 1] for i in range(1, len(rows) - 1)]
        del rows[1 + spans.index(min(spans))]
    return rows


def _history_rows(previous: object) -> list[list[Any]]:
    """The rows of ``previous`` where it is a history that the pruner wrote, else none."""
    if not (isinstance(previous, list) and all(_is_history_row(row) for row in previous)):
        return []
    if any(a[0] >= b[0] for a, b in pairwise(previous)):
        return []
    return list(previous)


def _is_history_row(row: object) -> bool:
    if not (isinstance(row, list) and len(row) == 5):
        return False
    step, *values, bar = row
    return (
        is_int(step)
        and all(is_number(v) and math.isfinite(v) for v in values)
        and (bar is None or (is_number(bar) and math.isfinite(bar)))
    )


def _short(value: float) -> float:
    """``value`` to 6 significant digits: the history is for watching, and stays small."""
    return float(f"{value:.6g}")
