"""country records: where each came from, who last confirmed it and when

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00

Numbered 0006 to leave 0005 to work under way on main; it follows 0004 directly.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('countrycluster') as batch:
        batch.add_column(sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='', nullable=False))
        batch.add_column(sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='', nullable=False))
        batch.add_column(sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('countrycluster') as batch:
        batch.drop_column('confirmed_at')
        batch.drop_column('confirmed_by')
        batch.drop_column('origin')
