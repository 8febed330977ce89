"""Who works where: HDX HAPI operational presence ("3W") data, from a file or from the API.

The data says which organisations work in which sector in which country (and area), over a
reference period. It says nothing about who leads a cluster: answers list these organisations
as partners, never as leads, with the data's reference period and source.

A file is the global CSV (`hdx_hapi_operational_presence_global.csv`, whose second row holds
HXL hashtags) or the API's CSV output; it is read as a stream, row by row, and reduced to one
entry per country, sector and organisation (the areas it works in counted, the reference period
widened to cover every row), so memory grows with the organisations, not with the rows. Loading
replaces, in one transaction, the data of every country the file holds. `sync` reads the same
CSV from the API, a page (`limit` rows, from `offset`) a second at most.
"""

import csv
import io
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.core import get_global
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.db import session_scope
from bot.models import Presence, utcnow

# HAPI's sector codes for the clusters and AoRs we know; any other code (cash, multi-purpose,
# coordination...) is counted and left out.
SECTOR_CODES = {
    "CCM": "cccm",
    "EDU": "education",
    "ERY": "early_recovery",
    "FSC": "food_security",
    "HEA": "health",
    "LOG": "logistics",
    "NUT": "nutrition",
    "PRO": "protection",
    "PRO-CPN": "child_protection",
    "PRO-GBV": "gbv",
    "PRO-HLP": "hlp",
    "PRO-MIN": "mine_action",
    "SHL": "shelter",
    "TEL": "etc",
    "WSH": "wash",
}
COLUMNS = (
    "location_code",
    "location_name",
    "admin1_name",
    "org_acronym",
    "org_name",
    "org_type_description",
    "sector_code",
    "reference_period_start",
    "reference_period_end",
)
REQUIRED = ("location_code", "org_name", "sector_code")
HAPI_URL = "https://hapi.humdata.org/api/v2/coordination-context/operational-presence"
PAGE = 10_000  # HAPI's largest page
PAUSE = 1.0  # seconds between two requests: HAPI asks for no more than one a second
CHUNK = 5_000  # rows a bulk insert carries
LIMITS = {"org_acronym": 200, "org_name": 500, "org_type": 200}
SKIP_REASONS = {
    "sector": "a sector code we do not map to a cluster",
    "country": "a location code that is not a country code",
    "organisation": "no organisation name",
    "date": "a reference period that is not a date",
}


class PresenceError(ValueError):
    """A file that cannot be loaded; nothing was loaded."""


class Offline(Exception):
    """HDX HAPI cannot be reached from here (no connection, no name resolution, a timeout)."""


class HapiRefused(Exception):
    """HDX HAPI answered with an HTTP error (a bad app identifier, too many requests...)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class LoadResult:
    """What a load did: entries stored, rows read, the countries replaced, rows left out."""

    organisations: int
    rows: int
    countries: tuple[str, ...]
    skipped: dict[str, int]
    requests: int = 0


@lru_cache(maxsize=1)
def _alpha2() -> dict[str, str]:
    """ISO 3166 alpha-3 to alpha-2, from CLDR's territory aliases (as Babel ships them)."""
    aliases = get_global("territory_aliases")
    return {
        three: two[0]
        for three, two in aliases.items()
        if len(three) == 3 and three.isalpha() and len(two) == 1 and len(two[0]) == 2
    }


# Withdrawn alpha-3 codes CLDR still maps onto a current country (Burma, Zaire, East Germany,
# metropolitan France, East Timor, South Yemen): never the code to ask HAPI for.
WITHDRAWN = frozenset({"BUR", "ZAR", "DDR", "FXX", "TMP", "YMD"})


def alpha3(code: str) -> str | None:
    """The alpha-3 code HAPI filters by, for one of our alpha-2 codes."""
    for three, two in _alpha2().items():
        if two == code and three not in WITHDRAWN:
            return three
    return None


@lru_cache(maxsize=1024)
def _country(code: str) -> str | None:
    code = code.strip().upper()
    if len(code) == 2 and code.isalpha():
        return code
    return _alpha2().get(code)


@lru_cache(maxsize=1024)
def _date(text: str) -> date | None:
    """`2024-01-01` or `2024-01-01T00:00:00`: the date; empty: None; else ValueError."""
    text = text.strip()
    return date.fromisoformat(text[:10]) if text else None


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class _Entry:
    acronym: str
    name: str
    org_type: str
    sector_code: str
    areas: set[str]
    start: date | None
    end: date | None


@dataclass
class Collector:
    """Rows in, one entry per (country, sector, organisation) out."""

    entries: dict[tuple[str, str, str], _Entry] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    rows: int = 0

    def add_table(self, rows: Iterable[list[str]], where: str) -> int:
        """Read one CSV table (a header, perhaps an HXL row, then data); the data rows read."""
        it = iter(rows)
        header = next(it, None)
        if header is None:
            raise PresenceError(f"{where}: the file is empty")
        names = [h.strip().lstrip("\ufeff").casefold() for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise PresenceError(
                f"{where}: no column {', '.join(missing)}; an HDX HAPI operational presence "
                f"file has the columns {', '.join(COLUMNS)}"
            )
        # A missing optional column reads the empty cell appended to every row.
        width = len(names)
        pick = itemgetter(*(names.index(c) if c in names else width for c in COLUMNS))
        read = 0
        for row in it:
            if read == 0 and row and all(not c.strip() or c.strip().startswith("#") for c in row):
                continue  # the HXL hashtag row
            read += 1
            if len(row) < width:
                row = row + [""] * (width - len(row))
            row.append("")
            self._add(pick(row))
        self.rows += read
        return read

    def _add(self, values: tuple[str, ...]) -> None:
        _, _, area, acronym, name, org_type, code, start_text, end_text = values
        code = code.strip().upper()
        sector = SECTOR_CODES.get(code)
        if sector is None:
            self.skipped["sector"] += 1
            return
        country = _country(values[0])
        if country is None:
            self.skipped["country"] += 1
            return
        name = name.strip()[: LIMITS["org_name"]]
        acronym = acronym.strip()[: LIMITS["org_acronym"]]
        if not name and not acronym:
            self.skipped["organisation"] += 1
            return
        try:
            start, end = _date(start_text), _date(end_text)
        except ValueError:
            self.skipped["date"] += 1
            return
        key = (country, sector, _fold(name or acronym))
        entry = self.entries.get(key)
        if entry is None:
            org_type = org_type.strip()[: LIMITS["org_type"]]
            entry = _Entry(acronym, name or acronym, org_type, code, set(), start, end)
            self.entries[key] = entry
        else:
            if start and (entry.start is None or start < entry.start):
                entry.start = start
            if end and (entry.end is None or end > entry.end):
                entry.end = end
        area = area.strip()
        if area:
            entry.areas.add(area)

    def store(self, engine: Engine, origin: str) -> LoadResult:
        """Replace the data of every country read with what was read, in one transaction."""
        countries = tuple(sorted({country for country, _, _ in self.entries}))
        now = utcnow()
        table = Presence.__table__  # type: ignore[attr-defined]
        with session_scope(engine) as session:
            if countries:
                session.execute(delete(table).where(table.c.country.in_(countries)))
            batch: list[dict[str, Any]] = []
            for (country, sector, _), e in self.entries.items():
                batch.append(
                    {
                        "country": country,
                        "sector": sector,
                        "sector_code": e.sector_code,
                        "org_acronym": e.acronym,
                        "org_name": e.name,
                        "org_type": e.org_type,
                        "areas": len(e.areas),
                        "reference_period_start": e.start,
                        "reference_period_end": e.end,
                        "origin": origin[:500],
                        "loaded_at": now,
                    }
                )
                if len(batch) >= CHUNK:
                    session.execute(insert(table), batch)
                    batch = []
            if batch:
                session.execute(insert(table), batch)
        return LoadResult(len(self.entries), self.rows, countries, dict(self.skipped))


def _csv_rows(path: Path) -> Iterator[list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield from csv.reader(fh)
    except UnicodeDecodeError as exc:
        raise PresenceError(
            f"{path}: not UTF-8 text ({exc.reason}); HAPI files are UTF-8"
        ) from exc


def import_file(path: Path, engine: Engine) -> LoadResult:
    """Load an HDX HAPI operational presence CSV (streamed); replaces its countries' data."""
    if not path.is_file():
        raise PresenceError(f"{path}: no such file")
    collector = Collector()
    collector.add_table(_csv_rows(path), str(path))
    if not collector.entries:
        raise PresenceError(
            f"{path}: no row names a cluster we know ({collector.rows} rows read); nothing loaded"
        )
    return collector.store(engine, f"file:{path.name}")


def _get(url: str, timeout: float) -> str:
    # Only `sync presence` goes online: urllib.request (and ssl under it) stay off the start.
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url, headers={"Accept": "text/csv", "User-Agent": "clusterbot (operational presence)"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode("utf-8", "replace").strip() or str(exc.reason)
        raise HapiRefused(exc.code, detail) from exc
    except urllib.error.URLError as exc:
        raise Offline(str(exc.reason)) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise Offline(str(exc) or type(exc).__name__) from exc
    return body.decode("utf-8-sig")


def sync(
    engine: Engine,
    app_identifier: str,
    url: str = HAPI_URL,
    country: str | None = None,
    limit: int = PAGE,
    pause: float = PAUSE,
    timeout: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
) -> LoadResult:
    """Fetch operational presence from HAPI, page by page, then load it as a file would be.

    Raises Offline when HAPI cannot be reached, HapiRefused when it answers with an error;
    nothing is changed then. `country` (alpha-2) asks for one country only.
    """
    params: dict[str, str | int] = {"app_identifier": app_identifier, "output_format": "csv"}
    if country:
        params["location_code"] = alpha3(country) or country
    collector = Collector()
    offset = requests = 0
    last: float | None = None
    while True:
        if last is not None:
            wait = pause - (clock() - last)
            if wait > 0:
                time.sleep(wait)
        last = clock()
        page = _get(f"{url}?{urlencode({**params, 'limit': limit, 'offset': offset})}", timeout)
        requests += 1
        if not page.strip():
            break  # past the last row, an API may answer with nothing at all
        read = collector.add_table(csv.reader(io.StringIO(page)), f"page at offset {offset}")
        if read < limit:
            break
        offset += limit
    result = collector.store(engine, f"api:{url}")
    return LoadResult(
        result.organisations, result.rows, result.countries, result.skipped, requests
    )


def partners(session: Session, country: str, sector: str) -> list[Presence]:
    """The organisations the data lists for one cluster in one country, by type then name."""
    return list(
        session.exec(
            select(Presence)
            .where(Presence.country == country, Presence.sector == sector)
            .order_by(col(Presence.org_type), col(Presence.org_name))
        ).all()
    )


def sectors_in(session: Session, country: str) -> int:
    """How many clusters the data lists organisations for in a country (0: no data there)."""
    found = session.exec(
        select(func.count(func.distinct(Presence.sector))).where(Presence.country == country)
    ).one()
    return int(found)


__all__ = [
    "HAPI_URL",
    "SECTOR_CODES",
    "Collector",
    "HapiRefused",
    "LoadResult",
    "Offline",
    "PresenceError",
    "alpha3",
    "import_file",
    "partners",
    "sectors_in",
    "sync",
]
