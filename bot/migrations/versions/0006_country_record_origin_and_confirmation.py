"""country records: where each came from, who last confirmed it and when"""

from alembic import op

from bot.migrations.columns import string, timestamp

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("countrycluster") as batch:
        batch.add_column(string("origin", 200, server_default=""))
        batch.add_column(string("confirmed_by", 200, server_default=""))
        batch.add_column(timestamp("confirmed_at", nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("countrycluster") as batch:
        batch.drop_column("confirmed_at")
        batch.drop_column("confirmed_by")
        batch.drop_column("origin")
