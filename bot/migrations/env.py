"""Alembic environment: runs migrations on the engine clusterbot hands over."""

from alembic import context
from sqlmodel import SQLModel

import bot.models  # noqa: F401 (registers the tables on SQLModel.metadata)

config = context.config


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave alone tables that others manage (e.g. the Slack OAuth stores' own tables)."""
    return type_ != "table" or name in SQLModel.metadata.tables

engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
    )
    context.run_migrations()
