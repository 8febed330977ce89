"""Broken and hostile input: a clear answer or a clean rejection, never a crash or markup."""

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.app import Bot
from bot.core import Incoming
from bot.db import session_scope
from bot.domain import roles
from bot.render import to_plain
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.conftest import Chat


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\x02\x1b[31m",
        "🙂🙂🙂",
        "who leads 🚰 WASH 💧?",
        "WASH 集群 qui dirige ¿quién? من يقود",
        "x" * 10_000,
        "who leads " * 1000,
        "\u202e\u200b\ufeff who leads health",
        "/",
        "//",
        "/lead",
        "/lead \x00",
        "/lang zz",
        "/lang " + "a" * 500,
        "/unknown_command_here with args",
        "/start@clusterbot_bot",
        "ñ" * 3000,
        "%(cluster)s {{ 7*7 }} {% raw %}",
    ],
)
def test_never_crashes_always_answers(chat: Chat, text: str) -> None:
    answer = chat(text)
    assert answer.strip()
    assert chat.last is not None and chat.last.intent != "error"
    assert "Traceback" not in answer
    assert "49" not in answer  # templates never evaluate user text


# Invisible characters pasted into a question: a zero-width space parts words, the others
# (soft hyphen, word joiner, byte-order mark, the joiners) sit inside one.
@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("who\u200bleads\u200bhealth", "World Health Organization (WHO)"),
        ("who leads hea\u00adlth\ufeff", "World Health Organization (WHO)"),
        ("qui\u200bdirige\u200bla\u200bsanté ?", "Organisation mondiale de la Santé (OMS)"),
        ("\u2060¿quién lidera\u200bsalud?", "Organización Mundial de la Salud (OMS)"),
        ("谁\u200b牵头\u200b卫生集群", "世界卫生组织"),
        ("من\u200bيقود\u200bالصحة\u200c؟", "منظمة الصحة العالمية"),
    ],
)
def test_invisible_characters_do_not_hide_the_question(chat: Chat, typed: str, said: str) -> None:
    answer = chat.ask(typed, intent="who_leads")
    assert said in answer, answer


@pytest.mark.parametrize("blank", ["   ", "\u200b", "\ufeff \u2060", "\x00\x01"])
def test_empty_message_gets_a_nudge(chat: Chat, blank: str) -> None:
    assert "empty" in chat(blank)


def test_too_long_message_states_the_limit(chat: Chat) -> None:
    answer = chat("who leads health " + "x" * 10_000)
    assert "10017 characters" in answer and "1000" in answer


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("/frobnicate now", None),
        ("/leads health", "/lead"),
        ("/hlep", "/help"),
        ("/subscibe Sudan health", "/subscribe"),
        ("/lan fr", None),  # as close to /lang as to /plan: neither is guessed
    ],
)
def test_unknown_command_points_to_help_and_a_close_command(
    chat: Chat, typed: str, meant: str | None
) -> None:
    answer = chat(typed)
    assert typed.split()[0] in answer and "/help" in answer
    if meant:
        assert f"Did you mean {meant}?" in answer, answer
    else:
        assert "Did you mean" not in answer, answer


def test_activate_as_a_command_opens_the_activation_checklist(chat: Chat) -> None:
    assert "Activation checklist" in chat("/activate").splitlines()[0]


@pytest.mark.parametrize(
    "evil", ["<!channel>", "<!here>", "<@U123ABC>", "<b>bold</b>", "<a href='x'>y</a>", "&amp;"]
)
def test_user_text_never_becomes_markup(chat: Chat, evil: str) -> None:
    # /lang echoes what was asked as typed ("I don't speak ..."), so the text reaches a
    # template unchanged: only the renderer's escaping stands between it and markup.
    answer = chat(f"/lang {evil}")
    assert chat.last is not None and chat.last.data.get("asked") == evil[:20].casefold()
    html = chat.html()
    assert (
        "<!" not in html
        and "<@" not in html
        and "<a href='x'>" not in html
        and "<b>bold" not in html
    )
    # The plain text shows exactly what was typed, whatever it was.
    assert evil[:20].casefold() in answer
    assert to_plain(html) == answer


def test_a_failing_handler_is_an_apology_not_a_crash(bot: Bot) -> None:
    def broken(msg: Incoming, ctx: object) -> None:
        raise RuntimeError("boom")

    bot.router.intents["who_leads"] = broken  # type: ignore[assignment]
    replies = bot.handle_sync(Incoming("console:x", "console:x", "who leads WASH"))
    assert [r.intent for r in replies] == ["error"]
    assert "something went wrong on our side" in bot.render_plain(replies)


def test_stale_or_forged_button_gets_an_answer(chat: Chat) -> None:
    answer = chat(action="nope:1:2")
    assert "/help" in answer
    answer = chat(action="lang:xx")
    assert "Choose a language" in answer


def test_control_characters_are_stripped_at_the_edge() -> None:
    msg = Incoming(
        "t:1", "t:1", "a\x00b\x1bc\u202ed\u2066e\x7f\x85f\ud800\tg\nh", action="x\x00:y"
    )
    assert msg.text == "abcdef\tg\nh"
    assert msg.action == "x:y"
    arabic = "من يقود\u200f الصحة"  # a right-to-left mark is text, not an override
    assert Incoming("t:1", "t:1", arabic).text == arabic


def test_a_nul_in_a_note_is_no_error(kb: KnowledgeBase, any_engine: Engine) -> None:
    bot = Bot(Settings(database_url="sqlite://"), kb=kb, engine=any_engine)
    with session_scope(any_engine) as session:
        roles.grant(session, "telegram:9", "admin")
    chat = Chat(bot, "telegram:9")
    chat("/propose Sudan health")
    chat("/submit 1")
    assert chat.last is not None
    chat(action=chat.last.choices[0].action)  # confirmed: submitted
    chat("/return 1 needs\x00 more data")  # PostgreSQL refuses NUL in text columns
    assert chat.last is not None and chat.last.intent == "return"


def test_a_message_of_many_clauses_is_understood_a_bounded_number_of_times(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each place a message may hold a second question understands two clauses; were the
    # clauses split again, 20 commas would take minutes. A few places are tried, once each.
    from knowledge import understanding

    calls = []
    real = understanding.understand

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(understanding, "understand", counted)
    text = ", ".join(["what are the criteria"] * 8)
    assert counted(text, kb).intent == "concept"
    assert len(calls) <= 1 + 2 * understanding._SPLITS, len(calls)
