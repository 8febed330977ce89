"""Help, greetings, language choice, and honest answers when we do not understand."""

from dataclasses import replace

from bot.core import Choice, Context, Incoming, Reply, Router
from bot.domain.conversation import last_subject, remember
from handlers.common import N_, language_name, reply, sector_label, topic_choices
from knowledge.matching import MAX_UNDERSTOOD

router = Router()


def _languages(ctx: Context) -> list[dict[str, str]]:
    return [{"code": c, "native": lang.native} for c, lang in ctx.kb.languages.items()]


# The same line for both in the menu: people look for either.
@router.command("help", shareable=True, menu=N_("what the bot can do, with examples"), menu_at=10)
@router.command("start", shareable=True, menu=N_("what the bot can do, with examples"), menu_at=11)
@router.intent("help", "greeting")
def show_help(msg: Incoming, ctx: Context) -> Reply:
    """What the bot can do, with example questions."""
    return reply(ctx, "help/help.j2", languages=_languages(ctx), current=ctx.lang)


@router.intent("unknown", "unknown_cluster")
@router.fallback("intent")
def not_understood(msg: Incoming, ctx: Context) -> Reply:
    """Say plainly that we do not know, list what we do know, and never guess a lead.

    The nearest topics the ranker found, not sure enough to answer, become buttons.
    """
    u = ctx.understanding
    clusters = [sector_label(ctx, c.id) for c in ctx.kb.clusters]
    nearest = topic_choices(ctx, u.related) if u.intent == "unknown" else ()
    result = reply(
        ctx,
        "help/not_understood.j2",
        cluster_question=u.intent == "unknown_cluster",
        name=u.unknown_name,
        suggestions=[sector_label(ctx, s) for s in u.suggestions],
        clusters=clusters,
        nearest=bool(nearest),
        unheld=list(u.unheld),  # "the coordinator's salary": what we hold none of, said so
    )
    return replace(result, choices=nearest)


@router.intent("thanks")
def thanks(msg: Incoming, ctx: Context) -> Reply:
    """A thank-you gets a short answer, not the whole help."""
    return reply(ctx, "help/thanks.j2")


@router.intent("empty")
def empty(msg: Incoming, ctx: Context) -> Reply:
    """An empty message gets a nudge, not silence."""
    return reply(ctx, "help/empty.j2")


@router.intent("too_long")
def too_long(msg: Incoming, ctx: Context) -> Reply:
    """A message past the limit is refused with the limit stated."""
    return reply(ctx, "help/too_long.j2", length=len(msg.text), limit=MAX_UNDERSTOOD)


@router.command("lang", menu=N_("reply language"), menu_at=40)
@router.command("language")
def set_language(msg: Incoming, ctx: Context) -> Reply:
    """`/lang xx` remembers a language for this user; `/lang` alone shows the choices."""
    code = msg.args.casefold()
    return _choose(msg, ctx, code)


@router.action("lang", r"lang:(?P<code>.*)")
def language_button(msg: Incoming, ctx: Context) -> Reply:
    """A language button press: same as `/lang xx`."""
    return _choose(msg, ctx, (ctx.pressed or {}).get("code", ""))


def _choose(msg: Incoming, ctx: Context, code: str) -> Reply:
    if code in ctx.kb.languages:
        ctx.user.lang = code
        ctx.session.add(ctx.user)
        ctx.lang = code
        # The conversation goes on in the language chosen, not in the last question's.
        last = last_subject(ctx.session, msg.identity, msg.chat) or {}
        remember(ctx.session, msg.identity, msg.chat, {**last, "lang": code})
        return reply(ctx, "help/lang_set.j2", native=language_name(code), code=code)
    result = reply(
        ctx, "help/lang_choose.j2", asked=code[:20], languages=_languages(ctx), current=ctx.lang
    )
    choices = tuple(Choice(lang["native"], f"lang:{lang['code']}") for lang in _languages(ctx))
    return replace(result, choices=choices)


@router.fallback("command")
def unknown_command(msg: Incoming, ctx: Context) -> Reply:
    """Any command (or button) we do not have: say so, name a close one, and point to /help."""
    name = msg.text.strip().split()[0][:40] if msg.text.strip() else ""
    nearest = ctx.router.nearest_command(name.lstrip("/")) if ctx.router and name else None
    return reply(ctx, "help/unknown_command.j2", command=name, nearest=nearest)
