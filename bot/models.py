"""Database tables. Country records live here; global facts live in knowledge/."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.terms import (
    ChecklistStatus,
    ClusterStatus,
    EventStatus,
    NotificationStatus,
    ProposalStatus,
    Role,
)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (sqlmodel rejects naive datetimes)."""
    return datetime.now(UTC)


ROLES = tuple(Role)


class Timestamped(SQLModel):
    """When a row was made and when it last changed, for the tables whose rows change."""

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class User(Timestamped, table=True):
    """Someone who talks to the bot on any platform, with their remembered language and role."""

    identity: str = Field(primary_key=True, max_length=200)
    lang: str | None = Field(default=None, max_length=8)
    role: str = Field(
        default=Role.PARTNER, max_length=12, sa_column_kwargs={"server_default": "partner"}
    )
    # The language of the last reply with buttons: a press answers in the same language.
    reply_lang: str | None = Field(default=None, max_length=8)
    # When this person last wrote to us (WhatsApp's 24-hour window counts from it).
    last_message_at: datetime | None = None


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
    source: str = Field(default="", max_length=500)  # as the people who keep it wrote it; shown
    # Where the record came from: "import:FILE", "proposal:ID" or "chat" ("" before 0006).
    origin: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # Who last said it is right (an identity; "console:shell" for an import) and when.
    confirmed_by: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    confirmed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


OPEN_STATES = ("open", "paused")


class ChecklistRun(Timestamped, table=True):
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
    status: str = Field(default=ChecklistStatus.OPEN, max_length=12)  # a ChecklistStatus
    position: int = 0  # index into knowledge.checklist.questions(answers)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Proposal(Timestamped, table=True):
    """An activation proposal for one country/response, moving through the IASC procedure."""

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)  # ISO 3166-1 alpha-2
    response: str = Field(default="", max_length=200)  # the emergency, in the proposer's words
    justification: str = Field(default="", max_length=4000)
    status: str = Field(default=ProposalStatus.DRAFT, max_length=12, index=True)
    created_by: str = Field(max_length=200)
    checklist_id: int | None = Field(default=None, foreign_key="checklistrun.id")
    submitted_at: datetime | None = None  # the ERC's 24 hours to forward count from here
    endorsed_at: datetime | None = None


class ProposalCluster(SQLModel, table=True):
    """One cluster in a proposal, its proposed lead and co-lead, and later its deactivation."""

    __table_args__ = (UniqueConstraint("proposal_id", "cluster"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    cluster: str = Field(max_length=40)  # a cluster id from knowledge/
    lead: str = Field(max_length=200)  # an agency id from knowledge/, or a name given by people
    co_lead: str = Field(default="", max_length=200)
    status: str = Field(default=ClusterStatus.ACTIVE, max_length=24)  # a ClusterStatus
    transition_plan: str = Field(default="", max_length=4000)


class ProposalEvent(SQLModel, table=True):
    """One move of a proposal (or of one of its clusters): who made it, when, and why."""

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    cluster: str = Field(default="", max_length=40)  # set for per-cluster moves
    actor: str = Field(max_length=200)
    from_status: str = Field(max_length=24)
    to_status: str = Field(max_length=24)
    note: str = Field(default="", max_length=4000)
    at: datetime = Field(default_factory=utcnow)


class PendingMove(SQLModel, table=True):
    """A move asked for in chat, waiting for the same person to press Confirm."""

    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(max_length=200)
    proposal_id: int = Field(foreign_key="proposal.id")
    move: str = Field(max_length=24)
    cluster: str = Field(default="", max_length=40)
    note: str = Field(default="", max_length=4000)
    created_at: datetime = Field(default_factory=utcnow)


class Reminder(SQLModel, table=True):
    """A reminder due at a time, kept as a row so a restart never forgets it."""

    __table_args__ = (UniqueConstraint("proposal_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    kind: str = Field(max_length=24)  # "forward_due" | "transition_plan_due"
    due_at: datetime = Field(index=True)
    done: bool = False


class Subscription(SQLModel, table=True):
    """A chat, channel or webhook that hears of activations for a country and/or clusters."""

    id: int | None = Field(default=None, primary_key=True)
    # "telegram:CHAT_ID", "slack:TEAM:CHANNEL" or "webhook:URL"
    target: str = Field(max_length=1000, index=True)
    country: str | None = Field(default=None, max_length=2)  # None: every country
    clusters: list[str] = Field(default_factory=list, sa_type=JSON)  # empty: every cluster
    lang: str = Field(default="en", max_length=8)
    active: bool = True
    inactive_reason: str = Field(default="", max_length=500)
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """An outbox row: one message to one destination, written in the transaction that caused it.

    `key` is unique, so causing the same notification twice (endorsing twice) stores it once.
    `failed` means undeliverable for good (blocked, deleted: see `last_error`); `dead` means it
    kept failing and waits for `clusterbot outbox retry`.
    """

    __table_args__ = (Index("ix_notification_due", "status", "priority", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    target: str = Field(max_length=1000)  # as Subscription.target, or a user's identity
    template: str = Field(max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    lang: str = Field(default="en", max_length=8)
    priority: int = 10  # lower goes first
    status: str = Field(default=NotificationStatus.PENDING, max_length=12)
    attempts: int = 0
    due_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None  # a claim by a dispatcher, void once passed
    claimed_by: str = Field(default="", max_length=100)
    last_error: str = Field(default="", max_length=1000)
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id")
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # The platform's id of the message sent, and what the platform last said of it
    # (delivered, read, failed: ...), for platforms that report delivery (WhatsApp).
    platform_id: str = Field(
        default="", max_length=200, index=True, sa_column_kwargs={"server_default": ""}
    )
    delivery: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})


class InboxEvent(SQLModel, table=True):
    """A platform event written before it is acknowledged, answered later by an inbox worker.

    (platform, event_id) is unique: a resent event is stored once. Workers answer each chat's
    pending events in `id` order; `lease_until` is a claim, void once passed.
    """

    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_inboxevent_pending", "status", "chat", "id"),  # a chat's earlier events
        Index("ix_inboxevent_queue", "status", "id"),  # the oldest pending events
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    chat: str = Field(max_length=200)  # events of one chat are answered in order
    kind: str = Field(max_length=40)  # what the adapter stored: "message", "command", "update"
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=EventStatus.PENDING, max_length=12)  # an EventStatus
    attempts: int = 0
    due_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    claimed_by: str = Field(default="", max_length=100)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    done_at: datetime | None = None


class ConversationSubject(SQLModel, table=True):
    """The last question's subject per person and chat, so "and in Haiti?" can follow it.

    In the database, not in memory, so a follow-up works on every platform and replica.
    """

    identity: str = Field(primary_key=True, max_length=200)
    chat: str = Field(primary_key=True, max_length=200)
    subject: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow)


class Heartbeat(SQLModel, table=True):
    """A background loop's last sign of life: a dispatcher rewrites its row every 5 s.

    /readyz and `clusterbot doctor` read it, so a dispatcher running in another process (or
    on another machine) is seen the same as one inside `clusterbot serve`.
    """

    worker: str = Field(primary_key=True, max_length=100)  # host:pid, as Dispatcher.worker
    role: str = Field(default="dispatcher", max_length=20, index=True)
    beat_at: datetime = Field(default_factory=utcnow)


class DestinationPace(SQLModel, table=True):
    """When one destination may next be sent to: per-destination pacing across dispatchers.

    A dispatcher that claims a notification takes its destination's next slot in the same
    transaction (bot.pacing); another dispatcher skips the destination until then.
    """

    target: str = Field(primary_key=True, max_length=1000)  # as Notification.target
    next_at: datetime = Field(index=True)


class Presence(SQLModel, table=True):
    """One organisation working in one cluster or AoR in one country (HDX HAPI 3W).

    From HDX HAPI operational presence: one row per organisation, however many areas the data
    lists it in.

    A partner, never a lead: who leads is in `CountryCluster`. Imports replace a country's rows.
    """

    __table_args__ = (Index("ix_presence_country_sector", "country", "sector"),)

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2)  # ISO 3166-1 alpha-2 (HAPI gives alpha-3)
    sector: str = Field(max_length=40)  # a cluster or AoR id from knowledge/
    sector_code: str = Field(max_length=16)  # HAPI's code, e.g. WSH or PRO-GBV
    org_acronym: str = Field(default="", max_length=200)
    org_name: str = Field(max_length=500)
    org_type: str = Field(default="", max_length=200)  # HAPI's org_type_description, as given
    areas: int = 0  # how many first-level areas (admin1) the data lists it in
    reference_period_start: date | None = None
    reference_period_end: date | None = None
    # Where the data came from: "file:NAME" or "api:URL", and when we loaded it.
    origin: str = Field(max_length=500)
    loaded_at: datetime = Field(default_factory=utcnow)
