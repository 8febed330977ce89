"""The activation checklist: walk-throughs, controls, persistence, many users, the verdict."""

import random
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import Bot
from bot.core import Incoming
from bot.models import ChecklistRun, utcnow
from bot.settings import Settings
from knowledge import KnowledgeBase
from knowledge.checklist import verdict
from tests.conftest import Chat

ENGLISH_WALK = [
    ("/checklist", "Question 1 of"),
    ("Sudan", "what has happened"),
    ("Fighting displaced two million people", "Which clusters"),
    ("health and shelterr", "Criterion 1: has there been a sharp deterioration"),
    ("yes - fighting spread to Darfur", "Criterion 1, Health"),
    ("yes", "Criterion 2, Health"),
    ("yes, ministry overwhelmed", "Criterion 1, Shelter"),
    ("no", "Criterion 2, Shelter"),
    ("unsure", "Activation step 1 of 8"),
]


def walk(chat: Chat, steps: list[tuple[str, str]]) -> None:
    for text, expected in steps:
        answer = chat(text)
        assert expected in answer, f"after {text!r}:\n{answer}"


def finish_steps_and_leads(chat: Chat) -> str:
    for _ in range(8):
        chat("done")
    chat("yes")  # keep WHO for health
    chat("none")
    chat("IOM")  # not the global shelter lead
    return chat("NRC")


def test_full_walk_through_in_english(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    answer = finish_steps_and_leads(chat)
    assert [r.intent for r in chat.replies] == ["checklist_done", "draft_letter"]
    summary, letter = answer.split("# DRAFT", 1)
    assert "Health: the activation criteria are met" in summary
    assert "Shelter: the activation criteria are not met" in summary
    assert "ministry overwhelmed" in summary
    assert "This differs from the global lead (UNHCR)" in summary
    assert "Proposed cluster activation, Sudan" in letter
    assert "### Health\n\nProposed lead: World Health Organization (WHO)." in letter
    # Shelter's criteria are not met: it is not proposed, and the letter says why.
    assert "### Shelter" not in letter
    assert "- **Shelter**: not proposed, because the activation criteria are not met." in letter
    assert "To: the Emergency Relief Coordinator" in letter
    assert chat.replies[1].file_name.endswith(".md")
    # Done: the next message is an ordinary question again.
    assert "UNICEF" in chat("who leads WASH")


def test_steps_name_who_acts(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    answers = [chat("done") for _ in range(6)]
    assert "Within 24 hours the ERC forwards" in answers[4]
    assert "ERC confirms the endorsement" in answers[5]


def test_invalid_answer_reprompts_without_moving(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:5])
    answer = chat("purple")
    assert "Please answer yes, no or unsure" in answer
    assert "Criterion 1, Health" in answer
    assert "Criterion 2, Health" in chat("yes")


def test_questions_are_answered_without_losing_the_place(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:5])
    answer = chat("what does provider of last resort mean?")
    assert "Provider of last resort" in answer
    assert answer.rstrip().endswith("for Health?")
    assert "Criterion 2, Health" in chat("yes")


def test_back_skip_status_pause_resume_restart_cancel(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:4])
    answer = chat("back")
    assert "Which clusters" in answer and "Your earlier answer: Health, Shelter" in answer
    chat("health")
    assert "Criterion 1, Health" in chat("skip")
    status = chat("status")
    assert "↷ 4. Criterion 1: sharp change" in status and "▶ 5." in status
    assert "paused" in chat("pause")
    assert "UNICEF" in chat("who leads WASH")  # paused: ordinary chat
    assert "Welcome back" in chat("resume")
    assert "Start again from the first question?" in chat("restart")
    assert "Starting again" in chat("yes")
    assert "▶ 1. Country or response" in chat("status")
    assert "cancelled" in chat("cancel")
    assert "UNICEF" in chat("who leads WASH")


def test_stale_button_is_refused_politely(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:4])
    old = chat.last.choices[0].action  # type: ignore[union-attr]
    chat("cancel")
    assert "no longer open" in chat(action=old)
    chat("/checklist")
    assert "no longer open" in chat(action=old)
    assert "no longer open" in chat(action="chk:999:yes:extra")


def test_buttons_answer_like_typing(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:4])
    choices = {c.label: c.action for c in chat.last.choices}  # type: ignore[union-attr]
    assert list(choices) == ["Yes", "No", "Unsure"]
    assert "Criterion 1, Health" in chat(action=choices["Yes"])


def test_answers_survive_a_restart(kb: KnowledgeBase, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = Chat(Bot(Settings(database_url=url), kb=kb))
    walk(first, ENGLISH_WALK[:6])
    second = Chat(Bot(Settings(database_url=url), kb=kb))  # a new process would do the same
    answer = second("/checklist")
    assert "Welcome back" in answer and "Criterion 2, Health" in answer
    status = second("status")
    assert "1. Country or response: Sudan" in status
    assert "5. Criterion 1: gaps in Health: Yes" in status


def test_one_open_checklist_per_user_per_chat(bot: Bot, engine: Engine) -> None:
    a = Chat(bot, "console:a")
    a("/checklist")
    assert "Welcome back" in a("/checklist")
    with Session(engine) as s:
        assert len(s.exec(select(ChecklistRun)).all()) == 1
    # The same person in another chat has a checklist of their own.
    elsewhere = bot.handle_sync(Incoming("console:a", "console:a#team", "/checklist"))
    assert "Question 1 of" in bot.render_plain(elsewhere)
    with Session(engine) as s:
        assert len(s.exec(select(ChecklistRun)).all()) == 2


@pytest.mark.parametrize("pending_restart", [False, True])
def test_expired_checklist_says_so(chat: Chat, engine: Engine, pending_restart: bool) -> None:
    walk(chat, ENGLISH_WALK[:3])
    if pending_restart:  # "start again?" asked, then left a month: it expires with the rest
        chat("restart")
    with Session(engine) as s:
        run = s.exec(select(ChecklistRun)).one()
        run.updated_at = utcnow() - timedelta(days=31)
        s.add(run)
        s.commit()
    assert "expired" in chat("what is a cluster?" if pending_restart else "health")
    assert "Question 1 of" in chat("/checklist")


def test_a_hundred_users_interleaved_never_mix(bot: Bot) -> None:
    rng = random.Random(7)
    countries = [
        "Sudan",
        "Chad",
        "Haiti",
        "Yemen",
        "Somalia",
        "Mali",
        "Niger",
        "Syria",
        "Iraq",
        "Libya",
    ]
    users = {f"console:u{i}": Chat(bot, f"console:u{i}") for i in range(100)}
    script = {
        uid: ["/checklist", countries[i % 10], f"event {i}", "health", "yes", "yes", "no"]
        for i, uid in enumerate(users)
    }
    pending = {uid: 0 for uid in users}
    while pending:
        uid = rng.choice(list(pending))
        users[uid](script[uid][pending[uid]])
        pending[uid] += 1
        if pending[uid] == len(script[uid]):
            del pending[uid]
    for i, chat in enumerate(users.values()):
        status = chat("status")
        assert f"1. Country or response: {countries[i % 10]}" in status
        assert f"2. What happened: event {i}" in status
        assert "6. Criterion 2: national capacity for Health: No" in status


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ({"change": "yes", "gaps:health": "yes", "capacity:health": "yes"}, "met"),
        ({"change": "no", "gaps:health": "yes", "capacity:health": "yes"}, "not_met"),
        ({"change": "yes", "gaps:health": "yes", "capacity:health": "no"}, "not_met"),
        ({"change": "yes", "gaps:health": "unsure", "capacity:health": "yes"}, "unclear"),
        ({"change": "yes", "capacity:health": "yes"}, "unclear"),
        ({"change": "unsure", "gaps:health": "yes", "capacity:health": "no"}, "not_met"),
    ],
)
def test_verdict(answers: dict[str, str], outcome: str) -> None:
    v = verdict({k: {"value": val} for k, val in answers.items()}, "health")
    assert v.outcome == outcome
    if outcome == "unclear":
        assert v.missing


ZH_LINES = [
    "/checklist",
    "苏丹",
    "冲突导致两百万人流离失所",
    "卫生",
    "是",
    "是",
    "是，国家系统不堪重负",
]
ZH_LINES += ["完成"] * 8 + ["是", "无"]
EN_LINES = [
    "/checklist",
    "Sudan",
    "Fighting displaced two million people",
    "health",
    "yes",
    "yes",
    "yes",
]
EN_LINES += ["done"] * 8 + ["yes", "none"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            EN_LINES,
            ["Health: the activation criteria are met", "To: the Emergency Relief Coordinator"],
        ),
        (ZH_LINES, ["国家系统不堪重负", "苏丹"]),
    ],
)
def test_walk_through_the_piped_terminal_with_a_restart(
    tmp_path: Path, migrated_db: Path, lines: list[str], expected: list[str]
) -> None:
    from tests.test_cli import run

    shutil.copyfile(migrated_db, tmp_path / "cli.db")
    half = len(lines) // 2
    first = run(["chat", "--user", "coordinator"], tmp_path, stdin="\n".join(lines[:half]) + "\n")
    assert first.returncode == 0, first.stderr
    # A new process: the checklist resumes where the first one stopped.
    second = run(["chat", "--user", "coordinator"], tmp_path, stdin="\n".join(lines[half:]) + "\n")
    assert second.returncode == 0, second.stderr
    for phrase in expected:
        assert phrase in second.stdout, second.stdout
    saved = list((tmp_path / "drafts").glob("activation-draft-*.md"))
    assert len(saved) == 1 and "# " in saved[0].read_text(encoding="utf-8")
    assert f"[{saved[0].resolve()}]" in second.stdout  # a path, in no language


def test_a_step_number_past_the_buttons_is_not_an_answer(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:4])
    answer = chat("7, something")
    assert "Criterion 1: has there been a sharp deterioration" in answer


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("start activation checklist", "en"),
        ("我想启动集群", "zh"),
        ("lancer la liste de vérification", "fr"),
        # As people type it: the wish to activate is the way in, in every language.
        ("I want to activate a cluster", "en"),
        ("quiero activar un clúster", "es"),
        ("je veux activer un cluster", "fr"),
        ("أريد تفعيل مجموعة", "ar"),
    ],
)
def test_the_readme_examples_start_the_checklist_in_their_language(
    chat: Chat, text: str, lang: str
) -> None:
    chat.ask(text, intent="checklist")
    assert chat.last.lang == lang


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # A wish with a question gets what the question asks, or the procedure for "how".
        ("we need to activate the health cluster in Sudan, how do we do it", "activation_steps"),
        ("I want to activate a cluster, what do I do?", "activation_steps"),
        ("quiero activar un cluster, como lo hago?", "activation_steps"),
        ("queremos activar el cluster de alojamiento, que tenemos que hacer", "activation_steps"),
        ("I want to activate a cluster, what are the criteria?", "activation_criteria"),
        ("نريد تفعيل مجموعة الصحة، ما هي المعايير؟", "activation_criteria"),
        ("我们想启动住所集群，标准是什么？", "activation_criteria"),
    ],
)
def test_a_wish_to_activate_with_a_question_answers_the_question(
    chat: Chat, text: str, topic: str
) -> None:
    chat(text)
    assert chat.last is not None and chat.last.data.get("topic") == topic


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to activate a cluster",
        "no need to activate a cluster",
        "why would we want to activate a cluster",
        "no queremos activar un clúster",
        "我们不想启动集群",
        "لا نريد تفعيل مجموعة",
    ],
)
def test_a_wish_turned_round_or_asked_about_starts_no_checklist(chat: Chat, text: str) -> None:
    chat(text)
    assert chat.last is not None and chat.last.intent != "checklist"


def test_a_lead_question_beside_a_wish_gets_the_lead(chat: Chat) -> None:
    chat.ask("we need to activate protection, who leads it?", intent="who_leads")


def test_a_wish_with_a_reason_is_no_question(chat: Chat) -> None:
    chat("queremos activar el cluster de salud ya que hubo un terremoto")  # "ya que": since
    assert chat.last is not None and chat.last.intent == "checklist"


def test_a_lead_or_co_lead_is_an_organisation_never_a_yes_or_a_no(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    assert "Which organisation do you propose instead?" in chat("no")  # Health's lead
    assert "Which organisation do you propose instead?" in chat("no one")  # not "one"
    assert "Any co-lead for Health" in chat("no, International Medical Corps")
    assert "Which organisation would co-lead?" in chat("yes")
    assert "Which agency do you propose to lead Shelter" in chat("yes, Save the Children")
    chat("yes, IOM")  # names IOM, not the global lead
    answer = chat("no, not for now")  # no co-lead
    summary, letter = answer.split("# DRAFT", 1)
    assert "Proposed lead: International Medical Corps; co-lead: Save the Children" in summary
    assert "Proposed lead: International Organization for Migration (IOM)" in summary
    assert "Proposed co-lead: Save the Children." in letter
    assert "co-lead: no" not in answer and "co-lead: yes" not in answer


def test_a_name_that_starts_with_an_answer_word_stays_whole(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    # "No Lost Generation" is the name of an initiative, not "no" and a note.
    answer = chat("No Lost Generation")
    assert "Lead for Health: No Lost Generation (noted" in answer
    assert "Co-lead for Health: No-Lost Partners (noted" in chat("No-Lost Partners")
    chat("No IOM")  # the answer word, then an organisation we know
    answer = chat("none")
    assert "Proposed lead: No Lost Generation; co-lead: No-Lost Partners" in answer
    assert "Proposed lead: International Organization for Migration (IOM)" in answer
    assert (
        "[Explain why No Lost Generation is better placed than the global lead (WHO).]" in answer
    )


@pytest.mark.parametrize(
    ("walk_to_lead", "kept", "lead"),
    [
        (
            ["Syria", "heavy fighting displaced 100,000 people", "shelter"],
            "to keep UNHCR",
            "UNHCR",
        ),
        (["Syrie", "des combats ont déplacé 50 000 personnes", "abris"], "organisme (HCR)", "HCR"),
        (
            ["Siria", "enfrentamientos armados desplazaron a miles", "alojamiento"],
            "ACNUR",
            "ACNUR",
        ),
        (["Haiti", "floods destroyed 30,000 homes", "shelter"], "to keep IFRC", "IFRC"),
        (["Haiti", "a crisis in the south", "cccm"], "to keep IOM, the first above", "IOM"),
    ],
)
def test_a_lead_that_depends_on_the_emergency_follows_what_happened(
    chat: Chat, walk_to_lead: list[str], kept: str, lead: str
) -> None:
    # Shelter and CCCM are led by one agency in natural disasters, another in conflict.
    chat("/checklist")
    for text in walk_to_lead:
        chat(text)
    yes, done = {"en": ("yes", "done"), "fr": ("oui", "fait"), "es": ("sí", "hecho")}[
        chat.last.lang if chat.last else "en"
    ]
    for _ in range(3):
        chat(yes)
    for _ in range(8):
        question = chat(done)
    assert kept in question, question
    recorded = chat(yes).splitlines()[0]
    assert f": {lead} (" in recorded, recorded


@pytest.mark.parametrize(
    ("text", "co_lead"),
    [
        ("no, IOM", "International Organization for Migration (IOM)"),
        ("No, Danish Refugee Council", "Danish Refugee Council"),
    ],
)
def test_no_then_an_organisation_names_the_co_lead(chat: Chat, text: str, co_lead: str) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    chat("yes")
    answer = chat(text)
    assert f"Co-lead for Health: {co_lead.split(' (')[-1].strip(')')} (noted" in answer
    assert "Which agency do you propose to lead Shelter" in answer  # in English still
    chat("yes")
    summary = chat("no, not for now").split("# DRAFT", 1)[0]
    assert f"Proposed lead: World Health Organization (WHO); co-lead: {co_lead}" in summary
    # "no" with words that are no name is a note on having no co-lead; "yes" kept Shelter's
    # lead in conflict, since what happened was fighting.
    unhcr = "Office of the UN High Commissioner for Refugees (UNHCR)"
    assert f"Proposed lead: {unhcr}\n" in summary


@pytest.mark.parametrize(
    ("lang", "text", "co_lead"),
    [
        ("fr", "non, la FICR", "co-chef de file : Fédération internationale"),
        ("es", "no, OIM", "colíder: Organización Internacional para las Migraciones (OIM)"),
        ("zh", "没有，IOM", "国际移民组织 (IOM)"),
        ("ar", "لا، IOM", "المنظمة الدولية للهجرة (IOM)"),
        # More words after the name are a note, not part of it, nor a reason to drop it.
        ("fr", "non, Norwegian Refugee Council pour l'instant", "Conseil norvégien"),
        ("fr", "non, NRC pour l'instant", "Conseil norvégien"),
        ("es", "no, Norwegian Refugee Council por ahora", "Consejo Noruego"),
        ("es", "no, NRC por ahora", "Consejo Noruego"),
        ("en", "no, Norwegian Refugee Council for now", "Norwegian Refugee Council (NRC)"),
    ],
)
def test_no_then_an_organisation_names_the_co_lead_in_each_language(
    chat: Chat, kb: KnowledgeBase, lang: str, text: str, co_lead: str
) -> None:
    from tests.test_letter import lines_in

    lines = lines_in(kb, lang)
    lines[lines.index(kb.text(lang).checklist_words["none"][0])] = text  # Health's co-lead
    for line in lines:
        chat(line)
    summary = chat.bot.renderer.plain(chat.replies[0])
    health = summary.split(kb.text(lang).sectors["health"].name, 1)[1][:600]
    assert co_lead in health, health


def test_an_english_checklist_stays_english_after_a_short_answer(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:5])
    assert "Criterion 2, Health" in chat("no, IOM has it covered")
    assert "Criterion 1, Shelter" in chat("no, OIM")
    # A note in another language is that language: the checklist follows the user.
    assert "Criterio 2, Alojamiento" in chat("no, el ministerio puede con esto")


@pytest.mark.parametrize("lang", ["en", "zh", "fr"])
def test_an_answer_word_of_another_question_is_asked_again_never_answered(
    chat: Chat, kb: KnowledgeBase, lang: str
) -> None:
    from tests.test_letter import lines_in

    lines = lines_in(kb, lang)
    for line in lines[: lines.index(kb.text(lang).checklist_words["done"][0])]:
        chat(line)
    for word in ("none", "done"):  # "none" to a step; then "done" is right
        answer = chat(kb.text(lang).checklist_words[word][0])
        assert chat.last is not None and chat.last.intent == "checklist", answer
    assert [r.intent for r in chat.replies] == ["checklist"]
    if lang == "zh":
        assert "（共 8 步）：" in answer and "（共 8 步）： " not in answer


def test_a_spanish_checklist_stays_spanish_when_a_lead_is_named_in_english(
    chat: Chat, kb: KnowledgeBase
) -> None:
    from tests.test_letter import lines_in

    lines = lines_in(kb, "es")
    at = lines.index("NRC")
    lines[at - 1] = "No Lost Generation"  # Shelter's lead: a name, in no language
    lines[at] = "Danish Refugee Council"  # and its co-lead
    for line in lines:
        chat(line)
        assert {r.lang for r in chat.replies} == {"es"}, line
    summary = chat.bot.renderer.plain(chat.replies[0])
    assert "No Lost Generation; colíder: Danish Refugee Council" in summary


def test_n_a_is_written_as_people_write_it(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    assert chat.last is not None
    assert [c.label for c in chat.last.choices] == ["Done", "Not yet", "N/A"]


@pytest.mark.parametrize(
    ("lang", "text", "value", "note"),
    [
        # A number or an answer word, with a note after it, in any script.
        ("en", "1, roads cut, 20 clinics closed", "yes", "roads cut, 20 clinics closed"),
        ("en", "2 - the ministry is coping", "no", "the ministry is coping"),
        ("en", "3", "unsure", ""),
        ("en", "oui : les routes sont coupées", "yes", "les routes sont coupées"),
        ("en", "نعم، الطرق مقطوعة", "yes", "الطرق مقطوعة"),
        ("en", "是的，道路中断", "yes", "道路中断"),
        ("ar", "١، العيادات مغلقة", "yes", "العيادات مغلقة"),  # an Arabic-Indic 1, an Arabic comma
        ("ar", "لا ينطبق", None, None),  # "n/a" is no "no" with a note
        ("es", "no aplica", None, None),
        ("es", "no sé", "unsure", ""),
    ],
)
def test_a_criterion_is_answered_as_the_user_means_it(
    chat: Chat, engine: Engine, kb: KnowledgeBase, lang: str, text: str, value: str, note: str
) -> None:
    from tests.test_letter import lines_in

    for line in lines_in(kb, lang)[:4]:
        chat(line)
    answer = chat(text)
    with Session(engine) as session:
        run = session.exec(select(ChecklistRun)).one()
    if value is None:  # asked again, in the checklist's language
        assert "change" not in run.answers and chat.last is not None
        assert chat.last.intent == "checklist" and chat.last.lang == lang, answer
    else:
        assert (run.answers["change"]["value"], run.answers["change"]["note"]) == (value, note)


def test_the_status_lists_clusters_as_the_language_writes_them(
    chat: Chat, kb: KnowledgeBase
) -> None:
    from tests.test_letter import lines_in

    for line in lines_in(kb, "ar")[:4]:
        chat(line)
    status = chat(kb.text("ar").checklist_words["status"][0])
    assert "الصحة، المأوى" in status and "الصحة," not in status


def test_a_lead_is_never_an_answer_word_or_a_button_number(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    assert "Which organisation do you propose instead?" in chat("n/a")  # Health needs a lead
    assert "Which organisation do you propose instead?" in chat("done")
    assert "Which organisation do you propose instead?" in chat("2")  # no second button
    assert "Lead for Health: WHO (noted" in chat("1")  # the "Yes" button, typed
    assert "Co-lead for Health: None (noted" in chat("n/a")  # no co-lead
    chat("لا ينطبق")  # Shelter's lead: an answer word, in Arabic
    assert chat.last is not None and chat.last.data["question"]["key"] == "lead:shelter"


@pytest.mark.parametrize(
    ("opening", "then"),
    [
        (["/checklist", "Sudan", "fighting"], "health, wash"),
        ([], "we need to activate health and shelter in Sudan"),
    ],
)
def test_a_cluster_our_records_show_active_is_said_before_going_on(
    chat: Chat, kb: KnowledgeBase, engine: Engine, opening: list[str], then: str
) -> None:
    from bot.domain.records import import_file
    from tests.test_country import EXAMPLE

    import_file(EXAMPLE, kb, engine)  # Sudan: health and nutrition activated on 2023-05-01
    for text in opening:
        chat(text)
    answer = chat(then)
    notice, question = chat.bot.render_plain(chat.replies[:1]), chat.replies[-1]
    assert "already activated in Sudan:\n• Health: activated on 2023-05-01, lead WHO" in notice
    assert "Nutrition" not in notice  # activated, but not chosen
    assert question.data["question"]["number"] in (2, 4), answer  # and the checklist goes on


def test_congo_as_the_country_is_asked_which(chat: Chat, engine: Engine) -> None:
    # The letter and the records need the one meant: "Congo" fits two countries.
    chat("/checklist")
    answer = chat("Congo")
    assert "Which country do you mean: Democratic Republic of the Congo or Republic" in answer
    assert "Question 1 of" in answer
    assert "Question 2 of" in chat("DRC")
    with Session(engine) as session:
        run = session.exec(select(ChecklistRun)).one()
    assert run.answers["country"]["value"]["code"] == "CD"


@pytest.mark.parametrize("country", ["Hello, Sudan", "Thanks! Haiti"])
def test_a_greeting_with_the_answer_is_the_answer(chat: Chat, country: str) -> None:
    chat("I want to activate a cluster")
    assert "what has happened" in chat(country)


def test_the_country_and_what_happened_are_words_not_a_yes(chat: Chat) -> None:
    chat("I want to activate a cluster")
    assert "Please name the country, or the response with its country" in chat("yes")
    assert "Please name the country, or the response with its country" in chat("🙂")
    assert "Please name the country, or the response with its country" in chat(
        "hello"
    )  # a greeting is no place
    assert "what has happened" in chat("the Darfur response, Sudan")
    assert "Please say in a few words what has happened" in chat("ok")
    assert "Please say in a few words what has happened" in chat("thanks!")
    assert "Which clusters" in chat("hello, an earthquake hit the north")  # more than a hello
    assert "Which clusters" in chat("floods displaced 40,000 people")


@pytest.mark.parametrize(
    ("opening", "given", "answers", "then"),
    [
        ("we need to activate the health cluster in Chad", "Chad; Health", ["floods"], "Question 4"),
        ("I want to activate the WASH cluster", "Water, Sanitation and Hygiene", ["Chad", "floods"],
         "Question 4"),
        ("je veux activer le cluster santé au Tchad", "Tchad ; Santé", ["inondations"],
         "Question 4 sur 16"),
    ],
)  # fmt: skip
def test_what_the_opening_message_said_is_not_asked_again(
    chat: Chat, engine: Engine, opening: str, given: str, answers: list[str], then: str
) -> None:
    assert f"{given} (" in chat(opening)
    for text in answers:
        answer = chat(text)
    assert then in answer  # the clusters (and the country) are not asked
    with Session(engine) as session:
        run = session.exec(select(ChecklistRun)).one()
    assert run.answers["clusters"]["prefilled"] and run.answers["emergency"]["value"]


def test_no_and_the_lead_to_the_co_lead_question_means_the_lead_alone(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    chat("yes")  # WHO leads Health
    answer = chat("no, WHO")  # "no co-lead: WHO alone"
    assert "Co-lead for Health: None (noted" in answer
    assert "already the proposed lead" not in answer


def test_a_name_typed_over_two_lines_is_one_name(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    assert "Lead for Health: Mercy Corps (noted" in chat("Mercy\nCorps")
    answer = chat("Danish Refugee\n- Council")
    assert "Co-lead for Health: Danish Refugee - Council (noted" in answer


def test_an_answer_to_a_paused_checklist_says_it_is_paused(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:5])
    chat("pause")
    assert 'Checklist paused; your answers are kept. Type "resume"' in chat("yes")
    assert "UNICEF" in chat("who leads WASH?")  # questions are still answered
    assert "Criterion 1, Health" in chat("resume")


@pytest.mark.parametrize(
    ("opening", "country", "status", "letter", "paused"),
    [
        ("/checklist", "Sudan", "status", "the letter", "Checklist paused; your answers are kept"),
        (
            "nous voulons activer des clusters",
            "Soudan",
            "statut",
            "la lettre",
            "Liste de vérification en pause",
        ),
        ("我想启动集群", "苏丹", "状态", "信函", "核对清单已暂停"),
    ],
)
def test_status_and_the_letter_work_while_paused_after_a_restart(
    kb: KnowledgeBase,
    tmp_path: Path,
    opening: str,
    country: str,
    status: str,
    letter: str,
    paused: str,
) -> None:
    url = f"sqlite:///{tmp_path / 'paused.db'}"
    first = Chat(Bot(Settings(database_url=url), kb=kb))
    first(opening)
    first(country)
    first("pause")
    second = Chat(Bot(Settings(database_url=url), kb=kb))  # a new process on the same database
    for word in (status, letter):
        answer = second(word)
        assert "✔ 1." in answer and "▶ 2." in answer, answer
        assert paused in answer  # still paused: how to go on, not "type an answer"
    second("back")  # a step needs the checklist resumed first
    assert second.last is not None and second.last.template == "checklist/paused.j2"
    second("cancel")
    assert second.last.template == "checklist/cancelled.j2"
    second(status)
    assert second.last.template == "checklist/none_open.j2"


@pytest.mark.parametrize(("opening", "stop"), [("/checklist", "stop"), ("我想启动集群", "停")])
def test_a_bare_stop_pauses_and_is_never_the_country(chat: Chat, opening: str, stop: str) -> None:
    chat.ask(opening, stop, intent="checklist")
    assert chat.last.template == "checklist/paused.j2"
    chat("resume" if stop == "stop" else "继续")
    assert chat.last.data["question"]["key"] == "country"  # nothing was recorded


@pytest.mark.parametrize(
    "question", ["who leads health", "what are the criteria", "qué es el POLR", "谁牵头卫生集群"]
)
def test_a_question_typed_at_a_free_text_answer_is_answered_not_recorded(
    chat: Chat, question: str
) -> None:
    chat("/checklist")
    chat(question)
    assert chat.replies[0].intent != "checklist"  # answered first,
    assert chat.replies[-1].data["question"]["key"] == "country"  # then asked again
    chat("Sudan")
    chat(question)
    assert chat.replies[-1].data["question"]["key"] == "emergency"  # nothing recorded
    status = chat("status")  # the country in the status's language ("Sudán", "苏丹")
    assert "✔ 1." in status and "▶ 2." in status and question not in status


@pytest.mark.parametrize("text", ["No Thanks", "None For Now", "Yes Please"])
def test_an_answer_word_with_everyday_words_in_capitals_is_no_name(chat: Chat, text: str) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    chat("yes")  # Health's global lead
    answer = chat(text)  # to "any co-lead?"
    name = text.split(" ", 1)[1]
    assert (
        f"Co-lead for Health: {name}" not in answer and f"Co-lead for Health: {text}" not in answer
    )
    if text.startswith("Yes"):
        assert "Which organisation would co-lead?" in answer
    else:
        assert "Co-lead for Health: None (noted" in answer


def test_two_countries_in_the_opening_message_are_asked_about(chat: Chat) -> None:
    answer = chat("I want to activate the health cluster in Sudan and Chad")
    assert "Sudan" not in answer.split("Question")[0]  # neither is taken as the answer
    assert chat.replies[-1].data["question"]["key"] == "country"


CO_LED_WALK = [
    ("/checklist", "Question 1 of"),
    ("Sudan", "what has happened"),
    ("Drought and fighting cut the harvest", "Which clusters"),
    ("food security and education", "Criterion 1"),
    *[("yes", "") for _ in range(5)],
    *[("done", "") for _ in range(7)],
]


def test_yes_to_a_co_led_cluster_keeps_both_co_leads(chat: Chat) -> None:
    walk(chat, CO_LED_WALK)
    question = chat("done")
    assert (
        "Globally, World Food Programme (WFP) and Food and Agriculture Organization of the"
        ' United Nations (FAO) co-lead it: answer "yes" to keep both (WFP as the lead, FAO as'
        " the co-lead)"
    ) in question, question
    answer = chat("yes")  # both kept: the co-lead question is passed over
    assert "Lead for Food Security: WFP; co-lead: FAO (noted" in answer, answer
    assert (
        "Which agency do you propose to lead Education? Globally, United Nations Children's"
        " Fund (UNICEF) and Save the Children co-lead it"
    ) in answer
    answer = chat("1")  # the button number keeps both too
    summary, letter = answer.split("# DRAFT", 1)
    assert (
        "Proposed lead: World Food Programme (WFP); co-lead: Food and Agriculture Organization"
        " of the United Nations (FAO)"
    ) in summary
    assert (
        "Proposed lead: United Nations Children's Fund (UNICEF); co-lead: Save the Children"
    ) in summary
    assert "Proposed lead: World Food Programme (WFP). Proposed co-lead: Food and" in letter
    assert (
        "Proposed lead: United Nations Children's Fund (UNICEF). Proposed co-lead: Save the"
        " Children."
    ) in letter
    assert "This differs from the global lead" not in summary


def test_naming_one_co_lead_asks_for_the_other(chat: Chat) -> None:
    walk(chat, CO_LED_WALK)
    chat("done")
    answer = chat("WFP")  # one agency named: the co-lead is asked, not assumed
    assert "Lead for Food Security: WFP (noted" in answer
    assert "Any co-lead for Food Security" in answer
    chat("back")
    answer = chat("yes")
    assert "Lead for Food Security: WFP; co-lead: FAO (noted" in answer
    chat("back")  # the kept co-lead is shown, and can be changed
    chat("back")
    answer = chat("no, WHO")  # a lead named again drops the co-lead "yes" kept
    assert "Any co-lead for Food Security" in answer, answer


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("no todavía", "not_yet"),
        ("no, todavía", "not_yet"),
        ("non, pas encore", "not_yet"),
        ("pas encore fait", "not_yet"),
        ("not yet done", "not_yet"),
        ("no, not yet", "not_yet"),
        ("todavía no hecho", "not_yet"),
        ("没有，还没有", "not_yet"),
        ("لا، ليس بعد", "not_yet"),
        ("yes, done", "done"),
        ("oui, c'est fait", "done"),
        # Words that say nothing of the step are no note either ("Actually." in the letter).
        ("no actually", "not_yet"),
        ("done, i think", "done"),
        ("oui bien sûr", "done"),
        ("sí, claro", "done"),
        ("是的，其实", "done"),
        ("نعم بالتأكيد", "done"),
    ],
)
def test_a_note_that_only_repeats_the_answer_is_no_note(
    kb: KnowledgeBase, text: str, value: str
) -> None:
    from knowledge.checklist import Answer, Question, parse

    step = Question("step:1", "step", step=1)
    assert parse(step, text, kb, kb.checklist_words) == Answer(value, "")
    # Words of its own are a note still.
    noted = parse(step, f"{text}, roads cut", kb, kb.checklist_words)
    assert isinstance(noted, Answer) and noted.value == value
    assert noted.note.endswith("roads cut"), noted


def test_no_todavia_prints_no_note_in_the_letter(chat: Chat, kb: KnowledgeBase) -> None:
    from tests.test_letter import lines_in

    lines = lines_in(kb, "es")
    lines[lines.index(kb.text("es").checklist_words["not_yet"][0])] = "no todavía"  # step 4
    for line in lines:
        chat(line)
    letter = chat.bot.renderer.plain(chat.replies[1])
    assert "Todavía." not in letter, letter
    assert letter.count("Nota de la lista de verificación") == 1, letter  # step 3's, kept


# To the second activation step, where a question typed is answered and the step asked again.
_TO_STEP_2 = {
    "en": ["/checklist", "Sudan", "fighting", "health", "yes", "yes", "yes", "done"],
    "fr": ["/checklist", "Soudan", "des combats", "santé", "oui", "oui", "oui", "fait"],
    "es": ["/checklist", "Sudán", "combates", "salud", "sí", "sí", "sí", "hecho"],
}


@pytest.mark.parametrize(
    ("lang", "question", "expected"),
    [
        ("fr", "combien d'heures a le CSU ?", "24 heures"),
        ("es", "¿cuántas horas tiene el CSE?", "24 horas"),
        # A question opening with a word said beside answers ("please", "actually") is one.
        ("en", "please how many hours does the ERC have", "24 hours"),
        ("en", "actually, how many hours does the ERC have", "24 hours"),
        ("fr", "merci, combien d'heures a le CSU", "24 heures"),
        ("es", "por favor, cuántas horas tiene el CSE", "24 horas"),
    ],
)
def test_a_question_is_answered_mid_checklist(
    chat: Chat, lang: str, question: str, expected: str
) -> None:
    for line in _TO_STEP_2[lang]:
        step = chat(line)
    assert " 2 " in step.splitlines()[1], step  # the second activation step
    answer = chat(question)
    assert expected in answer.split("\n\n")[0], answer
    assert answer.endswith(step.splitlines()[-1]), answer  # the step asked again


@pytest.mark.parametrize("lang", ["en", "fr", "es", "zh", "ar"])
def test_restart_asks_before_clearing_every_answer(
    chat: Chat, kb: KnowledgeBase, lang: str
) -> None:
    from tests.test_letter import lines_in

    words = kb.text(lang).checklist_words
    for line in lines_in(kb, lang)[:5]:  # the country, what happened, the clusters, criterion 1
        question = chat(line)
    asked = chat(words["restart"][0])
    assert [c.label.casefold() for c in chat.last.choices] == [words["yes"][0], words["no"][0]]
    assert "4" in asked and question.splitlines()[-1] not in asked
    # "no" keeps every answer: the same question again.
    kept = chat(words["no"][0])
    assert kept.splitlines()[-1] == question.splitlines()[-1]
    assert chat(words["status"][0]).count("✔") == 4
    # The Yes button clears them; typed "yes" does the same.
    chat(words["restart"][0])
    cleared = chat(action=chat.last.choices[0].action)
    assert "1" in cleared.splitlines()[-2] and chat(words["status"][0]).count("✔") == 0


@pytest.mark.parametrize(
    ("lang", "confirmed"),
    [
        ("en", "yes please, start over"),
        ("fr", "oui svp"),
        ("es", "sí, por favor"),
        ("zh", "是的，请"),
        ("ar", "نعم من فضلك"),
    ],
)
def test_a_polite_yes_to_start_again_clears_every_answer(
    chat: Chat, kb: KnowledgeBase, lang: str, confirmed: str
) -> None:
    from tests.test_letter import lines_in

    for line in lines_in(kb, lang)[:5]:
        chat(line)
    words = kb.text(lang).checklist_words
    chat(words["restart"][0])
    chat(confirmed)
    assert chat(words["status"][0]).count("✔") == 0


def test_a_restart_not_answered_yes_or_no_clears_nothing(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:5])
    chat("restart")
    # "yes" with more may answer the question before: neither recorded nor cleared.
    assert "Start again from the first question?" in chat("yes, the fighting spread")
    assert "Nothing was cleared" in chat("no, keep them")
    chat("restart")
    # Another answer goes on with the checklist; a "yes" after it is an answer, not a restart.
    assert "Criterion 2, Health" in chat("unsure")
    assert "Criterion 1, Shelter" in chat("yes")
    stale = chat(action="chk:1:restart_yes")
    assert "no longer open" in stale and "Criterion 1, Shelter" in stale
    assert "✔ 6." in chat("status")


def test_an_area_of_responsibility_is_asked_as_its_cluster(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:3])
    answer = chat("child protection and education")
    assert "Child Protection is an Area of Responsibility of the Protection cluster" in answer
    assert "so name Protection instead" in answer and "Which clusters" in answer
    chat("protection and education")
    assert "✔ 3. Clusters considered: Protection, Education" in chat("status")


def test_an_area_of_responsibility_beside_its_cluster_is_the_cluster(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:3])
    chat("protection, child protection and GBV")
    assert "✔ 3. Clusters considered: Protection" in chat("status")


@pytest.mark.parametrize("lang", ["en", "fr", "es", "zh", "ar"])
def test_checklist_words_after_it_finished_say_how_to_change_it(
    chat: Chat, kb: KnowledgeBase, lang: str
) -> None:
    from tests.test_letter import lines_in

    for line in lines_in(kb, lang):
        chat(line)
    assert chat.replies[-1].intent == "draft_letter"
    words = kb.text(lang).checklist_words
    for group in ("back", "restart", "resume"):
        answer = chat(words[group][0])
        assert "/checklist" in answer and chat.last.intent == "checklist", answer
        assert kb.matcher.country_name("SD", lang) in answer, answer
        assert words["status"][0] in answer  # how to see the summary and letter again
    # Its summary and letter again: nothing may be "above" (the bot may have restarted).
    for group in ("status", "letter"):
        chat(words[group][0])
        assert [r.intent for r in chat.replies] == ["checklist_done", "draft_letter"]
    # "stop" or "pause" says nothing about a checklist that is over.
    chat(words["pause"][0])
    assert chat.last is not None and chat.last.intent != "checklist", chat.last
    # /checklist then starts a new one.
    assert "1" in chat("/checklist")
    assert chat.last.intent == "checklist" and len(chat.replies) == 1


def test_an_answer_is_held_to_the_limit_every_message_is(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:2])
    kept = chat("x " * 450)  # 900 characters: within the one limit
    assert "Which clusters" in kept, kept
    chat("back")
    answer = chat("y" * 1200)
    assert answer.startswith("Your message is 1200 characters long; I read messages of up to 1000")
    assert "what has happened" in answer
    outside = Chat(chat.bot, "console:other")("z" * 1200)
    assert outside.startswith(answer.split("\n")[0])


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("colead", "no, Mercy Corps for now", "Mercy Corps"),
        ("lead", "no, Mercy Corps for now", "Mercy Corps"),
        ("colead", "non, NRC pour l'instant", "NRC"),
        ("colead", "no, por ahora", ""),
        ("colead", "non, pas pour l'instant", ""),
    ],
)
def test_a_name_is_read_up_to_the_words_after_it(
    kb: KnowledgeBase, kind: str, text: str, value: str
) -> None:
    from knowledge.checklist import Answer, Question, parse

    parsed = parse(
        Question(f"{kind}:health", kind, cluster="health"), text, kb, kb.checklist_words
    )
    assert isinstance(parsed, Answer) and parsed.value == value, parsed


@pytest.mark.parametrize(
    "text",
    [
        "no, IOM is not co-lead",
        "no, UNICEF wanted to but declined",
        "no, Save the Children will decide later",
    ],
)
def test_a_name_said_with_more_than_how_long_is_asked_about(chat: Chat, text: str) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    chat("yes")
    answer = chat(text)  # neither recorded as the co-lead nor lost: which is meant is asked
    assert "Co-lead for Health:" not in answer, answer
    assert chat.last is not None and chat.last.data["note"] == "invalid_colead_name"


def test_a_known_organisation_among_other_words_is_asked_about_never_lost(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    chat("yes")
    # More is said of the organisation than how long it holds ("no, IOM is not taking part"):
    # which organisation co-leads is asked, rather than IOM recorded or the name lost.
    answer = chat("没有，国际移民组织不参与")
    assert "共同牵头" in answer or "co-lead" in answer, answer
    assert chat.last is not None and chat.last.data["note"] == "invalid_colead_name"
    assert "Co-lead for Health: IOM" in chat("没有，国际移民组织暂时")  # "no, IOM for now"


@pytest.mark.parametrize(
    ("typed", "reprompt"),
    [
        ("1", "Please name the country, or the response with its country"),
        ("Sudn", 'I know no country called "Sudn". Did you mean Sudan?'),
        ("Chda", 'I know no country called "Chda". Did you mean Chad?'),  # two letters swapped
        ("the Sahel floods response", 'I know no country called "the Sahel floods response".'),
        ("Mali and Niger", "Which country do you mean: Mali or Niger?"),
    ],
)
def test_the_country_is_one_country_we_know_or_asked_again(
    chat: Chat, typed: str, reprompt: str
) -> None:
    chat("/checklist")
    answer = chat(typed)
    assert reprompt in answer
    assert "Question 1 of" in answer
    assert "what has happened" in chat("Darfur, Sudan")


def test_markup_typed_with_the_country_never_reaches_the_letter(chat: Chat) -> None:
    chat("/checklist")
    chat("<b>Sudan</b> <!here>")
    assert "1. Country or response: Sudan\n" in chat("status")
    lines = ["floods", "health", "yes", "yes", "yes", *["done"] * 8, "yes"]
    for line in lines:
        chat(line)
    chat("none")
    letter = chat.replies[1]
    for text in (chat.bot.renderer.document(letter), chat.bot.renderer.plain(letter)):
        assert text.startswith("# DRAFT: Proposed cluster activation, Sudan\n")
        assert "<!here>" not in text and "<b>" not in text and "\\<" not in text


def test_a_lead_a_slip_from_an_agency_we_know_is_asked_again(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")
    answer = chat("WHOO")  # as /propose mali health=WHOO: "Did you mean WHO?"
    assert "WHOO is not an agency we know. Did you mean WHO?" in answer
    assert "Which agency do you propose to lead Health?" in answer
    assert "Lead for Health: Mercy Corps" in chat("Mercy Corps")  # an NGO is taken as written
    assert "WHOO is not an agency we know" not in chat("none")
    chat("UNHCR")  # Shelter's lead
    assert "IFRCC is not an agency we know. Did you mean IFRC?" in chat("IFRCC")  # a co-lead too


def test_after_a_checklist_ends_status_and_the_letter_are_answered(
    kb: KnowledgeBase, engine: Engine
) -> None:
    chat = Chat(Bot(Settings(database_url="sqlite://"), kb=kb, engine=engine))
    for text in ("status", "resume", "show the letter"):
        assert "No activation checklist is open. Type /checklist" in chat(text), text
    chat("/checklist")
    chat("Sudan")
    chat("cancel")
    for text in ("status", "resume", "show the letter", "back"):
        assert "No activation checklist is open. Type /checklist" in chat(text), text
    walk(chat, [("/checklist", "Question 1"), *ENGLISH_WALK[1:]])
    finish_steps_and_leads(chat)
    # The bot restarts: the finished checklist's summary and letter are shown, not "above".
    again = Chat(Bot(Settings(database_url="sqlite://"), kb=kb, engine=engine))
    for text in ("show the letter", "status"):
        answer = again(text)
        assert [r.intent for r in again.replies] == ["checklist_done", "draft_letter"], text
        assert "# DRAFT: Proposed cluster activation, Sudan" in answer
        assert again.replies[1].file_name.endswith(".md")
    answer = again("back")
    assert "above" not in answer and 'type "status" to see its summary' in answer


def _to_health_lead(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK)
    for _ in range(8):
        chat("done")


def _asked(chat: Chat) -> str:
    """The key of the checklist question the last reply asks."""
    return str(chat.replies[-1].data["question"]["key"])


def test_a_question_at_the_lead_or_co_lead_is_answered_never_taken_as_a_name(chat: Chat) -> None:
    _to_health_lead(chat)
    answer = chat("who leads shelter in conflict")
    assert "UNHCR" in answer and "Back to your activation checklist" in answer
    assert _asked(chat) == "lead:health"
    # A question the bot cannot answer is still no name: what is wanted is said again.
    answer = chat("is the ministry better placed than them?")
    assert _asked(chat) == "lead:health" and "Lead for Health:" not in answer
    assert "Lead for Health: Unsure (noted" in chat("tbd")
    answer = chat("can an NGO co-lead")
    assert "NGO" in answer and _asked(chat) == "colead:health"
    assert "Co-lead for Health: None (noted" in chat("nah")
    assert "Lead for Shelter: UNHCR (noted" in chat("same as global")  # conflict: UNHCR
    answer = chat("dunno")
    summary, letter = answer.split("# DRAFT", 1)
    assert "Proposed lead: not decided yet" in summary
    assert "[Name the proposed lead once it is agreed.]" in letter
    for typed in ("who leads", "tbd", "NGO co-lead", "nah", "dunno", "differs from the global"):
        assert typed not in answer, typed


def test_a_sentence_is_no_name_but_a_name_we_do_not_hold_is_kept(chat: Chat) -> None:
    _to_health_lead(chat)
    chat("i think we should wait for the hct to meet next week before we decide on this")
    assert _asked(chat) == "lead:health"
    # A national society is no IFRC, though its name ends as the IFRC's names do.
    assert "Lead for Health: Sudanese Red Crescent (noted" in chat("Sudanese Red Crescent")
    assert "Co-lead for Health: Mercy Corps (noted" in chat("Mercy Corps")


@pytest.mark.parametrize(
    ("lead", "kept"),
    [
        # No capitals to tell a name: a country's society, not the IFRC its words end with.
        ("الهلال الأحمر السوداني", "الهلال الأحمر السوداني"),
        # A name in capitals opening the answer is no "who": the agency, not a question.
        ("WHO together with the Ministry of Health", "WHO"),
    ],
)
def test_a_lead_is_kept_as_typed_or_as_the_agency_it_names(
    chat: Chat, lead: str, kept: str
) -> None:
    _to_health_lead(chat)
    assert f"Lead for Health: {kept} (noted" in chat(lead), lead


def test_a_national_society_in_chinese_is_never_recorded_as_the_ifrc(chat: Chat) -> None:
    # "苏丹红新月会" (Sudan's Red Crescent) is asked about, as a slip would be, never taken as
    # the IFRC the last characters name.
    _to_health_lead(chat)
    answer = chat("苏丹红新月会")
    assert "Lead for Health: IFRC" not in answer and _asked(chat) == "lead:health", answer


UNDECIDED_WORDS = {
    # lang: (undecided lead, no co-lead, the global lead)
    "en": ("not sure yet", "not needed", "same as global"),
    "fr": ("je ne sais pas", "pas besoin", "comme au niveau mondial"),
    "es": ("no sé", "no hace falta", "como a nivel global"),
    "zh": ("不确定", "不用", "和全球一样"),
    "ar": ("مش متأكد", "مش لازم", "نفس العالمي"),
}
LEAD_PLACEHOLDER = {
    "en": "[Name the proposed lead once it is agreed.]",
    "fr": "[Indiquez le chef de file proposé une fois qu'il est convenu.]",
    "es": "[Indique la agencia líder propuesta cuando se haya acordado.]",
    "zh": "[商定后请填写提议的牵头机构。]",
    "ar": "[اذكر الوكالة الرائدة المقترحة بعد الاتفاق عليها.]",
}


@pytest.mark.parametrize("lang", sorted(UNDECIDED_WORDS))
def test_not_sure_no_need_and_same_as_global_in_each_language(
    chat: Chat, kb: KnowledgeBase, lang: str
) -> None:
    from tests.test_letter import lines_in

    undecided, no_need, as_global = UNDECIDED_WORDS[lang]
    lines = lines_in(kb, lang)
    lines[22], lines[23], lines[24] = undecided, no_need, as_global  # Health, then Shelter
    for line in lines:
        chat(line)
    letter = chat.bot.renderer.plain(chat.replies[1])
    assert LEAD_PLACEHOLDER[lang] in letter
    for typed in (undecided, no_need, as_global):
        assert typed not in letter, typed
    clusters = {c["id"]: c for c in chat.replies[0].data["clusters"]}
    assert clusters["health"]["lead"] is None and clusters["health"]["colead"] is None
    # Floods: the global arrangement for natural disasters, IFRC, and no "differs" warning.
    assert clusters["shelter"]["lead"]["id"] == "IFRC" and not clusters["shelter"]["lead_differs"]


@pytest.mark.parametrize(
    ("lang", "typed"),
    [
        ("ar", {5: "ايوه", 6: "أكيد", 8: "لأ", 13: "مش متأكد", 17: "لسه"}),
        ("ar", {5: "اه", 6: "ايوا", 13: "مو متأكد", 17: "مو بعد"}),
        ("ar", {17: "لا لسه"}),
        ("en", {5: "yup", 8: "nah", 13: "dunno"}),
        ("fr", {5: "ouep", 8: "nan", 13: "chais pas"}),
        ("es", {5: "simón", 8: "nel", 13: "ni idea"}),
        ("zh", {5: "嗯", 8: "不是的", 13: "不太确定", 17: "还没呢"}),
    ],
)
def test_everyday_and_dialect_answers_mean_what_the_plain_words_do(
    chat_as, kb: KnowledgeBase, lang: str, typed: dict[int, str]
) -> None:  # type: ignore[no-untyped-def]
    from tests.test_letter import lines_in

    plain, everyday = chat_as("console:plain"), chat_as("console:everyday")
    lines = lines_in(kb, lang)
    for i, line in enumerate(lines):
        plain(line)
        everyday(typed.get(i, line))
        note = str(everyday.replies[-1].data.get("note", ""))
        assert not note.startswith("invalid"), (typed.get(i, line), note)
    assert everyday.bot.renderer.plain(everyday.replies[0]) == plain.bot.renderer.plain(
        plain.replies[0]
    )


def test_a_filler_sound_before_an_answer_is_no_yes(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:4])
    assert "Criterion 1, 健康" not in chat("嗯，不是")  # "um, no": a no, in Chinese
    assert chat.last is not None and chat.last.data["question"]["key"] == "gaps:health"
    assert "否" in chat("status")  # Criterion 1: no


@pytest.mark.parametrize(
    ("lang", "letter", "why"),
    [
        ("en", "and the letter?", "why is it unclear?"),
        ("fr", "et la lettre ?", "pourquoi est-ce incertain ?"),
        ("es", "¿y la carta?", "¿por qué no está claro?"),
        ("zh", "那信函呢？", "为什么不清楚？"),
        ("ar", "والرسالة؟", "لماذا غير واضح؟"),
    ],
)
def test_after_a_checklist_the_letter_and_why_a_verdict_is_unclear(
    chat: Chat, kb: KnowledgeBase, lang: str, letter: str, why: str
) -> None:
    from tests.test_letter import walk_in

    walk_in(chat, kb, lang)
    chat(letter)
    assert [r.intent for r in chat.replies] == ["checklist_done", "draft_letter"]
    answer = chat(why)
    assert chat.last is not None and chat.last.template == "checklist/why.j2"
    wash, shelter = (kb.text(lang).sectors[s].name for s in ("wash", "shelter"))
    assert wash in answer and shelter in answer  # WASH unclear, Shelter not met
    if lang == "en":
        assert (
            "is unclear because these answers were unsure, skipped or not given: "
            "Criterion 2: national capacity for Water, Sanitation and Hygiene" in answer
        )
        assert "not met because these were answered no: Criterion 2: national capacity for"
        assert "Shelter" in answer.split("answered no:", 1)[1]


def test_a_question_at_the_clusters_prompt_is_not_the_choice(chat: Chat) -> None:
    walk(chat, ENGLISH_WALK[:3])
    answer = chat("who leads health")
    assert "WHO" in answer and _asked(chat) == "clusters"
    for question in ("what about health and shelter", "should we include health", "why health"):
        answer = chat(question)
        assert "Criterion 1" not in answer and _asked(chat) == "clusters", question
    assert "Criterion 1" in chat("health and shelter")


@pytest.mark.parametrize(
    ("opening", "given"),
    [
        (
            "we need to activate the cccm cluster in Sudan, fighting in El Fasher has displaced "
            "300,000 people",
            "From your message: Sudan; fighting in El Fasher has displaced 300,000 people; "
            "Camp Coordination and Camp Management",
        ),
        (
            "nous voulons activer le cluster santé au Tchad, les inondations ont déplacé "
            "40 000 personnes",
            "D'après votre message : Tchad ; les inondations ont déplacé 40 000 personnes ; Santé",
        ),
    ],
)
def test_what_happened_in_the_opening_message_is_not_asked_again(
    chat: Chat, opening: str, given: str
) -> None:
    answer = chat(opening)
    assert given in answer
    assert _asked(chat) == "change"


def test_status_shows_a_co_lead_answered_none_and_the_summary_its_for_now(chat: Chat) -> None:
    _to_health_lead(chat)
    chat("yes")
    chat("none")
    assert "✔ 18. Co-lead for Health: None" in chat("status")
    chat("IOM")
    answer = chat("NRC for now")
    assert "co-lead: Norwegian Refugee Council (NRC) (for now)" in answer
    assert "Proposed co-lead" not in answer  # Shelter, not proposed, has no section


@pytest.mark.parametrize(
    ("steps", "warnings"),
    [
        (["done"] * 4 + ["not yet"] * 4, []),
        (["done"] * 4 + ["n/a", "not yet", "not yet", "not yet"], []),
        (
            ["done"] * 4 + ["skip", "done", "not yet", "not yet"],
            ["Step 6 is marked done while step 5 is not", "Step 6 is marked done: the activation"],
        ),
        (["done"] * 8, ["Step 5 is marked done: the activation has then already been requested"]),
        # Step 5 is the letter to the ERC itself: done, it was already sent.
        (["done"] * 5 + ["not yet"] * 3, ["Step 5 is marked done: the activation has then"]),
        (["not yet", "done"] + ["not yet"] * 6, ["Step 2 is marked done while step 1 is not"]),
    ],
)
def test_steps_answered_against_each_other_are_warned_of(
    chat: Chat, steps: list[str], warnings: list[str]
) -> None:
    walk(chat, ENGLISH_WALK)
    for step in steps:
        chat(step)
    chat("yes")
    chat("none")
    chat("IOM")
    answer = chat("NRC")
    summary, letter = answer.split("# DRAFT", 1)
    for warning in warnings:
        assert f"⚠ {warning}" in summary and f"[⚠ {warning}" in letter
    if not warnings:
        assert "⚠ Step" not in answer


def test_the_spanish_checklist_names_the_rc_hc_and_the_erc_as_its_steps_do(
    chat: Chat, kb: KnowledgeBase
) -> None:
    from tests.test_letter import walk_in

    texts = walk_in(chat, kb, "es")
    summary = chat.bot.renderer.plain(chat.replies[0])
    assert "borrador de carta del RC/HC al ERC" in summary
    assert not any("CR/CH" in t or " CSE" in t for t in texts)


@pytest.mark.parametrize(
    ("typed", "lead", "colead"),
    [
        ("UNICEF, with Oxfam as co-lead", "UNICEF", "Oxfam"),
        ("UNICEF with WHO as co-lead", "UNICEF", "WHO"),
        ("UNICEF co-led by Save the Children", "UNICEF", "Save the Children"),
        ("UNICEF avec Oxfam comme co-chef de file", "UNICEF", "Oxfam"),
        ("UNICEF con Oxfam como colíder", "UNICEF", "Oxfam"),
        ("儿基会牵头，乐施会共同牵头", "UNICEF", "乐施会"),
        ("اليونيسف مع أوكسفام كقائد مشارك", "UNICEF", "أوكسفام"),
    ],
)
def test_a_co_lead_named_in_the_lead_answer_is_kept_never_dropped(
    chat: Chat, typed: str, lead: str, colead: str
) -> None:
    _to_health_lead(chat)
    chat(typed)
    # Both are kept, the co-lead question is passed over, and the letter names both.
    assert _asked(chat) == "lead:shelter", chat.replies[-1].data
    chat("IOM")
    chat("none")
    health = {c["id"]: c for c in chat.replies[0].data["clusters"]}["health"]
    assert (health["lead"]["acronym"], health["colead"]["acronym"]) == (lead, colead)


def test_a_co_lead_named_without_a_lead_is_asked_about(chat: Chat) -> None:
    _to_health_lead(chat)
    answer = chat("Oxfam co-lead")
    assert "could not tell which organisation leads" in answer and _asked(chat) == "lead:health"
    assert "Lead for Health: UNICEF; co-lead: Oxfam (noted" in chat("UNICEF, Oxfam as co-lead")


@pytest.mark.parametrize(
    ("lines", "lang"),
    [
        (["/checklist", "السودان - دارفور"], "ar"),
        (["/checklist", "苏丹"], "zh"),
        (["/checklist", "Tchad"], "fr"),  # Chad's name in French alone
        (["/checklist", "Soudan, inondations au Darfour"], "fr"),
        # Started in a language, a name goes on in it.
        (["je veux activer un cluster", "Mozambique, cyclone response in Sofala"], "fr"),
        (["quiero activar un clúster", "السودان"], "es"),
        # A name in no one language shows none: ours, until an answer shows one.
        (["/checklist", "Burkina Faso"], "en"),
        (["/checklist", "Burkina Faso", "les routes sont coupées"], "fr"),
    ],
)
def test_the_checklist_speaks_the_first_language_shown_from_the_first_question(
    chat: Chat, lines: list[str], lang: str
) -> None:
    for line in lines:
        chat(line)
    assert [r.lang for r in chat.replies] == [lang], lines
    chat("yes" if lang == "en" else "back")
    assert chat.last is not None and chat.last.lang == lang  # and it holds


# The ERC is named one way in each language, by the checklist's questions (the steps' text),
# its summary and the letter alike: another name is what must not appear.
ERC_NAMED = {
    "fr": ("à l'ERC", re.compile(r"\bCSU\b")),
    "es": ("al ERC", re.compile(r"\bCSE\b")),
    "zh": ("紧急救济协调员", re.compile(r"(?<!（)ERC")),
    "ar": ("منسق الإغاثة في حالات الطوارئ", re.compile(r"(?<!\()ERC")),
}


@pytest.mark.parametrize("lang", sorted(ERC_NAMED))
def test_the_erc_has_one_name_throughout_each_language(
    chat: Chat, kb: KnowledgeBase, lang: str
) -> None:
    from tests.test_letter import walk_in

    texts = walk_in(chat, kb, lang)
    name, other = ERC_NAMED[lang]
    assert name in chat.bot.renderer.plain(chat.replies[0])  # the summary
    for line, text in enumerate(texts):
        assert not other.search(text), (line, text)
