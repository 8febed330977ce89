"""Activation proposals in chat: create, show, list, and move them, each move confirmed."""

from dataclasses import replace
from typing import Any

from bot.core import Context, Incoming, Reply, Router, split_command
from bot.domain import proposals, roles, verification
from bot.domain.conversation import last_subject
from bot.domain.proposals import Refused
from bot.models import ROLES, ChecklistRun, Proposal
from bot.terms import MoveName
from handlers.common import (
    N_,
    active_records,
    agency_label,
    choice,
    country_name,
    reply,
    sector_label,
    unknown_words,
)
from knowledge.checklist import Answers, just_agency, verdict

router = Router()

MOVE_LABELS = {
    "submit": N_("Submit to the ERC"),
    "forward": N_("Forward to the Principals"),
    "endorse": N_("Record the endorsement"),
}


def _number(text: str) -> tuple[int | None, str]:
    """`#12 rest` or `12 rest` -> (12, "rest")."""
    head, _, rest = text.partition(" ")
    head = head.lstrip("#")
    return (int(head), rest.strip()) if head.isdecimal() and len(head) < 10 else (None, text)


def _cluster_name(ctx: Context, cluster: str) -> str:
    """A cluster's name in the reply's language (its id is no word for people)."""
    return sector_label(ctx, cluster)["name"] if cluster in ctx.kb.sectors else cluster


def _refused(ctx: Context, exc: Refused) -> Reply:
    details = dict(exc.details)
    if exc.reason == "lead_depends":
        # Each global lead with the kind of emergency it leads in, and how to name one.
        words = ctx.kb.text(ctx.lang)
        details["options"] = [
            {
                "agency": agency_label(ctx, o["agency"])["acronym"],
                "when": words.conditions[o["when"]] if o["when"] else "",
                "role_label": words.roles[o["role"]],
            }
            for o in details["options"]
        ]
        details["example"] = f"{details['cluster']}={details['options'][-1]['agency']}"
    for key in ("cluster", "aor", "parent"):  # ids become names in the reply's language
        value = str(details.get(key) or "")
        details[key] = _cluster_name(ctx, value) if value in ctx.kb.sectors else ""
    return reply(ctx, "proposals/refused.j2", reason=exc.reason, **details)


def _shown(ctx: Context, proposal: Proposal, template: str = "proposals/show.j2") -> Reply:
    """The proposal, with a button for each move this person may make now."""
    data: dict[str, Any] = proposals.view(ctx.session, ctx.kb, proposal, ctx.lang)
    buttons = []
    for move, label in MOVE_LABELS.items():
        try:
            proposals.check(ctx.session, data["id"], ctx.user, move)
        except Refused:
            continue
        buttons.append(choice(ctx, label, f"prop:ask:{data['id']}:{move}"))
    return replace(reply(ctx, template, **data), choices=tuple(buttons))


# The other proposals a new draft's warning names (the oldest first); the rest are counted.
OTHERS_SHOWN = 5


def _created(ctx: Context, proposal: Proposal) -> Reply:
    """A new draft, with what may make it one too many: clusters active already, or proposed."""
    assert proposal.id is not None
    clusters = [c.cluster for c in proposals.clusters_of(ctx.session, proposal.id)]
    active = active_records(ctx, proposal.country, clusters)
    others = [
        {"id": other.id, "status": other.status, "cluster": _cluster_name(ctx, c)}
        for other, c in proposals.also_proposing(ctx.session, proposal)
    ]
    shown = _shown(ctx, proposal, "proposals/created.j2")
    data = {
        **shown.data,
        "active_already": active,
        "also_proposed": others[:OTHERS_SHOWN],
        "also_more": len(others[OTHERS_SHOWN:]),
    }
    return replace(shown, data=data)


@router.command(
    "proposals", shareable=True, menu=N_("activation proposals and their status"), menu_at=70
)
def list_proposals(msg: Incoming, ctx: Context) -> Reply:
    """`/proposals [country]`: newest first."""
    country = ctx.understanding.country
    rows = [
        proposals.view(ctx.session, ctx.kb, p, ctx.lang)
        for p in proposals.listing(ctx.session, country)[:20]
    ]
    name = country_name(ctx, country) if country else ""
    return reply(ctx, "proposals/list.j2", proposals=rows, country=name)


@router.command("proposal", shareable=True)
def show_proposal(msg: Incoming, ctx: Context) -> Reply:
    """`/proposal 12`: one proposal and its history."""
    number, _ = _number(msg.args)
    if number is None:
        return reply(ctx, "proposals/usage.j2")
    try:
        return _shown(ctx, proposals.get(ctx.session, number))
    except Refused as exc:
        return _refused(ctx, exc)


def _leads(ctx: Context, text: str) -> tuple[str, dict[str, tuple[str, str]], list[str]]:
    """`health=IOM` or `shelter=UNHCR/Danish Refugee Council`: a cluster's lead (and co-lead).

    A name runs on to the next `cluster=`, less the clusters named alone at its end
    ("health=WHO wash": WHO leads health, and wash is proposed too); a cluster's word inside
    a name stays in it ("International Medical Corps"). Returns the text without these, the
    leads by cluster, and what looked like a lead but named no cluster (Refused when one
    cluster is given two). An agency we know is kept by its id; any other name as written.
    """
    tokens = text.split()
    plain: list[str] = []
    found: dict[str, tuple[str, str]] = {}
    bad: list[str] = []
    i = 0
    while i < len(tokens):
        key, sep, value = tokens[i].partition("=")
        i += 1
        if not sep:
            plain.append(key)
            continue
        parts = [value] if value else []
        while i < len(tokens) and "=" not in tokens[i]:
            parts.append(tokens[i])
            i += 1
        named_alone: list[str] = []
        while len(parts) > 1 and _a_cluster(ctx, parts[-1]):
            named_alone.insert(0, parts.pop())
        plain += named_alone
        cluster = ctx.kb.matcher.find_sector(key) if key else None
        lead, _, co_lead = " ".join(parts).partition("/")
        if (
            not cluster
            or ctx.kb.sectors[cluster].kind != "cluster"
            or not lead.strip()
            or "/" in co_lead
        ):
            bad.append(f"{key}={' '.join(parts)}")
            continue
        if cluster in found:  # "fsc=WFP fsc=FAO": two leads, neither kept without a word
            raise Refused("lead_twice", cluster=cluster)
        found[cluster] = (_agency(ctx, lead), _agency(ctx, co_lead) if co_lead.strip() else "")
    return " ".join(plain), found, bad


def _a_cluster(ctx: Context, word: str) -> bool:
    """Whether `word` alone names a cluster ("health"), so a lead's name stops before it."""
    found = ctx.kb.matcher.find_sector(word)
    return found is not None and ctx.kb.sectors[found].kind == "cluster"


def _not_understood(ctx: Context, text: str) -> Refused | None:
    """Why `/propose` words cannot make the proposal asked for, if they cannot.

    A word dropped would make another proposal than the one asked for: an unknown country
    or cluster, a second country, an Area of Responsibility (never proposed on its own).
    """
    e = ctx.kb.matcher.entities(text)
    unknown = unknown_words(ctx, text)
    if unknown:
        return Refused("unknown_words", words=unknown)
    if len(e.countries) > 1:
        return Refused("one_country", countries=[country_name(ctx, c) for c in e.countries])
    # An AoR named beside its own cluster ("protection, child protection") is that cluster.
    aors = [
        s
        for s in e.sectors
        if ctx.kb.sectors[s].kind != "cluster" and ctx.kb.sectors[s].parent not in e.sectors
    ]
    if aors:
        parent = ctx.kb.sectors[aors[0]].parent or ""
        return Refused("aor", aor=aors[0], parent=parent)
    return None


def _agency(ctx: Context, name: str) -> str:
    """An agency we know by its id, when the name is that agency and nothing else.

    "IOM" and "the UNHCR" are kept by id; "Save the Children International" as written.
    """
    return str(ctx.kb.matcher.find_agency(name) if just_agency(ctx.kb, name) else name.strip())


@router.command("propose")
def propose(msg: Incoming, ctx: Context) -> Reply:
    """`/propose Sudan health nutrition shelter=IOM/NRC`, or alone after a finished checklist.

    A cluster named alone gets its global lead; `cluster=LEAD/CO-LEAD` proposes others.
    """
    if not msg.args:
        run = proposals.last_checklist(ctx.session, msg.identity, msg.chat)
        return _from_checklist(ctx, run) if run else reply(ctx, "proposals/usage.j2")
    try:
        plain, named, bad = _leads(ctx, msg.args)
    except Refused as exc:
        return _refused(ctx, exc)
    if bad:
        return _refused(ctx, Refused("bad_lead", words=", ".join(bad)))
    wrong = _not_understood(ctx, plain)
    if wrong:
        return _refused(ctx, wrong)
    e = ctx.kb.matcher.entities(plain)
    clusters = {s: ("", "") for s in e.sectors if ctx.kb.sectors[s].kind == "cluster"}
    clusters.update(named)
    country = e.countries[0] if e.countries else ""
    try:
        created = proposals.create(ctx.session, ctx.kb, ctx.user, country, clusters)
    except Refused as exc:
        return _refused(ctx, exc)
    return _created(ctx, created)


@router.action(
    "prop",
    r"prop:ask:(?P<proposal>\d+):(?P<move>[^:]*)",
    r"prop:(?P<decision>ok|no):(?P<pending>\d+)",
    r"prop:chk:(?P<run>\d+)",
)
def proposal_button(msg: Incoming, ctx: Context) -> Reply:
    """`prop:ask:<id>:<move>`, `prop:ok:<pending>`, `prop:no:<pending>`, `prop:chk:<run>`."""
    pressed = ctx.pressed or {}
    try:
        if "move" in pressed:
            return _confirm(msg, ctx, int(pressed["proposal"]), pressed["move"], "", "")
        if "decision" in pressed:
            return _decide(msg, ctx, int(pressed["pending"]), pressed["decision"] == "ok")
        if "run" in pressed:
            run = ctx.session.get(ChecklistRun, int(pressed["run"]))
            if run and run.identity == msg.identity and run.status == "done":
                return _from_checklist(ctx, run)
    except Refused as exc:
        return _refused(ctx, exc)
    return _refused(ctx, Refused("stale"))


def _from_checklist(ctx: Context, run: ChecklistRun) -> Reply:
    """A draft from a finished checklist: its country, clusters, leads and what happened.

    One checklist makes one proposal: asking again (or a double press) shows the one it made.
    """
    made = proposals.made_from(ctx.session, run.id)
    if made is not None:
        return _shown(ctx, made)
    a = Answers(run.answers)
    code = a.country().get("code")
    clusters = {}
    for c in a.clusters():
        if verdict(a.stored, c).outcome != "met":
            continue  # as in the draft letter: only clusters whose criteria are met
        if a.undecided(f"lead:{c}"):
            # "not sure", "tbd": the letter keeps a place for the lead; the proposal would
            # otherwise hold the global one, which nobody chose.
            return _refused(ctx, Refused("lead_undecided", cluster=c))
        clusters[c] = a.leads(ctx.kb, c)  # as the letter says
    if not clusters:
        return _refused(ctx, Refused("none_met"))
    what, why = a.text("emergency"), a.note("change")
    try:
        created = proposals.create(
            ctx.session,
            ctx.kb,
            ctx.user,
            code or "",
            clusters,
            response=str(what),
            justification=str(why),
            checklist_id=run.id,
        )
    except Refused as exc:
        return _refused(ctx, exc)
    return _created(ctx, created)


def _move_command(msg: Incoming, ctx: Context, move: str, with_cluster: bool = False) -> Reply:
    number, rest = _number(msg.args)
    if number is None:
        return reply(ctx, "proposals/usage.j2")
    cluster = ""
    if with_cluster:
        word, _, rest = rest.partition(" ")
        found = ctx.kb.matcher.find_sector(word)
        cluster = str(found) if found else word
    try:
        return _confirm(msg, ctx, number, move, rest.strip(), cluster)
    except Refused as exc:
        return _refused(ctx, exc)


# Each chat command that makes a move: the move, and whether it names a cluster.
#   /submit 12 [note]       the RC/HC sends the proposal to the ERC
#   /forward 12             the ERC sends it to the IASC Principals
#   /endorse 12             the ERC records the Principals' endorsement
#   /return 12 feedback     back to the proposer, who may submit again
#   /plan 12 health plan... one cluster's deactivation is planned
#   /deactivate 12 health   one cluster is deactivated
MOVE_COMMANDS: dict[str, tuple[MoveName, bool]] = {
    "submit": (MoveName.SUBMIT, False),
    "forward": (MoveName.FORWARD, False),
    "endorse": (MoveName.ENDORSE, False),
    "return": (MoveName.RETURN, False),
    "plan": (MoveName.PLAN_DEACTIVATION, True),
    "deactivate": (MoveName.DEACTIVATE, True),
}


@router.command(*MOVE_COMMANDS)
def move_command(msg: Incoming, ctx: Context) -> Reply:
    """`/submit 12`, `/forward 12`, ..., `/deactivate 12 health`: a move, confirmed by a button."""
    command = split_command(msg.text)
    move, with_cluster = MOVE_COMMANDS[command[0] if command else ""]
    return _move_command(msg, ctx, move, with_cluster=with_cluster)


def _confirm(
    msg: Incoming, ctx: Context, number: int, move: str, note: str, cluster: str
) -> Reply:
    """Check the move now, keep it aside, and ask the person to confirm it."""
    proposal, checked = proposals.check(ctx.session, number, ctx.user, move, cluster)
    if checked.needs_note and not note:
        raise Refused("note_needed", move=move)
    pending = proposals.hold(ctx.session, msg.identity, number, move, cluster, note)
    name = country_name(ctx, proposal.country)
    r = reply(
        ctx,
        "proposals/confirm.j2",
        id=number,
        move=move,
        country=name,
        note=note,
        cluster=_cluster_name(ctx, cluster),
    )
    buttons = (
        choice(ctx, N_("Confirm"), f"prop:ok:{pending.id}"),
        choice(ctx, N_("Cancel"), f"prop:no:{pending.id}"),
    )
    return replace(r, choices=buttons)


@router.conversation
def typed_confirmation(msg: Incoming, ctx: Context) -> Reply | None:
    """A typed "yes" or "no" (in any language) to "Please confirm": Confirm or Cancel pressed.

    Only a message that is nothing but that answer ("yes please", "non", "ايوه"), and only
    for the person's newest move held within the hour; anything else goes on as usual.
    """
    if msg.action or ctx.new_user or split_command(msg.text):
        return None
    words = ctx.kb.checklist_words
    group, _, rest = words.opening(msg.text, ("yes", "no"))
    if group is None or (rest and not words.made_of(rest, (group, "polite", "filler"))):
        return None
    pending = proposals.last_held(ctx.session, msg.identity)
    if pending is None or pending.id is None:
        return None
    try:
        return _decide(msg, ctx, pending.id, group == "yes")
    except Refused as exc:
        return _refused(ctx, exc)


def _decide(msg: Incoming, ctx: Context, pending_id: int, confirmed: bool) -> Reply:
    """Carry out (or drop) a move the same person asked for within the last day."""
    pending = proposals.take_held(ctx.session, pending_id, msg.identity)
    if pending is None:
        raise Refused("stale")
    if not confirmed:
        return reply(ctx, "proposals/cancelled.j2")
    proposal = proposals.apply(
        ctx.session,
        ctx.kb,
        pending.proposal_id,
        ctx.user,
        pending.move,
        pending.note,
        pending.cluster,
    )
    assert proposal.id is not None
    if pending.cluster:  # a move of one cluster: what it did to that cluster, not the proposal
        return _cluster_moved(ctx, proposal, pending.cluster)
    kind = {"submit": "submitted", "return": "returned", "endorse": "endorsed"}.get(pending.move)
    told = proposals.told(ctx.session, proposal.id, kind) if kind else None
    return reply(
        ctx,
        "proposals/moved.j2",
        id=proposal.id,
        status=proposal.status,
        people_told=told.people if told else 0,
        partners_told=told.partners if told else 0,
    )


def _cluster_word(ctx: Context, cluster: str) -> str:
    """The cluster as a move command reads it, one word: "wash", "early_recovery"."""
    short = ctx.kb.text("en").sectors[cluster].short
    return short.casefold() if " " not in short else cluster


def _cluster_moved(ctx: Context, proposal: Proposal, cluster: str) -> Reply:
    """One cluster's new state, and whether the country records still hold it, as they are."""
    rows = proposals.clusters_of(ctx.session, proposal.id or 0)
    row = next(c for c in rows if c.cluster == cluster)
    record = verification.find(ctx.session, proposal.country, cluster)
    return reply(
        ctx,
        "proposals/cluster_moved.j2",
        id=proposal.id,
        status=row.status,
        cluster=_cluster_name(ctx, cluster),
        cluster_word=_cluster_word(ctx, cluster),
        country=country_name(ctx, proposal.country),
        kept=record.source if record is not None else "",
        others=len(rows) - 1,
    )


@router.command("whoami", menu=N_("who you are to the bot, and your role"), menu_at=80)
def whoami(msg: Incoming, ctx: Context) -> Reply:
    """`/whoami`: the identity an admin passes to `clusterbot users grant`, and the role."""
    return reply(ctx, "proposals/whoami.j2", identity=msg.identity, role=ctx.user.role)


@router.command("role")
def my_role(msg: Incoming, ctx: Context) -> Reply:
    """`/role`: what this person may do."""
    return reply(ctx, "proposals/role.j2", role=ctx.user.role, granted="")


def _own_language(msg: Incoming, ctx: Context) -> str:
    """The person's language, leaving out what the command's arguments look like."""
    before = (last_subject(ctx.session, msg.identity, msg.chat) or {}).get("lang")
    hint = (msg.locale or "").replace("_", "-").split("-")[0].casefold()
    for code in (msg.lang, ctx.user.lang, before, ctx.user.reply_lang, hint):
        if code and code in ctx.kb.languages:
            return str(code)
    return ctx.lang if ctx.understanding.lang is None else "en"


@router.command("grant")
def grant(msg: Incoming, ctx: Context) -> Reply:
    """`/grant IDENTITY ROLE` (admins only)."""
    # An identity and a role word are in no language: the reply is in the person's own.
    ctx.lang = _own_language(msg, ctx)
    identity, _, role = msg.args.strip().partition(" ")
    role = role.strip().casefold()
    try:
        roles.check_identity(identity)
    except ValueError:
        return reply(ctx, "proposals/grant_usage.j2", identity=identity, roles=ROLES)
    if role not in ROLES:
        return reply(ctx, "proposals/grant_usage.j2", identity="", roles=ROLES)
    try:
        roles.grant(ctx.session, identity, role, by=ctx.user)
    except roles.NotAllowed as exc:
        return _refused(ctx, Refused("not_allowed", move="grant", roles=list(exc.roles)))
    return reply(ctx, "proposals/role.j2", role=role, granted=identity)
