"""Small helpers the handlers share: naming things in the user's language, and sources."""

from typing import Any

from bot.core import Choice, Context, Reply
from bot.render import translate


def reply(ctx: Context, template: str, sources: tuple[str, ...] = (), **data: Any) -> Reply:
    """A Reply in the context's language carrying what was understood, with readable sources."""
    u = ctx.understanding
    titles = tuple(ctx.kb.source_titles(sources))
    return Reply(
        template=template,
        data={**data, "sources": list(titles)},
        lang=ctx.lang,
        intent=u.intent,
        confidence=u.confidence,
        sources=titles,
    )


def agency_label(ctx: Context, agency: str) -> dict[str, str]:
    """An agency's full name and acronym in the user's language."""
    names = ctx.kb.text(ctx.lang).agencies[agency]
    return {"id": agency, "name": names.name, "acronym": names.short}


def sector_label(ctx: Context, sector: str) -> dict[str, str]:
    """A cluster's or AoR's name and short name in the user's language."""
    names = ctx.kb.text(ctx.lang).sectors[sector]
    return {"id": sector, "name": names.name, "short": names.short}


def country_name(ctx: Context, code: str) -> str:
    """A country's name in the user's language (CLDR)."""
    return str(ctx.kb.matcher.country_name(code, ctx.lang))


def N_(message: str) -> str:  # the name pybabel looks for
    """Mark a button label for the catalogs; `choice` translates it when used."""
    return message


def choice(ctx: Context, label: str, action: str) -> Choice:
    """A button whose label (marked with N_) is shown in the user's language."""
    return Choice(translate(ctx.lang, label), action)
