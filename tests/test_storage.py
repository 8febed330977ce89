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
