"""The one place that touches Optuna's private API.

Each private path saves queries on a hot path (a pruner's check, a sampled architecture) and has
a public fallback: where a release of Optuna changed what the private path uses, the fallback is
taken, with one warning per path and process, so pruning never stops silently and sampling
never fails a user's trial.
"""

from __future__ import annotations

import datetime
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import optuna
from optuna.distributions import BaseDistribution
from optuna.storages import RDBStorage

_logger = logging.getLogger(__name__)

_SQLITE_UPSERT = sqlite3.sqlite_version_info >= (3, 24, 0)  # ON CONFLICT DO UPDATE
# What a changed private API raises: a moved module, a renamed attribute, another signature.
_API_CHANGED = (ImportError, AttributeError, TypeError)
_warned: set[str] = set()

R = TypeVar("R")


def _private(path: str, fast: Callable[[], R], fallback: Callable[[], R]) -> R:
    """``fast()``, or ``fallback()`` where Optuna's private API that ``fast`` uses has changed."""
    try:
        return fast()
    except _API_CHANGED as error:
        if path not in _warned:
            _warned.add(path)
            _logger.warning(
                "optuna-srm: Optuna %s changed what %s uses (%s: %s); the slower public API "
                "takes over.",
                optuna.__version__,
                path,
                type(error).__name__,
                error,
            )
        return fallback()


def storage(study: optuna.study.Study) -> optuna.storages.BaseStorage:
    """The storage of ``study`` (also of the per-bracket view that ``HyperbandPruner`` hands
    to samplers, which has no other public way to it)."""
    found: optuna.storages.BaseStorage = study._storage
    return found


def storage_key(study: optuna.study.Study) -> tuple[int, int]:
    """A key of the study's storage and id, equal for a study and its per-bracket views."""
    return id(study._storage), study._study_id


TrialKey = tuple[int, int, datetime.datetime | None]


def trial_key(trial: optuna.trial.FrozenTrial) -> TrialKey:
    """The number, storage id and start of ``trial``."""
    return trial.number, trial._trial_id, trial.datetime_start


def all_trials(
    study: optuna.study.Study, states: tuple[optuna.trial.TrialState, ...]
) -> list[optuna.trial.FrozenTrial]:
    """The trials of the whole study in ``states``, also when ``study`` is the per-bracket
    view that ``HyperbandPruner`` hands to samplers (its ``get_trials`` sees one bracket)."""
    return storage(study).get_all_trials(study._study_id, deepcopy=False, states=states)


def set_user_attrs(
    study: optuna.study.Study,
    trial: optuna.trial.FrozenTrial | optuna.Trial,
    attrs: Mapping[str, Any],
) -> None:
    """Write ``attrs`` as user attrs of the running ``trial``, as ``trial.set_user_attr`` would.

    They go to the storage, on a relational database in one multi-row upsert (a commit, a trial
    lookup and an upsert per key are what a pruner's check costs most on SQLite), and into the
    trial's own view: a running Trial reads its user attrs from a cached FrozenTrial, whose dict
    the FrozenTrial that ``Trial.should_prune`` hands a pruner shares.
    """
    trial_id = trial._trial_id

    def one_by_one() -> None:
        for key, value in attrs.items():
            storage(study).set_trial_user_attr(trial_id, key, value)

    backend = _rdb_backend(storage(study))
    if backend is None:
        one_by_one()
    else:
        _private(
            "the user-attr upsert",
            lambda: _upsert_user_attrs(backend, trial_id, attrs),
            one_by_one,
        )
    if isinstance(trial, optuna.Trial):
        _private(
            "the trial's cached user attrs",
            lambda: trial._cached_frozen_trial.user_attrs.update(attrs),
            lambda: None,  # the trial reads them back from the storage
        )
    else:
        trial.user_attrs.update(attrs)


def _rdb_backend(found: optuna.storages.BaseStorage) -> RDBStorage | None:
    backend = getattr(found, "_backend", found)  # under _CachedStorage
    return backend if isinstance(backend, RDBStorage) else None


def _upsert_user_attrs(backend: RDBStorage, trial_id: int, attrs: Mapping[str, Any]) -> None:
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    table = models.TrialUserAttributeModel
    rows = [
        {"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
        for key, value in attrs.items()
    ]
    with _create_scoped_session(backend.scoped_session, True) as session:
        # As Optuna's storages: a finished trial (should_prune after study.tell) is not updated.
        state = session.query(models.TrialModel.state).filter_by(trial_id=trial_id).scalar()
        if state is None:
            raise KeyError(f"No trial with trial_id {trial_id} exists.")
        backend.check_trial_is_updatable(trial_id, state)
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
                backend._set_trial_attr_without_commit(session, table, trial_id, key, value)


def set_trial_params(
    trial: optuna.Trial, params: Mapping[str, tuple[Any, BaseDistribution]]
) -> bool:
    """Store ``params`` (name: ``(value, distribution)``) as params of the running ``trial``
    in one transaction instead of a commit per ``trial.suggest_*``; afterwards,
    ``trial.suggest_*`` of these names returns the stored values (checking that the
    distribution is the same) and writes nothing.

    Returns whether they were stored: where Optuna's private API has changed, nothing is, and
    the ``trial.suggest_*`` calls store them one at a time as usual.
    """
    return _private("the batched params", lambda: _set_trial_params(trial, params), lambda: False)


def _set_trial_params(
    trial: optuna.Trial, params: Mapping[str, tuple[Any, BaseDistribution]]
) -> bool:
    view = trial._cached_frozen_trial  # checked before anything is written
    found = trial.storage
    backend = _rdb_backend(found)
    if backend is None:
        for name, (value, distribution) in params.items():
            found.set_trial_param(
                trial._trial_id, name, distribution.to_internal_repr(value), distribution
            )
    else:
        from optuna.storages._rdb.storage import _create_scoped_session

        # The cached storage keeps the study's distributions, which spares a query per param.
        cached = getattr(found, "_studies", {}).get(trial.study._study_id)
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
        view.distributions[name] = distribution
        view.params[name] = value
    return True


def fixed_params(trial: optuna.Trial) -> Mapping[str, Any] | None:
    """The params fixed for ``trial`` by ``study.enqueue_trial``; ``None`` where Optuna no
    longer tells."""

    def fast() -> Mapping[str, Any] | None:
        fixed: Mapping[str, Any] = trial._fixed_params
        return fixed

    return _private("the enqueued params", fast, lambda: None)
