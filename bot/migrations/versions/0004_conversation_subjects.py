"""conversation subjects: the last question per person and chat, for follow-ups"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'


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
