"""Migrations match the models, on SQLite and PostgreSQL, and re-running them is harmless."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.models  # noqa: F401
from bot import migrations
from bot.db import alembic_heads, current_revision, upgrade


def test_migrations_build_exactly_the_models(any_engine: Engine) -> None:
    upgrade(any_engine)
    upgrade(any_engine)
    assert alembic_heads() == [migrations.head()]
    assert current_revision(any_engine) == migrations.head()
    with any_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migration_0006_keeps_country_records_and_goes_back(any_engine: Engine) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from bot.db import _alembic_config

    cfg = _alembic_config(any_engine)
    command.downgrade(cfg, "0005")  # the fixture migrated to the head: step back first
    assert current_revision(any_engine) == "0005"
    with any_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO countrycluster (country, cluster, lead, co_lead, coordinator, "
                "contact, source, updated_at) VALUES ('SD', 'health', 'WHO', '', '', '', 'old', "
                "CURRENT_TIMESTAMP)"
            )
        )
    command.upgrade(cfg, "0006")
    with any_engine.connect() as conn:
        row = conn.execute(
            text("SELECT lead, origin, confirmed_by, confirmed_at FROM countrycluster")
        ).one()
    assert tuple(row) == ("WHO", "", "", None)  # an older record: origin and confirmer unknown
    command.downgrade(cfg, "0005")
    columns = {c["name"] for c in inspect(any_engine).get_columns("countrycluster")}
    assert not columns & {"origin", "confirmed_by", "confirmed_at"} and "lead" in columns
    upgrade(any_engine)
    assert current_revision(any_engine) == migrations.head()
