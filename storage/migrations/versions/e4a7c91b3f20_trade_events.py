"""trade events extracted from trade articles (classifiers.events)

Revision ID: e4a7c91b3f20
Revises: b1f4c2d9e8a0
Create Date: 2026-12-02 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "e4a7c91b3f20"
down_revision = "b1f4c2d9e8a0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trade_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("measure", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("implementer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("affected", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("hs_chapters", sa.JSON(), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("rate_from", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("rate_to", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("announced", sa.Date(), nullable=True),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("extractor_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "position", name="uq_trade_event_article_position"),
    )
    with op.batch_alter_table("trade_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trade_event_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trade_event_measure"), ["measure"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trade_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trade_event_measure"))
        batch_op.drop_index(batch_op.f("ix_trade_event_article_id"))
    op.drop_table("trade_event")
