"""The last question's subject per person and chat: what a follow-up ("and in Haiti?") uses."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from bot.models import ConversationSubject, utcnow

# After this long a follow-up no longer refers to the last question.
FRESH_FOR = timedelta(minutes=15)
_TABLE = ConversationSubject.__table__  # type: ignore[attr-defined]


def last_subject(
    session: Session, identity: str, chat: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The subject of this person's last question in this chat, if it is recent."""
    # Core, not the ORM: this runs on every message, and a row object is never needed.
    row = (
        session.connection()
        .execute(
            select(_TABLE.c.subject, _TABLE.c.updated_at).where(
                _TABLE.c.identity == identity, _TABLE.c.chat == chat
            )
        )
        .first()
    )
    if row is None or (now or utcnow()) - _aware(row.updated_at) > FRESH_FOR:
        return None
    return dict(row.subject)


def remember(session: Session, identity: str, chat: str, subject: dict[str, Any]) -> None:
    """Keep `subject` as the last one: one upsert (ON CONFLICT) on either dialect."""
    values = {"identity": identity, "chat": chat, "subject": subject, "updated_at": utcnow()}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(_TABLE).values(**values)
    session.connection().execute(
        statement.on_conflict_do_update(
            index_elements=["identity", "chat"],
            set_={
                "subject": statement.excluded.subject,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for the aware ones stored; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
