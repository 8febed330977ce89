"""The outbox: notifications written in the transaction that causes them, delivered later.

Feature code calls `enqueue` inside its own database transaction, so a notification exists if and
only if the change that caused it was committed. A dispatcher (see `Dispatcher`) claims due rows,
hands them to the platform's `Sender`, and records what became of each.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core import Reply
from bot.models import Notification, utcnow

INTERACTIVE = 0  # replies someone is waiting for: always ahead of bulk
REMINDER = 5
BULK = 10  # fan-out to subscribers


def enqueue(
    session: Session,
    *,
    key: str,
    target: str,
    template: str,
    data: Mapping[str, Any],
    lang: str,
    priority: int = BULK,
    subscription_id: int | None = None,
    due_at: datetime | None = None,
) -> bool:
    """Store one notification unless one with the same `key` exists; True when stored.

    The key names the cause and the destination (e.g. "endorsed:12:sub:7"), so doing the same
    thing twice never notifies anyone twice.
    """
    existing = select(col(Notification.id)).where(Notification.key == key)
    if session.exec(existing).first() is not None:
        return False
    session.add(
        Notification(
            key=key,
            target=target,
            template=template,
            data=dict(data),
            lang=lang,
            priority=priority,
            subscription_id=subscription_id,
            due_at=due_at or utcnow(),
        )
    )
    session.flush()
    return True


def counts(session: Session) -> dict[str, int]:
    """How many notifications are pending, sent, failed and dead."""
    rows = session.exec(
        select(Notification.status, func.count()).group_by(col(Notification.status))
    ).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in ("pending", "sent", "failed", "dead")}


def as_reply(row: Notification) -> Reply:
    """The notification as the Reply a sender renders for its platform."""
    return Reply(row.template, row.data, row.lang, "notification")


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 / RetryAfter): try again after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class Undeliverable(Exception):
    """The destination is gone for good (blocked the bot, deleted, kicked): never retry."""


class Moved(Exception):
    """The destination has a new address (a Telegram group became a supergroup)."""

    def __init__(self, new_target: str) -> None:
        super().__init__(f"moved to {new_target}")
        self.new_target = new_target


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast one platform lets us send: overall, and to one destination."""

    per_second: float  # all destinations together
    min_interval: float  # seconds between two messages to the same destination


class Sender(Protocol):
    """Delivers a notification to one platform's destinations (one per target prefix).

    `send` raises RetryLater, Undeliverable or Moved for those outcomes; any other exception is
    taken as transient and retried with backoff.
    """

    prefix: str  # "telegram", "slack" or "webhook": the start of the targets it serves

    def pace(self, target: str) -> Pace:
        """The limits that apply to `target`."""
        ...

    async def send(self, target: str, reply: Reply) -> None:
        """Render `reply` for the platform and deliver it to `target`."""
        ...
