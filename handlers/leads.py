"""Who leads which cluster: globally, per agency, and per country from our records."""

import re
from dataclasses import replace
from datetime import date
from typing import Any

from babel.dates import format_date
from sqlalchemy import bindparam
from sqlmodel import select

from bot.core import Context, Incoming, Reply, Router
from bot.domain import verification
from bot.domain.records import lead_parts
from bot.models import CountryCluster
from handlers.common import (
    N_,
    agency_label,
    country_name,
    known_topic,
    near_country,
    reply,
    sector_label,
)
from handlers.concepts import show_topic
from handlers.help import not_understood
from knowledge import KnowledgeBase, Lead
from knowledge.checklist import just_agency

router = Router()


def _lead(ctx: Context, lead: Lead) -> dict[str, Any]:
    words = ctx.kb.text(ctx.lang)
    return {
        **agency_label(ctx, lead.agency),
        "role": lead.role,
        "role_label": words.roles[lead.role],
        "when": words.conditions[lead.when] if lead.when else "",
    }


# How bot.domain.proposals writes an endorsed record's source; shown in the reader's language.
_ENDORSED_SOURCE = re.compile(r"^Activation proposal #(\d+), endorsed (\d{4}-\d{2}-\d{2})$")


def _record(ctx: Context, row: CountryCluster) -> dict[str, Any]:
    """A country record as the answer shows it: its content, where from, how fresh.

    A record past the age is marked, and its country's coordinators are reminded (once per
    record per period, however often it is asked about).
    """
    endorsed = _ENDORSED_SOURCE.match(row.source or "")
    fresh = verification.view(ctx.session, row, ctx.lang, ctx.now, ctx.record_max_age)
    if fresh["stale"]:
        verification.remind(ctx.session, ctx.kb, row, ctx.now, ctx.record_max_age)
    return {
        **fresh,
        "source_proposal": int(endorsed.group(1)) if endorsed else 0,
        "source_date": format_date(date.fromisoformat(endorsed.group(2)), "long", locale=ctx.lang)
        if endorsed
        else "",
        "lead": _as_named(ctx, row.lead),
        "co_lead": _as_named(ctx, row.co_lead),
        "raw_lead": row.lead,
        "raw_co_lead": row.co_lead,
        "coordinator": row.coordinator,
        "contact": row.contact,
        "activated_on": row.activated_on.isoformat() if row.activated_on else "",
        "source": row.source,
    }


def _as_named(ctx: Context, organisation: str) -> str:
    """A record's lead as the reader's language names it ("WHO" is "OMS" in French).

    Only when the record names one agency we know and nothing else; other text stays as written.
    """
    if not organisation or not just_agency(ctx.kb, organisation):
        return organisation
    agency = ctx.kb.matcher.find_agency(organisation)
    return agency_label(ctx, agency)["acronym"] if agency else organisation


def sector_facts(ctx: Context, sector_id: str) -> dict[str, Any]:
    """Everything we say about one cluster or AoR, named in the user's language."""
    sector = ctx.kb.sectors[sector_id]
    words = ctx.kb.text(ctx.lang)
    return {
        **sector_label(ctx, sector_id),
        "kind": sector.kind,
        "leads": [_lead(ctx, lead) for lead in sector.leads],
        "note": words.sectors[sector_id].note,
        "parent": sector_label(ctx, sector.parent) if sector.parent else None,
        "aors": [sector_facts(ctx, a) for a in sector.aors],
    }


def _sources(kb: KnowledgeBase, sectors: list[str]) -> tuple[str, ...]:
    keys: list[str] = []
    for s in sectors:
        keys += kb.sectors[s].sources
        for aor in kb.sectors[s].aors:
            keys += kb.sectors[aor].sources
    return tuple(keys)


# Built once: building a statement cost more than running it (a question naming a country).
_COUNTRY_RECORDS = (
    select(CountryCluster)
    .where(CountryCluster.country == bindparam("country"))
    .order_by(CountryCluster.cluster)
)


@router.intent("who_leads")
def who_leads(msg: Incoming, ctx: Context) -> Reply:
    """Global lead of each named cluster, and the country record when a country is named."""
    u = ctx.understanding
    # An AoR named together with its own cluster is already listed under that cluster.
    sectors = [
        s
        for s in u.sectors
        if not (ctx.kb.sectors[s].parent and ctx.kb.sectors[s].parent in u.sectors)
    ]
    countries = []
    contacts = []
    for code in (u.country, *u.also_countries) if u.country else ():
        rows = verification.records_of(ctx.session, code, sectors)
        records = {s: _record(ctx, rows[s]) for s in sectors if s in rows}
        contacts += [r["contact"] for r in records.values() if r.get("contact")]
        countries.append({"code": code, "name": country_name(ctx, code), "records": records})
    if u.related and known_topic(ctx, u.related[0]):
        # The question asked more than who leads ("... or is it just a sector?").
        ctx.followups.append(show_topic(ctx, u.related[0], after_the_lead=True))
    return reply(
        ctx,
        "leads/who_leads.j2",
        _sources(ctx.kb, sectors),
        checks=_checks(ctx, sectors, u.agencies, u.condition, countries, only=u.only),
        unknown_places=_unknown_places(ctx),
        in_kind=_in_kind(ctx, sectors, u.condition) if not u.agencies else [],
        sectors=[sector_facts(ctx, s) for s in sectors],
        country=countries[0] if countries else None,
        countries=countries,  # "in Sudan and Chad": our record in each
        own_country=u.own_country,
        # Facts we do not hold, each said so; a phone number only when no record shown holds one.
        unheld=[k for k in u.unheld if not (k == "contact" and contacts)],
        # "Who is their co-lead?" after a lead question: that part of the answer, first.
        parts=list(u.parts),
        # "Congo" alone: both are named, and neither record is shown as if it were meant.
        country_choices=[country_name(ctx, c) for c in u.country_choices],
        topic="who_leads",
    )


def _unknown_places(ctx: Context) -> list[dict[str, str]]:
    """The places we know no country by ("in Darfur"), said first, never dropped.

    One a slip from a country's name ("in Sudn") asks whether that country is meant.
    """
    return [{"name": p, "hint": near_country(ctx, p)} for p in ctx.understanding.unknown_places]


def _checks(
    ctx: Context,
    sectors: list[str],
    agencies: tuple[str, ...],
    condition: str | None,
    countries: list[dict[str, Any]],
    *,
    only: bool = False,
) -> list[dict[str, Any]]:
    """Yes or no for each agency and cluster named together ("is X a co-lead of Y?").

    Asked whether the agency is the only lead ("is FAO the only FSC lead?"), a part shared with
    other leads or co-leads is a no, naming every lead ("leads"); a country record with a lead
    and a co-lead is a no as well.

    When the question names a kind of emergency ("... in floods?"), a part the agency has
    only in another kind is a no, with that other part said. When it names a country, the yes
    or no is that country's, from our record there ("in_country"); where we hold none, that is
    said ("no_record") before the global yes or no.
    """
    out = []
    for agency in agencies:
        for s in sectors:
            parts = [lead for lead in ctx.kb.sectors[s].leads if lead.agency == agency]
            fits = [lead for lead in parts if condition is None or lead.when in (None, condition)]
            glob: dict[str, Any] = {
                # A convener is no lead (see the template): it is never "the only lead" either.
                "only": only and any(lead.role != "convener" for lead in fits),
                "leads": [
                    _lead(ctx, lead)
                    for lead in ctx.kb.sectors[s].leads
                    if condition is None or lead.when in (None, condition)
                ],
                "agency": agency_label(ctx, agency),
                "sector": sector_label(ctx, s),
                "parts": [_lead(ctx, lead) for lead in fits],
                "elsewhere": [_lead(ctx, lead) for lead in parts if lead not in fits],
                "condition": ctx.kb.text(ctx.lang).conditions[condition] if condition else "",
            }
            if not countries:
                out.append(glob)
            for country in countries:
                record = country["records"].get(s)
                if record is None:
                    out.append({**glob, "country": country["name"], "no_record": True})
                    continue
                part = _part_on_record(ctx, agency, record)
                shared = bool(record["raw_co_lead"]) and part in ("lead", "co_lead")
                out.append(
                    {
                        **glob,
                        "country": country["name"],
                        # "The only lead" of a record with two: the record's lead and co-lead.
                        "in_country": "" if only and shared else part,
                        "record": record,
                    }
                )
    return out


def _part_on_record(ctx: Context, agency: str, record: dict[str, Any]) -> str:
    """The agency's part in a country record: "lead", "co_lead" or "" (none)."""
    for part, key in (("lead", "raw_lead"), ("co_lead", "raw_co_lead")):
        if _names(ctx, record[key], agency):
            return part
    return ""


def _in_kind(ctx: Context, sectors: list[str], condition: str | None) -> list[dict[str, Any]]:
    """Who leads each cluster whose lead depends on the kind of emergency, in the kind named."""
    if condition is None:
        return []
    out = []
    for s in sectors:
        leads = ctx.kb.sectors[s].leads
        if any(lead.when for lead in leads):
            fits = [
                _lead(ctx, replace(lead, when=None))
                for lead in leads
                if lead.when in (None, condition)
            ]
            out.append(
                {
                    "sector": sector_label(ctx, s),
                    "condition": ctx.kb.text(ctx.lang).conditions[condition],
                    "leads": fits,
                }
            )
    return out


@router.intent("agency_clusters")
def agency_clusters(msg: Incoming, ctx: Context) -> Reply:
    """The clusters and AoRs an agency has a part in leading globally, and in a country named.

    In a country ("what does WFP lead in Sudan?", "and in Sudan?" after it), our records of
    that country whose lead or co-lead names the agency come first, or a plain statement that
    we hold none; the global list stays, since the country's arrangement may differ from it.
    """
    u = ctx.understanding
    code = u.country or ""
    rows = ctx.session.exec(_COUNTRY_RECORDS, params={"country": code}).all() if code else []
    co_lead = ctx.kb.text(ctx.lang).roles["co_lead"]
    agencies = []
    keys: list[str] = []
    for agency in u.agencies:
        parts = []
        for sector, lead in ctx.kb.clusters_led_by(agency):
            parts.append({**sector_facts(ctx, sector.id), "part": _lead(ctx, lead)})
            keys += sector.sources
        keys += ctx.kb.agencies[agency].sources
        here = [
            {
                **sector_label(ctx, r.cluster),
                **_record(ctx, r),
                "role_label": "" if _names(ctx, r.lead, agency) else co_lead,
            }
            for r in rows
            if r.cluster in ctx.kb.sectors
            and (_names(ctx, r.lead, agency) or _names(ctx, r.co_lead, agency))
        ]
        agencies.append({**agency_label(ctx, agency), "sectors": parts, "in_country": here})
    return reply(
        ctx,
        "leads/agency_clusters.j2",
        tuple(keys),
        agencies=agencies,
        country={"code": code, "name": country_name(ctx, code)} if code else None,
        # "Congo" alone: our records are one country's, so the bot asks which is meant.
        country_choices=[] if code else [country_name(ctx, c) for c in u.country_choices],
    )


def _names(ctx: Context, organisations: str, agency: str) -> bool:
    """Whether a record's lead or co-lead, as written, names `agency` ("UNICEF / SC": UNICEF)."""
    return any(ctx.kb.matcher.find_agency(part) == agency for part in lead_parts(organisations))


def _with_the_global_clusters(ctx: Context, template: str, **data: Any) -> Reply:
    """A reply listing every global cluster and its leads (source S), beside `data`."""
    clusters = [sector_facts(ctx, c.id) for c in ctx.kb.clusters]
    return reply(ctx, template, ("S",), clusters=clusters, **data)


@router.intent("list_clusters")
def list_clusters(msg: Incoming, ctx: Context) -> Reply:
    """The 11 global clusters and their lead agencies."""
    places = _unknown_places(ctx)  # "which clusters are active in Sudn?"
    return _with_the_global_clusters(ctx, "leads/list_clusters.j2", unknown_places=places)


@router.intent("unknown_agency")
def unknown_agency(msg: Incoming, ctx: Context) -> Reply:
    """What an agency we do not hold leads: we say we hold none of that name, and who leads."""
    name = ctx.understanding.unknown_name
    return _with_the_global_clusters(ctx, "leads/unknown_agency.j2", name=name)


@router.intent("country_clusters")
def country_clusters(msg: Incoming, ctx: Context) -> Reply:
    """Every cluster record we hold for each country named ("in Mali and Sudan": both)."""
    u = ctx.understanding
    code = u.country or ""
    # "Congo" alone: our records are one country's, so the bot asks which is meant.
    choices = [] if code else [country_name(ctx, c) for c in u.country_choices]
    countries = [
        {
            "code": c,
            "name": country_name(ctx, c),
            "records": [
                {**sector_label(ctx, r.cluster), **_record(ctx, r)}
                for r in ctx.session.exec(_COUNTRY_RECORDS, params={"country": c}).all()
                if r.cluster in ctx.kb.sectors
            ],
        }
        for c in ((code, *u.also_countries) if code else ())
    ]
    first = countries[0] if countries else {"code": "", "name": "", "records": []}
    return reply(
        ctx,
        "leads/country_clusters.j2",
        country={"code": first["code"], "name": first["name"]},
        records=first["records"],
        countries=countries,
        country_choices=choices,
    )


@router.command("lead", shareable=True, menu=N_("who leads a cluster"), menu_at=20)
def lead_command(msg: Incoming, ctx: Context) -> Reply:
    """`/lead <cluster> [country]`: the bot has already understood the words after the command."""
    u = ctx.understanding
    if not msg.args:
        return reply(ctx, "leads/lead_usage.j2")
    if u.sectors:
        ctx.understanding = replace(u, intent="who_leads")
        answer = who_leads(msg, ctx)
        # What follows the cluster names a country: one we do not know is said, not dropped.
        # ("/lead health in Darfur" has said it already, first.)
        unknown = (
            ""
            if u.country or u.unknown_places
            else ctx.kb.matcher.entities(msg.args).leftover[:60]
        )
        hint = near_country(ctx, unknown) if unknown else ""
        return replace(answer, data={**answer.data, "unknown_country": unknown, "hint": hint})
    # The words after /lead name a cluster: one we do not know ("/lead flying"), less the
    # country named with it ("/lead cash Sudan").
    words = [
        w
        for w in msg.args.split()
        if not (u.country and ctx.kb.matcher.find_country(w) == u.country)
    ]
    name = " ".join(words)[:60]
    ctx.understanding = replace(
        u,
        intent="unknown_cluster" if name else "unknown",
        unknown_name=name,
        suggestions=tuple(ctx.kb.matcher.sectors.suggest(name)) if name else (),
    )
    return not_understood(msg, ctx)


@router.command(
    "clusters", shareable=True, menu=N_("the 11 global clusters and their leads"), menu_at=21
)
def clusters_command(msg: Incoming, ctx: Context) -> Reply:
    """`/clusters`: the list of global clusters."""
    return list_clusters(msg, ctx)
