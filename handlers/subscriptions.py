"""Partner subscriptions in chat: /subscribe, /unsubscribe and /subscriptions for this chat."""

from typing import Any

from bot.core import Context, Incoming, Reply, Router
from bot.domain import subscriptions
from bot.models import Subscription
from handlers.common import N_, country_name, language_name, reply, sector_label, unknown_words

router = Router()


def view(ctx: Context, sub: Subscription) -> dict[str, Any]:
    """A subscription as template data, named in the user's language."""
    return {
        "id": sub.id,
        "country": country_name(ctx, sub.country) if sub.country else "",
        "clusters": [sector_label(ctx, c)["name"] for c in sub.clusters if c in ctx.kb.sectors],
        "lang": sub.lang,
    }


def _may_change(msg: Incoming, ctx: Context) -> Reply | None:
    """A refusal when this chat cannot be notified or this person may not change it."""
    try:
        subscriptions.check_target(msg.chat)
    except subscriptions.BadTarget:
        return reply(ctx, "subscriptions/refused.j2", reason="not_here")
    if not msg.may_manage_chat:
        return reply(ctx, "subscriptions/refused.j2", reason="not_admin")
    return None


@router.command(
    "subscribe",
    chat_setting=True,
    menu=N_("hear in this chat when an activation is endorsed"),
    menu_at=60,
)
def subscribe(msg: Incoming, ctx: Context) -> Reply:
    """`/subscribe Sudan health nutrition`: this chat hears of endorsed activations."""
    refused = _may_change(msg, ctx)
    if refused:
        return refused
    u = ctx.understanding
    wrong = _not_understood(msg.args, ctx)
    if wrong:
        return wrong
    clusters = [s for s in u.sectors if ctx.kb.sectors[s].kind == "cluster"]
    if not u.country and not clusters:
        return reply(ctx, "subscriptions/refused.j2", reason="usage")
    langs = {s.id: s.lang for s in subscriptions.for_target(ctx.session, msg.chat)}
    sub, new = subscriptions.add(
        ctx.session, msg.chat, u.country, clusters, ctx.lang, created_by=msg.identity
    )
    # The same subscription asked for in another language: its notices change language.
    relang = "" if new or langs.get(sub.id) == sub.lang else language_name(sub.lang)
    return reply(ctx, "subscriptions/added.j2", new=new, relang=relang, **view(ctx, sub))


def _not_understood(text: str, ctx: Context) -> Reply | None:
    """A refusal when part of `/subscribe ...` names no country or cluster we know.

    Dropping it would subscribe the chat to more than was asked ("Atlantis health" is not
    "every country, health"; "Sudan child protection" is not "Sudan, every cluster").
    """
    e = ctx.kb.matcher.entities(text)
    unknown = unknown_words(ctx, text)
    if unknown:
        return reply(ctx, "subscriptions/refused.j2", reason="unknown", words=unknown)
    if len(e.countries) > 1:
        names = [country_name(ctx, c) for c in e.countries]
        return reply(ctx, "subscriptions/refused.j2", reason="one_country", countries=names)
    aors = [s for s in e.sectors if ctx.kb.sectors[s].kind != "cluster"]
    if aors:
        aor = ctx.kb.sectors[aors[0]]
        cluster = sector_label(ctx, aor.parent)["name"] if aor.parent else ""
        name = sector_label(ctx, aors[0])["name"]
        return reply(ctx, "subscriptions/refused.j2", reason="aor", aor=name, cluster=cluster)
    return None


@router.command(
    "unsubscribe", chat_setting=True, menu=N_("stop this chat's notifications"), menu_at=61
)
def unsubscribe(msg: Incoming, ctx: Context) -> Reply:
    """`/unsubscribe` (all of this chat's), `/unsubscribe 3`, or `/unsubscribe Sudan`."""
    refused = _may_change(msg, ctx)
    if refused:
        return refused
    words = msg.args.lstrip("#")
    country = ctx.understanding.country
    if words and not words.isdecimal() and not country:
        # Words that name no country (a typo, a cluster) must not end every subscription.
        return reply(ctx, "subscriptions/refused.j2", reason="usage")
    ended = 0
    for sub in subscriptions.for_target(ctx.session, msg.chat):
        chosen = (
            str(sub.id) == words if words.isdecimal() else (not words or sub.country == country)
        )
        if chosen and subscriptions.remove(ctx.session, sub.id or 0, msg.chat):
            ended += 1
    return reply(ctx, "subscriptions/removed.j2", count=ended, asked=words)


@router.command("subscriptions", menu=N_("what this chat is subscribed to"), menu_at=62)
def list_subscriptions(msg: Incoming, ctx: Context) -> Reply:
    """`/subscriptions`: what this chat hears about."""
    subs = subscriptions.for_target(ctx.session, msg.chat)
    return reply(ctx, "subscriptions/list.j2", subscriptions=[view(ctx, s) for s in subs])
