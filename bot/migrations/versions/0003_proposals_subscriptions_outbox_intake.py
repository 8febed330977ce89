"""proposals subscriptions outbox intake"""

import sqlalchemy as sa
from alembic import op

from bot.migrations.columns import flag, id_key, json, number, string, timestamp
from bot.migrations.tables import create_intakeevent, drop_intakeevent, drop_table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_intakeevent()

    op.create_table(
        "subscription",
        id_key(),
        string("target", 1000),
        string("country", 2, nullable=True),
        json("clusters"),
        string("lang", 8),
        flag("active"),
        string("inactive_reason", 500),
        string("created_by", 200),
        timestamp("created_at"),
    )
    op.create_index(op.f("ix_subscription_target"), "subscription", ["target"])

    op.create_table(
        "notification",
        id_key(),
        string("key", 300),
        string("target", 1000),
        string("template", 200),
        json("data"),
        string("lang", 8),
        number("priority"),
        string("status", 12),
        number("attempts"),
        timestamp("due_at"),
        timestamp("lease_until", nullable=True),
        string("claimed_by", 100),
        string("last_error", 1000),
        number("subscription_id", nullable=True),
        timestamp("created_at"),
        timestamp("sent_at", nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"]),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_notification_due", "notification", ["status", "priority", "due_at"])

    op.create_table(
        "proposal",
        id_key(),
        string("country", 2),
        string("response", 200),
        string("justification", 4000),
        string("status", 12),
        string("created_by", 200),
        number("checklist_id", nullable=True),
        timestamp("submitted_at", nullable=True),
        timestamp("endorsed_at", nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.ForeignKeyConstraint(["checklist_id"], ["checklistrun.id"]),
    )
    op.create_index(op.f("ix_proposal_country"), "proposal", ["country"])
    op.create_index(op.f("ix_proposal_status"), "proposal", ["status"])

    op.create_table(
        "pendingmove",
        id_key(),
        string("identity", 200),
        number("proposal_id"),
        string("move", 24),
        string("cluster", 40),
        string("note", 4000),
        timestamp("created_at"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
    )

    op.create_table(
        "proposalcluster",
        id_key(),
        number("proposal_id"),
        string("cluster", 40),
        string("lead", 200),
        string("co_lead", 200),
        string("status", 24),
        string("transition_plan", 4000),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
        sa.UniqueConstraint("proposal_id", "cluster"),
    )
    op.create_index(op.f("ix_proposalcluster_proposal_id"), "proposalcluster", ["proposal_id"])

    op.create_table(
        "proposalevent",
        id_key(),
        number("proposal_id"),
        string("cluster", 40),
        string("actor", 200),
        string("from_status", 24),
        string("to_status", 24),
        string("note", 4000),
        timestamp("at"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
    )
    op.create_index(op.f("ix_proposalevent_proposal_id"), "proposalevent", ["proposal_id"])

    op.create_table(
        "reminder",
        id_key(),
        number("proposal_id"),
        string("kind", 24),
        timestamp("due_at"),
        flag("done"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
        sa.UniqueConstraint("proposal_id", "kind"),
    )
    op.create_index(op.f("ix_reminder_due_at"), "reminder", ["due_at"])
    op.create_index(op.f("ix_reminder_proposal_id"), "reminder", ["proposal_id"])

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(string("role", 12, server_default="partner"))
        batch_op.add_column(string("reply_lang", 8, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("reply_lang")
        batch_op.drop_column("role")

    drop_table("reminder", "ix_reminder_proposal_id", "ix_reminder_due_at")
    drop_table("proposalevent", "ix_proposalevent_proposal_id")
    drop_table("proposalcluster", "ix_proposalcluster_proposal_id")
    drop_table("pendingmove")
    drop_table("proposal", "ix_proposal_status", "ix_proposal_country")
    drop_table("notification", "ix_notification_due")
    drop_table("subscription", "ix_subscription_target")
    drop_intakeevent()
