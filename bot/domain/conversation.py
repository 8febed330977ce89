"""The last question's subject per person and chat: what a follow-up ("and in Haiti?") uses."""

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from bot.db import relaxed, relaxed_driver
from bot.models import ConversationSubject, utcnow

# After this long a follow-up no longer refers to the last question.
FRESH_FOR = timedelta(minutes=15)
_TABLE = ConversationSubject.__table__  # type: ignore[attr-defined]
# Built once (building a statement costs more than running it), bound at each run.
_READ = "SELECT subject, updated_at FROM conversationsubject WHERE identity = ? AND chat = ?"
_UPSERT = (
    "INSERT INTO conversationsubject (identity, chat, subject, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (identity, chat) DO UPDATE "
    "SET subject = excluded.subject, updated_at = excluded.updated_at"
)
_LAST = select(_TABLE.c.subject, _TABLE.c.updated_at).where(
    _TABLE.c.identity == bindparam("identity"), _TABLE.c.chat == bindparam("chat")
)


def last_subject(
    session: Session, identity: str, chat: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The subject of this person's last question in this chat, if it is recent."""
    # Not the ORM, and on SQLite not even SQLAlchemy's statement handling (half the cost of
    # the read): this runs on every typed message. See _upsert for the stored form.
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        found = _driver(conn).execute(_READ, (identity, chat)).fetchone()
        row = (json.loads(found[0]), datetime.fromisoformat(found[1])) if found else None
    else:
        found = conn.execute(_LAST, {"identity": identity, "chat": chat}).first()
        row = (found.subject, found.updated_at) if found else None
    now = now or utcnow()
    if row is None or now - _aware(row[1]) > FRESH_FOR:
        return None
    subject = dict(row[0])
    # A lead question kept across other messages counts from when it was asked (see `carried`).
    asked = subject.get("asked_at")
    if asked and now - _aware(datetime.fromisoformat(asked)) > FRESH_FOR:
        return {"intent": "", "lang": subject.get("lang")}
    return subject


def carried(
    previous: dict[str, Any] | None, subject: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """The subject to keep after a message whose own subject is `subject`.

    A lead question's own, with when it was asked. Any other message ("thanks", "what is
    POLR?", a place we do not know) leaves the last lead question for a follow-up ("and in
    Chad?") in the language of the message, for the rest of the 15 minutes the lead question
    has, and marks it as no longer the last message (`between`): "who else?" and "that" point
    at the message just before, not over another one.
    """
    if subject.get("intent"):
        if (
            previous
            and previous.get("asked_at")
            and all(previous.get(key) == value for key, value in subject.items())
        ):
            # The same lead question again: the row stays as it is (no write, as before the
            # window was kept), but it is the last message again.
            return {key: value for key, value in previous.items() if key != "between"}
        return {**subject, "asked_at": (now or utcnow()).isoformat()}
    if not previous or not previous.get("intent"):
        return subject
    # The line shown just now ("step 3") is kept beside it, for "and the next one?"; an older
    # one is not.
    kept = {key: value for key, value in previous.items() if key != "line"}
    line = {"line": subject["line"]} if subject.get("line") else {}
    return {**kept, "lang": subject.get("lang"), "between": True, **line}


def remember(session: Session, identity: str, chat: str, subject: dict[str, Any]) -> None:
    """Keep `subject` as the last one, in `session`'s transaction."""
    _upsert(session.connection(), identity, chat, subject)


def keep(engine: Engine, identity: str, chat: str, subject: dict[str, Any]) -> None:
    """Keep `subject` as the last one, in a transaction of its own that does not wait for the disk.

    The subject is worth 15 minutes of "and in Haiti?": losing the last one to a power cut
    costs a follow-up, while waiting for the disk on every question doubled the answer's time.
    Committed before the answer goes out, so the next message sees it, in any process.
    """
    if engine.dialect.name == "sqlite":
        with relaxed_driver(engine) as raw:
            raw.execute(_UPSERT, _stored(identity, chat, subject))
        return
    with relaxed(engine) as conn:
        _upsert(conn, identity, chat, subject)


def _upsert(conn: Connection, identity: str, chat: str, subject: dict[str, Any]) -> None:
    """One upsert (ON CONFLICT) on either dialect."""
    if conn.dialect.name == "sqlite":
        _driver(conn).execute(_UPSERT, _stored(identity, chat, subject))
        return
    values = {"identity": identity, "chat": chat, "subject": subject, "updated_at": utcnow()}
    conn.execute(_upsert_statement(conn.dialect.name), values)


def _stored(identity: str, chat: str, subject: dict[str, Any]) -> tuple[str, str, str, str]:
    """The row for the SQLite driver, in the form SQLAlchemy stores and reads there.

    The JSON text, and the UTC time as "YYYY-MM-DD HH:MM:SS.ffffff" (tests/test_followups.py).
    """
    return identity, chat, json.dumps(subject), utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")


@functools.cache
def _upsert_statement(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=["identity", "chat"],
        set_={
            "subject": statement.excluded.subject,
            "updated_at": statement.excluded.updated_at,
        },
    )


def _driver(conn: Connection) -> Any:
    """The driver's own connection under `conn` (a sqlite3.Connection on SQLite)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for the aware ones stored; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
