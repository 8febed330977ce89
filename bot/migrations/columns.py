"""The column kinds the migrations repeat, by name, so a create_table reads as what a table holds.

Each builder makes the very column Alembic's autogenerate wrote out in full before (same type,
length, nullability, default), so a migration written with them emits the same DDL. Migrations
already applied call these: changing what a builder makes would change the schema those old
migrations describe. A new kind of column gets a new builder; an existing one stays as it is.
"""

from typing import Any

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime


def id_key() -> sa.Column[Any]:
    """The integer `id` that numbers a table's rows: its primary key (SERIAL on PostgreSQL)."""
    return sa.Column("id", sa.Integer(), primary_key=True)


def string(
    name: str, length: int, *, nullable: bool = False, server_default: str | None = None
) -> sa.Column[Any]:
    """Text of at most `length` characters (VARCHAR(length))."""
    return sa.Column(
        name, AutoString(length=length), server_default=server_default, nullable=nullable
    )


def number(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A whole number."""
    return sa.Column(name, sa.Integer(), nullable=nullable)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A moment in time, timezone-aware, read back in UTC."""
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def day(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A calendar date, no time of day."""
    return sa.Column(name, sa.Date(), nullable=nullable)


def flag(name: str) -> sa.Column[Any]:
    """A yes/no that every row has."""
    return sa.Column(name, sa.Boolean(), nullable=False)


def json(name: str) -> sa.Column[Any]:
    """A JSON value (a list or an object) that every row has."""
    return sa.Column(name, sa.JSON(), nullable=False)
