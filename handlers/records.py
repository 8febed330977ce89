"""Keeping country records true from chat: `/verify Sudan health`, then "still right" or "changed".

`/verify COUNTRY CLUSTER` shows the record, when it was last confirmed and by whom, with two
buttons; "still right" confirms it as of now, "changed" says how to give the new lead:
`/verify COUNTRY CLUSTER = LEAD [/ CO-LEAD]`. Coordinators, the RC/HC and admins may (as for
proposals; bot.domain.verification.VERIFY_ROLES).
"""

from dataclasses import replace
from typing import Any

from bot.core import Context, Incoming, Reply, Router
from bot.domain import roles, verification
from bot.models import CountryCluster
from handlers.common import N_, choice, country_name, reply, sector_label
from knowledge import understand
from knowledge.matching import normalize

router = Router()
TEMPLATE = "records/verify.j2"


def _names(ctx: Context, country: str, cluster: str) -> dict[str, str]:
    label = sector_label(ctx, cluster)
    return {
        "country": country_name(ctx, country),
        "cluster": label["name"],
        "cluster_short": label["short"],
    }


def _record(ctx: Context, record: CountryCluster) -> dict[str, Any]:
    view = verification.view(ctx.session, record, ctx.lang, ctx.now, ctx.record_max_age)
    return {**view, "lead": record.lead, "co_lead": record.co_lead}


def _answer(ctx: Context, kind: str, **data: Any) -> Reply:
    return reply(ctx, TEMPLATE, kind=kind, **data)


def _allowed(ctx: Context) -> bool:
    try:
        roles.require(ctx.user, "verify", verification.VERIFY_ROLES)
    except roles.NotAllowed:
        return False
    return True


def _unknown_words(ctx: Context, text: str) -> str:
    """The words of `text` that name no country or cluster we know, as typed ("Atlantis")."""
    m = ctx.kb.matcher
    unknown = {
        w
        for w in m.entities(text).leftover.split()
        if len(w) > 1 and not (m.find_sector(w) or m.find_country(w))
    }
    return " ".join(w for w in text.split() if set(normalize(w).split()) & unknown)


@router.command("verify")
def verify(msg: Incoming, ctx: Context) -> Reply:
    """`/verify Sudan health` (show, with buttons) or `/verify Sudan health = WHO [/ UNICEF]`."""
    if not _allowed(ctx):
        return _answer(ctx, "not_allowed")
    words, given, new = msg.args.partition("=")
    u = understand(words, ctx.kb) if given else ctx.understanding
    if not u.country or len(u.sectors) != 1 or (given and not new.strip()):
        return _answer(ctx, "usage", unknown=_unknown_words(ctx, words))
    country, cluster = u.country, u.sectors[0]
    names = _names(ctx, country, cluster)
    if given:
        lead, slash, co_lead = new.partition("/")
        try:
            record = verification.confirm(
                ctx.session,
                ctx.kb,
                ctx.user,
                country,
                cluster,
                ctx.now,
                lead=lead,
                co_lead=co_lead if slash else None,
            )
        except verification.Unknown as exc:
            parts = [{"name": name, "hint": hint or ""} for name, hint in exc.parts]
            return _answer(ctx, "unknown_agency", parts=parts)
        except verification.SameAsLead as exc:
            return _answer(ctx, "same_as_lead", lead=exc.lead, **names)
        except ValueError:
            return _answer(ctx, "usage")
        return _answer(ctx, "changed", record=_record(ctx, record), **names)
    found = verification.find(ctx.session, country, cluster)
    if found is None:
        return _answer(ctx, "none", **names)
    shown = _answer(ctx, "show", record=_record(ctx, found), **names)
    buttons = (
        choice(ctx, N_("Still right"), f"rec:ok:{found.id}:{verification.version(found)}"),
        choice(ctx, N_("Changed"), f"rec:chg:{found.id}"),
    )
    return replace(shown, choices=buttons)


@router.action(
    "rec",
    r"rec:ok:(?P<record>\d+):(?P<version>[^:]*)",
    r"rec:(?P<change>chg):(?P<record>\d+)",
    r"rec:[^:]*:(?P<record>\d+)(?::.*)?",  # a record, but no move we know: usage
)
def record_button(msg: Incoming, ctx: Context) -> Reply:
    """`rec:ok:<record>:<version>` (still right) or `rec:chg:<record>` (say how to change it)."""
    pressed = ctx.pressed or {}
    if not _allowed(ctx):
        return _answer(ctx, "not_allowed")
    record_id = int(pressed["record"]) if "record" in pressed else None
    record = ctx.session.get(CountryCluster, record_id) if record_id is not None else None
    if record is None or record.cluster not in ctx.kb.sectors:
        # The record is gone (a deactivation removed it), or the button was made up.
        return reply(ctx, "proposals/refused.j2", reason="stale")
    names = _names(ctx, record.country, record.cluster)
    if "change" in pressed:
        return _answer(ctx, "how", **names)
    if "version" not in pressed:
        return _answer(ctx, "usage")
    if pressed["version"] != str(verification.version(record)):
        return _answer(ctx, "stale_button", **names)
    confirmed = verification.confirm(
        ctx.session, ctx.kb, ctx.user, record.country, record.cluster, ctx.now
    )
    return _answer(ctx, "confirmed", record=_record(ctx, confirmed), **names)
