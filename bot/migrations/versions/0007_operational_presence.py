"""operational presence: which organisations work in which cluster where (HDX HAPI 3W)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'


def upgrade() -> None:
    op.create_table('presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('sector', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('sector_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('org_acronym', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('org_name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('org_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('areas', sa.Integer(), nullable=False),
    sa.Column('reference_period_start', sa.Date(), nullable=True),
    sa.Column('reference_period_end', sa.Date(), nullable=True),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('loaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('presence', schema=None) as batch_op:
        batch_op.create_index('ix_presence_country_sector', ['country', 'sector'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('presence', schema=None) as batch_op:
        batch_op.drop_index('ix_presence_country_sector')

    op.drop_table('presence')
