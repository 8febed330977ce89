"""Intake: each platform event handled once, across retries, restarts and workers.

Slack retries an event it thinks was missed, and Telegram resends a webhook update that was not
acknowledged in time. Each event id is claimed here (table `intakeevent`, a unique key) before
it is handled and marked done after the reply; a copy of an event already claimed is dropped,
and an event claimed long ago and never done (its handler died) is taken over, once.
"""

from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.db import session_scope
from bot.models import IntakeEvent, utcnow

SEEN_FOR = timedelta(minutes=1)  # an event claimed but not done this long ago is taken over
KEEP_FOR = timedelta(days=1)  # platforms retry for minutes; a day of event ids is plenty


def claim(engine: Engine, platform: str, event_id: str) -> bool:
    """True when this process should handle the event: new, or seen long ago and never done."""
    try:
        with session_scope(engine) as session:
            session.add(IntakeEvent(platform=platform, event_id=event_id))
        return True
    except IntegrityError:
        pass
    with session_scope(engine) as session:
        result = session.connection().execute(
            update(IntakeEvent)
            .where(
                col(IntakeEvent.platform) == platform,
                col(IntakeEvent.event_id) == event_id,
                col(IntakeEvent.done).is_(False),
                col(IntakeEvent.seen_at) < utcnow() - SEEN_FOR,
            )
            .values(seen_at=utcnow())
        )
        return bool(result.rowcount)


def finish(engine: Engine, platform: str, event_id: str) -> None:
    """Record that the event was answered, so no copy answers it again."""
    with session_scope(engine) as session:
        session.connection().execute(
            update(IntakeEvent)
            .where(col(IntakeEvent.platform) == platform, col(IntakeEvent.event_id) == event_id)
            .values(done=True)
        )


def prune(engine: Engine, platform: str) -> int:
    """Forget a platform's event ids older than a day; how many were forgotten."""
    with session_scope(engine) as session:
        result = session.connection().execute(
            delete(IntakeEvent).where(
                col(IntakeEvent.platform) == platform,
                col(IntakeEvent.seen_at) < utcnow() - KEEP_FOR,
            )
        )
        return int(result.rowcount)
