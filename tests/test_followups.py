"""Follow-ups: an elliptic message re-asks the last question with one thing swapped."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.domain.records import import_file
from bot.models import ConversationSubject
from knowledge import KnowledgeBase
from tests.conftest import Chat

# A follow-up re-asks the last question with one thing swapped: the question(s) before it, the
# question it becomes, the language it is answered in, and what the answer must hold.
FOLLOW_UPS: dict[str, tuple[str | tuple[str, ...], str, str, str, list[str]]] = {
    "country-en": (
        "who leads health in Sudan?",
        "and in Haiti?",
        "who_leads",
        "en",
        ["Haiti", "World Health Organization"],
    ),
    "cluster-en": (
        "who leads health?",
        "what about nutrition?",
        "who_leads",
        "en",
        ["Nutrition", "UNICEF"],
    ),
    "agency-en": (
        "what does UNHCR lead?",
        "and IOM?",
        "agency_clusters",
        "en",
        ["International Organization for Migration"],
    ),
    # A name that is an everyday word in lower case ("etc") is the name in a follow-up.
    "lower-case-name-en": (
        "who leads logistics in Yemen?",
        "what about etc",
        "who_leads",
        "en",
        ["Emergency Telecommunications"],
    ),
    "country-fr": (
        "qui dirige la santé au Mali ?",
        "Et au Soudan ?",
        "who_leads",
        "fr",
        ["Soudan", "OMS"],
    ),
    "country-es": (
        "¿quién lidera salud en Colombia?",
        "¿y en Venezuela?",
        "who_leads",
        "es",
        ["Venezuela", "OMS"],
    ),
    "cluster-zh": (
        "苏丹的卫生集群谁牵头？",
        "那营养呢？",
        "who_leads",
        "zh",
        ["营养", "联合国儿童基金会"],
    ),
    "country-ar": (
        "من يقود الصحة في السودان؟",
        "وفي اليمن؟",
        "who_leads",
        "ar",
        ["اليمن", "منظمة الصحة العالمية"],
    ),
    # "Who else?" asks the last question again, in the language it is asked in.
    "who-else-en": (
        "who leads education globally?",
        "anyone else?",
        "who_leads",
        "en",
        ["Save the Children"],
    ),
    "who-else-zh": ("谁牵头粮食安全集群", "还有谁？", "who_leads", "zh", ["FAO"]),
    "who-else-es": (
        "¿quién lidera seguridad alimentaria?",
        "¿alguien más?",
        "who_leads",
        "es",
        ["FAO"],
    ),
    "who-else-zh-after-en": (
        "who leads health in Sudan?",
        "还有谁",
        "who_leads",
        "zh",
        ["世界卫生组织"],
    ),
    "who-else-es-after-en": (
        "who leads health in Sudan?",
        "¿alguien más?",
        "who_leads",
        "es",
        ["Organización Mundial de la Salud"],
    ),
    "who-else-fr-after-en": (
        "who leads health in Sudan?",
        "qui d'autre ?",
        "who_leads",
        "fr",
        ["Organisation mondiale de la Santé"],
    ),
    "who-else-ar-after-en": (
        "who leads health in Sudan?",
        "و من غيره؟",
        "who_leads",
        "ar",
        ["منظمة الصحة العالمية"],
    ),
    # The follow-up is answered in the language its own words clearly show.
    "es-then-fr": (
        "¿quién lidera logística en Haití?",
        "et au Soudan ?",
        "who_leads",
        "fr",
        ["Soudan", "PAM"],
    ),
    "en-then-fr": (
        "who leads food security?",
        "et en Syrie ?",
        "who_leads",
        "fr",
        ["Syrie", "PAM"],
    ),
    "fr-then-es": (
        "qui dirige la logistique en Haïti ?",
        "y en Sudán?",
        "who_leads",
        "es",
        ["Sudán", "PMA"],
    ),
    "fr-then-es-cluster": (
        "qui dirige la santé ?",
        "¿y nutrición?",
        "who_leads",
        "es",
        ["Nutrición", "UNICEF"],
    ),
    "es-then-en": (
        "¿quién lidera salud en Sudán?",
        "what about in chad?",
        "who_leads",
        "en",
        ["Chad", "World Health"],
    ),
    # A country's name written alike in several languages, or in the one a person
    # names it in, is no sign of the person's language.
    "es-then-cote-d-ivoire": (
        "¿quién lidera salud en Chad?",
        "and in Côte d'Ivoire?",
        "who_leads",
        "es",
        ["Salud", "OMS"],
    ),
    "en-then-cote-d-ivoire": (
        "who leads health in Chad?",
        "y en Côte d'Ivoire?",
        "who_leads",
        "en",
        ["Health", "WHO"],
    ),
    "en-then-curacao": (
        "who leads health in Chad?",
        "and in Curaçao?",
        "who_leads",
        "en",
        ["Health", "WHO"],
    ),
    "en-then-espana": (
        "who leads health in Chad?",
        "et en España ?",
        "who_leads",
        "en",
        ["Health", "WHO"],
    ),
    # "That", "it", "en", "eso", "لذلك" (and Chinese's dropped object) name the cluster in
    # conversation: a yes/no on the agency for it, not the list of what the agency leads.
    "yes-for-that-en": (
        "who leads GBV?",
        "is UNFPA the lead for that globally?",
        "who_leads",
        "en",
        ["Yes", "Gender-Based Violence"],
    ),
    "no-for-it-en": (
        "who leads health",
        "is UNICEF the lead for it?",
        "who_leads",
        "en",
        ["No", "Health"],
    ),
    "yes-for-en-fr": (
        "qui dirige les VBG ?",
        "l'UNFPA en est le chef de file ?",
        "who_leads",
        "fr",
        ["Oui"],
    ),
    "yes-for-eso-es": (
        "¿quién lidera violencia de género?",
        "¿UNFPA es el líder de eso?",
        "who_leads",
        "es",
        ["Sí"],
    ),
    "yes-dropped-object-zh": (
        "GBV责任领域谁牵头",
        "全球层面是UNFPA牵头吗",
        "who_leads",
        "zh",
        ["UNFPA"],
    ),
    "yes-for-that-ar": (
        "من يقود العنف القائم على النوع الاجتماعي؟",
        "هل UNFPA هو القائد لذلك؟",
        "who_leads",
        "ar",
        ["نعم"],
    ),
    # Only a new lead question replaces the last one: a message in between (a concept
    # question, thanks, a place we do not know) leaves it for the next follow-up.
    "after-a-concept-en": (
        ("who leads health in Sudan?", "what is POLR?"),
        "and in Chad?",
        "who_leads",
        "en",
        ["Chad", "World Health Organization"],
    ),
    "after-thanks-fr": (
        ("qui dirige la logistique au Yémen ?", "merci"),
        "et en Syrie ?",
        "who_leads",
        "fr",
        ["Syrie", "PAM"],
    ),
    "after-an-unknown-place-es": (
        ("¿quién lidera salud en Sudán?", "¿y en Atlántida?"),
        "¿y en Chad?",
        "who_leads",
        "es",
        ["Chad", "OMS"],
    ),
    "after-a-concept-zh": (
        ("苏丹的卫生集群谁牵头", "POLR是什么"),
        "那乍得呢",
        "who_leads",
        "zh",
        ["乍得", "世界卫生组织"],
    ),
    # A name that fits several countries asks which, as in a whole question, and the answer
    # (a name however long, a capital) completes it.
    "which-congo-en": (
        "who leads education in sudan?",
        "and in congo?",
        "who_leads",
        "en",
        ["Which country", "Democratic Republic of the Congo or Republic of the Congo"],
    ),
    "which-congo-answered-en": (
        ("who leads education in sudan?", "and in congo?"),
        "the Republic of the Congo",
        "who_leads",
        "en",
        ["Education in Republic of the Congo"],
    ),
    "which-congo-answered-fr": (
        ("qui dirige l'éducation au Soudan ?", "Et au Congo ?"),
        "RDC",
        "who_leads",
        "fr",
        ["Éducation (République démocratique du Congo)"],
    ),
    "which-congo-capital-es": (
        ("¿quién lidera nutrición en Haití?", "¿y en el Congo?"),
        "Brazzaville",
        "who_leads",
        "es",
        ["República del Congo"],
    ),
    "which-congo-zh": ("苏丹的教育集群谁牵头", "那刚果呢", "who_leads", "zh", ["刚果共和国"]),
    "which-congo-ar": (
        "من يقود التعليم في السودان؟",
        "وفي الكونغو؟",
        "who_leads",
        "ar",
        ["جمهورية الكونغو الديمقراطية"],
    ),
    # "And globally?": the same cluster's global lead, the country dropped.
    "globally-en": ("who leads health in Sudan?", "and globally?", "who_leads", "en", ["WHO"]),
    "globally-fr": (
        "qui dirige la santé au Soudan ?",
        "et au niveau mondial ?",
        "who_leads",
        "fr",
        ["OMS"],
    ),
    "globally-es": (
        "¿quién lidera salud en Sudán?",
        "¿y a nivel mundial?",
        "who_leads",
        "es",
        ["OMS"],
    ),
    "globally-zh": ("苏丹的卫生集群谁牵头", "全球呢？", "who_leads", "zh", ["世界卫生组织"]),
    "globally-ar": (
        "من يقود الصحة في السودان؟",
        "وعالميا؟",
        "who_leads",
        "ar",
        ["منظمة الصحة العالمية"],
    ),
    # A global word inside a name ("برنامج الأغذية العالمي", the World Food Programme) keeps
    # the country.
    "world-in-a-name-ar": (
        "من يقود الصحة في السودان؟",
        "وبرنامج الأغذية العالمي؟",
        "who_leads",
        "ar",
        ["لا نملك سجلًا قُطريًا لمجموعة الصحة في السودان"],
    ),
    # A country's records, then "globally?": the global clusters.
    "globally-after-records-en": (
        "which clusters are active in Sudan?",
        "and globally?",
        "list_clusters",
        "en",
        ["Logistics"],
    ),
    # An agency's follow-up in a country: its clusters there, or that we hold none, then its
    # global list (records: tests/test_country.py).
    "agency-in-a-country-en": (
        ("which clusters does UNICEF lead", "and WFP?"),
        "and in Sudan?",
        "agency_clusters",
        "en",
        ["We hold no country record of World Food Programme (WFP) leading", "Logistics"],
    ),
    "agency-in-a-country-ar": (
        "ما هي المجموعات التي تقودها اليونيسف؟",
        "وفي السودان؟",
        "agency_clusters",
        "ar",
        ["لا نملك سجلًا قُطريًا يقود فيه", "السودان"],
    ),
    # The language of the message in between goes on; the subject is the lead question's.
    "after-thanks-in-arabic": (
        ("who leads health in Sudan?", "شكرا"),
        "وفي تشاد؟",
        "who_leads",
        "ar",
        ["تشاد", "منظمة الصحة العالمية"],
    ),
}


@pytest.mark.parametrize(
    ("first", "then", "intent", "lang", "must"), FOLLOW_UPS.values(), ids=FOLLOW_UPS.keys()
)
def test_a_follow_up_asks_the_last_question_again_with_one_thing_swapped(
    chat: Chat, first: str | tuple[str, ...], then: str, intent: str, lang: str, must: list[str]
) -> None:
    for before in (first,) if isinstance(first, str) else first:
        chat(before)
    answer = chat(then)
    assert chat.last is not None
    assert (chat.last.intent, chat.last.lang) == (intent, lang), chat.last
    for text in must:
        assert text in answer, answer


@pytest.mark.parametrize("key", [key for key in FOLLOW_UPS if key.startswith("globally")])
def test_a_follow_up_on_the_global_level_drops_the_country(chat: Chat, key: str) -> None:
    first, then, *_ = FOLLOW_UPS[key]
    assert isinstance(first, str)
    chat(first)
    chat(then)
    assert chat.last is not None and chat.last.data.get("country") is None, chat.last.data


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
        # "在……情况下" ("in the case of ...") names the kind as well.
        ("谁牵头住所集群", "冲突情况下呢", ["联合国难民事务高级专员办事处"]),
        ("谁牵头CCCM", "自然灾害情况下呢", ["国际移民组织"]),
        ("مين بيقود CCCM بعد زلزال؟", "وفي حالة نزوح بسبب النزاع؟", ["مفوضية"]),
        # "And" written onto a word ("وبعد", "and after"), a plural ("الزلازل", "earthquakes").
        ("مين يقود المأوى وقت النزاع", "وبعد الزلزال؟", ["IFRC"]),
        ("من يقود إدارة المخيمات في النزاعات", "وفي الزلازل؟", ["IOM"]),
        # "In case of" before the kind ("en caso de terremoto", "وفي حالة زلزال").
        ("who leads cccm in conflict", "and in case of an earthquake?", ["IOM"]),
        ("quién lidera cccm en conflicto", "¿y en caso de terremoto?", ["OIM"]),
        ("qui dirige le cccm en cas de conflit", "et en cas d'inondations ?", ["OIM"]),
        ("مين بيقود CCCM وقت النزاع", "وفي حالة زلزال؟", ["IOM"]),
    ],
)
def test_a_follow_up_on_the_kind_of_emergency_asks_the_lead_again(
    chat: Chat, first: str, then: str, must: list[str]
) -> None:
    answer = chat.ask(first, then, intent="who_leads")
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
    answer = chat.ask("who leads the war cluster?", intent="unknown_cluster")
    assert "UNICEF" not in answer and "WFP" not in answer


def test_a_self_contained_question_inherits_nothing(chat: Chat) -> None:
    answer = chat.ask("who leads health in Sudan?", "who leads logistics?")
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


def test_other_clusters_after_a_lead_question_are_the_clusters(chat: Chat) -> None:
    chat("who leads health in Sudan?")
    chat("还有其他集群吗")  # "are there other clusters?": not the health lead again
    assert chat.last is not None and chat.last.intent == "list_clusters"


# "Who else?" and "that" point at the message just before: with no lead question there, or
# another message between it and them, they follow nothing.
@pytest.mark.parametrize(
    ("before", "then"),
    [
        ((), "anyone else?"),
        (("who leads health in Sudan?", "what is POLR?"), "anyone else?"),
        (("who leads GBV?", "thanks"), "is UNFPA the lead for that?"),
    ],
)
def test_who_else_or_that_with_no_lead_question_just_before_follows_nothing(
    chat: Chat, before: tuple[str, ...], then: str
) -> None:
    for text in before:
        chat(text)
    chat(then)
    assert chat.last is not None and chat.last.intent != "who_leads", chat.last


def test_the_same_lead_question_again_writes_nothing_and_is_the_last_message_again(
    chat: Chat, engine: Engine
) -> None:
    chat("who leads health in Sudan?")
    with Session(engine) as session:
        written = session.exec(select(ConversationSubject)).one().updated_at
    chat("who is in charge of health in Sudan?")  # the same subject: no write on the answer path
    with Session(engine) as session:
        assert session.exec(select(ConversationSubject)).one().updated_at == written
    chat("thanks")
    chat("who leads health in Sudan?")
    chat("anyone else?")  # points at the lead question again, which was just asked
    assert chat.last is not None and chat.last.intent == "who_leads", chat.last


def test_a_lead_question_kept_across_messages_ends_fifteen_minutes_after_it_was_asked(
    chat: Chat, engine: Engine
) -> None:
    chat("who leads health in Sudan?")
    chat("merci")  # another language: the row is written again, the lead question is not
    with Session(engine) as session:
        row = session.exec(select(ConversationSubject)).one()
        asked = datetime.fromisoformat(row.subject["asked_at"]) - timedelta(minutes=16)
        row.subject = {**row.subject, "asked_at": asked.isoformat()}
        session.add(row)
        session.commit()
    chat("and in Haiti?")
    assert chat.last is not None and chat.last.intent != "who_leads", chat.last


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
    chat.ask("who leads health in Sudan?", then, intent="agency_clusters")


@pytest.mark.parametrize(
    ("turns", "said"),
    [
        (
            ("who leads health in drc", "and in cox's bazar?"),
            'I know no country called "cox\'s bazar"',
        ),
        (
            ("qui dirige la santé au Mali ?", "et au Darfour ?"),
            "Je ne connais aucun pays appelé « Darfour »",
        ),
        (("苏丹的卫生集群谁牵头", "那在达尔富尔呢"), "我不知道有名为“达尔富尔”的国家"),
    ],
)
def test_a_follow_up_to_a_place_we_do_not_know_says_so_with_the_global_lead(
    chat: Chat, turns: tuple[str, str], said: str
) -> None:
    # As for a whole question: the place named back, never "I don't know" nor a record.
    answer = chat.ask(*turns, intent="who_leads")
    assert answer.startswith(said) and ("WHO" in answer or "OMS" in answer), answer


@pytest.mark.parametrize(
    "since", ["and since when?", "depuis quand ?", "منذ متى؟", "when was it activated?"]
)
def test_since_when_after_a_lead_question_asks_the_record_not_the_approach(
    chat: Chat, since: str
) -> None:
    # The approach began in 2005; a cluster in Sudan did not: the record's date is the answer.
    answer = chat.ask("who leads health in sudan", since, intent="who_leads")
    assert "2005" not in answer, answer
    assert any(name in answer for name in ("Sudan", "Soudan", "السودان")), answer


# Records the follow-ups below ask one part of: a co-lead, a coordinator and a contact, and a
# record holding none of them.
RECORDS = (
    "country,cluster,lead,co_lead,coordinator,contact,activated_on,source\n"
    "South Sudan,cccm,IOM,SAMPLE NGO co-lead,SAMPLE coordinator,cccm@example.org,,test\n"
    "Sudan,health,WHO,,SAMPLE health coordinator,health@example.org,,test\n"
    "Sudan,wash,UNICEF,Concern Worldwide,,,,test\n"
)


@pytest.fixture
def records(kb: KnowledgeBase, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(RECORDS, encoding="utf-8")
    import_file(path, kb, engine)


@pytest.mark.parametrize(
    ("turns", "said"),
    [
        (
            ("who leads cccm in south sudan", "who is their co-lead?"),
            "In South Sudan, the co-lead of Camp Coordination and Camp Management on record "
            "is SAMPLE NGO co-lead.",
        ),
        (("who leads cccm in south sudan", "¿y quién es el colíder?"), "SAMPLE NGO co-lead."),
        (("who leads cccm in south sudan", "那联合牵头机构是谁？"), "联合牵头机构是 SAMPLE NGO"),
        (("qui dirige le CCCM au Soudan du Sud ?", "qui est le co-chef de file ?"), "SAMPLE NGO"),
        (("who leads wash in sudan", "who is their co-lead?"), "is Concern Worldwide."),
        (
            ("who leads health in sudan", "who is their co-lead?"),
            "Our record for Health in Sudan names no co-lead: WHO leads it.",
        ),
        (
            ("who leads nutrition in haiti", "who is their co-lead?"),
            "We hold no country record for Nutrition in Haiti, so this is the global answer:\n"
            "Globally, Nutrition has no co-lead.",
        ),
        (
            ("who leads education", "who is their co-lead?"),
            "co-led by United Nations Children's Fund (UNICEF) and Save the Children.",
        ),
        (("qui dirige l'éducation", "et qui co-dirige ?"), "(UNICEF) et Save the Children."),
        (("谁牵头教育集群", "联合牵头的是谁？"), "(UNICEF)和救助儿童会"),
        (("مين يقود التعليم", "ومين يشاركها بالقيادة؟"), "(UNICEF) ومنظمة إنقاذ الطفولة"),
        (
            ("who leads health in sudan", "who is the coordinator?"),
            "In Sudan, the coordinator of Health on record is SAMPLE health coordinator.",
        ),
        (
            ("who leads health in sudan", "what is their email"),
            "In Sudan, the contact for Health on record is health@example.org.",
        ),
        (("who leads health in sudan", "协调员的电子邮件是什么"), "health@example.org。"),
        (("من يقود مجموعة الصحة في السودان؟", "من المنسق؟"), "SAMPLE health coordinator"),
        (("who leads health in sudan", "what about the coordinator?"), "on record is SAMPLE"),
        (("who leads health in sudan", "how can I contact them?"), "health@example.org."),
        # Not held: said so beside the lead, never guessed.
        (
            ("who leads wash in sudan", "what is their email"),
            "Our records hold no contact details for this",
        ),
    ],
)
def test_a_follow_up_on_one_part_of_the_record_answers_that_part_first(
    chat: Chat, records: None, turns: tuple[str, ...], said: str
) -> None:
    answer = chat.ask(*turns, intent="who_leads")
    assert said in answer, answer


@pytest.mark.parametrize(
    "question", ["what does a co-lead do?", "and what does the co-lead do?", "联合牵头机构做什么"]
)
def test_what_a_co_lead_does_after_a_lead_question_is_still_the_topic(
    chat: Chat, question: str
) -> None:
    chat.ask("who leads cccm in south sudan", question, intent="concept")


def test_who_pays_the_coordinator_after_a_lead_question_is_no_part_of_the_record(
    chat: Chat, records: None
) -> None:
    answer = chat.ask("who leads health in sudan", "who pays the coordinator?")
    assert "SAMPLE health coordinator" not in answer, answer
    assert "no terms of employment" in answer, answer  # a post's pay: not ours to know


@pytest.mark.parametrize(
    ("turns", "functions"),
    [
        (
            ("who leads health in sudan", "and nutrition?", "what does it do?"),
            "six core functions",
        ),
        (("qui dirige la nutrition ?", "que fait-il ?"), "six fonctions essentielles"),
        (("¿quién lidera nutrición?", "¿y qué hace?"), "seis funciones básicas"),
        (("谁牵头营养集群", "它是做什么的"), "六项核心职能"),
    ],
)
def test_what_it_does_after_a_lead_question_is_every_clusters_functions(
    chat: Chat, turns: tuple[str, ...], functions: str
) -> None:
    # Never "I don't know", never duties made up for one sector: what every cluster does.
    answer = chat.ask(*turns, intent="who_leads")
    assert "UNICEF" in answer and functions in answer, answer


@pytest.mark.parametrize(
    ("turns", "said"),
    [
        (
            ("who leads protection in south sudan", "and in the country?"),
            "We hold no country record for Protection in South Sudan",
        ),
        (("who leads health", "and in the country?"), "Name the country to see our record"),
        (("¿quién lidera salud?", "¿y en el país?"), "Nombre el país"),
        (("qui dirige la santé au Tchad ?", "et dans le pays ?"), "Tchad"),
        (("谁牵头卫生集群", "那在国家层面呢？"), "请说出国家名称"),
        (("من يقود مجموعة الصحة؟", "وفي البلد؟"), "اذكر اسم البلد"),
    ],
)
def test_the_country_level_after_a_lead_question_is_the_lead_there(
    chat: Chat, turns: tuple[str, ...], said: str
) -> None:
    # Not the topic on the two levels of the approach: the lead in the country asked about, or
    # which country is meant.
    answer = chat.ask(*turns, intent="who_leads")
    assert said in answer, answer


def test_the_next_one_after_a_lead_question_is_not_understood(chat: Chat) -> None:
    assert chat.ask("who leads wash?", "and the next one?").startswith("I don't know that")


def test_a_contact_of_someone_else_is_no_part_of_the_record(chat: Chat, records: None) -> None:
    answer = chat.ask("who leads health in sudan", "phone number of the minister?")
    assert "health@example.org" not in answer, answer


@pytest.mark.parametrize("then", ["next week?", "who is next?", "下一个问题"])
def test_next_beside_other_words_is_no_next_step(chat: Chat, then: str) -> None:
    assert "step 4 of 8" not in chat.ask("what is step 3 of the activation?", then)


def test_the_coordinator_in_a_country_we_hold_no_record_for_says_so(chat: Chat) -> None:
    chat("who leads WASH in Yemen")
    assert "our records name none for Water, Sanitation and Hygiene in Yemen" in chat(
        "and the coordinator?"
    )


@pytest.mark.parametrize(
    ("first", "then", "must"),
    [
        ("who leads education?", "who co-chairs it?", "Save the Children"),
        ("qui pilote le cluster education", "et qui co-dirige ?", "Save the Children"),
        ("qui dirige le cluster éducation", "qui le copilote ?", "Save the Children"),
        ("quien lidera vivienda tierra y propiedad", "y quien la co-lidera?", "ONU-Hábitat"),
        ("quién lidera seguridad alimentaria", "¿y quién la colidera?", "FAO"),
        ("مين يقود التعليم", "وشو عن الشريك بالقيادة؟", "Save the Children"),
        ("مين يقود التعليم", "ومين يقود معها؟", "Save the Children"),
        ("教育集群谁牵头", "谁和它一起牵头", "Save the Children"),
        # "There" is the last question's country, nothing else asked.
        ("quien lidera salud en Sudan", "y quien es el colider alli?", "Sudán"),
    ],
)
def test_who_co_leads_said_as_a_verb_asks_the_last_clusters_co_lead(
    chat: Chat, first: str, then: str, must: str
) -> None:
    # "Et qui co-dirige ?", "¿y quién la colidera?", "ومين يقود معها؟" ask the co-lead of the
    # cluster just asked about, as "and the co-lead?" does: not a topic on co-leading.
    answer = chat.ask(first, then, intent="who_leads")
    assert chat.last.data.get("parts") == ["co_lead"], chat.last.data
    assert must in answer, answer


@pytest.mark.parametrize(
    ("first", "then", "lead"),
    [
        ("who leads the emergency telecommunications cluster", "is it still OCHA?", "WFP"),
        ("who leads logistics", "is OCHA still the lead?", "WFP"),
        ("qui dirige les télécommunications d'urgence", "c'est toujours OCHA ?", "PAM"),
        ("quien lidera telecomunicaciones de emergencia", "sigue siendo OCHA?", "PMA"),
        ("مين يقود الاتصالات في حالات الطوارئ", "لسا أوتشا؟", "WFP"),
        ("谁牵头应急通信", "还是OCHA吗", "WFP"),
    ],
)
def test_is_it_still_x_asks_x_of_the_last_cluster(
    chat: Chat, first: str, then: str, lead: str
) -> None:
    # "Still" follows up as "and" does: the name asked of the cluster in conversation, which
    # keeps its lead and says the agency named has no part in it.
    answer = chat.ask(first, then, intent="who_leads")
    assert lead in answer, answer
    assert "OCHA" in answer, answer


def test_a_third_turn_keeps_the_cluster_of_the_first(chat: Chat) -> None:
    # Lead, then co-lead, then another country: still the first question's cluster.
    answer = chat.ask(
        "quien lidera educacion", "y quien la colidera?", "y en Sudan?", intent="who_leads"
    )
    assert "Educación" in answer and "Sudán" in answer, answer


@pytest.mark.parametrize(
    ("first", "then", "must"),
    [
        ("who leads food security", "and who co-leads it in Yemen?", ["Yemen", "FAO"]),
        (
            "quien lidera educacion",
            "y quien la colidera en Sudán?",
            ["Sudán", "Save the Children"],
        ),
        ("教育集群谁牵头", "在苏丹联合牵头的是谁", ["苏丹", "Save the Children"]),
    ],
)
def test_the_co_lead_asked_in_a_country_keeps_the_cluster(
    chat: Chat, first: str, then: str, must: list[str]
) -> None:
    # "And who co-leads it in Yemen?": the last cluster's co-lead there, not Yemen's records.
    answer = chat.ask(first, then, intent="who_leads")
    assert chat.last.data.get("parts") == ["co_lead"], chat.last.data
    for text in must:
        assert text in answer, answer


@pytest.mark.parametrize(
    "turns",
    [
        ("بيشاركه في القيادة مين لمجموعة التعليم",),
        ("مين بيقود مجموعة التعليم؟", "وبيشاركها بالقيادة مين؟"),
    ],
)
def test_spoken_arabic_asks_the_co_lead_with_its_present_and_its_and(
    chat: Chat, turns: tuple[str, ...]
) -> None:
    # "بيشاركه" is the spoken present of "يشاركه" (shares it), "و" the "and" written onto it: a
    # question for the co-lead, not about who takes part in a cluster.
    for turn in turns:
        text = chat(turn)
    assert chat.last is not None and chat.last.intent == "who_leads", text
    assert "Save the Children" in text and all(
        r.data.get("topic") != "membership" for r in chat.replies
    )
