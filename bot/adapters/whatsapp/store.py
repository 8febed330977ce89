"""What WhatsApp keeps in the database: when each person last wrote, what became of each send.

The 24-hour window is the person's `User.last_message_at` (the time WhatsApp says they wrote),
so every process and replica knows it alike. A notification's wamid and the delivery status
WhatsApp reports for it are on its outbox row (`platform_id`, `delivery`).
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.adapters.whatsapp.api import OUTSIDE_WINDOW
from bot.db import insert_ignore, session_scope
from bot.models import Notification, User, utcnow
from bot.outbox import deactivate
from bot.terms import NotificationStatus, Role

WINDOW = timedelta(hours=24)
# A message a few seconds before the window closes may arrive after it: leave a margin.
WINDOW_MARGIN = timedelta(minutes=2)
# Delivery statuses only move forward (WhatsApp may report them out of order).
_RANK = {"": 0, "sent": 1, "delivered": 2, "read": 3}


class StillSending(Exception):
    """A failure reported for a notification whose "sent" is not recorded yet."""


def saw(engine: Engine, seen: Mapping[str, datetime]) -> None:
    """Record when each person (identity) last wrote; an older time never replaces a newer."""
    if not seen:
        return
    with session_scope(engine) as session:
        table = User.__table__  # type: ignore[attr-defined]
        for identity, at in seen.items():
            now = utcnow()
            row: dict[str, object] = {"identity": identity, "role": Role.PARTNER}
            row |= {"created_at": now, "updated_at": now}
            insert_ignore(session, table, row, ["identity"])
            session.execute(
                update(User)
                .where(
                    col(User.identity) == identity,
                    or_(col(User.last_message_at).is_(None), col(User.last_message_at) < at),
                )
                .values(last_message_at=at)
            )


def window_open(engine: Engine, identity: str, now: datetime | None = None) -> bool:
    """Whether a free-form message may reach this person: they wrote within 24 hours."""
    with session_scope(engine) as session:
        last = session.exec(
            select(col(User.last_message_at)).where(col(User.identity) == identity)
        ).first()
    if last is None:
        return False
    if last.tzinfo is None:  # SQLite hands back naive datetimes for aware columns
        last = last.replace(tzinfo=UTC)
    return (now or utcnow()) - last < WINDOW - WINDOW_MARGIN


def close_window(engine: Engine, identity: str) -> None:
    """WhatsApp said the window is closed (131047): forget the last message time."""
    with session_scope(engine) as session:
        session.execute(
            update(User).where(col(User.identity) == identity).values(last_message_at=None)
        )


def note_sent(engine: Engine, key: str, wamid: str) -> None:
    """Remember the wamid of a notification just sent, so its statuses find it."""
    if not key or not wamid:
        return
    with session_scope(engine) as session:
        session.execute(
            update(Notification)
            .where(col(Notification.key) == key)
            .values(platform_id=wamid[:200], delivery="sent")
        )


def record_status(engine: Engine, status: Mapping[str, Any]) -> str:
    """Apply one status event to the notification it concerns; what was done (for the log).

    sent, delivered and read update `delivery`; failed makes the notification failed with
    WhatsApp's reason, as any undeliverable message, except 131047 (the window had closed),
    which forgets the window and queues the notification again, to go as the template.
    """
    wamid = str(status.get("id") or "")
    state = str(status.get("status") or "")
    if not wamid or not state:
        return "no id or status"
    with session_scope(engine) as session:
        row = session.exec(
            select(Notification).where(col(Notification.platform_id) == wamid[:200])
        ).first()
        if row is None:
            return "not a notification"  # a reply to someone: nothing kept about it
        if state != "failed":
            if _RANK.get(state, 0) > _RANK.get(row.delivery, 0):
                row.delivery = state
                session.add(row)
                return f"notification {row.key}: {state}"
            return f"notification {row.key}: {state} after {row.delivery or 'nothing'}; kept"
        if row.status == NotificationStatus.PENDING and row.lease_until is not None:
            # Sent a moment ago and not yet recorded: the dispatcher's "sent" would overwrite
            # this failure. The inbox tries the event again in a few seconds.
            raise StillSending(f"notification {row.key} is being recorded as sent")
        errors = status.get("errors") or [{}]
        error = errors[0] if isinstance(errors, list) and errors else {}
        code = error.get("code") if isinstance(error, dict) else None
        title = str(error.get("title") or error.get("message") or "") if error else ""
        reason = f"{code}: {title}" if code else title or "failed"
        row.delivery = f"failed: {reason}"[:300]
        if code == OUTSIDE_WINDOW:
            row.status = NotificationStatus.PENDING
            row.due_at = utcnow()
            row.last_error = "131047: outside the 24-hour window; again as the template"
            session.add(row)
            session.execute(
                update(User).where(col(User.identity) == row.target).values(last_message_at=None)
            )
            return f"notification {row.key}: window closed; queued again"
        row.status = NotificationStatus.FAILED
        row.last_error = f"undeliverable: {reason}"[:1000]
        session.add(row)
        deactivate(session, row.target, reason)
        return f"notification {row.key}: undeliverable: {reason}"
