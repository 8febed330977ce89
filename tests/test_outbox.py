"""The outbox and its dispatcher's rules, with a recording stand-in for a platform.

Real databases (SQLite, and PostgreSQL when configured); the platform is a Sender that records
what it was given and fails as scripted. Delivery through the real platform clients is in
tests/test_dispatch_e2e.py.
"""

import asyncio
import itertools
import time
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import outbox
from bot.core import Reply
from bot.db import session_scope
from bot.models import Notification, Subscription, utcnow
from bot.outbox import BULK, INTERACTIVE, Dispatcher, Pace, Pacer, RetryLater, Undeliverable
from tests.notices import notify


class Platform:
    """A stand-in platform: records (target, text) of each delivery; fails as scripted."""

    def __init__(self, prefix: str = "chat", per_second: float = 100.0, interval: float = 0.0):
        self.prefix = prefix
        self.per_second = per_second
        self.interval = interval
        self.got: list[tuple[str, str]] = []
        self.at: list[float] = []  # when each of `got` was sent (monotonic)
        self.failures: dict[str, list[Exception]] = {}  # target -> what its next sends raise

    def pace(self, target: str) -> Pace:
        return Pace(self.per_second, self.interval)

    async def send(self, target: str, reply: Reply) -> None:
        script = self.failures.get(target)
        if script:
            raise script.pop(0)
        self.got.append((target, str(reply.data["text"])))
        self.at.append(time.monotonic())


def rows(engine: Engine) -> list[Notification]:
    with Session(engine) as s:
        return list(s.exec(select(Notification).order_by(Notification.id)).all())  # type: ignore[arg-type]


def run(dispatcher: Dispatcher) -> None:
    asyncio.run(dispatcher.run_once())


def test_enqueue_is_idempotent_on_key(any_engine: Engine) -> None:
    for _ in range(2):
        notify(any_engine, ["chat:1", "chat:2"])
    with session_scope(any_engine) as s:
        assert outbox.counts(s) == {"pending": 2, "sent": 0, "failed": 0, "dead": 0}


def test_everything_due_is_delivered_once(any_engine: Engine) -> None:
    platform = Platform()
    notify(any_engine, [f"chat:{i}" for i in range(50)])
    run(Dispatcher(any_engine, [platform]))
    assert sorted(platform.got) == sorted((f"chat:{i}", f"n {i}") for i in range(50))
    assert {r.status for r in rows(any_engine)} == {"sent"}


def test_interactive_goes_before_bulk(engine: Engine) -> None:
    platform = Platform(per_second=20)
    notify(engine, [f"chat:{i}" for i in range(20)], "bulk", priority=BULK)
    notify(engine, ["chat:asker"], "reply", priority=INTERACTIVE)
    run(Dispatcher(engine, [platform]))
    assert platform.got[0] == ("chat:asker", "reply 0")
    assert len(platform.got) == 21


def test_one_destination_is_paced_without_holding_up_others(engine: Engine) -> None:
    platform = Platform(per_second=100, interval=0.3)
    notify(engine, ["chat:busy"] * 1, tag="a")
    notify(engine, ["chat:busy"], tag="b")
    notify(engine, ["chat:busy"], tag="c")
    notify(engine, [f"chat:{i}" for i in range(10)], tag="other")
    run(Dispatcher(engine, [platform]))
    sent = list(zip((target for target, _ in platform.got), platform.at, strict=True))
    busy = [at for target, at in sent if target == "chat:busy"]
    others = [at for target, at in sent if target != "chat:busy"]
    assert len(busy) == 3 and len(others) == 10
    # The busy chat's 2nd and 3rd wait for their slots (0.3 s apart, a little jitter allowed)...
    assert all(later - earlier >= 0.25 for earlier, later in itertools.pairwise(busy))
    # ...while every other chat went meanwhile, before the busy chat's second message.
    assert max(others) < busy[1]


def test_transient_errors_are_retried_then_delivered(engine: Engine) -> None:
    platform = Platform()
    platform.failures["chat:1"] = [TimeoutError("slow"), RuntimeError("503")]
    notify(engine, ["chat:1"])
    run(Dispatcher(engine, [platform], backoff=0.05))
    assert platform.got == [("chat:1", "n 0")]
    [row] = rows(engine)
    assert (row.status, row.attempts) == ("sent", 3)


def test_dead_after_max_attempts_then_requeued(engine: Engine) -> None:
    platform = Platform()
    platform.failures["chat:1"] = [RuntimeError("500 Internal Server Error")] * 5
    notify(engine, ["chat:1"])
    run(Dispatcher(engine, [platform], backoff=0.01, max_attempts=3))
    [row] = rows(engine)
    assert (row.status, row.attempts) == ("dead", 3)
    assert "500" in row.last_error
    with session_scope(engine) as s:
        assert outbox.retry_dead(s) == 1
    platform.failures.clear()
    run(Dispatcher(engine, [platform]))
    assert platform.got == [("chat:1", "n 0")]


def test_retry_later_is_not_a_failure(engine: Engine) -> None:
    platform = Platform()
    platform.failures["chat:1"] = [RetryLater(0.3)]
    notify(engine, ["chat:1"])
    run(Dispatcher(engine, [platform], max_attempts=1))
    [row] = rows(engine)
    assert (row.status, row.attempts) == ("sent", 1)


def test_undeliverable_fails_and_deactivates_the_subscription(engine: Engine) -> None:
    with session_scope(engine) as s:
        sub = Subscription(target="chat:gone", country="SD")
        s.add(sub)
    platform = Platform()
    platform.failures["chat:gone"] = [Undeliverable("forbidden: bot was blocked by the user")]
    notify(engine, ["chat:gone"])
    run(Dispatcher(engine, [platform]))
    [row] = rows(engine)
    assert row.status == "failed" and "blocked" in row.last_error
    with Session(engine) as s:
        got = s.get(Subscription, sub.id)
        assert got is not None and not got.active and "blocked" in got.inactive_reason


def test_target_without_sender_waits_with_a_reason(engine: Engine) -> None:
    notify(engine, ["slack:T1:C1", "chat:1"])
    platform = Platform()
    run(Dispatcher(engine, [platform]))
    slack, chat = rows(engine)
    assert chat.status == "sent"
    assert slack.status == "pending"
    assert "no sender configured for 'slack'" in slack.last_error


def test_expired_lease_is_taken_over_live_one_is_not(any_engine: Engine) -> None:
    notify(any_engine, ["chat:1", "chat:2"])
    with session_scope(any_engine) as s:
        first, second = s.exec(select(Notification).order_by(Notification.id)).all()  # type: ignore[arg-type]
        first.lease_until = utcnow() - timedelta(seconds=1)
        first.claimed_by = "dead-worker"
        second.lease_until = utcnow() + timedelta(minutes=5)
        second.claimed_by = "live-worker"
    platform = Platform()
    dispatcher = Dispatcher(any_engine, [platform])
    claimed = dispatcher.queue.claim("chat", 10, [])
    assert [c.target for c in claimed] == ["chat:1"]
    if any_engine.dialect.name == "sqlite":
        # SQLite runs one dispatcher: at start it voids every lease (see Dispatcher._start),
        # so a dispatcher that was killed leaves nothing waiting for its lease to pass.
        run(dispatcher)
        assert sorted(platform.got) == [("chat:1", "n 0"), ("chat:2", "n 1")]


def test_retarget_and_deactivate(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        s.add(Subscription(target="telegram:-5", country="SD"))
        s.add(Subscription(target="telegram:9"))
    notify(any_engine, ["telegram:-5"])
    with session_scope(any_engine) as s:
        assert outbox.retarget(s, "telegram:-5", "telegram:-1005") == 1
        assert outbox.deactivate(s, "telegram:9", "forbidden: blocked") == 1
        assert outbox.deactivate(s, "telegram:9", "again") == 0
    with Session(any_engine) as s:
        subs = {sub.target: sub for sub in s.exec(select(Subscription)).all()}
    assert set(subs) == {"telegram:-1005", "telegram:9"}
    assert not subs["telegram:9"].active
    assert [r.target for r in rows(any_engine)] == ["telegram:-1005"]


def test_tick_runs_each_round_in_its_own_transaction(engine: Engine) -> None:
    platform = Platform()
    ticks: list[tuple[Session, list[str]]] = []  # each tick's session, and the rows it saw

    def tick(session: Session) -> None:
        seen = [n.status for n in session.exec(select(Notification)).all()]
        if not ticks:  # e.g. a due reminder becomes a notification
            outbox.enqueue(
                session,
                key="reminder:1",
                target="chat:erc",
                template="outbox/text.j2",
                data={"text": "reminder"},
                lang="en",
                priority=outbox.REMINDER,
            )
        ticks.append((session, seen))  # kept: a session's id is not reused while it lives

    run(Dispatcher(engine, [platform], tick))
    # The first round's tick committed its reminder, which went out in the same run...
    assert platform.got == [("chat:erc", "reminder")]
    # ...and a last tick, in a transaction of its own, saw the outcome recorded as sent.
    assert len(ticks) >= 2
    assert len({id(session) for session, _ in ticks}) == len(ticks)
    assert ticks[0][1] == [] and ticks[-1][1] == ["sent"]


def test_waits_from_outside_are_clamped_to_an_hour() -> None:
    assert [RetryLater(s).seconds for s in (float("inf"), 1e12, -5.0, float("nan"), 7.5)] == [
        3600,
        3600,
        0,
        1,
        7.5,
    ]
    assert outbox.clamp_seconds("junk", 30.0) == 30.0


# ---- the pacer, on a made-up clock ----------------------------------------------------------


def test_pacer_spaces_one_destination_by_its_interval() -> None:
    pacer = Pacer({"chat": 100.0}, horizon=0.25)
    assert pacer.reserve("chat:busy", 3.1, now=10.0) == 10.0
    for now in (10.0, 11.0, 13.0):
        assert pacer.waiting("chat", now, {}) == ["chat:busy"]
    assert pacer.waiting("chat", 13.1, {}) == []
    assert pacer.reserve("chat:busy", 3.1, now=13.1) == 13.1


def test_pacer_never_holds_one_destination_behind_another() -> None:
    pacer = Pacer({"chat": 10.0}, horizon=0.25)
    slots = [pacer.reserve("chat:busy", 60.0, now=0.0)]
    slots += [pacer.reserve(f"chat:{i}", 60.0, now=0.0) for i in range(3)]
    # The overall rate (10 a second) spaces them 0.1 s apart; none waits for the busy chat.
    assert slots == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert pacer.waiting("chat", 1.0, {}) == ["chat:0", "chat:1", "chat:2", "chat:busy"]
    assert pacer.waiting("other", 1.0, {}) == []  # another platform's destinations are its own


def test_pacer_claims_only_the_slots_of_the_next_moment() -> None:
    pacer = Pacer({"chat": 10.0}, horizon=0.25)
    assert pacer.room("chat", 0.0, free=32) == 3  # 0.25 s at 10 a second
    assert pacer.room("chat", 0.0, free=2) == 2  # no more than the free slots
    assert pacer.room("chat", 0.0, free=0) == 0
    for i in range(3):
        pacer.reserve(f"chat:{i}", 0.0, now=0.0)
    assert pacer.room("chat", 0.0, free=32) == 0  # booked up to 0.3 s
    assert pacer.room("chat", 0.1, free=32) == 1


def test_pacer_holds_a_destination_a_platform_asked_to_wait_and_one_in_flight() -> None:
    pacer = Pacer({"chat": 10.0}, horizon=0.25)
    pacer.reserve("chat:1", 0.5, now=0.0)
    pacer.hold("chat:1", until=30.0)  # a 429 with Retry-After: 30
    assert pacer.waiting("chat", 29.9, {}) == ["chat:1"]
    assert pacer.waiting("chat", 30.0, {}) == []
    assert pacer.waiting("chat", 30.0, {"chat:1": 1}) == ["chat:1"]  # still sending
