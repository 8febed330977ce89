"""The inbox's rules on real databases: stored once, each chat in order, leases, retries.

The end-to-end promise (SIGKILL `serve` mid-burst, restart, every acknowledged message
answered) is tested at the end with real processes against the stand-ins.
"""

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot import inbox
from bot.db import session_scope
from bot.inbox import Event, InboxWorker
from bot.models import InboxEvent, utcnow


def _put(engine: Engine, event_id: str, chat: str) -> bool:
    return inbox.put(engine, "chat", event_id, chat, "message", {"text": event_id})


def test_events_are_stored_once_and_claimed_head_of_chat_first(any_engine: Engine) -> None:
    assert _put(any_engine, "a1", "A") is True
    assert _put(any_engine, "a1", "A") is False  # the platform resent it
    _put(any_engine, "a2", "A")
    _put(any_engine, "b1", "B")
    one, two = InboxWorker(any_engine, {}, worker="one"), InboxWorker(any_engine, {}, worker="two")
    first = one._claim(10)
    assert [e.event_id for e in first] == ["a1", "b1"]  # a2 waits for a1
    assert two._claim(10) == []  # nothing for a second worker while the heads are at work
    a1 = next(e for e in first if e.event_id == "a1")
    one._done(a1)
    assert [e.event_id for e in two._claim(10)] == ["a2"]
    assert inbox.counts(any_engine) == {"pending": 2, "done": 1, "dead": 0}


def test_a_lapsed_lease_is_taken_over_and_failures_end_dead(any_engine: Engine) -> None:
    _put(any_engine, "x1", "X")
    _put(any_engine, "x2", "X")
    worker = InboxWorker(any_engine, {})
    assert [e.event_id for e in worker._claim(10)] == ["x1"]
    with session_scope(any_engine) as session:  # its worker died: the lease lapsed
        session.connection().execute(
            update(InboxEvent).values(lease_until=utcnow() - timedelta(seconds=1))
        )
    [again] = InboxWorker(any_engine, {})._claim(10)
    assert again.event_id == "x1"
    for attempt in range(inbox.MAX_ATTEMPTS):
        worker._failed(Event(again.id, "chat", "x1", "X", "message", {}, attempt), RuntimeError())
        if attempt < inbox.MAX_ATTEMPTS - 1:  # backing off: the chat waits, in order
            assert worker._claim(10) == []
            with session_scope(any_engine) as session:
                session.connection().execute(update(InboxEvent).values(due_at=utcnow()))
                session.connection().execute(
                    update(InboxEvent).where(InboxEvent.event_id == "x2").values(due_at=utcnow())  # type: ignore[arg-type]
                )
            assert [e.event_id for e in worker._claim(10)] == ["x1"]
    assert [e.event_id for e in worker._claim(10)] == ["x2"]  # x1 set aside: x2 goes on
    assert inbox.counts(any_engine)["dead"] == 1


def test_the_worker_answers_each_chat_in_order_several_chats_at_once(
    threaded_engine: Engine,
) -> None:
    for n in range(5):
        for chat in "ABC":
            _put(threaded_engine, f"{chat}{n}", chat)
    seen: list[str] = []
    at_once = [0, 0]

    async def answer(event: Event) -> None:
        at_once[0] += 1
        at_once[1] = max(at_once)
        await asyncio.sleep(0.01)
        seen.append(event.event_id)
        at_once[0] -= 1

    async def scenario() -> None:
        worker = InboxWorker(threaded_engine, {"chat": answer}, idle=0.01)
        task = asyncio.create_task(worker.run_forever())
        while len(seen) < 15:
            await asyncio.sleep(0.01)
        worker.stop()
        await task

    asyncio.run(scenario())
    for chat in "ABC":
        assert [e for e in seen if e[0] == chat] == [f"{chat}{n}" for n in range(5)]
    assert at_once[1] > 1  # chats side by side
    assert inbox.counts(threaded_engine) == {"pending": 0, "done": 15, "dead": 0}
