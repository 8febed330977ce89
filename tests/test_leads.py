"""Who leads what: every cluster in every language, nuances, reverse and country look-ups."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.app import Bot
from bot.domain.records import import_file
from knowledge import LANGUAGES, KnowledgeBase, load
from knowledge.checklist import condition_of
from tests.conftest import Chat

QUESTION = {
    "en": "who leads the {name} cluster?",
    "zh": "{name}集群由谁牵头？",
    "fr": "Qui dirige le cluster {name} ?",
    "es": "¿Quién lidera el clúster de {name}?",
    "ar": "من يقود مجموعة {name}؟",
}
KB = load()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("cluster", [c.id for c in KB.clusters])
def test_every_cluster_lead_in_every_language(chat: Chat, lang: str, cluster: str) -> None:
    words = KB.text(lang)
    answer = chat(QUESTION[lang].format(name=words.sectors[cluster].name))
    assert chat.last is not None
    assert chat.last.intent == "who_leads"
    assert chat.last.lang == lang
    assert words.sectors[cluster].name in answer
    for lead in KB.sectors[cluster].leads:
        agency = words.agencies[lead.agency]
        assert agency.name in answer and agency.short in answer
    assert chat.last.sources, "every answer names its sources"


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("谁牵头卫生集群？", "来源：OCHA"),  # a full-width colon takes no space after it
        ("Qui dirige le cluster santé ?", "Sources : OCHA"),  # French spaces before it
        ("who leads health?", "Sources: OCHA"),
    ],
)
def test_the_sources_line_is_punctuated_as_the_language_writes(
    chat: Chat, question: str, line: str
) -> None:
    assert line in chat(question)


@pytest.mark.parametrize(
    ("question", "expected", "absent"),
    [
        ("who leads WASH", ["UNICEF"], ["WHO"]),
        ("nutriton clustr lead?", ["Nutrition", "UNICEF"], []),
        ("who leads helth", ["Health", "World Health Organization (WHO)"], []),
        ("logstics cluster lead", ["Logistics", "WFP"], []),
        # Two letters swapped: a typo as long as the name it stands for.
        ("who leads protectoin in Afghanistna", ["UNHCR", "Protection in Afghanistan"], []),
        # ... in a short name too, where fuzz.ratio alone counts the swap as two slips.
        ("who leads helath in somaila", ["World Health Organization (WHO)", "Somalia"], []),
        ("who leads education", ["UNICEF", "Save the Children", "co-lead"], []),
        ("who leads shelter", ["IFRC", "natural disasters", "UNHCR", "conflict", "convener"], []),
        ("who leads CCCM", ["IOM", "natural disasters", "UNHCR", "conflict"], []),
        ("who leads food security", ["WFP", "FAO", "co-lead"], []),
        ("who leads the ETC", ["WFP", "out of date"], []),
        ("who leads early recovery", ["UNDP"], []),
    ],
)
def test_leads_with_their_nuances(
    chat: Chat, question: str, expected: list[str], absent: list[str]
) -> None:
    answer = chat(question)
    for word in expected:
        assert word in answer
    for word in absent:
        assert f"({word})" not in answer


def test_protection_lists_its_areas_of_responsibility(chat: Chat) -> None:
    answer = chat(
        "What are the Protection Areas of Responsibility and who leads GBV, Child Protection, HLP and Mine Action?"
    )
    for aor, agency in [
        ("Child Protection", "UNICEF"),
        ("Gender-Based Violence", "UNFPA"),
        ("Housing, Land and Property", "NRC"),
        ("Mine Action", "UNMAS"),
    ]:
        line = next(line for line in answer.splitlines() if line.startswith(f"• {aor}"))
        assert agency in line
    assert "UN-Habitat" in answer and "since 2016" in answer


@pytest.mark.parametrize(
    "question",
    ["what is an area of responsibility?", "什么是责任领域", "que es un área de responsabilidad"],
)
def test_an_aor_named_by_its_words_is_the_acronym(chat: Chat, question: str) -> None:
    # "Area of responsibility" spelt out is the AoR, as "AoR" is: not a passage on responsibilities.
    chat.ask(question, intent="acronym")


def test_an_aor_alone_names_its_cluster(chat: Chat) -> None:
    answer = chat("who leads GBV?")
    assert "UNFPA" in answer and "Protection" in answer


@pytest.mark.parametrize(
    ("question", "lang", "clusters"),
    [
        (
            "which clusters does UNICEF lead",
            "en",
            ["Education", "Nutrition", "WASH", "Child Protection"],
        ),
        ("which clusters does WFP lead?", "en", ["Logistics", "ETC", "Food Security"]),
        ("世界粮食计划署负责哪些集群", "zh", None),
        ("Quels clusters le HCR dirige-t-il ?", "fr", None),
    ],
)
def test_clusters_an_agency_leads(
    chat: Chat, kb: KnowledgeBase, question: str, lang: str, clusters: list[str] | None
) -> None:
    answer = chat.ask(question, intent="agency_clusters")
    assert chat.last.lang == lang
    agency = chat.last.data["agencies"][0]["id"]
    expected = clusters or [
        kb.text(lang).sectors[s.id].name for s, _ in kb.clusters_led_by(agency)
    ]
    for name in expected:
        assert name in answer


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("联合国儿童基金会负责哪些集群", "• 教育，共同牵头"),
        ("ما هي المجموعات التي تقودها اليونيسف", "• التعليم، جهة رائدة مشاركة"),
        ("谁牵头住所集群", "(IFRC)，召集方"),
    ],
)
def test_chinese_and_arabic_lines_take_their_own_comma(
    chat: Chat, question: str, line: str
) -> None:
    assert line in chat(question)


def test_ocha_leads_no_cluster(chat: Chat) -> None:
    answer = chat("which clusters does OCHA lead?")
    assert "not a global lead" in answer


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("who is the head of OCHA", "Humanitarian Affairs and heads OCHA"),
        ("qui dirige OCHA ?", "aux affaires humanitaires et dirige OCHA"),
        ("quién dirige OCHA", "Asuntos Humanitarios de la ONU y dirige OCHA"),
        ("谁领导OCHA", "同时领导 OCHA"),
    ],
)
def test_who_heads_ocha_is_the_erc(chat: Chat, question: str, line: str) -> None:
    # Who heads the body, not what it leads: the line that says the ERC heads OCHA.
    answer = chat(question)
    assert line in answer, answer
    assert "not a global lead" not in answer, answer


def test_who_heads_an_agency_is_not_what_it_leads(chat: Chat) -> None:
    # Who heads UNICEF is in none of our topics: "I don't know", not its clusters.
    answer = chat.ask("who is the head of UNICEF", intent="unknown")
    assert "Education" not in answer.split("The global clusters are")[0], answer


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("which clusters does MSF lead", "UNHCR"),
        ("quels clusters MSF dirige-t-il ?", "HCR"),
        ("que clusters lidera MSF", "ACNUR"),
        ("无国界医生牵头哪些集群", "UNHCR"),
        ("ما هي المجموعات التي تقودها أطباء بلا حدود", "UNHCR"),
        # A name before the lead word, with a cluster word after it, is who leads.
        ("does MSF co-lead any cluster", "UNHCR"),
        ("MSF dirige-t-il un cluster ?", "HCR"),
        ("¿MSF lidera algún clúster?", "ACNUR"),
        # Or asked what it leads, the "what" before or after the name, or "what ... as cluster".
        ("what does msf lead", "UNHCR"),
        ("اطباء بلا حدود شو بتقود", "UNHCR"),
        ("et msf ils dirigent quoi comme cluster", "HCR"),
        ("y medicos sin fronteras que cluster lidera", "ACNUR"),
        # Arabic من there is "of" ("what does Oxfam lead of the clusters"); كتلة is a cluster.
        ("أوكسفام شو بتقود من الكتل", "UNHCR"),
        # A name said as an organisation's ("mundial", "contra el", "منظمة", a closing 会),
        # however many words it takes.
        ("vision mundial lidera algun cluster?", "ACNUR"),
        ("accion contra el hambre que cluster lidera", "ACNUR"),
        ("le comité international de secours dirige quoi comme cluster", "HCR"),
        ("世界宣明会在集群里负责啥", "UNHCR"),
        ("عايز اعرف منظمة العمل ضد الجوع بتقود ايه", "UNHCR"),
        ("شو بتقود منظمة الرؤية العالمية", "UNHCR"),
        # Asked with "anything", "algo"; two marker words left over ("World Relief"), in
        # English whatever the language.
        ("does the international rescue committee co-lead anything", "UNHCR"),
        ("what cluster is world relief in charge of", "UNHCR"),
        ("world relief lidera algo?", "ACNUR"),
    ],
)
def test_an_agency_we_do_not_hold_is_said_so_with_the_global_leads(
    chat: Chat, question: str, lead: str
) -> None:
    # What an agency leads, asked of one we do not hold: no cluster of that name, no guess.
    answer = chat.ask(question, intent="unknown_agency")
    assert lead in answer, answer
    assert any(wfp in answer for wfp in ("WFP", "PAM", "PMA")), answer


@pytest.mark.parametrize(
    "question", ["شو الكتل المفعلة في اليمن", "ما هي المجموعات المفعلة في اليمن"]
)
def test_arabic_kutla_is_a_cluster_word(chat: Chat, question: str) -> None:
    # كتلة / الكتل say cluster as مجموعة does: a country's records, not "I don't know".
    assert "لا نملك سجلات مجموعات عن اليمن" in chat(question)


@pytest.mark.parametrize(
    ("question", "name"),
    [
        (
            "what does the international committee of the red cross lead",
            "international committee of the red cross",
        ),
        (
            "quel cluster dirige le comité international de la croix-rouge",
            "comité international de la croix-rouge",
        ),
        ("红十字国际委员会牵头什么集群", "红十字国际委员会"),
        ("اللجنة الدولية للصليب الأحمر بتقود أي مجموعة", "اللجنة الدولية للصليب الأحمر"),
    ],
)
def test_the_icrc_is_not_read_as_the_ifrc(chat: Chat, question: str, name: str) -> None:
    # "Red Cross" names the IFRC; the ICRC, whose name holds it, leads no cluster.
    answer = chat.ask(question, intent="unknown_agency")
    assert name in answer, answer


def test_an_agency_we_do_not_hold_is_named_as_typed(chat: Chat) -> None:
    # The everyday word inside its name stays ("sin"), though it is no word of the name.
    assert "medicos sin fronteras" in chat("y medicos sin fronteras que cluster lidera")
    # Arabic as written, not folded ("منظمة العمل ضد الجوع", not "منظمه عمل ضد جوع").
    assert "منظمة العمل ضد الجوع" in chat("عايز اعرف منظمة العمل ضد الجوع بتقود ايه")


@pytest.mark.parametrize(
    "question",
    [
        # An example of a kind ("like World Vision"), or whether one may lead.
        "can an international NGO like World Vision co-lead a cluster?",
        "somos una ong nacional, podemos co-liderar un cluster",
        "la ong co-lider tiene la misma responsabilidad que la agencia lider ante el CH?",
        # Who leads a cluster of a name we do not know.
        "which organisation leads the tourism cluster",
    ],
)
def test_organisation_words_do_not_make_every_question_an_unknown_agency(
    chat: Chat, question: str
) -> None:
    chat(question)
    assert chat.last is not None and chat.last.intent != "unknown_agency", chat.last


def test_unknown_cluster_never_names_an_agency(chat: Chat, kb: KnowledgeBase) -> None:
    for question in [
        "who leads the cybersecurity cluster",
        "who leads the space cluster?",
        "qui dirige le cluster cybersécurité ?",
        "谁牵头网络安全集群？",
        # Names whose words occur in our passages, or one typo from a cluster's name.
        "who leads the security cluster",
        "who leads the gender cluster?",
        "who leads the disaster risk reduction cluster",
        "quien lidera el cluster de seguridad",
        "qui dirige le cluster sécurité",
        "谁牵头交通集群",
        "من يقود مجموعة الأمن",
        # A name with an everyday word inside, and a lead question put as a follow-up.
        "who leads the cash and voucher cluster",
        "quien lidera el cluster de dinero en efectivo",
        "and who leads the security cluster?",
        # A name before the lead word that "who" asks about, or after a cluster word.
        "who is the cash lead",
        "cluster tourism lead",
        "cluster tourisme c'est qui le lead",
    ]:
        answer = chat(question)
        assert chat.last is not None and chat.last.intent in {"unknown_cluster", "unknown"}, (
            question
        )
        for agency in kb.agencies:
            for lang in kb.languages.values():
                assert lang.agencies[agency].name not in answer, (question, agency)


def test_a_cluster_name_with_a_slip_is_still_that_cluster(chat: Chat) -> None:
    assert "UNICEF" in chat("who leads the nutriton cluster")
    assert "OMS" in chat("qui dirige le cluster santee")


def test_a_lead_question_about_a_topic_we_hold_is_answered_with_it(chat: Chat) -> None:
    chat("who leads the inter-cluster coordination group")
    assert chat.last is not None and chat.last.data.get("topic") in {"iccg_chair", "inter_cluster"}
    chat("who leads the refugee cluster?")
    assert chat.last is not None and chat.last.data.get("topic") == "refugee_coordination"


def test_list_of_clusters(chat: Chat, kb: KnowledgeBase) -> None:
    answer = chat("/clusters")
    assert "11 global clusters" in answer
    for cluster in kb.clusters:
        assert kb.text("en").sectors[cluster.id].name in answer


@pytest.mark.parametrize(
    "question",
    [
        "list all clusters and their lead agencies",
        "me pasas la lista de los clusters globales?",
        "列出所有集群的牵头机构",
        "把11个集群和牵头机构列出来",
    ],
)
def test_a_list_of_the_clusters_with_their_leads_is_the_list(chat: Chat, question: str) -> None:
    chat.ask(question, intent="list_clusters")


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        ("give me all the global cluster leads", "11 global clusters"),
        ("都有啥集群", "11 个全球集群"),
        ("شو هي المجموعات", "المجموعات العالمية الـ11"),
    ],
)
def test_the_list_asked_in_everyday_words_is_the_list(
    chat: Chat, question: str, heading: str
) -> None:
    # "All the leads", colloquial 啥 and dialect شو ask for the list as the list words do.
    answer = chat(question)
    assert heading in answer and "WFP" in answer, answer


def test_lead_command(chat: Chat) -> None:
    answer = chat("/lead wash Sudan")
    assert (
        "UNICEF" in answer
        and "no country record for Water, Sanitation and Hygiene in Sudan" in answer
    )
    assert "Usage: /lead" in chat("/lead")
    assert 'I don\'t know a cluster called "cybersecurity"' in chat("/lead cybersecurity")
    assert 'a cluster called "cash".' in chat("/lead cash Sudan")  # the country is no name
    # A country we do not know is said, not dropped for the global answer alone.
    answer = chat("/lead wash narnia")
    assert "UNICEF" in answer and 'I know no country called "narnia"' in answer
    assert "I know no country" not in chat("/lead wash Sudan")


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        (
            "is Save the Children really a co-lead for education, or only UNICEF?",
            "Yes: globally, Save the Children is co-lead of Education.",
        ),
        (
            "is IOM the lead for shelter?",
            "No: globally, International Organization for Migration (IOM) has no lead role in "
            "Shelter.",
        ),
        (
            "救助儿童会是教育集群的联合牵头吗？",
            "是的：在全球层面，救助儿童会 (Save the Children) 是教育集群的共同牵头。",
        ),
        # The kind of emergency named decides: UNHCR leads shelter only in conflict.
        (
            "does UNHCR lead shelter after the floods?",
            "No: in natural disasters, Office of the UN High Commissioner for Refugees (UNHCR) "
            "has no lead role in Shelter; it is lead in conflict-induced displacement.",
        ),
        (
            "is IOM the CCCM lead in a war",
            "No: in conflict-induced displacement, International Organization for Migration "
            "(IOM) has no lead role in Camp Coordination and Camp Management; it is lead in "
            "natural disasters.",
        ),
        (
            "does UNHCR lead shelter in conflicts?",
            "Yes: globally, Office of the UN High Commissioner for Refugees (UNHCR) is lead of "
            "Shelter (in conflict-induced displacement).",
        ),
        # A convener has a part but is no lead: not a yes.
        (
            "does IFRC lead shelter",
            "Not formally: globally, International Federation of Red Cross and Red Crescent "
            "Societies (IFRC) convenes Shelter (in natural disasters), and a convener is not a "
            "lead agency.",
        ),
        (
            "¿la FICR lidera el clúster de alojamiento?",
            "No formalmente: a nivel mundial, Federación Internacional de Sociedades de la Cruz "
            "Roja y de la Media Luna Roja (FICR) convoca el clúster de Alojamiento (en desastres "
            "naturales), y un convocante no es un organismo líder.",
        ),
    ],
)
def test_is_x_a_lead_of_y_answers_yes_or_no_first(
    chat: Chat, question: str, first_line: str
) -> None:
    assert chat(question).splitlines()[0] == first_line


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        (
            "who leads shelter after an earthquake",
            "In natural disasters, Shelter: International Federation of Red Cross and Red "
            "Crescent Societies (IFRC), convener (formally not a lead).",
        ),
        (
            "who leads CCCM in conflict",
            "In conflict-induced displacement, Camp Coordination and Camp Management: Office "
            "of the UN High Commissioner for Refugees (UNHCR).",
        ),
        (
            "¿quién lidera CCCM en un conflicto armado?",
            "En desplazamientos provocados por conflictos, Coordinación y Gestión de "
            "Campamentos: Oficina del Alto Comisionado de las Naciones Unidas para los "
            "Refugiados (ACNUR).",
        ),
    ],
)
def test_a_lead_asked_for_one_kind_of_emergency_is_said_first(
    chat: Chat, question: str, first_line: str
) -> None:
    answer = chat(question)
    assert answer.splitlines()[0] == first_line
    assert "Refugee responses" not in answer  # the kind is part of the lead question


def test_a_lead_that_depends_on_no_kind_of_emergency_has_no_such_line(chat: Chat) -> None:
    assert chat("who leads health in floods").splitlines()[0] == "Health"


def test_words_picked_out_of_a_sentence_are_no_cluster_name(chat: Chat) -> None:
    chat("is it true that NGOs can co-lead? yes or no")
    assert chat.last is not None and chat.last.data.get("topic") in {
        "ngo_can_co_lead",
        "ngo_co_lead",
    }


@pytest.mark.parametrize(
    "word", ["yes", "oui", "نعم", "no", "non", "لا", "无", "没有", "ok", "none"]
)
def test_a_bare_yes_or_no_asks_about_no_topic(chat: Chat, word: str) -> None:
    # A passage that opens with "Yes:", or holds "non" ("non-cluster"), is no answer to it.
    chat.ask(word, intent="unknown")


@pytest.mark.parametrize(
    "question",
    [
        "qui dirige la santé après le séisme",
        "qui dirige le cluster abris apres un seisme",
        "quién lidera alojamiento después del terremoto",
        # "Manages" asks who leads too; the step rule reads no step into "after the earthquake".
        "after the earthquake who manages the camps CCCM",
        "بعد الزلزال مين يدير المخيمات CCCM",
    ],
)
def test_after_the_emergency_asks_for_no_step(chat: Chat, question: str) -> None:
    # "Après" there names the emergency: no transition passage is added to the lead.
    chat(question)
    assert [r.intent for r in chat.replies] == ["who_leads"], chat.replies


@pytest.mark.parametrize(
    ("question", "hint"),
    [
        ("who leads health in our country?", "Name the country"),
        ("quien lidera salud en nuestro pais", "Nombre el país"),
        ("qui dirige la santé dans notre pays ?", "Nommez le pays"),
        ("我们国家的卫生集群谁负责？", "请说出国家名称"),
        ("من يقود الصحة في بلدنا؟", "اذكر اسم البلد"),
    ],
)
def test_our_country_unnamed_gets_the_global_lead_and_asks_which(
    chat: Chat, question: str, hint: str
) -> None:
    answer = chat(question)
    assert [r.intent for r in chat.replies] == ["who_leads"], "one answer, no stray topic"
    assert hint in answer
    assert "WHO" in answer or "OMS" in answer


@pytest.mark.parametrize(
    "question",
    [
        "el lider de cluster tiene que hacer capacitaciones",
        "le chef de file doit-il former les partenaires ?",
    ],
)
def test_a_duty_asked_of_the_lead_names_no_cluster(chat: Chat, question: str) -> None:
    # "Has to", "doit": what the lead must do is asked, so the words after it are no name.
    chat(question)
    assert chat.last is not None and chat.last.intent != "unknown_cluster", chat.last


@pytest.mark.parametrize(
    "question",
    [
        "who leads shelter globally?",
        "qui dirige le cluster abris au niveau mondial ?",
        "quien lidera alojamiento a nivel mundial",
        "全球层面谁牵头住所集群",
    ],
)
def test_globally_in_a_lead_question_asks_for_the_global_lead_not_the_levels(
    chat: Chat, question: str
) -> None:
    # "Globally" says which lead is asked: no passage on the two levels after the answer.
    chat(question)
    assert [r.data.get("topic") for r in chat.replies] == ["who_leads"], chat.replies


# A yes or no naming a country is that country's, from our record there, before anything
# global (a busy reader takes the first word); a country we hold no record for is said so
# first, then the global yes or no.
_RECORDS = (
    "country,cluster,lead,co_lead,coordinator,contact,activated_on,source\n"
    "Haiti,shelter,IOM,,,,,test\n"
    "South Sudan,cccm,IOM,NRC,,,,test\n"
    # A cluster field may be its acronym in lower case ("etc" is no "et cetera" there).
    "Yemen,etc,WFP,,,etc.yemen@example.org,,test\n"
)


@pytest.fixture
def with_records(bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path) -> Chat:
    path = tmp_path / "records.csv"
    path.write_text(_RECORDS, encoding="utf-8")
    import_file(path, kb, engine)
    return Chat(bot)


@pytest.mark.parametrize(
    ("question", "first_lines"),
    [
        (
            "is UNHCR the shelter lead in haiti?",
            ["No: in Haiti, the Shelter lead on record is IOM."],
        ),
        (
            "does IOM lead shelter in Haiti?",
            [
                "Yes: in Haiti, International Organization for Migration (IOM) leads Shelter, "
                "from our country record."
            ],
        ),
        (
            "is NRC a co-lead of cccm in south sudan",
            [
                "Yes: in South Sudan, Norwegian Refugee Council (NRC) is co-lead of Camp "
                "Coordination and Camp Management, from our country record."
            ],
        ),
        (
            "is UNHCR the CCCM lead in South Sudan?",
            [
                "No: in South Sudan, the Camp Coordination and Camp Management lead on record is "
                "IOM, with NRC as co-lead."
            ],
        ),
        (
            "does IOM lead shelter in Sudan?",
            [
                "We hold no country record for Shelter in Sudan, so this is the global answer:",
                "No: globally, International Organization for Migration (IOM) has no lead role "
                "in Shelter.",
            ],
        ),
        (
            "does IOM lead shelter in Haiti and Chad?",
            [
                "Yes: in Haiti, International Organization for Migration (IOM) leads Shelter, "
                "from our country record.",
                "We hold no country record for Shelter in Chad, so this is the global answer:",
            ],
        ),
        ("l'OIM dirige-t-elle les abris en Haïti ?", ["Oui : pour Haïti, "]),
        ("¿ACNUR lidera alojamiento en Haití?", ["No: en Haití, la agencia líder del clúster"]),
        ("难民署在海地牵头住所集群吗？", ["不是：在海地，我们记录中的住所集群牵头机构是 IOM。"]),
        ("هل تقود المنظمة الدولية للهجرة المأوى في هايتي؟", ["نعم: في هايتي، تقود"]),
    ],
)
def test_a_yes_or_no_naming_a_country_answers_for_that_country_first(
    with_records: Chat, question: str, first_lines: list[str]
) -> None:
    lines = with_records(question).splitlines()
    for got, want in zip(lines, first_lines, strict=False):
        assert got.startswith(want), lines[:3]
    assert "globally" not in lines[0]  # the country's answer, never the global one first


def test_the_global_arrangement_still_follows_a_countrys_yes_or_no(with_records: Chat) -> None:
    answer = with_records("is UNHCR the shelter lead in haiti?")
    assert "Global lead agencies:" in answer and "UNHCR" in answer
    assert "In Haiti, from our country records:" in answer


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("who leads shelter when gang violence displaces people", "In conflict-induced"),
        ("shelter lead for insecurity and attacks on villages?", "In conflict-induced"),
        ("cccm lead where armed groups attack", "In conflict-induced"),
        ("who leads shelter after a tropical storm", "In natural disasters"),
        ("who leads cccm after the landslide", "In natural disasters"),
        ("who leads shelter after a volcano eruption", "In natural disasters"),
        ("qui dirige les abris en cas de violence des gangs ?", "Lors de déplacements dus"),
        ("qui dirige les abris après une tempête tropicale ?", "Lors de catastrophes"),
        ("¿quién lidera alojamiento con inseguridad y ataques a aldeas?", "En desplazamientos"),
        ("¿quién lidera alojamiento tras la erupción del volcán?", "En desastres naturales"),
        ("帮派暴力时谁牵头住所集群", "冲突导致流离失所的情况下"),
        ("山体滑坡后谁牵头住所集群", "自然灾害情况下"),
        ("من يقود المأوى عند عنف العصابات؟", "في حالات النزوح الناجم عن النزاعات"),
        ("من يقود المأوى بعد عاصفة استوائية؟", "في الكوارث الطبيعية"),
    ],
)
def test_more_words_for_the_kind_of_emergency_decide_the_lead(
    chat: Chat, question: str, kind: str
) -> None:
    assert chat(question).splitlines()[0].startswith(kind)


def test_an_emergency_of_both_kinds_defaults_no_lead(kb: KnowledgeBase) -> None:
    assert condition_of(kb, "gang violence after the tropical storm") is None
    assert condition_of(kb, "gang violence in the capital") == "conflict"


def test_a_refugee_influx_is_no_kind_of_cluster_emergency(kb: KnowledgeBase) -> None:
    # Refugee responses are coordinated under UNHCR's own arrangements, not the cluster
    # approach: a refugee influx says neither kind.
    assert condition_of(kb, "a refugee influx from the neighbouring country") is None


@pytest.mark.parametrize(
    "question",
    [
        "WFP leads nutrition, correct?",
        "el PMA lidera nutrición, ¿verdad?",
        "c'est le PAM qui dirige la nutrition, c'est bien ça ?",
    ],
)
def test_a_word_asking_to_confirm_adds_no_second_topic(chat: Chat, question: str) -> None:
    # "correct?" asks to confirm the yes/no; it is no question about core function 4's
    # "corrections", and the answer says only who leads.
    answer = chat(question)
    assert answer.startswith("No"), answer
    assert [r.intent for r in chat.replies] == ["who_leads"], answer
    assert not chat.last.data.get("related"), answer


_NO_CONTACT = "Our records hold no contact details for this"


def test_a_phone_number_asked_beside_a_lead_gets_the_lead_and_the_contact_we_hold(
    with_records: Chat,
) -> None:
    # The lead half is answered; the number is the record's contact, or said to be unknown.
    held = with_records("who leads ETC in Yemen and what is the telephone number?")
    assert "WFP" in held and "Contact: etc.yemen@example.org" in held, held
    assert _NO_CONTACT not in held, held
    missing = with_records("who leads shelter in haiti and what's their phone number")
    assert "Lead: IOM" in missing and _NO_CONTACT in missing, missing
    assert "Nuestros registros no tienen datos de contacto" in with_records(
        "¿quién lidera el ETC en Siria y cuál es el número de teléfono?"
    )


@pytest.mark.parametrize(
    ("question", "none_held"),
    [
        ("what's the phone number of the health cluster coordinator in yemen", _NO_CONTACT),
        (
            "quel est le numero de telephone du coordinateur du cluster sante au Tchad",
            "Nos fiches ne contiennent aucune coordonnée",
        ),
        (
            "me pasas el telefono del coordinador de salud en Haiti",
            "Nuestros registros no tienen datos de contacto",
        ),
        ("苏丹卫生集群协调员的电话号码是多少", "我们的记录中没有这方面的联系方式"),
        ("ما هو رقم هاتف منسق مجموعة الصحة في سوريا", "لا تتضمن سجلاتنا بيانات الاتصال"),
        ("email address of the wash cluster coordinator?", _NO_CONTACT),
    ],
)
def test_a_cluster_coordinators_phone_number_is_said_to_be_unknown_beside_the_lead(
    chat: Chat, question: str, none_held: str
) -> None:
    # The lead is what we hold of the post; a number is never guessed, nor a passage added.
    answer = chat(question)
    assert [r.intent for r in chat.replies] == ["who_leads"], answer
    assert none_held in answer, answer


def test_a_phone_number_asked_alone_of_a_post_is_not_known(chat: Chat) -> None:
    answer = chat("what is the phone number of the HC in Sudan?")
    assert chat.last.intent == "unknown", answer
    assert _NO_CONTACT not in chat("who leads ETC in Yemen?")


@pytest.mark.parametrize(
    ("question", "lead", "none_held"),
    [
        ("what's the budget of the health cluster", "WHO", "no budget or funding figures"),
        ("卫生集群的预算是多少", "WHO", "预算或资金数字"),
        ("budget du cluster sante", "OMS", "aucun chiffre de budget"),
        ("presupuesto del cluster de salud", "OMS", "cifras de presupuesto"),
        ("how many partners does the health cluster have", "WHO", "no count"),
        ("卫生集群有多少个伙伴", "WHO", "人数"),
        ("combien de membres dans le cluster sante", "OMS", "aucun décompte"),
        ("كم عدد الشركاء في مجموعة الحماية", "UNHCR", "أي عدد"),
        (
            "how long is the contract of the shelter cluster coordinator?",
            "IFRC",
            "terms of employment",
        ),
        ("what is the salary of the health cluster coordinator?", "WHO", "terms of employment"),
        ("卫生集群协调员的工资是多少", "WHO", "聘用条件"),
    ],
)
def test_a_fact_we_do_not_hold_of_a_named_cluster_is_said_unheld_beside_the_lead(
    chat: Chat, question: str, lead: str, none_held: str
) -> None:
    # A budget, a count or a contract is in none of our passages: the lead is what we hold,
    # the line says what we do not, and no passage that shares a word is added.
    answer = chat(question)
    assert [r.intent for r in chat.replies] == ["who_leads"], answer
    assert lead in answer and none_held in answer, answer


@pytest.mark.parametrize(
    ("question", "none_held", "closest"),
    [
        ("who pays the cluster coordinator?", "no terms of employment", "These topics come"),
        ("what is the salary of a cluster coordinator", "no terms of employment", "These"),
        ("集群协调员的工资是多少", "聘用条件", "以下主题最接近"),
        ("qui paie le coordinateur du cluster ?", "conditions d'emploi", "Ces sujets"),
        ("what is the phone number of the cluster coordinator", "no contact details", "These"),
    ],
)
def test_a_posts_pay_asked_of_no_cluster_is_said_unheld_with_one_button_a_topic(
    chat: Chat, question: str, none_held: str, closest: str
) -> None:
    # Not a plain "I don't know" followed by the cluster list: what we do not hold is said,
    # and the line that offers the nearest topics comes last, right before their buttons.
    answer = chat.ask(question, intent="unknown")
    assert none_held in answer.splitlines()[1], answer
    assert answer.rstrip().splitlines()[-1].startswith(closest), answer
    labels = [c.label for c in chat.last.choices]
    assert labels and len(labels) == len(set(labels)), labels  # a line and its topic: one


@pytest.mark.parametrize(
    "question", ["how long is a cluster coordinator's contract", "集群协调员一般签几年合同"]
)
def test_a_posts_contract_asked_of_no_cluster_is_not_known(chat: Chat, question: str) -> None:
    chat.ask(question, intent="unknown")


@pytest.mark.parametrize(
    "question",
    [
        "who leads health in emergencies",
        "qui dirige la santé dans les situations d'urgence",
        "من يقود مجموعة الاتصالات في حالات الطوارئ",
        "هل اليونيسف هي قائدة مجموعة wash؟",
        "粮食安全集群和物流集群分别由谁牵头",
        "when was the health cluster activated in sudan",
        "is the education cluster activated in chad?",
    ],
)
def test_a_lead_answer_gets_no_passage_on_the_words_of_its_own_question(
    chat: Chat, question: str
) -> None:
    # The cluster's own name, "in emergencies", "activated" beside a country: words that say
    # which lead or record is asked, not a second question.
    answer = chat(question)
    assert [r.intent for r in chat.replies] == ["who_leads"], answer
    assert not chat.last.data.get("related"), answer


def test_a_lead_question_that_asks_a_second_thing_still_gets_it(chat: Chat) -> None:
    answer = chat("who leads wash in yemen and what are the activation criteria")
    assert "UNICEF" in answer and "sharp deterioration" in answer, answer


@pytest.mark.parametrize(
    ("question", "starts", "names"),
    [
        ("is fao the only fsc lead?", "No", "WFP"),
        ("is unicef the only lead for education?", "No", "Save the Children"),
        ("la FAO est-elle le seul chef de file du cluster sécurité alimentaire ?", "Non", "PAM"),
        ("unicef es el unico lider de educacion?", "No", "Save the Children"),
        ("粮农组织是粮食安全集群唯一的牵头机构吗", "不是", "WFP"),
        ("هل الفاو هي القائد الوحيد لمجموعة الأمن الغذائي؟", "لا", "WFP"),
        ("is WHO the sole lead of the health cluster", "Yes", "the only lead"),
        # A convener is no lead, alone or not.
        ("is ifrc the only shelter lead in natural disasters?", "Not formally", "convener"),
    ],
)
def test_whether_an_agency_is_the_only_lead_is_answered_from_all_its_leads(
    chat: Chat, question: str, starts: str, names: str
) -> None:
    answer = chat(question)
    assert answer.startswith(starts) and names in answer.split("\n")[0], answer


def test_the_only_lead_in_a_country_is_answered_from_the_record(with_records: Chat) -> None:
    # A record with a lead and a co-lead is a no, naming both; one with a lead alone, a yes.
    shared = with_records("is IOM the only CCCM lead in South Sudan?")
    assert shared.startswith("No: in South Sudan") and "NRC" in shared.split("\n")[0], shared
    alone = with_records("is IOM the only shelter lead in Haiti?")
    assert alone.startswith("Yes: in Haiti"), alone


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("WHO LEADS WASH", "United Nations Children's Fund (UNICEF)"),
        ("who leads etc", "World Food Programme (WFP)"),
        ("who leads the etc cluster", "World Food Programme (WFP)"),
    ],
)
def test_a_name_whose_case_says_nothing_is_read_as_meant(
    chat: Chat, question: str, lead: str
) -> None:
    # All in capitals, "WHO" opening the question asks who; "etc" after a lead word is ETC.
    answer = chat(question)
    assert [r.intent for r in chat.replies] == ["who_leads"], answer
    assert lead in answer and not answer.startswith("No"), answer


@pytest.mark.parametrize(
    "question",
    [
        "what is polr? who leads wash?",
        "who leads wash? what is polr?",
        "que es el polr y quien lidera logistica",
        "ما هو POLR ومن يقود اللوجستيات؟",
    ],
)
def test_a_lead_and_a_topic_in_one_message_get_both(chat: Chat, question: str) -> None:
    # The lead first, then the topic the other clause asks, with no hint to ask the lead again.
    answer = chat(question)
    assert [r.template for r in chat.replies] == [
        "leads/who_leads.j2",
        "concepts/explain.j2",
    ], answer
    assert chat.replies[1].data["topic"] == "provider_of_last_resort", answer
    assert "who leads" not in chat.bot.render_plain(chat.replies[1:]).split("\n", 1)[1], answer


# What a cluster does, asked of one cluster: its lead, then the six core functions every
# cluster serves (we hold no sector's own duties, and never make them up).
@pytest.mark.parametrize(
    ("question", "lead", "functions"),
    [
        ("what does the nutrition cluster do?", "UNICEF", "The six core functions of a cluster"),
        ("que fait le cluster nutrition ?", "UNICEF", "Les six fonctions essentielles"),
        ("¿qué hace el clúster de nutrición?", "UNICEF", "Las seis funciones básicas"),
        ("营养集群做什么", "UNICEF", "集群的六项核心职能"),
        ("ماذا تفعل مجموعة التغذية؟", "UNICEF", "الوظائف الأساسية الست"),
    ],
)
def test_what_a_named_cluster_does_is_its_lead_and_every_clusters_functions(
    chat: Chat, question: str, lead: str, functions: str
) -> None:
    answer = chat.ask(question, intent="who_leads")
    assert lead in answer and functions in answer, answer
    assert answer.index(lead) < answer.index(functions), answer


@pytest.mark.parametrize(
    ("question", "lead", "line"),
    [
        (
            "the government wants to co-lead the wash cluster, is that allowed",
            "UNICEF",
            "How a government co-chairs a cluster in practice is agreed in each country",
        ),
        (
            "el gobierno quiere colidera el cluster de wash, se puede?",
            "UNICEF",
            "La forma en que un gobierno copreside un clúster en la práctica se acuerda",
        ),
        ("can an ngo co-lead the wash cluster", "UNICEF", "NGOs, including national NGOs, can"),
        # The government named as who leads: its topic, not who makes up a cluster.
        (
            "les autorités peuvent-elles diriger le cluster santé ?",
            "OMS",
            "La manière dont un gouvernement copréside concrètement un cluster",
        ),
    ],
)
def test_someone_else_leading_a_cluster_gets_whether_it_may(
    chat: Chat, question: str, lead: str, line: str
) -> None:
    # The lead, then what our topics say of that one leading: not the lead alone.
    answer = chat(question)
    assert lead in answer and line in answer, answer


@pytest.mark.parametrize(
    "question",
    [
        "we're a small NGO just registered, how do we join the nutrition cluster in Yemen",
        "hi, we're a women-led CSO in Sudan, how can we join the protection cluster?",
        "on est une ONG locale, comment rejoindre le cluster protection au Mali ?",
        "我们是个小NGO，想加入也门的卫生集群，该怎么弄",
    ],
)
def test_joining_a_cluster_is_answered_whoever_says_they_ask(chat: Chat, question: str) -> None:
    # Who asks ("a small NGO", "women-led") is no question of who works there or who leads: the
    # cluster's lead, and whom to ask about joining it.
    chat(question)
    assert chat.last is not None and chat.last.intent == "who_leads", question
    assert [r.data.get("topic") for r in chat.replies[1:]] == ["joining"], chat.replies


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("who co-leads health", "Globally, Health has no co-lead."),
        ("qui co-dirige le cluster santé ?", "le cluster Santé n'a pas de co-chef de file"),
        ("who co-leads education", "Education is co-led by"),
    ],
)
def test_the_co_lead_asked_outright_is_told_even_when_there_is_none(
    chat: Chat, question: str, said: str
) -> None:
    # Asked first, as after a lead answer: whether the cluster has a co-lead, not the lead alone.
    assert said in chat(question)


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("what does International Medical Corps lead", "International Medical Corps"),
        ("Shelter Box", "Shelter Box"),
        ("¿Water Mission lidera algún clúster?", "Water Mission"),
        ("what clusters does Food for the Hungry lead", "Food for the Hungry"),
    ],
)
def test_an_organisation_named_with_a_cluster_word_is_one_we_do_not_hold(
    chat: Chat, question: str, name: str
) -> None:
    # "Medical", "shelter", "water", "food" inside an organisation's name name no cluster (nor
    # "Hungry" Hungary): the answer says we hold no agency of that name, never a cluster's lead.
    chat(question)
    assert chat.last is not None and chat.last.intent == "unknown_agency", question
    assert chat.last.data.get("name") == name, chat.last.data


@pytest.mark.parametrize(
    ("question", "name"),
    [
        # The verb first, then the name: "what leads the ICRC" is what the ICRC leads.
        ("qué lidera el CICR", "CICR"),
        ("que dirige le CICR ?", "CICR"),
        ("شو بتقود أوكسفام", "أوكسفام"),
        ("ما الذي تقوده اللجنة الدولية للصليب الأحمر", "اللجنة الدولية للصليب الأحمر"),
        # Capitals beside the name are part of it, though "un" is an everyday word.
        ("what does UN Women lead", "UN Women"),
        # A Chinese name with its acronym in brackets.
        ("国际关怀协会（CARE）牵头哪个集群", "国际关怀协会（CARE）"),
    ],
)
def test_what_an_agency_we_do_not_hold_leads_names_it_whole(
    chat: Chat, question: str, name: str
) -> None:
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "unknown_agency", chat.last
    assert f"{name}" in answer, answer


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("¿qué agencia está a cargo del clúster de energía?", '"energia"'),
        ("who is in charge of the tourism cluster?", '"tourism"'),
        ("qui est en charge du cluster énergie ?", "« energie »"),
    ],
)
def test_a_lead_phrase_of_several_words_leaves_the_cluster_name_whole(
    chat: Chat, question: str, name: str
) -> None:
    # "a cargo de", "in charge of": no word of them is part of the cluster's name.
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "unknown_cluster", chat.last
    assert name in answer and "OCHA" not in answer, answer


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("which clusters does the Kenya Red Cross lead", "Kenya Red Cross"),
        ("Does the Norwegian Red Cross lead anything?", "Norwegian Red Cross"),
        ("que clusters lidera la Cruz Roja Colombiana", "Cruz Roja Colombiana"),
        ("la Croix-Rouge française dirige quel cluster ?", "Croix-Rouge française"),
        ("الهلال الأحمر المصري بيقود ايه", "الهلال الأحمر المصري"),
        ("肯尼亚红十字会牵头哪些集群", "肯尼亚红十字会"),
    ],
)
def test_a_national_red_cross_society_is_not_the_ifrc(
    chat: Chat, question: str, name: str
) -> None:
    # "Red Cross" beside a country or a word of its own is a national society, not the IFRC.
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "unknown_agency", chat.last
    assert name in answer, answer


@pytest.mark.parametrize(
    "question",
    ["does the red cross lead anything", "la cruz roja lidera algun cluster", "红十字会牵头什么"],
)
def test_the_red_cross_alone_is_still_the_ifrc(chat: Chat, question: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.intent == "agency_clusters", chat.last


@pytest.mark.parametrize(
    ("question", "country"),
    [
        ("بلبنان، مين عم يقود مجموعة الأمن الغذائي؟", "لبنان"),
        ("مين بيقود الصحة بسوريا؟", "سوريا"),
        ("بمصر مين ماسك التعليم", "مصر"),
    ],
)
def test_a_country_with_an_arabic_preposition_on_it_is_that_country(
    chat: Chat, question: str, country: str
) -> None:
    # "بلبنان" is "في لبنان": the answer says what we hold for that country, not the global lead.
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "who_leads", chat.last
    assert country in answer, answer


@pytest.mark.parametrize(
    ("question", "other"),
    [
        (
            "en educación, además de UNICEF, ¿hay otra organización que co-lidere a nivel global?",
            "Save the Children",
        ),
        ("¿hay alguna agencia que colidere seguridad alimentaria con el PMA?", "FAO"),
    ],
)
def test_a_spanish_lead_word_in_the_subjunctive_asks_for_the_lead(
    chat: Chat, question: str, other: str
) -> None:
    # "que co-lidere": a lead word as "lidera" is, so the cluster's leads answer.
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "who_leads", chat.last
    assert other in answer, answer


@pytest.mark.parametrize(
    ("question", "also"),
    [
        ("le HCR il est lead de quoi en fait, à part la protection ?", "CCCM"),
        ("besides protection, what does UNHCR lead?", "CCCM"),
        ("除了保护，难民署还牵头什么？", "CCCM"),
        ("بخلاف الحماية، شو بتقود المفوضية؟", "CCCM"),
    ],
)
def test_a_cluster_set_aside_asks_what_else_the_agency_leads(
    chat: Chat, question: str, also: str
) -> None:
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "agency_clusters", chat.last
    assert also in answer, answer


def test_an_agency_set_aside_still_asks_for_the_clusters_leads(chat: Chat) -> None:
    chat("besides UNICEF, who co-leads education?")
    assert chat.last is not None and chat.last.intent == "who_leads", chat.last


def test_cluster_names_typed_in_capitals_side_by_side_stay_clusters(chat: Chat) -> None:
    # "Shelter, Water, Sanitation": each is a cluster's name, no organisation called "Shelter Water".
    answer = chat("Who leads Health, Shelter, Water, Sanitation and Hygiene?")
    assert chat.last is not None and chat.last.intent == "who_leads", answer
    assert all(name in answer for name in ("(WHO)", "(IFRC)", "(UNICEF)")), answer
