"""inbox: platform events written before they are acknowledged (replaces intakeevent)"""

import sqlalchemy as sa
from alembic import op

from bot.migrations.columns import id_key, json, number, string, timestamp
from bot.migrations.tables import create_intakeevent, drop_intakeevent, drop_table

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "inboxevent",
        id_key(),
        string("platform", 20),
        string("event_id", 200),
        string("chat", 200),
        string("kind", 40),
        json("payload"),
        string("status", 12),
        number("attempts"),
        timestamp("due_at"),
        timestamp("lease_until", nullable=True),
        string("claimed_by", 100),
        string("last_error", 500),
        timestamp("created_at"),
        timestamp("done_at", nullable=True),
        sa.UniqueConstraint("platform", "event_id"),
    )
    op.create_index("ix_inboxevent_pending", "inboxevent", ["status", "chat", "id"])
    op.create_index("ix_inboxevent_queue", "inboxevent", ["status", "id"])
    op.create_index(op.f("ix_inboxevent_created_at"), "inboxevent", ["created_at"])

    # The inbox's unique (platform, event_id) does what intakeevent did: answer each event once.
    drop_intakeevent()


def downgrade() -> None:
    create_intakeevent()
    drop_table(
        "inboxevent", "ix_inboxevent_created_at", "ix_inboxevent_queue", "ix_inboxevent_pending"
    )
