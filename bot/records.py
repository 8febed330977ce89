"""Country-level cluster records: import them from CSV, all or nothing."""

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.db import session_scope
from bot.models import CountryCluster, utcnow
from knowledge import KnowledgeBase

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


class RecordsError(ValueError):
    """A file with bad rows; `errors` names each one by line number."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ImportResult:
    """How many records a good file added and updated."""

    added: int
    updated: int


def _parse(path: Path, kb: KnowledgeBase) -> list[CountryCluster]:
    errors: list[str] = []
    rows: list[CountryCluster] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise RecordsError([f"{path}: cannot read ({exc.strerror})"]) from exc
    with fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        unknown = [h for h in header if h not in COLUMNS]
        if missing or unknown:
            raise RecordsError(
                [
                    f"line 1: columns must be {', '.join(COLUMNS)}"
                    f" (missing: {missing}, unknown: {unknown})"
                ]
            )
        try:
            for record in reader:
                line = reader.line_num
                values = {k.strip(): (v or "").strip() for k, v in record.items() if k}
                problems = []
                if None in record:
                    problems.append("more fields than columns")
                country = kb.matcher.find_country(values.get("country", ""))
                if not country:
                    problems.append(f"unknown country {values.get('country', '')!r}")
                cluster = kb.matcher.find_sector(values.get("cluster", ""))
                if not cluster:
                    problems.append(f"unknown cluster {values.get('cluster', '')!r}")
                if not values.get("lead"):
                    problems.append("lead is empty")
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
                        problems.append(
                            f"activated_on {values['activated_on']!r} is not YYYY-MM-DD"
                        )
                if country and cluster:
                    key = (country, cluster)
                    if key in seen:
                        problems.append(f"same country and cluster as line {seen[key]}")
                    seen[key] = line
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
        except (csv.Error, UnicodeDecodeError) as exc:
            errors.append(f"line {reader.line_num}: unreadable ({exc})")
    if errors:
        raise RecordsError(errors)
    if not rows:
        raise RecordsError(["the file has no records"])
    return rows


def import_csv(path: Path, kb: KnowledgeBase, engine: Engine) -> ImportResult:
    """Load every row of `path` in one transaction, or none if any row is bad."""
    rows = _parse(path, kb)
    added = updated = 0
    with session_scope(engine) as session:
        for row in rows:
            existing = session.exec(
                select(CountryCluster).where(
                    CountryCluster.country == row.country, CountryCluster.cluster == row.cluster
                )
            ).first()
            if existing is None:
                session.add(row)
                added += 1
                continue
            for name in COLUMNS[2:]:
                setattr(existing, name, getattr(row, name))
            existing.updated_at = utcnow()
            session.add(existing)
            updated += 1
    return ImportResult(added, updated)
