"""End-to-end: the WhatsApp adapter served by bot.web and its sender, against a stand-in Graph API.

Real HTTP both ways on 127.0.0.1: the tests post what Meta posts (signed) to /whatsapp/webhook,
the inbox worker answers, and the assertions read what the stand-in received, as a person on
WhatsApp would see it.
"""

import asyncio
import io
import itertools
import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import docx
import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import inbox
from bot.adapters.whatsapp.adapter import WEBHOOK
from bot.adapters.whatsapp.sender import WhatsAppSender
from bot.adapters.whatsapp.settings import WhatsAppSettings
from bot.adapters.whatsapp.text import ZWSP, inert, offer, split_text, to_whatsapp
from bot.app import Bot
from bot.core import Choice, Context, Incoming, Reply
from bot.db import session_scope
from bot.domain import proposals, roles, subscriptions
from bot.models import InboxEvent, Notification, Subscription, User, utcnow
from bot.settings import Settings
from bot.web import create_app
from tests.fakes import whatsapp_api as meta
from tests.fakes.server import running, served
from tests.fakes.whatsapp_api import Call, FakeWhatsApp
from tests.test_dispatch_e2e import notify

ALICE = "4915100000001"  # a partner on WhatsApp
BOB = "4915100000002"
LEADS = {"health": "WHO", "nutrition": "UNICEF"}


def wa_settings(fake: FakeWhatsApp, **kw: object) -> WhatsAppSettings:
    given: dict[str, object] = {
        "token": meta.TOKEN,
        "phone_number_id": meta.PHONE_NUMBER_ID,
        "app_secret": meta.APP_SECRET,
        "verify_token": meta.VERIFY_TOKEN,
        "api_url": fake.api_url,
    }
    return WhatsAppSettings(**{**given, **kw})  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeWhatsApp]:
    yield from running(FakeWhatsApp())


@pytest.fixture
def hook(fake: FakeWhatsApp, bot: Bot) -> Iterator[str]:
    """The bot serving WhatsApp (no dispatcher inside); yields its webhook URL."""
    settings = Settings(
        database_url="sqlite://", whatsapp=wa_settings(fake), dispatch_in_serve=False
    )
    with served(create_app(settings, bot=bot)) as url:
        yield url + WEBHOOK


def say(
    fake: FakeWhatsApp, url: str, body: dict[str, object], to: str, more: int = 1
) -> list[Call]:
    """Post one signed event; wait for `more` messages to `to`; return those new messages."""
    before = len(fake.sent(to))
    response = meta.post(url, body)
    assert response.status_code == 200, response.text
    return fake.wait_sent(to, before + more)[before:]


def ask(fake: FakeWhatsApp, url: str, text: str, to: str = ALICE) -> Call:
    return say(fake, url, meta.text(to, text), to)[0]


def sender(bot: Bot, fake: FakeWhatsApp, **kw: object) -> WhatsAppSender:
    assert bot.engine is not None
    return WhatsAppSender(bot.renderer, bot.engine, wa_settings(fake, **kw))


def endorse(bot: Bot, country: str = "SD", clusters: tuple[str, ...] = ("health",)) -> int:
    """An activation proposal made, moved and endorsed by an admin, as from the shell."""
    assert bot.engine is not None
    with session_scope(bot.engine) as s:
        admin = roles.grant(s, "console:admin", "admin")
        leads = {c: (LEADS[c], "") for c in clusters}
        proposal = proposals.create(s, bot.kb, admin, country, leads)
        assert proposal.id is not None
        for move in ("submit", "forward", "endorse"):
            proposals.apply(s, bot.kb, proposal.id, admin, move)
        return proposal.id


def dispatch(bot: Bot, *senders: WhatsAppSender) -> None:
    asyncio.run(bot.dispatcher(list(senders)).run_once())


def notices(engine: Engine) -> list[Notification]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(Notification)
                .where(col(Notification.target).startswith("whatsapp:"))
                .order_by(col(Notification.id))
            ).all()
        )


def subscribed_and_notified(hook: str, fake: FakeWhatsApp, bot: Bot) -> Call:
    """Alice subscribes to Sudan, an activation there is endorsed: the notice she was sent."""
    ask(fake, hook, "/subscribe Sudan")
    endorse(bot)
    dispatch(bot, sender(bot, fake))
    return fake.sent(ALICE)[-1]


def notice_when(engine: Engine, status: str) -> Notification:
    """The first WhatsApp notice, once a delivery status posted to the webhook made it `status`."""
    deadline = time.monotonic() + 10
    while notices(engine)[0].status != status:
        assert time.monotonic() < deadline, notices(engine)[0]
        time.sleep(0.05)
    return notices(engine)[0]


# ---- the webhook ---------------------------------------------------------------------------


def test_the_verify_handshake_answers_only_our_token(hook: str) -> None:
    ok = httpx.get(
        hook,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": meta.VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": meta.VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ):
        refused = httpx.get(hook, params=params)
        assert refused.status_code == 403 and "1" not in refused.text


def test_unsigned_and_forged_events_are_refused_and_never_stored(
    hook: str, fake: FakeWhatsApp, bot: Bot
) -> None:
    body = meta.text(ALICE, "who leads wash?")
    assert meta.post(hook, body, secret=None).status_code == 401
    assert meta.post(hook, body, secret="not-the-app-secret").status_code == 401
    raw = json.dumps(body).encode()
    tampered = httpx.post(
        hook,
        content=raw.replace(b"wash", b"food"),
        headers={"X-Hub-Signature-256": meta.signature(raw)},
    )
    assert tampered.status_code == 401
    assert bot.engine is not None
    assert inbox.counts(bot.engine) == {"pending": 0, "done": 0, "dead": 0}
    # The same body, signed with the app secret, is taken and answered.
    reply = say(fake, hook, body, ALICE)[0]
    assert "UNICEF" in reply.text


def test_a_question_and_its_answer_in_two_languages(hook: str, fake: FakeWhatsApp) -> None:
    english = ask(fake, hook, "who leads WASH?")
    assert english.kind == "text" and "UNICEF" in english.text
    french = ask(fake, hook, "Qui dirige le cluster santé ?")
    assert "OMS" in french.text
    for reply in (english, french):
        assert not re.search(r"</?[a-z]+>", reply.text), reply.text  # no HTML on WhatsApp
        assert "&amp;" not in reply.text and "&lt;" not in reply.text
    assert re.search(r"\*[^*\s][^*]*[^*\s]\*", english.text), english.text  # our own *bold*


def test_a_resent_event_is_answered_once(hook: str, fake: FakeWhatsApp, bot: Bot) -> None:
    body = meta.text(ALICE, "who leads nutrition?")
    say(fake, hook, body, ALICE)
    for _ in range(3):  # Meta resends when our 200 was lost
        assert meta.post(hook, body).status_code == 200
    ask(fake, hook, "who leads health?")  # a later message is answered after those
    answers = fake.sent(ALICE)
    assert len(answers) == 2 and "UNICEF" in answers[0].text and "WHO" in answers[1].text
    assert bot.engine is not None
    with Session(bot.engine) as s:
        assert len(s.exec(select(InboxEvent)).all()) == 2


def test_the_last_message_time_is_kept_per_person(hook: str, fake: FakeWhatsApp, bot: Bot) -> None:
    sent_at = int(time.time()) - 60
    say(fake, hook, meta.text(ALICE, "hello", at=sent_at), ALICE)
    assert bot.engine is not None
    with Session(bot.engine) as s:
        user = s.get(User, f"whatsapp:{ALICE}")
        assert user is not None and user.last_message_at is not None
        assert int(user.last_message_at.timestamp()) == sent_at


# ---- text, buttons, lists ------------------------------------------------------------------


def test_user_text_never_becomes_formatting() -> None:
    typed = "*all* _of_ ~this~ `is` ```typed``` snake_case\n> not a quote"
    markup = "<b>Title</b>\n" + typed.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;"
    )
    shown = to_whatsapp(markup)
    title, _, rest = shown.partition("\n")
    assert title == "*Title*"
    assert rest.replace(ZWSP, "") == typed  # shown as typed ...
    # ... and no marker of it can open or close formatting: each has a zero-width space on
    # both sides, where WhatsApp wants a space, a line start or punctuation.
    for m in re.finditer(r"[*_~`]|^>", rest, re.M):
        if m.group(0) == "_" and rest[m.start() - 1].isalnum():
            continue  # snake_case: inside a word, no marker
        assert rest[m.start() - 1 : m.start()] == ZWSP and rest[m.end() : m.end() + 1] == ZWSP
    assert inert("a\u202eb") == "ab"  # direction overrides dropped


def test_long_answers_are_split_under_the_limit() -> None:
    text = to_whatsapp("<b>Head</b>\n" + "\n".join(f"line {i} " + "x" * 90 for i in range(120)))
    chunks = split_text(text)
    assert len(chunks) > 2 and all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == text
    with_buttons = split_text(text, last=1024)
    assert len(with_buttons[-1]) <= 1024 and "\n".join(with_buttons) == text


def test_choices_become_buttons_a_list_or_numbered_lines() -> None:
    three = offer(tuple(Choice(x, f"chk:1:{x}") for x in ("Yes", "No", "Unsure")), "en")
    assert three.kind == "buttons" and three.interactive is not None
    five = offer(tuple(Choice(x, f"lang:{x}") for x in ("a", "b", "c", "d", "e")), "fr")
    assert five.kind == "list" and five.interactive is not None
    assert five.interactive["button"] == "Choisir"
    long_label = offer((Choice("Create an activation proposal", "prop:chk:1"),), "en")
    assert long_label.kind == "list"  # a button title holds 20 characters only
    many = offer(tuple(Choice(f"topic {i}", f"topic:{i}") for i in range(12)), "en")
    assert many.kind == "numbers" and many.numbered.splitlines()[11] == "12. topic 11"


def test_a_list_row_pressed_changes_the_language(hook: str, fake: FakeWhatsApp) -> None:
    menu = ask(fake, hook, "/lang")
    assert menu.kind == "interactive" and menu.params["interactive"]["type"] == "list"
    rows = dict((title, row_id) for row_id, title in menu.choices)
    assert len(rows) == 5
    done = say(fake, hook, meta.pressed(ALICE, rows["español"], "español", row=True), ALICE)[0]
    assert "español" in done.text.lower()


def test_a_whole_checklist_with_buttons_a_list_and_the_letter(
    hook: str, fake: FakeWhatsApp
) -> None:
    ask(fake, hook, "/checklist")
    for line in ("Sudan", "Fighting displaced two million people", "health"):
        last = ask(fake, hook, line)
    pressed = 0
    # Each answer's first message: the next question (buttons) until the summary (a list).
    # Not its last one: the end's several messages may still be arriving when it is read.
    while last.kind == "interactive" and last.params["interactive"]["type"] == "button":
        assert pressed < 20, "the checklist never ended"
        button_id, title = last.choices[0]  # yes, done, the global lead, no co-lead
        pressed += 1
        last = say(fake, hook, meta.pressed(ALICE, button_id, title), ALICE)[0]
    assert pressed == 13  # criteria (3), the eight steps, the lead and co-lead
    # The end: the summary with an offer too long for a button, as a list, then the letter as
    # text (split where long) and as a Word document.
    assert last.kind == "interactive" and last.params["interactive"]["type"] == "list"
    fake.wait_for(lambda _: bool(fake.sent(ALICE, "document")))
    texts = "\n".join(c.text for c in fake.sent(ALICE))
    assert "Health: the activation criteria are met" in texts
    assert "To: the Emergency Relief Coordinator" in texts
    document = fake.sent(ALICE, "document")[0].params["document"]
    name, content, mime = fake.media[document["id"]]
    assert name == document["filename"] and name.endswith(".docx") and "wordprocessingml" in mime
    letter = docx.Document(io.BytesIO(content))
    assert letter.paragraphs[0].text.startswith("DRAFT: Proposed cluster activation")
    lists = [
        c for c in fake.sent(ALICE, "interactive") if c.params["interactive"]["type"] == "list"
    ]
    rows = [r for c in lists for r in c.params["interactive"]["action"]["sections"][0]["rows"]]
    assert {"id": "prop:chk:1", "title": "Create an activation pr…"} | {
        "description": "Create an activation proposal"
    } in rows
    assert not fake.refused()


# ---- subscriptions and notices -------------------------------------------------------------


def test_a_subscription_and_the_notice_inside_the_window(
    hook: str, fake: FakeWhatsApp, bot: Bot
) -> None:
    reply = ask(fake, hook, "/subscribe Sudan health")
    assert "Sudan" in reply.text
    assert bot.engine is not None
    with Session(bot.engine) as s:
        sub = s.exec(select(Subscription)).one()
    assert sub.target == f"whatsapp:{ALICE}" and sub.country == "SD" and sub.clusters == ["health"]
    proposal = endorse(bot)
    dispatch(bot, sender(bot, fake))
    notice = fake.sent(ALICE)[-1]
    assert notice.kind == "text" and "Cluster activation endorsed: Sudan" in notice.text
    assert f"#{proposal}" in notice.text
    # Meta reports what became of it; the outbox row keeps the latest word.
    row = notices(bot.engine)[0]
    assert row.status == "sent" and row.platform_id == notice.wamid and row.delivery == "sent"
    for state in ("delivered", "read", "delivered"):  # out of order: read stays
        assert meta.post(hook, meta.status(notice.wamid, state, ALICE)).status_code == 200
    deadline = time.monotonic() + 10
    while notices(bot.engine)[0].delivery != "read":
        assert time.monotonic() < deadline, notices(bot.engine)[0].delivery
        time.sleep(0.05)
    time.sleep(0.3)
    assert notices(bot.engine)[0].delivery == "read"


def test_outside_the_window_the_notice_is_the_template(fake: FakeWhatsApp, bot: Bot) -> None:
    assert bot.engine is not None
    with session_scope(bot.engine) as s:
        subscriptions.add(s, f"whatsapp:{ALICE}", "SD", ["health"], "fr")  # never wrote
        subscriptions.add(s, f"whatsapp:{BOB}", "SD", [], "en")
        s.add(User(identity=f"whatsapp:{BOB}", last_message_at=utcnow() - timedelta(hours=25)))
    proposal = endorse(bot, clusters=("health", "nutrition"))
    dispatch(bot, sender(bot, fake))
    for wa_id, lang, clusters in (
        (ALICE, "fr", "Santé, Nutrition"),
        (BOB, "en", "Health, Nutrition"),
    ):
        (call,) = fake.sent(wa_id)
        assert call.kind == "template"
        template = call.params["template"]
        assert template["name"] == meta.TEMPLATE and template["language"] == {"code": lang}
        values = [p["text"] for p in template["components"][0]["parameters"]]
        assert values[0] in ("Sudan", "Soudan") and values[1] == clusters
        assert values[2] == str(proposal)
    assert {n.status for n in notices(bot.engine)} == {"sent"}


def test_131047_sends_the_template_after_all(fake: FakeWhatsApp, bot: Bot) -> None:
    fake.enforce_window = True  # WhatsApp's own clock says the window has closed
    assert bot.engine is not None
    with session_scope(bot.engine) as s:
        subscriptions.add(s, f"whatsapp:{ALICE}", "SD", [], "en")
        s.add(User(identity=f"whatsapp:{ALICE}", last_message_at=utcnow() - timedelta(hours=1)))
    endorse(bot)
    dispatch(bot, sender(bot, fake))
    assert [c.error for c in fake.calls if c.method == "messages"] == [131047, 0]
    assert fake.sent(ALICE)[0].kind == "template"
    assert notices(bot.engine)[0].status == "sent"
    with Session(bot.engine) as s:
        user = s.get(User, f"whatsapp:{ALICE}")
        assert user is not None and user.last_message_at is None  # the window, corrected


def test_one_person_gets_one_message_per_interval_with_no_131056(bot: Bot) -> None:
    strict = FakeWhatsApp(pair_interval=0.3).start()  # 6 s in life
    try:
        assert bot.engine is not None
        with session_scope(bot.engine) as s:
            for wa_id in (ALICE, BOB):
                s.add(User(identity=f"whatsapp:{wa_id}", last_message_at=utcnow()))
        targets = [f"whatsapp:{ALICE}"] * 4 + [f"whatsapp:{BOB}"] * 2
        notify(bot.engine, targets, tag="n")
        dispatch(bot, sender(bot, strict, person_interval=0.5))
        assert strict.refused() == []
        alice = strict.sent(ALICE)
        assert len(alice) == 4 and len(strict.sent(BOB)) == 2
        gaps = [b.at - a.at for a, b in itertools.pairwise(alice)]
        assert min(gaps) >= 0.3, gaps
        # The same fan-out unpaced meets 131056: the stand-in does enforce it, and the
        # dispatcher holds those back and still delivers every one.
        notify(bot.engine, targets, tag="m")
        dispatch(bot, sender(bot, strict, person_interval=0.0))
        assert {c.error for c in strict.refused()} == {131056}
        assert len(strict.sent(ALICE)) == 8
    finally:
        strict.stop()


def test_throughput_refusals_are_held_back_and_permanent_ones_recorded(
    fake: FakeWhatsApp, bot: Bot
) -> None:
    assert bot.engine is not None
    with session_scope(bot.engine) as s:
        for wa_id in (ALICE, BOB):
            subscriptions.add(s, f"whatsapp:{wa_id}", "SD", [], "en")
            s.add(User(identity=f"whatsapp:{wa_id}", last_message_at=utcnow()))
    fake.refuse[ALICE] = [130429]
    fake.refuse[BOB] = [131026]
    endorse(bot)
    dispatch(bot, sender(bot, fake))
    by_target = {n.target: n for n in notices(bot.engine)}
    assert by_target[f"whatsapp:{ALICE}"].status == "sent"  # held back, then sent
    assert len(fake.sent(ALICE)) == 1
    bob = by_target[f"whatsapp:{BOB}"]
    assert bob.status == "failed" and bob.last_error.startswith("undeliverable: 131026")
    with Session(bot.engine) as s:
        sub = s.exec(select(Subscription).where(Subscription.target == f"whatsapp:{BOB}")).one()
    assert not sub.active and "131026" in sub.inactive_reason


def test_a_failed_status_makes_the_notice_undeliverable(
    hook: str, fake: FakeWhatsApp, bot: Bot
) -> None:
    assert bot.engine is not None
    wamid = subscribed_and_notified(hook, fake, bot).wamid
    failed = meta.status(
        wamid, "failed", ALICE, [{"code": 131026, "title": "Message undeliverable"}]
    )
    assert meta.post(hook, failed).status_code == 200
    row = notice_when(bot.engine, "failed")
    assert row.delivery == "failed: 131026: Message undeliverable"
    assert row.last_error == "undeliverable: 131026: Message undeliverable"
    with Session(bot.engine) as s:
        assert not s.exec(select(Subscription)).one().active


def test_the_shell_subscribes_a_whatsapp_number(tmp_path: Path, migrated_db: Path) -> None:
    from tests.test_cli import run

    shutil.copyfile(migrated_db, tmp_path / "cli.db")
    added = run(
        ["subscriptions", "add", "--target", f"whatsapp:{ALICE}", "--country", "Sudan"], tmp_path
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "1"
    bad = run(["subscriptions", "add", "--target", "whatsapp:+49 151"], tmp_path)
    assert bad.returncode == 2 and "whatsapp:WA_ID" in bad.stderr
    assert roles.check_identity(f"whatsapp:{ALICE}")


def test_a_131047_status_sends_the_notice_again_as_the_template(
    hook: str, fake: FakeWhatsApp, bot: Bot
) -> None:
    assert bot.engine is not None
    first = subscribed_and_notified(hook, fake, bot)
    assert first.kind == "text"
    window = [{"code": 131047, "title": "Re-engagement message"}]
    assert meta.post(hook, meta.status(first.wamid, "failed", ALICE, window)).status_code == 200
    notice_when(bot.engine, "pending")
    dispatch(bot, sender(bot, fake))
    assert fake.sent(ALICE)[-1].kind == "template"
    row = notices(bot.engine)[0]
    assert row.status == "sent" and row.platform_id == fake.sent(ALICE)[-1].wamid


def test_long_hostile_text_and_twelve_choices_over_the_wire(fake: FakeWhatsApp, bot: Bot) -> None:
    typed = "*bold* _it_ ~no~ <b>&amp;"

    def many(msg: Incoming, ctx: Context) -> Reply:
        # A real template, with a value far past WhatsApp's limit (handlers cap theirs).
        data = {"command": typed + " word" * 2000}
        choices = tuple(Choice(f"choice {i}", f"pick:{i}") for i in range(1, 13))
        return Reply("help/unknown_command.j2", data, "en", "x", choices=choices)

    def picked(msg: Incoming, ctx: Context) -> Reply:
        return Reply("help/unknown_command.j2", {"command": msg.action}, "en", "x")

    bot.router.commands["many"] = many
    bot.router.actions["pick"] = picked
    settings = Settings(
        database_url="sqlite://", whatsapp=wa_settings(fake), dispatch_in_serve=False
    )
    with served(create_app(settings, bot=bot)) as url:
        chunks = say(fake, url + WEBHOOK, meta.text(ALICE, "/many"), ALICE, more=3)
        assert all(c.kind == "text" and len(c.text) <= 4096 for c in chunks)
        whole = "\n".join(c.text for c in chunks)
        assert whole.count("word") == 2000
        shown = f"{ZWSP}*{ZWSP}bold{ZWSP}*{ZWSP} {ZWSP}_{ZWSP}it{ZWSP}_{ZWSP} {ZWSP}~{ZWSP}no{ZWSP}~{ZWSP} <b>&amp;"
        assert shown in whole
        assert whole.endswith("11. choice 11\n12. choice 12")
        answer = say(fake, url + WEBHOOK, meta.text(ALICE, "12"), ALICE)[0]
        assert "pick:12" in answer.text


def test_a_proposal_move_is_confirmed_with_reply_buttons(
    hook: str, fake: FakeWhatsApp, bot: Bot
) -> None:
    assert bot.engine is not None
    with session_scope(bot.engine) as s:
        roles.grant(s, f"whatsapp:{ALICE}", "hc")
    created = ask(fake, hook, "/propose Sudan health")
    assert "Draft proposal #1 created" in created.text
    # "Submit to the ERC" fits a reply button (20 characters).
    assert created.kind == "interactive" and created.choices == [
        ("prop:ask:1:submit", "Submit to the ERC")
    ]
    confirm = say(fake, hook, meta.pressed(ALICE, "prop:ask:1:submit", "Submit to the ERC"), ALICE)
    assert "Please confirm: submit to the ERC, proposal #1 (Sudan)?" in confirm[0].text
    [(ok, ok_label), (_, no_label)] = confirm[0].choices
    assert (ok_label, no_label) == ("Confirm", "Cancel")
    done = say(fake, hook, meta.pressed(ALICE, ok, ok_label), ALICE)[0]
    assert "Done: proposal #1 is now: submitted to the ERC." in done.text
    again = say(fake, hook, meta.pressed(ALICE, ok, ok_label), ALICE)[0]  # nothing moves twice
    assert "no longer valid" in again.text


# ---- the platform seams: WhatsApp is found, not named --------------------------------------


def test_whatsapp_is_served_sent_to_and_addressed_through_the_seams(
    fake: FakeWhatsApp, bot: Bot, engine: Engine
) -> None:
    from bot import adapters
    from bot.core import ADDRESSES

    off = Settings(database_url="sqlite://", whatsapp=WhatsAppSettings(token=None))
    settings = Settings(database_url="sqlite://", whatsapp=wa_settings(fake))
    assert "whatsapp" not in adapters.served(off)
    assert "whatsapp" in adapters.served(settings)
    assert any("WHATSAPP_TOKEN" in hint for hint in adapters.setting_hints())
    on_kinds = [type(s) for s in adapters.senders(settings, bot.renderer, engine)]
    off_kinds = [type(s) for s in adapters.senders(off, bot.renderer, engine)]
    assert WhatsAppSender in on_kinds and WhatsAppSender not in off_kinds
    # Targets and people, from the package's Address.
    assert subscriptions.check_target(f"whatsapp:{ALICE}")
    for bad in ("whatsapp:+49 151", "whatsapp:", "whatsapp:49x"):
        with pytest.raises(subscriptions.BadTarget, match="whatsapp:WA_ID"):
            subscriptions.check_target(bad)
    assert ADDRESSES.reaches_person(f"whatsapp:{ALICE}") == f"whatsapp:{ALICE}"
    with pytest.raises(ValueError, match="whatsapp:WA_ID"):
        roles.check_identity("whatsapp:alice")
    # Its secrets never reach a log line.
    secrets = adapters.secrets(settings)
    assert {meta.TOKEN, meta.APP_SECRET, meta.VERIFY_TOKEN} <= set(secrets)


def test_the_credentials_check_reads_the_number_and_says_what_to_do(
    fake: FakeWhatsApp, engine: Engine
) -> None:
    from bot import adapters, health

    settings = Settings(database_url="sqlite://", whatsapp=wa_settings(fake))
    assert asyncio.run(adapters.probes(settings)["whatsapp"]()) == (
        True,
        "number +1 555 0100 (Clusterbot)",
    )
    assert fake.calls[-1].method == "number"
    wrong = Settings(database_url="sqlite://", whatsapp=wa_settings(fake, token="EAAwrong"))
    checks = {c.name: c for c in health.doctor(wrong, engine)}
    assert checks["whatsapp"].state == "fail"
    assert checks["whatsapp"].detail == "number refused: 190: Invalid OAuth access token"
    assert "EAAwrong" not in checks["whatsapp"].detail
    assert "WHATSAPP_TOKEN" in checks["whatsapp"].fix
    assert "platforms" not in checks  # WhatsApp alone is a configured platform


def test_readyz_names_whatsapp_once_its_credentials_are_accepted(
    fake: FakeWhatsApp, bot: Bot
) -> None:
    settings = Settings(
        database_url="sqlite://", whatsapp=wa_settings(fake), dispatch_in_serve=False
    )
    with served(create_app(settings, bot=bot)) as url:
        deadline = time.monotonic() + 10
        while True:
            checks = httpx.get(f"{url}/readyz").json()["checks"]
            if checks.get("whatsapp", "").startswith("ok"):
                break
            assert time.monotonic() < deadline, checks
            time.sleep(0.05)
