"""Who verified a country record and when: /verify in chat and the shell, staleness, reminders."""

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import Bot
from bot.cli import main
from bot.core import Reply
from bot.db import session_scope
from bot.domain import roles, verification
from bot.domain.records import import_file
from bot.models import CountryCluster, Notification, utcnow
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.conftest import Chat

COORDINATOR = "telegram:4242"
HEADER = "country,cluster,lead,co_lead,source\n"


def load(tmp_path: Path, kb: KnowledgeBase, engine: Engine) -> None:
    path = tmp_path / "sudan.csv"
    path.write_text(HEADER + "Sudan,health,WHO,,field office list\n", encoding="utf-8")
    import_file(path, kb, engine)


def grant(engine: Engine, identity: str, role: str) -> None:
    with session_scope(engine) as session:
        roles.grant(session, identity, role)


def reminders(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        rows = session.exec(select(Notification)).all()
        return [n for n in rows if n.template == "records/reminder.j2"]


def record(engine: Engine) -> CountryCluster:
    with Session(engine) as session:
        found = session.exec(select(CountryCluster)).one()
        session.expunge(found)
        return found


@pytest.fixture
def coordinator(
    bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path, chat_as: Callable[..., Chat]
) -> Chat:
    load(tmp_path, kb, engine)
    grant(engine, COORDINATOR, "coordinator")
    return chat_as(COORDINATOR)


def later(bot: Bot, days: float) -> datetime:
    """Move the bot's clock `days` ahead of now."""
    moment = utcnow() + timedelta(days=days)
    bot.clock = lambda: moment
    return moment


def test_confirm_then_age_past_the_limit_marks_it_and_reminds_once_a_period(
    bot: Bot, engine: Engine, coordinator: Chat
) -> None:
    shown = coordinator("/verify Sudan health")
    assert "Country record: Health in Sudan" in shown and "Lead: WHO" in shown
    assert "from the import of sudan.csv" in shown
    assert [c.label for c in coordinator.last.choices] == ["Still right", "Changed"]

    done = coordinator(action=coordinator.last.choices[0].action)
    assert "the record for Health in Sudan is confirmed as of" in done
    answer = coordinator("who leads health in Sudan?")
    assert "confirmed by: coordinator." in answer
    assert "Record source: field office list" in answer  # the import's source is kept
    assert "Possibly out of date" not in answer
    assert reminders(engine) == []

    later(bot, 91)
    answer = coordinator("who leads health in Sudan?")
    assert "⚠ Possibly out of date: not confirmed for 91 days (the limit is 90)" in answer
    assert "/verify Sudan Health" in answer
    sent = reminders(engine)
    assert [(n.target, n.priority) for n in sent] == [(COORDINATOR, 5)]
    notice = bot.renderer.plain(Reply(sent[0].template, sent[0].data, sent[0].lang, "n"))
    assert "Reminder: the country record for Health in Sudan (lead: WHO)" in notice

    coordinator("who leads health in Sudan?")  # asked again: no second reminder
    coordinator("which clusters are active in Sudan?")
    assert len(reminders(engine)) == 1

    later(bot, 182)  # a second period past the limit: a second reminder
    coordinator("who leads health in Sudan?")
    assert len(reminders(engine)) == 2

    coordinator("/verify Sudan health")
    coordinator(action=coordinator.last.choices[0].action)  # confirmed at the moved clock
    assert "Possibly out of date" not in coordinator("who leads health in Sudan?")


# By language: (a lead question, who confirmed the record as said, the stale warning's words).
FRESHNESS = {
    "en": ("who leads health in Sudan?", "confirmed by: coordinator.", "Possibly out of date"),
    "zh": ("健康集群在苏丹由谁牵头？", "确认人：协调员。", "可能已过时"),
    "fr": ("Qui dirige le cluster santé au Soudan ?", "confirmé par : coordonnateur", "Peut-être"),
    "es": (
        "¿Quién lidera el clúster de salud en Sudán?",
        "confirmado por: coordinador",
        "Posible",
    ),
    "ar": ("من يقود مجموعة الصحة في السودان؟", "أكّده: منسق", "قد يكون قديمًا"),
}


@pytest.mark.parametrize("lang", FRESHNESS)
def test_freshness_in_every_language(bot: Bot, coordinator: Chat, lang: str) -> None:
    question, as_of, stale = FRESHNESS[lang]
    coordinator("/verify Sudan health")
    coordinator(action=coordinator.last.choices[0].action)
    fresh = coordinator(question)
    assert as_of in fresh and stale not in fresh
    later(bot, 100)
    assert stale in coordinator(question)


def test_changed_gives_the_new_lead(engine: Engine, coordinator: Chat) -> None:
    coordinator("/verify Sudan health")
    old_button = coordinator.last.choices[0].action
    how = coordinator(action=coordinator.last.choices[1].action)
    assert "/verify Sudan Health = LEAD / CO-LEAD" in how

    done = coordinator("/verify Sudan health = UNICEF / Save the Children")
    assert "in Sudan, Health is now led by UNICEF" in done
    answer = coordinator("who leads health in Sudan?")
    assert "Lead: UNICEF" in answer and "Co-lead: Save the Children" in answer
    assert "Record source: corrected in chat" in answer
    row = record(engine)
    assert (row.origin, row.confirmed_by) == ("chat", COORDINATOR)

    # The button shown before the change no longer confirms anything.
    assert "has changed since that button was shown" in coordinator(action=old_button)

    # An agency named in another language is recorded by its English short name.
    coordinator("/verify 苏丹 卫生 = 世界卫生组织 /")
    assert (record(engine).lead, record(engine).co_lead) == ("WHO", "")


def test_an_unknown_agency_is_refused_with_a_suggestion(engine: Engine, coordinator: Chat) -> None:
    said = coordinator("/verify Sudan health = WHOO")
    assert "WHOO is not an agency we know. Did you mean WHO?" in said
    assert record(engine).lead == "WHO"
    coordinator("/verify Sudan health = <script>Evil<b> <@U1>")
    assert "&lt;script&gt;Evil&lt;b&gt; &lt;@U1&gt;" in coordinator.html()  # shown, not markup
    assert record(engine).lead == "WHO"


def test_a_co_lead_that_is_the_lead_is_refused(engine: Engine, coordinator: Chat) -> None:
    said = coordinator("/verify Sudan health = UNICEF / unicef")
    assert "UNICEF cannot be both the lead and the co-lead of Health in Sudan" in said
    assert "Nothing was changed." in said
    assert record(engine).lead == "WHO"


def test_an_unknown_country_or_cluster_is_named(coordinator: Chat) -> None:
    said = coordinator("/verify Atlantis health")
    assert said.startswith('I know no country or cluster called "Atlantis"; nothing was changed.')
    assert 'called "flying"' in coordinator("/verify Sudan flying = WHO")


def test_a_partner_may_not_verify(
    engine: Engine, coordinator: Chat, chat_as: Callable[..., Chat]
) -> None:
    coordinator("/verify Sudan health")
    button = coordinator.last.choices[0].action
    partner = chat_as("telegram:777")
    assert "Only coordinators, the RC/HC and admins" in partner("/verify Sudan health")
    assert "Only coordinators" in partner(action=button)  # a forwarded button changes nothing
    assert "Only coordinators" in partner("/verify Sudan health = UNICEF")
    assert (record(engine).lead, record(engine).confirmed_by) == ("WHO", "console:shell")


def test_a_button_for_a_record_that_is_gone_changes_nothing(
    engine: Engine, coordinator: Chat
) -> None:
    coordinator("/verify Sudan health")
    button = coordinator.last.choices[0].action
    with session_scope(engine) as session:
        session.delete(session.exec(select(CountryCluster)).one())
    assert "That button is no longer valid; nothing was changed." in coordinator(action=button)
    assert "That button is no longer valid" in coordinator(action="rec:ok:999:1")


def test_no_record_says_how_to_add_one(coordinator: Chat) -> None:
    said = coordinator("/verify Sudan shelter")
    assert "We hold no country record for Shelter in Sudan" in said
    assert "/verify Sudan Shelter = LEAD" in said
    assert "Usage: /verify COUNTRY CLUSTER" in coordinator("/verify Sudan")


def sh(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


def test_the_shell_confirms_and_corrects(
    migrated_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kb: KnowledgeBase,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "shell.db"
    db.write_bytes(migrated_db.read_bytes())
    monkeypatch.setenv("CLUSTERBOT_DATABASE_URL", f"sqlite:///{db}")
    csv = tmp_path / "sudan.csv"
    csv.write_text(HEADER + "Sudan,health,WHO,,office\n", encoding="utf-8")
    assert sh(["import-clusters", str(csv)], capsys)[0] == 0
    verify = ["records", "verify", "--as", "console:ana", "--country", "Sudan", "--cluster"]

    code, _, err = sh([*verify, "health"], capsys)
    assert code == 1 and "refused: verify needs one of these roles: admin, coordinator, hc" in err
    sh(["users", "grant", "console:ana", "coordinator"], capsys)
    code, out, _ = sh([*verify, "health"], capsys)
    assert code == 0 and out.startswith("Health in Sudan: confirmed as still right (lead WHO)")
    code, _, err = sh([*verify, "health", "--lead", "WHOO"], capsys)
    assert code == 2 and "unknown lead agency 'WHOO' (did you mean 'WHO'?); nothing changed" in err
    code, _, err = sh([*verify, "shelter"], capsys)
    assert code == 1 and "we hold no record for Shelter in Sudan" in err
    code, out, _ = sh([*verify, "health", "--lead", "UNICEF", "--co-lead", "NRC"], capsys)
    assert code == 0 and "corrected (lead UNICEF, co-lead NRC)" in out
    code, out, _ = sh(["records", "list"], capsys)
    assert "SD\thealth\tUNICEF\tas of " in out and "console:ana" in out
    monkeypatch.setenv("CLUSTERBOT_RECORD_MAX_AGE_DAYS", "0")
    code, out, _ = sh(["records", "list", "--stale"], capsys)
    assert "POSSIBLY OUT OF DATE" in out


def test_a_record_nobody_asks_about_reminds_through_the_dispatchers_tick(
    bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    load(tmp_path, kb, engine)
    grant(engine, COORDINATOR, "coordinator")
    with session_scope(engine) as session:
        row = session.exec(select(CountryCluster)).one()
        row.confirmed_by, row.confirmed_at = COORDINATOR, utcnow() - timedelta(days=100)
        session.add(row)
    dispatcher = bot.dispatcher(senders=[])
    assert dispatcher.tick is not None
    with session_scope(engine) as session:
        dispatcher.tick(session)
    assert [n.target for n in reminders(engine)] == [COORDINATOR]
    with session_scope(engine) as session:
        dispatcher.tick(session)  # spaced, and once per period anyway
    assert len(reminders(engine)) == 1


def test_stale_reminders_are_spaced_and_once_a_period(
    kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    load(tmp_path, kb, engine)
    grant(engine, COORDINATOR, "coordinator")
    with session_scope(engine) as session:  # the confirmer makes them the country's coordinator
        row = session.exec(select(CountryCluster)).one()
        row.confirmed_by = COORDINATOR
        session.add(row)
    moment = [utcnow() + timedelta(days=91)]
    hook = verification.StaleReminders(kb, timedelta(days=90), clock=lambda: moment[0])
    with session_scope(engine) as session:
        assert hook(session) == 1
    moment[0] += timedelta(minutes=11)
    with session_scope(engine) as session:
        assert hook(session) == 0  # scanned again, but already reminded this period
    moment[0] += timedelta(days=90)
    with session_scope(engine) as session:
        assert hook(session) == 1  # the next period
    with session_scope(engine) as session:
        assert hook(session) == 0  # too soon to scan again


def test_verify_and_remind_on_every_database(
    any_engine: Engine, kb: KnowledgeBase, tmp_path: Path
) -> None:
    load(tmp_path, kb, any_engine)
    grant(any_engine, COORDINATOR, "coordinator")
    bot = Bot(Settings(), kb=kb, engine=any_engine)
    coordinator = Chat(bot, COORDINATOR)
    coordinator("/verify Sudan health")
    assert "is confirmed as of" in coordinator(action=coordinator.last.choices[0].action)
    later(bot, 91)
    assert "Possibly out of date" in coordinator("who leads health in Sudan?")
    coordinator("who leads health in Sudan?")
    assert [n.target for n in reminders(any_engine)] == [COORDINATOR]
