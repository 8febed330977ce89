"""End-to-end: the real Bolt AsyncApp, served by bot.web under uvicorn, against a Slack stand-in.

Requests are signed the way Slack signs them and sent over real HTTP on 127.0.0.1; assertions
read what a user would see: the messages, buttons and views recorded by the stand-in.
"""

import asyncio
import hashlib
import hmac
import io
import itertools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import docx
import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import inbox
from bot.adapters.slack.adapter import SHARE_ACTION
from bot.adapters.slack.blocks import MAX_BLOCKS
from bot.adapters.slack.mrkdwn import MAX_SECTION, ZWSP, plain_text, to_mrkdwn
from bot.adapters.slack.oauth import ThreadedInstallationStore
from bot.adapters.slack.routes import SLACK_EVENTS, SLACK_INSTALL, SLACK_OAUTH_REDIRECT
from bot.adapters.slack.sender import SlackSender
from bot.app import Bot
from bot.core import Context, Incoming, Reply
from bot.db import make_engine, session_scope
from bot.models import InboxEvent, Subscription, utcnow
from bot.outbox import RetryLater, Undeliverable
from bot.settings import Settings
from bot.web import create_app
from knowledge import KnowledgeBase
from tests.fakes.server import eventually, http_client, served
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    TEAM,
    TOKEN,
    Call,
    FakeSlack,
)

_ids = itertools.count(1)


def signed(
    body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """The headers Slack sends: a timestamp and the HMAC signature of timestamp and body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def callback(event: dict[str, Any], event_id: str, team: str = TEAM) -> str:
    """An Events API delivery of `event` in workspace `team`, as Slack sends it."""
    return json.dumps(
        {
            "token": "x",
            "team_id": team,
            "api_app_id": "A0001",
            "event": {"event_ts": event.get("ts", "1.1"), **event},
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
        }
    )


def post_signed(url: str, body: str) -> httpx.Response:
    """POST a JSON body to the app's events URL, signed with the app's secret."""
    headers = {"Content-Type": "application/json", **signed(body)}
    return http_client.post(url + SLACK_EVENTS, content=body, headers=headers)


@dataclass
class Slack:
    """Talk to the app as Slack does; read what it sent through the stand-in."""

    fake_slack: FakeSlack
    url: str

    def post(self, body: str, ctype: str, headers: dict[str, str] | None = None) -> httpx.Response:
        all_headers = {"Content-Type": ctype, **signed(body), **(headers or {})}
        return http_client.post(
            self.url + SLACK_EVENTS, content=body, headers=all_headers, timeout=10
        )

    def command(self, text: str, user: str = "U0001", channel: str = "C0001") -> list[Call]:
        """Run `/cluster text`; returns the response_url posts made for it."""
        key = f"cmd{next(_ids)}"
        body = urlencode(
            {
                "token": "x",
                "team_id": TEAM,
                "team_domain": "coord",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": "amina",
                "command": "/cluster",
                "text": text,
                "api_app_id": "A0001",
                "response_url": self.fake_slack.response_url(key),
                "trigger_id": "1.2.3",
            }
        )
        response = self.post(body, "application/x-www-form-urlencoded")
        assert response.status_code == 200, response.text
        self.fake_slack.wait_for(lambda calls: any(c.params.get("key") == key for c in calls))
        time.sleep(0.05)  # a multi-message answer posts several times
        return [c for c in self.fake_slack.of("response") if c.params.get("key") == key]

    def event(
        self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None
    ) -> httpx.Response:
        body = callback(event, event_id or f"Ev{next(_ids):08d}")
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = self.post(body, "application/json", headers if retry else None)
        assert response.status_code == 200, response.text
        return response

    def dm(self, text: str, user: str = "U0001", **kw: Any) -> str:
        """A direct message; returns the text of the answer."""
        before = len(self.fake_slack.of("chat.postMessage", "D0001"))
        self.event(
            {
                "type": "message",
                "channel_type": "im",
                "channel": "D0001",
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
            },
            **kw,
        )
        return self.fake_slack.wait_calls("chat.postMessage", before + 1, "D0001")[before].text

    def press(
        self,
        action_id: str,
        value: str,
        user: str = "U0001",
        channel: str = "C0001",
        ephemeral: bool = True,
    ) -> str:
        """Press a button; returns the key of its response_url."""
        key = f"act{next(_ids)}"
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "coord"},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0001",
            "token": "x",
            "trigger_id": "1.2.3",
            "container": {"type": "message", "is_ephemeral": ephemeral, "channel_id": channel},
            "channel": {"id": channel, "name": "general"},
            "response_url": self.fake_slack.response_url(key),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        response = self.post(body, "application/x-www-form-urlencoded")
        assert response.status_code == 200, response.text
        return key


@pytest.fixture
def slack(fake_slack: FakeSlack, bot: Bot) -> Iterator[Slack]:
    with served(create_app(fake_slack.bot_settings(), bot=bot)) as url:
        yield Slack(fake_slack, url)


def test_stopping_the_app_ends_the_inbox_writer_s_thread(fake_slack: FakeSlack, bot: Bot) -> None:
    before = set(threading.enumerate())
    with served(create_app(fake_slack.bot_settings(), bot=bot)) as url:
        assert "UNICEF" in Slack(fake_slack, url).dm("who leads WASH?")
        writers = [
            t for t in set(threading.enumerate()) - before if t.name.startswith("inbox-writer")
        ]
        assert len(writers) == 1, writers
    assert not writers[0].is_alive()


def assert_no_ping(text: str) -> None:
    """Nothing in the text can reach Slack as a mention, a channel ping or a link."""
    tokens = re.findall(r"<[^>]*>", text)
    assert all(re.fullmatch(r"<https?://[^|<>]+\|[^<>]*>", t) for t in tokens), tokens


# ---- the slash command ----------------------------------------------------------------------


def test_slash_command_answers_privately_and_share_posts_it_visibly(slack: Slack) -> None:
    [answer] = slack.command("who leads WASH?")
    assert answer.params["response_type"] == "ephemeral"
    assert "UNICEF" in answer.text
    assert answer.params["text"]  # the notification fallback
    [(label, action_id, value)] = answer.buttons
    assert label == "Share in channel" and action_id == SHARE_ACTION
    assert not slack.fake_slack.of("chat.postMessage")  # nobody else saw it

    key = slack.press(SHARE_ACTION, value)
    [shared] = slack.fake_slack.wait_calls("chat.postMessage", 1, "C0001")
    assert shared.text == answer.text
    assert not shared.buttons
    slack.fake_slack.wait_for(lambda calls: any(c.params.get("key") == key for c in calls))
    [deleted] = [c for c in slack.fake_slack.of("response") if c.params.get("key") == key]
    assert deleted.params.get("delete_original") is True


def test_a_share_press_runs_only_shareable_commands(slack: Slack, bot: Bot) -> None:
    value = json.dumps({"q": "/subscribe Sudan health", "l": "en"})  # crafted, yet signed
    key = slack.press(SHARE_ACTION, value)
    slack.press(SHARE_ACTION, json.dumps({"q": "who leads WASH?", "l": "en"}))
    [shared] = slack.fake_slack.wait_calls("chat.postMessage", 1, "C0001")
    assert "UNICEF" in shared.text
    time.sleep(0.3)  # the crafted press had its chance
    assert len(slack.fake_slack.of("chat.postMessage", "C0001")) == 1
    assert not [c for c in slack.fake_slack.of("response") if c.params.get("key") == key]
    assert bot.engine is not None
    with Session(bot.engine) as session:
        assert not session.exec(select(Subscription)).all()  # nobody was subscribed


def test_an_over_long_message_gets_the_too_long_answer(slack: Slack) -> None:
    answer = slack.dm("who leads WASH? " + "x" * 40_000)
    assert "40016 characters long" in answer.replace(",", "")


def test_answers_that_change_something_offer_no_share_button(slack: Slack) -> None:
    [listed] = slack.command("proposals")
    assert SHARE_ACTION in [b[1] for b in listed.buttons]  # reading is safe to repeat
    [subscribed] = slack.command("subscribe Sudan health")
    assert subscribed.text.startswith("Subscribed")
    assert not subscribed.buttons  # sharing would run /subscribe again


def test_subcommands_map_to_bot_commands_and_buttons_reach_the_router(slack: Slack) -> None:
    [help_text] = slack.command("help")
    assert "/cluster clusters" in help_text.text and "who leads WASH?" in help_text.text
    assert "/cluster lead" in help_text.text

    [choose] = slack.command("lang")
    buttons = choose.buttons
    assert ("Français", "lang:fr", "lang:fr") in buttons
    assert SHARE_ACTION not in [b[1] for b in buttons]  # a step, not an answer to share

    key = slack.press("lang:fr", "lang:fr")
    slack.fake_slack.wait_for(lambda calls: any(c.params.get("key") == key for c in calls))
    [chosen] = [c for c in slack.fake_slack.of("response") if c.params.get("key") == key]
    assert chosen.params["response_type"] == "ephemeral"
    assert "Je répondrai en français" in chosen.text  # no capital in a sentence


def test_empty_command_shows_help(slack: Slack) -> None:
    [answer] = slack.command("   ")
    assert "/cluster clusters" in answer.text


# ---- events ----------------------------------------------------------------------------------


def test_app_mention_is_answered_in_its_thread(slack: Slack) -> None:
    slack.event(
        {
            "type": "app_mention",
            "user": "U0002",
            "channel": "C0009",
            "text": f"<@{BOT_USER}> who leads shelter?",
            "ts": "1700000000.000100",
        }
    )
    [answer] = slack.fake_slack.wait_calls("chat.postMessage", 1, "C0009")
    assert answer.params["thread_ts"] == "1700000000.000100"
    assert "Shelter" in answer.text and "UNHCR" in answer.text

    slack.event(  # a mention inside a thread answers in that thread
        {
            "type": "app_mention",
            "user": "U0002",
            "channel": "C0009",
            "text": f"<@{BOT_USER}> who leads WASH?",
            "ts": "1700000001.000200",
            "thread_ts": "1700000000.000100",
        }
    )
    answers = slack.fake_slack.wait_calls("chat.postMessage", 2, "C0009")
    assert answers[1].params["thread_ts"] == "1700000000.000100"


def test_direct_messages_are_a_private_chat_and_bots_edits_and_self_are_ignored(
    slack: Slack,
) -> None:
    assert "UNICEF" in slack.dm("who leads WASH?")
    assert slack.fake_slack.of("chat.postMessage", "D0001")[0].params.get("thread_ts") is None
    ignored = [
        {"user": "U0001", "subtype": "message_changed"},
        {"user": "U0003", "bot_id": "B0009"},
        {"user": BOT_USER},
        {"user": "U0001", "channel_type": "channel"},
    ]
    for extra in ignored:
        slack.event(
            {
                "type": "message",
                "channel_type": "im",
                "channel": "D0001",
                "text": "who leads WASH?",
                "ts": "1.2",
                **extra,
            }
        )
    assert "UNHCR" in slack.dm("who leads shelter?")
    time.sleep(0.2)
    assert len(slack.fake_slack.of("chat.postMessage", "D0001")) == 2


def test_a_chinese_question_is_answered_in_chinese(slack: Slack) -> None:
    answer = slack.dm("谁牵头水、环境卫生和个人卫生？")
    assert re.search(r"[\u4e00-\u9fff]{4}", answer), answer


def test_the_slack_locale_is_a_hint_when_the_question_shows_no_language(slack: Slack) -> None:
    slack.fake_slack.locales["U0077"] = "fr-FR"
    [answer] = slack.command("help", user="U0077")
    assert "Posez" in answer.text or "Demandez" in answer.text or "cluster" in answer.text
    assert answer.buttons[0][0] == "Partager dans le canal"


def _echo(msg: Incoming, ctx: Context) -> Reply:
    # A real template showing what the user typed (handlers cap theirs).
    return Reply("help/unknown_command.j2", {"command": msg.text}, "en", "x")


@pytest.fixture
def echoing(fake_slack: FakeSlack, bot: Bot) -> Iterator[Slack]:
    """The app with an /echo command that shows what the user typed."""
    bot.router.commands["echo"] = _echo
    with served(create_app(fake_slack.bot_settings(), bot=bot)) as url:
        yield Slack(fake_slack, url)


def test_user_text_is_shown_never_pinged(echoing: Slack) -> None:
    # As Slack sends it: what the user typed escaped, their @-mentions as tokens.
    typed = (
        "/echo <!channel> <!here> <@U0123> &lt;@U0456&gt; &lt;b&gt;bold&lt;/b&gt; &amp; 'q' \"d\""
    )
    answer = echoing.dm(typed)
    assert_no_ping(answer)
    assert "@channel" in answer and "@here" in answer and "@U0123" in answer
    assert "&lt;@U0456&gt;" in answer and "&lt;b&gt;bold&lt;/b&gt;" in answer
    assert "&amp;" in answer and "'q'" in answer and '"d"' in answer
    assert "&#39;" not in answer and "&#34;" not in answer


def test_formatting_links_and_overrides_a_user_typed_stay_text(echoing: Slack) -> None:
    echoing.dm("/echo *bold* _it_ ~s~ `code` snake_case http://evil.example \u202eevil")
    [post] = echoing.fake_slack.of("chat.postMessage", "D0001")
    [section] = [b for b in post.params["blocks"] if b["type"] == "section"]
    assert section["text"]["verbatim"] is True  # a bare URL or #channel is not linked
    text = section["text"]["text"]
    for marked in ("*bold*", "_it_", "~s~", "`code`"):
        mark, word = marked[0], marked[1:-1]
        assert f"{ZWSP}{mark}{ZWSP}{word}{ZWSP}{mark}{ZWSP}" in text, text
    assert "snake_case" in text and "http://evil.example" in text
    assert "\u202e" not in text and "<http" not in text


def test_a_long_answer_is_split_to_fit_slack(fake_slack: FakeSlack, bot: Bot) -> None:
    def long_reply(msg: Incoming, ctx: Context) -> Reply:
        return Reply("help/unknown_command.j2", {"command": "<b>&" + " word" * 40000}, "en", "x")

    bot.router.commands["long"] = long_reply
    with served(create_app(fake_slack.bot_settings(), bot=bot)) as url:
        slack = Slack(fake_slack, url)
        slack.event(
            {
                "type": "message",
                "channel_type": "im",
                "channel": "D0001",
                "user": "U0001",
                "text": "/long",
                "ts": "5.5",
            }
        )
        fake_slack.wait_calls("chat.postMessage", 2, "D0001")
        time.sleep(0.3)
    posts = fake_slack.of("chat.postMessage", "D0001")
    assert len(posts) == 2  # 200000 characters: 67 sections, two messages
    for post in posts:
        blocks = post.params["blocks"]
        assert len(blocks) <= MAX_BLOCKS
        assert all(len(b["text"]["text"]) <= MAX_SECTION for b in blocks)
        assert len(post.params["text"]) <= 3000
    whole = "".join(p.text for p in posts)
    assert whole.count("word") == 40000 and "&lt;b&gt;&amp;" in whole


def test_the_home_tab_shows_a_guide_in_the_users_language(slack: Slack) -> None:
    slack.fake_slack.locales["U0005"] = "es-ES"
    slack.event({"type": "app_home_opened", "user": "U0005", "channel": "D0005", "tab": "home"})
    [view] = slack.fake_slack.wait_calls("views.publish")
    assert view.params["user_id"] == "U0005"
    text = Call("x", {"blocks": view.params["view"]["blocks"]}).text
    assert view.params["view"]["type"] == "home"
    assert "/cluster" in text and "español" in text


# ---- security and retries ----------------------------------------------------------------------


def test_forged_and_stale_requests_are_refused(slack: Slack) -> None:
    body = urlencode({"command": "/cluster", "text": "help", "team_id": TEAM, "user_id": "U1"})
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = http_client.post(
        slack.url + SLACK_EVENTS, content=body, headers={**ctype, **signed(body, secret="wrong")}
    )
    stale = http_client.post(
        slack.url + SLACK_EVENTS,
        content=body,
        headers={**ctype, **signed(body, timestamp=int(time.time()) - 6 * 60)},
    )
    unsigned = http_client.post(slack.url + SLACK_EVENTS, content=body, headers=ctype)
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    time.sleep(0.2)
    assert not slack.fake_slack.of("response") and not slack.fake_slack.of("chat.postMessage")


def test_retries_and_repeated_event_ids_are_answered_once_even_after_a_restart(
    fake_slack: FakeSlack, kb: KnowledgeBase, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'slack.db'}"
    event = {
        "type": "app_mention",
        "user": "U0002",
        "channel": "C0042",
        "text": f"<@{BOT_USER}> who leads WASH?",
        "ts": "9.1",
    }
    engine = make_engine(url)
    app = create_app(fake_slack.bot_settings(), bot=Bot(Settings(), kb=kb, engine=engine))
    with served(app) as base:
        slack = Slack(fake_slack, base)
        slack.event(event, event_id="EvONCE")
        slack.event(event, event_id="EvONCE", retry=1)
        slack.event(event, event_id="EvONCE")
        fake_slack.wait_calls("chat.postMessage", 1, "C0042")
        time.sleep(0.3)
    engine.dispose()
    engine = make_engine(url)  # a new process on the same database
    app = create_app(fake_slack.bot_settings(), bot=Bot(Settings(), kb=kb, engine=engine))
    with served(app) as base:
        Slack(fake_slack, base).event(event, event_id="EvONCE", retry=2)
        time.sleep(0.3)
    engine.dispose()
    assert len(fake_slack.of("chat.postMessage", "C0042")) == 1


def test_an_event_a_dead_process_stored_is_answered_after_a_restart(
    fake_slack: FakeSlack, bot: Bot, engine: Engine
) -> None:
    event = {
        "type": "app_mention",
        "user": "U0002",
        "channel": "C0043",
        "text": f"<@{BOT_USER}> who leads WASH?",
        "ts": "9.2",
    }
    body = {"type": "event_callback", "team_id": TEAM, "event_id": "EvLOST", "event": event}
    payload = {"body": body, "bot_user_id": BOT_USER}
    inbox.put(engine, "slack", "EvLOST", f"slack:{TEAM}:C0043", "mention", payload)
    with session_scope(engine) as session:  # acknowledged, claimed, then the process died
        session.connection().execute(
            update(InboxEvent).values(lease_until=utcnow() + timedelta(minutes=5))
        )
    with served(create_app(fake_slack.bot_settings(), bot=bot)) as url:
        [answer] = fake_slack.wait_calls("chat.postMessage", 1, "C0043")
        assert answer.params["thread_ts"] == "9.2" and "UNICEF" in answer.text
        Slack(fake_slack, url).event(event, event_id="EvLOST", retry=3)  # Slack's late retry
        time.sleep(0.3)
    assert len(fake_slack.of("chat.postMessage", "C0043")) == 1
    assert inbox.counts(engine) == {"pending": 0, "done": 1, "dead": 0}


def test_an_uninstall_with_one_workspaces_token_is_logged_for_the_operator(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="clusterbot"):
        assert slack.event({"type": "app_uninstalled"}).status_code == 200
    assert any("SLACK_BOT_TOKEN no longer works" in r.getMessage() for r in caplog.records)


def test_an_event_the_database_refuses_is_refused_so_slack_resends(
    slack: Slack, bot: Bot, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with engine.begin() as conn:  # the inbox cannot be written: like a full or read-only disk
        conn.exec_driver_sql("ALTER TABLE inboxevent RENAME TO inboxevent_away")
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": "EvREFUSED",
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": "D0001",
                "user": "U0001",
                "text": "who leads WASH?",
                "ts": "3.3",
            },
        }
    )
    assert slack.post(body, "application/json").status_code >= 500
    [line] = [r for r in caplog.records if "refused so that Slack resends" in r.getMessage()]
    assert line.exc_info is None
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE inboxevent_away RENAME TO inboxevent")
    assert slack.post(body, "application/json").status_code == 200  # Slack's retry
    [answer] = slack.fake_slack.wait_calls("chat.postMessage", 1, "D0001")
    assert "UNICEF" in answer.text


def test_a_rate_limited_reply_is_retried(slack: Slack) -> None:
    slack.fake_slack.fail_429["chat.postMessage"] = [1]
    answer = slack.dm("who leads WASH?")
    assert "UNICEF" in answer
    assert len(slack.fake_slack.of("chat.postMessage:429")) == 1


def test_a_refused_reply_is_logged_and_the_app_carries_on(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake_slack.errors["C0404"] = "not_in_channel"
    slack.event(
        {
            "type": "app_mention",
            "user": "U0002",
            "channel": "C0404",
            "text": f"<@{BOT_USER}> who leads WASH?",
            "ts": "9.3",
        }
    )
    slack.fake_slack.wait_calls("chat.postMessage", 1, "C0404")
    assert "UNICEF" in slack.dm("who leads WASH?")
    # Chats are answered side by side: the DM's answer may come before the refusal is logged.
    eventually(
        lambda: any("not_in_channel" in r.getMessage() for r in caplog.records), "logged refusal"
    )


# ---- Socket Mode and OAuth ---------------------------------------------------------------------


def test_socket_mode_receives_events_and_acknowledges_them(
    fake_slack: FakeSlack, bot: Bot
) -> None:
    settings = fake_slack.bot_settings(slack_app_token=APP_TOKEN)
    with served(create_app(settings, bot=bot)):
        fake_slack.wait_for(lambda calls: any(c.method == "apps.connections.open" for c in calls))
        deadline = time.monotonic() + 10
        while not fake_slack.connected():
            assert time.monotonic() < deadline, "socket mode did not connect"
            time.sleep(0.02)
        envelope = fake_slack.push_envelope(
            {
                "token": "x",
                "team_id": TEAM,
                "api_app_id": "A0001",
                "type": "event_callback",
                "event_id": "EvSOCKET",
                "event_time": int(time.time()),
                "event": {
                    "type": "message",
                    "channel_type": "im",
                    "channel": "D0777",
                    "user": "U0001",
                    "text": "who leads WASH?",
                    "ts": "7.7",
                },
            }
        )
        [answer] = fake_slack.wait_calls("chat.postMessage", 1, "D0777")
        fake_slack.wait_for(
            lambda _: any(a.get("envelope_id") == envelope for a in fake_slack.acks)
        )
    assert "UNICEF" in answer.text
    assert fake_slack.of("apps.connections.open")[0].token == APP_TOKEN


def test_oauth_install_stores_the_workspace_and_answers_there(
    fake_slack: FakeSlack, bot: Bot
) -> None:
    settings = Settings(
        database_url="sqlite://",
        slack_client_id="111.222",
        slack_client_secret="client-secret",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
    )
    with served(create_app(settings, bot=bot)) as url:
        start = http_client.get(url + SLACK_INSTALL, follow_redirects=False)
        assert start.status_code == 200  # the "Add to Slack" page
        found = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', start.text)
        assert found, start.text
        target = found[1]
        state = parse_qs(urlparse(target.replace("&amp;", "&")).query)["state"][0]
        cookie = start.headers["set-cookie"].split(";", 1)[0]
        assert "secure" in start.headers["set-cookie"].lower()
        redirect = http_client.get(
            f"{url}{SLACK_OAUTH_REDIRECT}?code=abc&state={state}", headers={"Cookie": cookie}
        )
        assert redirect.status_code == 200, redirect.text
        assert fake_slack.of("oauth.v2.access")[0].params["code"] == "abc"

        # A replayed state is refused.
        again = http_client.get(
            f"{url}{SLACK_OAUTH_REDIRECT}?code=abc&state={state}", headers={"Cookie": cookie}
        )
        assert again.status_code >= 400

        # The installed workspace's events are answered with its own token.
        message = {"type": "message", "channel_type": "im", "channel": "D0002", "user": "U0009"}
        question = callback(
            {**message, "text": "who leads WASH?", "ts": "8.8"}, "EvOAUTH", "T0002"
        )
        assert post_signed(url, question).status_code == 200
        [answer] = fake_slack.wait_calls("chat.postMessage", 1, "D0002")
        assert answer.token == "xoxb-installed" and "UNICEF" in answer.text

        # Uninstalled, the workspace is forgotten: a notice to it is undeliverable.
        sender = SlackSender(
            bot.renderer,
            api_url=fake_slack.api_url,
            installations=ThreadedInstallationStore(bot.engine),
        )
        notice = Reply("help/lang_set.j2", {"native": "English", "code": "en"}, "en", "x")
        asyncio.run(sender.send("slack:T0002:C0001", notice))  # installed: sent
        [sent] = fake_slack.of("chat.postMessage", "C0001")
        assert sent.token == "xoxb-installed"
        uninstalled = callback({"type": "app_uninstalled"}, "EvGONE", "T0002")
        assert post_signed(url, uninstalled).status_code == 200
    sender = SlackSender(
        bot.renderer,
        api_url=fake_slack.api_url,
        installations=ThreadedInstallationStore(bot.engine),
    )
    with pytest.raises(Undeliverable, match="no installation for workspace T0002"):
        asyncio.run(sender.send("slack:T0002:C0001", notice))


# ---- notifications ------------------------------------------------------------------------------


def test_sender_delivers_and_reports_rate_limits_and_gone_channels(
    fake_slack: FakeSlack, bot: Bot
) -> None:
    asyncio.run(_sender_checks(fake_slack, bot))


async def _sender_checks(fake_slack: FakeSlack, bot: Bot) -> None:
    sender = SlackSender(bot.renderer, token=TOKEN, api_url=fake_slack.api_url)
    reply = Reply("help/lang_set.j2", {"native": "English", "code": "en"}, "en", "notification")
    assert sender.pace(f"slack:{TEAM}:C0001").min_interval >= 1.0
    fake_slack.enforce_pace = True  # Slack's one message a second per channel
    await sender.send(f"slack:{TEAM}:C0001", reply)
    [sent] = fake_slack.of("chat.postMessage", "C0001")
    assert "English" in sent.text and sent.token == TOKEN

    with pytest.raises(RetryLater) as later:
        await sender.send(f"slack:{TEAM}:C0001", reply)  # within a second of the last one
    assert later.value.seconds == 1

    fake_slack.fail_429["chat.postMessage"] = [7]
    with pytest.raises(RetryLater) as later:
        await sender.send(f"slack:{TEAM}:C0002", reply)
    assert later.value.seconds == 7

    fake_slack.fail_429["chat.postMessage"] = ["inf", "1e12", "-3", "nan", "soon"]
    waits = []
    for _ in range(5):  # numbers from outside never meet a datetime unclamped
        with pytest.raises(RetryLater) as later:
            await sender.send(f"slack:{TEAM}:C0002", reply)
        waits.append(later.value.seconds)
    assert waits == [3600, 3600, 0, 1, 1]

    fake_slack.errors["C0003"] = "not_in_channel"
    with pytest.raises(Undeliverable, match="not_in_channel"):
        await sender.send(f"slack:{TEAM}:C0003", reply)
    with pytest.raises(Undeliverable):
        await sender.send("telegram:42", reply)


# ---- pure pieces ---------------------------------------------------------------------------------


def test_incoming_text_is_resolved_to_what_the_user_typed() -> None:
    text = (
        f"<@{BOT_USER}> who leads <#C1|wash-haiti> for <@U2|amina>? <!channel> "
        "<https://example.org|site> &amp; &lt;b&gt; <!subteam^S1|@coord>"
    )
    assert plain_text(text, BOT_USER) == (
        "who leads #wash-haiti for @amina? @channel site & <b> @coord"
    )


def test_markup_becomes_mrkdwn_with_only_slacks_escaping() -> None:
    html = (
        '<b>WASH</b> <i>src</i> <code>x&lt;y</code> <a href="https://a.org/?q=1&amp;r=2">A&amp;B</a>'
        ' <a href="javascript:alert(1)">bad</a> &#39;&#34; &lt;!channel&gt;'
    )
    assert to_mrkdwn(html) == (
        "*WASH* _src_ `x&lt;y` <https://a.org/?q=1&amp;r=2|A&amp;B> bad (javascript:alert(1))"
        " '\" &lt;!channel&gt;"
    )


def test_slack_and_telegram_run_side_by_side(fake_slack: FakeSlack, bot: Bot) -> None:
    from tests.fakes.telegram_api import TOKEN as TG_TOKEN
    from tests.fakes.telegram_api import FakeTelegram

    telegram = FakeTelegram().start()
    try:
        settings = fake_slack.bot_settings(
            telegram_bot_token=TG_TOKEN, telegram_api_url=telegram.url
        )
        with served(create_app(settings, bot=bot)) as url:
            telegram.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls))
            telegram.push(telegram.message("who leads WASH?", user_id=5))
            assert "UNICEF" in telegram.wait_sent(5)[0].text
            assert "UNICEF" in Slack(fake_slack, url).dm("who leads WASH?")
    finally:
        telegram.stop()


def test_slack_settings_use_slacks_own_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert not Settings(database_url="sqlite://").slack_configured
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    assert not Settings(database_url="sqlite://").slack_configured  # no signing secret
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    settings = Settings(database_url="sqlite://")
    assert settings.slack_configured and settings.slack_api_url == "http://127.0.0.1:9/api/"
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    assert Settings(database_url="sqlite://").slack_configured  # many workspaces via OAuth


def test_requests_are_acknowledged_before_the_work_is_done(
    fake_slack: FakeSlack, bot: Bot
) -> None:
    release = threading.Event()

    def slow(msg: Incoming, ctx: Context) -> Reply:
        release.wait(20)  # the answer cannot exist until the test says so
        return Reply("help/empty.j2", {}, "en", "x")

    bot.router.commands["slow"] = slow
    with served(create_app(fake_slack.bot_settings(), bot=bot)) as url:
        slack = Slack(fake_slack, url)
        key = "slowcmd"
        body = urlencode(
            {
                "team_id": TEAM,
                "channel_id": "C0001",
                "user_id": "U0001",
                "command": "/cluster",
                "text": "slow",
                "response_url": fake_slack.response_url(key),
            }
        )
        acked = slack.post(body, "application/x-www-form-urlencoded")
        mention = slack.event(
            {
                "type": "app_mention",
                "user": "U0002",
                "channel": "C0050",
                "text": f"<@{BOT_USER}> /slow",
                "ts": "3.3",
            }
        )
        assert acked.status_code == 200 and mention.status_code == 200
        assert not fake_slack.of("response") and not fake_slack.of("chat.postMessage", "C0050")
        release.set()
        fake_slack.wait_for(lambda calls: any(c.params.get("key") == key for c in calls))
        fake_slack.wait_calls("chat.postMessage", 1, "C0050")


def test_commands_named_in_any_answer_are_shown_as_slack_users_type_them() -> None:
    from bot.adapters.slack.blocks import slash_commands

    text = "Type /help or (/lead health); /cluster stays, a/b and https://x.org/lead do not change"
    assert slash_commands(text) == (
        "Type /cluster help or (/cluster lead health); /cluster stays, a/b and "
        "https://x.org/lead do not change"
    )


# ---- refusing early and quietly ------------------------------------------------------------------

MARK = "BODY-MARK-7f3a"  # appears in request bodies only: never in a log line


def _no_body_or_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert MARK not in record.getMessage(), record.getMessage()[:200]
        assert record.exc_info is None, record.getMessage()[:200]
        assert "\n" not in record.getMessage(), record.getMessage()[:200]


def test_oversized_bodies_are_refused_before_being_read(slack: Slack) -> None:
    big = b"{" + b" " * (2 << 20) + b"}"
    declared = http_client.post(
        slack.url + SLACK_EVENTS, content=big, headers=signed(big.decode())
    )
    assert declared.status_code == 413

    def undeclared() -> Iterator[bytes]:  # chunked: no Content-Length to check
        for _ in range(64):
            yield b" " * 65536

    streamed = http_client.post(slack.url + SLACK_EVENTS, content=undeclared(), timeout=10)
    assert streamed.status_code == 413
    assert "ok" in http_client.get(slack.url + "/healthz").text


def test_junk_is_refused_with_one_log_line_and_no_traceback(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = slack.url + SLACK_EVENTS
    now = str(int(time.time()))
    unsigned = [
        ({"Content-Type": "application/json"}, f'{{"broken {MARK}'.encode()),
        ({"Content-Type": "application/json"}, MARK.encode() + b"\xff\xfe"),
        ({"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=" + "0" * 64}, b"{}"),
        ({"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=é".encode()}, MARK.encode()),
        ({"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=1"}, b"{}"),
    ]
    for headers, body in unsigned:
        response = http_client.post(url, content=body, headers=headers)
        assert response.status_code == 401, (headers, body)
    signed_junk = [f'{{"broken {MARK}', "payload=%7Bnot-json" + MARK]
    for text in signed_junk:
        response = http_client.post(url, content=text, headers=signed(text))
        assert response.status_code == 400, text
    bad_utf8 = MARK.encode() + b"\xff"
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + bad_utf8, hashlib.sha256)
    response = http_client.post(
        url,
        content=bad_utf8,
        headers={"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()},
    )
    assert response.status_code == 400
    refusals = [r for r in caplog.records if r.name == "clusterbot.web"]
    assert len(refusals) == len(unsigned) + len(signed_junk) + 1
    _no_body_or_traceback_logged(caplog)


def test_no_request_body_is_logged_at_info(
    fake_slack: FakeSlack, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # before the app exists: loggers made with it log at INFO
    with served(create_app(fake_slack.bot_settings(), bot=bot)) as url:
        slack = Slack(fake_slack, url)
        body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": MARK}})
        response = http_client.post(
            slack.url + SLACK_EVENTS, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401
        _no_body_or_traceback_logged(caplog)
        renamed = json.dumps(
            {"type": "event_callback", "team_id": TEAM, "event": {"type": "channel_rename"}}
        )
        assert slack.post(renamed, "application/json").status_code == 404  # Bolt: unhandled
        assert "UNICEF" in slack.dm(f"who leads WASH? {MARK}")
    _no_body_or_traceback_logged(caplog)


def _skip_to_the_letter(slack: Slack, send: Callable[[str], object]) -> list[Call]:
    """Skip every question (at most 40): the checklist ends with a summary and a draft letter."""
    for _ in range(40):
        if slack.fake_slack.of("files.completeUploadExternal"):
            break
        send("skip")
    return slack.fake_slack.wait_calls("files.completeUploadExternal", 1)


def test_the_checklist_letter_is_uploaded_as_a_word_file(slack: Slack) -> None:
    slack.dm("/checklist")
    _skip_to_the_letter(slack, slack.dm)
    [url] = slack.fake_slack.of("files.getUploadURLExternal")
    assert url.params["filename"].endswith(".docx")
    [done] = slack.fake_slack.of("files.completeUploadExternal")
    assert done.params["channel_id"] == "D0001"
    [content] = slack.fake_slack.uploads.values()
    letter = docx.Document(io.BytesIO(content))
    assert letter.paragraphs[0].text.startswith("DRAFT: Proposed cluster activation")
    assert any(
        "forward this proposal" in p.text or "No request can be made" in p.text
        for p in letter.paragraphs
    )


def test_a_letter_finished_in_a_slash_command_goes_to_the_private_chat(slack: Slack) -> None:
    slack.command("checklist")
    [done] = _skip_to_the_letter(slack, slack.command)
    assert done.params["channel_id"] == "D0001"  # the asker's DM, never the channel C0001
    assert slack.fake_slack.of("conversations.open")[0].params["users"] == "U0001"
