"""The last question's subject per person and chat: what a follow-up ("and in Haiti?") uses."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.models import ConversationSubject, utcnow

# After this long a follow-up no longer refers to the last question.
FRESH_FOR = timedelta(minutes=15)


def last_subject(
    session: Session, identity: str, chat: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The subject of this person's last question in this chat, if it is recent."""
    row = session.get(ConversationSubject, (identity, chat))
    if row is None or (now or utcnow()) - _aware(row.updated_at) > FRESH_FOR:
        return None
    return dict(row.subject)


def remember(session: Session, identity: str, chat: str, subject: dict[str, Any]) -> None:
    """Keep `subject` as the last one (the row `last_subject` read is reused, not re-read)."""
    session.merge(
        ConversationSubject(identity=identity, chat=chat, subject=subject, updated_at=utcnow())
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for the aware ones stored; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
