"""Who works where: the organisations HDX HAPI's operational presence data lists, as partners.

"Who works on WASH in Sudan?", "which NGOs are in the health cluster in Yemen?": the
organisations by type, with the data's reference period and source. They are partners, never
leads: who leads a cluster in a country comes from our country records (handlers/leads.py).
"""

from collections import defaultdict
from dataclasses import replace
from typing import Any

from babel.dates import format_date

from bot.core import Context, Incoming, Reply, Router
from bot.domain import presence
from bot.models import Presence
from handlers.common import country_name, reply, sector_label

router = Router()
SHOWN = 25  # organisations named per type; the rest are counted
SOURCE = "HDX HAPI operational presence (3W)"
# HAPI's organisation types (org_type_description), folded, in the order answers list them.
TYPES = {
    "united nations": "united_nations",
    "international organization": "international_organization",
    "international organisation": "international_organization",
    "international ngo": "international_ngo",
    "national ngo": "national_ngo",
    "red cross / red crescent": "red_cross",
    "red cross/red crescent": "red_cross",
    "government": "government",
    "donor": "donor",
    "academic / research": "academic",
    "private sector": "private_sector",
    "religious": "religious",
    "military": "military",
    "embassy": "embassy",
    "other": "other",
}
ORDER = list(dict.fromkeys(TYPES.values()))


def _groups(rows: list[Presence]) -> list[dict[str, Any]]:
    by_type: dict[str, list[Presence]] = defaultdict(list)
    for row in rows:
        by_type[row.org_type].append(row)

    def rank(raw: str) -> tuple[int, str]:
        key = TYPES.get(" ".join(raw.casefold().split()), "")
        return (ORDER.index(key) if key else len(ORDER) + (not raw), raw.casefold())

    groups = []
    for raw in sorted(by_type, key=rank):
        orgs = sorted(by_type[raw], key=lambda r: r.org_name.casefold())
        groups.append(
            {
                "key": TYPES.get(" ".join(raw.casefold().split()), ""),
                "raw": raw,
                "count": len(orgs),
                "orgs": [{"name": o.org_name, "acronym": o.org_acronym} for o in orgs[:SHOWN]],
                "more": max(len(orgs) - SHOWN, 0),
            }
        )
    return groups


@router.intent("presence")
def who_works(msg: Incoming, ctx: Context) -> list[Reply]:
    """The organisations the data lists for each named cluster in one country, by type."""
    u = ctx.understanding
    return [_partners(ctx, u.country or "", sector) for sector in u.sectors]


def _partners(ctx: Context, code: str, sector: str) -> Reply:
    rows = presence.partners(ctx.session, code, sector)
    first = rows[0] if rows else None
    kind, _, detail = (first.origin if first else "").partition(":")
    starts = [r.reference_period_start for r in rows if r.reference_period_start]
    ends = [r.reference_period_end for r in rows if r.reference_period_end]

    def day(value: Any) -> str:
        return str(format_date(value, "long", locale=ctx.lang)) if value else ""

    answer = reply(
        ctx,
        "presence/partners.j2",
        country=country_name(ctx, code),
        cluster=sector_label(ctx, sector),
        groups=_groups(rows),
        total=len(rows),
        has_country=bool(rows) or presence.sectors_in(ctx.session, code) > 0,
        period_start=day(min(starts) if starts else None),
        period_end=day(max(ends) if ends else None),
        origin=kind,
        origin_detail=detail if kind == "file" else "",
        loaded_on=day(first.loaded_at.date()) if first else "",
    )
    return replace(answer, sources=(SOURCE,) if rows else ())
