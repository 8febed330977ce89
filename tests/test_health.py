"""Probes: /healthz, /readyz and `clusterbot doctor`, against real servers and processes.

The PostgreSQL test starts a server of its own and stops it under a running `clusterbot
serve`: /readyz must say 503 while it is down and 200 once it is back, with no restart.
"""

import asyncio
import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot import migrations
from bot.app import Bot, dispatcher_for
from bot.db import _alembic_config, make_engine
from bot.settings import Settings
from bot.web import create_app
from knowledge import KnowledgeBase
from tests.fakes.server import served
from tests.fakes.slack_api import TOKEN as SLACK_TOKEN
from tests.fakes.slack_api import FakeSlack, signed_dm
from tests.fakes.telegram_api import TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegram
from tests.serve_process import start_serve
from tests.throwaway_postgres import Throwaway

ROOT = Path(__file__).parent.parent
HEAD = migrations.head()
BEFORE = f"{int(HEAD) - 1:04d}"  # the migration before the latest
PLATFORM_VARS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "WHATSAPP_TOKEN",  # WhatsApp needs all four of its settings: without the token it is off
    "CLUSTERBOT_WEBHOOK_SECRET",
)


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PLATFORM_VARS}
    return {**env, "CLUSTERBOT_LOG_LEVEL": "WARNING", **extra}


def readyz(base: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{base}/readyz", timeout=10)
    return response.status_code, response.json()


def wait_ready(
    base: str, want: Callable[[int, dict[str, Any]], bool], timeout: float
) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    seen: tuple[int, dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            seen = readyz(base)
            if want(*seen):
                return seen
        time.sleep(0.2)
    raise AssertionError(f"/readyz never turned as wanted; last: {seen}")


@pytest.fixture
def postgres() -> Iterator[Throwaway]:
    server = Throwaway()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def test_readyz_follows_a_postgres_that_stops_and_comes_back(
    postgres: Throwaway, tmp_path: Path
) -> None:
    telegram = FakeTelegram().start()
    env = base_env(
        CLUSTERBOT_DATABASE_URL=postgres.url,
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_API_URL=telegram.url,
    )
    running = start_serve(env, tmp_path / "serve.log", cwd=tmp_path)
    proc, base = running.proc, running.base
    try:
        _, body = wait_ready(base, lambda status, _: status == 200, 60)
        assert body["ready"] is True
        assert body["checks"]["telegram"] == "ok: getMe: @clusterbot_test_bot"
        assert body["checks"]["migrations"].startswith("ok: at ")
        assert body["checks"]["dispatcher"].startswith("ok: heartbeat ")

        postgres.stop()
        _, body = wait_ready(base, lambda status, _: status == 503, 30)
        assert body["ready"] is False
        assert body["reason"].startswith("database: not answering"), body
        assert httpx.get(f"{base}/healthz", timeout=5).text == "ok"  # the process answers

        postgres.start()
        _, body = wait_ready(base, lambda status, _: status == 200, 60)
        assert body["ready"] is True
        assert proc.poll() is None, "serve restarted or died"
    finally:
        try:
            running.stop(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        telegram.stop()


def test_a_database_restart_between_two_probes_is_no_outage(
    postgres: Throwaway, kb: KnowledgeBase
) -> None:
    """The pool still holds the connection the restart killed: /readyz asks again, once."""
    settings = Settings(
        database_url=postgres.url, dispatch_in_serve=False, ready_dispatcher_seconds=0
    )
    bot = Bot(settings, kb=kb)  # no platform, no dispatcher: nothing else uses the pool
    assert bot.engine is not None
    try:
        with served(create_app(settings, bot=bot)) as base:
            assert readyz(base)[0] == 200
            postgres.stop()
            postgres.start()
            status, body = readyz(base)
            assert status == 200, body
    finally:
        bot.engine.dispose()


def test_readyz_names_each_failure_and_turns_ready_when_fixed(
    fake_slack: FakeSlack, bot: Bot, engine: Engine
) -> None:
    settings = fake_slack.bot_settings(dispatch_in_serve=False)
    with served(create_app(settings, bot=bot)) as base:
        status, body = wait_ready(base, lambda _, b: "not checked" not in str(b), 15)
        # No dispatcher runs (not in serve, none elsewhere): not ready, and it says why.
        assert status == 503
        assert body["reason"] == "dispatcher: no dispatcher has run on this database"
        assert body["checks"]["slack"] == "ok: auth.test: team T0001, bot UBOT"
        assert body["checks"]["database"].startswith("ok: sqlite answers")

        # A dispatcher round (as `clusterbot dispatch` runs it) writes its heartbeat.
        dispatcher = dispatcher_for(settings, engine, bot.renderer, bot.kb, senders=[])
        asyncio.run(dispatcher.run_once())
        status, body = readyz(base)
        assert (status, body["ready"]) == (200, True), body
        # A second or two on a loaded machine; stale would be over the 60 s allowed.
        assert re.match(r"ok: heartbeat [0-5] s ago", body["checks"]["dispatcher"]), body

        # The code is newer than the database: not ready until `clusterbot db upgrade`.
        command.downgrade(_alembic_config(engine), BEFORE)
        status, body = readyz(base)
        assert status == 503
        assert body["reason"].startswith(f"migrations: at {BEFORE}; this code needs {HEAD}")


def test_readyz_is_not_ready_while_a_platform_refuses_our_credentials(
    fake_slack: FakeSlack, bot: Bot
) -> None:
    fake_slack.revoked.add(SLACK_TOKEN)
    with served(create_app(fake_slack.bot_settings(dispatch_in_serve=False), bot=bot)) as base:
        status, body = wait_ready(base, lambda _, b: "not checked" not in str(b), 15)
    assert status == 503
    assert body["checks"]["slack"] == "fail: auth.test refused: invalid_auth"
    assert SLACK_TOKEN not in json.dumps(body)


def doctor(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.returncode, out.stdout + out.stderr


def test_doctor_prints_each_check_with_what_to_do(tmp_path: Path, migrated_db: Path) -> None:
    db = tmp_path / "doctor.db"
    db.write_bytes(migrated_db.read_bytes())
    url = f"sqlite:///{db}"
    telegram = FakeTelegram().start()
    try:
        env = base_env(
            CLUSTERBOT_DATABASE_URL=url,
            TELEGRAM_BOT_TOKEN="999999:not-the-token",
            TELEGRAM_API_URL=telegram.url,
        )
        engine = make_engine(url)
        command.downgrade(_alembic_config(engine), BEFORE)
        code, out = doctor(env, tmp_path)
        assert code == 1
        assert "OK    database" in out
        assert f"FAIL  migrations  at {BEFORE}; this code needs {HEAD}" in out
        assert "-> run: clusterbot db upgrade" in out
        assert "FAIL  telegram    getMe refused: Unauthorized" in out
        assert "-> check TELEGRAM_BOT_TOKEN" in out
        assert "not-the-token" not in out
        assert out.rstrip().endswith("not ready: 2 checks failed"), out

        command.upgrade(_alembic_config(engine), "head")
        settings = Settings(database_url=url)
        from bot.render import renderer_for
        from knowledge import LANGUAGES, load

        asyncio.run(
            dispatcher_for(settings, engine, renderer_for(LANGUAGES), load(), []).run_once()
        )
        engine.dispose()
        code, out = doctor({**env, "TELEGRAM_BOT_TOKEN": TG_TOKEN}, tmp_path)
        assert code == 0, out
        assert "OK    telegram    getMe: @clusterbot_test_bot" in out
        assert "OK    dispatcher  heartbeat" in out
        assert out.rstrip().endswith("ready")
    finally:
        telegram.stop()


def test_doctor_when_the_database_is_away(tmp_path: Path) -> None:
    env = base_env(CLUSTERBOT_DATABASE_URL=f"sqlite:///{tmp_path}")  # a directory: unopenable
    code, out = doctor(env, tmp_path)
    assert code == 1
    assert "FAIL  database    not answering" in out
    assert "-> check CLUSTERBOT_DATABASE_URL" in out
    assert "WARN  platforms   none configured" in out


def test_doctor_reports_a_missing_sqlite_file_and_does_not_create_it(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    code, out = doctor(base_env(CLUSTERBOT_DATABASE_URL=f"sqlite:///{db}"), tmp_path)
    assert code == 1
    assert f"FAIL  database    no database file at {db}" in out
    assert "to start a new database there, run: clusterbot db upgrade" in out
    assert "SKIP  migrations  there is no database" in out
    assert not db.exists(), "doctor created the database it was asked about"


def _end_each_while_idle(url: str) -> set[int]:
    """End every other connection to the database (the test's own server), each while idle.

    That is what a restart does to a pool's connections; one at work is waited for, since a
    query cut mid-way is a failure of its own (and ending only those idle at one instant
    missed the one a claim held, so the test passed without pool_pre_ping now and then).
    Returns the ended connections' pids.
    """
    others = (
        "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND datname = current_database() AND backend_type = 'client backend'"
    )
    engine = make_engine(url)
    try:
        # Autocommit: in a transaction, pg_stat_activity would show one snapshot throughout.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            pids = set(admin.execute(text(f"SELECT pid {others}")).scalars())
            deadline = time.monotonic() + 10
            while left := pids & set(admin.execute(text(f"SELECT pid {others}")).scalars()):
                assert time.monotonic() < deadline, f"never idle: {left}"
                admin.execute(
                    text(
                        f"SELECT pg_terminate_backend(pid) {others} AND state = 'idle' "
                        "AND pid = ANY(:pids)"
                    ),
                    {"pids": list(left)},
                )
                time.sleep(0.02)
    finally:
        engine.dispose()
    return pids


def test_connections_a_restart_killed_fail_neither_a_request_nor_the_worker(
    postgres: Throwaway, kb: KnowledgeBase, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """The pool still holds the connections a restart (or failover) killed: none may fail.

    They are ended server-side without an outage (pg_terminate_backend, what a restart does
    to them): whichever comes first, a Slack event or the inbox worker's next claim, would
    meet a dead connection without pool_pre_ping, and the event be refused or the claim fail.
    (A restart the worker noticed while the database was down has emptied the pool already.)
    """
    settings = fake_slack.bot_settings(dispatch_in_serve=False).model_copy(
        update={"database_url": postgres.url}
    )
    bot = Bot(settings, kb=kb)
    assert bot.engine is not None

    def answered(calls: list[Any]) -> set[str]:
        return {c.channel for c in calls if c.method == "chat.postMessage"}

    try:
        with served(create_app(settings, bot=bot)) as base:

            def dm(n: int) -> int:
                body, headers = signed_dm(n, "RESTART")
                url = f"{base}/slack/events"
                return httpx.post(url, content=body, headers=headers, timeout=30).status_code

            assert dm(1) == 200
            fake_slack.wait_for(lambda calls: "D000001" in answered(calls))
            assert _end_each_while_idle(postgres.url), "the pool held nothing: nothing tested"
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                time.sleep(1.2)  # the inbox worker looks for work twice meanwhile
                assert dm(2) == 200  # not a 5xx that Slack would have to resend
                fake_slack.wait_for(lambda calls: "D000002" in answered(calls))
            failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
            assert failed == []
    finally:
        bot.engine.dispose()
