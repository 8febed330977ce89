"""inbox: platform events written before they are acknowledged (replaces intakeevent)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'


def upgrade() -> None:
    op.create_table('inboxevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('chat', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'event_id')
    )
    with op.batch_alter_table('inboxevent', schema=None) as batch_op:
        batch_op.create_index('ix_inboxevent_pending', ['status', 'chat', 'id'], unique=False)
        batch_op.create_index('ix_inboxevent_queue', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inboxevent_created_at'), ['created_at'], unique=False)

    # The inbox's unique (platform, event_id) does what intakeevent did: answer each event once.
    with op.batch_alter_table('intakeevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intakeevent_seen_at'))

    op.drop_table('intakeevent')


def downgrade() -> None:
    op.create_table('intakeevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'event_id')
    )
    with op.batch_alter_table('intakeevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intakeevent_seen_at'), ['seen_at'], unique=False)

    with op.batch_alter_table('inboxevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inboxevent_created_at'))
        batch_op.drop_index('ix_inboxevent_queue')
        batch_op.drop_index('ix_inboxevent_pending')

    op.drop_table('inboxevent')
