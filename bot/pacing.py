"""Per-destination pacing that holds across dispatcher processes.

Each dispatcher keeps its own pace per destination (one message every 1.1 s to a private
Telegram chat); with several dispatchers, two could each send to the same chat within that
second. So a claim also takes the destination's next slot in table `destinationpace`, in the
claim's own transaction: an upsert that succeeds only if the slot is free (its `next_at` has
passed). The row lock on the destination orders two dispatchers claiming it at once; the
second finds the slot taken and leaves the notification for later. Claims skip destinations
whose slot is taken, so that only races reach the upsert. A 429 holds the destination for
every dispatcher until its Retry-After. Times come from each dispatcher's clock: keep the
machines' clocks in sync (NTP).
"""

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, exists, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.models import DestinationPace, Notification

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


def take(
    conn: Connection,
    claimed: Sequence[tuple[int, str]],
    spacing: Callable[[str], float],
    now: datetime,
) -> set[int]:
    """Take the next slot of each claimed row's destination; the ids whose slot was taken.

    Rows whose destination another dispatcher holds get their lease back (in this same
    transaction), so they stay due for whoever is next allowed.
    """
    if not claimed:
        return set()
    p = DestinationPace.__table__  # type: ignore[attr-defined]
    targets = sorted({target for _, target in claimed})  # one lock order: no deadlock
    values = [{"target": t, "next_at": now + timedelta(seconds=spacing(t))} for t in targets]
    statement = _upsert(conn.dialect.name)(p).values(values)
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


def hold(session: Session, target: str, until: datetime) -> None:
    """A platform asked us to wait (429): no dispatcher sends to `target` before `until`."""
    p = DestinationPace.__table__  # type: ignore[attr-defined]
    statement = _upsert(session.get_bind().dialect.name)(p).values(target=target, next_at=until)
    statement = statement.on_conflict_do_update(
        index_elements=["target"],
        set_={
            "next_at": case(
                (p.c.next_at > statement.excluded.next_at, p.c.next_at),
                else_=statement.excluded.next_at,
            )
        },
    )
    session.connection().execute(statement)
