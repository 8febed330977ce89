"""Database tables. Country records live here; global facts live in knowledge/."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
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


OPEN_STATES = ("open", "paused")


class ChecklistRun(SQLModel, table=True):
    """One user's activation checklist in one chat; every answer is saved as it is given."""

    __table_args__ = (
        # At most one open (or paused) checklist per user per chat, enforced by the database.
        Index(
            "ix_checklistrun_one_open",
            "identity",
            "chat",
            unique=True,
            sqlite_where=text("status IN ('open', 'paused')"),
            postgresql_where=text("status IN ('open', 'paused')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(max_length=200, index=True)
    chat: str = Field(max_length=200)
    status: str = Field(default="open", max_length=12)  # open|paused|done|cancelled|expired
    position: int = 0  # index into knowledge.checklist.questions(answers)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
