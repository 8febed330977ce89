"""Explanations of the cluster approach's concepts, and what acronyms stand for."""

from bot.core import Context, Incoming, Reply, Router
from handlers.common import reply, sector_label

router = Router()


@router.intent("concept")
def explain(msg: Incoming, ctx: Context) -> Reply:
    """The concept's explanation, with related concepts to ask about next."""
    u = ctx.understanding
    assert u.concept is not None
    words = ctx.kb.text(ctx.lang)
    concept = ctx.kb.concepts[u.concept]
    text = words.concepts[u.concept]
    return reply(
        ctx,
        "concepts/explain.j2",
        concept.sources,
        title=text.title,
        body=text.body.splitlines(),
        honest=concept.honest,
        sectors=[sector_label(ctx, s) for s in u.sectors],
        related=[words.concepts[c].title for c in u.related],
    )


@router.intent("acronym")
def expand_acronym(msg: Incoming, ctx: Context) -> Reply:
    """What each acronym in the message stands for."""
    words = ctx.kb.text(ctx.lang)
    acronyms = [{"acronym": a, "meaning": words.acronyms[a]} for a in ctx.understanding.acronyms]
    return reply(ctx, "concepts/acronyms.j2", ("S",), acronyms=acronyms)


@router.command("acronyms")
def list_acronyms(msg: Incoming, ctx: Context) -> Reply:
    """`/acronyms`: every acronym we expand."""
    words = ctx.kb.text(ctx.lang)
    acronyms = [{"acronym": a, "meaning": words.acronyms[a]} for a in sorted(ctx.kb.acronyms)]
    return reply(ctx, "concepts/acronyms.j2", ("S",), acronyms=acronyms)
