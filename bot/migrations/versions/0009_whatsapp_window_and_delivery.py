"""whatsapp: a person's last message time; a notification's platform id and delivery"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'


def upgrade() -> None:
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('last_message_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('platform_id', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='', nullable=False))
        batch.add_column(sa.Column('delivery', sqlmodel.sql.sqltypes.AutoString(length=300), server_default='', nullable=False))
        batch.create_index(batch.f('ix_notification_platform_id'), ['platform_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification') as batch:
        batch.drop_index(batch.f('ix_notification_platform_id'))
        batch.drop_column('delivery')
        batch.drop_column('platform_id')
    with op.batch_alter_table('user') as batch:
        batch.drop_column('last_message_at')
