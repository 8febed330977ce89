"""country records: where each came from, who last confirmed it and when"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'


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
