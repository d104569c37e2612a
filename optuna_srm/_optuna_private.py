"""The one place that touches Optuna's private API."""

from __future__ import annotations

import bisect
import datetime
import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from sqlalchemy.dialects import mysql, postgresql, sqlite

_SQLITE_UPSERT = sqlite3.sqlite_version_info >= (3, 24, 0)  # ON CONFLICT DO UPDATE


def set_user_attrs(
    study: optuna.study.Study,
    trial: optuna.trial.FrozenTrial | optuna.Trial,
    attrs: Mapping[str, Any],
) -> None:
    """Write ``attrs`` as user attrs of the running ``trial``, as ``trial.set_user_attr`` would.

    They go through the study's storage, and into the trial's own view: a running Trial's
    ``user_attrs`` reads its cached FrozenTrial, whose dict the FrozenTrial that
    ``Trial.should_prune`` hands a pruner shares (a shallow copy).
    """
    _write_user_attrs(study, trial, attrs)
    view = trial._cached_frozen_trial if isinstance(trial, optuna.Trial) else trial
    view.user_attrs.update(attrs)


def _write_user_attrs(
    study: optuna.study.Study,
    trial: optuna.trial.FrozenTrial | optuna.Trial,
    attrs: Mapping[str, Any],
) -> None:
    """Write ``attrs`` to the storage; on a relational database in one multi-row upsert
    (instead of a commit, a trial lookup and an upsert per key, which is what a pruner's check
    costs most on SQLite)."""
    storage = study._storage
    backend = getattr(storage, "_backend", storage)
    if not isinstance(backend, RDBStorage):
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial._trial_id, key, value)
        return
    table = models.TrialUserAttributeModel
    rows = [
        {"trial_id": trial._trial_id, "key": key, "value_json": json.dumps(value)}
        for key, value in attrs.items()
    ]
    with _create_scoped_session(backend.scoped_session, True) as session:
        # As Optuna's storages: a finished trial (should_prune after study.tell) is not updated.
        query = session.query(models.TrialModel.state).filter_by(trial_id=trial._trial_id)
        state = query.scalar()
        if state is None:
            raise KeyError(f"No trial with trial_id {trial._trial_id} exists.")
        backend.check_trial_is_updatable(trial._trial_id, state)
        dialect = backend.engine.name
        if dialect == "postgresql" or (dialect == "sqlite" and _SQLITE_UPSERT):
            insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
            upsert = insert(table).values(rows)
            session.execute(
                upsert.on_conflict_do_update(
                    index_elements=[table.trial_id, table.key],
                    set_={"value_json": upsert.excluded.value_json},
                )
            )
        elif dialect == "mysql":
            my = mysql.insert(table).values(rows)
            session.execute(my.on_duplicate_key_update(value_json=my.inserted.value_json))
        else:
            for key, value in attrs.items():
                backend._set_trial_attr_without_commit(session, table, trial._trial_id, key, value)


def set_trial_params(
    trial: optuna.Trial, params: Mapping[str, tuple[Any, BaseDistribution]]
) -> None:
    """Store ``params`` (name: ``(value, distribution)``) as params of the running ``trial``.

    On a relational database they go in one transaction instead of a commit per
    ``trial.suggest_*``; afterwards, ``trial.suggest_*`` of these names returns the stored
    values (checking that the distribution is the same) and writes nothing.
    """
    storage = trial.storage
    backend = getattr(storage, "_backend", storage)
    if not isinstance(backend, RDBStorage):
        for name, (value, distribution) in params.items():
            storage.set_trial_param(
                trial._trial_id, name, distribution.to_internal_repr(value), distribution
            )
    else:
        # The cached storage keeps the study's distributions, which spares a query per param.
        cached = getattr(storage, "_studies", {}).get(trial.study._study_id)
        known: dict[str, BaseDistribution] = getattr(cached, "param_distribution", {})
        with _create_scoped_session(backend.scoped_session, True) as session:
            for name, (value, distribution) in params.items():
                backend._set_trial_param_without_commit(
                    session,
                    trial._trial_id,
                    name,
                    distribution.to_internal_repr(value),
                    distribution,
                    known.get(name),
                )
        for name, (_, distribution) in params.items():
            known.setdefault(name, distribution)
    for name, (value, distribution) in params.items():
        trial._cached_frozen_trial.distributions[name] = distribution
        trial._cached_frozen_trial.params[name] = value


def fixed_params(trial: optuna.Trial) -> Mapping[str, Any]:
    """The params fixed for ``trial`` by ``study.enqueue_trial``."""
    fixed: Mapping[str, Any] = trial._fixed_params
    return fixed


def all_trials(
    study: optuna.study.Study, states: tuple[optuna.trial.TrialState, ...]
) -> list[optuna.trial.FrozenTrial]:
    """The trials of the whole study in ``states``, also when ``study`` is the per-bracket
    view that ``HyperbandPruner`` hands to samplers (its ``get_trials`` sees one bracket)."""
    return study._storage.get_all_trials(study._study_id, deepcopy=False, states=states)


def storage_key(study: optuna.study.Study) -> tuple[int, int]:
    """A key of the study's storage and id, equal for a study and its per-bracket views."""
    return id(study._storage), study._study_id


TrialKey = tuple[int, int, datetime.datetime | None]


def trial_key(trial: optuna.trial.FrozenTrial) -> TrialKey:
    """The number, storage id and start of ``trial``."""
    return trial.number, trial._trial_id, trial.datetime_start


def extends(
    trials: Sequence[optuna.trial.FrozenTrial], n: int, keys: Sequence[TrialKey | None]
) -> bool:
    """Whether ``trials`` (in number order) are ``n`` or more and hold the trials of ``keys``.

    Caches keyed by :func:`storage_key` keep the keys of the first and the last trial they
    were built from, to tell a study from one deleted before it under the same id (SQLite gives
    a new row the id of the deleted last one, and ``study.add_trials`` copies the starts).
    """
    if len(trials) < n:
        return False
    for key in keys:
        if key is None:
            continue
        i = bisect.bisect_left(trials, key[0], key=lambda t: t.number)
        if i == len(trials) or trial_key(trials[i]) != key:
            return False
    return True
