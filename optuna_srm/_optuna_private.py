"""The one place that touches Optuna's private API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session


def set_user_attrs(
    study: optuna.study.Study,
    trial: optuna.trial.FrozenTrial | optuna.Trial,
    attrs: Mapping[str, Any],
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


def set_trial_user_attrs(trial: optuna.Trial, attrs: Mapping[str, Any]) -> None:
    """``trial.set_user_attr`` for every item of ``attrs``, in one transaction."""
    set_user_attrs(trial.study, trial, attrs)
    trial._cached_frozen_trial.user_attrs.update(attrs)


def all_trials(
    study: optuna.study.Study, states: tuple[optuna.trial.TrialState, ...]
) -> list[optuna.trial.FrozenTrial]:
    """The trials of the whole study in ``states``, also when ``study`` is the per-bracket
    view that ``HyperbandPruner`` hands to samplers (its ``get_trials`` sees one bracket)."""
    return study._storage.get_all_trials(study._study_id, deepcopy=False, states=states)


def storage_key(study: optuna.study.Study) -> tuple[int, int]:
    """A key of the study's storage and id, equal for a study and its per-bracket views."""
    return id(study._storage), study._study_id
