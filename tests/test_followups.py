"""Follow-ups: an elliptic message re-asks the last question with one thing swapped."""

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import ConversationSubject
from tests.conftest import Chat


@pytest.mark.parametrize(
    ("first", "then", "must"),
    [
        ("who leads health in Sudan?", "and in Haiti?", ["Haiti", "World Health Organization"]),
        ("who leads health?", "what about nutrition?", ["Nutrition", "UNICEF"]),
        ("what does UNHCR lead?", "and IOM?", ["International Organization for Migration"]),
        # A name that is an everyday word in lower case ("etc") is the name in a follow-up.
        ("who leads logistics in Yemen?", "what about etc", ["Emergency Telecommunications"]),
        ("qui dirige la santé au Mali ?", "Et au Soudan ?", ["Soudan", "OMS"]),
        ("¿quién lidera salud en Colombia?", "¿y en Venezuela?", ["Venezuela", "OMS"]),
        ("苏丹的卫生集群谁牵头？", "那营养呢？", ["营养", "联合国儿童基金会"]),
        ("من يقود الصحة في السودان؟", "وفي اليمن؟", ["اليمن", "منظمة الصحة العالمية"]),
    ],
)
def test_a_follow_up_swaps_one_thing(chat: Chat, first: str, then: str, must: list[str]) -> None:
    chat(first)
    answer = chat(then)
    assert chat.last is not None and chat.last.intent in {"who_leads", "agency_clusters"}
    for text in must:
        assert text in answer, answer


@pytest.mark.parametrize(
    ("first", "then", "must"),
    [
        ("who leads shelter in natural disasters?", "and in conflict?", ["UNHCR"]),
        (
            "qui dirige les abris lors des catastrophes naturelles ?",
            "et en cas de conflit ?",
            ["HCR"],
        ),
        ("¿quién lidera alojamiento en desastres naturales?", "¿y en conflictos?", ["ACNUR"]),
        ("自然灾害中谁牵头住所集群？", "那冲突中呢？", ["联合国难民事务高级专员办事处"]),
        ("مين بيقود CCCM بعد زلزال؟", "وفي حالة نزوح بسبب النزاع؟", ["مفوضية"]),
    ],
)
def test_a_follow_up_on_the_kind_of_emergency_asks_the_lead_again(
    chat: Chat, first: str, then: str, must: list[str]
) -> None:
    chat(first)
    answer = chat(then)
    assert chat.last is not None and chat.last.intent == "who_leads"
    for text in must:
        assert text in answer.splitlines()[0], answer  # the lead in the kind asked, first


def test_a_yes_or_no_follow_up_on_the_kind_of_emergency_answers_for_that_kind(
    chat: Chat,
) -> None:
    assert chat("does UNHCR lead shelter?").startswith("Yes: globally, Office of the UN High")
    assert chat("and after floods?").startswith(
        "No: in natural disasters, Office of the UN High Commissioner for Refugees (UNHCR) "
        "has no lead role in Shelter"
    )


def test_a_kind_of_emergency_is_no_cluster_of_its_own(chat: Chat) -> None:
    answer = chat("who leads the war cluster?")
    assert chat.last is not None and chat.last.intent == "unknown_cluster"
    assert "UNICEF" not in answer and "WFP" not in answer


def test_a_self_contained_question_inherits_nothing(chat: Chat) -> None:
    chat("who leads health in Sudan?")
    answer = chat("who leads logistics?")
    assert "Sudan" not in answer and "WFP" in answer


def test_the_other_person_or_chat_does_not_follow(chat: Chat, chat_as) -> None:  # type: ignore[no-untyped-def]
    chat("who leads health in Sudan?")
    other = chat_as("console:someone-else")
    other("and in Haiti?")
    assert other.last is not None and other.last.intent != "who_leads"


def test_a_follow_up_after_fifteen_minutes_follows_nothing(chat: Chat, engine: Engine) -> None:
    chat("who leads health in Sudan?")
    with Session(engine) as session:
        row = session.exec(select(ConversationSubject)).one()
        row.updated_at = row.updated_at - timedelta(minutes=16)
        session.add(row)
        session.commit()
    chat("and in Haiti?")
    assert chat.last is not None and chat.last.intent != "who_leads"


def test_a_follow_up_keeps_the_language_of_the_question(chat: Chat) -> None:
    chat("¿qué lidera ACNUR?")
    chat("y OIM?")
    assert chat.last is not None and chat.last.lang == "es"
    chat("and UNICEF?")  # a follow-up word of another language keeps the language too
    assert chat.last.lang == "es"


def test_a_bare_name_in_another_language_answers_in_that_language(chat: Chat) -> None:
    chat("qui dirige la santé ?")
    assert "Salud" in chat("salud?") and chat.last is not None and chat.last.lang == "es"


@pytest.mark.parametrize(
    ("first", "then", "must", "lang"),
    [
        ("¿quién lidera logística en Haití?", "et au Soudan ?", ["Soudan", "PAM"], "fr"),
        ("who leads food security?", "et en Syrie ?", ["Syrie", "PAM"], "fr"),
        ("qui dirige la logistique en Haïti ?", "y en Sudán?", ["Sudán", "PMA"], "es"),
        ("qui dirige la santé ?", "¿y nutrición?", ["Nutrición", "UNICEF"], "es"),
        ("¿quién lidera salud en Sudán?", "what about in chad?", ["Chad", "World Health"], "en"),
        # A country's name written alike in several languages, or in the one a person
        # names it in, is no sign of the person's language.
        ("¿quién lidera salud en Chad?", "and in Côte d'Ivoire?", ["Salud", "OMS"], "es"),
        ("who leads health in Chad?", "y en Côte d'Ivoire?", ["Health", "WHO"], "en"),
        ("who leads health in Chad?", "and in Curaçao?", ["Health", "WHO"], "en"),
        ("who leads health in Chad?", "et en España ?", ["Health", "WHO"], "en"),
    ],
)
def test_a_follow_up_answers_in_the_language_its_own_words_clearly_show(
    chat: Chat, first: str, then: str, must: list[str], lang: str
) -> None:
    chat(first)
    answer = chat(then)
    assert chat.last is not None and chat.last.intent == "who_leads" and chat.last.lang == lang
    for text in must:
        assert text in answer, answer


def test_the_subject_is_kept_and_replaced_on_both_databases(any_engine: Engine) -> None:
    from bot.db import session_scope
    from bot.domain.conversation import last_subject, remember

    with session_scope(any_engine) as session:
        assert last_subject(session, "console:a", "console:a") is None
        remember(session, "console:a", "console:a", {"intent": "who_leads", "country": "SD"})
    with session_scope(any_engine) as session:
        remember(session, "console:a", "console:a", {"intent": "who_leads", "country": "HT"})
    with session_scope(any_engine) as session:
        assert last_subject(session, "console:a", "console:a") == {
            "intent": "who_leads",
            "country": "HT",
        }
        assert last_subject(session, "console:a", "elsewhere") is None


def test_the_subject_is_kept_without_waiting_for_the_disk_on_both_databases(
    any_engine: Engine,
) -> None:
    from bot.db import session_scope
    from bot.domain.conversation import keep, last_subject

    keep(any_engine, "console:a", "console:a", {"intent": "who_leads", "country": "SD"})
    keep(any_engine, "console:a", "console:a", {"intent": "who_leads", "country": "HT"})
    with session_scope(any_engine) as session:
        assert last_subject(session, "console:a", "console:a") == {
            "intent": "who_leads",
            "country": "HT",
        }


def test_only_the_subject_write_is_relaxed(engine: Engine) -> None:
    """The pooled connection waits for the disk again after it (synchronous=FULL is 2)."""
    from sqlalchemy import text

    from bot.domain.conversation import keep

    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2
    keep(engine, "console:a", "console:a", {"intent": "who_leads", "country": "SD"})
    assert engine.pool.checkedout() == 0
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2


@pytest.mark.parametrize(
    ("first", "then", "must"),
    [
        ("who leads education globally?", "anyone else?", ["Save the Children"]),
        ("谁牵头粮食安全集群", "还有谁？", ["FAO"]),
        ("¿quién lidera seguridad alimentaria?", "¿alguien más?", ["FAO"]),
    ],
)
def test_who_else_asks_the_last_question_again(
    chat: Chat, first: str, then: str, must: list[str]
) -> None:
    chat(first)
    answer = chat(then)
    assert chat.last is not None and chat.last.intent == "who_leads"
    for text in must:
        assert text in answer, answer


@pytest.mark.parametrize(
    ("then", "lang", "must"),
    [
        ("还有谁", "zh", "世界卫生组织"),
        ("¿alguien más?", "es", "Organización Mundial de la Salud"),
        ("qui d'autre ?", "fr", "Organisation mondiale de la Santé"),
        ("و من غيره؟", "ar", "منظمة الصحة العالمية"),
    ],
)
def test_who_else_in_another_language_is_answered_in_it(
    chat: Chat, then: str, lang: str, must: str
) -> None:
    chat("who leads health in Sudan?")
    answer = chat(then)
    assert chat.last is not None and (chat.last.intent, chat.last.lang) == ("who_leads", lang)
    assert must in answer, answer


def test_other_clusters_after_a_lead_question_are_the_clusters(chat: Chat) -> None:
    chat("who leads health in Sudan?")
    chat("还有其他集群吗")  # "are there other clusters?": not the health lead again
    assert chat.last is not None and chat.last.intent == "list_clusters"


def test_who_else_with_nothing_before_is_not_understood(chat: Chat) -> None:
    chat("anyone else?")
    assert chat.last is not None and chat.last.intent == "unknown"


@pytest.mark.parametrize(
    ("first", "then", "must"),
    [
        (
            "who leads GBV?",
            "is UNFPA the lead for that globally?",
            ["Yes", "Gender-Based Violence"],
        ),
        ("who leads health", "is UNICEF the lead for it?", ["No", "Health"]),
        ("qui dirige les VBG ?", "l'UNFPA en est le chef de file ?", ["Oui"]),
        ("¿quién lidera violencia de género?", "¿UNFPA es el líder de eso?", ["Sí"]),
        ("GBV责任领域谁牵头", "全球层面是UNFPA牵头吗", ["UNFPA"]),
        ("من يقود العنف القائم على النوع الاجتماعي؟", "هل UNFPA هو القائد لذلك؟", ["نعم"]),
    ],
)
def test_a_lead_question_pointing_at_the_last_cluster_answers_yes_or_no_for_it(
    chat: Chat, first: str, then: str, must: list[str]
) -> None:
    # "That", "it", "en", "eso", "لذلك" (and Chinese's dropped object) name the cluster in
    # conversation: a yes/no on the agency for it, not the list of what the agency leads.
    chat(first)
    answer = chat(then)
    assert chat.last is not None and chat.last.intent == "who_leads", chat.last
    assert all(m in answer for m in must), answer


@pytest.mark.parametrize(
    "then",
    [
        "which clusters does it lead, unicef?",
        # "That" and "ese" before a noun point at the country, not at the cluster.
        "what does UNICEF lead in that country?",
        "does UNICEF lead clusters in that country?",
        "¿UNICEF lidera algo en ese país?",
        "UNICEF在苏丹牵头很多集群吗",
        "ماذا تقود اليونيسف في ذلك البلد؟",
    ],
)
def test_which_clusters_an_agency_leads_after_a_lead_question_is_still_its_list(
    chat: Chat, then: str
) -> None:
    chat("who leads health in Sudan?")
    chat(then)
    assert chat.last is not None and chat.last.intent == "agency_clusters", chat.last
