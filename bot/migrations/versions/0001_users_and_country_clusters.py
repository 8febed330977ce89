"""Users (language preference) and country-level cluster records."""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "user",
        sa.Column("identity", sqlmodel.AutoString(length=200), primary_key=True),
        sa.Column("lang", sqlmodel.AutoString(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "countrycluster",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("country", sqlmodel.AutoString(length=2), nullable=False),
        sa.Column("cluster", sqlmodel.AutoString(length=40), nullable=False),
        sa.Column("lead", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("co_lead", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("coordinator", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("contact", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("activated_on", sa.Date(), nullable=True),
        sa.Column("source", sqlmodel.AutoString(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("country", "cluster"),
    )
    op.create_index("ix_countrycluster_country", "countrycluster", ["country"])


def downgrade() -> None:
    op.drop_index("ix_countrycluster_country", table_name="countrycluster")
    op.drop_table("countrycluster")
    op.drop_table("user")
