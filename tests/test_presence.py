"""Who works where: HDX HAPI operational presence loaded from a file or the API, and answered."""

import csv
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import Bot
from bot.domain import presence
from bot.domain.records import import_file as import_records
from bot.models import Presence
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.conftest import Chat, sh
from tests.fakes.hapi_api import PATH, HapiStandIn
from tests.fakes.server import served

ROOT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "hapi_operational_presence.csv"
SAMPLE = ROOT / "examples" / "hapi-operational-presence.sample.csv"


def stored(engine: Engine) -> list[tuple[str, str, str, str, int]]:
    with Session(engine) as session:
        rows = session.exec(select(Presence)).all()
        return sorted((r.country, r.sector, r.org_name, r.org_type, r.areas) for r in rows)


@pytest.fixture
def loaded(engine: Engine) -> presence.LoadResult:
    return presence.import_file(FIXTURE, engine)


def test_the_fixture_loads_one_entry_per_organisation(
    loaded: presence.LoadResult, engine: Engine
) -> None:
    assert loaded.rows == 14  # the HXL row is not data
    assert loaded.countries == ("SD", "YE")
    assert loaded.skipped == {"sector": 1}  # CSH (cash) is no cluster
    assert ("SD", "wash", "United Nations Children's Fund", "United Nations", 2) in stored(engine)
    assert loaded.organisations == len(stored(engine)) == 12


def test_loading_again_replaces_its_countries_only(
    loaded: presence.LoadResult, engine: Engine, tmp_path: Path
) -> None:
    before = stored(engine)
    presence.import_file(FIXTURE, engine)
    assert stored(engine) == before  # no duplicates
    with FIXTURE.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    sudan = [r for r in table[2:] if r[1] == "SDN" and r[18] == "HEA"]
    smaller = tmp_path / "sudan.csv"
    with smaller.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([table[0], *sudan])
    presence.import_file(smaller, engine)
    after = stored(engine)
    assert [r for r in after if r[0] == "SD"] == [
        ("SD", "health", "World Health Organization", "United Nations", 1)
    ]
    assert [r for r in after if r[0] == "YE"] == [r for r in before if r[0] == "YE"]


@pytest.mark.parametrize(
    ("question", "says"),
    [
        (
            "who works on WASH in Sudan?",
            [
                "4 organisations work on Water, Sanitation and Hygiene in Sudan",
                "They are partners, not the cluster's leads",
                "• United Nations (1): United Nations Children's Fund (UNICEF)",
                "• International NGO (1): Norwegian Refugee Council (NRC)",
                "• National NGO (1): Test Water Association (fixture)",
                "• Red Cross / Red Crescent (1): Sudanese Red Crescent Society (SRCS)",
                "Reference period: October 1, 2023 to March 31, 2024.",
                "Source: HDX HAPI operational presence (3W) data, loaded from the file "
                "hapi_operational_presence.csv",
            ],
        ),
        (
            "which NGOs are in the health cluster in Yemen?",
            [
                "4 organisations work on Health in Yemen",
                "• International NGO (2): International Medical Corps (IMC), Médecins Sans "
                "Frontières (MSF)",
                "Reference period: April 1, 2024 to June 30, 2024.",
            ],
        ),
        (
            "¿Quién trabaja en agua y saneamiento en Sudán?",
            [
                "4 organizaciones trabajan en Agua, Saneamiento e Higiene en Sudán",
                "Son socios, no los líderes del clúster",
                "• ONG internacional (1): Norwegian Refugee Council (NRC)",
                "Período de referencia: del 1 de octubre de 2023 al 31 de marzo de 2024.",
                "Fuente: datos de presencia operativa (3W) de HDX HAPI",
            ],
        ),
        (
            "Quelles ONG travaillent dans le secteur santé au Yémen ?",
            [
                "Yémen : 4 organisations travaillent dans le secteur Santé",
                "Ce sont des partenaires, pas les chefs de file du cluster",
                "• ONG nationale (1) : Test Health Network (fixture) (THN)",  # French spaces it
                "Période de référence : du 1 avril 2024 au 30 juin 2024.",
            ],
        ),
        (
            "哪些组织在苏丹从事水和环境卫生工作？",
            [
                "有 4 个组织在苏丹从事",
                "它们是合作伙伴，不是该集群的牵头机构",
                "• 联合国 (1)：United Nations Children's Fund (UNICEF)",
                "参考期：2023年10月1日至2024年3月31日。",
                "来源：HDX HAPI 业务存在（3W）数据",
            ],
        ),
        (
            "من يعمل في مجال الصحة في اليمن؟",
            [
                "في مجال الصحة في اليمن",
                "لا الجهات الرائدة للمجموعة",
                "• منظمة غير حكومية دولية (2)",
                "الفترة المرجعية: من 1 أبريل 2024 إلى 30 يونيو 2024.",
                "المصدر: بيانات الحضور التشغيلي (3W) من HDX HAPI",
            ],
        ),
    ],
)
def test_who_works_where_in_every_language(
    loaded: presence.LoadResult, chat: Chat, question: str, says: list[str]
) -> None:
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "presence"
    for line in says:
        assert line in answer, f"{line!r} not in:\n{answer}"
    assert chat.last.sources == ("HDX HAPI operational presence (3W)",)


def test_partners_are_never_leads(
    loaded: presence.LoadResult, chat: Chat, kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    works = chat("who works on WASH in Sudan?")
    assert "Lead:" not in works and "Norwegian Refugee Council" in works
    leads = chat("who leads WASH in Sudan?")
    assert chat.last is not None and chat.last.intent == "who_leads"
    assert "Norwegian Refugee Council" not in leads  # presence never turns into a lead
    assert "We hold no country record for Water, Sanitation and Hygiene in Sudan" in leads


def test_sectors_are_kept_apart(loaded: presence.LoadResult, chat: Chat) -> None:
    protection = chat("who works on protection in Yemen?")
    assert "United Nations High Commissioner for Refugees" in protection
    assert "United Nations Population Fund" not in protection  # PRO-GBV is the GBV AoR
    assert "United Nations Population Fund" in chat("who works on GBV in Yemen?")


def test_two_clusters_two_answers(loaded: presence.LoadResult, chat: Chat) -> None:
    both = chat("who works on health and WASH in Yemen?")
    assert [r.template for r in chat.replies] == ["presence/partners.j2"] * 2
    assert "4 organisations work on Health in Yemen" in both
    assert "1 organisation works on Water, Sanitation and Hygiene in Yemen" in both
    assert "It is a partner, not the cluster's lead" in both


def test_no_data_says_so(loaded: presence.LoadResult, chat: Chat) -> None:
    assert "We hold no operational presence data for Haiti" in chat(
        "who works on shelter in Haiti?"
    )
    assert "lists no organisation working on Shelter" in chat("who works on shelter in Sudan?")


def test_names_from_the_data_are_shown_never_markup(
    engine: Engine, chat: Chat, tmp_path: Path
) -> None:
    with FIXTURE.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    row = table[2]
    row[15] = "<b>Bold</b> <a href='x'>link</a> <@U1>"
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([table[0], row])
    presence.import_file(path, engine)
    chat("who works on WASH in Sudan?")
    assert (
        "&lt;b&gt;Bold&lt;/b&gt; &lt;a href=&#39;x&#39;&gt;link&lt;/a&gt; &lt;@U1&gt;"
        in chat.html()
    )


def test_the_sample_file_says_it_is_sample_data(engine: Engine, chat: Chat) -> None:
    presence.import_file(SAMPLE, engine)
    assert "SAMPLE national NGO (sample data, not real)" in chat("who works on WASH in Sudan?")


def test_import_presence_from_the_shell(
    shell_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sh(["import-presence", str(FIXTURE)], capsys)
    assert code == 0
    assert "12 organisation entries for 2 countries from 14 rows" in out
    assert "1 rows left out: a sector code we do not map to a cluster" in err
    bad = tmp_path / "records.csv"
    bad.write_text("country,cluster,lead\nSudan,health,WHO\n", encoding="utf-8")
    code, out, err = sh(["import-presence", str(bad)], capsys)
    assert code == 2 and out == ""
    assert "no column location_code, org_name, sector_code" in err and "nothing imported" in err
    code, _, err = sh(["import-presence", str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "no such file" in err
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(FIXTURE.read_bytes().replace("é".encode(), b"\xe9"))
    code, _, err = sh(["import-presence", str(latin)], capsys)
    assert code == 2 and "not UTF-8 text" in err


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sync_says_clearly_that_it_cannot_when_offline(
    shell_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = sh(["sync", "presence"], capsys)
    assert (
        code == 2 and "HDX HAPI needs an app identifier; set CLUSTERBOT_HAPI_APP_IDENTIFIER" in err
    )
    monkeypatch.setenv("CLUSTERBOT_HAPI_APP_IDENTIFIER", "dGVzdDp0ZXN0QGV4YW1wbGUub3Jn")
    monkeypatch.setenv("CLUSTERBOT_HAPI_URL", f"http://127.0.0.1:{closed_port()}{PATH}")
    code, out, err = sh(["sync", "presence"], capsys)
    assert (code, out) == (1, "")
    assert "cannot reach HDX HAPI" in err
    assert "This machine seems to have no internet connection; nothing was changed." in err
    assert "clusterbot import-presence FILE" in err


def test_sync_pages_through_hapi_a_request_a_second(engine: Engine) -> None:
    hapi = HapiStandIn.from_file(FIXTURE)
    with served(hapi.app(), lifespan="off") as base:
        result = presence.sync(engine, "dGVzdA==", f"{base}{PATH}", limit=5)
    assert [c.params["offset"] for c in hapi.calls] == ["0", "5", "10"]  # 5 + 5 + 4 rows
    assert {
        (c.params["limit"], c.params["output_format"], c.params["app_identifier"])
        for c in hapi.calls
    } == {("5", "csv", "dGVzdA==")}
    gaps = [b.at - a.at for a, b in zip(hapi.calls, hapi.calls[1:], strict=False)]
    assert min(gaps) >= 0.95, gaps  # one request a second at most
    assert (result.requests, result.rows, result.organisations) == (3, 14, 12)
    synced = stored(engine)
    with Session(engine) as session:
        assert {r.origin for r in session.exec(select(Presence))} == {f"api:{base}{PATH}"}
    presence.import_file(FIXTURE, engine)
    assert stored(engine) == synced  # the same entries as the file gives


def test_sync_stops_at_an_empty_page(engine: Engine) -> None:
    hapi = HapiStandIn.from_file(FIXTURE, empty_past_end=True)
    with served(hapi.app(), lifespan="off") as base:
        result = presence.sync(engine, "dGVzdA==", f"{base}{PATH}", limit=7, pause=0.0)
    assert [c.params["offset"] for c in hapi.calls] == ["0", "7", "14"]
    assert (result.rows, result.organisations) == (14, 12)


def test_sync_from_the_shell_one_country(
    shell_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hapi = HapiStandIn.from_file(FIXTURE)
    monkeypatch.setenv("CLUSTERBOT_HAPI_APP_IDENTIFIER", "dGVzdA==")
    with served(hapi.app(), lifespan="off") as base:
        monkeypatch.setenv("CLUSTERBOT_HAPI_URL", f"{base}{PATH}")
        code, out, _ = sh(["sync", "presence", "--country", "Yemen"], capsys)
        assert code == 0
        assert out.startswith("HDX HAPI: 1 request; 7 organisation entries for 1 country")
        assert [(c.params["location_code"], c.params["limit"]) for c in hapi.calls] == [
            ("YEM", "10000")
        ]
        hapi.status = 401
        code, _, err = sh(["sync", "presence"], capsys)
    assert code == 1
    assert "HDX HAPI refused the request (HTTP 401" in err and "nothing was changed" in err
    assert "Check CLUSTERBOT_HAPI_APP_IDENTIFIER" in err


def test_records_and_presence_answer_side_by_side(
    bot: Bot, kb: KnowledgeBase, engine: Engine, tmp_path: Path
) -> None:
    records = tmp_path / "records.csv"
    records.write_text("country,cluster,lead\nSudan,wash,UNICEF\n", encoding="utf-8")
    import_records(records, kb, engine)
    presence.import_file(FIXTURE, engine)
    chat = Chat(bot)
    assert "• Lead: UNICEF" in chat("who leads WASH in Sudan?")
    assert "They are partners, not the cluster's leads" in chat("who works on WASH in Sudan?")


def test_import_and_answer_on_every_database(any_engine: Engine, kb: KnowledgeBase) -> None:
    presence.import_file(FIXTURE, any_engine)
    again = presence.import_file(FIXTURE, any_engine)
    assert again.organisations == len(stored(any_engine)) == 12
    chat = Chat(Bot(Settings(), kb=kb, engine=any_engine))
    answer = chat("which NGOs are in the health cluster in Yemen?")
    assert "4 organisations work on Health in Yemen" in answer
    assert "Reference period: April 1, 2024 to June 30, 2024." in answer


# A follow-up keeps who works where: a cluster or a country swapped, or "which NGOs are there?"
# asked of the last question's cluster and country (after who works or who leads there).
@pytest.mark.parametrize(
    ("turns", "says"),
    [
        (
            ("who works on WASH in Sudan?", "and health?"),
            "1 organisation works on Health in Sudan",
        ),
        (
            ("who works on health in Sudan?", "and in Yemen?"),
            "4 organisations work on Health in Yemen",
        ),
        (
            ("who works on WASH in Sudan?", "and health?", "which NGOs are there"),
            "1 organisation works on Health in Sudan",
        ),
        (("who leads health in Yemen?", "which NGOs work there?"), "4 organisations work on"),
        (("¿Quién trabaja en salud en Yemen?", "¿y en Sudán?"), "1 organización trabaja en Salud"),
        (("qui dirige la santé au Yémen ?", "quelles ONG sont là-bas ?"), "4 organisations"),
        (("苏丹的卫生集群谁牵头", "有哪些组织在那里工作"), "有 1 个组织在苏丹从事"),
    ],
)
def test_a_follow_up_on_who_works_where_stays_who_works_where(
    loaded: presence.LoadResult, chat: Chat, turns: tuple[str, ...], says: str
) -> None:
    for turn in turns:
        answer = chat(turn)
    assert chat.last is not None and chat.last.intent == "presence", answer
    assert says in answer, answer
