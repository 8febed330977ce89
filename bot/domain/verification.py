"""Country records that stay true: who confirmed each one and when, corrections, and reminders.

A record carries where it came from (`origin`: `import:FILE`, `proposal:ID`, `chat`, `shell`),
who last confirmed it (`confirmed_by`, an identity; `console:shell` for an import) and when
(`confirmed_at`). A coordinator confirms it ("still right") or corrects it (a new lead) from chat
or from the shell. A record not confirmed for longer than the set age is shown as possibly out
of date, and the coordinators of its country are reminded through the outbox: a notification row
at reminder priority, whose unique key names the record, its last confirmation and the period,
so each record reminds once per period however often it is asked about.

Chat handlers and the shell both call these functions, so a rule lives in one place.
"""

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy import and_, bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import outbox
from bot.domain import roles
from bot.domain.proposals import identity_target
from bot.models import CountryCluster, Notification, Proposal, User, utcnow
from knowledge import KnowledgeBase

VERIFY_ROLES = ("coordinator", "hc")  # as creating a proposal or planning a deactivation
SHELL = "console:shell"  # who confirms what a file import loads
REMINDER_TEMPLATE = "records/reminder.j2"


class Unknown(ValueError):
    """A new lead names an agency we do not know: (as written, a near known name) per part."""

    def __init__(self, parts: list[tuple[str, str | None]]) -> None:
        super().__init__(
            "; ".join(
                f"unknown lead agency {p!r}" + (f" (did you mean {h!r}?)" if h else "")
                for p, h in parts
            )
        )
        self.parts = parts


class SameAsLead(ValueError):
    """The co-lead given is the lead itself: a co-lead is a second organisation."""

    def __init__(self, lead: str) -> None:
        super().__init__(
            f"the co-lead {lead} is the lead itself; a co-lead is another organisation"
        )
        self.lead = lead


def _aware(when: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; we only ever store UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def as_of(record: CountryCluster) -> datetime:
    """When the record was last said to be right (its last change, before migration 0006)."""
    return _aware(record.confirmed_at or record.updated_at)


def is_stale(record: CountryCluster, now: datetime, max_age: timedelta) -> bool:
    """Whether the record has gone unconfirmed for longer than `max_age`."""
    return now - as_of(record) > max_age


def version(record: CountryCluster) -> int:
    """A stamp of the record's content: a button shown for one version confirms only that."""
    return zlib.crc32(f"{record.lead}\x00{record.co_lead}".encode())


@functools.cache
def _records_of(clusters: int) -> Any:
    """One country's records of `clusters` clusters (Core): a statement per count, built once.

    Building a statement cost more than running it, and an expanding IN is rendered again at
    every run.
    """
    table = CountryCluster.__table__  # type: ignore[attr-defined]
    return sa_select(table).where(
        table.c.country == bindparam("country"),
        table.c.cluster.in_([bindparam(f"c{i}") for i in range(clusters)]),
    )


def records_of(session: Session, country: str, clusters: list[str]) -> dict[str, CountryCluster]:
    """One country's records of these clusters, by cluster, to read: copies, not in the session.

    Read with Core and copied into models: an answer only reads them, and the ORM's query
    cost twice as much (120 against 60 µs, one cluster, none found). Change a record with
    `find` and the functions below, never through these copies.
    """
    params = {"country": country, **{f"c{i}": c for i, c in enumerate(clusters)}}
    rows = session.connection().execute(_records_of(len(clusters)), params)
    return {row.cluster: CountryCluster(**row._mapping) for row in rows}


def find(session: Session, country: str, cluster: str) -> CountryCluster | None:
    """The record for one cluster in one country, if we hold one."""
    return session.exec(
        select(CountryCluster).where(
            CountryCluster.country == country, CountryCluster.cluster == cluster
        )
    ).first()


def confirm(
    session: Session,
    kb: KnowledgeBase,
    actor: User,
    country: str,
    cluster: str,
    now: datetime,
    lead: str | None = None,
    co_lead: str | None = None,
    origin: str = "chat",
    allow_unknown_agency: bool = False,
) -> CountryCluster:
    """`actor` says the record is right (no `lead`) or gives the new lead (and co-lead).

    Raises roles.NotAllowed for a role that may not, LookupError when there is no record to
    confirm, Unknown for a lead that names no agency we know (unless allowed). A correction
    makes the record's origin `origin` ("chat" or "shell"); a confirmation keeps its origin.
    `co_lead` None keeps the co-lead, "" removes it.
    """
    roles.require(actor, "verify", VERIFY_ROLES)
    record = find(session, country, cluster)
    if lead is None:
        if record is None:
            raise LookupError(f"no record for {cluster} in {country}")
    else:
        # Here, not at the top: bot.domain.records (its header tables) stays off every start.
        from bot.domain.records import agency_as_recorded, unknown_agencies

        lead = lead.strip()[:200]
        if not lead:
            raise ValueError("the new lead is empty")
        unknown = unknown_agencies(kb, lead)
        if unknown and not allow_unknown_agency:
            raise Unknown(unknown)  # the import's own rule for the lead column
        lead = agency_as_recorded(kb, lead)
        if co_lead is not None:
            co_lead = agency_as_recorded(kb, co_lead.strip()[:200])
        kept = co_lead if co_lead is not None else (record.co_lead if record else "")
        if kept and kept.casefold() == lead.casefold():  # before anything is changed
            raise SameAsLead(lead)
        record = record or CountryCluster(country=country, cluster=cluster, lead=lead)
        record.lead = lead
        if co_lead is not None:
            record.co_lead = co_lead
        record.origin = origin
        record.source = ""  # what the old source said no longer describes this record
        record.updated_at = now
    record.confirmed_by, record.confirmed_at = actor.identity, now
    session.add(record)
    session.flush()
    return record


def view(
    session: Session, record: CountryCluster, lang: str, now: datetime, max_age: timedelta
) -> dict[str, Any]:
    """What an answer says of a record's freshness, in `lang` (plain JSON for templates).

    `confirmer` is the role of who last confirmed it ("shell" for a file import, "" unknown);
    `origin` the kind of source (import, proposal, chat, shell) and `origin_file` an import's.
    """
    kind, _, detail = record.origin.partition(":")
    confirmer = ""
    if record.confirmed_by == SHELL:
        confirmer = "shell"
    elif record.confirmed_by:
        person = session.get(User, record.confirmed_by)
        confirmer = person.role if person else ""
    when = as_of(record)
    return {
        "as_of": format_date(when.date(), "long", locale=lang),
        "as_of_iso": when.date().isoformat(),
        "confirmed": record.confirmed_at is not None,
        "confirmer": confirmer,
        "origin": kind,
        "origin_file": detail if kind == "import" else "",
        "stale": is_stale(record, now, max_age),
        "age_days": max((now - when).days, 0),
        "limit_days": max_age.days,
    }


def country_coordinators(session: Session, country: str) -> list[User]:
    """The coordinators of a country: those who confirmed its records or proposed for it.

    Roles carry no country, so this is read from what people did; when nobody did anything
    for the country yet, every coordinator (as the proposals' plan reminders do).
    """
    everyone = roles.holders(session, "coordinator")
    confirmers = session.exec(
        select(CountryCluster.confirmed_by).where(CountryCluster.country == country)
    ).all()
    proposers = session.exec(select(Proposal.created_by).where(Proposal.country == country)).all()
    involved = set(confirmers) | set(proposers)
    return [u for u in everyone if u.identity in involved] or everyone


def remind(
    session: Session,
    kb: KnowledgeBase,
    record: CountryCluster,
    now: datetime,
    max_age: timedelta,
) -> int:
    """Remind the country's coordinators of a stale record, once per record per period.

    Returns how many reminders were queued now. Looks before writing, so an answer about an
    already reminded record stays a read.
    """
    if not is_stale(record, now, max_age) or record.id is None:
        return 0
    since = as_of(record)
    period = (now - since) // max_age  # 1 once past the age, 2 once past twice, ...
    prefix = f"record_stale:{record.id}:{since.strftime('%Y%m%dT%H%M%S')}:{period}:user:"
    queued = 0
    for person in country_coordinators(session, record.country):
        target = identity_target(person.identity)
        if target is None:
            continue
        key = f"{prefix}{person.identity}"
        if session.exec(select(col(Notification.id)).where(Notification.key == key)).first():
            continue
        lang = person.lang or person.reply_lang or "en"
        queued += outbox.enqueue(
            session,
            key=key,
            target=target,
            template=REMINDER_TEMPLATE,
            data=reminder_data(kb, record, lang, now, max_age),
            lang=lang,
            priority=outbox.REMINDER,
        )
    return queued


def reminder_data(
    kb: KnowledgeBase, record: CountryCluster, lang: str, now: datetime, max_age: timedelta
) -> dict[str, Any]:
    """What a stale-record reminder says, named in `lang`."""
    names = kb.text(lang).sectors[record.cluster]
    since = as_of(record)
    return {
        "country": str(kb.matcher.country_name(record.country, lang)),
        "cluster": names.name,
        "cluster_short": names.short,
        "lead": record.lead,
        "as_of": format_date(since.date(), "long", locale=lang),
        "age_days": (now - since).days,
        "limit_days": max_age.days,
    }


def stale_records(
    session: Session, now: datetime, max_age: timedelta, country: str | None = None
) -> list[CountryCluster]:
    """Records not confirmed for longer than `max_age`, oldest first."""
    cutoff = now - max_age
    confirmed = col(CountryCluster.confirmed_at)
    query = select(CountryCluster).where(
        or_(
            and_(confirmed.is_not(None), confirmed < cutoff),
            and_(confirmed.is_(None), col(CountryCluster.updated_at) < cutoff),
        )
    )
    if country:
        query = query.where(CountryCluster.country == country)
    rows = [r for r in session.exec(query).all() if is_stale(r, now, max_age)]
    return sorted(rows, key=as_of)


def remind_all(session: Session, kb: KnowledgeBase, now: datetime, max_age: timedelta) -> int:
    """Remind the coordinators of every stale record not yet reminded this period."""
    return sum(remind(session, kb, r, now, max_age) for r in stale_records(session, now, max_age))


@dataclass
class StaleReminders:
    """The dispatcher's hook for records nobody asks about: `remind_all`, once every `every`.

    The dispatcher ticks every few seconds; records go stale in days, so the scan is spaced.
    """

    kb: KnowledgeBase
    max_age: timedelta
    every: timedelta = timedelta(minutes=10)
    clock: Callable[[], datetime] = utcnow
    _last: datetime | None = field(default=None, init=False)

    def __call__(self, session: Session) -> int:
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return 0
        self._last = now
        return remind_all(session, self.kb, now, self.max_age)
