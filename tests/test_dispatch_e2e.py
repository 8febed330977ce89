"""End-to-end delivery: the real PTB and httpx clients, over real HTTP, to local stand-ins.

The Telegram stand-in enforces the platform's flood limits and answers 429 when they are
broken: a normal run must see none. Dispatcher processes are the real `clusterbot dispatch`.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import outbox
from bot.adapters.telegram.sender import TelegramSender
from bot.adapters.webhook.sender import WebhookSender
from bot.app import Bot
from bot.db import make_engine, session_scope, upgrade
from bot.models import Notification, Subscription, utcnow
from bot.outbox import Dispatcher, Pacer
from bot.render import renderer_for
from bot.web import create_app
from knowledge import LANGUAGES
from tests import notices
from tests.conftest import _postgres_engine
from tests.fakes.server import running, served
from tests.fakes.telegram_api import TOKEN, FakeTelegram, Limits
from tests.fakes.webhook_receiver import FakeWebhook
from tests.test_cli import run as clusterbot

ROOT = Path(__file__).parent.parent
SECRET = "webhook-secret-for-tests"
RAISED = Limits(per_second=5000, private_interval=0.0, group_per_minute=100000)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    yield from running(FakeTelegram(limits=Limits()))


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    yield from running(FakeWebhook(SECRET))


# Every notice's text carries markup characters: each platform must deliver them as text.
notify = partial(notices.notify, mark=" <b>&")


def telegram(fake: FakeTelegram, rate: float = 25.0) -> TelegramSender:
    return TelegramSender(renderer_for(LANGUAGES), TOKEN, fake.url, per_second=rate)


def run(engine: Engine, *senders: object, **kw: float) -> Dispatcher:
    dispatcher = Dispatcher(engine, list(senders), **kw)  # type: ignore[arg-type]
    asyncio.run(dispatcher.run_once())
    return dispatcher


def rows(engine: Engine) -> list[Notification]:
    with Session(engine) as s:
        return list(s.exec(select(Notification).order_by(Notification.id)).all())  # type: ignore[arg-type]


def texts(fake: FakeTelegram) -> Counter[str]:
    with fake.cond:
        return Counter(c.text for c in fake.delivered)


def test_delivery_within_telegram_limits_sees_no_429(fake: FakeTelegram, engine: Engine) -> None:
    targets = [f"telegram:{1000 + i}" for i in range(40)]
    targets += ["telegram:7"] * 3 + ["telegram:-100"] * 2  # one chat 1/s, one group 20/min
    notify(engine, targets)
    run(engine, telegram(fake))
    assert fake.count_429() == 0
    assert texts(fake) == Counter(f"n {i} &lt;b&gt;&amp;" for i in range(45))
    # User text reaches Telegram escaped: it can never become markup.
    assert fake.delivered[0].params["parse_mode"] == "HTML"
    assert {r.status for r in rows(engine)} == {"sent"}


def test_a_429_is_honoured_and_delivered_later(fake: FakeTelegram, engine: Engine) -> None:
    fake.fail_429["sendMessage"] = [1]
    notify(engine, ["telegram:5"])
    started = time.monotonic()
    run(engine, telegram(fake))
    assert [c.method for c in fake.calls if c.method.startswith("send")] == [
        "sendMessage:429",
        "sendMessage",
    ]
    assert time.monotonic() - started >= 1.0
    [row] = rows(engine)
    assert (row.status, row.attempts) == ("sent", 1)


def test_blocked_chat_fails_and_its_subscription_stops(fake: FakeTelegram, engine: Engine) -> None:
    with session_scope(engine) as s:
        sub = Subscription(target="telegram:77", country="SD")
        s.add(sub)
    fake.blocked.add(77)
    notify(engine, ["telegram:77"], sub=sub.id)
    run(engine, telegram(fake))
    [row] = rows(engine)
    assert row.status == "failed"
    assert "blocked" in row.last_error
    with Session(engine) as s:
        got = s.get(Subscription, sub.id)
    assert got is not None and not got.active and "blocked" in got.inactive_reason


def test_migrated_group_gets_it_at_its_new_id(fake: FakeTelegram, engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(Subscription(target="telegram:-100", country="SD"))
    fake.migrated[-100] = -1009
    notify(engine, ["telegram:-100"])
    notify(engine, ["telegram:-100"], tag="later")  # due in an hour: it waits, at the new id
    with session_scope(engine) as s:
        later = s.exec(select(Notification).where(Notification.key == "later:0")).one()
        later.due_at = utcnow() + timedelta(hours=1)
    run(engine, telegram(fake))
    assert [c.chat_id for c in fake.delivered] == [-1009]
    assert fake.count_429() == 0
    assert [(r.status, r.target) for r in rows(engine)] == [
        ("sent", "telegram:-1009"),
        ("pending", "telegram:-1009"),
    ]
    with Session(engine) as s:
        assert [x.target for x in s.exec(select(Subscription)).all()] == ["telegram:-1009"]


def test_a_migrated_group_keeps_a_groups_pace_at_its_new_id(fake: FakeTelegram) -> None:
    """The next message to the supergroup waits the group interval: on the Pacer's clock.

    After the move the dispatcher sends to the new id at a slot the Pacer gives it, with the
    interval the sender names for that id; no real waiting is needed to see the spacing.
    """
    sender = telegram(fake)  # never started: pace() makes no call
    pacer = Pacer({"telegram": sender.pace("telegram:").per_second}, Dispatcher.HORIZON)
    new = "telegram:-1009"
    interval = sender.pace(new).min_interval
    assert interval >= 60 / Limits().group_per_minute  # Telegram's 20 a minute to one group
    sent_at = pacer.reserve(new, interval, now=100.0)
    assert new in pacer.waiting("telegram", sent_at + interval - 0.01, {})
    assert new not in pacer.waiting("telegram", sent_at + interval, {})
    assert pacer.reserve(new, interval, now=sent_at + interval) == sent_at + interval


def test_webhook_is_signed_and_carries_the_notification(hook: FakeWebhook, engine: Engine) -> None:
    notify(engine, [f"webhook:{hook.url}"], tag="endorsed", lang="fr")
    run(engine, WebhookSender(renderer_for(LANGUAGES), SECRET))
    assert hook.rejected == 0
    [payload] = hook.received
    assert payload["key"] == "endorsed:0"
    assert payload["template"] == "outbox/text.j2"
    assert payload["lang"] == "fr"
    assert payload["data"] == {"text": "endorsed 0 <b>&"}
    assert payload["text"] == "endorsed 0 <b>&"


def test_webhook_wrong_secret_is_refused_and_retried(hook: FakeWebhook, engine: Engine) -> None:
    notify(engine, [f"webhook:{hook.url}"])
    run(
        engine,
        WebhookSender(renderer_for(LANGUAGES), "not-the-secret"),
        backoff=0.01,
        max_attempts=2,
    )
    assert hook.rejected == 2 and not hook.received
    [row] = rows(engine)
    assert row.status == "dead" and "401" in row.last_error


def test_webhook_5xx_retried_then_delivered_429_waited_410_ends(
    hook: FakeWebhook, engine: Engine
) -> None:
    hook.script = [500, 503, 429]
    notify(engine, [f"webhook:{hook.url}"])
    run(engine, WebhookSender(renderer_for(LANGUAGES), SECRET), backoff=0.05)
    assert hook.answers == [500, 503, 429, 200]
    [row] = rows(engine)
    assert (row.status, row.attempts) == ("sent", 3)  # the 429 is not counted as a failure

    with session_scope(engine) as s:
        sub = Subscription(target=f"webhook:{hook.url}?gone")
        s.add(sub)
    hook.script = [410]
    notify(engine, [f"webhook:{hook.url}?gone"], tag="gone", sub=sub.id)
    run(engine, WebhookSender(renderer_for(LANGUAGES), SECRET))
    assert rows(engine)[-1].status == "failed"
    with Session(engine) as s:
        got = s.get(Subscription, sub.id)
    assert got is not None and not got.active


@pytest.mark.parametrize(
    ("retry_after", "held"),
    [
        ("inf", True),
        ("1e12", True),
        ("Fri, 31 Dec 9999 23:59:59 GMT", True),
        ("-5", False),
        ("nan", False),
        ("Mon, 01 Jan 0001 00:00:00", False),  # a date without a zone
    ],
)
def test_webhook_retry_after_from_outside_is_clamped(
    hook: FakeWebhook, engine: Engine, retry_after: str, held: bool
) -> None:
    hook.script, hook.retry_after = [429], retry_after
    notify(engine, [f"webhook:{hook.url}"])
    before = utcnow()
    run(engine, WebhookSender(renderer_for(LANGUAGES), SECRET), once_wait=0.0)
    [row] = rows(engine)
    assert row.lease_until is None  # recorded, not left leased until a restart
    if held:  # waits an hour at most
        assert row.status == "pending" and row.last_error.startswith("rate limited")
        assert before + timedelta(seconds=3590) <= row.due_at <= utcnow() + timedelta(hours=1)
    else:
        assert row.status == "sent" or row.due_at <= utcnow() + timedelta(seconds=60)


def test_hanging_webhooks_do_not_hold_telegrams_slots(
    fake: FakeTelegram, hook: FakeWebhook, engine: Engine
) -> None:
    base = hook.url.removesuffix("/hook")
    notify(engine, [f"webhook:{base}/hang/{n}" for n in range(8)], tag="hang")
    notify(engine, [f"telegram:{1000 + n}" for n in range(5)], tag="tg")

    async def scenario() -> None:
        webhooks = WebhookSender(renderer_for(LANGUAGES), SECRET, timeout=60.0)
        dispatcher = Dispatcher(engine, [webhooks, telegram(fake)], concurrency=4)
        task = asyncio.create_task(dispatcher.run_forever())
        try:
            # Every webhook slot hangs; Telegram's notices still go out.
            await asyncio.to_thread(fake.wait_for, lambda calls: len(fake.delivered) >= 5, 10.0)
            assert hook.hanging == 4  # the webhook platform's own limit, not more
        finally:
            hook.release.set()
            dispatcher.stop()
            await task

    asyncio.run(scenario())


def test_webhook_dead_after_max_attempts_then_outbox_retry(
    hook: FakeWebhook, engine: Engine
) -> None:
    hook.script = [500] * 3
    notify(engine, [f"webhook:{hook.url}"])
    run(engine, WebhookSender(renderer_for(LANGUAGES), SECRET), backoff=0.01, max_attempts=3)
    [row] = rows(engine)
    assert row.status == "dead" and "500" in row.last_error
    with session_scope(engine) as s:
        assert outbox.retry_dead(s) == 1
    run(engine, WebhookSender(renderer_for(LANGUAGES), SECRET))
    assert len(hook.received) == 1


def test_serving_app_records_migration_and_block(
    fake: FakeTelegram, bot: Bot, engine: Engine
) -> None:
    """Issue 4: the interactive adapter keeps subscriptions true to what Telegram says."""
    with session_scope(engine) as s:
        s.add(Subscription(target="telegram:-200", country="SD"))
        s.add(Subscription(target="telegram:55", country="SD"))
    fake.blocked.add(55)
    settings = fake.bot_settings()
    migrate = fake.message("hello", user_id=9, chat_id=-200, chat_type="group")
    migrate["message"].pop("text")
    migrate["message"]["migrate_to_chat_id"] = -100200
    with served(create_app(settings, bot=bot)):
        fake.push(migrate)
        fake.push(fake.message("who leads health", user_id=55))
        fake.wait_for(
            lambda calls: any(c.chat_id == 55 for c in calls if c.method == "sendMessage")
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Session(engine) as s:
                subs = {x.target: x for x in s.exec(select(Subscription)).all()}
            if "telegram:-100200" in subs and not subs["telegram:55"].active:
                break
            time.sleep(0.05)
    assert "telegram:-100200" in subs and "telegram:-200" not in subs
    assert not subs["telegram:55"].active
    assert "blocked" in subs["telegram:55"].inactive_reason


def _env(fake: FakeTelegram, db_url: str, rate: float, concurrency: int = 16) -> dict[str, str]:
    return {
        **os.environ,
        "CLUSTERBOT_DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.url,
        "CLUSTERBOT_TELEGRAM_NOTIFY_RATE": str(rate),
        "CLUSTERBOT_OUTBOX_CONCURRENCY": str(concurrency),
        "CLUSTERBOT_LOG_LEVEL": "WARNING",
    }


def _dispatch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "dispatch", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_dispatcher_killed_mid_way_loses_nothing(tmp_path: Path, migrated_db: Path) -> None:
    fake = FakeTelegram(limits=RAISED).start()
    try:
        db = tmp_path / "kill.db"
        db.write_bytes(migrated_db.read_bytes())
        engine = make_engine(f"sqlite:///{db}")
        total, in_flight = 300, 16
        notify(engine, [f"telegram:{5000 + i}" for i in range(total)])
        env = _env(fake, f"sqlite:///{db}", rate=60, concurrency=in_flight)
        first = _dispatch(env)
        fake.wait_for(lambda _: len(fake.delivered) >= 60, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        before = len(fake.delivered)
        assert before < total, "killed too late to test anything"
        # What is left goes out at a higher rate: the rate was only there to kill mid-way.
        second = _dispatch({**env, "CLUSTERBOT_TELEGRAM_NOTIFY_RATE": "300"}, "--once")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        got = texts(fake)
        assert set(got) == {f"n {i} &lt;b&gt;&amp;" for i in range(total)}  # nothing missing
        duplicates = sum(n - 1 for n in got.values())
        assert duplicates <= in_flight
        assert fake.count_429() == 0
        assert {r.status for r in rows(engine)} == {"sent"}
        engine.dispose()
    finally:
        fake.stop()


@pytest.mark.postgres
def test_three_dispatchers_on_postgres_share_without_duplicates() -> None:
    fake = FakeTelegram(limits=RAISED).start()
    try:
        for engine in _postgres_engine():
            upgrade(engine)
            # 1,000: three workers claiming up to 32 at a time claim side by side some thirty
            # times; 2,000 took 1.7 s longer and proved no more.
            total = 1000
            notify(engine, [f"telegram:{10_000 + i}" for i in range(total)])
            url = engine.url.render_as_string(hide_password=False)
            env = _env(fake, url, rate=200, concurrency=32)
            procs = [_dispatch(env, "--once") for _ in range(3)]
            for proc in procs:
                _, err = proc.communicate(timeout=60)
                assert proc.returncode == 0, err
            # On a loaded machine a send may time out: that row backs off (30 s) and `--once`
            # leaves it pending, with its error, for the next run. Kept, not lost: run it now.
            waiting = [r for r in rows(engine) if r.status != "sent"]
            assert all(r.status == "pending" and r.last_error for r in waiting), waiting[:3]
            if waiting:
                with session_scope(engine) as s:
                    s.connection().execute(update(Notification).values(due_at=utcnow()))
                again = _dispatch(env, "--once")
                _, err = again.communicate(timeout=60)
                assert again.returncode == 0, err
            got = texts(fake)
            assert set(got) == {f"n {i} &lt;b&gt;&amp;" for i in range(total)}  # none missing
            twice = {text for text, n in got.items() if n > 1}
            # Only a send that timed out may have arrived twice: at least once, never lost.
            assert len(twice) <= len(waiting), sorted(twice)[:5]
            assert fake.count_429() == 0
            done = rows(engine)
            assert {r.status for r in done} == {"sent"}
            assert len({r.claimed_by for r in done}) >= 2  # the work was shared
    finally:
        fake.stop()


def test_cli_outbox_status_and_retry(tmp_path: Path, migrated_db: Path) -> None:
    db = tmp_path / "cli.db"
    db.write_bytes(migrated_db.read_bytes())
    engine = make_engine(f"sqlite:///{db}")
    notify(engine, ["telegram:1", "telegram:2", "slack:T:C"])
    with session_scope(engine) as s:
        first = s.exec(select(Notification).order_by(Notification.id)).first()  # type: ignore[arg-type]
        assert first is not None
        first.status = "dead"
    engine.dispose()

    def cli(*args: str) -> str:
        out = clusterbot(list(args), tmp_path)
        assert out.returncode == 0, out.stderr
        return out.stdout

    assert json.loads(cli("outbox", "status", "--json")) == {
        "pending": 2,
        "sent": 0,
        "failed": 0,
        "dead": 1,
    }
    assert "1 notification(s) re-queued" in cli("outbox", "retry")
    assert "pending  3" in cli("outbox", "status")


def test_dispatch_without_a_sender_says_what_each_platform_needs(
    tmp_path: Path, migrated_db: Path
) -> None:
    from bot import adapters

    (tmp_path / "cli.db").write_bytes(migrated_db.read_bytes())
    out = clusterbot(["dispatch", "--once"], tmp_path)  # no platform's settings in the suite
    assert out.returncode == 0, out.stderr
    assert "no sender configured" in out.stderr and "notifications stay pending" in out.stderr
    # Each platform package's own words: a new platform's appear with no CLI edit.
    hints = adapters.sender_hints()
    assert any("WHATSAPP_TOKEN" in h for h in hints) and "CLUSTERBOT_WEBHOOK_SECRET" in hints
    for hint in hints:
        assert hint in out.stderr


def test_slack_channels_are_paced_to_one_message_a_second(engine: Engine) -> None:
    from bot.adapters.slack.sender import SlackSender
    from tests.fakes.slack_api import TEAM, FakeSlack
    from tests.fakes.slack_api import TOKEN as SLACK_TOKEN

    slack = FakeSlack().start()
    try:
        slack.enforce_pace = True  # the stand-in answers 429 to a second post within 1 s
        channels = [f"slack:{TEAM}:C{n}" for n in range(4)]
        notify(engine, channels * 3)  # three messages for each of four channels
        sender = SlackSender(renderer_for(LANGUAGES), token=SLACK_TOKEN, api_url=slack.api_url)
        stats = run(engine, sender).stats
        posted = slack.of("chat.postMessage")
        assert stats.rate_limited == 0 and not slack.of("chat.postMessage:429")
        assert Counter(c.channel for c in posted) == {f"C{n}": 3 for n in range(4)}
        assert "n 0 &lt;b&gt;&amp;" in posted[0].text  # user text stays text in mrkdwn
    finally:
        slack.stop()
