"""Country-record import: `import_file` beside a plain `csv` read of the same file.

Every country the knowledge base knows by its French name, times 11 clusters (about 2,800
rows), written as UTF-8 and cp1252 semicolon CSV and as .xlsx. For each: a plain csv.reader
pass (the floor), `import_file` into a fresh SQLite file, and the same file imported again
(every row an update).

    .venv/bin/python benchmarks/records_import.py
"""

import csv
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from babel import Locale  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from bot.db import make_engine, upgrade  # noqa: E402
from bot.domain.records import import_file  # noqa: E402
from knowledge import load  # noqa: E402

CLUSTERS = ["health", "WASH", "nutrition", "logistics", "shelter", "CCCM", "education",
            "protection", "food security", "early recovery", "ETC"]  # fmt: skip


def main() -> None:
    kb = load()
    names = [
        name
        for code, name in Locale("fr").territories.items()
        if len(code) == 2 and code.isalpha() and kb.matcher.find_country(name) == code
    ]
    rows = [["Pays", "Cluster", "Chef de file", "Source"]]
    rows += [[n, k, "UNICEF", "benchmark"] for n in names for k in CLUSTERS]
    tmp = Path(tempfile.mkdtemp())
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    (tmp / "utf8.csv").write_text(out.getvalue(), encoding="utf-8")
    (tmp / "cp1252.csv").write_bytes(out.getvalue().encode("cp1252", "replace"))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(tmp / "records.xlsx")
    print(f"{len(rows) - 1} rows")
    for name, encoding in (("utf8.csv", "utf-8"), ("cp1252.csv", "cp1252"), ("records.xlsx", "")):
        path = tmp / name
        if encoding:
            start = time.perf_counter()
            with path.open(encoding=encoding, newline="") as fh:
                n = sum(1 for _ in csv.reader(fh, delimiter=";"))
            floor = f"plain csv read {1000 * (time.perf_counter() - start):.1f} ms ({n} lines)"
        else:
            floor = "no plain csv read for a workbook"
        engine = make_engine(f"sqlite:///{tmp / (name + '.db')}")
        upgrade(engine)
        start = time.perf_counter()
        result = import_file(path, kb, engine)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = import_file(path, kb, engine)
        second = time.perf_counter() - start
        assert result.added == again.updated == len(rows) - 1
        print(
            f"{name}: import {1000 * first:.0f} ms, again {1000 * second:.0f} ms; {floor}; "
            f"read as {result.read_as}"
        )


if __name__ == "__main__":
    main()
