"""End-to-end: the real python-telegram-bot Application, served by bot.web, against a stand-in API.

Polling and webhook mode, over real HTTP on 127.0.0.1. Assertions read what a user would see:
the recorded sendMessage text and keyboard.
"""

import io
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docx
import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.adapters.telegram.markup import MAX_MESSAGE, split_html, utf16_len
from bot.adapters.telegram.routes import SECRET_HEADER, TELEGRAM_WEBHOOK
from bot.app import Bot
from bot.core import Context, Incoming, Reply
from bot.web import create_app
from tests.fakes.server import eventually, free_socket, served
from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, FakeTelegram

ROOT = Path(__file__).parent.parent
SECRET = "s3cret-token_for-tests"
GROUP = -1001
ALLOWED_TAGS = {"b", "i", "u", "s", "a", "code", "pre", "blockquote"}


@pytest.fixture
def polling(fake_telegram: FakeTelegram, bot: Bot) -> Iterator[FakeTelegram]:
    """The bot polling the stand-in: push updates into `fake_telegram`, read what the bot sent."""
    with served(create_app(fake_telegram.bot_settings(), bot=bot)):
        fake_telegram.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls))
        yield fake_telegram


@pytest.fixture
def webhook(fake_telegram: FakeTelegram, bot: Bot) -> Iterator[tuple[FakeTelegram, str]]:
    """The bot in webhook mode; yields the stand-in and the app's webhook URL."""
    settings = fake_telegram.bot_settings(
        telegram_webhook_url="https://bot.example.org/telegram/webhook",
        telegram_webhook_secret=SECRET,
    )
    with served(create_app(settings, bot=bot)) as url:
        yield fake_telegram, url + TELEGRAM_WEBHOOK


def ask(fake_telegram: FakeTelegram, text: str, user_id: int = 42, **kw: object) -> str:
    """Send a private message and return the text of the first reply to it."""
    before = len(fake_telegram.of("sendMessage", user_id))
    fake_telegram.push(fake_telegram.message(text, user_id=user_id, **kw))  # type: ignore[arg-type]
    return fake_telegram.wait_sent(user_id, before + 1)[before].text


def assert_valid_html(text: str) -> None:
    """Only Telegram's tags, each closed in order; only the entities Telegram knows."""
    stack = []
    for closing, name in re.findall(r"<(/?)([a-zA-Z]+)[^>]*>", text):
        assert name in ALLOWED_TAGS, name
        if closing:
            assert stack and stack.pop() == name, text
        else:
            stack.append(name)
    assert not stack, f"unclosed {stack}"
    assert not re.search(r"&(?!amp;|lt;|gt;|quot;|#\d+;)", text)
    assert "<" not in re.sub(r"</?[a-zA-Z]+[^>]*>", "", text)


# ---- polling mode -----------------------------------------------------------------------------


def test_start_greets_in_the_users_language_with_html(polling: FakeTelegram) -> None:
    fr = ask(polling, "/start", user_id=1, language_code="fr")
    en = ask(polling, "/start", user_id=2, language_code="en")
    assert en.startswith("<b>clusterbot answers questions")
    assert fr != en and "cluster" in fr
    assert "/lead" in fr
    for call in polling.of("sendMessage"):
        assert call.params["parse_mode"] == "HTML"


def test_command_menu_registered_in_every_language(polling: FakeTelegram) -> None:
    calls = polling.of("setMyCommands")
    by_lang = {c.params.get("language_code", ""): c.params["commands"] for c in calls}
    assert {"en", "zh", "fr", "es", "ar"} <= set(by_lang)
    names = [c["command"] for c in by_lang["en"]]
    assert names == [
        "help",
        "start",
        "lead",
        "clusters",
        "acronyms",
        "lang",
        "checklist",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "proposals",
        "whoami",
    ]
    lead = {c["command"]: c["description"] for c in by_lang["fr"]}["lead"]
    assert lead == "qui dirige un cluster"


def test_lead_command_and_free_text_in_chinese_and_english(polling: FakeTelegram) -> None:
    sudan = ask(polling, "/lead wash Sudan")
    assert "UNICEF" in sudan and "Sudan" in sudan
    zh = ask(polling, "谁领导卫生集群？", user_id=7, language_code="zh-hans")
    assert "世界卫生组织" in zh or "WHO" in zh
    assert re.search(r"[\u4e00-\u9fff]", zh)
    en = ask(polling, "who leads the logistics cluster?", user_id=8)
    assert "WFP" in en or "World Food Programme" in en


def test_groups_hear_from_the_bot_only_when_addressed(polling: FakeTelegram) -> None:
    def group(text: str, **kw: object) -> None:
        polling.push(
            polling.message(text, user_id=5, chat_id=GROUP, chat_type="supergroup", **kw)  # type: ignore[arg-type]
        )

    group("who leads WASH?")  # plain chatter: ignored
    group("/clusters@some_other_bot")  # another bot's command: ignored
    group(f"@{BOT_USERNAME} who leads WASH?")
    group("and who leads nutrition?", reply_to_bot=True)
    group(f"/lead@{BOT_USERNAME} health")
    sent = polling.wait_sent(GROUP, 3)
    time.sleep(0.3)  # anything answered late would show up now
    sent = polling.of("sendMessage", GROUP)
    assert len(sent) == 3, [c.text[:60] for c in sent]
    assert "UNICEF" in sent[0].text and "@" + BOT_USERNAME not in sent[0].text
    assert "UNICEF" in sent[1].text  # nutrition
    assert "WHO" in sent[2].text or "World Health" in sent[2].text
    # In a group the answer is a reply to the message that asked.
    assert all("reply_parameters" in c.params for c in sent)


def test_language_buttons_and_a_stale_checklist_button(polling: FakeTelegram) -> None:
    ask(polling, "/lang")
    choose = polling.of("sendMessage", 42)[-1]
    assert ("Français", "lang:fr") in choose.buttons
    polling.push(polling.button("lang:fr"))
    polling.wait_for(lambda calls: any(c.method == "answerCallbackQuery" for c in calls))
    set_fr = polling.wait_sent(42, 2)[-1].text
    assert "Français" in set_fr or "français" in set_fr
    polling.push(polling.button("chk:999:yes", language_code="en"))
    stale = polling.wait_sent(42, 3)[-1].text
    assert "no longer open" in stale or "plus ouverte" in stale or "checklist" in stale.lower()
    polling.push(polling.button("forged-data"))
    polite = polling.wait_sent(42, 4)[-1].text
    assert "/help" in polite
    assert len(polling.of("answerCallbackQuery")) == 3


def test_user_text_is_shown_not_interpreted(polling: FakeTelegram) -> None:
    text = ask(polling, "/lang <b>xx</b>")
    assert "&lt;b&gt;xx&lt;/b&gt;" in text and "<b>xx" not in text
    assert_valid_html(text)


def test_a_429_is_waited_out_and_delivered(polling: FakeTelegram) -> None:
    polling.fail_429["sendMessage"] = [1]
    start = time.monotonic()
    text = ask(polling, "who leads WASH?")
    assert "UNICEF" in text
    assert time.monotonic() - start >= 1.0
    assert polling.of("sendMessage:429")


def test_a_reply_lost_in_transit_is_sent_again(polling: FakeTelegram) -> None:
    polling.fail_502["sendMessage"] = 2  # Telegram's side fails twice, then recovers
    assert "UNICEF" in ask(polling, "who leads WASH?")
    assert len(polling.of("sendMessage:502")) == 2


def test_one_chats_flood_wait_holds_back_only_that_chat(polling: FakeTelegram) -> None:
    polling.fail_429_chat[7] = [3]  # Telegram tells chat 7's reply to wait 3 s
    polling.push(polling.message("who leads WASH?", user_id=7))
    polling.wait_for(lambda calls: any(c.method == "sendMessage:429" for c in calls))
    others = range(100, 120)
    for user in others:
        polling.push(polling.message("who leads health?", user_id=user))
    for user in others:
        assert "WHO" in polling.wait_sent(user)[0].text
    assert not polling.of("sendMessage", 7)  # everyone else was answered while chat 7 waited
    assert "UNICEF" in polling.wait_sent(7)[0].text


def test_one_chats_messages_are_answered_in_order(polling: FakeTelegram) -> None:
    asked = ["/lead wash", "/lead health", "/lead shelter", "/lead logistics", "/lead nutrition"]
    for text in asked:
        polling.push(polling.message(text, user_id=55))
    answers = [c.text for c in polling.wait_sent(55, len(asked))]
    for word, answer in zip(
        ["WASH", "Health", "Shelter", "Logistics", "Nutrition"], answers, strict=True
    ):
        assert word.casefold() in answer.casefold(), (word, answer)


def test_a_blocked_user_is_logged_and_nothing_crashes(
    polling: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="clusterbot.telegram")
    polling.blocked.add(77)
    polling.push(polling.message("who leads WASH?", user_id=77))
    polling.wait_sent(77, 1)
    assert "UNICEF" in ask(polling, "who leads WASH?", user_id=78)
    # Chats are answered side by side: 78's answer may come before 77's failure is logged.
    eventually(
        lambda: any("blocked the bot" in r.getMessage() for r in caplog.records), "logged block"
    )


def test_a_migrated_group_is_followed(polling: FakeTelegram) -> None:
    polling.migrated[-200] = -100200
    polling.push(polling.message("/clusters", user_id=5, chat_id=-200, chat_type="group"))
    polling.wait_sent(-100200, 1)
    polling.push(polling.message("/help", user_id=5, chat_id=-200, chat_type="group"))
    polling.wait_sent(-100200, 2)
    assert len(polling.of("sendMessage", -200)) == 1  # learnt once, then sent straight there


def test_bad_updates_are_skipped(polling: FakeTelegram) -> None:
    sticker = polling.message("x", user_id=9)
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "s", "file_unique_id": "s"}
    polling.push(sticker)
    polling.push({"poll": {"id": "p"}})  # not even a valid poll
    polling.push({"something_new": {"id": 1}})
    polling.push(polling.message("x" * 5000, user_id=9))
    assert "UNICEF" in ask(polling, "who leads WASH?", user_id=9)
    assert len(polling.of("sendMessage", 9)) == 1


def test_a_long_reply_is_split_into_valid_messages(fake_telegram: FakeTelegram, bot: Bot) -> None:
    def long_reply(msg: Incoming, ctx: Context) -> Reply:
        # A real template, with a value far past Telegram's limit (handlers cap theirs).
        return Reply("help/unknown_command.j2", {"command": "<b>&" + " word" * 2000}, "en", "x")

    bot.router.commands["long"] = long_reply
    with served(create_app(fake_telegram.bot_settings(), bot=bot)):
        fake_telegram.push(fake_telegram.message("/long", user_id=12))
        fake_telegram.wait_sent(12, 3)
        time.sleep(0.2)
    chunks = [c.text for c in fake_telegram.of("sendMessage", 12)]
    assert len(chunks) == 3
    for chunk in chunks:
        assert utf16_len(chunk) <= MAX_MESSAGE
        assert_valid_html(chunk)
    whole = "".join(chunks)
    assert whole.count("word") == 2000 and "&lt;b&gt;&amp;" in whole


def test_the_checklist_letter_arrives_as_a_document(polling: FakeTelegram) -> None:
    ask(polling, "/checklist", user_id=11)
    # Skipping every question finishes the checklist with a summary and a draft letter file.
    for _ in range(40):
        if polling.of("sendDocument", 11):
            break
        ask(polling, "skip", user_id=11)
    docs = polling.of("sendDocument", 11)
    assert docs and docs[0].params["document"]["filename"].endswith(".docx")
    letter = docx.Document(io.BytesIO(docs[0].params["document"]["content"]))
    assert letter.paragraphs[0].text.startswith("DRAFT: Proposed cluster activation")
    assert any(p.text == "Yours sincerely," for p in letter.paragraphs)


def test_split_html_keeps_every_chunk_valid() -> None:
    line = '<b>Lead</b>: <a href="https://example.org/x">UNICEF &amp; WHO</a> &lt;ok&gt;'
    text = "<i>" + "\n".join(f"{i} {line}" for i in range(200)) + "</i>\n" + "word " * 2000
    chunks = split_html(text, MAX_MESSAGE)
    assert len(chunks) > 2
    for chunk in chunks:
        assert utf16_len(chunk) <= MAX_MESSAGE
        assert_valid_html(chunk)
    rejoined = re.sub(r"</?i>", "", "".join(chunks))
    assert rejoined.count("UNICEF &amp; WHO") == 200
    assert rejoined.count("word") == 2000
    long_line = "<b>" + "x" * 9000 + "</b>"
    assert all(c.startswith("<b>") for c in split_html(long_line))


# ---- webhook mode -----------------------------------------------------------------------------


def test_webhook_checks_the_secret_and_handles_updates(
    webhook: tuple[FakeTelegram, str],
) -> None:
    fake_telegram, url = webhook
    hook = fake_telegram.of("setWebhook")
    assert hook and hook[0].params["secret_token"] == SECRET
    assert not fake_telegram.of("getUpdates")
    wrong = fake_telegram.message("who leads WASH?", user_id=31)
    with httpx.Client(timeout=10) as client:
        assert client.post(url, json={"update_id": 1, **wrong}).status_code == 403
        r = client.post(url, json={"update_id": 2, **wrong}, headers={SECRET_HEADER: "nope"})
        assert r.status_code == 403
        right = fake_telegram.message("/lead health", user_id=32)
        r = client.post(url, json={"update_id": 3, **right}, headers={SECRET_HEADER: SECRET})
        assert r.status_code == 200
        # Telegram resends an update whose 200 was lost: it is answered once.
        r = client.post(url, json={"update_id": 3, **right}, headers={SECRET_HEADER: SECRET})
        assert r.status_code == 200
        r = client.post(url, content=b"{not json", headers={SECRET_HEADER: SECRET})
        assert r.status_code == 400
        assert client.get(url.replace(TELEGRAM_WEBHOOK, "/healthz")).text == "ok"
    assert "WHO" in fake_telegram.wait_sent(32, 1)[0].text
    time.sleep(0.3)
    assert not fake_telegram.of("sendMessage", 31)
    assert len(fake_telegram.of("sendMessage", 32)) == 1


def test_an_update_the_database_refuses_is_refused_so_telegram_resends(
    webhook: tuple[FakeTelegram, str], engine: Engine
) -> None:
    fake_telegram, url = webhook
    update = {"update_id": 77, **fake_telegram.message("/lead health", user_id=33)}
    with engine.begin() as conn:  # the inbox cannot be written: like a full or read-only disk
        conn.exec_driver_sql("ALTER TABLE inboxevent RENAME TO inboxevent_away")
    with httpx.Client(timeout=10) as client:
        refused = client.post(url, json=update, headers={SECRET_HEADER: SECRET})
        assert refused.status_code == 503
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE inboxevent_away RENAME TO inboxevent")
        resent = client.post(url, json=update, headers={SECRET_HEADER: SECRET})
        assert resent.status_code == 200
    assert "WHO" in fake_telegram.wait_sent(33, 1)[0].text


def test_two_pollers_on_one_token_stop_with_a_clear_message(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.conflict = True
    port = free_socket().getsockname()[1]
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake_telegram.url,
        "CLUSTERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
    }
    env.pop("TELEGRAM_WEBHOOK_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a fresh interpreter loads the knowledge; generous for a busy machine
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "409 Conflict" in proc.stderr and "another instance" in proc.stderr
    assert len(fake_telegram.of("getUpdates")) <= 3  # stopped, not a retry loop


def test_only_group_admins_subscribe_the_group(polling: FakeTelegram) -> None:
    polling.admins.add((GROUP, 7))

    def group(text: str, user_id: int) -> str:
        before = len(polling.of("sendMessage", GROUP))
        polling.push(polling.message(text, user_id=user_id, chat_id=GROUP, chat_type="supergroup"))
        return polling.wait_sent(GROUP, before + 1)[before].text

    refused = group(f"/subscribe@{BOT_USERNAME} Sudan health", user_id=5)
    assert refused == "Only the group's admins may change its subscriptions."
    assert group("/subscribe Sudan health", user_id=7).startswith("Subscribed")
    assert "#1: Sudan; Health" in group("/subscriptions", user_id=5)  # anyone may look


def test_a_proposal_move_is_confirmed_with_inline_buttons(polling: FakeTelegram, bot: Bot) -> None:
    from bot.db import session_scope
    from bot.domain import roles

    with session_scope(bot.engine) as session:  # type: ignore[arg-type]
        roles.grant(session, "telegram:42", "hc")
    created = ask(polling, "/propose Sudan health")
    assert "Draft proposal #1 created" in created
    offered = polling.of("sendMessage", 42)[-1].buttons
    assert offered == [("Submit to the ERC", "prop:ask:1:submit")]
    polling.push(polling.button("prop:ask:1:submit"))
    confirm = polling.wait_sent(42, 2)[-1]
    assert "Please confirm: submit to the ERC, proposal #1 (Sudan)?" in confirm.text
    [(ok_label, ok), (no_label, _)] = confirm.buttons
    assert (ok_label, no_label) == ("Confirm", "Cancel")
    polling.push(polling.button(ok))
    done = polling.wait_sent(42, 3)[-1].text
    assert "Done: proposal #1 is now: submitted to the ERC." in done
    polling.push(polling.button(ok))  # pressed again: nothing moves twice
    assert "no longer valid" in polling.wait_sent(42, 4)[-1].text
