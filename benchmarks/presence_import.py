"""Operational presence import: `bot.domain.presence.import_file` beside a plain `csv` read of the file.

Writes 200,000 rows (the global HDX HAPI file's order of size) in HAPI's CSV shape, header and
HXL row included: 25 countries, 200 organisations each, each in 3 of 16 sector codes (CSH, one
in 16, a code we do not map, as cash is), listed in 3 first-level areas of 4-5 second-level
areas each. Then, in the same run: a plain csv.reader pass over the file (the floor), the same
read kept as a list (what holding the file whole costs), and the import into a fresh SQLite
file (and PostgreSQL when CLUSTERBOT_TEST_POSTGRES_URL is set), and the import's parse alone
(no database), each timed, then each again
under tracemalloc for its peak Python memory. Times are the best of three runs, each with
the import's caches emptied.

    .venv/bin/python benchmarks/presence_import.py [ROWS]
"""

import csv
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bot.db import make_engine, upgrade  # noqa: E402
from bot.domain import presence  # noqa: E402
from bot.domain.presence import Collector, import_file  # noqa: E402
from tests.own_schema import own_schema  # noqa: E402

COUNTRIES = ["AFG", "BFA", "CAF", "CMR", "COD", "COL", "ETH", "HTI", "LBN", "MLI", "MMR", "MOZ",
             "NER", "NGA", "PSE", "SDN", "SOM", "SSD", "SYR", "TCD", "UKR", "VEN", "YEM", "HND",
             "GTM"]  # fmt: skip
SECTORS = ["CCM", "EDU", "SHL", "TEL", "FSC", "HEA", "LOG", "NUT", "PRO", "WSH", "ERY",
           "PRO-CPN", "PRO-GBV", "PRO-HLP", "PRO-MIN", "CSH"]  # fmt: skip
TYPES = [("447", "United Nations"), ("437", "International NGO"), ("441", "National NGO"),
         ("445", "Red Cross / Red Crescent"), ("435", "Government"), ("443", "Other")]  # fmt: skip
HEADER = ["location_ref", "location_code", "location_name", "has_hrp", "in_gho", "admin1_ref",
          "admin1_code", "admin1_name", "provider_admin1_name", "admin2_ref", "admin2_code",
          "admin2_name", "provider_admin2_name", "admin_level", "org_acronym", "org_name",
          "org_type_code", "org_type_description", "sector_code", "sector_name",
          "dataset_hdx_id", "resource_hdx_id", "reference_period_start",
          "reference_period_end"]  # fmt: skip
HXL = ["", "#country+code", "#country+name", "", "", "", "#adm1+code", "#adm1+name", "", "",
       "#adm2+code", "#adm2+name", "", "", "#org+acronym", "#org+name", "#org+type+code",
       "#org+type+name", "#sector+code", "#sector+name", "", "", "#date+start",
       "#date+end"]  # fmt: skip


def write(path: Path, rows: int) -> int:
    rng = random.Random(16)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        out.writerow(HXL)
        while written < rows:
            for c, country in enumerate(COUNTRIES):
                for org in range(200):
                    code, kind = TYPES[org % len(TYPES)]
                    for sector in rng.sample(SECTORS, 3):
                        for a1 in rng.sample(range(15), 3):
                            for a2 in range(rng.choice((4, 5))):
                                out.writerow(
                                    [c, country, f"Country {country}", "True", "True", a1,
                                     f"{country}{a1:02d}", f"Area {a1}", "", a2,
                                     f"{country}{a1:02d}{a2:03d}", f"District {a2}", "", "2",
                                     f"O{org}", f"Organisation {org} of {country}", code, kind,
                                     sector, sector, "d", "r", "2024-01-01T00:00:00",
                                     "2024-06-30T23:59:59"]
                                )  # fmt: skip
                                written += 1
                                if written == rows:
                                    return written
    return written


def plain_read(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 2


def list_read(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return len(list(csv.reader(fh))) - 2


def parse_only(path: Path) -> int:
    """What the import does before the database: the rows reduced to one entry per organisation."""
    collector = Collector()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        collector.add_table(csv.reader(fh), str(path))
    return len(collector.entries)


def cold() -> None:
    """Empty the import's caches (codes, dates, folded names), so no run gains from the last."""
    for cached in (presence._country, presence._date, presence._fold):
        cached.cache_clear()


def timed(fn: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """The best of `runs` timed calls (a shared machine is noisy), then the peak Python memory
    (MiB) of one more call under tracemalloc; every call starts with cold caches."""
    best = float("inf")
    for _ in range(runs):
        cold()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    cold()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "hdx_hapi_operational_presence_global.csv"
    write(path, rows)
    size = path.stat().st_size / 2**20
    print(f"{rows} rows, {size:.1f} MiB ({path.name}, HAPI's columns, header and HXL row)")

    seconds, peak = timed(lambda: plain_read(path))
    print(f"plain csv read:       {seconds:6.2f} s, peak Python memory {peak:6.1f} MiB")
    seconds, peak = timed(lambda: list_read(path))
    print(f"csv read into a list: {seconds:6.2f} s, peak Python memory {peak:6.1f} MiB")

    seconds, peak = timed(lambda: parse_only(path))
    print(f"parse only (no DB):   {seconds:6.2f} s, peak Python memory {peak:6.1f} MiB")

    engine = make_engine(f"sqlite:///{tmp / 'presence.db'}")
    upgrade(engine)
    result = import_file(path, engine)
    seconds, peak = timed(lambda: import_file(path, engine))
    print(
        f"import (SQLite file): {seconds:6.2f} s, peak Python memory {peak:6.1f} MiB; "
        f"{result.organisations} entries for {len(result.countries)} countries, "
        f"{sum(result.skipped.values())} rows left out (sector codes we do not map)"
    )
    pg = os.environ.get("CLUSTERBOT_TEST_POSTGRES_URL")
    if pg:
        with own_schema(pg, "bench") as url:
            pg_engine = make_engine(url)
            try:
                upgrade(pg_engine)
                seconds, peak = timed(lambda: import_file(path, pg_engine))
                print(
                    f"import (PostgreSQL):  {seconds:6.2f} s, peak Python memory {peak:6.1f} MiB"
                )
            finally:
                pg_engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (everything above, one process): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
