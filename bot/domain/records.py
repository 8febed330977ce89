"""Country-level cluster records: import them from CSV or Excel, all or nothing.

Files are taken as people have them: any common encoding (a byte-order mark, UTF-8, or what
charset-normalizer and the file's own country names make of it), comma, semicolon or tab
separated, headers in any case and in any of the five languages (`HEADER_NAMES`), an optional
second row of HXL hashtags, or an Excel workbook (.xlsx, its first sheet).
"""

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.db import session_scope
from bot.models import CountryCluster, utcnow
from knowledge import KnowledgeBase
from knowledge.matching import normalize

COLUMNS = (
    "country",
    "cluster",
    "lead",
    "co_lead",
    "coordinator",
    "contact",
    "activated_on",
    "source",
)
REQUIRED = ("country", "cluster", "lead")
LIMITS = {"lead": 200, "co_lead": 200, "coordinator": 200, "contact": 200, "source": 500}

# Every header a column may have, per language. Case, accents, spaces, "-" and "_" do not
# matter ("Co-Lead", "co_lead" and "CO LEAD" are one name). Add a name here, nowhere else.
HEADER_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "country": {
        "en": ("country", "country name", "country code"),
        "fr": ("pays",),
        "es": ("país",),
        "zh": ("国家", "国家/地区"),
        "ar": ("البلد", "الدولة", "بلد", "دولة"),
    },
    "cluster": {
        "en": ("cluster", "sector", "cluster name"),
        "fr": ("cluster", "secteur", "groupe sectoriel"),
        "es": ("clúster", "sector", "grupo temático"),
        "zh": ("集群", "部门", "领域"),
        "ar": ("المجموعة", "القطاع", "المجموعة القطاعية", "الكتلة"),
    },
    "lead": {
        "en": ("lead", "lead agency", "cluster lead"),
        "fr": ("chef de file", "agence chef de file", "responsable", "lead"),
        "es": ("líder", "agencia líder", "organismo líder", "lider"),
        "zh": ("牵头机构", "牵头", "牵头单位"),
        "ar": ("الوكالة الرائدة", "الرائد", "الجهة الرائدة", "القيادة"),
    },
    "co_lead": {
        "en": ("co_lead", "co-lead", "colead", "co-lead agency"),
        "fr": ("co-chef de file", "co-responsable", "co-lead", "cochef de file"),
        "es": ("colíder", "co-líder", "agencia colíder"),
        "zh": ("联合牵头机构", "共同牵头机构", "联合牵头"),
        "ar": ("الوكالة المشاركة في القيادة", "القائد المشارك", "الرائد المشارك"),
    },
    "coordinator": {
        "en": ("coordinator", "cluster coordinator"),
        "fr": ("coordonnateur", "coordinateur", "coordonnatrice", "coordinatrice"),
        "es": ("coordinador", "coordinadora"),
        "zh": ("协调员", "协调人"),
        "ar": ("المنسق", "منسق المجموعة"),
    },
    "contact": {
        "en": ("contact", "email", "e-mail"),
        "fr": ("contact", "courriel"),
        "es": ("contacto", "correo"),
        "zh": ("联系方式", "联系人", "电子邮件"),
        "ar": ("جهة الاتصال", "الاتصال", "البريد الإلكتروني"),
    },
    "activated_on": {
        "en": ("activated_on", "activated on", "activation date", "activated"),
        "fr": ("activé le", "date d'activation", "date activation"),
        "es": ("activado el", "fecha de activación", "fecha activación"),
        "zh": ("启动日期", "激活日期", "启动于"),
        "ar": ("تاريخ التفعيل", "تاريخ التنشيط", "فعلت في"),
    },
    "source": {
        "en": ("source",),
        "fr": ("source",),
        "es": ("fuente",),
        "zh": ("来源", "资料来源"),
        "ar": ("المصدر",),
    },
}

# Excel's ANSI code pages for our five languages, tried with charset-normalizer's guesses (on
# a short file it often guesses a CJK code page for a Western one) and first on a tie.
FALLBACK_ENCODINGS = ("cp1252", "cp1256", "gb18030")
SCORE_NAMES = 200  # distinct non-ASCII country names read to judge a decoding
DELIMITERS = ",;\t"
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
SUGGEST_AT = 70  # rapidfuzz ratio from which a known agency is offered as "did you mean"
NEAR_MISS_AT = 80  # a co-lead this close to a known agency, yet not it, is flagged


class RecordsError(ValueError):
    """A file with bad rows; `errors` names each one by line number."""

    def __init__(self, errors: list[str], unknown_agencies: bool = False) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        # True when an unknown agency is among the problems (--allow-unknown-agency loads it).
        self.unknown_agencies = unknown_agencies


class UnreadableFile(RecordsError):
    """The file itself cannot be read: missing, a directory, not text nor a workbook."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """How many records a good file added and updated, and how it was read."""

    added: int
    updated: int
    read_as: str = ""  # e.g. "cp1252 text separated by semicolons", "Excel workbook"
    warnings: tuple[str, ...] = field(default_factory=tuple)  # unknown agencies let through
    first: tuple[str, str] = ("", "")  # the first record's country code and cluster id


@dataclass(frozen=True, slots=True)
class _Table:
    rows: list[tuple[int, list[str]]]  # (line number, cells), the header row first
    read_as: str


def _fold(text: str) -> str:
    return normalize(text.replace("_", " "))


@lru_cache(maxsize=1)
def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column, by_lang in HEADER_NAMES.items():
        for name in (column, *(n for names in by_lang.values() for n in names)):
            key = _fold(name)
            assert index.get(key, column) == column, f"{name!r} names two columns"
            index[key] = column
    return index


def column_for(header: str) -> str | None:
    """The column a header names (`Pays`, `CO-LEAD`, `牵头机构`), or None."""
    return _header_index().get(_fold(header))


# -- reading: bytes to rows ------------------------------------------------------------------


def _read(path: Path, kb: KnowledgeBase) -> _Table:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UnreadableFile([f"{path}: no such file"]) from exc
    except IsADirectoryError as exc:
        raise UnreadableFile([f"{path}: is a directory, not a file"]) from exc
    except OSError as exc:
        raise UnreadableFile([f"{path}: cannot read ({exc.strerror})"]) from exc
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            [f"{path}: an old Excel .xls workbook; save it as .xlsx or CSV and import that"]
        )
    return _read_text(path, data, kb)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path, data: bytes) -> _Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(
            [f"{path}: not an Excel workbook (.xlsx) we can read ({exc})"]
        ) from exc
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions: read what is there
        rows = [
            (n, [_cell(v).strip() for v in values])
            for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
    name = f"the Excel workbook's first sheet ({sheet.title})"
    return _Table([(n, cells) for n, cells in rows if any(cells)], name)


def _delimiter(text: str) -> str:
    """Comma, semicolon or tab: csv.Sniffer's choice if the header agrees, else the header's."""
    header = next(iter(text.splitlines()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and counts.get(sniffed):
        return sniffed
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the order of DELIMITERS
    return best if counts[best] else ","


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    for cells in reader:
        if any(c.strip() for c in cells):
            yield reader.line_num, [c.strip() for c in cells]


def _sense(text: str, kb: KnowledgeBase) -> int:
    """How much of a decoded file we recognise: its headers, and its non-ASCII country names.

    Only non-ASCII text differs between decodings, so only it is judged (up to SCORE_NAMES
    distinct names, wherever they are in the file).
    """
    try:
        rows = _rows(text)
        first = next(rows, None)
        if first is None:
            return 0
        columns = [column_for(h) for h in first[1]]
        score = sum(c is not None for c in columns)
        if "country" not in columns:
            return score
        at = columns.index("country")
        names: set[str] = set()
        for _, cells in rows:
            if at < len(cells) and not cells[at].isascii():
                names.add(cells[at])
                if len(names) >= SCORE_NAMES:
                    break
        return score + sum(kb.matcher.find_country(name) is not None for name in names)
    except csv.Error:
        return -1


def _decode(data: bytes, sense: Callable[[str], int]) -> tuple[str, str]:
    """The text and the name of its encoding."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding), encoding.replace("-sig", " with BOM")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    guesses = [m.encoding for m in from_bytes(data)][:5]
    best: tuple[int, str, str] | None = None
    for encoding in dict.fromkeys([*FALLBACK_ENCODINGS, *guesses]):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        score = sense(text)
        if best is None or score > best[0]:
            best = (score, text, encoding)
    if best is None:
        raise UnicodeDecodeError("unknown", data[:1], 0, 1, "no encoding fits")
    return best[1], best[2]


def _read_text(path: Path, data: bytes, kb: KnowledgeBase) -> _Table:
    try:
        text, encoding = _decode(data, lambda text: _sense(text, kb))
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            [f"{path}: not text in an encoding we recognise; save it as UTF-8 CSV or .xlsx"]
        ) from exc
    if "\x00" in text:
        raise UnreadableFile([f"{path}: not a text file (save it as CSV or .xlsx)"])
    delimiter = _delimiter(text)
    try:
        rows = list(_rows(text))
    except csv.Error as exc:
        raise UnreadableFile([f"{path}: unreadable as CSV ({exc})"]) from exc
    return _Table(rows, f"{encoding} text separated by {DELIMITER_NAMES[delimiter]}")


# -- agencies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Agencies:
    names: dict[str, str]  # folded name -> the name as the knowledge base writes it

    def known(self, text: str) -> bool:
        return _fold(text) in self.names

    def suggest(self, text: str, cutoff: int) -> str | None:
        from rapidfuzz import fuzz, process

        found = process.extractOne(_fold(text), self.names.keys(), scorer=fuzz.ratio)
        if found is None or found[1] < cutoff:
            return None
        return self.names[found[0]]


def _agencies(kb: KnowledgeBase) -> _Agencies:
    names: dict[str, str] = {}
    for key in kb.agencies:
        names.setdefault(_fold(key), key)
    for lang in kb.languages:
        for n in kb.text(lang).agencies.values():
            for name in (n.short, n.name, *n.aliases):
                if name:
                    names.setdefault(_fold(name), name)
    return _Agencies(names)


def lead_parts(text: str) -> list[str]:
    """A lead as written: one agency, or several joined by / , ; + & 、."""
    for sep in ",;+&、":
        text = text.replace(sep, "/")
    return [p.strip() for p in text.split("/") if p.strip()]


def _unknown_parts(agencies: _Agencies, column: str, text: str) -> list[tuple[str, str | None]]:
    """The parts of a lead or co-lead the import refuses, each with the known name it is near.

    A lead names agencies we know; a co-lead is often an NGO or a ministry, so only a near
    miss of an agency we know, yet not it, is refused. A name of three letters or fewer is no
    near miss: NGOs' acronyms are that short, and "IRC" is the International Rescue Committee,
    not a slip for "IFRC".
    """
    if not text or agencies.known(text):
        return []
    found: list[tuple[str, str | None]] = []
    for part in lead_parts(text):
        if agencies.known(part):
            continue
        hint = agencies.suggest(part, SUGGEST_AT if column == "lead" else NEAR_MISS_AT)
        if column == "lead" or (hint and _fold(hint) != _fold(part) and len(_fold(part)) > 3):
            found.append((part, hint))
    return found


def _agency_problems(agencies: _Agencies, column: str, text: str) -> list[str]:
    problems = []
    for part, hint in _unknown_parts(agencies, column, text):
        if column == "lead":
            tail = f" (did you mean {hint!r}?)" if hint else ""
            problems.append(f"unknown lead agency {part!r}{tail}")
        else:
            problems.append(f"co-lead {part!r} is not an agency we know (did you mean {hint!r}?)")
    return problems


def unknown_agencies(kb: KnowledgeBase, lead: str) -> list[tuple[str, str | None]]:
    """The parts of a lead as written that name no agency we know, each with a near known name.

    The same rule as an import's `lead` column (chat and shell corrections use it too).
    """
    return _unknown_parts(_agencies(kb), "lead", lead.strip())


def unknown_lead_parts(
    kb: KnowledgeBase, lead: str, co_lead: str
) -> list[tuple[str, str, str | None]]:
    """(column, part, near known name) for each misspelt agency in a proposal's leads ("WHOO").

    At country level the HCT may choose another organisation to lead (step 4), and the ERC
    endorses that choice, so any other name is taken as written: only a near miss, which an
    endorsement would carry into the country records, is refused.
    """
    agencies = _agencies(kb)
    return [
        (column, part, hint)
        for column, text in (("lead", lead), ("co_lead", co_lead))
        for part, hint in _unknown_parts(agencies, "co_lead", text.strip())
    ]


def same_agency(kb: KnowledgeBase, lead: str, co_lead: str) -> bool:
    """Whether a co-lead is the lead again, by any of its names ("WFP" and "PAM")."""
    if not lead.strip() or not co_lead.strip():
        return False
    as_recorded = agency_as_recorded(kb, lead.strip()), agency_as_recorded(kb, co_lead.strip())
    return as_recorded[0].casefold() == as_recorded[1].casefold()


def agency_as_recorded(kb: KnowledgeBase, text: str) -> str:
    """One agency we know, by any of its names in any language, as its English short name.

    How endorsed proposals write a record's agencies ("儿基会" is recorded as "UNICEF", which
    reads in every language); several agencies, or a name we do not know, stay as written.
    """
    parts = lead_parts(text)
    if len(parts) != 1 or not _agencies(kb).known(parts[0]):
        return text
    found = kb.matcher.find_agency(parts[0])
    if found is None or found not in kb.agencies:
        return text
    return kb.text("en").agencies[found].short


# -- parsing rows ------------------------------------------------------------------------------


def _columns(table: _Table) -> tuple[list[str | None], int]:
    """The column of each header cell, and where the data starts (after an HXL row)."""
    line, header = table.rows[0]
    columns = [column_for(h) if h else None for h in header]
    unknown = [h for h, c in zip(header, columns, strict=True) if h and c is None]
    missing = [c for c in REQUIRED if c not in columns]
    twice = sorted({c for c in columns if c and columns.count(c) > 1})
    if missing or unknown or twice:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(map(repr, unknown))}"] if unknown else []
        problems += [f"given twice: {', '.join(twice)}"] if twice else []
        raise RecordsError(
            [
                f"line {line}: the header must name the columns {', '.join(COLUMNS)}"
                f" ({'; '.join(problems)}); the first three are required, in any order,"
                " in English, French, Spanish, Chinese or Arabic"
            ]
        )
    start = 1
    if len(table.rows) > 1:
        cells = [c for c in table.rows[1][1] if c]
        if cells and all(c.startswith("#") for c in cells):
            start = 2  # HXL hashtags (#country, #sector...) under the header
    return columns, start


def _parse(
    path: Path, kb: KnowledgeBase, allow_unknown_agency: bool = False
) -> tuple[list[CountryCluster], list[str], str, frozenset[str]]:
    table = _read(path, kb)
    if not table.rows:
        raise RecordsError([f"{path}: the file is empty; it needs a header and records"])
    columns, start = _columns(table)
    agencies = _agencies(kb)
    errors: list[str] = []
    warnings: list[str] = []
    unknown_agency = False
    rows: list[CountryCluster] = []
    seen: dict[tuple[str, str], int] = {}
    for line, cells in table.rows[start:]:
        values = {c: v for c, v in zip(columns, cells, strict=False) if c}
        problems = []
        unnamed = [v for i, v in enumerate(cells) if v and (i >= len(columns) or not columns[i])]
        if unnamed:
            problems.append("more fields than columns")
        country = kb.matcher.find_country(values.get("country", ""))
        if not country:
            named = values.get("country", "")
            problems.append(kb.matcher.which_country(named) or f"unknown country {named!r}")
        cluster = kb.matcher.find_sector(values.get("cluster", ""))
        if not cluster:
            problems.append(f"unknown cluster {values.get('cluster', '')!r}")
        if not values.get("lead"):
            problems.append("lead is empty")
        elif same_agency(kb, values["lead"], values.get("co_lead", "")):
            problems.append(
                f"co-lead {values['co_lead']!r} is the lead again: a co-lead is a second "
                "organisation; leave co_lead empty or name another"
            )
        problems += [
            f"{k} is longer than {n} characters"
            for k, n in LIMITS.items()
            if len(values.get(k, "")) > n
        ]
        activated = None
        if values.get("activated_on"):
            try:
                activated = date.fromisoformat(values["activated_on"])
            except ValueError:
                problems.append(f"activated_on {values['activated_on']!r} is not YYYY-MM-DD")
        if country and cluster:
            key = (country, cluster)
            if key in seen:
                problems.append(f"same country and cluster as line {seen[key]}")
            seen[key] = line
        agency = [
            p
            for c in ("lead", "co_lead")
            for p in _agency_problems(agencies, c, values.get(c, ""))
        ]
        if agency and allow_unknown_agency:
            warnings.append(f"line {line}: " + "; ".join(agency) + "; loaded as written")
        elif agency:
            unknown_agency = True
            problems += agency
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
            continue
        assert country and cluster
        rows.append(
            CountryCluster(
                country=country,
                cluster=cluster,
                lead=values["lead"],
                co_lead=values.get("co_lead", ""),
                coordinator=values.get("coordinator", ""),
                contact=values.get("contact", ""),
                activated_on=activated,
                source=values.get("source", ""),
            )
        )
    if errors:
        raise RecordsError(errors, unknown_agencies=unknown_agency)
    if not rows:
        raise RecordsError([f"{path}: the file has a header but no records"])
    return rows, warnings, table.read_as, frozenset(c for c in columns if c)


def import_file(
    path: Path,
    kb: KnowledgeBase,
    engine: Engine,
    allow_unknown_agency: bool = False,
    confirmed_by: str = "console:shell",
) -> ImportResult:
    """Load every row of `path` (CSV or .xlsx) in one transaction, or none if any row is bad.

    Each record is marked as coming from this file and confirmed now by `confirmed_by`. A record
    the file updates keeps the fields of columns the file does not have: a file of country,
    cluster and lead alone changes the leads, not the coordinators and contacts held. Its
    `source` is always the file's (empty without the column): an old source does not vouch
    for a new lead.
    """
    rows, warnings, read_as, given = _parse(path, kb, allow_unknown_agency)
    updating = [c for c in COLUMNS[2:] if c in given or c == "source"]
    added = updated = 0
    kept_co_lead: list[str] = []
    now = utcnow()
    with session_scope(engine) as session:
        # One query for the records the file may update, rather than one a row.
        countries = sorted({row.country for row in rows})
        existing_rows = session.exec(
            select(CountryCluster).where(col(CountryCluster.country).in_(countries))
        ).all()
        existing = {(r.country, r.cluster): r for r in existing_rows}
        for row in rows:
            row.origin = f"import:{path.name}"[:200]
            row.confirmed_by, row.confirmed_at = confirmed_by, now
            record = existing.get((row.country, row.cluster))
            if record is None:
                session.add(row)
                added += 1
                continue
            if "co_lead" not in given and same_agency(kb, row.lead, record.co_lead):
                kept_co_lead.append(
                    f"{row.country} {row.cluster}: the lead {row.lead!r} is the record's co-lead;"
                    " add a co_lead column saying who co-leads now (empty for none)"
                )
            for name in (*updating, "origin", "confirmed_by", "confirmed_at"):
                setattr(record, name, getattr(row, name))
            record.updated_at = now
            session.add(record)
            updated += 1
        if kept_co_lead:  # the transaction is rolled back: nothing is loaded
            raise RecordsError(kept_co_lead)
    return ImportResult(
        added, updated, read_as, tuple(warnings), (rows[0].country, rows[0].cluster)
    )


__all__ = [
    "COLUMNS",
    "HEADER_NAMES",
    "ImportResult",
    "RecordsError",
    "UnreadableFile",
    "agency_as_recorded",
    "column_for",
    "import_file",
    "unknown_agencies",
]
