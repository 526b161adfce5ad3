"""Engine factory and schema setup; there is deliberately no module-global engine.

A factory lets tests, the CLI and each Prefect worker build the engine they need from settings,
instead of patching a global. SQLite is tuned for one writer and several readers (WAL, busy timeout);
PostgreSQL needs nothing special beyond pool pre-ping for long-lived workers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import create_engine

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)

#: How long a SQLite writer waits for another writer's lock before failing; long enough to ride out a
#: concurrent run's transaction, short enough that a wedged database surfaces as an error.
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine for ``url`` (any SQLAlchemy URL); creates the SQLite file's folder if needed."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    elif parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        # psycopg 3 is the driver we ship; a plain postgresql:// URL must not look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when a transaction starts, not at its first write.

    A transaction that reads and then writes (load a feed row, update it) would otherwise try to
    upgrade its lock while another process writes, and in WAL mode that fails at once with "database
    is locked" instead of waiting out the busy timeout. Transactions here are short, so serialising
    them costs little; readers outside transactions (reports, the CLI) are not blocked.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers (CLI, reports) work while a run writes; foreign keys are off by default in SQLite."""
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN IMMEDIATE itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_db(engine: Engine) -> None:
    """Bring the schema up to date with the migrations. Idempotent; called at the start of every run."""
    from storage.migrate import upgrade

    upgrade(engine)
