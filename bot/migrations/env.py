"""Alembic environment: runs migrations on the engine clusterbot hands over."""

from alembic import context
from sqlmodel import SQLModel

import bot.models  # noqa: F401 (registers the tables on SQLModel.metadata)

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
