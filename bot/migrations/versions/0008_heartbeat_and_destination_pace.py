"""heartbeat (a row per dispatcher, for /readyz) and destinationpace (per-destination pacing shared by dispatchers)"""

import sqlalchemy as sa
from alembic import op

from bot.migrations.columns import string, timestamp
from bot.migrations.tables import drop_table

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "destinationpace",
        string("target", 1000),
        timestamp("next_at"),
        sa.PrimaryKeyConstraint("target"),
    )
    op.create_index(op.f("ix_destinationpace_next_at"), "destinationpace", ["next_at"])

    op.create_table(
        "heartbeat",
        string("worker", 100),
        string("role", 20),
        timestamp("beat_at"),
        sa.PrimaryKeyConstraint("worker"),
    )
    op.create_index(op.f("ix_heartbeat_role"), "heartbeat", ["role"])


def downgrade() -> None:
    drop_table("heartbeat", "ix_heartbeat_role")
    drop_table("destinationpace", "ix_destinationpace_next_at")
