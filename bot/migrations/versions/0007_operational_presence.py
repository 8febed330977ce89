"""operational presence: which organisations work in which cluster where (HDX HAPI 3W)"""

from alembic import op

from bot.migrations.columns import day, id_key, number, string, timestamp
from bot.migrations.tables import drop_table

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "presence",
        id_key(),
        string("country", 2),
        string("sector", 40),
        string("sector_code", 16),
        string("org_acronym", 200),
        string("org_name", 500),
        string("org_type", 200),
        number("areas"),
        day("reference_period_start", nullable=True),
        day("reference_period_end", nullable=True),
        string("origin", 500),
        timestamp("loaded_at"),
    )
    op.create_index("ix_presence_country_sector", "presence", ["country", "sector"])


def downgrade() -> None:
    drop_table("presence", "ix_presence_country_sector")
