"""heartbeat (a row per dispatcher, for /readyz) and destinationpace (per-destination pacing shared by dispatchers)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'


def upgrade() -> None:
    op.create_table('destinationpace',
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('next_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('target')
    )
    with op.batch_alter_table('destinationpace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_destinationpace_next_at'), ['next_at'], unique=False)

    op.create_table('heartbeat',
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('beat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('worker')
    )
    with op.batch_alter_table('heartbeat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_heartbeat_role'), ['role'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('heartbeat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_heartbeat_role'))

    op.drop_table('heartbeat')
    with op.batch_alter_table('destinationpace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_destinationpace_next_at'))

    op.drop_table('destinationpace')
