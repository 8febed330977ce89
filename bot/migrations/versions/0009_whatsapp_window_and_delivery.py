"""whatsapp: a person's last message time; a notification's platform id and delivery"""

from alembic import op

from bot.migrations.columns import string, timestamp

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(timestamp("last_message_at", nullable=True))
    with op.batch_alter_table("notification") as batch:
        batch.add_column(string("platform_id", 200, server_default=""))
        batch.add_column(string("delivery", 300, server_default=""))
        batch.create_index(batch.f("ix_notification_platform_id"), ["platform_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_index(batch.f("ix_notification_platform_id"))
        batch.drop_column("delivery")
        batch.drop_column("platform_id")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("last_message_at")
