"""Opening the storage a user names on the command line, with one-line errors."""

from __future__ import annotations

import os
import time
from typing import Any

import click
import optuna
import sqlalchemy.event
import sqlalchemy.exc
from sqlalchemy.engine import make_url

_CREATE_ATTEMPTS = 5
# Journal files for several processes on one machine without a database server.
_JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")


def safe_url(url: str) -> str:
    """``url`` with its password masked, for anything printed or logged."""
    if "://" not in url:
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url.split("://", 1)[0] + "://..."


def open_storage(url: str, heartbeat: int | None = None) -> optuna.storages.BaseStorage:
    """The Optuna storage of ``url``: a SQLAlchemy database URL (``sqlite:///search.db``,
    ``postgresql+psycopg://user@host/db``, ``mysql+pymysql://...``) or the path of a journal file
    (``search.log``). Raises ``click.ClickException`` with one line on any failure.

    With ``heartbeat`` (seconds), a database storage records a heartbeat of each running trial;
    a trial whose worker died (no heartbeat for twice that long) is failed by the next worker to
    start a trial, and retried up to three times with the same params.
    """
    if "://" not in url:
        if not url.endswith(_JOURNAL_SUFFIXES):
            raise click.BadParameter(
                f"{url!r} is neither a database URL (sqlite:///search.db, "
                "postgresql+psycopg://user@host/db, mysql+pymysql://user@host/db) nor a journal "
                f"file ({', '.join(_JOURNAL_SUFFIXES)})",
                param_hint="--storage",
            )
        directory = os.path.dirname(os.path.abspath(url))
        if not os.path.isdir(directory):
            raise click.BadParameter(f"no directory {directory}", param_hint="--storage")
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(url))
    shown = safe_url(url)
    try:
        make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise click.BadParameter(
            f"cannot parse {shown!r} as a database URL", param_hint="--storage"
        ) from None
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            # pool_pre_ping: a connection that the server dropped is replaced, not used.
            storage = optuna.storages.RDBStorage(
                url, engine_kwargs={"pool_pre_ping": True}, **_heartbeat_arguments(heartbeat)
            )
            break
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == _CREATE_ATTEMPTS - 1:
                raise click.ClickException(f"cannot create Optuna's tables in {shown}") from None
            # Workers started together on a new database race to create Optuna's tables: the
            # next attempt finds those that another worker created.
            time.sleep(0.2 * (attempt + 1))
        except ModuleNotFoundError as error:
            raise click.ClickException(
                f"--storage {shown} needs the database driver {error.name!r}: pip install it"
            ) from None
        except (sqlalchemy.exc.SQLAlchemyError, ValueError, ImportError) as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            password = make_url(url).password
            if password:
                reason = reason.replace(str(password), "***")
            raise click.ClickException(f"cannot open --storage {shown}: {reason}") from None
    if storage.engine.name == "sqlite":
        sqlalchemy.event.listen(storage.engine, "connect", _write_ahead_log)
        storage.engine.dispose()  # the connections opened so far go without it
    return storage


def _heartbeat_arguments(heartbeat: int | None) -> dict[str, Any]:
    if not heartbeat:
        return {}
    arguments: dict[str, Any] = {"heartbeat_interval": heartbeat, "grace_period": 2 * heartbeat}
    if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):  # Optuna 5.1 and later
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3)
        arguments["heartbeat_stale_trial_callback"] = retry
    else:
        arguments["failed_trial_callback"] = optuna.storages.RetryFailedTrialCallback(max_retry=3)
    return arguments


def _write_ahead_log(connection: Any, record: object) -> None:
    """SQLite commits without an fsync each (write-ahead log, synchronous=NORMAL): a report
    costs a few milliseconds instead of tens. A crash of the machine may lose the last
    commits, never the file; several processes on one machine read while one writes."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
