"""The outbox: notifications written in the transaction that causes them, delivered later.

Feature code calls `enqueue` inside its own database transaction, so a notification exists if and
only if the change that caused it was committed. A dispatcher (see `Dispatcher`) claims due rows,
hands them to the platform's `Sender`, and records what became of each.
"""

import asyncio
import contextlib
import contextvars
import logging
import math
import os
import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, false, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import logs, metrics, pacing
from bot.core import Address, Reply
from bot.db import session_scope
from bot.models import Notification, Subscription, utcnow

log = logging.getLogger("clusterbot.outbox")
T = TypeVar("T")

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
    now = utcnow()
    values: dict[str, Any] = {
        "key": key,
        "target": target,
        "template": template,
        "data": dict(data),
        "lang": lang,
        "priority": priority,
        "status": "pending",
        "attempts": 0,
        "due_at": due_at or now,
        "claimed_by": "",
        "last_error": "",
        "subscription_id": subscription_id,
        "created_at": now,
    }
    statement = _insert_once(session.get_bind().dialect.name)
    if statement is None:  # a database without ON CONFLICT: look first
        existing = select(col(Notification.id)).where(Notification.key == key)
        if session.exec(existing).first() is not None:
            return False
        session.add(Notification.model_validate(values))
        session.flush()
        return True
    # One statement: a concurrent enqueue of the same key waits for the other, then skips.
    result: Any = session.connection().execute(statement, values)
    return bool(result.rowcount == 1)


_INSERTS: dict[str, Any] = {}


def _insert_once(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (key) DO NOTHING for this dialect, built once (None: unsupported)."""
    if dialect not in _INSERTS:
        table = Notification.__table__  # type: ignore[attr-defined]
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            _INSERTS[dialect] = pg_insert(table).on_conflict_do_nothing(index_elements=["key"])
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            _INSERTS[dialect] = sqlite_insert(table).on_conflict_do_nothing(index_elements=["key"])
        else:
            _INSERTS[dialect] = None
    return _INSERTS[dialect]


def counts(session: Session) -> dict[str, int]:
    """How many notifications are pending, sent, failed and dead."""
    rows = session.exec(
        select(Notification.status, func.count()).group_by(col(Notification.status))
    ).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in ("pending", "sent", "failed", "dead")}


MAX_WAIT = 3600.0  # seconds: the longest wait a platform or partner may ask of us


def clamp_seconds(value: float | str, default: float, high: float = MAX_WAIT) -> float:
    """A number of seconds from outside, within 0..`high`; NaN (or no number) is `default`.

    Retry-After comes from servers we do not control: `inf` or `1e12` overflowed a datetime and
    left the row leased; a negative one would be in the past.
    """
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if math.isnan(seconds):
        return default
    return min(max(seconds, 0.0), high)


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 / RetryAfter): try again after `seconds`.

    The wait is clamped to 0..MAX_WAIT, whoever raises it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = clamp_seconds(seconds, default=1.0)
        super().__init__(f"retry after {self.seconds:g} s")


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

    @property
    def prefix(self) -> str:
        """The platform whose targets it serves ("telegram" for `telegram:42`)."""
        ...

    def pace(self, target: str) -> Pace:
        """The limits that apply to `target`."""
        ...

    async def send(self, target: str, reply: Reply) -> None:
        """Render `reply` for the platform and deliver it to `target`."""
        ...


class Reaching:
    """What every platform's sender answers through its platform's Address (bot.core).

    A sender class names its Address where it is declared:
    `class SlackSender(Reaching, address=ADDRESS)`.
    """

    address: ClassVar[Address]

    def __init_subclass__(cls, address: Address | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if address is not None:
            cls.address = address

    @property
    def prefix(self) -> str:
        """The platform whose targets it serves: its Address's."""
        return self.address.platform

    def reaches(self, target: str) -> bool:
        """Whether this sender's platform can deliver to `target`."""
        return self.address.reaches(target)

    def reaches_person(self, identity: str) -> str | None:
        """Where this platform notifies the person `identity` directly, if it can."""
        return self.address.reaches_person(identity)


# The key of the notification being delivered, for senders whose payload names it (webhooks).
current_key: contextvars.ContextVar[str] = contextvars.ContextVar("current_key", default="")

PENDING_RATE_LIMITED = "rate limited: "  # last_error of a row held back by a RetryLater
NO_SENDER = "no sender configured for {prefix!r} targets in this dispatcher; waiting"
TICK_EVERY = 5.0  # seconds between runs of the tick hook (reminders are due in hours, not ms)


def retry_dead(session: Session, include_failed: bool = False) -> int:
    """Put dead notifications (and failed ones, if asked) back in the queue; how many."""
    states = ["dead", "failed"] if include_failed else ["dead"]
    result = session.execute(
        update(Notification)
        .where(col(Notification.status).in_(states))
        .values(
            status="pending",
            attempts=0,
            due_at=utcnow(),
            lease_until=None,
            claimed_by="",
            last_error="",
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retarget(session: Session, old: str, new: str) -> int:
    """A destination moved (a group became a supergroup): follow it; how many subscriptions.

    Pending notifications move too, so nothing waits on the old address.
    """
    if old == new:
        return 0
    moved = session.execute(
        update(Subscription).where(col(Subscription.target) == old).values(target=new)
    )
    session.execute(
        update(Notification)
        .where(col(Notification.target) == old, col(Notification.status) == "pending")
        .values(target=new)
    )
    log.warning("outbox: %s moved to %s; subscriptions and pending messages follow", old, new)
    return int(moved.rowcount)  # type: ignore[attr-defined]


def deactivate(session: Session, target: str, reason: str) -> int:
    """A destination is gone for good: later fan-outs skip its subscriptions; how many."""
    result = session.execute(
        update(Subscription)
        .where(col(Subscription.target) == target, col(Subscription.active))
        .values(active=False, inactive_reason=reason[:500])
    )
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        log.warning("outbox: %d subscription(s) of %s deactivated: %s", count, target, reason)
    return count


def prefix_of(target: str) -> str:
    """The platform part of a target ("telegram" of "telegram:42")."""
    return target.partition(":")[0]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification this dispatcher holds a lease on, with what delivering it needs."""

    id: int
    key: str
    target: str
    template: str
    data: dict[str, Any]
    lang: str
    priority: int
    attempts: int
    subscription_id: int | None

    def reply(self) -> Reply:
        """What the sender renders."""
        return Reply(self.template, self.data, self.lang, "notification")


@dataclass
class Stats:
    """What one dispatcher did since it started (for logs, tests and benchmarks)."""

    sent: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    moved: int = 0
    max_in_flight: int = 0


# The counter each outcome (a Stats field) adds to on /metrics; a move counts in none.
OUTCOME_METRICS = {
    "sent": metrics.DELIVERIES,
    "rate_limited": metrics.RATE_LIMITED,
    "failed": metrics.UNDELIVERABLE,
    "dead": metrics.DEAD,
    "retried": metrics.RETRIES,
}

_CLAIM_COLUMNS = (
    col(Notification.id),
    col(Notification.key),
    col(Notification.target),
    col(Notification.template),
    col(Notification.data),
    col(Notification.lang),
    col(Notification.priority),
    col(Notification.attempts),
    col(Notification.subscription_id),
)
_ORDER = (col(Notification.priority), col(Notification.due_at), col(Notification.id))


def _claimed(row: Sequence[Any]) -> Claimed:
    return Claimed(
        int(row[0]), row[1], row[2], row[3], dict(row[4] or {}), row[5], row[6], row[7], row[8]
    )


class Pacer:
    """When each message may go: per platform (its overall rate), per destination (its interval).

    Pure: every method is given the time (`now`, in the dispatcher monotonic seconds), nothing
    sleeps or reads a clock, so pacing is tested with a made-up clock.
    """

    def __init__(self, rates: Mapping[str, float], horizon: float) -> None:
        self.rates = dict(rates)  # messages a second, per platform (target prefix)
        self.horizon = horizon  # seconds of sending slots claimed ahead of time
        self._next_slot: dict[str, float] = dict.fromkeys(self.rates, 0.0)
        self._next_target: dict[str, float] = {}

    def room(self, platform: str, now: float, free: int) -> int:
        """How many of a platform's messages to claim now: its slots in the next moment."""
        if free <= 0:
            return 0
        ahead = now + self.horizon - max(self._next_slot[platform], now)
        return min(free, max(0, math.ceil(ahead * self.rates[platform])))

    def waiting(self, platform: str, now: float, in_flight: Mapping[str, int]) -> list[str]:
        """A platform's destinations not allowed a message now (or with one still in flight)."""
        return sorted(
            t
            for t, at in self._next_target.items()
            if (at > now or in_flight.get(t, 0)) and prefix_of(t) == platform
        )

    def reserve(self, target: str, interval: float, now: float) -> float:
        """The time a message to `target` goes: books that slot, and the destination's next."""
        platform = prefix_of(target)
        slot = max(now, self._next_slot[platform])
        self._next_slot[platform] = slot + 1.0 / self.rates[platform]
        self._next_target[target] = slot + interval
        return slot

    def hold(self, target: str, until: float) -> None:
        """The platform asked us to wait (a 429): nothing more to `target` before `until`."""
        self._next_target[target] = until

    def prune(self, now: float) -> None:
        """Forget destinations whose wait is over, once there are many."""
        if len(self._next_target) > 10_000:
            self._next_target = {t: at for t, at in self._next_target.items() if at > now}


@dataclass
class Queue:
    """The outbox table as a queue: claim due rows (both SQL dialects), release, record outcomes.

    Its methods run in the dispatcher's one database thread. `prefixes` are the platforms the
    dispatcher has senders for; the retry policy (attempts, backoff) decides the outcome rows.
    """

    engine: Engine
    prefixes: list[str]
    stats: Stats
    max_attempts: int
    backoff: float
    backoff_cap: float
    lease: float
    once_wait: float
    worker: str
    # Seconds between two messages to one destination (its sender's pace), for every dispatcher.
    min_interval: Callable[[str], float] = lambda target: 1.0
    _unserved_logged: set[str] = field(default_factory=set)

    @property
    def postgres(self) -> bool:
        """Whether the queue is on PostgreSQL (else SQLite): the claim's SQL differs."""
        return self.engine.dialect.name == "postgresql"

    def record_all(self, outcomes: list[tuple[Claimed, BaseException | None]]) -> None:
        # By destination, the order `pacing.take` locks them in: a claim by another dispatcher
        # and this batch can then never wait for each other's destination rows (a deadlock).
        outcomes = sorted(outcomes, key=lambda done: done[0].target)
        try:
            with session_scope(self.engine) as session:
                for row, outcome in outcomes:
                    fields = logs.notification_fields(row.key, row.target)
                    logs.within(fields, self.record, session, row, outcome)
        except Exception:
            if len(outcomes) == 1:
                raise
            # One bad row must not undo the others' "sent" (they would go out again): record
            # each in a transaction of its own.
            log.exception("outbox: %d outcomes failed together; one by one now", len(outcomes))
            for row, outcome in outcomes:
                try:
                    with session_scope(self.engine) as session:
                        fields = logs.notification_fields(row.key, row.target)
                        logs.within(fields, self.record, session, row, outcome)
                except Exception:
                    log.exception("outbox: the outcome of %s was not recorded", row.key)

    def _due(self, now: datetime) -> ColumnElement[bool]:
        return and_(
            col(Notification.status) == "pending",
            col(Notification.due_at) <= now,
            or_(col(Notification.lease_until).is_(None), col(Notification.lease_until) < now),
        )

    def _served(self) -> ColumnElement[bool]:
        if not self.prefixes:
            return false()
        return or_(*(col(Notification.target).startswith(f"{p}:") for p in self.prefixes))

    def claim(self, prefix: str, limit: int, busy: list[str]) -> list[Claimed]:
        """Lease up to `limit` due rows of one platform, one per destination, best first."""
        now = utcnow()
        lease = now + timedelta(seconds=self.lease)
        where = [self._due(now), col(Notification.target).startswith(f"{prefix}:")]
        where.append(pacing.free(col(Notification.target), now))  # no other dispatcher's slot
        if busy:
            where.append(col(Notification.target).not_in(busy))
        with self.engine.connect() as conn:
            if self.postgres:
                # Rows another dispatcher is claiming right now are skipped, not waited for.
                candidates = conn.execute(
                    select(col(Notification.id), col(Notification.target))
                    .where(*where)
                    .order_by(*_ORDER)
                    .limit(limit * 4)
                    .with_for_update(skip_locked=True)
                ).all()
                ids: list[int] = []
                seen: set[str] = set()
                for row_id, target in candidates:
                    if row_id is not None and target not in seen and len(ids) < limit:
                        seen.add(target)
                        ids.append(row_id)
                if not ids:
                    conn.rollback()
                    return []
                chosen = col(Notification.id).in_(ids)
            else:
                # SQLite: take the write lock first, so the pick and the lease are one step.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                n = Notification.__table__  # type: ignore[attr-defined]
                rank = (
                    func.row_number()
                    .over(partition_by=n.c.target, order_by=(n.c.priority, n.c.due_at, n.c.id))
                    .label("rank")
                )
                ranked = select(n.c.id, n.c.priority, n.c.due_at, rank).where(*where).subquery()
                chosen = col(Notification.id).in_(
                    select(ranked.c.id)
                    .where(ranked.c.rank == 1)
                    .order_by(ranked.c.priority, ranked.c.due_at, ranked.c.id)
                    .limit(limit)
                )
            rows = conn.execute(
                update(Notification)
                .where(chosen)
                .values(lease_until=lease, claimed_by=self.worker[:100])
                .returning(*_CLAIM_COLUMNS)
            ).all()
            # Each destination is held while its send is in flight, for every dispatcher.
            kept = pacing.take(conn, [(r[0], r[2]) for r in rows], lease)
            rows = [r for r in rows if r[0] in kept]
            conn.commit()
        claimed = sorted((_claimed(tuple(r)) for r in rows), key=lambda c: (c.priority, c.id))
        return claimed

    def _interval(self, target: str, outcome: BaseException | None) -> float:
        """Seconds before anyone sends to `target` again: its pace, or what a 429 asked."""
        if isinstance(outcome, RetryLater):
            return outcome.seconds
        try:
            return self.min_interval(target)
        except Exception:
            return 1.0

    def release_all(self) -> None:
        with session_scope(self.engine) as session:
            pacing.release_all(session)
            session.execute(
                update(Notification)
                .where(
                    col(Notification.status) == "pending",
                    col(Notification.lease_until).is_not(None),
                )
                .values(lease_until=None, claimed_by="")
            )

    def waiting(self) -> bool:
        """Whether `run_once` should wait: something due soon, or held back by a 429."""
        now = utcnow()
        soon = or_(
            col(Notification.due_at) <= now + timedelta(seconds=5),
            and_(
                col(Notification.last_error).startswith(PENDING_RATE_LIMITED),
                col(Notification.due_at) <= now + timedelta(seconds=self.once_wait),
            ),
        )
        free = or_(col(Notification.lease_until).is_(None), col(Notification.lease_until) < now)
        with Session(self.engine) as session:
            found = session.exec(
                select(col(Notification.id))
                .where(col(Notification.status) == "pending", soon, free, self._served())
                .limit(1)
            ).first()
        return found is not None

    def note_unserved(self) -> None:
        """Mark (and log once) pending rows for platforms this dispatcher has no sender for."""
        with session_scope(self.engine) as session:
            targets = session.exec(
                select(col(Notification.target))
                .where(
                    col(Notification.status) == "pending",
                    ~self._served(),
                    ~col(Notification.last_error).startswith("no sender configured"),
                )
                .limit(1000)
            ).all()
            for prefix in sorted({prefix_of(t) for t in targets}):
                message = NO_SENDER.format(prefix=prefix)
                result = session.execute(
                    update(Notification)
                    .where(
                        col(Notification.status) == "pending",
                        col(Notification.target).startswith(f"{prefix}:"),
                    )
                    .values(last_error=message)
                )
                if prefix not in self._unserved_logged:
                    self._unserved_logged.add(prefix)
                    log.warning(
                        "outbox: %d notification(s) wait: %s",
                        result.rowcount,  # type: ignore[attr-defined]
                        message,
                    )

    def _kind(self, row: Claimed, outcome: BaseException | None) -> str:
        """What became of a send, as a Stats field: sent, rate_limited, failed, moved, ..."""
        if outcome is None:
            return "sent"
        if isinstance(outcome, RetryLater):
            return "rate_limited"
        if isinstance(outcome, Undeliverable):
            return "failed"
        if isinstance(outcome, Moved) and row.attempts + 1 < self.max_attempts:
            return "moved"
        return "dead" if row.attempts + 1 >= self.max_attempts else "retried"

    def record(self, session: Session, row: Claimed, outcome: BaseException | None) -> None:
        """Write what became of one send; the caller commits at once (the "was sent" guard).

        One UPDATE whatever the outcome, its values from one table (outcome -> columns).
        """
        now = utcnow()
        kind = self._kind(row, outcome)
        attempts = row.attempts + 1
        released: dict[str, Any] = {"lease_until": None, "claimed_by": ""}
        wait = outcome.seconds if isinstance(outcome, RetryLater) else 0.0
        reason = (str(outcome)[:500] or "undeliverable") if kind == "failed" else ""
        new_target = outcome.new_target if isinstance(outcome, Moved) else row.target
        error = f"{type(outcome).__name__}: {outcome}"[:900]
        delay = 0.0
        if kind == "retried":
            delay = min(self.backoff_cap, self.backoff * 2 ** (attempts - 1))
            delay *= random.uniform(0.75, 1.25)  # spreads retries apart
        columns: dict[str, dict[str, Any]] = {
            # claimed_by stays on a sent row: which dispatcher sent it
            "sent": {
                "status": "sent",
                "sent_at": now,
                "attempts": attempts,
                "last_error": "",
                "lease_until": None,
            },
            "rate_limited": {
                "due_at": now + timedelta(seconds=wait),
                "last_error": f"{PENDING_RATE_LIMITED}retry after {wait:g} s",
                **released,
            },
            "failed": {
                "status": "failed",
                "attempts": attempts,
                "last_error": f"undeliverable: {reason}"[:1000],
                **released,
            },
            "moved": {
                "target": new_target,
                "due_at": now,
                "attempts": attempts,
                "last_error": f"moved to {new_target}"[:1000],
                **released,
            },
            "dead": {
                "status": "dead",
                "attempts": attempts,
                "last_error": f"dead after {attempts} attempts: {error}",
                **released,
            },
            "retried": {
                "attempts": attempts,
                "due_at": now + timedelta(seconds=delay),
                "last_error": f"transient: {error}",
                **released,
            },
        }
        hold = timedelta(seconds=self._interval(row.target, outcome))
        pacing.sent(session, row.target, now + hold)  # for every dispatcher (bot.pacing)
        if kind == "moved":
            retarget(session, row.target, new_target)
        ident = col(Notification.id) == row.id
        session.execute(update(Notification).where(ident).values(**columns[kind]))
        if kind == "failed":
            deactivate(session, row.target, reason)
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        counter = OUTCOME_METRICS.get(kind)
        if counter is not None:
            counter.labels(prefix_of(row.target)).inc()
        if kind == "sent":
            log.info("outbox: sent %s to %s", row.key, row.target)
        elif kind == "rate_limited":
            log.warning("outbox: %s to %s rate limited; again in %g s", row.key, row.target, wait)
        elif kind == "failed":
            log.warning("outbox: %s to %s undeliverable: %s", row.key, row.target, reason)
        elif kind == "dead":
            log.error("outbox: %s to %s is dead: %s", row.key, row.target, error)
        elif kind == "retried":
            log.warning(
                "outbox: %s to %s failed (%s); attempt %d again in %.0f s",
                row.key,
                row.target,
                error,
                attempts + 1,
                delay,
            )


class Dispatcher:
    """Delivers due notifications through the Senders, within each platform's limits.

    Each round: run `tick` (e.g. due reminders) in its own transaction, then, per platform,
    claim as many due rows as its pace allows in the next moment (one per destination, never a
    destination still waiting for its next slot), highest priority first, and send each at its
    slot. A claim is a lease: a dispatcher that dies leaves rows that others take back once the
    lease has passed. Several dispatchers share the work on PostgreSQL; on SQLite run one.

    Each platform holds at most `concurrency` messages in flight, so one platform's slow or
    hanging endpoints never hold another's slots. The rate is each Sender's overall
    `Pace.per_second` times `share` (give each of several
    dispatchers its share of the platform's limit). Senders pace below the platform's limit, so
    replies the adapters send to people asking questions never wait behind a fan-out.

    It is the loop of three parts: the `queue` (SQL: claims, releases, outcomes), the `pacer`
    (pure: when each message may go) and this, which sends and records.
    """

    HORIZON = 0.25  # seconds of sending slots claimed ahead of time

    def __init__(
        self,
        engine: Engine,
        senders: Sequence[Sender],
        tick: Callable[[Session], None] | None = None,
        *,
        max_attempts: int = 8,
        backoff: float = 30.0,
        backoff_cap: float = 3600.0,
        lease: float = 60.0,
        concurrency: int = 32,
        share: float = 1.0,
        idle: float = 0.5,
        once_wait: float = 300.0,
        worker: str | None = None,
    ) -> None:
        self.engine = engine
        self.senders = {s.prefix: s for s in senders}
        self.tick = tick
        self.concurrency = concurrency
        self.share = share
        self.idle = idle
        self.stats = Stats()
        self.queue = Queue(
            engine,
            list(self.senders),
            self.stats,
            max_attempts=max_attempts,
            backoff=backoff,
            backoff_cap=backoff_cap,
            lease=lease,
            once_wait=once_wait,
            worker=worker or f"{socket.gethostname()}:{os.getpid()}",
            min_interval=self._min_interval,
        )
        rates = {p: self._overall_rate(s) for p, s in self.senders.items()}
        self.pacer = Pacer(rates, self.HORIZON)
        self._ticked = -TICK_EVERY  # monotonic time of the last tick: the first round ticks
        self._in_flight: Counter[str] = Counter()  # per destination
        self._platform_in_flight: Counter[str] = Counter()  # per platform (target prefix)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._unserved_checked = -math.inf
        self._outcomes: list[tuple[Claimed, BaseException | None, asyncio.Future[None]]] = []
        self._flushing = False
        # One thread does all database work, in order: SQLite wants one writer, and the event
        # loop never waits on the database.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")

    @property
    def worker(self) -> str:
        """The name it leases rows and writes heartbeats under (host:pid unless given)."""
        return self.queue.worker

    def _min_interval(self, target: str) -> float:
        return self.senders[prefix_of(target)].pace(target).min_interval

    def _overall_rate(self, sender: Sender) -> float:
        try:
            rate = sender.pace(f"{sender.prefix}:").per_second
        except Exception:
            log.exception("outbox: %s sender has no overall pace; using 1 a second", sender)
            rate = 1.0
        return max(rate * self.share, 0.01)

    # ---- running ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask `run_forever` to finish what is in flight and return."""
        self._stop.set()
        self._wake.set()

    async def run_forever(self) -> Stats:
        """Deliver until `stop()`; a short sleep when nothing is due."""
        await self._start()
        try:
            while not self._stop.is_set():
                claimed = await self._safe_round()
                await self._pause(claimed)
        finally:
            await self._finish()
        return self.stats

    async def run_once(self) -> Stats:
        """Deliver until nothing is due, then return.

        Waits for rows due within a few seconds, and for rows a platform asked us to hold back
        (429 Retry-After) up to `once_wait` seconds; rows backing off after errors (30 s and up)
        stay pending for the next run and do not keep `--once` waiting.
        """
        await self._start()
        try:
            while not self._stop.is_set():
                claimed = await self._safe_round()
                if not claimed and not self._tasks and not await self._db(self.queue.waiting):
                    break
                await self._pause(claimed, idle=0.05)
            if self.tick is not None:
                # Once more after the last outcomes are recorded (e.g. to announce a proposal).
                await self._db(self._tick)
        finally:
            await self._finish()
        return self.stats

    async def _each_sender(self, step: str) -> None:
        """Run every sender's `start` or `stop`, where it has one; a failure is logged only."""
        doing = {"start": "starting", "stop": "stopping"}[step]
        for sender in self.senders.values():
            run = getattr(sender, step, None)
            if run is not None:
                try:
                    await run()
                except Exception:
                    # e.g. the platform is unreachable right now: sends fail and retry later.
                    log.exception("outbox: %s the %s sender failed", doing, sender.prefix)

    async def _start(self) -> None:
        await self._each_sender("start")
        if not self.queue.postgres:
            # SQLite runs one dispatcher: a lease left by a dispatcher that died is void now.
            await self._db(self.queue.release_all)

    async def _finish(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._each_sender("stop")
        self._pool.shutdown(wait=True)

    async def _pause(self, claimed: int, idle: float | None = None) -> None:
        """Sleep briefly when work is moving, longer (or until woken) when nothing was due."""
        delay = self.HORIZON / 5 if claimed or self._tasks else (idle or self.idle)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _safe_round(self) -> int:
        try:
            return await self._round()
        except Exception:
            # The database may be away for a moment: leases keep the rows safe; try again.
            log.exception("outbox: dispatch round failed; trying again")
            await asyncio.sleep(1.0)
            return 0

    async def _round(self) -> int:
        metrics.DISPATCH_ROUNDS.inc()
        now = time.monotonic()
        if self.tick is not None and now - self._ticked >= TICK_EVERY:
            self._ticked = now
            await self._db(self._tick)
        if now - self._unserved_checked > 30:
            self._unserved_checked = now
            await self._db(self.queue.note_unserved)
        claimed = 0
        for prefix in self.senders:
            # Each platform has its own slots: forty hanging webhooks must not hold Telegram's.
            free = self.concurrency - self._platform_in_flight[prefix]
            budget = self.pacer.room(prefix, now, free)
            if budget <= 0:
                continue
            busy = self.pacer.waiting(prefix, now, self._in_flight)
            rows = await self._db(self.queue.claim, prefix, budget, busy)
            for row in rows:
                self._schedule(row)
            claimed += len(rows)
        self.pacer.prune(now)
        return claimed

    def _schedule(self, row: Claimed) -> None:
        prefix = prefix_of(row.target)
        sender = self.senders[prefix]
        try:
            interval = sender.pace(row.target).min_interval
        except Exception:
            interval = 1.0
        slot = self.pacer.reserve(row.target, interval, time.monotonic())
        self._in_flight[row.target] += 1
        self._platform_in_flight[prefix] += 1
        task = asyncio.get_running_loop().create_task(self._deliver(sender, row, slot))
        self._tasks.add(task)
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._tasks))
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, sender: Sender, row: Claimed, slot: float) -> None:
        try:
            wait = slot - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            current_key.set(row.key)
            logs.context(**logs.notification_fields(row.key, row.target))  # the sender's lines
            outcome: BaseException | None = None
            try:
                await sender.send(row.target, row.reply())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outcome = exc
            if isinstance(outcome, RetryLater):
                # Here, on the event loop that owns the pacing state, not in the database thread.
                self.pacer.hold(row.target, time.monotonic() + outcome.seconds)
            await self._recorded(row, outcome)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "outbox: recording the outcome of %s failed; its lease will lapse", row.key
            )
        finally:
            self._in_flight[row.target] -= 1
            if self._in_flight[row.target] <= 0:
                del self._in_flight[row.target]
            self._platform_in_flight[prefix_of(row.target)] -= 1
            self._wake.set()

    async def _recorded(self, row: Claimed, outcome: BaseException | None) -> None:
        """Record one outcome as soon as the database thread is free; return once committed.

        Outcomes that finish while a commit is under way go together in the next one (a group
        commit): the "was sent" window stays one commit wide, whatever the rate.
        """
        done = asyncio.get_running_loop().create_future()
        self._outcomes.append((row, outcome, done))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._outcomes:
                batch, self._outcomes = self._outcomes, []
                try:
                    await self._db(self.queue.record_all, [(row, out) for row, out, _ in batch])
                except Exception as exc:
                    for _, _, done in batch:
                        done.set_exception(exc)
                else:
                    for _, _, done in batch:
                        done.set_result(None)
        finally:
            self._flushing = False

    def _tick(self) -> None:
        assert self.tick is not None
        try:
            with session_scope(self.engine) as session:
                self.tick(session)
        except Exception:
            log.exception("outbox: tick failed")
