"""The one place that touches Optuna's private API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session


def set_user_attrs(
    study: optuna.study.Study, trial: optuna.trial.FrozenTrial, attrs: Mapping[str, Any]
) -> None:
    """Write ``attrs`` as user attrs of the running ``trial`` through the study's storage.

    On a relational database all of them go in one transaction (one commit instead of one per
    key, which is what a check costs most on SQLite).
    """
    storage = study._storage
    backend = getattr(storage, "_backend", storage)
    if isinstance(backend, RDBStorage):
        with _create_scoped_session(backend.scoped_session, True) as session:
            for key, value in attrs.items():
                backend._set_trial_attr_without_commit(
                    session, models.TrialUserAttributeModel, trial._trial_id, key, value
                )
        return
    for key, value in attrs.items():
        storage.set_trial_user_attr(trial._trial_id, key, value)
