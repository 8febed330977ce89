"""Per-destination pacing that holds across dispatcher processes.

Each dispatcher keeps its own pace per destination (one message every 1.1 s to a private
Telegram chat); with several dispatchers, two could each send to the same chat within that
second. So a claim also takes the destination in table `destinationpace`, in the claim's own
transaction: an upsert that succeeds only if the destination is free (its `next_at` has
passed), holding it for as long as the claim's lease. The row lock on the destination orders
two dispatchers claiming it at once; the second finds it taken and leaves the notification for
later. When the send's outcome is recorded, the destination is held from then for its
interval (or, after a 429, until Retry-After), so the next message, from whichever
dispatcher, arrives at least an interval after this one: however late the send went out.
Claims skip destinations that are held, so that only races reach the upsert. Times come from
each dispatcher's clock: keep the machines' clocks in sync (NTP).
"""

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.models import DestinationPace, Notification, utcnow

KEEP = timedelta(hours=1)  # slots long past are forgotten (a table of active destinations)
PRUNE_EVERY = 60.0  # seconds between two prunes in one process
_pruned = [0.0]


def _upsert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def free(target: Any, now: datetime) -> ColumnElement[bool]:
    """A condition on a target column: no dispatcher holds that destination's slot now."""
    p = DestinationPace.__table__  # type: ignore[attr-defined]
    return ~exists(select(p.c.target).where(p.c.target == target, p.c.next_at > now))


def take(conn: Connection, claimed: Sequence[tuple[int, str]], until: datetime) -> set[int]:
    """Hold each claimed row's destination until `until`; the ids whose destination was free.

    Rows whose destination another dispatcher holds get their lease back (in this same
    transaction), so they stay due for whoever may send next.
    """
    if not claimed:
        return set()
    p = DestinationPace.__table__  # type: ignore[attr-defined]
    now = utcnow()
    targets = sorted({target for _, target in claimed})  # one lock order: no deadlock
    statement = _upsert(conn.dialect.name)(p).values(
        [{"target": t, "next_at": until} for t in targets]
    )
    statement = statement.on_conflict_do_update(
        index_elements=["target"],
        set_={"next_at": statement.excluded.next_at},
        where=p.c.next_at <= now,
    ).returning(p.c.target)
    taken = {row[0] for row in conn.execute(statement)}
    kept = {row_id for row_id, target in claimed if target in taken}
    given_back = [row_id for row_id, _ in claimed if row_id not in kept]
    if given_back:
        n = Notification.__table__  # type: ignore[attr-defined]
        conn.execute(
            update(n).where(n.c.id.in_(given_back)).values(lease_until=None, claimed_by="")
        )
    if time.monotonic() - _pruned[0] > PRUNE_EVERY:
        _pruned[0] = time.monotonic()
        conn.execute(delete(p).where(p.c.next_at < now - KEEP))
    return kept


def sent(session: Session, target: str, until: datetime) -> None:
    """A send to `target` ended: nobody sends there before `until`.

    That is its interval from now (the outcome is being recorded), or a 429's Retry-After.
    """
    p = DestinationPace.__table__  # type: ignore[attr-defined]
    statement = _upsert(session.get_bind().dialect.name)(p).values(target=target, next_at=until)
    statement = statement.on_conflict_do_update(
        index_elements=["target"], set_={"next_at": statement.excluded.next_at}
    )
    session.connection().execute(statement)


def release_all(session: Session) -> None:
    """Free every destination (SQLite's one dispatcher, starting after one that died)."""
    session.execute(delete(DestinationPace.__table__))  # type: ignore[attr-defined]
