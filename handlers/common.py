"""Small helpers the handlers share: naming things in the user's language, and sources."""

from typing import Any

from bot.core import Choice, Context, Reply
from bot.domain import verification
from bot.render import translate
from knowledge.matching import normalize


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


def active_records(ctx: Context, country: str, clusters: list[str]) -> list[dict[str, str]]:
    """The clusters our country records show active in `country`: name, lead, since when.

    The checklist and /propose both warn of them before a cluster is proposed again.
    """
    rows = verification.records_of(ctx.session, country, clusters)
    return [
        {**sector_label(ctx, c), "lead": rows[c].lead, "since": str(rows[c].activated_on or "")}
        for c in clusters
        if c in rows
    ]


def country_name(ctx: Context, code: str) -> str:
    """A country's name in the user's language (CLDR)."""
    return str(ctx.kb.matcher.country_name(code, ctx.lang))


def near_country(ctx: Context, typed: str) -> str:
    """The country a name we do not know is a slip away from ("Sudn": Sudan), named, or "".

    For "did you mean": a slip too short to be read as the name is never taken for it.
    """
    near = ctx.kb.matcher.countries.suggest(normalize(typed), limit=1)
    return country_name(ctx, near[0]) if near else ""


def language_name(code: str) -> str:
    """A language named in a sentence of its own (CLDR): "français", "español", "English".

    The names the language menus show (Français) are labels; in running French or Spanish text
    a language's name takes no capital ("Je répondrai en français").
    """
    from babel import Locale

    return str(Locale.parse(code).get_language_name(code))


def N_(message: str) -> str:  # the name pybabel looks for
    """Mark a button label for the catalogs; `choice` translates it when used."""
    return message


def choice(ctx: Context, label: str, action: str) -> Choice:
    """A button whose label (marked with N_) is shown in the user's language."""
    return Choice(translate(ctx.lang, label), action)


def topic_title(ctx: Context, topic: str) -> str:
    """A topic's title in the user's language: a concept, a passage or an acronym."""
    kb = ctx.kb
    if topic in kb.concepts:
        return kb.text(ctx.lang).concepts[topic].title
    if topic in kb.passages:
        return kb.passage_title(kb.passages[topic], ctx.lang)
    return topic.partition(":")[2] or topic


def topic_choices(ctx: Context, topics: tuple[str, ...]) -> tuple[Choice, ...]:
    """Buttons that show each topic, one button per topic.

    A line of a topic offered with the topic itself is that topic's button, in the place of
    the first of them (both bore the topic's title).
    """
    kb = ctx.kb
    known = [t for t in topics if known_topic(ctx, t)]
    family = {t: kb.passages[t].concept if t in kb.passages else t for t in known}
    chosen: dict[str, str] = {}  # family -> the topic its button shows
    for t in known:
        if family[t] not in chosen or t == family[t]:
            chosen[family[t]] = t
    buttons: dict[str, Choice] = {}  # by title: two buttons never read the same
    for t in chosen.values():
        buttons.setdefault(topic_title(ctx, t), Choice(topic_title(ctx, t), f"topic:{t}"))
    return tuple(buttons.values())


def known_topic(ctx: Context, topic: str) -> bool:
    """Whether `topic` is a concept, a passage or an acronym we hold (buttons can be forged)."""
    kind, _, acronym = topic.partition(":")
    return (
        topic in ctx.kb.concepts
        or topic in ctx.kb.passages
        or (kind == "acronym" and acronym in ctx.kb.acronyms)
    )


def unknown_words(ctx: Context, text: str) -> str:
    """The words of `text` that name no country or cluster we know, as typed ("" if none).

    A word the matcher read through a typo ("heath") is known; one letter is no name.
    """
    m = ctx.kb.matcher
    unknown = [
        w
        for w in m.entities(text).leftover.split()
        if len(w) > 1 and not (m.find_sector(w) or m.find_country(w))
    ]
    typed = [w for w in text.split() if set(normalize(w).split()) & set(unknown)]
    return " ".join(typed) or " ".join(unknown)
