"""The guided activation checklist: one question at a time, saved with every answer."""

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from babel.dates import format_date

from bot.core import Choice, Context, Incoming, Reply, Router, split_command
from bot.domain import checklist_runs
from bot.domain.checklist_runs import Stored
from bot.domain.conversation import last_subject
from bot.models import utcnow
from handlers.common import (
    N_,
    active_records,
    agency_label,
    choice,
    country_name,
    near_country,
    reply,
    sector_label,
)
from knowledge.checklist import (
    ANSWER_GROUPS,
    MAX_TEXT,
    STEP_STATUS,
    STEPS,
    YES_NO,
    Answer,
    Answers,
    Invalid,
    Question,
    control,
    default_colead,
    default_lead,
    global_leads,
    names_in,
    parse,
    questions,
    request,
    situation_told,
    step_texts,
    verdict,
)
from knowledge.matching import normalize, opens_a_question

if TYPE_CHECKING:
    from bot.models import ChecklistRun

router = Router()
EXPIRES_AFTER = timedelta(days=30)
# Intents that mean "the user asked something" rather than answered, mid-checklist.
QUESTIONS = frozenset(
    {"concept", "who_leads", "agency_clusters", "list_clusters", "acronym", "country_clusters"}
)
# The buttons, in the order a typed number picks them ("2 - the ministry copes" is "no").
BUTTONS = {
    "yes_no": YES_NO,
    "step": STEP_STATUS,
    "lead": ("yes",),
    "colead": ("none",),
}


def _current(run: "ChecklistRun") -> Question:
    """The question the run stands at."""
    return questions(run.answers)[run.position]


def open_run(ctx: Context, msg: Incoming) -> "ChecklistRun | None":
    """The open or paused checklist of this user in this chat, if any."""
    return checklist_runs.open_run(ctx.session, msg.identity, msg.chat)


def _label(ctx: Context, group: str) -> str:
    """A button label: the language's own first word for that answer."""
    word = ctx.kb.text(ctx.lang).checklist_words[group][0]
    if "/" in word:  # an abbreviation: "N/A", "S/O"
        return word.upper()
    return word[:1].upper() + word[1:]


def _answer_text(ctx: Context, q: Question, stored: Stored | None) -> str:
    """A stored answer as the user would recognise it."""
    if stored is None or stored.skipped:
        return ""
    value = stored.value
    if q.kind == "country":
        return _country_shown(ctx, value) if isinstance(value, dict) else ""
    if q.kind == "clusters":
        comma = {"zh": "、", "ar": "، "}.get(ctx.lang, ", ")
        return comma.join(sector_label(ctx, c)["name"] for c in value or [])
    if q.kind in {"yes_no", "step"}:
        return _label(ctx, str(value))
    if q.kind in {"lead", "colead"} and stored.undecided:
        return _label(ctx, "unsure")  # "not sure", "tbd": no organisation named yet
    if q.kind in {"lead", "colead"} and value in ctx.kb.agencies:
        return agency_label(ctx, str(value))["acronym"]
    if q.kind == "colead" and not value:
        return _label(ctx, "none")  # "none", "no need": answered, with no co-lead
    return str(value or "")


def _question_data(ctx: Context, run: "ChecklistRun", q: Question) -> dict[str, Any]:
    qs = questions(run.answers)
    data: dict[str, Any] = {
        "key": q.key,
        "kind": q.kind,
        "number": run.position + 1,
        "total": len(qs),
        "cluster": sector_label(ctx, q.cluster) if q.cluster else None,
        "step": q.step,
        "step_text": step_texts(ctx.kb, ctx.lang).get(q.step or 0, ""),
        "previous": _answer_text(ctx, q, checklist_runs.answer_to(run, q.key)),
        "first_criterion_question": q.key == "change",
        "clusters_chosen": len(Answers(run.answers).clusters()),
        "given": {"fr": " ; ", "zh": "；", "ar": "؛ "}.get(ctx.lang, "; ").join(
            _answer_text(ctx, g, checklist_runs.answer_to(run, g.key))
            for g in questions(run.answers)
            if Answers(run.answers).entry(g.key).get("prefilled")
        ),
    }
    if q.kind == "lead" and q.cluster:
        condition = Answers(run.answers).condition(ctx.kb)
        data["default"] = agency_label(ctx, default_lead(ctx.kb, q.cluster, condition))
        data["condition"] = ctx.kb.text(ctx.lang).conditions[condition] if condition else ""
        data["arrangement"] = _arrangement(ctx, q.cluster, data["default"]["id"])
        colead = default_colead(ctx.kb, q.cluster, condition)
        data["default_colead"] = agency_label(ctx, colead) if colead else None
    if q.kind == "colead" and q.cluster:
        lead = Answers(run.answers).value(f"lead:{q.cluster}") or ""
        data["lead"] = agency_label(ctx, lead)["acronym"] if lead in ctx.kb.agencies else lead
    return data


def ask(
    ctx: Context,
    run: "ChecklistRun",
    note: str = "",
    intro: bool = False,
    recorded: dict[str, Any] | None = None,
    unclear: list[str] | None = None,
    detail: dict[str, Any] | None = None,
) -> Reply:
    """The current question, with buttons for its usual answers.

    `unclear`: the countries a name given as the country may mean ("Congo"), asked between.
    `detail`: what the note says more (the AoR named, a message's length and the limit).
    """
    q = questions(run.answers)[run.position]
    choices = tuple(
        Choice(_label(ctx, group), f"chk:{run.id}:{group}") for group in BUTTONS.get(q.kind, ())
    )
    # The checklist goes on in the language its question was shown in, buttons or none.
    if ctx.user.reply_lang != ctx.lang:
        ctx.user.reply_lang = ctx.lang
        ctx.session.add(ctx.user)
    r = reply(
        ctx,
        "checklist/question.j2",
        question=_question_data(ctx, run, q),
        note=note,
        intro=intro,
        recorded=recorded,
        unclear=unclear or [],
        detail=detail or {},
    )
    return replace(r, intent="checklist", choices=choices)


def _recorded(ctx: Context, run: "ChecklistRun", q: Question) -> dict[str, Any] | None:
    """A lead or co-lead as it was read from the answer, to show before the next question.

    A name is read from free text ("no, IOM", "No Lost Generation"): the user sees what was
    kept and can go back.
    """
    if q.kind not in {"lead", "colead"} or q.cluster is None:
        return None
    stored = checklist_runs.answer_to(run, q.key)
    if stored is not None and stored.skipped:
        return None  # skipped: nothing was read, so nothing is shown as kept
    shown = _answer_text(ctx, q, checklist_runs.answer_to(run, q.key)) or _label(ctx, "none")
    colead = Question(f"colead:{q.cluster}", "colead", cluster=q.cluster)
    kept = q.kind == "lead" and Answers(run.answers).entry(colead.key).get("kept")
    colead_shown = (
        _answer_text(ctx, colead, checklist_runs.answer_to(run, colead.key)) if kept else ""
    )
    return {
        "key": q.key,
        "cluster": sector_label(ctx, q.cluster)["name"],
        "answer": shown,
        "colead_count": len(names_in(ctx.kb, colead_shown)) or 1,
        "colead": colead_shown,
    }


def _record(
    ctx: Context, run: "ChecklistRun", q: Question, entry: dict[str, Any], text: str = ""
) -> list[Reply]:
    """Store one answer (`text` as typed) and move on to the next question, or finish."""
    before = len(questions(run.answers))
    kept = _kept_colead(ctx, run, q, entry, text) if q.kind == "lead" else None
    checklist_runs.record(ctx.session, run, q.key, entry, kept)
    after = len(questions(run.answers))
    if run.position >= after:
        return finish(ctx, run)
    # The clusters chosen decide how many questions follow: say why the count moved.
    note = "count_changed" if after != before else ""
    known = _already_active(ctx, run) if q.key in {"country", "clusters"} else []
    return [*known, ask(ctx, run, note=note, recorded=_recorded(ctx, run, q))]


def _kept_colead(
    ctx: Context, run: "ChecklistRun", q: Question, entry: dict[str, Any], text: str
) -> dict[str, str | None]:
    """The co-lead a lead answer keeps: the one it names, or both global co-leads on "yes".

    "yes" (or its button) keeps the lead and the co-lead of Education or Food Security, and
    the co-lead question is passed over; naming an agency ("WFP", "yes, WFP") keeps that one
    alone and the co-lead is asked. A co-lead kept so goes when the lead is answered again.
    """
    key = f"colead:{q.cluster}"
    if entry.get("colead"):
        return {key: entry["colead"]}  # "UNICEF, with Oxfam as co-lead": Oxfam is kept
    condition = Answers(run.answers).condition(ctx.kb)
    lead = default_lead(ctx.kb, q.cluster or "", condition)
    colead = default_colead(ctx.kb, q.cluster or "", condition)
    if colead and entry.get("value") == lead and not ctx.kb.matcher.entities(text).agencies:
        return {key: colead}
    return {key: None} if Answers(run.answers).entry(key).get("kept") else {}


def _already_active(ctx: Context, run: "ChecklistRun") -> list[Reply]:
    """The chosen clusters our records show activated in the country, said before going on."""
    a = Answers(run.answers)
    code, clusters = a.country().get("code"), a.clusters()
    if not code or not clusters:
        return []
    active = active_records(ctx, str(code), clusters)
    if not active:
        return []
    shown = reply(
        ctx, "checklist/already_active.j2", country=country_name(ctx, str(code)), clusters=active
    )
    return [replace(shown, intent="checklist")]


# Questions answered with a name: a name is in no language ("No Lost Generation", "Sudan").
NAMES = frozenset({"country", "lead", "colead"})


def _keep_language(msg: Incoming, ctx: Context, run: "ChecklistRun | None" = None) -> None:
    """A message in no language of its own ("/checklist", "3") goes on in the checklist's.

    The language the checklist's last question was shown in is the user's `reply_lang`.
    """
    shown = ctx.user.reply_lang
    if msg.lang or shown not in ctx.kb.languages:
        return
    if run is not None and _first_language_shown(msg, ctx, run):
        return
    if run is not None and run.status == "open" and _current(run).kind in NAMES:
        ctx.lang = str(shown)
        return
    # "n/a" is French as well as English: an answer word of the checklist's own language
    # does not switch it.
    text = normalize(msg.text)
    own = {normalize(w) for ws in ctx.kb.text(str(shown)).checklist_words.values() for w in ws}
    if not ctx.understanding.lang or text in own:
        ctx.lang = str(shown)
        return
    # "no, IOM" opens with an answer word of the checklist's language: what follows it says
    # whether the language changed ("no, el ministerio puede" is Spanish; "IOM" is no language).
    if any(w and text.startswith(w + " ") for w in own):
        _, _, rest = ctx.kb.checklist_words.opening(msg.text, ctx.kb.checklist_words.answer_groups)
        if ctx.kb.matcher.language(rest) in {None, shown}:
            ctx.lang = str(shown)


def _first_language_shown(msg: Incoming, ctx: Context, run: "ChecklistRun") -> bool:
    """Whether this message is the first to show the language of a checklist started with none.

    "/checklist" alone, with nothing said before, shows no language: its first question is in
    ours. The first answer that shows one sets it, a name too ("السودان - دارفور", "苏丹", or
    "Soudan", a country's name in one language only).
    """
    if not checklist_runs.language_untold(run):
        return False
    told = ctx.understanding.lang
    if told is None and run.status == "open" and _current(run).kind == "country":
        told = _country_language(ctx, msg.text)
    if told not in ctx.kb.languages:
        return False
    ctx.lang = str(told)
    checklist_runs.drop_language_untold(ctx.session, run)
    return True


def _country_language(ctx: Context, text: str) -> str | None:
    """The one language whose name of the country `text` is ("Tchad": French), if only one."""
    code = ctx.kb.matcher.find_country(text)
    if code is None:
        return None
    typed = normalize(text)
    named = [
        c for c in ctx.kb.languages if normalize(ctx.kb.matcher.country_name(code, c)) == typed
    ]
    return named[0] if len(named) == 1 else None


@router.command("checklist", menu=N_("Activation checklist"), menu_at=50)
@router.command("activate", "activation")  # what a coordinator types when looking for it
@router.intent("start_checklist")
def start_checklist(msg: Incoming, ctx: Context) -> Reply | list[Reply]:
    """Start a checklist, or show where the open one stands."""
    run = open_run(ctx, msg)
    if run is not None:
        _keep_language(msg, ctx)
        checklist_runs.save(ctx.session, run, status="open")
        return ask(ctx, run, note="resumed")
    untold = False
    if not (msg.lang or ctx.understanding.lang or ctx.user.lang):
        # "/checklist" shows no language: it goes on in the conversation's.
        before = (last_subject(ctx.session, msg.identity, msg.chat) or {}).get("lang")
        ctx.lang = str(before) if before in ctx.kb.languages else ctx.lang
        untold = before not in ctx.kb.languages
    given = _given(msg, ctx)
    run = checklist_runs.start(ctx.session, msg.identity, msg.chat, given)
    if untold:
        checklist_runs.mark_language_untold(ctx.session, run)
    return [
        *_already_active(ctx, run),
        ask(ctx, run, intro=True, note="prefilled" if given else ""),
    ]


def _given(msg: Incoming, ctx: Context) -> dict[str, Any]:
    """The country and clusters the opening message named ("... the health cluster in Chad")."""
    u = ctx.understanding
    if u.intent != "start_checklist" or split_command(msg.text):
        return {}
    given: dict[str, Any] = {}
    # Two countries ("in Sudan and Chad") are no one answer: the question is asked.
    if u.country and len(ctx.kb.matcher.entities(msg.text).countries) == 1:
        given["country"] = {"code": u.country, "name": country_name(ctx, u.country)}
    clusters = [s for s in u.sectors if ctx.kb.sectors[s].kind == "cluster"]
    if clusters:
        given["clusters"] = clusters
    situation = _situation(ctx, msg.text)
    if situation:
        given["emergency"] = situation
    return given


def _situation(ctx: Context, text: str) -> str:
    """What happened, as the opening message tells it beside the request, in one line."""
    return {"zh": "，", "ar": "، "}.get(ctx.lang, ", ").join(situation_told(text, ctx.kb))


@router.conversation
def continue_checklist(msg: Incoming, ctx: Context) -> Reply | list[Reply] | None:
    """Read a message as the answer to the open checklist's question, when it is one."""
    # A user created by this message has no checklist, open or finished: no look-up.
    run = open_run(ctx, msg) if ctx.checklist_open and not ctx.new_user else None
    if run is None and not msg.action:
        return _finished(msg, ctx)
    if run is None or msg.action:
        return None
    # Before all else: a restart asked and left pending expires with the checklist.
    if checklist_runs.idle_longer_than(run, EXPIRES_AFTER):
        checklist_runs.save(ctx.session, run, status="expired")
        return reply(ctx, "checklist/expired.j2", started=run.created_at.date().isoformat())
    if checklist_runs.restart_asked(run) and run.status == "open":
        decided = _restart_decided(msg, ctx, run)
        if decided is not None:
            return decided
    command = split_command(msg.text)
    if ctx.understanding.intent == "start_checklist" and not command:
        return None  # start_checklist shows the open checklist where it stands
    if command:
        if command[0] != "checklist" and run.status == "open":
            ctx.followups.append(ask(ctx, run, note="reminder"))
        return None
    action = control(msg.text, ctx.kb.checklist_words)
    if run.status == "paused":
        if action == "resume":
            _keep_language(msg, ctx)
            checklist_runs.save(ctx.session, run, status="open")
            return ask(ctx, run, note="resumed")
        if action in {"status", "letter", "cancel"}:
            # "At any point": where it stands, or cancelling it, need no resume first.
            _keep_language(msg, ctx)
            return _control(ctx, run, action)
        words = ctx.kb.checklist_words
        if action or msg.text.strip().isdecimal() or words.opening(msg.text, ANSWER_GROUPS)[0]:
            # An answer ("yes", "2") or a step ("back", "skip") to a paused checklist: say it
            # is paused, and how to go on.
            _keep_language(msg, ctx)
            return replace(reply(ctx, "checklist/paused.j2"), intent="checklist")
        return None
    _keep_language(msg, ctx, run)
    if action:
        return _control(ctx, run, action)
    return answer(ctx, run, msg.text)


def _finished(msg: Incoming, ctx: Context) -> Reply | list[Reply] | None:
    """A checklist word ("status", "the letter", "back") with no checklist open.

    A finished checklist's summary and letter are shown again ("status", "the letter"): after
    a restart of the bot nothing is "above". Its answers stay as they were: the person is told
    so, and that /checklist starts a new one. After a cancelled or expired one, or asked where
    one stands with none ever started, the person is told none is open.
    """
    words = ctx.kb.checklist_words
    asked = request(msg.text, words)  # "and the letter?" asks for the letter
    action = control(asked, words)
    why = asked in words.groups.get("why", ())  # "why is it unclear?"
    # "stop" and "pause" say nothing about the checklist once it is over.
    if (action in {None, "pause"} and not why) or split_command(msg.text):
        return None
    run = None if ctx.new_user else checklist_runs.last_run(ctx.session, msg.identity, msg.chat)
    if why and (run is None or run.status != "done"):
        return None  # no verdict to explain: asked as any question
    if run is None and action not in {"status", "resume", "letter"}:
        return None  # "next", "back" from someone who never started one: not ours to read
    _keep_language(msg, ctx)
    if run is None or run.status != "done" or checklist_runs.idle_longer_than(run, EXPIRES_AFTER):
        return replace(reply(ctx, "checklist/none_open.j2"), intent="checklist")
    if why:
        shown = reply(ctx, "checklist/why.j2", **summary_data(ctx, run))
        return replace(shown, intent="checklist")
    if action in {"status", "letter"}:
        return _outcome(ctx, run)
    country = _country_shown(ctx, Answers(run.answers).country())
    shown = reply(ctx, "checklist/finished.j2", country=country, action=action)
    return replace(shown, intent="checklist")


def _restart_decided(msg: Incoming, ctx: Context, run: "ChecklistRun") -> Reply | None:
    """The answer to "start again?": yes clears every answer, no keeps them; else neither.

    "no, keep them" keeps them, and "yes please, start over" clears them. Any other "yes, ..."
    may answer the question asked before, so it clears nothing and records nothing: "start
    again?" is asked once more.
    """
    words = ctx.kb.checklist_words
    group, _, rest = words.opening(msg.text, ("yes", "no"))
    if group is None:
        checklist_runs.drop_restart(ctx.session, run)
        return None  # another message: the question it answers or asks is taken as usual
    _keep_language(msg, ctx)
    if group == "yes" and not words.made_of(rest, ("yes", "polite", "restart")):
        return _ask_restart(ctx, run)
    checklist_runs.drop_restart(ctx.session, run)
    return _restart(ctx, run, group == "yes")


def _ask_restart(ctx: Context, run: "ChecklistRun") -> Reply:
    """Whether to clear every answer: asked, with Yes and No buttons, before anything goes."""
    checklist_runs.ask_restart(ctx.session, run)
    buttons = tuple(
        Choice(_label(ctx, group), f"chk:{run.id}:restart_{group}") for group in ("yes", "no")
    )
    shown = reply(ctx, "checklist/restart.j2", answered=_answered(run))
    return replace(shown, intent="checklist", choices=buttons)


def _restart(ctx: Context, run: "ChecklistRun", confirmed: bool) -> Reply:
    if not confirmed:
        return ask(ctx, run, note="restart_kept")
    checklist_runs.save(ctx.session, run, answers={}, position=0)
    return ask(ctx, run, note="restarted")


def answer(ctx: Context, run: "ChecklistRun", text: str) -> Reply | list[Reply] | None:
    """Record `text` as the answer, answer it as a question, or ask again."""
    q = questions(run.answers)[run.position]
    u = ctx.understanding
    # A free-text answer (the country, what happened) takes anything, so a question typed
    # there is told by its question mark or by the word it opens with ("who leads health").
    parsed = parse(q, text, ctx.kb, ctx.kb.checklist_words, _condition(ctx, run, q))
    # A lead or co-lead that parses as one is no question ("como a nivel global": as globally).
    a_name = q.kind in {"lead", "colead"} and not isinstance(parsed, Invalid)
    free = q.kind in {"country", "text", "clusters", "lead", "colead"} and opens_a_question(text)
    asked = (
        u.intent in QUESTIONS and (text.rstrip().endswith(("?", "？", "؟")) or free) and not a_name
    )
    if q.kind in {"country", "text"} and _only_courtesy(ctx, text):
        parsed = Invalid(q.kind)  # "hello", "thanks": no country, no account of what happened
    # An answer word of another question ("none" to a step, "done" to a criterion) is a wrong
    # answer, asked again, never a question to answer.
    words = ctx.kb.checklist_words
    answer_word = isinstance(parsed, Invalid) and (
        parsed.answer_word or words.opening(text, words.answer_groups)[0] is not None
    )
    question = isinstance(parsed, Invalid) and not answer_word and u.intent in QUESTIONS
    if question or asked:
        # An ordinary question: answer it in its own language, and go on in that language.
        if u.lang in ctx.kb.languages:
            ctx.lang = str(u.lang)
        ctx.followups.append(ask(ctx, run, note="reminder"))
        return None
    if isinstance(parsed, Invalid) and parsed.reason == "one_country":
        # "Mali and Niger": one letter is for one country, asked between those named.
        named = sorted(country_name(ctx, c) for c in ctx.kb.matcher.entities(text).countries)
        return ask(ctx, run, note="country_unclear", unclear=named)
    if isinstance(parsed, Invalid):
        return ask(ctx, run, note=f"invalid_{parsed.reason}", detail=_detail(ctx, parsed, text))
    if q.kind == "country" and not parsed.value.get("code"):
        # "Congo" fits two countries: the letter and the records need the one meant.
        unclear = [country_name(ctx, c) for c in ctx.kb.matcher.country_choices(text)]
        if unclear:
            return ask(ctx, run, note="country_unclear", unclear=unclear)
    if q.kind == "colead" and _same_agency(run, q, parsed.value):
        # "no, IOM" where IOM is the lead: no co-lead, IOM alone. "IOM" alone is a mistake.
        if words.opening(text, ("none", "no"))[0] is None:
            return ask(ctx, run, note="invalid_colead_is_lead")
        parsed = Answer("")
    near = _near_agency(ctx, parsed.value) if q.kind in {"lead", "colead"} else None
    if near:
        return ask(ctx, run, note="invalid_near_agency", detail=near)
    return _record(ctx, run, q, _entry(parsed), text)


def _near_agency(ctx: Context, name: Any) -> dict[str, str] | None:
    """A lead or co-lead a slip away from an agency we know ("WHOO"): "did you mean WHO?".

    The rule /propose and the records apply (`unknown_lead_parts`): any other organisation
    ("Mercy Corps", a ministry) is taken as written, as the HCT may choose it.
    """
    # Here, not at the top: bot.domain.records (its header tables) stays off every start.
    from bot.domain.records import unknown_lead_parts

    if not name or name in ctx.kb.agencies:
        return None
    # Each organisation named on its own: "Oxfam y Save the Children" misspells neither.
    for one in names_in(ctx.kb, str(name)):
        parts = unknown_lead_parts(ctx.kb, one, "")
        if parts:
            return {"name": parts[0][1], "hint": parts[0][2] or ""}
    return None


def _detail(ctx: Context, parsed: Invalid, text: str) -> dict[str, Any]:
    """What a re-prompt says more: the AoR named and its cluster, or the length and limit."""
    if parsed.reason == "too_long":
        return {"length": len(text.strip()), "limit": MAX_TEXT}
    if parsed.reason == "unknown_country":
        # The matcher's near names ("Sudn": Sudan), as "did you mean", never taken for it.
        return {"name": " ".join(text.split()), "hint": near_country(ctx, text)}
    if parsed.reason == "aor":
        aor = next(s for s in ctx.kb.matcher.entities(text).sectors if ctx.kb.sectors[s].parent)
        parent = str(ctx.kb.sectors[aor].parent)
        return {
            "aor": sector_label(ctx, aor)["name"],
            "cluster": sector_label(ctx, parent)["name"],
        }
    return {}


def _condition(ctx: Context, run: "ChecklistRun", q: Question) -> str | None:
    """The kind of emergency what happened names, for a lead question only (it reads text)."""
    return Answers(run.answers).condition(ctx.kb) if q.kind == "lead" else None


def _only_courtesy(ctx: Context, text: str) -> bool:
    """Whether a message is a greeting or thanks and nothing else ("Hello, Sudan" is more)."""
    if ctx.understanding.intent not in {"greeting", "thanks"}:
        return False
    e = ctx.kb.matcher.entities(text)
    return not (e.countries or e.sectors or e.agencies or e.conditions or e.leftover)


def _same_agency(run: "ChecklistRun", q: Question, co_lead: Any) -> bool:
    """Whether the co-lead named is the cluster's proposed lead (a co-lead is someone else)."""
    lead = Answers(run.answers).value(f"lead:{q.cluster}")
    return bool(co_lead and lead) and str(co_lead).casefold() == str(lead).casefold()


def _entry(parsed: Answer) -> dict[str, Any]:
    entry: dict[str, Any] = {"value": parsed.value, "note": parsed.note}
    if parsed.colead:
        entry["colead"] = parsed.colead  # kept as the co-lead's answer too (`_kept_colead`)
    return {**entry, "undecided": True} if parsed.undecided else entry


def _control(ctx: Context, run: "ChecklistRun", action: str) -> Reply | list[Reply]:
    qs = questions(run.answers)
    if action == "back":
        checklist_runs.save(ctx.session, run, position=max(0, run.position - 1))
        return ask(ctx, run, note="back")
    if action == "skip":
        return _record(ctx, run, qs[run.position], {"value": None, "skipped": True})
    if action in {"status", "letter"}:
        return status(ctx, run)  # the letter comes with the summary, after the last question
    if action == "pause":
        checklist_runs.save(ctx.session, run, status="paused")
        return replace(reply(ctx, "checklist/paused.j2"), intent="checklist")
    if action == "resume":
        return ask(ctx, run, note="resumed")
    if action == "restart":
        # Every answer would go, and "back" cannot bring them back: asked first.
        if not _answered(run):
            return _restart(ctx, run, confirmed=True)  # nothing to lose
        return _ask_restart(ctx, run)
    checklist_runs.save(ctx.session, run, status="cancelled")
    return replace(reply(ctx, "checklist/cancelled.j2"), intent="checklist")


def _answered(run: "ChecklistRun") -> int:
    """How many questions have an answer (skipped ones not counted)."""
    stored = (checklist_runs.answer_to(run, q.key) for q in questions(run.answers))
    return sum(1 for a in stored if a is not None and not a.skipped)


def status(ctx: Context, run: "ChecklistRun") -> Reply:
    """Where the user is, what is answered, and what is left."""
    qs = questions(run.answers)
    items = []
    for i, q in enumerate(qs):
        stored = checklist_runs.answer_to(run, q.key)
        items.append(
            {
                **_question_data(ctx, run, q),
                "number": i + 1,
                "current": i == run.position,
                "answered": stored is not None and not stored.skipped,
                "skipped": stored is not None and stored.skipped,
                "previous": _answer_text(ctx, q, stored),
            }
        )
    left = sum(1 for item in items if not item["answered"])
    r = reply(
        ctx,
        "checklist/status.j2",
        items=items,
        left=left,
        position=run.position + 1,
        paused=run.status == "paused",
    )
    return replace(r, intent="checklist")


@router.action("chk", r"chk:(?P<run>[^:]*):(?P<group>[^:]*)")
def checklist_button(msg: Incoming, ctx: Context) -> Reply | list[Reply]:
    """`chk:<run>:<answer group>`: the same as typing the answer, in the open checklist."""
    pressed = ctx.pressed or {}
    run_id, group = pressed.get("run", ""), pressed.get("group", "")
    run = open_run(ctx, msg)
    if run is None or str(run.id) != run_id or run.status != "open":
        return replace(reply(ctx, "checklist/stale.j2"), intent="checklist")
    if group in {"restart_yes", "restart_no"}:
        if not checklist_runs.restart_asked(run) or checklist_runs.idle_longer_than(
            run, EXPIRES_AFTER
        ):
            return [replace(reply(ctx, "checklist/stale.j2"), intent="checklist"), ask(ctx, run)]
        checklist_runs.drop_restart(ctx.session, run)
        return _restart(ctx, run, group == "restart_yes")
    checklist_runs.drop_restart(ctx.session, run)
    q = questions(run.answers)[run.position]
    if group not in BUTTONS.get(q.kind, ()):
        return [replace(reply(ctx, "checklist/stale.j2"), intent="checklist"), ask(ctx, run)]
    word = ctx.kb.text("en").checklist_words[group][0]
    parsed = parse(q, word, ctx.kb, ctx.kb.checklist_words, _condition(ctx, run, q))
    assert isinstance(parsed, Answer)
    return _record(ctx, run, q, _entry(parsed), word)


def finish(ctx: Context, run: "ChecklistRun") -> list[Reply]:
    """Close the checklist: a verdict per cluster, the summary, and the draft letter."""
    checklist_runs.save(ctx.session, run, status="done")
    return _outcome(ctx, run)


def _outcome(ctx: Context, run: "ChecklistRun") -> list[Reply]:
    """A finished checklist's summary, with its proposal button, and its draft letter."""
    data = summary_data(ctx, run)
    # A proposal holds the clusters judged met: with none, there is nothing to offer.
    offer = (choice(ctx, N_("Create an activation proposal"), f"prop:chk:{run.id}"),)
    summary = replace(
        reply(ctx, "checklist/summary.j2", **data),
        intent="checklist_done",
        choices=offer if data["proposed"] else (),
    )
    return [summary, _letter(ctx, run, data, with_others=True)]


def _letter(ctx: Context, run: "ChecklistRun", data: dict[str, Any], with_others: bool) -> Reply:
    """The draft letter; the clusters not proposed have a section, or are left out on request."""
    # The coordinator chooses whether the letter mentions the clusters it does not propose.
    offer: tuple[Choice, ...] = ()
    if data["not_proposed"] and with_others:
        offer = (choice(ctx, N_("Leave out the clusters not proposed"), f"letter:{run.id}:short"),)
    elif data["not_proposed"]:
        offer = (choice(ctx, N_("Mention the clusters not proposed"), f"letter:{run.id}:full"),)
        data = {**data, "not_proposed": []}
    letter = reply(ctx, "checklist/draft_letter.j2", **data)
    return replace(
        letter, intent="draft_letter", file_name=f"activation-draft-{run.id}.md", choices=offer
    )


@router.action("letter", r"letter:(?P<run>\d+):(?P<which>short|full)")
def letter_button(msg: Incoming, ctx: Context) -> Reply:
    """`letter:<run>:short|full`: the finished checklist's letter, with or without the others."""
    pressed = ctx.pressed
    run = checklist_runs.get(ctx.session, int(pressed["run"])) if pressed else None
    if pressed is None or run is None or run.identity != msg.identity or run.status != "done":
        return replace(reply(ctx, "checklist/stale.j2"), intent="checklist")
    return _letter(ctx, run, summary_data(ctx, run), with_others=pressed["which"] != "short")


_ENDS = (".", "!", "?", "…", "。", "！", "？", "؟")
# The steps done before the letter is sent: what it may claim, or must not.
LETTER_STEPS = (1, 2, 3, 4)


def as_sentence(text: str, lang: str, as_typed: Callable[[str], bool] | None = None) -> str:
    """A note as a whole sentence: capitalised, ending with a full stop in `lang`'s script.

    A first word `as_typed` says to keep ("hct", "unicef": a name typed in lower case) keeps
    the user's casing: capitalised it would read "Hct", a casing nobody wrote.
    """
    text = " ".join(str(text or "").split()).strip(" ,;:-–—")
    if not text:
        return ""
    if not (as_typed and as_typed(text.split()[0])):
        text = text[:1].upper() + text[1:]
    if not text.endswith(_ENDS):
        text += "。" if lang == "zh" else "."
    return text


def _arrangement(
    ctx: Context, cluster: str, lead: str, condition: str | None = None
) -> list[dict[str, Any]]:
    """A cluster whose global lead depends on the emergency: each case, and which is proposed.

    With the kind of emergency known, only its own case is the one proposed: UNHCR proposed
    for CCCM after a cyclone is not "the arrangement for conflict".
    """
    words = ctx.kb.text(ctx.lang)
    leads = ctx.kb.sectors[cluster].leads
    if not any(x.when for x in leads):
        return []
    return [
        {
            **agency_label(ctx, x.agency),
            "role": x.role,
            "role_label": words.roles[x.role],
            "when": words.conditions[x.when] if x.when else "",
            "proposed": x.agency == lead and condition in (None, x.when),
        }
        for x in leads
    ]


def _organisation(ctx: Context, name: str) -> dict[str, str | int]:
    """A lead or co-lead: an agency we know by its names, any other by the name given."""
    # "Oxfam and Save the Children" are two: the letter says "co-leads".
    count = len(names_in(ctx.kb, name)) or 1
    if name in ctx.kb.agencies:
        return {**agency_label(ctx, name), "count": count}
    return {"name": name, "acronym": name, "count": count}


# A place as written in a letter's title: words and the marks between them ("Darfur, Sudan",
# "Côte d'Ivoire (north)"); markup or a mention ("<b>", "<!here>", "*") is no part of a name.
_PLACE = re.compile(r"^[^\W_][\w\s,.'’()/&-]*$")


def _country_shown(ctx: Context, country: Mapping[str, Any]) -> str:
    """The country as typed, or by its name in the reply's language when that is all it says.

    "sudan" and "Soudan" are Sudan ("苏丹" in a Chinese letter); "Darfur, Sudan" stays as typed.
    """
    typed, code = " ".join(str(country.get("name", "")).split()), country.get("code")
    if code and (not ctx.kb.matcher.entities(typed).leftover or not _PLACE.match(typed)):
        return country_name(ctx, str(code))  # "<b>Sudan</b> <!here>" is Sudan in the letter
    return typed  # on one line: it stands in the letter's title and signature


def _letter_country(ctx: Context, country: Mapping[str, Any]) -> str:
    """The country the letter is from, by its name in the letter's language; else as shown."""
    code = country.get("code")
    return country_name(ctx, str(code)) if code else _country_shown(ctx, country)


def _response_told(ctx: Context, country: Mapping[str, Any]) -> str:
    """The country answer when it names more than the country ("Darfur, Sudan"), else ""."""
    shown = _country_shown(ctx, country)
    return shown if shown != _letter_country(ctx, country) else ""


# From this step on, a step done means the activation was already asked of the ERC (step 5
# is the RC/HC's letter to the ERC, the one the checklist drafts).
REQUESTED_FROM_STEP = 5


def _step_warnings(step_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the steps' answers say against each other, for a warning line above the letter.

    A step done while an earlier one is not (n/a aside) is out of order; a step from
    REQUESTED_FROM_STEP on done means the activation has already been requested.
    """
    status = {s["number"]: s["status"] for s in step_rows}
    open_steps = [n for n, st in status.items() if st not in {"done", "not_applicable"}]
    first_open = min(open_steps, default=0)
    done_after = [n for n, st in status.items() if st == "done" and first_open and n > first_open]
    requested = [n for n, st in status.items() if st == "done" and n >= REQUESTED_FROM_STEP]
    return {
        "step_out_of_order": {"later": min(done_after), "earlier": first_open}
        if done_after
        else None,
        "step_requested": min(requested, default=0),
    }


def summary_data(ctx: Context, run: "ChecklistRun") -> dict[str, Any]:
    """Everything the summary and the letter say, from the stored answers."""
    a = Answers(run.answers)
    lang = ctx.lang

    def names_a_body(word: str) -> bool:  # "hct", "unicef": kept as the user typed it
        e = ctx.kb.matcher.entities(word)
        return bool(e.acronyms or e.agencies)

    def sentence(text: str) -> str:
        return as_sentence(text, lang, names_a_body)

    chosen = a.clusters()
    steps = step_texts(ctx.kb, lang)
    clusters = []
    condition = a.condition(ctx.kb)
    for c in chosen:
        v = verdict(a.stored, c)
        lead, colead = a.leads(ctx.kb, c)
        gaps, capacity = f"gaps:{c}", f"capacity:{c}"
        clusters.append(
            {
                **sector_label(ctx, c),
                "outcome": v.outcome,
                "criterion1": v.criterion1,
                "criterion2": v.criterion2,
                "missing": list(v.missing),
                # The criteria answered "no": why the verdict is "not met".
                "answered_no": [k for k in ("change", gaps, capacity) if a.value(k) == "no"],
                "gaps": a.value(gaps) or "",
                "capacity": a.value(capacity) or "",
                "gaps_note": a.note(gaps),
                "capacity_note": a.note(capacity),
                "gaps_sentence": sentence(a.note(gaps)),
                "capacity_sentence": sentence(a.note(capacity)),
                "lead": _organisation(ctx, lead) if lead else None,
                "lead_differs": bool(lead) and lead not in global_leads(ctx.kb, c, condition),
                "global_leads": [
                    agency_label(ctx, x) for x in sorted(global_leads(ctx.kb, c, condition))
                ],
                "arrangement": _arrangement(ctx, c, lead, condition),
                "colead": _organisation(ctx, colead) if colead else None,
                # "not sure", "tbd": a place to fill in, never a name the user did not give.
                "lead_undecided": a.undecided(f"lead:{c}"),
                "colead_undecided": a.undecided(f"colead:{c}"),
                "colead_note": a.note(f"colead:{c}") if colead else "",
            }
        )
    country = a.country()
    step_rows = [
        {
            "number": n,
            "text": steps.get(n, ""),
            "status": a.value(f"step:{n}") or "",
            "note": a.note(f"step:{n}"),
            "note_sentence": sentence(a.note(f"step:{n}")),
        }
        for n in range(1, STEPS + 1)
    ]
    today = utcnow().date()
    return {
        **_step_warnings(step_rows),
        "country": _country_shown(ctx, country),
        # The letter is from one country's RC/HC: its title, From and signature name the
        # country; the answer, when it says more ("Mozambique, cyclone response in Sofala"),
        # stands with the situation.
        "letter_country": _letter_country(ctx, country),
        "response": _response_told(ctx, country),
        "emergency": a.value("emergency") or "",
        "emergency_sentence": sentence(a.value("emergency") or ""),
        "change": a.value("change") or "",
        "change_note": a.note("change"),
        "change_sentence": sentence(a.note("change")),
        "clusters": clusters,
        "proposed": [c for c in clusters if c["outcome"] == "met"],
        "not_proposed": [c for c in clusters if c["outcome"] != "met"],
        "steps": step_rows,
        "letter_steps": {str(s["number"]): s for s in step_rows if s["number"] in LETTER_STEPS},
        # Who approves changed in late 2021 by one source: the drafter checks the route.
        "approver_note": ctx.kb.passage_text(ctx.kb.passages["approver_update"], lang),
        "date": today.isoformat(),
        "long_date": format_date(today, format="long", locale=lang),
    }
