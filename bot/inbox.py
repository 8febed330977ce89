"""The inbox, the outbox's twin: every platform event is a row before it is acknowledged.

An adapter calls `put` while the platform waits for its acknowledgement; if the write fails,
the request fails and the platform resends (that is Slack's and Telegram's contract). The
event id is the unique key, so a resent event is stored once. An `InboxWorker` takes the oldest
pending event of each chat (never a chat's second while its first is at work), hands it to the
platform's answerer and marks it done after the reply went out. A claim is a lease: events a
dead process left are taken again once it lapses (on SQLite, at once when a worker starts).
Nothing acknowledged lives only in memory; the backlog is bounded by the database.

Acknowledging comes before answering in one process: the `Writer` commits on a thread of its
own (never queued behind answering's database calls in asyncio's shared pool), and while
platform requests are in flight (`busy`, bot.web counts them) the worker starts no more than
`share` answers, so answering keeps a bounded share of the loop and of SQLite's one writer.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Engine

from bot import logs, metrics
from bot.db import insert_ignore, session_scope
from bot.models import InboxEvent, utcnow

log = logging.getLogger("clusterbot.inbox")

KEEP_FOR = timedelta(days=1)  # done events remembered this long: platforms resend for minutes
MAX_ATTEMPTS = 5  # an event whose answering keeps failing is set aside ("dead") after this
BACKOFF = 5.0  # seconds before the first retry of a failed event; doubles each time
PRUNE_EVERY = 3600.0  # seconds between prunes

Answer = Callable[["Event"], Awaitable[None]]
Arrival = tuple[str, str, str, str, Mapping[str, Any]]  # platform, event id, chat, kind, payload


@dataclass(frozen=True, slots=True)
class Event:
    """An event a worker holds a lease on: what answering it needs."""

    id: int
    platform: str
    event_id: str
    chat: str
    kind: str
    payload: dict[str, Any]
    attempts: int


def put(
    engine: Engine,
    platform: str,
    event_id: str,
    chat: str,
    kind: str,
    payload: Mapping[str, Any],
) -> bool:
    """Store one event unless it is stored already; True when new. Raises if the write fails."""
    return put_many(engine, platform, [(event_id, chat, kind, payload)]) > 0


def put_many(
    engine: Engine, platform: str, events: list[tuple[str, str, str, Mapping[str, Any]]]
) -> int:
    """Store events (event id, chat, kind, payload) in one transaction; how many were new."""
    return sum(_store(engine, [(platform, *event) for event in events]))


def _store(engine: Engine, events: list[Arrival]) -> list[bool]:
    """Store events (platform, id, chat, kind, payload) in one transaction; which were new."""
    table = InboxEvent.__table__  # type: ignore[attr-defined]
    now = utcnow()
    new: list[bool] = []
    with session_scope(engine) as session:
        for platform, event_id, chat, kind, payload in events:
            row = {
                "platform": platform,
                "event_id": event_id[:200],
                "chat": chat[:200],
                "kind": kind,
                "payload": dict(payload),
                "status": "pending",
                "attempts": 0,
                "due_at": now,
                "claimed_by": "",
                "created_at": now,
            }
            new.append(insert_ignore(session, table, row, ["platform", "event_id"]))
    return new


class Writer:
    """Stores events that arrive together in one transaction: one disk sync for many acks.

    Each request waits for its own event's commit, so nothing is acknowledged before it is
    stored; under a burst, the requests waiting meanwhile share the next transaction instead of
    queueing for one synced write each. A failed transaction fails every request in it (the
    platform resends them). The writes run on the Writer's own thread: in asyncio's shared pool
    they queued behind the inbox worker's and the answers' database calls.
    """

    BATCH = 200  # events in one transaction at most

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._waiting: list[tuple[Arrival, asyncio.Future[bool]]] = []
        self._writing: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None  # made by the first write, ended by close

    async def put(
        self, platform: str, event_id: str, chat: str, kind: str, payload: Mapping[str, Any]
    ) -> bool:
        """Store one event (True when new) once its transaction has committed; raises if not."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(((platform, event_id, chat, kind, payload), done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.get_running_loop().create_task(self._write())
        return await done

    async def close(self) -> None:
        """Let the write under way commit, then end the Writer's thread (a later put makes one)."""
        if self._writing is not None:
            await asyncio.wait([self._writing])
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.BATCH], self._waiting[self.BATCH :]
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-writer")
            try:
                new = await asyncio.get_running_loop().run_in_executor(
                    self._thread, _store, self.engine, [event for event, _ in batch]
                )
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for (_, done), fresh in zip(batch, new, strict=True):
                    if not done.done():
                        done.set_result(fresh)


def counts(engine: Engine) -> dict[str, int]:
    """How many events are pending, done and dead."""
    t = InboxEvent.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
    found = {str(status): int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in ("pending", "done", "dead")}


class InboxWorker:
    """Answers inbox events: the head of each chat, several chats at once, in order per chat.

    While `busy()` (platform requests in flight in this process) at most `share` answers are at
    work: acknowledgements first, answering never stopped.
    """

    def __init__(
        self,
        engine: Engine,
        answerers: Mapping[str, Answer],
        *,
        concurrency: int = 16,
        lease: float = 120.0,
        idle: float = 0.5,
        worker: str | None = None,
        busy: Callable[[], bool] = lambda: False,
        share: int = 4,
    ) -> None:
        self.engine = engine
        self.answerers = dict(answerers)
        self.concurrency = concurrency
        self.lease = lease
        self.idle = idle
        self.busy = busy
        self.share = share
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.sqlite = engine.dialect.name == "sqlite"
        self.answered = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._pruned = 0.0

    def wake(self) -> None:
        """Something was put: look now rather than after the idle pause."""
        self._wake.set()

    def stop(self) -> None:
        """Ask `run_forever` to let what is in flight finish, then return."""
        self._stop.set()
        self._wake.set()

    async def run_forever(self) -> None:
        """Claim and answer until `stop()`."""
        # One process serves a SQLite database: a lease left by a dead one is void now.
        released = not self.sqlite
        try:
            while not self._stop.is_set():
                claimed = 0
                self._wake.clear()  # a wake from here on ends the pause below at once
                try:
                    if not released:  # in the loop: a busy database at start is tried again
                        await asyncio.to_thread(self._release_all)
                        released = True
                    claimed = await self._round()
                except Exception:
                    log.exception("inbox: claiming failed; trying again")
                    await self._sleep(1.0)
                    continue
                if not claimed:
                    await self._sleep(self.idle)
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _round(self) -> int:
        loop = asyncio.get_running_loop()
        if loop.time() >= self._pruned + PRUNE_EVERY:
            self._pruned = loop.time()
            await asyncio.to_thread(self._prune)
        limit = min(self.share, self.concurrency) if self.busy() else self.concurrency
        free = limit - len(self._tasks)
        if free <= 0:
            return 0
        events = await asyncio.to_thread(self._claim, free)
        for event in events:
            task = loop.create_task(self._answer(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(events)

    async def _answer(self, event: Event) -> None:
        logs.context(platform=event.platform, event_id=event.event_id)  # this task's lines
        started = time.monotonic()
        try:
            answer = self.answerers.get(event.platform)
            if answer is None:
                raise RuntimeError(f"no answerer for {event.platform!r} events here")
            await answer(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("inbox: answering %s %s failed", event.platform, event.event_id)
            metrics.HANDLER_ERRORS.labels(event.platform, "answer").inc()
            await self._record(self._failed, event, exc)
        else:
            self.answered += 1
            took = time.monotonic() - started
            metrics.ANSWER_SECONDS.labels(event.platform).observe(took)
            log.info("inbox: %s %s answered in %.2f s", event.platform, event.kind, took)
            await self._record(self._done, event)
        finally:
            self._wake.set()  # the chat's next event may go now

    async def _record(self, fn: Callable[..., None], *args: Any) -> None:
        for pause in (0.5, 2.0, None):  # a busy database (SQLite's lock) gets a second chance
            try:
                await asyncio.to_thread(fn, *args)
                return
            except Exception:
                if pause is None:
                    # The lease lapses and the event is answered again: a duplicate, not a loss.
                    log.exception("inbox: recording the outcome of %s failed", args[0].event_id)
                    return
                await asyncio.sleep(pause)

    # ---- database work ----------------------------------------------------------------------

    def _claim(self, limit: int) -> list[Event]:
        """Lease up to `limit` events, each the oldest pending one of its chat, oldest first."""
        now = utcnow()
        t = InboxEvent.__table__  # type: ignore[attr-defined]
        earlier = t.alias("earlier")
        # A chat's head: no earlier pending event of the same chat (one index probe each; a
        # window over every pending row made each claim cost as much as the whole backlog).
        waits = (
            select(earlier.c.id)
            .where(
                earlier.c.status == "pending",
                earlier.c.chat == t.c.chat,
                earlier.c.id < t.c.id,
            )
            .exists()
        )
        free = or_(t.c.lease_until.is_(None), t.c.lease_until < now)
        chosen = (
            select(t.c.id)
            .where(t.c.status == "pending", t.c.due_at <= now, free, ~waits)
            .order_by(t.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            if self.sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the pick and the lease as one step
            rows = conn.execute(
                update(t)
                # Re-checked on the row itself: of two workers, only one takes it.
                .where(
                    t.c.id.in_(chosen),
                    t.c.status == "pending",
                    or_(t.c.lease_until.is_(None), t.c.lease_until < now),
                )
                .values(lease_until=now + timedelta(seconds=self.lease), claimed_by=self.worker)
                .returning(
                    t.c.id,
                    t.c.platform,
                    t.c.event_id,
                    t.c.chat,
                    t.c.kind,
                    t.c.payload,
                    t.c.attempts,
                )
            ).all()
            conn.commit()
        events = [Event(r[0], r[1], r[2], r[3], r[4], dict(r[5] or {}), r[6]) for r in rows]
        return sorted(events, key=lambda e: e.id)

    def _done(self, event: Event) -> None:
        t = InboxEvent.__table__  # type: ignore[attr-defined]
        with session_scope(self.engine) as session:
            session.execute(
                update(t)
                .where(t.c.id == event.id)
                .values(
                    status="done", done_at=utcnow(), lease_until=None, attempts=event.attempts + 1
                )
            )

    def _failed(self, event: Event, exc: BaseException) -> None:
        t = InboxEvent.__table__  # type: ignore[attr-defined]
        attempts = event.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        values: dict[str, Any] = {"attempts": attempts, "lease_until": None, "last_error": error}
        if attempts >= MAX_ATTEMPTS:
            values["status"] = "dead"  # set aside, so the chat's next events are answered
            log.error("inbox: %s %s is dead: %s", event.platform, event.event_id, error)
        else:
            values["due_at"] = utcnow() + timedelta(seconds=BACKOFF * 2 ** (attempts - 1))
        with session_scope(self.engine) as session:
            session.execute(update(t).where(t.c.id == event.id).values(**values))

    def _release_all(self) -> None:
        t = InboxEvent.__table__  # type: ignore[attr-defined]
        with session_scope(self.engine) as session:
            session.execute(
                update(t)
                .where(t.c.status == "pending", t.c.lease_until.is_not(None))
                .values(lease_until=None, claimed_by="")
            )

    def _prune(self) -> None:
        t = InboxEvent.__table__  # type: ignore[attr-defined]
        with session_scope(self.engine) as session:
            session.execute(
                delete(t).where(t.c.status != "pending", t.c.created_at < utcnow() - KEEP_FOR)
            )
