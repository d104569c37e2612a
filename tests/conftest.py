"""Fixtures shared by the whole test suite.

- ``storage``: one Optuna storage of each kind (in-memory, SQLite file, journal file,
  PostgreSQL, MySQL/MariaDB), for tests that must hold on every storage.
- ``postgres_url`` / ``mysql_url``: a SQLAlchemy URL of a database created for this test session
  on the local server, dropped at its end.
- ``chromium``: the path of a Chromium browser (``OPTUNA_SRM_CHROMIUM``, else ``chromium`` or
  ``chromium-browser`` on the PATH), for tests that load pages in a real browser.

SQLite connections skip the wait for the disk at each commit (``PRAGMA synchronous = OFF``).

A database server or a browser that cannot be found skips the tests that need it, unless
``CI=true`` or the variable named in the skip reason (``OPTUNA_SRM_TEST_POSTGRES=1``,
``OPTUNA_SRM_TEST_MYSQL=1``, ``OPTUNA_SRM_TEST_BROWSER=1``) is set: then those tests fail.
Tests marked ``gpu`` are skipped when torch or a CUDA device is missing, unless
``OPTUNA_SRM_TEST_GPU=1``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import optuna
import pytest
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalStorage
from sqlalchemy import event
from sqlalchemy.engine import Engine

POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER = "127.0.0.1", 5432, "postgres"
MYSQL_HOST, MYSQL_PORT, MYSQL_USER = "127.0.0.1", 3306, "root"
CONNECT_TIMEOUT_S = 5

POSTGRES_ENV = "OPTUNA_SRM_TEST_POSTGRES"
MYSQL_ENV = "OPTUNA_SRM_TEST_MYSQL"
GPU_ENV = "OPTUNA_SRM_TEST_GPU"
BROWSER_ENV = "OPTUNA_SRM_TEST_BROWSER"
CHROMIUM_PATH_ENV = "OPTUNA_SRM_CHROMIUM"


@pytest.fixture(autouse=True, scope="session")
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO; the tests' studies run thousands."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(verbosity)


def _sqlite_without_fsync(dbapi_connection: object, _record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.close()


@pytest.fixture(autouse=True, scope="session")
def _fast_sqlite() -> Iterator[None]:
    """SQLite waits for the disk at every commit, of which a study makes one or two per report
    (5 ms each on a plain disk): five times the rest of a test's time. The tests' SQLite files
    need no durability across a power cut; what every process reads stays the same."""
    event.listen(Engine, "connect", _sqlite_without_fsync)
    yield
    event.remove(Engine, "connect", _sqlite_without_fsync)


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _missing(what: str, env_var: str | None = None) -> NoReturn:
    """Skip the test for lack of ``what``, or fail it where it is required."""
    if _in_ci() or (env_var is not None and os.environ.get(env_var) == "1"):
        forced = "CI=true" if _in_ci() else f"{env_var}=1"
        pytest.fail(f"{what} ({forced} requires it)", pytrace=False)
    hint = f"; set {env_var}=1 to make this a failure" if env_var else ""
    pytest.skip(f"{what}{hint}")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _database_name() -> str:
    return f"optuna_srm_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, as a SQLAlchemy URL."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError as error:
        _missing(f"psycopg is not installed ({error})", POSTGRES_ENV)

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=POSTGRES_HOST,
            port=POSTGRES_PORT,
            user=POSTGRES_USER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
        )

    try:
        admin = connect()
    except psycopg.Error as error:
        problem = _one_line(error)
    else:
        problem = None
    if problem is not None:  # outside the except block: no chained traceback in the report
        _missing(
            f"PostgreSQL is unreachable at {POSTGRES_HOST}:{POSTGRES_PORT} as {POSTGRES_USER} "
            f"({problem})",
            POSTGRES_ENV,
        )

    name = _database_name()
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        with connect() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    """A fresh MySQL/MariaDB database for this test session, as a SQLAlchemy URL."""
    try:
        import pymysql
    except ImportError as error:
        _missing(f"pymysql is not installed ({error})", MYSQL_ENV)

    def connect() -> pymysql.connections.Connection:
        return pymysql.connect(
            host=MYSQL_HOST,
            port=MYSQL_PORT,
            user=MYSQL_USER,
            password="",
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
        )

    try:
        admin = connect()
    except pymysql.Error as error:
        problem = _one_line(error)
    else:
        problem = None
    if problem is not None:
        _missing(
            f"MySQL/MariaDB is unreachable at {MYSQL_HOST}:{MYSQL_PORT} as {MYSQL_USER} "
            f"({problem})",
            MYSQL_ENV,
        )

    name = _database_name()
    with admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"mysql+pymysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}/{name}"
    finally:
        with connect() as admin, admin.cursor() as cursor:
            cursor.execute("SET SESSION lock_wait_timeout = 60")
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(
    params=[
        "inmemory",
        "sqlite",
        "journal",
        pytest.param("postgresql", marks=pytest.mark.integration),
        pytest.param("mysql", marks=pytest.mark.integration),
    ]
)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStorage]:
    """An Optuna storage of each kind, to pass as ``optuna.create_study(storage=...)``.

    The in-memory, SQLite and journal storages are new for each test; the PostgreSQL and MySQL
    ones live in this session's database, so tests must let Optuna name their studies (or use
    unique names) and must not count all the studies in the storage.
    """
    kind: str = request.param
    if kind == "inmemory":
        yield InMemoryStorage()
    elif kind == "journal":
        yield JournalStorage(JournalFileBackend(str(tmp_path / "optuna_journal.log")))
    else:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'optuna.db'}"
        elif kind == "postgresql":
            url = request.getfixturevalue("postgres_url")
        else:
            url = request.getfixturevalue("mysql_url")
        rdb = RDBStorage(url)
        try:
            yield rdb
        finally:
            rdb.engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a Chromium browser to run headless."""
    path = (
        os.environ.get(CHROMIUM_PATH_ENV)
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        _missing(
            f"Chromium is not installed (apt-get install chromium, or set {CHROMIUM_PATH_ENV})",
            BROWSER_ENV,
        )
    return path


def _cuda_missing() -> str | None:
    try:
        import torch
    except ImportError:
        return 'torch is not installed (pip install -e ".[torch]")'
    if not torch.cuda.is_available():
        return "no CUDA device is available"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items or os.environ.get(GPU_ENV) == "1":
        return
    reason = _cuda_missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"{reason}; set {GPU_ENV}=1 to run gpu tests anyway")
    for item in gpu_items:
        item.add_marker(skip)
