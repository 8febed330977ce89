"""Logs: one line per event, JSON on request, the ids that say what it is about; no message text
at INFO and no token or secret at any level. Real `clusterbot` processes, their stderr grepped.
"""

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from bot import logs
from bot.db import make_engine
from tests.fakes.server import eventually
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, signed_dm
from tests.fakes.slack_api import TOKEN as SLACK_TOKEN
from tests.fakes.telegram_api import TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegram
from tests.serve_process import start_serve
from tests.test_dispatch_e2e import notify

ROOT = Path(__file__).parent.parent
WORDS = "Quokka-7731 who leads health?"  # what a person wrote: personal data
SECRETS = (TG_TOKEN, SLACK_TOKEN, SIGNING_SECRET)
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def _env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
    return {**env, "CLUSTERBOT_DATABASE_URL": f"sqlite:///{db}", **extra}


def _serve_and_talk(tmp_path: Path, migrated_db: Path, level: str, style: str) -> str:
    """Serve Telegram and Slack, get one message answered on each; the process's stderr."""
    db = tmp_path / f"{level}.db"
    db.write_bytes(migrated_db.read_bytes())
    telegram, slack = FakeTelegram().start(), FakeSlack().start()
    env = _env(
        db,
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_API_URL=telegram.url,
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        CLUSTERBOT_LOG_LEVEL=level,
        CLUSTERBOT_LOG_FORMAT=style,
    )
    log = tmp_path / f"serve-{level}-{style}.log"
    try:
        running = start_serve(env, log, cwd=tmp_path)
        try:
            telegram.push(telegram.message(WORDS, user_id=5))
            body, headers = signed_dm(1, "LOGS", WORDS)
            events = f"{running.base}/slack/events"
            assert httpx.post(events, content=body, headers=headers).status_code == 200
            telegram.wait_sent(5, 1)
            slack.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))
            # Each answer is recorded, and logged, just after it went out.
            eventually(lambda: log.read_text().count(" answered in ") >= 2, "both answers logged")
        finally:
            running.stop()
    finally:
        telegram.stop()
        slack.stop()
    return log.read_text()


def test_json_lines_carry_platform_and_event_id_and_no_message_text(
    tmp_path: Path, migrated_db: Path
) -> None:
    out = _serve_and_talk(tmp_path, migrated_db, "INFO", "json")
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]  # each one JSON
    assert {"ts", "level", "logger", "msg"} <= set(lines[0])
    answered = [x for x in lines if x["msg"].startswith("inbox: ") and "answered" in x["msg"]]
    assert {(x["platform"], x["event_id"]) for x in answered} == {
        ("telegram", "1"),
        ("slack", "EvLOGS000001"),
    }
    assert "Quokka" not in out  # no message text at INFO
    for secret in SECRETS:
        assert secret not in out


def test_debug_text_lines_are_one_per_event_and_never_show_a_token(
    tmp_path: Path, migrated_db: Path
) -> None:
    out = _serve_and_talk(tmp_path, migrated_db, "DEBUG", "text")
    lines = out.splitlines()
    assert len(lines) > 50
    for line in lines:
        assert STAMP.match(line), line[:200]
    # Libraries log the URLs they call at DEBUG, and Telegram's carry the token: replaced.
    assert any("/bot[redacted]/getMe" in line for line in lines)
    for secret in SECRETS:
        assert secret not in out


def test_a_notification_line_names_its_proposal(tmp_path: Path, migrated_db: Path) -> None:
    db = tmp_path / "dispatch.db"
    db.write_bytes(migrated_db.read_bytes())
    engine = make_engine(f"sqlite:///{db}")
    notify(engine, ["telegram:4242"], tag="endorsed:7:sub")  # key endorsed:7:sub:0
    engine.dispose()
    telegram = FakeTelegram().start()
    try:
        env = _env(
            db,
            TELEGRAM_BOT_TOKEN=TG_TOKEN,
            TELEGRAM_API_URL=telegram.url,
            CLUSTERBOT_LOG_LEVEL="INFO",
            CLUSTERBOT_LOG_FORMAT="json",
        )
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "dispatch", "--once"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        telegram.stop()
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")]
    [sent] = [x for x in lines if x["msg"].startswith("outbox: sent")]
    assert sent["notification"] == "endorsed:7:sub:0"
    assert sent["proposal_id"] == "7"
    assert sent["platform"] == "telegram"
    assert TG_TOKEN not in done.stderr


def test_redaction_of_secrets_and_credential_shapes() -> None:
    stream = io.StringIO()
    handler = logs.setup("INFO", "json", ["s3cret-database-pw"], stream=stream)
    assert handler is not None
    try:
        log = logging.getLogger("clusterbot.test")
        log.warning("slack %s app %s", "xoxb-1111-2222-abcdefABCDEF", "xapp-1-A0-99-ffee")
        log.warning(
            "telegram https://api.telegram.org/bot8123456789:AAHk2b3c4d5e6f7g8h9i0jKLMNOPQRSTUVW/getMe"
        )
        log.warning('"GET /slack/oauth_redirect?code=12345.6789.abcdef&state=xyz HTTP/1.1" 200')
        log.warning("connect postgresql://bot:s3cret-database-pw@db/x")
        try:
            raise ValueError("token xoxb-9999-8888-zzzz in an exception")
        except ValueError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    for leaked in ("xoxb-", "xapp-1", "AAHk2b3", "12345.6789", "state=xyz", "s3cret"):
        assert leaked not in out, out
    lines = out.splitlines()
    assert len(lines) == 5
    assert "Traceback" in json.loads(lines[-1])["exc"]
