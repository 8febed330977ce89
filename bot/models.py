"""Database tables. Country records live here; global facts live in knowledge/."""

from datetime import UTC, date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (sqlmodel rejects naive datetimes)."""
    return datetime.now(UTC)


class User(SQLModel, table=True):
    """Someone who talks to the bot on any platform, with their remembered language."""

    identity: str = Field(primary_key=True, max_length=200)
    lang: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CountryCluster(SQLModel, table=True):
    """Who leads one cluster in one country, as maintained by people (imported or endorsed)."""

    __table_args__ = (UniqueConstraint("country", "cluster"),)

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)  # ISO 3166-1 alpha-2
    cluster: str = Field(max_length=40)  # a cluster or AoR id from knowledge/
    lead: str = Field(max_length=200)
    co_lead: str = Field(default="", max_length=200)
    coordinator: str = Field(default="", max_length=200)
    contact: str = Field(default="", max_length=200)
    activated_on: date | None = None
    source: str = Field(default="", max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)
