"""full-text search over article title and text

SQLite: an FTS5 external-content table kept in step by triggers. PostgreSQL: a GIN index on the
English tsvector of title and text. Neither is a model table, so storage.migrate.include_object keeps
autogenerate from proposing to drop them.

Revision ID: b1f4c2d9e8a0
Revises: 9ae6711efacd
Create Date: 2026-11-24 21:10:00
"""

from __future__ import annotations

from alembic import op

revision = "b1f4c2d9e8a0"
down_revision = "9ae6711efacd"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE article_fts USING fts5(title, text, content='article', content_rowid='id')",
    "INSERT INTO article_fts(rowid, title, text) SELECT id, title, text FROM article",
    """CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN
         INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
       END""",
    """CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN
         INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
       END""",
    """CREATE TRIGGER article_fts_update AFTER UPDATE OF title, text ON article BEGIN
         INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
         INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
       END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS article_fts_update",
    "DROP TRIGGER IF EXISTS article_fts_delete",
    "DROP TRIGGER IF EXISTS article_fts_insert",
    "DROP TABLE IF EXISTS article_fts",
]
PG_UP = [
    "CREATE INDEX IF NOT EXISTS ix_article_fts ON article USING GIN "
    "(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(text, '')))",
]
PG_DOWN = ["DROP INDEX IF EXISTS ix_article_fts"]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(SQLITE_UP if dialect == "sqlite" else PG_UP if dialect == "postgresql" else [])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(SQLITE_DOWN if dialect == "sqlite" else PG_DOWN if dialect == "postgresql" else [])
