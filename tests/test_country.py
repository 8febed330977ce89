"""Country records: import from CSV (all or nothing) and answers from them."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import Bot
from bot.domain.records import RecordsError, import_file
from bot.models import CountryCluster
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.conftest import Chat

EXAMPLE = Path(__file__).parent.parent / "examples" / "country-clusters.sample.csv"
HEADER = "country,cluster,lead,co_lead,coordinator,contact,activated_on,source\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "records.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def count(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(CountryCluster)).all())


@pytest.fixture
def example_records(kb: KnowledgeBase, engine: Engine) -> None:
    """The sample records file imported into the database the `chat` fixture's bot reads."""
    import_file(EXAMPLE, kb, engine)


def test_sample_file_imports_and_answers(any_engine: Engine, kb: KnowledgeBase) -> None:
    result = import_file(EXAMPLE, kb, any_engine)
    assert result.added >= 3 and result.updated == 0
    again = import_file(EXAMPLE, kb, any_engine)
    assert again.added == 0 and again.updated == result.added
    chat = Chat(Bot(Settings(), kb=kb, engine=any_engine))
    answer = chat("who leads health in Sudan?")
    assert "In Sudan, from our country records:" in answer
    assert "SAMPLE" in answer  # the sample file says it is sample data
    assert "Global lead agency" in answer  # the global arrangement stays visible


def test_a_records_agency_is_named_in_the_readers_language(
    bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    import_file(
        write(
            tmp_path, "Sudan,health,WHO,Ministry of Health,,,,test\nChad,logistics,WFP,,,,,test\n"
        ),
        kb,
        engine,
    )
    answer = Chat(bot)("qui dirige la santé au Soudan ?")
    assert "Chef de file : OMS" in answer, answer
    assert "Ministry of Health" in answer  # no agency we know: as it was written
    chad = Chat(bot)("quels clusters sont actifs au Tchad ?")
    assert "Logistique : PAM" in chad, chad  # French spaces its colon


@pytest.mark.parametrize(
    ("question", "none_for_mali", "sudan"),
    [
        ("which clusters are active in Mali and Sudan", "no cluster records for Mali", "Sudan ("),
        ("quels clusters sont actifs au Mali et au Soudan ?", "(Mali)", "Soudan, d'après"),
        ("马里和苏丹有哪些集群", "我们没有马里的集群记录", "我们关于苏丹的记录"),
        ("ما هي المجموعات المفعلة في مالي والسودان", "مالي", "السودان"),
    ],
)
def test_the_records_of_each_country_named(
    chat: Chat, example_records: None, question: str, none_for_mali: str, sudan: str
) -> None:
    # "in Mali and Sudan": each country is answered, the one we hold nothing for as well.
    answer = chat.ask(question, intent="country_clusters")
    assert none_for_mali in answer and sudan in answer, answer
    assert "UNICEF" in answer.split(sudan, 1)[1], answer  # Sudan's nutrition record


@pytest.mark.parametrize(
    ("question", "shown", "not_shown"),
    [
        ("quels clusters sont actifs au Soudan ?", "• Santé : OMS", "Santé: OMS"),
        ("苏丹有哪些集群", "• 卫生：WHO", "卫生: WHO"),
        ("ما هي المجموعات المفعلة في السودان", "سجلاتنا عن السودان (مجموعتان):", "2 مجموعتان"),
        ("which clusters are active in Sudan", "• Health: WHO", "Health : WHO"),
    ],
)
def test_a_records_list_is_written_as_its_language_writes(
    chat: Chat, example_records: None, question: str, shown: str, not_shown: str
) -> None:
    # French spaces a colon, Chinese writes it full width, Arabic's dual needs no number.
    answer = chat(question)
    assert shown in answer and not_shown not in answer, answer


# What an agency leads in a country: our records there whose lead or co-lead names it, first,
# asked whole or as a follow-up; the global list stays below.
@pytest.mark.parametrize(
    ("turns", "must"),
    [
        (
            ("which clusters does UNICEF lead", "and WFP?", "and in Sudan?"),
            ["In Sudan, from our country records, World Food Programme (WFP) leads", "Logistics"],
        ),
        (
            ("¿qué lidera el PMA en Chad?",),
            ["En Chad, según nuestros registros", "Nutrición, colíder"],
        ),
        (("儿基会牵头哪些集群", "那在苏丹呢"), ["我们没有联合国儿童基金会", "营养"]),
        (("what does UNHCR lead in Congo?",), ["Which country do you mean", "Protection"]),
    ],
)
def test_what_an_agency_leads_in_a_country_is_read_from_its_records(
    bot: Bot,
    kb: KnowledgeBase,
    engine: Engine,
    tmp_path: Path,
    turns: tuple[str, ...],
    must: list[str],
) -> None:
    import_file(
        write(tmp_path, "Sudan,logistics,WFP,,,,,test\nChad,nutrition,UNICEF,WFP,,,,test\n"),
        kb,
        engine,
    )
    chat = Chat(bot)
    answer = chat.ask(*turns)
    for text in must:
        assert text in answer, answer


def test_two_countries_named_get_a_record_line_each(any_engine: Engine, kb: KnowledgeBase) -> None:
    import_file(EXAMPLE, kb, any_engine)
    answer = Chat(Bot(Settings(), kb=kb, engine=any_engine))(
        "who leads health in Sudan and Haiti?"
    )
    assert "In Sudan, from our country records:" in answer
    assert "We hold no country record for Health in Haiti" in answer


def test_no_record_says_so(chat: Chat) -> None:
    answer = chat("who leads shelter in Haiti")
    assert "We hold no country record for Shelter in Haiti" in answer
    assert "IFRC" in answer


# The country asked about, read from the name people type (or None where the name fits two
# and the bot asks which), and what the answer shows of it.
@pytest.mark.parametrize(
    ("question", "code", "shown"),
    [
        pytest.param(
            "who leads health in democratic republic of congo",
            "CD",
            "Democratic Republic of",
            id="drc-en",
        ),
        pytest.param(
            "who leads wash in DR of Congo",
            "CD",
            "Democratic Republic of the Congo",
            id="dr-of-congo-en",
        ),
        pytest.param(
            "who leads health in republic of congo",
            "CG",
            "Health in Republic of the Congo",
            id="republic-of-congo-en",
        ),
        pytest.param(
            "qui dirige la santé en république démocratique de congo ?",
            "CD",
            "République démo",
            id="drc-fr",
        ),
        pytest.param(
            "quién lidera salud en la república democrática de congo",
            "CD",
            "República Democrática",
            id="drc-es",
        ),
        pytest.param("刚果民主共和国的卫生集群谁牵头", "CD", "刚果民主共和国", id="drc-zh"),
        # "Congo" alone fits both: neither is read, and the bot asks which is meant.
        pytest.param(
            "who leads health in Congo",
            None,
            "Which country do you mean: Democratic Republic",
            id="congo-alone-en",
        ),
        pytest.param(
            "qui dirige la santé au Congo ?",
            None,
            "De quel pays parlez-vous : République démo",
            id="congo-alone-fr",
        ),
        pytest.param(
            "quién lidera salud en el Congo",
            None,
            "¿A qué país se refiere: República Democrática",
            id="congo-alone-es",
        ),
        pytest.param(
            "刚果的卫生集群谁牵头",
            None,
            "您指的是哪个国家：刚果民主共和国还是刚果共和国",
            id="congo-alone-zh",
        ),
        pytest.param(
            "من يقود الصحة في الكونغو",
            None,
            "أي بلد تقصد: جمهورية الكونغو الديمقراطية أم",
            id="congo-alone-ar",
        ),
        # CLDR writes "Myanmar (Burma)": the name people type is either one alone.
        pytest.param("who leads health in Myanmar?", "MM", "Health in Myanmar,", id="myanmar-en"),
        pytest.param(
            "qui dirige le cluster santé au Myanmar ?", "MM", "Santé (Myanmar)", id="myanmar-fr"
        ),
        pytest.param(
            "¿quién lidera salud en Myanmar?", "MM", "Salud en Myanmar,", id="myanmar-es"
        ),
        pytest.param("who leads health in burma", "MM", "Health in Myanmar,", id="burma-en"),
        pytest.param("who leads wash in the DPRK", "KP", "North Korea", id="dprk-en"),
    ],
)
def test_a_country_is_found_by_the_name_people_use(
    chat: Chat, question: str, code: str | None, shown: str
) -> None:
    answer = chat(question)
    assert shown in answer, answer
    # The two Congos are told apart: CLDR's "Congo - Brazzaville" (刚果（布）) is never shown.
    assert "Brazzaville" not in answer and "布）" not in answer, answer
    assert chat.last is not None
    assert (chat.last.data["country"] or {}).get("code") == code, answer


def test_a_record_for_myanmar_is_imported_by_that_name(
    tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    assert import_file(write(tmp_path, "Myanmar,health,WHO,,,,,test\n"), kb, engine).added == 1


def test_a_record_for_congo_alone_is_refused_with_both_codes(
    tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    with pytest.raises(RecordsError) as err:
        import_file(write(tmp_path, "Congo,health,WHO,,,,,test\n"), kb, engine)
    assert err.value.errors == [
        "line 2: 'Congo' names more than one country: write CD (Democratic Republic of the"
        " Congo) or CG (Republic of the Congo)"
    ]


def test_a_file_without_some_columns_keeps_what_the_records_hold_in_them(
    bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    import_file(
        write(tmp_path, "Sudan,health,WHO,,A. Person,a@example.org,2023-05-01,test\n"), kb, engine
    )
    leads_only = tmp_path / "leads.csv"
    leads_only.write_text("country,cluster,lead\nSudan,health,UNICEF\n", encoding="utf-8")
    assert import_file(leads_only, kb, engine).updated == 1
    answer = Chat(bot)("who leads health in Sudan?")
    assert "UNICEF" in answer  # the column the file has is updated
    assert "A. Person" in answer and "a@example.org" in answer, answer  # the others are kept
    with Session(engine) as s:  # the old source does not vouch for the new lead
        assert [r.source for r in s.exec(select(CountryCluster))] == [""]


def test_a_lead_that_is_the_records_co_lead_is_refused(
    kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    import_file(write(tmp_path, "Sudan,food security,WFP,FAO,,,,test\n"), kb, engine)
    leads_only = tmp_path / "leads.csv"
    leads_only.write_text("country,cluster,lead\nSudan,food security,FAO\n", encoding="utf-8")
    with pytest.raises(RecordsError) as err:
        import_file(leads_only, kb, engine)
    assert "the lead 'FAO' is the record's co-lead" in err.value.errors[0]
    with Session(engine) as s:  # nothing was loaded
        assert [(r.lead, r.co_lead) for r in s.exec(select(CountryCluster))] == [("WFP", "FAO")]


def test_country_overview(bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path) -> None:
    import_file(
        write(
            tmp_path,
            "Sudan,health,WHO,,A. Person,a@example.org,2023-05-01,test\n"
            "SD,nutrition,UNICEF,,,,,test\n",
        ),
        kb,
        engine,
    )
    answer = Chat(bot)("which clusters are active in Sudan?")
    assert "Health: WHO" in answer and "Nutrition: UNICEF" in answer


def test_bad_rows_are_reported_by_line_and_nothing_loads(
    tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    path = write(
        tmp_path,
        "Sudan,health,WHO,,,,2023-05-01,ok\n"
        "Atlantis,health,WHO,,,,,bad country\n"
        "Sudan,cybersecurity,WHO,,,,,bad cluster\n"
        "Chad,wash,,,,,,no lead\n"
        "Chad,logistics,WFP,,,,31/12/2023,bad date\n"
        "Sudan,health,WHO,,,,,duplicate\n",
    )
    with pytest.raises(RecordsError) as err:
        import_file(path, kb, engine)
    text = "\n".join(err.value.errors)
    assert "line 3: unknown country 'Atlantis'" in text
    assert "line 4: unknown cluster 'cybersecurity'" in text
    assert "line 5: lead is empty" in text
    assert "line 6: activated_on '31/12/2023' is not YYYY-MM-DD" in text
    assert "line 7: same country and cluster as line 2" in text
    assert count(engine) == 0


def test_wrong_columns_are_rejected(tmp_path: Path, kb: KnowledgeBase, engine: Engine) -> None:
    path = tmp_path / "x.csv"
    path.write_text("nation,sector\nSudan,health\n", encoding="utf-8")
    with pytest.raises(RecordsError) as err:
        import_file(path, kb, engine)
    assert "line 1: the header must name the columns country, cluster, lead" in err.value.errors[0]
    assert "missing country, lead; unknown 'nation'" in err.value.errors[0]  # "sector" is cluster


def test_record_text_is_shown_not_interpreted(
    bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, 'Sudan,wash,"<b>UNICEF</b> & <!channel>",,,,,x\n')
    import_file(path, kb, engine, allow_unknown_agency=True)
    chat = Chat(bot)
    assert "<b>UNICEF</b> & <!channel>" in chat("who leads WASH in Sudan")
    assert "&lt;b&gt;UNICEF&lt;/b&gt; &amp; &lt;!channel&gt;" in chat.html()


@pytest.mark.parametrize(
    ("question", "shown"),
    [
        ("which clusters are active in Congo?", "Which country do you mean: Democratic Republic"),
        ("quels clusters sont actifs au Congo ?", "De quel pays parlez-vous : République démo"),
        ("刚果有哪些集群启动了", "您指的是哪个国家：刚果民主共和国还是刚果共和国"),
    ],
)
def test_the_records_of_congo_ask_which_one(chat: Chat, question: str, shown: str) -> None:
    # Our records are one country's: "Congo" alone shows neither's, and asks which is meant.
    answer = chat.ask(question, intent="country_clusters")
    assert shown in answer and "We hold no cluster records" not in answer, answer


# A place the question puts a cluster in that is no country we know is said first, as typed,
# never dropped; what we do know follows (the global lead, a known country's record).
@pytest.mark.parametrize(
    ("question", "first_line", "known"),
    [
        (
            "who leads health in Darfur?",
            'I know no country called "Darfur", so what follows is the global arrangement, '
            "not a record for that place.",
            "World Health Organization (WHO)",
        ),
        (
            "who leads health in Wakanda?",
            'I know no country called "Wakanda", so what follows',
            "World Health Organization (WHO)",
        ),
        (
            "who leads wash in Cox's Bazar",
            'I know no country called "Cox\'s Bazar", so what follows',
            "United Nations Children's Fund (UNICEF)",
        ),
        (
            "who leads nutrition in sudan and wakanda",
            'I know no country called "wakanda", so it is left out below',
            "In Sudan, from our country records:",
        ),
        ("qui dirige la santé au Darfour ?", "Je ne connais aucun pays appelé « Darfour »", "OMS"),
        ("¿quién lidera salud en Darfur?", "No conozco ningún país llamado «Darfur»", "OMS"),
        ("在达尔富尔谁牵头卫生集群？", "我不知道有名为“达尔富尔”的国家", "WHO"),
        # Before the cluster, with 的: a place as well.
        ("达尔富尔的卫生集群谁牵头", "我不知道有名为“达尔富尔”的国家", "WHO"),
        ("科克斯巴扎尔的营养集群由谁牵头", "我不知道有名为“科克斯巴扎尔”的国家", "UNICEF"),
        ("من يقود الصحة في دارفور؟", "لا أعرف بلداً باسم «دارفور»", "WHO"),
    ],
)
def test_a_place_we_do_not_know_is_said_first_then_what_we_know(
    any_engine: Engine, kb: KnowledgeBase, question: str, first_line: str, known: str
) -> None:
    import_file(EXAMPLE, kb, any_engine)
    answer = Chat(Bot(Settings(), kb=kb, engine=any_engine))(question)
    assert answer.splitlines()[0].startswith(first_line), answer
    assert known in answer


# A place a slip from a country's name, too short to be read as it ("sudn", "chda"), is said
# as unknown, with the country it may be as a "did you mean", never taken for it.
@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        ("who leads logisitcs in sudn", 'I know no country called "sudn", so what follows'),
        ("who leads health in chda", 'I know no country called "chda"'),
        ("which clusters are active in sudn", 'I know no country called "sudn"'),
        ("qui dirige la santé au Mlai ?", "Je ne connais aucun pays appelé « Mlai »"),
        ("¿quién lidera salud en Cahd?", "No conozco ningún país llamado «Cahd»"),
        ("من يقود الصحة في سودن؟", "لا أعرف بلداً باسم «سودن»"),
    ],
)
def test_a_place_a_slip_from_a_country_asks_whether_it_is_meant(
    chat: Chat, question: str, first_line: str
) -> None:
    first = chat(question).splitlines()[0]
    assert first.startswith(first_line), first
    meant = {"sudn": "Sudan", "chda": "Chad", "Mlai": "Mali", "Cahd": "Chad", "سودن": "السودان"}
    hint = next(v for k, v in meant.items() if k in question)
    said = ("Did you mean", "Vouliez-vous dire", "¿Quiso decir", "هل تقصد")
    assert any(f"{d} {hint}" in first for d in said), first


def test_two_places_we_do_not_know_are_each_said(chat: Chat) -> None:
    lines = chat("who leads health in wakanda and atlantis").splitlines()
    assert lines[0].startswith('I know no country called "wakanda"')
    assert lines[1].startswith('I know no country called "atlantis"')


def test_a_place_we_do_not_know_stays_text(chat: Chat) -> None:
    chat("who leads health in <b>Gotham</b> @here <@U123>")
    html = chat.html()
    assert "<b>Gotham" not in html and "&lt;" in html
    assert "<@U123>" not in html


@pytest.mark.parametrize(
    "question",
    [
        "who leads health in emergencies",
        "who leads shelter in a conflict",
        "who leads cccm in natural disasters",
        "who leads health in the country",
        "who leads health in english",
        "cccm lead in conflict idp situation",  # a situation or a context is no place
        "quien lidera cccm en situacion de desplazamiento",
        "who leads health in our country",
        "who leads shelter in haiti",
        "qui dirige le cluster abris en cas d'inondation ?",
        "qui dirige la santé en situation d'urgence ?",
        "¿quién lidera salud en emergencias?",
        "¿quién lidera alojamiento en caso de conflicto?",
        "在紧急情况下谁牵头卫生集群",
        "在冲突中谁牵头住所集群",
        "新成立的卫生集群谁牵头",  # what is before 的 is no place when our texts hold it
        "正式的卫生集群牵头机构是谁",
        "من يقود الصحة في حالات الطوارئ؟",
        "من يقود المأوى في النزاع؟",
    ],
)
def test_words_after_in_that_name_no_place_are_not_taken_for_one(
    chat: Chat, question: str
) -> None:
    answer = chat(question)
    for said in ("know no country", "aucun pays", "ningún país", "我不知道", "لا أعرف"):
        assert said not in answer, answer


def test_the_lead_command_says_an_unknown_place_once(chat: Chat) -> None:
    answer = chat("/lead health in atlantis")
    assert answer.count('I know no country called "atlantis"') == 1
    assert 'I know no country called "atlantis"' in chat("/lead health atlantis")
