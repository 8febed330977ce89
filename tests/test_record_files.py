"""Country-record files as people have them: encodings, separators, headers, HXL, Excel.

Every fixture file is written here, in tmp_path, from the same records; each must import to
exactly the same rows, and each bad file must name its bad lines and load nothing.
"""

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.domain.records import COLUMNS, HEADER_NAMES, RecordsError, UnreadableFile, import_file
from bot.models import CountryCluster
from knowledge import KnowledgeBase

HEADER = list(COLUMNS)  # the English header, in our own order
ROWS = [
    [
        "Haïti",
        "wash",
        "UNICEF",
        "",
        "Hélène Exemple",
        "wash@example.org",
        "2021-08-16",
        "test file",
    ],
    ["Côte d'Ivoire", "nutrition", "UNICEF", "SAMPLE NGO", "", "", "", "test file"],
    ["Sudan", "health", "WHO", "", "", "", "2023-05-01", "test file; with a semicolon"],
]
EXPECTED = [
    ("CI", "nutrition", "UNICEF", "SAMPLE NGO", "", "", None, "test file"),
    (
        "HT",
        "wash",
        "UNICEF",
        "",
        "Hélène Exemple",
        "wash@example.org",
        date(2021, 8, 16),
        "test file",
    ),
    ("SD", "health", "WHO", "", "", "", date(2023, 5, 1), "test file; with a semicolon"),
]
HXL = [
    "#country",
    "#sector",
    "#org+lead",
    "#org+colead",
    "#contact+name",
    "#contact+email",
    "#date+start",
    "#meta+source",
]
FRENCH = [
    "Pays",
    "Cluster",
    "Chef de file",
    "Co-chef de file",
    "Coordonnateur",
    "Contact",
    "Activé le",
    "Source",
]
SPANISH = [
    "PAÍS",
    "Clúster",
    "Agencia líder",
    "Colíder",
    "Coordinadora",
    "Contacto",
    "Fecha de activación",
    "Fuente",
]
CHINESE = ["国家", "集群", "牵头机构", "联合牵头机构", "协调员", "联系方式", "启动日期", "来源"]
ARABIC = [
    "البلد",
    "المجموعة",
    "الوكالة الرائدة",
    "الوكالة المشاركة في القيادة",
    "المنسق",
    "جهة الاتصال",
    "تاريخ التفعيل",
    "المصدر",
]


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def text_file(
    encoding: str,
    delimiter: str = ",",
    header: list[str] = HEADER,
    extra: list[list[str]] | None = None,
    rows: list[list[str]] = ROWS,
) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / "records.csv"
        path.write_bytes(csv_text([header, *(extra or []), *rows], delimiter).encode(encoding))
        return path

    return make


def xlsx_file(rows: list[list[object]]) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Clusters"
        for row in rows:
            sheet.append(row)
        path = tmp_path / "records.xlsx"
        book.save(path)
        return path

    return make


XLSX_ROWS: list[list[object]] = [
    HEADER,
    [*ROWS[0][:6], date(2021, 8, 16), ROWS[0][7]],  # a real date cell, as Excel keeps it
    [*ROWS[1][:6], None, ROWS[1][7]],
    ROWS[2],
]

FILES = {
    "utf-8": text_file("utf-8"),
    "utf-8 with BOM": text_file("utf-8-sig"),
    "cp1252": text_file("cp1252"),
    "utf-16": text_file("utf-16"),
    "utf-16 tab (Excel's Unicode text)": text_file("utf-16", "\t"),
    "semicolon": text_file("utf-8", ";"),
    "cp1252 semicolon (Excel, French locale)": text_file("cp1252", ";"),
    "tab": text_file("utf-8", "\t"),
    "upper-case headers": text_file("utf-8", header=[h.upper() for h in HEADER]),
    "French headers": text_file("cp1252", ";", FRENCH),
    "Spanish headers": text_file("utf-8", ";", SPANISH),
    "Chinese headers": text_file("utf-8", ",", CHINESE),
    "Arabic headers": text_file("utf-16", "\t", ARABIC),
    "HXL row": text_file("utf-8", ",", HEADER, [HXL]),
    "xlsx": xlsx_file(XLSX_ROWS),
    "xlsx French with HXL": xlsx_file([FRENCH, HXL, *XLSX_ROWS[1:]]),
}


def records(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        rows = s.exec(select(CountryCluster).order_by(CountryCluster.country)).all()
    return [
        (
            r.country,
            r.cluster,
            r.lead,
            r.co_lead,
            r.coordinator,
            r.contact,
            r.activated_on,
            r.source,
        )
        for r in rows
    ]


@pytest.mark.parametrize("make", FILES.values(), ids=FILES.keys())
def test_every_form_of_the_file_gives_the_same_records(
    make: Callable[[Path], Path], tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    result = import_file(make(tmp_path), kb, engine)
    assert (result.added, result.updated, result.warnings) == (3, 0, ())
    assert records(engine) == EXPECTED


def test_how_the_file_was_read_is_reported(
    tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    result = import_file(FILES["cp1252 semicolon (Excel, French locale)"](tmp_path), kb, engine)
    assert result.read_as == "cp1252 text separated by semicolons"
    result = import_file(FILES["xlsx"](tmp_path), kb, engine)
    assert result.read_as == "the Excel workbook's first sheet (Clusters)"


def test_every_header_name_is_one_column_only() -> None:
    from bot.domain.records import column_for

    for column, by_lang in HEADER_NAMES.items():
        assert set(by_lang) == {"en", "fr", "es", "zh", "ar"}, column
        for names in by_lang.values():
            for name in names:
                assert column_for(name) == column
                assert column_for(f" {name.upper()} ") == column


BAD_ROWS = [
    ["Atlantis", "health", "WHO", "", "", "", "", ""],
    ["Chad", "wash", "", "", "", "", "", ""],
]


@pytest.mark.parametrize(
    ("make", "first_bad"),
    [
        (text_file("cp1252", ";", FRENCH, rows=[*BAD_ROWS, *ROWS]), 2),
        (text_file("utf-16", "\t", HEADER, [HXL], [*BAD_ROWS, *ROWS]), 3),
        (xlsx_file([HEADER, HXL, *BAD_ROWS, *ROWS]), 3),
    ],
    ids=["cp1252 French", "utf-16 HXL", "xlsx HXL"],
)
def test_bad_files_name_their_lines_and_load_nothing(
    make: Callable[[Path], Path], first_bad: int, tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    with pytest.raises(RecordsError) as err:
        import_file(make(tmp_path), kb, engine)
    assert err.value.errors == [
        f"line {first_bad}: unknown country 'Atlantis'",
        f"line {first_bad + 1}: lead is empty",
    ]
    assert records(engine) == []


def test_a_misspelt_lead_is_refused_with_a_suggestion(
    tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "country;cluster;lead;co_lead\n"
        "Sudan;health;WHOO;\n"  # a typo
        "Yemen;nutrition;UNICEF;UNICFE\n"  # a co-lead that is a typo of a known agency
        "Haiti;wash;UNICEF / Ministry of Water;\n"  # one part unknown, with no close name
        "Chad;food security;PAM;ACTED\n"  # WFP in French; an NGO co-lead is fine
        "Mali;logistics;Programa Mundial de Alimentos;\n",  # WFP in Spanish
        encoding="utf-8",
    )
    with pytest.raises(RecordsError) as err:
        import_file(path, kb, engine)
    assert err.value.errors == [
        "line 2: unknown lead agency 'WHOO' (did you mean 'WHO'?)",
        "line 3: co-lead 'UNICFE' is not an agency we know (did you mean 'UNICEF'?)",
        "line 4: unknown lead agency 'Ministry of Water'",
    ]
    assert err.value.unknown_agencies and records(engine) == []

    result = import_file(path, kb, engine, allow_unknown_agency=True)
    assert result.added == 5
    assert result.warnings[0] == (
        "line 2: unknown lead agency 'WHOO' (did you mean 'WHO'?); loaded as written"
    )
    assert ("SD", "health", "WHOO") in [r[:3] for r in records(engine)]  # as written


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        pytest.param(
            "country,cluster,lead,co_lead\n"
            "Niger,logistics,WFP,WFP\n"
            "Chad,food security,WFP,PAM\n"  # WFP again, by its French name
            "Mali,food security,WFP,FAO\n",
            [
                "line 2: co-lead 'WFP' is the lead again: a co-lead is a second organisation;"
                " leave co_lead empty or name another",
                "line 3: co-lead 'PAM' is the lead again: a co-lead is a second organisation;"
                " leave co_lead empty or name another",
            ],
            id="co-lead-that-is-the-lead-again",
        ),
        pytest.param(
            "country,cluster,lead\nAtlantis,health,WHOO\n",
            ["line 2: unknown country 'Atlantis'"],
            id="unknown-agency-beside-an-unknown-country",
        ),
    ],
)
def test_what_allowing_unknown_agencies_does_not_let_through_is_refused(
    content: str, errors: list[str], tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    # An unknown agency may be loaded as written; nothing else wrong with a line may.
    path = tmp_path / "x.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RecordsError) as err:
        import_file(path, kb, engine, allow_unknown_agency=True)
    assert err.value.errors == errors
    assert records(engine) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "the file is empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "an old Excel .xls workbook"),
        (b"PK\x03\x04not really a zip", "not an Excel workbook (.xlsx) we can read"),
    ],
    ids=["missing", "empty", "xls", "broken xlsx"],
)
def test_unreadable_files_say_why(
    content: bytes | None, message: str, tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RecordsError) as err:
        import_file(path, kb, engine)
    assert message in err.value.errors[0]
    assert isinstance(err.value, UnreadableFile) == (content != b"")


@pytest.mark.parametrize(
    ("encoding", "row", "country"),
    [
        ("cp1252", "Haïti,wash,UNICEF", "HT"),  # the file: a traceback before
        ("cp1252", "Côte d'Ivoire,nutrition,UNICEF", "CI"),
        ("cp1256", "اليمن,الصحة,منظمة الصحة العالمية", "YE"),  # Excel's Arabic code page
        ("gb18030", "苏丹,卫生,世界卫生组织", "SD"),  # Excel's Chinese code page
    ],
)
def test_a_short_file_in_an_ansi_code_page_is_read_right(
    encoding: str, row: str, country: str, tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    # charset-normalizer alone guesses a CJK code page for so few bytes; the file's own
    # country names decide between its guesses and Excel's code pages.
    path = tmp_path / "short.csv"
    path.write_bytes(f"country,cluster,lead\n{row}\n".encode(encoding))
    result = import_file(path, kb, engine)
    assert result.added == 1 and records(engine)[0][0] == country


def test_a_long_cp1252_file_is_judged_by_its_accented_names(
    tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    # Hundreds of plain ASCII rows first: only the accented names tell cp1252 from cp1250
    # (where ï is ď), however far down they come.
    codes = [
        "AF",
        "AL",
        "DZ",
        "AO",
        "AR",
        "AM",
        "AU",
        "AT",
        "AZ",
        "BD",
        "BE",
        "BJ",
        "BO",
        "BR",
        "BF",
        "BI",
        "KH",
        "CM",
        "CA",
        "CF",
        "TD",
        "CL",
    ]
    clusters = [
        "health",
        "wash",
        "nutrition",
        "logistics",
        "shelter",
        "cccm",
        "education",
        "protection",
        "food security",
        "early recovery",
    ]
    rows = [f"{c};{k};UNICEF" for c in codes for k in clusters]
    path = tmp_path / "long.csv"
    path.write_bytes(
        "\n".join(["pays;cluster;lead", *rows, "Haïti;wash;UNICEF", "Taïwan;wash;UNICEF"]).encode(
            "cp1252"
        )
    )
    result = import_file(path, kb, engine)
    assert result.added == len(rows) + 2
    assert {"HT", "TW"} <= {r[0] for r in records(engine)}


def test_an_import_records_its_file_and_who_confirmed_it_when(
    tmp_path: Path, kb: KnowledgeBase, engine: Engine
) -> None:
    path = FILES["xlsx"](tmp_path)
    import_file(path, kb, engine)
    with Session(engine) as s:
        first = {r.country: r for r in s.exec(select(CountryCluster)).all()}
    haiti = first["HT"]
    assert (haiti.origin, haiti.confirmed_by) == ("import:records.xlsx", "console:shell")
    assert haiti.confirmed_at is not None
    again = FILES["utf-8"](tmp_path)
    import_file(again, kb, engine, confirmed_by="telegram:42")
    with Session(engine) as s:
        now = {r.country: r for r in s.exec(select(CountryCluster)).all()}
    assert (now["HT"].origin, now["HT"].confirmed_by) == ("import:records.csv", "telegram:42")
    assert now["HT"].confirmed_at is not None and now["HT"].confirmed_at > haiti.confirmed_at
