"""The shell side of the activation workflow: `clusterbot users|proposals|subscriptions ...`.

It calls the same functions as the chat commands (bot.proposals, bot.roles, bot.subscriptions),
so a rule is enforced once. Scripts depend on the output: a created proposal prints its id alone,
`--json` prints JSON, and a refused move exits with status 1 and the reason on stderr.
"""

import argparse
import json
import sys
from typing import Any

from sqlmodel import Session

from bot import proposals, roles, subscriptions
from bot.db import make_engine, session_scope, upgrade
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
            return _proposals(session, kb, args)
    except proposals.Refused as exc:
        print(f"refused: {_explain(exc)}", file=sys.stderr)
        return 1
    except (ValueError, subscriptions.BadTarget) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _explain(exc: proposals.Refused) -> str:
    """The refusal in the words the chat uses (English)."""
    from bot.core import Reply

    renderer = renderer_for(("en",))
    data = {"reason": exc.reason, **exc.details}
    return renderer.plain(Reply("proposals/refused.j2", data, "en", "refused")).strip()


def _users(session: Session, args: argparse.Namespace) -> int:
    if args.action == "grant":
        user = roles.grant(session, args.identity, args.role)
        print(f"{user.identity} is now {user.role}")
        return 0
    for user in roles.everyone(session):
        print(f"{user.identity}\t{user.role}")
    return 0


def _country(kb: KnowledgeBase, text: str) -> str:
    code = text.upper() if len(text) == 2 and text.isalpha() else kb.matcher.find_country(text)
    if not code:
        raise ValueError(f"no country called {text!r}")
    return str(code)


def _cluster(kb: KnowledgeBase, text: str) -> str:
    if text in kb.sectors:
        return text
    found = kb.matcher.find_sector(text)
    if not found:
        raise ValueError(f"no cluster called {text!r}")
    return str(found)


def _agencies(kb: KnowledgeBase, pairs: list[str]) -> dict[str, str]:
    """`K=AGENCY` pairs; an agency we know is stored by its id, any other name as given."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, agency = pair.partition("=")
        if not sep or not agency.strip():
            raise ValueError(f"{pair!r}: expected CLUSTER=AGENCY")
        found[_cluster(kb, key.strip())] = kb.matcher.find_agency(agency) or agency.strip()
    return found


def _proposals(session: Session, kb: KnowledgeBase, args: argparse.Namespace) -> int:
    if args.action == "create":
        actor = roles.user(session, args.actor)
        leads, co_leads = _agencies(kb, args.lead), _agencies(kb, args.co_lead)
        clusters = {}
        for text in args.cluster:
            cluster = _cluster(kb, text)
            clusters[cluster] = (leads.get(cluster, ""), co_leads.get(cluster, ""))
        proposal = proposals.create(
            session,
            kb,
            actor,
            _country(kb, args.country),
            clusters,
            response=args.response,
            justification=args.justification,
        )
        print(proposal.id)
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
        return 0
    actor = roles.user(session, args.actor)
    move = args.action.replace("-", "_")
    cluster = _cluster(kb, args.cluster) if getattr(args, "cluster", None) else ""
    proposal = proposals.apply(session, kb, args.id, actor, move, args.note, cluster)
    print(f"#{proposal.id} is now {proposal.status}" + (f" ({cluster})" if cluster else ""))
    kind = {"submit": "submitted", "return": "returned", "endorse": "endorsed"}.get(move)
    if kind and proposal.id is not None:
        # Say who was actually told: the outbox holds a notice only for reachable people.
        told = proposals.told(session, proposal.id, kind)
        line = f"notices queued: {told.people} to people in their private chat"
        if kind == "endorsed":
            line += f", {told.partners} to subscribed partner chats"
        if not told.people:
            line += " (nobody to tell has a Telegram or Slack identity; see `users grant`)"
        print(line)
    return 0


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
        sub, new = subscriptions.add(
            session, args.target, country, clusters, args.lang, "console:shell"
        )
        print(f"{sub.id}" if new else f"{sub.id} (already subscribed)")
        return 0
    if args.action == "remove":
        if not subscriptions.remove(session, args.id):
            print(f"error: no subscription {args.id}", file=sys.stderr)
            return 2
        print(f"subscription {args.id} ended")
        return 0
    for sub in subscriptions.everything(session):
        state = "active" if sub.active else f"inactive: {sub.inactive_reason}"
        print(
            f"{sub.id}\t{sub.target}\t{sub.country or '*'}\t"
            f"{','.join(sub.clusters) or '*'}\t{sub.lang}\t{state}"
        )
    return 0
