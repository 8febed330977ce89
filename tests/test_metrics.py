"""/metrics: each metric moves when its event happens, read over HTTP as Prometheus reads it.

Messages, answer latency and handler errors through a served app and the Telegram stand-in;
the outbox's counters and gauges from a real `clusterbot dispatch` process with its own
metrics server; and, on PostgreSQL, two dispatch processes whose counters add up.
"""

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, col, select

from bot.adapters.telegram.routes import TELEGRAM_WEBHOOK
from bot.app import Bot
from bot.core import Context, Incoming, Reply
from bot.db import make_engine, session_scope, upgrade
from bot.health import serve_metrics
from bot.models import Notification, utcnow
from bot.settings import Settings
from bot.web import create_app
from handlers import build_router
from knowledge import KnowledgeBase
from tests.conftest import _postgres_engine
from tests.fakes.server import free_socket, http_client, served
from tests.fakes.telegram_api import TOKEN, FakeTelegram, Limits
from tests.fakes.webhook_receiver import FakeWebhook
from tests.test_dispatch_e2e import notify

ROOT = Path(__file__).parent.parent
SECRET = "webhook-secret-for-metrics"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    response = http_client.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_messages_latency_and_handler_errors_are_counted(
    fake_telegram: FakeTelegram, kb: KnowledgeBase, engine: Any
) -> None:
    def broken(msg: Incoming, ctx: Context) -> Reply:
        raise RuntimeError("a handler bug")

    router = build_router()
    router = dataclasses.replace(router, intents={**router.intents, "concept": broken})
    bot = Bot(Settings(database_url="sqlite://"), kb=kb, engine=engine, router=router)
    settings = fake_telegram.bot_settings(
        telegram_webhook_url="https://bot.example.org/telegram/webhook",
        telegram_webhook_secret=SECRET,
        dispatch_in_serve=False,
    )
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    with served(create_app(settings, bot=bot)) as base:
        before = scrape(f"{base}/metrics")

        def post(update: dict[str, Any]) -> None:
            response = http_client.post(base + TELEGRAM_WEBHOOK, json=update, headers=headers)
            assert response.status_code == 200

        post({"update_id": 1, **fake_telegram.message("who leads health?", user_id=31)})
        post({"update_id": 2, **fake_telegram.message("/help", user_id=31)})
        post(
            {
                "update_id": 3,
                **fake_telegram.message("what is provider of last resort?", user_id=31),
            }
        )
        fake_telegram.wait_sent(31, 3)
        post({"update_id": 4, "message": 7})  # stored, then answering it raises
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            after = scrape(f"{base}/metrics")
            errors = {"platform": "telegram", "stage": "answer"}
            failed = value(after, "clusterbot_handler_errors_total", **errors) > value(
                before, "clusterbot_handler_errors_total", **errors
            )
            if failed and value(after, "clusterbot_inbox_events", status="done") == 3:
                break  # every outcome recorded
            time.sleep(0.1)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("clusterbot_messages_total", platform="telegram", intent="who_leads") == 1
    assert moved("clusterbot_messages_total", platform="telegram", intent="help") == 1
    # The broken handler's message is an error, not an answered message.
    assert moved("clusterbot_messages_total", platform="telegram", intent="concept") == 0
    assert moved("clusterbot_handler_errors_total", platform="telegram", stage="handler") == 1
    assert moved("clusterbot_handler_errors_total", platform="telegram", stage="answer") == 1
    # Every event answered (the error reply too) is timed; the one that raised is not.
    assert moved("clusterbot_answer_seconds_count", platform="telegram") == 3
    assert moved("clusterbot_answer_seconds_bucket", platform="telegram", le="+Inf") == 3
    assert moved("clusterbot_answer_seconds_sum", platform="telegram") > 0
    # The database's gauges are read at the scrape: the update that raised waits to be retried.
    assert value(after, "clusterbot_database_up") == 1
    assert value(after, "clusterbot_inbox_events", status="pending") == 1
    assert value(after, "clusterbot_inbox_events", status="done") == 3
    assert value(after, "process_resident_memory_bytes") > 0


def test_with_a_metrics_token_only_its_bearer_reads_metrics(
    fake_telegram: FakeTelegram, bot: Bot
) -> None:
    settings = fake_telegram.bot_settings(dispatch_in_serve=False, metrics_token="scrape-me-7f3a")
    with served(create_app(settings, bot=bot)) as base:
        url = f"{base}/metrics"
        refused = httpx.get(url, timeout=10)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "clusterbot_" not in refused.text
        wrong = {"Authorization": "Bearer scrape-me-0000"}
        assert httpx.get(url, headers=wrong, timeout=10).status_code == 401
        odd = {"Authorization": "Bearer été".encode("latin-1")}  # not ASCII: refused, no 500
        assert httpx.get(url, headers=odd, timeout=10).status_code == 401
        right = {"Authorization": "Bearer scrape-me-7f3a"}
        answered = httpx.get(url, headers=right, timeout=10)
        assert answered.status_code == 200
        assert "clusterbot_inbox_events" in answered.text
        assert httpx.get(f"{base}/healthz", timeout=10).text == "ok"  # probes need no token


@contextlib.contextmanager
def _dispatch_metrics(
    migrated_db: Path, tmp_path: Path, host: str, token: str | None = None
) -> Iterator[str]:
    """`clusterbot dispatch`'s own metrics server, on a copy of a migrated database: its URL."""
    db = tmp_path / "dispatch-metrics.db"
    db.write_bytes(migrated_db.read_bytes())
    port = free_socket().getsockname()[1]
    stop = serve_metrics(f"{host}:{port}", make_engine(f"sqlite:///{db}"), token)
    try:
        yield f"http://{host}:{port}/metrics"
    finally:
        stop()


def test_the_dispatchers_metrics_server_also_wants_the_token(
    migrated_db: Path, tmp_path: Path
) -> None:
    """`clusterbot dispatch` serves its metrics on its own port: the same token guards it."""
    with _dispatch_metrics(migrated_db, tmp_path, "127.0.0.1", "scrape-me-7f3a") as url:
        refused = httpx.get(url, timeout=10)
        assert refused.status_code == 401 and "clusterbot_" not in refused.text
        odd = {"Authorization": "Bearer été".encode("latin-1")}
        assert httpx.get(url, headers=odd, timeout=10).status_code == 401
        right = {"Authorization": "Bearer scrape-me-7f3a"}
        answered = httpx.get(url, headers=right, timeout=10)
        assert answered.status_code == 200
        assert "clusterbot_inbox_oldest_pending_seconds" in answered.text


@pytest.mark.skipif(not socket.has_ipv6, reason="this machine has no IPv6")
def test_the_dispatchers_metrics_server_listens_on_an_ipv6_address(
    migrated_db: Path, tmp_path: Path
) -> None:
    with _dispatch_metrics(migrated_db, tmp_path, "[::1]") as url:
        assert httpx.get(url, timeout=10).status_code == 200


def _dispatch(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "dispatch"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _metrics_env(
    db_url: str, fake_telegram: FakeTelegram, port: int, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
    return {
        **env,
        "CLUSTERBOT_DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake_telegram.url,
        "CLUSTERBOT_METRICS_ADDRESS": f"127.0.0.1:{port}",
        "CLUSTERBOT_LOG_LEVEL": "WARNING",
        **extra,
    }


def _scrape_when(url: str, proc: subprocess.Popen[str], timeout: float = 60.0) -> Samples:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()[-2000:] if proc.stderr else ""
        with contextlib.suppress(httpx.HTTPError):
            return scrape(url)
        time.sleep(0.1)
    raise AssertionError("the dispatcher's metrics server did not answer")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_a_dispatch_process_counts_every_outcome(
    tmp_path: Path, migrated_db: Path, fake_telegram: FakeTelegram
) -> None:
    hook = FakeWebhook(SECRET).start()
    db = tmp_path / "metrics.db"
    db.write_bytes(migrated_db.read_bytes())
    engine = make_engine(f"sqlite:///{db}")
    fake_telegram.blocked.add(77)
    fake_telegram.fail_429["sendMessage"] = [1]  # the first send is held back once
    hook.script = [500, 500]  # a webhook fails twice: retried once, then dead
    notify(engine, ["telegram:1001", "telegram:5", "telegram:77"], tag="tg")
    notify(engine, [f"webhook:{hook.url}"], tag="hook")
    notify(engine, ["slack:T1:C1"], tag="waits")  # no Slack sender here: stays pending
    with session_scope(engine) as s:
        row = s.exec(select(Notification).where(col(Notification.key) == "waits:0")).one()
        row.due_at = utcnow() - timedelta(seconds=120)
    port = free_socket().getsockname()[1]
    env = _metrics_env(
        f"sqlite:///{db}",
        fake_telegram,
        port,
        CLUSTERBOT_WEBHOOK_SECRET=SECRET,
        CLUSTERBOT_OUTBOX_BACKOFF_SECONDS="0.05",
        CLUSTERBOT_OUTBOX_MAX_ATTEMPTS="2",
    )
    proc = _dispatch(env)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        _scrape_when(url, proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Session(engine) as s:
                states = {r.key: r.status for r in s.exec(select(Notification)).all()}
            if list(states.values()).count("pending") == 1:
                break
            time.sleep(0.2)
        got = scrape(url)
    finally:
        _stop(proc)
        hook.stop()
        engine.dispose()
    assert states == {
        "tg:0": "sent",
        "tg:1": "sent",
        "tg:2": "failed",
        "hook:0": "dead",
        "waits:0": "pending",
    }
    assert value(got, "clusterbot_outbox_deliveries_total", platform="telegram") == 2
    assert value(got, "clusterbot_outbox_rate_limited_total", platform="telegram") == 1
    assert value(got, "clusterbot_outbox_undeliverable_total", platform="telegram") == 1
    assert value(got, "clusterbot_outbox_retries_total", platform="webhook") == 1
    assert value(got, "clusterbot_outbox_dead_total", platform="webhook") == 1
    assert value(got, "clusterbot_dispatcher_rounds_total") > 1
    rows = "clusterbot_outbox_rows"
    assert value(got, rows, status="sent", platform="telegram") == 2
    assert value(got, rows, status="failed", platform="telegram") == 1
    assert value(got, rows, status="dead", platform="webhook") == 1
    assert value(got, rows, status="pending", platform="slack") == 1
    oldest = "clusterbot_outbox_oldest_pending_seconds"
    assert value(got, oldest, platform="slack") >= 120
    assert value(got, oldest, platform="telegram") == 0


def _sent(samples: Samples) -> float:
    return value(samples, "clusterbot_outbox_deliveries_total", platform="telegram")


def _sent_rows(samples: Samples) -> float:
    return value(samples, "clusterbot_outbox_rows", status="sent", platform="telegram")


def _all_counted(got: list[Samples], total: int) -> bool:
    """Every delivery counted by its process, and committed (the row gauges read the database)."""
    return sum(map(_sent, got)) >= total and min(map(_sent_rows, got)) >= total


@pytest.mark.postgres
def test_two_dispatch_processes_each_count_their_own(fake_telegram: FakeTelegram) -> None:
    """Per-process registries: each process counts what it did; the sum is the whole."""
    total = 300
    raised = FakeTelegram(limits=Limits(per_second=5000, private_interval=0.0)).start()
    try:
        for engine in _postgres_engine():
            upgrade(engine)
            notify(engine, [f"telegram:{20_000 + i}" for i in range(total)])
            db_url = engine.url.render_as_string(hide_password=False)
            ports = [free_socket().getsockname()[1] for _ in range(2)]
            procs = [
                _dispatch(_metrics_env(db_url, raised, p, CLUSTERBOT_TELEGRAM_NOTIFY_RATE="100"))
                for p in ports
            ]
            try:
                urls = [f"http://127.0.0.1:{p}/metrics" for p in ports]
                for url, proc in zip(urls, procs, strict=True):
                    _scrape_when(url, proc)
                raised.wait_for(lambda _: len(raised.delivered) >= total, timeout=60)
                # The last outcomes are counted and committed just after they went out.
                deadline = time.monotonic() + 30
                got = [scrape(url) for url in urls]
                while not _all_counted(got, total) and time.monotonic() < deadline:
                    time.sleep(0.1)
                    got = [scrape(url) for url in urls]
            finally:
                for proc in procs:
                    _stop(proc)
            sent = [_sent(g) for g in got]
            assert sum(sent) == total and all(n > 0 for n in sent), sent
            # The database's gauges are the same from both (Prometheus: max, not sum).
            assert [_sent_rows(g) for g in got] == [total, total]
    finally:
        raised.stop()
