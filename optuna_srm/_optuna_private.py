"""The one place that touches Optuna's private API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna


def set_user_attrs(
    study: optuna.study.Study, trial: optuna.trial.FrozenTrial, attrs: Mapping[str, Any]
) -> None:
    """Write ``attrs`` as user attrs of the running ``trial`` through the study's storage."""
    storage = study._storage
    for key, value in attrs.items():
        storage.set_trial_user_attr(trial._trial_id, key, value)
