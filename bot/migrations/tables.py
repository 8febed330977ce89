"""Table steps the migrations repeat: dropping a table with its indexes, and intakeevent.

intakeevent (each platform event answered once) is the one table that a migration makes (0003)
and a later one's downgrade makes again (0005, whose upgrade replaced it with the inbox); both
build it here, so the table the downgrade brings back is 0003's to the letter. Migrations already
applied call these: what they do stays as it is (see columns.py).
"""

import sqlalchemy as sa
from alembic import op

from bot.migrations.columns import flag, id_key, string, timestamp


def drop_table(name: str, *indexes: str) -> None:
    """Drop a table: the indexes named first, in that order, then the table."""
    for index in indexes:
        op.drop_index(op.f(index), table_name=name)
    op.drop_table(name)


def create_intakeevent() -> None:
    """Make intakeevent and its index on seen_at."""
    op.create_table(
        "intakeevent",
        id_key(),
        string("platform", 20),
        string("event_id", 200),
        flag("done"),
        timestamp("seen_at"),
        sa.UniqueConstraint("platform", "event_id"),
    )
    op.create_index(op.f("ix_intakeevent_seen_at"), "intakeevent", ["seen_at"])


def drop_intakeevent() -> None:
    """Drop intakeevent and its index."""
    drop_table("intakeevent", "ix_intakeevent_seen_at")
