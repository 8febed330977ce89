"""The shell side of the workflow: `clusterbot users|proposals|subscriptions|records ...`.

It calls the same functions as the chat commands (bot.domain: proposals, roles, subscriptions,
verification), so a rule is enforced once. Scripts depend on the output: a created proposal
prints its id alone on stdout, `--json` prints JSON, and a refused move exits with status 1 and
the reason on stderr. Every message says what happened and what to do next; the next step goes
to stderr where stdout is for scripts (the id of a new proposal or subscription).
"""

import argparse
import json
import sys
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.core import ADDRESSES
from bot.db import make_engine, session_scope, upgrade
from bot.domain import proposals, roles, subscriptions, verification
from bot.models import CountryCluster, Proposal, utcnow
from bot.render import renderer_for
from bot.settings import Settings
from knowledge import KnowledgeBase, load


def run_workflow(settings: Settings, command: str, args: argparse.Namespace) -> int:
    """Carry out one workflow command; 0 on success, 1 when refused, 2 on bad input."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    kb = load()
    try:
        with session_scope(engine) as session:
            if command == "users":
                return _users(session, args)
            if command == "subscriptions":
                return _subscriptions(session, kb, args)
            if command == "records":
                return _records(session, kb, args, timedelta(days=settings.record_max_age_days))
            return _proposals(session, kb, args)
    except proposals.Refused as exc:
        print(f"refused: {_cluster_refusal(kb, exc, args) or _explain(exc, kb)}", file=sys.stderr)
        hint = _after_refusal(exc, args)
        if hint:
            print(hint, file=sys.stderr)
        return 1
    except roles.NotAllowed as exc:
        print(f"refused: {exc}.", file=sys.stderr)
        print("An admin grants a role with: clusterbot users grant IDENTITY ROLE", file=sys.stderr)
        return 1
    except verification.Unknown as exc:
        print(f"error: {exc}; nothing changed.", file=sys.stderr)
        print(
            "Write the lead as the agency is known, or, if it is right as written, run the "
            "command again with --allow-unknown-agency.",
            file=sys.stderr,
        )
        return 2
    except (ValueError, subscriptions.BadTarget) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _explain(exc: proposals.Refused, kb: KnowledgeBase) -> str:
    """The refusal in the words the chat uses (English)."""
    from bot.core import Reply

    renderer = renderer_for(("en",))
    data = {"reason": exc.reason, **exc.details}
    words = kb.text("en")
    if exc.reason == "lead_depends":
        data["options"] = [
            {
                "agency": words.agencies[o["agency"]].short,
                "when": words.conditions[o["when"]] if o["when"] else "",
                "role_label": words.roles[o["role"]],
            }
            for o in exc.details["options"]
        ]
        data["example"] = f"--lead {data['cluster']}={data['options'][-1]['agency']}"
    if data.get("cluster") in kb.sectors:
        data["cluster"] = kb.text("en").sectors[str(data["cluster"])].name
    return renderer.plain(Reply("proposals/refused.j2", data, "en", "refused")).strip()


def _cluster_refusal(kb: KnowledgeBase, exc: proposals.Refused, args: argparse.Namespace) -> str:
    """A per-cluster move refused for the cluster's state: say it is the cluster's."""
    cluster = getattr(args, "cluster", None)
    if exc.reason != "wrong_state" or "cluster" not in exc.details or not isinstance(cluster, str):
        return ""
    name = kb.text("en").sectors[_cluster(kb, cluster)].short
    state = {"deactivation_planned": "already planned for deactivation"}.get(
        exc.details["status"], exc.details["status"]
    )
    verb = {"deactivate": "deactivated"}.get(args.action, "planned for deactivation")
    return f"{name} in proposal #{exc.details['id']} is {state}, so it cannot be {verb}."


def _after_refusal(exc: proposals.Refused, args: argparse.Namespace) -> str:
    """What to do about a refusal, in shell commands."""
    pid = exc.details.get("id", "ID")
    if exc.reason == "wrong_state" and exc.details.get("status") == "active":
        return (
            "Plan it first, with its transition plan: clusterbot proposals plan-deactivation "
            f"{pid} --cluster {args.cluster} --note PLAN --as IDENTITY"
        )
    return {
        "not_allowed": "An admin grants a role with: clusterbot users grant IDENTITY ROLE",
        "not_found": "clusterbot proposals list shows the proposals there are.",
        "wrong_state": f"See where it stands and what was done: clusterbot proposals show {pid}",
        "note_needed": "Give it with --note TEXT.",
        "cluster_not_in_proposal": f"clusterbot proposals show {pid} lists its clusters.",
        "colead_is_lead": "Give another organisation as --co-lead, or leave --co-lead out.",
        "lead_depends": "Or say what happened with --response, e.g. --response 'floods' or "
        "--response 'fighting displaced thousands', and its kind of emergency decides.",
        "unknown_agency": "Write it as the agency is known, or, if it is right as written, run "
        "the command again with --allow-unknown-agency.",
    }.get(exc.reason, "")


def _may(role: str) -> str:
    """What a role may do, from the rules in bot.domain.proposals."""
    if role == "admin":
        return "they may do everything, including granting roles"
    moves = ["create proposals"] if role in proposals.CREATE_ROLES else []
    if role in verification.VERIFY_ROLES:
        moves.append("confirm or correct country records")
    words = {
        "submit": "submit proposals to the ERC",
        "forward": "forward proposals to the IASC Principals",
        "endorse": "record the Principals' endorsement",
        "return": "return proposals with feedback",
        "plan_deactivation": "plan a cluster's deactivation",
        "deactivate": "deactivate a cluster",
    }
    moves += [words[m.name] for m in proposals.MOVES.values() if role in m.roles]
    if not moves:
        return "they may read proposals and subscribe their chats, nothing more"
    return "they may " + ", ".join(moves[:-1]) + (" and " if len(moves) > 1 else "") + moves[-1]


def _users(session: Session, args: argparse.Namespace) -> int:
    if args.action == "grant":
        user = roles.grant(session, roles.check_identity(args.identity), args.role)
        print(f"{user.identity} is now {user.role}: {_may(user.role)}.")
        print("clusterbot users list shows everyone's role.")
        return 0
    for user in roles.everyone(session):
        print(f"{user.identity}\t{user.role}")
    return 0


def _country(kb: KnowledgeBase, text: str) -> str:
    code = text.upper() if len(text) == 2 and text.isalpha() else kb.matcher.find_country(text)
    if not code:
        raise ValueError(
            f"{kb.matcher.which_country(text) or f'no country called {text!r}'}; give its name "
            "in English, French, Spanish, Chinese or Arabic, or its ISO code (e.g. SD)"
        )
    return str(code)


def _cluster(kb: KnowledgeBase, text: str) -> str:
    if text in kb.sectors:
        return text
    found = kb.matcher.find_sector(text)
    if not found:
        names = ", ".join(kb.text("en").sectors[s.id].short for s in kb.clusters)
        raise ValueError(f"no cluster called {text!r}; the clusters are: {names}")
    return str(found)


def _agencies(kb: KnowledgeBase, pairs: list[str]) -> dict[str, str]:
    """`K=AGENCY` pairs; an agency we know is stored by its id, any other name as given."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, agency = pair.partition("=")
        if not sep or not agency.strip():
            raise ValueError(f"{pair!r}: expected CLUSTER=AGENCY, e.g. health=WHO")
        cluster = _cluster(kb, key.strip())
        if cluster in found:
            raise ValueError(f"{pair!r}: {key.strip()} is given an agency twice; give it once")
        found[cluster] = kb.matcher.find_agency(agency) or agency.strip()
    return found


def _agencies_for(
    kb: KnowledgeBase, option: str, pairs: list[str], clusters: list[str]
) -> dict[str, str]:
    """`--lead`/`--co-lead` pairs, each for one of the proposal's clusters."""
    found = _agencies(kb, pairs)
    words = kb.text("en").sectors
    for cluster in found:
        if cluster not in clusters:
            named = ", ".join(words[c].short for c in clusters)
            raise ValueError(
                f"{option} names {words[cluster].short}, which is not among this proposal's "
                f"clusters ({named}); add --cluster {cluster}, or correct the {option}"
            )
    return found


def _proposals(session: Session, kb: KnowledgeBase, args: argparse.Namespace) -> int:
    if args.action == "create":
        actor = roles.user(session, roles.check_identity(args.actor))
        code = _country(kb, args.country)
        wanted = list(dict.fromkeys(_cluster(kb, text) for text in args.cluster))
        leads = _agencies_for(kb, "--lead", args.lead, wanted)
        co_leads = _agencies_for(kb, "--co-lead", args.co_lead, wanted)
        clusters = {c: (leads.get(c, ""), co_leads.get(c, "")) for c in wanted}
        proposal = proposals.create(
            session,
            kb,
            actor,
            code,
            clusters,
            response=args.response,
            justification=args.justification,
            allow_unknown_agency=args.allow_unknown_agency,
        )
        print(proposal.id)
        view = proposals.view(session, kb, proposal, "en")
        names = ", ".join(
            f"{c['short']} ({c['lead']['acronym']}"
            + (f", co-lead {c['co_lead']['acronym']})" if c["co_lead"] else ")")
            for c in view["clusters"]
        )
        print(
            f"Draft proposal #{proposal.id} for {view['country']['name']}: {names}. Next, the "
            f"RC/HC submits it to the ERC: clusterbot proposals submit {proposal.id} "
            "--as IDENTITY",
            file=sys.stderr,
        )
        return 0
    if args.action == "show":
        data = proposals.view(session, kb, proposals.get(session, args.id), "en")
        _print(data, args.json, "proposals/show.j2")
        return 0
    if args.action == "list":
        country = _country(kb, args.country) if args.country else None
        rows = [proposals.view(session, kb, p, "en") for p in proposals.listing(session, country)]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
        else:
            for row in rows:
                names = ", ".join(c["short"] for c in row["clusters"])
                print(f"#{row['id']}\t{row['status']}\t{row['country']['name']}\t{names}")
            if not rows:
                print("no proposals yet; clusterbot proposals create makes one", file=sys.stderr)
        return 0
    actor = roles.user(session, roles.check_identity(args.actor))
    move = args.action.replace("-", "_")
    cluster = _cluster(kb, args.cluster) if getattr(args, "cluster", None) else ""
    proposal = proposals.apply(session, kb, args.id, actor, move, args.note, cluster)
    print(_after_move(session, kb, proposal, move, cluster))
    return 0


def _after_move(
    session: Session, kb: KnowledgeBase, proposal: Proposal, move: str, cluster: str
) -> str:
    """What the move did, truly, and the next step, as shell commands."""
    pid = proposal.id
    country = kb.matcher.country_name(proposal.country, "en")
    if move in ("plan_deactivation", "deactivate"):
        name = kb.text("en").sectors[cluster].short
        if move == "plan_deactivation":
            return (
                f"#{pid}: the deactivation of {name} is planned and its transition plan recorded; "
                f"{name} stays active until it is deactivated, and the proposal stays "
                f"{proposal.status}. Next, the RC/HC: clusterbot proposals deactivate {pid} "
                f"--cluster {cluster} --as IDENTITY"
            )
        kept = verification.find(session, proposal.country, cluster)
        records = (
            f"its country record comes from elsewhere ({kept.source}), so it is kept"
            if kept is not None
            else "it is no longer in the country records"
        )
        others = len(proposals.clusters_of(session, pid or 0)) - 1
        rest = (
            f"the proposal's other clusters are unchanged (it stays {proposal.status}). "
            f"clusterbot proposals show {pid} shows them."
            if others
            else f"the proposal stays {proposal.status}."
        )
        return f"#{pid}: {name} in {country} is deactivated, and {records}; {rest}"
    if move == "submit":
        # Who is told is what the outbox holds, not who holds the role: an ERC with no chat
        # identity the bot reaches (a terminal user) cannot be told.
        queued = proposals.told(session, pid or 0, "submitted").people
        erc = len(roles.holders(session, "erc"))
        if queued:
            told = (
                f"{queued} notice{'s are' if queued != 1 else ' is'} queued for the ERC, and a "
                "reminder in 24 hours if it is not forwarded"
            )
        elif erc:
            told = (
                "nobody is told: no ERC role holder has a chat identity the bot can reach "
                f"(clusterbot users grant IDENTITY erc, IDENTITY one of: {_person_forms()})"
            )
        else:
            told = (
                "nobody holds the ERC role yet, so nobody is told: clusterbot users grant "
                "IDENTITY erc"
            )
        return (
            f"#{pid} is now submitted to the ERC; {told}. Next, the ERC: clusterbot proposals "
            f"forward {pid} --as IDENTITY (or return {pid} --note FEEDBACK --as IDENTITY)"
        )
    if move == "forward":
        return (
            f"#{pid} is now forwarded to the IASC Principals. Next, once they endorse it, the "
            f"ERC: clusterbot proposals endorse {pid} --as IDENTITY (or return {pid} --note "
            "FEEDBACK --as IDENTITY)"
        )
    if move == "endorse":
        notices = proposals.told(session, pid or 0, "endorsed")
        people = (
            "the proposer is told"
            if notices.people
            else "the proposer has no chat identity the bot can reach, so is not told"
        )
        partners = notices.partners
        return (
            f"#{pid} is now endorsed: the country records for {country} show its leads; "
            f"{partners} partner notification{'s are' if partners != 1 else ' is'} "
            f"in the outbox, and {people}. Next: clusterbot dispatch --once delivers them; the "
            "proposal is announced once none is pending."
        )
    told = (
        "its proposer is told"
        if proposals.told(session, pid or 0, "returned").people
        else "its proposer has no chat identity the bot can reach, so nobody is told"
    )
    return (
        f"#{pid} is now returned with feedback, and {told}. Next, the RC/HC corrects it and "
        f"submits it again: clusterbot proposals submit {pid} --as IDENTITY"
    )


def _person_forms() -> str:
    """How a person who can be told is written, on every platform that has people."""
    return ", ".join(f for f in ADDRESSES.person_forms() if not f.startswith("console:"))


def _print(data: dict[str, Any], as_json: bool, template: str) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return
    from bot.core import Reply

    print(renderer_for(("en",)).plain(Reply(template, data, "en", "show")).strip())


def _subscriptions(session: Session, kb: KnowledgeBase, args: argparse.Namespace) -> int:
    if args.action == "add":
        country = _country(kb, args.country) if args.country else None
        clusters = [_cluster(kb, c) for c in args.cluster]
        for c in clusters:
            sector = kb.sectors[c]
            if sector.kind != "cluster" and sector.parent:  # never endorsed on its own
                parent = kb.text("en").sectors[sector.parent].short
                raise ValueError(
                    f"{kb.text('en').sectors[c].name} is an Area of Responsibility of "
                    f"{parent}: activations are endorsed for clusters; use --cluster {parent}"
                )
        sub, new = subscriptions.add(
            session, args.target, country, clusters, args.lang, "console:shell"
        )
        print(f"{sub.id}" if new else f"{sub.id} (already subscribed)")
        where = kb.matcher.country_name(country, "en") if country else "every country"
        which = ", ".join(kb.text("en").sectors[c].short for c in clusters) or "every cluster"
        print(
            f"Subscription {sub.id}: {sub.target} hears of endorsed activations in {where} "
            f"({which}), in {kb.text(args.lang).name}; notifications go out with clusterbot "
            "dispatch. "
            f"clusterbot subscriptions remove {sub.id} ends it.",
            file=sys.stderr,
        )
        return 0
    if args.action == "remove":
        if not subscriptions.remove(session, args.id):
            print(
                f"error: there is no subscription {args.id}; clusterbot subscriptions list "
                "shows them",
                file=sys.stderr,
            )
            return 2
        print(f"subscription {args.id} ended: it hears of nothing more")
        return 0
    for sub in subscriptions.everything(session):
        state = "active" if sub.active else f"inactive: {sub.inactive_reason}"
        print(
            f"{sub.id}\t{sub.target}\t{sub.country or '*'}\t"
            f"{','.join(sub.clusters) or '*'}\t{sub.lang}\t{state}"
        )
    return 0


def _record_line(
    session: Session, kb: KnowledgeBase, record: CountryCluster, max_age: timedelta
) -> dict[str, Any]:
    fresh = verification.view(session, record, "en", utcnow(), max_age)
    return {
        "country": record.country,
        "cluster": record.cluster,
        "lead": record.lead,
        "co_lead": record.co_lead,
        "origin": record.origin,
        "confirmed_by": record.confirmed_by,
        "confirmed_at": record.confirmed_at.isoformat() if record.confirmed_at else "",
        "as_of": fresh["as_of_iso"],
        "stale": fresh["stale"],
    }


def _records(
    session: Session, kb: KnowledgeBase, args: argparse.Namespace, max_age: timedelta
) -> int:
    """`records verify` (confirm, or correct with --lead) and `records list [--stale]`."""
    if args.action == "list":
        country = _country(kb, args.country) if args.country else None
        now = utcnow()
        if args.stale:
            rows = verification.stale_records(session, now, max_age, country)
        else:
            query = select(CountryCluster).order_by(
                col(CountryCluster.country), col(CountryCluster.cluster)
            )
            if country:
                query = query.where(CountryCluster.country == country)
            rows = list(session.exec(query).all())
        lines = [_record_line(session, kb, r, max_age) for r in rows]
        if args.json:
            print(json.dumps(lines, ensure_ascii=False))
            return 0
        for line in lines:
            mark = "\tPOSSIBLY OUT OF DATE" if line["stale"] else ""
            print(
                f"{line['country']}\t{line['cluster']}\t{line['lead']}\t"
                f"as of {line['as_of']}\t{line['confirmed_by'] or 'never confirmed'}{mark}"
            )
        if not lines:
            what = f"older than {max_age.days} days" if args.stale else "yet"
            print(f"no country records {what}", file=sys.stderr)
        return 0
    actor = roles.user(session, roles.check_identity(args.actor))
    code = _country(kb, args.country)
    cluster = _cluster(kb, args.cluster)
    if args.co_lead is not None and args.lead is None:
        raise ValueError("--co-lead goes with --lead (the corrected record); give both")
    name = f"{kb.text('en').sectors[cluster].short} in {kb.matcher.country_name(code, 'en')}"
    if args.lead is None and verification.find(session, code, cluster) is None:
        print(
            f"refused: we hold no record for {name}, so there is nothing to confirm.",
            file=sys.stderr,
        )
        print("Give its lead to add it: --lead AGENCY", file=sys.stderr)
        return 1
    record = verification.confirm(
        session,
        kb,
        actor,
        code,
        cluster,
        utcnow(),
        lead=args.lead,
        co_lead=args.co_lead,
        origin="shell",
        allow_unknown_agency=args.allow_unknown_agency,
    )
    co = f", co-lead {record.co_lead}" if record.co_lead else ""
    done = "corrected" if args.lead is not None else "confirmed as still right"
    print(
        f"{name}: {done} (lead {record.lead}{co}), as of today, by {actor.identity} "
        f"({actor.role}). Answers show it; it is due for confirmation again in "
        f"{max_age.days} days."
    )
    return 0
