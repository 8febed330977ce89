"""conversation subjects: the last question per person and chat, for follow-ups

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversationsubject',
    sa.Column('identity', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('chat', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('subject', sa.JSON(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('identity', 'chat')
    )


def downgrade() -> None:
    op.drop_table('conversationsubject')
