"""Explanations of the cluster approach: a whole topic, one passage of it, or an acronym."""

from dataclasses import replace

from bot.core import Choice, Context, Incoming, Reply, Router
from handlers.common import N_, known_topic, reply, sector_label, topic_title
from handlers.help import not_understood

router = Router()


@router.intent("concept")
def explain(msg: Incoming, ctx: Context) -> Reply:
    """The passage or topic that answers the question, with the whole topic a button away."""
    topic = ctx.understanding.topic
    assert topic is not None
    answer = show_topic(ctx, topic)
    also = ctx.understanding.also_topic
    if also and known_topic(ctx, also):
        ctx.followups.append(show_topic(ctx, also))
    return answer


def show_topic(ctx: Context, topic: str, *, after_the_lead: bool = False) -> Reply:
    """One passage when it stands alone (a step, a function, a named fact), else its topic.

    `after_the_lead`: it follows the lead answer of the clusters named, so it says no more
    how to ask who leads them.
    """
    kb = ctx.kb
    named = [] if after_the_lead else [sector_label(ctx, s) for s in ctx.understanding.sectors]
    if topic.startswith("acronym:"):
        return _acronyms(ctx, (topic.partition(":")[2],))
    passage = kb.passages.get(topic)
    # Unnamed lines (`concept.N`) only point the ranker at their topic.
    if passage is not None and "." not in passage.id:
        concept = kb.concepts[passage.concept]
        topic_words = kb.text(ctx.lang).concepts[passage.concept]
        r = reply(
            ctx,
            "concepts/passage.j2",
            concept.sources,
            topic=passage.id,
            title=kb.passage_title(passage, ctx.lang),
            text=kb.passage_text(passage, ctx.lang),
            note=kb.passage_text(kb.passages[passage.note], ctx.lang) if passage.note else "",
            whole=topic_words.title,
            sectors=named,
        )
        return replace(r, choices=(Choice(topic_words.title, f"topic:{passage.concept}"),))
    key = passage.concept if passage is not None else topic
    concept = kb.concepts[key]
    words = kb.text(ctx.lang)
    # A line of the topic shown is no other topic ("Related:" once named the answer itself).
    related = [
        r
        for r in ctx.understanding.related
        if known_topic(ctx, r) and (kb.passages[r].concept if r in kb.passages else r) != key
    ]
    # "Step 9" of eight: which number was asked, of which list, and how many lines it has.
    parts = kb.ranker.parts
    kind = next((k for k, c in parts.concepts.items() if c == key), "")
    beyond = ctx.understanding.beyond if kind else 0
    return reply(
        ctx,
        "concepts/explain.j2",
        concept.sources,
        topic=key,
        beyond=beyond,
        kind=kind,
        total=parts.totals.get(kind, 0),
        title=words.concepts[key].title,
        body=words.concepts[key].body.splitlines(),
        sectors=named,
        related=list(dict.fromkeys(topic_title(ctx, r) for r in related)),
    )


@router.intent("no_reason")
def no_reason(msg: Incoming, ctx: Context) -> Reply:
    """No reason held for the topic or line asked why of: said so, the topic a button away.

    After a lead answer ("who leads health?", "why?") it is said of the clusters or agencies
    named, with no button: no topic of ours holds why an agency leads.
    """
    kb = ctx.kb
    u = ctx.understanding
    topic = u.topic
    if topic is None:
        agencies = kb.text(ctx.lang).agencies
        named = [sector_label(ctx, s)["name"] for s in u.sectors]
        named += [agencies[a].short for a in u.agencies]
        return reply(ctx, "concepts/no_reason.j2", topic="", title=", ".join(named))
    passage = kb.passages.get(topic)
    key = passage.concept if passage is not None else topic
    title = kb.passage_title(passage, ctx.lang) if passage is not None else ""
    words = kb.text(ctx.lang).concepts[key]
    r = reply(ctx, "concepts/no_reason.j2", topic=topic, title=title or words.title)
    return replace(r, choices=(Choice(words.title, f"topic:{key}"),))


@router.action("topic", r"topic:(?P<topic>.*)")
def topic_button(msg: Incoming, ctx: Context) -> Reply:
    """A topic button ("the whole procedure", a nearest topic after "I don't know")."""
    topic = (ctx.pressed or {}).get("topic", "")
    if not known_topic(ctx, topic):
        return not_understood(msg, ctx)
    ctx.understanding = replace(ctx.understanding, intent="concept", topic=topic)
    return show_topic(ctx, topic)


def _acronyms(ctx: Context, which: tuple[str, ...], every_language: bool = False) -> Reply:
    words = ctx.kb.text(ctx.lang)
    others = [code for code in ctx.kb.languages if code != ctx.lang] if every_language else []
    acronyms = [
        {
            "acronym": a,
            "meaning": words.acronyms[a],
            "also": list(
                dict.fromkeys(
                    m
                    for code in others
                    if (m := ctx.kb.text(code).acronyms[a]) != words.acronyms[a]
                )
            ),
        }
        for a in which
    ]
    topic = f"acronym:{which[0]}" if len(which) == 1 else None
    answer = reply(ctx, "concepts/acronyms.j2", ("S",), acronyms=acronyms, topic=topic)
    # "What does POLR stand for?": the topic it is the title of is a button away.
    titled = ctx.kb.acronym_topics.get(which[0]) if len(which) == 1 else None
    if titled is None:
        return answer
    return replace(answer, choices=(Choice(words.concepts[titled].title, f"topic:{titled}"),))


@router.intent("acronym")
def expand_acronym(msg: Incoming, ctx: Context) -> Reply:
    """What each acronym in the message stands for.

    An acronym typed alone ("HRP = ?") shows no language: its expansion follows in the
    other languages too, so the person reads it in theirs.
    """
    return _acronyms(
        ctx, ctx.understanding.acronyms, every_language=ctx.understanding.lang is None
    )


@router.command("acronyms", shareable=True, menu=N_("what the acronyms stand for"), menu_at=30)
def list_acronyms(msg: Incoming, ctx: Context) -> Reply:
    """`/acronyms`: every acronym we expand."""
    return _acronyms(ctx, tuple(sorted(ctx.kb.acronyms)))
