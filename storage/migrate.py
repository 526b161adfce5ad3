"""Schema migrations with Alembic, driven from code so ``tradewatch db upgrade`` needs no alembic.ini.

Every run calls ``upgrade`` before touching the store; it is idempotent and cheap when the schema is
current. A database created before migrations existed (tables but no ``alembic_version``) is stamped
at the first revision, whose schema it already has.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from extractors.redact import redact_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


#: Search structures created by migrations but not modelled as tables (see the full-text revision).
FTS_OBJECTS = frozenset({"article_fts", "ix_article_fts"})


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate filter: ignore the full-text search table/index and FTS5's shadow tables."""
    return not (name in FTS_OBJECTS or (name or "").startswith("article_fts_"))


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of tradewatch."""
    return ScriptDirectory.from_config(_config_no_engine()).get_current_head()


def _config_no_engine() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this tradewatch reads; the message says which command fixes it."""


def require_current(engine: Engine) -> None:
    """Refuse a database whose schema is older or newer than this code's, without changing it.

    Read-only commands call this instead of ``upgrade``: looking at the store must never migrate it (a
    reader may hold only SELECT rights, an operator may be rolling out a new version on purpose, and a
    migration takes the write lock a running ingest needs). A database with no tables at all is the one
    exception: its empty schema is created, so a first `articles list` answers "nothing yet" (there is
    nothing to migrate and nothing to lose).
    """
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    shown = redact_url(engine.url.render_as_string(hide_password=False))
    if current is None:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
        if not tables:
            upgrade(engine)
            return
        raise SchemaNotCurrent(
            f"the database {shown} has tables but no tradewatch schema revision; "
            "run `tradewatch db upgrade` (every `tradewatch run` also does)"
        )
    known = {script.revision for script in ScriptDirectory.from_config(_config_no_engine()).walk_revisions()}
    if current not in known:
        raise SchemaNotCurrent(
            f"the database {shown} has schema revision {current}, written by a newer tradewatch than this "
            f"one (head {head}); upgrade tradewatch"
        )
    raise SchemaNotCurrent(
        f"the database {shown} has schema revision {current}, older than this tradewatch's {head}; "
        "run `tradewatch db upgrade` (every `tradewatch run` also does)"
    )


#: Any constant works; it only has to be the same for every tradewatch process on one database.
_PG_MIGRATION_LOCK = 0x7472_6164


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest); safe when two processes start together.

    PostgreSQL serialises migrators with an advisory lock; SQLite takes its write lock with the first
    DDL statement, and a process that loses the race finds the schema current and does nothing.
    """
    config = _config(engine)
    if revision == "head" and current_revision(engine) == head_revision():
        return
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            # On SQLite, storage.db makes every transaction an explicit BEGIN IMMEDIATE, so the whole
            # migration is one transaction: a process killed mid-migration leaves no half schema.
            config.attributes["connection"] = connection
            tables = set(inspect(connection).get_table_names())
            if "article" in tables and "alembic_version" not in tables:
                base = ScriptDirectory.from_config(config).get_base()
                command.stamp(config, base or "head")
            command.upgrade(config, revision)
    except (OperationalError, ProgrammingError):
        if current_revision(engine) != head_revision():
            raise


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (a developer command)."""
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
