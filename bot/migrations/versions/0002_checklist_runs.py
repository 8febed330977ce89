"""checklist runs"""

import sqlalchemy as sa
from alembic import op

from bot.migrations.columns import id_key, json, number, string, timestamp
from bot.migrations.tables import drop_table

revision = "0002"
down_revision = "0001"

# At most one open (or paused) checklist per person per chat.
OPEN = sa.text("status IN ('open', 'paused')")


def upgrade() -> None:
    op.create_table(
        "checklistrun",
        id_key(),
        string("identity", 200),
        string("chat", 200),
        string("status", 12),
        number("position"),
        json("answers"),
        timestamp("created_at"),
        timestamp("updated_at"),
    )
    op.create_index(op.f("ix_checklistrun_identity"), "checklistrun", ["identity"])
    op.create_index(
        "ix_checklistrun_one_open",
        "checklistrun",
        ["identity", "chat"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    drop_table("checklistrun", "ix_checklistrun_one_open", "ix_checklistrun_identity")
