"""Activation proposals through the IASC procedure: who may move them, and what a move does.

`draft` -> `submitted` (the RC/HC sends it to the ERC) -> `forwarded` (the ERC sends it to the
IASC Principals, due within 24 hours) -> `endorsed` or `returned` (feedback; submitted again
later) -> `announced` once no partner notification is still pending (sent, or recorded as
undeliverable or dead). Each endorsed cluster can then
be `deactivation_planned` (with its transition plan) and `deactivated`.

Chat handlers and the shell both call these functions, so a rule lives in one place.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import outbox
from bot.core import ADDRESSES
from bot.domain import roles, subscriptions
from bot.models import (
    OPEN_STATES,
    ChecklistRun,
    CountryCluster,
    Notification,
    PendingMove,
    Proposal,
    ProposalCluster,
    ProposalEvent,
    Reminder,
    User,
    utcnow,
)
from bot.terms import ClusterStatus, MoveName, ProposalStatus, Role
from knowledge import KnowledgeBase
from knowledge.checklist import condition_of, global_arrangement

log = logging.getLogger("clusterbot.proposals")

FORWARD_WITHIN = timedelta(hours=24)  # the ERC forwards a proposal within 24 hours
SYSTEM = "clusterbot"  # the actor of automatic moves (announcement)
CREATE_ROLES = (Role.COORDINATOR, Role.HC)


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed change of state, and who may make it."""

    name: str
    from_states: tuple[str, ...]
    to_state: str
    roles: tuple[str, ...]
    needs_note: bool = False
    per_cluster: bool = False


P, C = ProposalStatus, ClusterStatus
MOVES = {
    m.name: m
    for m in (
        Move(MoveName.SUBMIT, (P.DRAFT, P.RETURNED), P.SUBMITTED, (Role.HC,)),
        Move(MoveName.FORWARD, (P.SUBMITTED,), P.FORWARDED, (Role.ERC,)),
        Move(MoveName.ENDORSE, (P.FORWARDED,), P.ENDORSED, (Role.ERC,)),
        Move(
            MoveName.RETURN, (P.SUBMITTED, P.FORWARDED), P.RETURNED, (Role.ERC,), needs_note=True
        ),
        Move(
            MoveName.PLAN_DEACTIVATION,
            (C.ACTIVE,),
            C.DEACTIVATION_PLANNED,
            (Role.COORDINATOR, Role.HC),
            needs_note=True,
            per_cluster=True,
        ),
        Move(
            MoveName.DEACTIVATE,
            (C.DEACTIVATION_PLANNED,),
            C.DEACTIVATED,
            (Role.HC,),
            per_cluster=True,
        ),
    )
}
UNDER_WAY = (P.DRAFT, P.SUBMITTED, P.FORWARDED, P.RETURNED)  # proposals not yet decided
LIVE = (P.ENDORSED, P.ANNOUNCED)  # proposals whose clusters are active and can be deactivated


class Refused(Exception):
    """A request that cannot be carried out; `reason` names why, `details` fill the message."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details

    def __str__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.details.items())
        return f"{self.reason} ({extra})" if extra else self.reason


def identity_target(identity: str) -> str | None:
    """Where a person can be notified directly: their private chat, when the platform has one."""
    return ADDRESSES.reaches_person(identity)


def create(
    session: Session,
    kb: KnowledgeBase,
    actor: User,
    country: str,
    clusters: dict[str, tuple[str, str]],
    response: str = "",
    justification: str = "",
    checklist_id: int | None = None,
    allow_unknown_agency: bool = False,
) -> Proposal:
    """A draft proposal; `clusters` maps a cluster id to its proposed (lead, co-lead).

    A cluster with no lead given gets its global arrangement (both co-leads where it is
    co-led), for the kind of emergency `response` names where that decides (Shelter, CCCM);
    with the kind unknown it is refused ("lead_depends"), never guessed. A lead or co-lead
    the records import would refuse (a misspelt agency) is refused ("unknown_agency") unless
    `allow_unknown_agency`, as the import's flag; a co-lead that is the lead again always is.
    """
    try:
        roles.require(actor, "create", CREATE_ROLES)
    except roles.NotAllowed as exc:
        raise Refused("not_allowed", move="create", roles=list(exc.roles)) from exc
    unknown = [c for c in clusters if c not in kb.sectors or kb.sectors[c].kind != "cluster"]
    if not clusters or unknown:
        raise Refused("no_cluster", unknown=unknown)
    if not country:
        raise Refused("no_country")
    chosen = _leads(kb, clusters, condition_of(kb, response), allow_unknown_agency)
    proposal = Proposal(
        country=country,
        response=response[:200],
        justification=justification[:4000],
        created_by=actor.identity,
        checklist_id=checklist_id,
    )
    session.add(proposal)
    session.flush()
    assert proposal.id is not None
    for cluster, (lead, co_lead) in chosen.items():
        session.add(
            ProposalCluster(
                proposal_id=proposal.id,
                cluster=cluster,
                lead=lead[:200],
                co_lead=co_lead[:200],
            )
        )
    _record(session, proposal, actor.identity, "", "draft", "")
    return proposal


def _leads(
    kb: KnowledgeBase,
    clusters: dict[str, tuple[str, str]],
    condition: str | None,
    allow_unknown_agency: bool,
) -> dict[str, tuple[str, str]]:
    """Each cluster's (lead, co-lead) as proposed: given, or the global arrangement."""
    # Here, not at the top: bot.domain.records (its header tables) stays off every start.
    from bot.domain.records import same_agency, unknown_lead_parts

    chosen = {}
    for cluster, (lead, co_lead) in clusters.items():
        if not lead:
            pair = global_arrangement(kb, cluster, condition)
            if pair is None:
                options = [
                    {"agency": x.agency, "role": x.role, "when": x.when}
                    for x in kb.sectors[cluster].leads
                ]
                raise Refused("lead_depends", cluster=cluster, options=options)
            lead, co_lead = pair[0], co_lead or pair[1]
        if same_agency(kb, lead, co_lead):  # a co-lead is someone else
            raise Refused("colead_is_lead", cluster=cluster, agency=lead)
        unknown = [] if allow_unknown_agency else unknown_lead_parts(kb, lead, co_lead)
        if unknown:
            parts = [{"column": c, "name": n, "hint": h or ""} for c, n, h in unknown]
            raise Refused("unknown_agency", cluster=cluster, parts=parts)
        chosen[cluster] = (lead, co_lead)
    return chosen


def get(session: Session, proposal_id: int, lock: bool = False) -> Proposal:
    """The proposal, or Refused("not_found"); `lock` holds its row until the commit.

    Moves lock the row, so two people endorsing at once are served in turn: the second sees
    "endorsed" and is refused. The lock is a no-op write, not `FOR UPDATE`, because SQLite ignores
    `FOR UPDATE` and starts its transaction only at the first write; the write takes the row lock
    on PostgreSQL and the database's write lock on SQLite, before the state is read.
    """
    if lock:
        touch = update(Proposal).where(col(Proposal.id) == proposal_id)
        session.execute(touch.values(updated_at=Proposal.updated_at))
    proposal = session.exec(select(Proposal).where(Proposal.id == proposal_id)).first()
    if proposal is None:
        raise Refused("not_found", id=proposal_id)
    return proposal


def check(
    session: Session,
    proposal_id: int,
    actor: User,
    move_name: str,
    cluster: str = "",
    lock: bool = False,
) -> tuple[Proposal, Move]:
    """Raise Refused unless `actor` may make `move_name` now.

    Showing buttons and asking to confirm only look; `apply` locks (see `get`).
    """
    move = MOVES.get(move_name)
    if move is None:
        raise Refused("unknown_move", move=move_name)
    proposal = get(session, proposal_id, lock=lock)
    try:
        roles.require(actor, move.name, move.roles)
    except roles.NotAllowed as exc:
        raise Refused("not_allowed", move=move.name, roles=list(exc.roles)) from exc
    if move.per_cluster:
        row = _cluster(session, proposal, cluster)
        if proposal.status not in LIVE:  # a draft's clusters are not active yet
            raise Refused("wrong_state", move=move.name, status=proposal.status, id=proposal.id)
        if row.status not in move.from_states:
            raise Refused(
                "wrong_state", move=move.name, status=row.status, id=proposal.id, cluster=cluster
            )
    elif proposal.status not in move.from_states:
        # Said with what is done already, or what can be done next ("forward it first").
        raise Refused(
            "wrong_state",
            move=move.name,
            status=proposal.status,
            id=proposal.id,
            already=proposal.status == move.to_state
            or (move.name == MoveName.ENDORSE and proposal.status in LIVE),
            next=[
                m.name
                for m in MOVES.values()
                if proposal.status in m.from_states and not m.per_cluster
            ],
        )
    return proposal, move


def apply(
    session: Session,
    kb: KnowledgeBase,
    proposal_id: int,
    actor: User,
    move_name: str,
    note: str = "",
    cluster: str = "",
    now: datetime | None = None,
) -> Proposal:
    """Make the move, record who, when and why, and do what it entails, in one transaction."""
    proposal, move = check(session, proposal_id, actor, move_name, cluster, lock=True)
    note = note.strip()[:4000]
    if move.needs_note and not note:
        raise Refused("note_needed", move=move.name)
    now = now or utcnow()
    assert proposal.id is not None
    if move.per_cluster:
        row = _cluster(session, proposal, cluster)
        _record(session, proposal, actor.identity, row.status, move.to_state, note, cluster)
        row.status = move.to_state
        if move.name == "plan_deactivation":
            row.transition_plan = note
        elif move.name == "deactivate":
            _retire_record(session, proposal, row.cluster)
        session.add(row)
        return proposal
    _record(session, proposal, actor.identity, proposal.status, move.to_state, note)
    proposal.status = move.to_state
    proposal.updated_at = now
    session.add(proposal)
    if move.name == "submit":
        proposal.submitted_at = now
        _remind(session, proposal.id, "forward_due", now + FORWARD_WITHIN)
        _tell_people(session, kb, proposal, "submitted", roles.holders(session, "erc"), note)
    elif move.name == "return":
        _done_reminder(session, proposal.id, "forward_due")
        _tell_people(session, kb, proposal, "returned", _proposers(session, proposal), note)
    elif move.name == "forward":
        _done_reminder(session, proposal.id, "forward_due")
    elif move.name == "endorse":
        proposal.endorsed_at = now
        _endorse(session, kb, proposal, actor, now)
    return proposal


def _retire_record(session: Session, proposal: Proposal, cluster: str) -> None:
    """A deactivated cluster leaves the country records, if the record is still this one's."""
    record = session.exec(
        select(CountryCluster).where(
            CountryCluster.country == proposal.country, CountryCluster.cluster == cluster
        )
    ).first()
    if record is not None and record.source.startswith(f"{_source_prefix(proposal)},"):
        session.delete(record)


def _source_prefix(proposal: Proposal) -> str:
    return f"Activation proposal #{proposal.id}"


def _cluster(session: Session, proposal: Proposal, cluster: str) -> ProposalCluster:
    row = session.exec(
        select(ProposalCluster).where(
            ProposalCluster.proposal_id == proposal.id, ProposalCluster.cluster == cluster
        )
    ).first()
    if row is None:
        raise Refused("cluster_not_in_proposal", cluster=cluster, id=proposal.id)
    return row


def clusters_of(session: Session, proposal_id: int) -> list[ProposalCluster]:
    """The proposal's clusters in the order they were proposed."""
    return list(
        session.exec(
            select(ProposalCluster)
            .where(ProposalCluster.proposal_id == proposal_id)
            .order_by(col(ProposalCluster.id))
        ).all()
    )


def _record(
    session: Session,
    proposal: Proposal,
    actor: str,
    before: str,
    after: str,
    note: str,
    cluster: str = "",
) -> None:
    assert proposal.id is not None
    what = f"{cluster} {before} -> {after}" if cluster else f"{before or 'new'} -> {after}"
    log.info("proposal: %s by %s", what, actor, extra={"proposal_id": proposal.id})
    session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            actor=actor,
            from_status=before,
            to_status=after,
            note=note,
            cluster=cluster,
        )
    )


def _remind(session: Session, proposal_id: int, kind: str, due: datetime) -> None:
    found = session.exec(
        select(Reminder).where(Reminder.proposal_id == proposal_id, Reminder.kind == kind)
    ).first()
    reminder = found or Reminder(proposal_id=proposal_id, kind=kind, due_at=due)
    reminder.due_at, reminder.done = due, False
    session.add(reminder)


def _done_reminder(session: Session, proposal_id: int, kind: str) -> None:
    for reminder in session.exec(
        select(Reminder).where(Reminder.proposal_id == proposal_id, Reminder.kind == kind)
    ):
        reminder.done = True
        session.add(reminder)


def _proposers(session: Session, proposal: Proposal) -> list[User]:
    """The proposal's creator and whoever submitted it."""
    ids = {proposal.created_by}
    ids |= set(
        session.exec(
            select(ProposalEvent.actor).where(
                ProposalEvent.proposal_id == proposal.id, ProposalEvent.to_status == "submitted"
            )
        ).all()
    )
    return [roles.user(session, i) for i in sorted(ids)]


def _agency_text(kb: KnowledgeBase, agency: str) -> str:
    """How a country record names an agency: its English short name when we know it."""
    return kb.text("en").agencies[agency].short if agency in kb.agencies else agency


def _endorse(
    session: Session, kb: KnowledgeBase, proposal: Proposal, actor: User, now: datetime
) -> None:
    """Country records follow the endorsed arrangement; subscribers hear of it (outbox)."""
    assert proposal.id is not None
    rows = clusters_of(session, proposal.id)
    source = f"{_source_prefix(proposal)}, endorsed {now.date().isoformat()}"
    for pc in rows:
        record = session.exec(
            select(CountryCluster).where(
                CountryCluster.country == proposal.country, CountryCluster.cluster == pc.cluster
            )
        ).first() or CountryCluster(country=proposal.country, cluster=pc.cluster, lead="")
        record.lead = _agency_text(kb, pc.lead)
        record.co_lead = _agency_text(kb, pc.co_lead) if pc.co_lead else ""
        record.activated_on = now.date()
        record.source = source
        record.origin = f"proposal:{proposal.id}"
        record.confirmed_by, record.confirmed_at = actor.identity, now  # the ERC who endorsed
        record.updated_at = now
        session.add(record)
    clusters = [pc.cluster for pc in rows]
    notices: dict[str, dict[str, Any]] = {}  # one rendering of the data per language
    for sub in subscriptions.matching(session, proposal.country, clusters):
        if sub.lang not in notices:
            notices[sub.lang] = notice_data(session, kb, proposal, "endorsed", sub.lang)
        outbox.enqueue(
            session,
            key=f"endorsed:{proposal.id}:sub:{sub.id}",
            target=sub.target,
            template="proposals/notice.j2",
            data=notices[sub.lang],
            lang=sub.lang,
            priority=outbox.BULK,
            subscription_id=sub.id,
        )
    _tell_people(session, kb, proposal, "endorsed", _proposers(session, proposal), "")


def _tell_people(
    session: Session,
    kb: KnowledgeBase,
    proposal: Proposal,
    kind: str,
    people: list[User],
    note: str,
) -> None:
    """Queue a notice for each person reachable directly, in their language.

    The key counts the proposal's recorded moves, so a second return (say) is a new notice while
    the same move never notifies anyone twice.
    """
    events = session.exec(
        select(ProposalEvent.id).where(ProposalEvent.proposal_id == proposal.id)
    ).all()
    for person in people:
        target = identity_target(person.identity)
        if target is None:
            continue
        lang = person.lang or person.reply_lang or "en"  # their choice, else their last words
        outbox.enqueue(
            session,
            key=f"{kind}:{proposal.id}:{len(events)}:user:{person.identity}",
            target=target,
            template="proposals/notice.j2",
            data={**notice_data(session, kb, proposal, kind, lang), "note": note},
            lang=lang,
            priority=outbox.REMINDER,
        )


@dataclass(frozen=True, slots=True)
class Told:
    """Who the latest move actually queued a notice for: people directly, partner chats."""

    people: int
    partners: int


def told(session: Session, proposal_id: int, kind: str) -> Told:
    """What the outbox holds for the proposal's latest move of `kind` (read, never assumed)."""
    events = session.exec(
        select(ProposalEvent.id).where(ProposalEvent.proposal_id == proposal_id)
    ).all()

    def count(prefix: str) -> int:
        rows = session.exec(
            select(Notification.id).where(col(Notification.key).startswith(prefix))
        ).all()
        return len(rows)

    partners = count(f"endorsed:{proposal_id}:sub:") if kind == "endorsed" else 0
    return Told(count(f"{kind}:{proposal_id}:{len(events)}:user:"), partners)


PUBLIC = ("id", "country", "response", "status", "forward_due", "endorsed_at", "clusters")


def notice_data(
    session: Session, kb: KnowledgeBase, proposal: Proposal, kind: str, lang: str
) -> dict[str, Any]:
    """What a notification about `proposal` says, named in `lang` (plain JSON).

    Only what partners may see: no history, no identities, no justification (a webhook passes
    the data on to other tools as it is).
    """
    data = view(session, kb, proposal, lang)
    return {**{k: data[k] for k in PUBLIC}, "kind": kind, "note": ""}


def view(session: Session, kb: KnowledgeBase, proposal: Proposal, lang: str) -> dict[str, Any]:
    """A proposal as plain data for templates and `--json`, names in `lang`."""
    assert proposal.id is not None
    words = kb.text(lang)

    def agency(value: str) -> dict[str, str]:
        if value in kb.agencies:
            names = words.agencies[value]
            return {"id": value, "name": names.name, "acronym": names.short}
        return {"id": "", "name": value, "acronym": value}

    history = session.exec(
        select(ProposalEvent)
        .where(ProposalEvent.proposal_id == proposal.id)
        .order_by(col(ProposalEvent.id))
    ).all()
    return {
        "id": proposal.id,
        "country": {
            "code": proposal.country,
            "name": kb.matcher.country_name(proposal.country, lang),
        },
        "response": proposal.response,
        "justification": proposal.justification,
        "status": proposal.status,
        "created_by": proposal.created_by,
        "checklist_id": proposal.checklist_id,
        "submitted_at": _iso(proposal.submitted_at),
        "forward_due": _iso(proposal.submitted_at + FORWARD_WITHIN)
        if proposal.submitted_at and proposal.status == "submitted"
        else "",
        "endorsed_at": _iso(proposal.endorsed_at),
        "clusters": [
            {
                "id": pc.cluster,
                "name": words.sectors[pc.cluster].name,
                "short": words.sectors[pc.cluster].short,
                "lead": agency(pc.lead),
                "co_lead": agency(pc.co_lead) if pc.co_lead else None,
                "status": pc.status,
                "transition_plan": pc.transition_plan,
            }
            for pc in clusters_of(session, proposal.id)
        ],
        "history": [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "from": e.from_status,
                "to": e.to_status,
                "cluster": e.cluster,
                "note": e.note,
            }
            for e in history
        ],
    }


def _iso(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else ""


def also_proposing(session: Session, proposal: Proposal) -> list[tuple[Proposal, str]]:
    """Other proposals still under way for this one's country, with each cluster they share.

    Two drafts for Sudan Health side by side are likely one made twice: the creator is told.
    """
    assert proposal.id is not None
    mine = [c.cluster for c in clusters_of(session, proposal.id)]
    rows = session.exec(
        select(Proposal, ProposalCluster)
        .join(ProposalCluster, col(ProposalCluster.proposal_id) == Proposal.id)
        .where(
            Proposal.country == proposal.country,
            Proposal.id != proposal.id,
            col(Proposal.status).in_(UNDER_WAY),
            col(ProposalCluster.cluster).in_(mine),
        )
        .order_by(col(Proposal.id))
    ).all()
    return [(p, c.cluster) for p, c in rows]


def listing(session: Session, country: str | None = None) -> list[Proposal]:
    """Proposals, newest first, of one country when given."""
    query = select(Proposal).order_by(col(Proposal.id).desc())
    if country:
        query = query.where(Proposal.country == country)
    return list(session.exec(query).all())


def tick(
    session: Session,
    kb: KnowledgeBase,
    now: datetime | None = None,
    plan_after: timedelta = timedelta(days=90),
) -> None:
    """Time-driven work, run by the dispatcher each round: due reminders and announcements."""
    now = now or utcnow()
    due = session.exec(
        select(Reminder).where(col(Reminder.due_at) <= now, col(Reminder.done).is_(False))
    ).all()
    for reminder in due:
        reminder.done = True
        session.add(reminder)
        proposal = session.get(Proposal, reminder.proposal_id)
        if proposal is None:
            continue
        if reminder.kind == "forward_due" and proposal.status == "submitted":
            people = roles.holders(session, "erc") + _proposers(session, proposal)
            _tell_people(session, kb, proposal, "forward_overdue", people, "")
        elif reminder.kind == "transition_plan_due" and proposal.status in LIVE:
            unplanned = [
                pc for pc in clusters_of(session, reminder.proposal_id) if pc.status == "active"
            ]
            if unplanned:
                _tell_people(
                    session,
                    kb,
                    proposal,
                    "plan_overdue",
                    roles.holders(session, "coordinator"),
                    "",
                )
    _announce(session, now, plan_after)


def _announce(session: Session, now: datetime, plan_after: timedelta) -> None:
    """An endorsed proposal is announced once none of its partner notifications is pending."""
    for proposal in session.exec(select(Proposal).where(Proposal.status == "endorsed")).all():
        waiting = session.exec(
            select(Notification.id).where(
                col(Notification.key).startswith(f"endorsed:{proposal.id}:sub:"),
                Notification.status == "pending",
            )
        ).first()
        if waiting is not None:
            continue
        assert proposal.id is not None
        # Several dispatchers may tick at once: only the one whose update lands announces.
        claimed = session.execute(
            update(Proposal)
            .where(col(Proposal.id) == proposal.id, col(Proposal.status) == "endorsed")
            .values(status="announced", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(proposal)
        _record(session, proposal, SYSTEM, "endorsed", "announced", "")
        _remind(session, proposal.id, "transition_plan_due", now + plan_after)


# ---- moves held for confirmation, and the proposal a checklist made --------------------------

CONFIRM_WITHIN = timedelta(hours=24)  # an older Confirm button is stale


def hold(
    session: Session, identity: str, proposal_id: int, move: str, cluster: str, note: str
) -> PendingMove:
    """Keep a checked move aside until the person who asked confirms it (the button's id)."""
    pending = PendingMove(
        identity=identity, proposal_id=proposal_id, move=move, cluster=cluster, note=note[:4000]
    )
    session.add(pending)
    session.flush()
    return pending


def take_held(session: Session, pending_id: int, identity: str) -> PendingMove | None:
    """The move `identity` asked for within CONFIRM_WITHIN, no longer held; None if stale."""
    pending = session.get(PendingMove, pending_id)
    if (
        pending is None
        or pending.identity != identity
        or utcnow() - pending.created_at > CONFIRM_WITHIN
    ):
        return None
    session.delete(pending)
    return pending


# A typed "yes" confirms only a move asked for this recently: the button stays good longer.
CONFIRM_TYPED_WITHIN = timedelta(hours=1)


def last_held(session: Session, identity: str) -> PendingMove | None:
    """The newest move `identity` asked for within CONFIRM_TYPED_WITHIN, still held."""
    since = utcnow() - CONFIRM_TYPED_WITHIN
    return session.exec(
        select(PendingMove)
        .where(PendingMove.identity == identity, col(PendingMove.created_at) >= since)
        .order_by(col(PendingMove.id).desc())
    ).first()


def made_from(session: Session, checklist_id: int | None) -> Proposal | None:
    """The proposal a finished checklist made, if it made one (one checklist, one proposal)."""
    return session.exec(select(Proposal).where(Proposal.checklist_id == checklist_id)).first()


def last_checklist(session: Session, identity: str, chat: str) -> ChecklistRun | None:
    """The person's latest finished checklist in this chat, the one /propose alone proposes."""
    return session.exec(
        select(ChecklistRun)
        .where(
            ChecklistRun.identity == identity,
            ChecklistRun.chat == chat,
            ChecklistRun.status == "done",
        )
        .order_by(col(ChecklistRun.id).desc())
    ).first()


def recent_activations(session: Session, limit: int) -> list[Proposal]:
    """The latest endorsed (or announced) proposals, newest first."""
    return list(
        session.exec(
            select(Proposal)
            .where(col(Proposal.status).in_(LIVE))
            .order_by(col(Proposal.endorsed_at).desc())
            .limit(limit)
        ).all()
    )


def open_checklists(session: Session, identity: str) -> int:
    """How many checklists the person has open or paused (in any chat)."""
    return len(
        session.exec(
            select(ChecklistRun.id).where(
                ChecklistRun.identity == identity, col(ChecklistRun.status).in_(OPEN_STATES)
            )
        ).all()
    )
