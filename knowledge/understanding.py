"""Turn one message into an intent and its entities: pure, fast, and never a guess.

Answering is three honest steps. Precise rules first, where precision is the point: who leads
a cluster, what an agency leads, a country's records, commands. Then the ranker, over passages
cut at the grain of the facts, for everything else. Then "I don't know", with the nearest
topics offered. A follow-up ("and in Haiti?") re-asks the last question with one thing swapped.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from knowledge.base import DEACTIVATION, KnowledgeBase
from knowledge.facts import LANGUAGES, Passage
from knowledge.matching import (
    _CJK,
    MAX_UNDERSTOOD,
    QUESTION_WORDS,
    Entities,
    after_who,
    asks_besides,
    normalize,
    opens_a_question,
    without,
)
from knowledge.ranking import Ranked

# The ranker's confidence (the weighted share of the question's words a passage covers) from
# which its best passage answers; below it we say we do not know and offer the nearest topics.
CONFIDENT = 0.4
# The confidence a passage needs when it holds only one of the question's words.
ALONE = 0.5
# Intents whose subject a follow-up can swap one part of ("presence": who works where).
# "And the next one?", "y el siguiente paso?": at most so many words.
_NEXT_WORDS = 6
# Words that move from the line last shown ("next", "the one before", "and after that?").
_LINE_MOVES = frozenset({"next_line", "previous_line", "after", "before"})
_NEXT_ONLY = frozenset({*_LINE_MOVES, "followup", "pointer"})
# The answers whose topic a follow-up ("why?", "and the next one?") builds on.
_LINE_KEPT = frozenset({"concept", "no_reason"})
# "Why?", "but why is that?", "¿y eso por qué?": at most so many words.
_WHY_WORDS = 5
_WHY_ONLY = frozenset({"why", "followup", "pointer"})
FOLLOWABLE = frozenset({"who_leads", "agency_clusters", "country_clusters", "presence"})
# Languages written in Latin script, where a short message's words may not tell them apart.
LATIN = ("en", "fr", "es")
# A name we do not know is a cluster name only when it is short ("the cash cluster").
NAME_WORDS = 3
# The checklist's answer and control words that, typed alone, answer nothing outside it
# ("yes", "无", "cancel", "取消", "retour": no topic question, whatever passage shares the word).
_ANSWER_WORDS = ("yes", "no", "none", "unsure", "not_applicable")
_CONTROL_WORDS = ("back", "skip", "status", "pause", "resume", "restart", "cancel")
# The whole activation procedure, for a wish to activate that asks how.
_PROCEDURE = "activation_steps"
# When activating is justified: what a "when" asks of activation as a whole.
_CRITERIA = "activation_criteria"
# Who proposes and who decides: what a "who" asks of activation as a whole.
_DECISION = "activation_decision"
_ACTIVATION = frozenset({_PROCEDURE, _DECISION})
# What a cluster is: the approach's own topic, which says it.
_APPROACH = "cluster_approach"
# What every cluster does: asked of one cluster, beside its lead (we hold no sector's own duties).
_FUNCTIONS = "core_functions"
_JOINING = "joining"
_MEMBERSHIP = "cluster_approach"
# Intent words that make a question on the cluster word ask for something else than what it is.
_NOT_WHAT = frozenset({"lead", "which_clusters", "list_clusters", "presence", "help", "wish"})
# The words beside an acronym, at most, for a message to ask what the acronym stands for when
# nothing else answers it.
_BESIDE_AN_ACRONYM = NAME_WORDS
# A step the clause of an "after" names, at this share of the best candidate's confidence.
_AS_SURE = 0.8
# The words that ask the line after (before) one a clause names: "after step 5", "第三步之后
# 是什么" (its 之后 is read as the longer "之后是什么"), "what comes before step 5".
_AFTER = frozenset({"after", "once", "next_line"})
_BEFORE = frozenset({"before", "previous_line"})


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message asks for."""

    intent: str
    lang: str | None
    confidence: float
    sectors: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    country: str | None = None
    topic: str | None = None  # a passage id, a concept id or "acronym:XX"
    related: tuple[str, ...] = ()  # the nearest other topics, for buttons
    acronyms: tuple[str, ...] = ()
    unknown_name: str = ""
    suggestions: tuple[str, ...] = ()
    own_country: bool = False  # "in our country": a country meant, not named
    condition: str | None = None  # the one kind of emergency named ("in floods")
    country_choices: tuple[str, ...] = ()  # "Congo": the countries it may mean, none named
    # Every country named ("in Sudan and Chad"), `country` first; () when one or none.
    also_countries: tuple[str, ...] = ()
    # Places the question puts a cluster in that we know no country by ("in Darfur"), as typed.
    unknown_places: tuple[str, ...] = ()
    # Facts asked of a named cluster that we do not hold, said so beside its lead: "contact"
    # ("... and what is their phone number?"), "budget", "count" (of partners or staff), "terms"
    # (a post's pay or contract).
    unheld: tuple[str, ...] = ()
    # "Is FAO the only FSC lead?": a yes/no on whether the agency leads alone.
    only: bool = False
    # "Step 9" of eight: the number asked past the end of the list `topic` is (0: none).
    beyond: int = 0
    # A second question in the same message ("the criteria, and who decides?"): its topic.
    also_topic: str | None = None
    # The parts of the last lead answer a follow-up asks for ("who is their co-lead?"):
    # "co_lead", "coordinator", "contact", said first.
    parts: tuple[str, ...] = ()

    def subject(self) -> dict[str, Any]:
        """What a follow-up may build on, as JSON-able data (stored per person and chat).

        Only a lead question's names are kept; of any other question only its language,
        for a next message that shows none ("HRP?"), so most questions change nothing.
        """
        if self.intent not in FOLLOWABLE:
            # A numbered line ("step 5") is kept too, for "and the next one?".
            line = {"line": self.topic} if self.intent in _LINE_KEPT and self.topic else {}
            return {"intent": "", "lang": self.lang, **line}
        return {
            "intent": self.intent,
            "lang": self.lang,
            "sectors": list(self.sectors),
            "agencies": list(self.agencies),
            "country": self.country,
        }


def understand(
    text: str, kb: KnowledgeBase, previous: dict[str, Any] | None = None, *, whole: bool = True
) -> Understanding:
    """Classify `text`; `previous` is the last question's subject, for follow-ups.

    `whole`: `text` is a message, which may hold two questions; a clause of one is not split
    again (each split understands two clauses: nested, the work would double per comma).
    """
    text = text.strip()
    if not text:
        return Understanding("empty", None, 1.0)
    matcher = kb.matcher
    lang = matcher.language(text[:MAX_UNDERSTOOD])
    if len(text) > MAX_UNDERSTOOD:
        return Understanding("too_long", lang, 1.0)
    # A bare answer or control word ("yes", "无", "لا", "annuler") outside the checklist asks
    # about no topic: the same "I don't know" in every language.
    # "Next" after a step is the step after it, though it is the checklist's "skip" too.
    if kb.checklist_words.only(text, _ANSWER_WORDS + _CONTROL_WORDS):
        following = _next_line(matcher.entities(text), previous or {}, kb, lang)
        return following or Understanding("unknown", lang, 0.0)
    e = _plain_case(matcher.entities(text), text, kb)
    if previous:
        own_words = lang is not None and matcher.marked(text, lang)
        before = previous.get("lang")
        # Its own words are clearly another Latin-script language when two of them, or more,
        # say so and more say so than say any other ("et au Soudan ?" after Spanish is
        # French; "and UNICEF?" is one word and goes on in the earlier language).
        switched = (
            lang in LATIN
            and before in LATIN
            and lang != before
            and (ours := matcher.evidence(text, lang)) >= 2
            and all(ours > matcher.evidence(text, other) for other in LATIN if other != lang)
        )
        again = _followup(
            _named_in_capitals(e, text, kb), previous, lang, own_words, switched=switched
        )
        # "营养集群做什么" names a cluster in one run, as "营养呢" does, but asks what it does.
        if (
            again is not None
            and not _asks_what_it_does(e, normalize(text))
            and not _asks_what_it_is(e, text, kb, lang or before)
        ):
            return again
        pointed = _pointed(e, text, previous, lang or before)
        if pointed is not None:
            return pointed
        following = _next_line(e, previous, kb, lang or before, text)
        if following is not None:
            return following
        if _only_a_move(e, text, kb, lang or before):  # no line to move from
            return Understanding("unknown", lang, 0.0)
        doer = _who_does_the_line(e, text, previous, kb, lang or before)
        if doer is not None:
            return doer
        nth = _nth_of_the_list(e, text, previous, kb, lang or before)
        if nth is not None:
            return nth
        reason = _why_again(e, previous, kb, lang or before)
        if reason is not None:
            return reason
        within = _within_the_topic(e, text, previous, kb, lang or before)
        if within is not None:
            return within
        parts = _record_parts(e, text, previous, kb, lang or before)
        if parts is not None:
            language = _followed_language(previous, e, lang, own_words, switched)
            return replace(parts, lang=language)
        works = _presence_again(e, previous, kb, lang or before)
        if works is not None:
            language = _followed_language(previous, e, lang, own_words, switched)
            return replace(works, lang=language)
        lead_again = _lead_again(e, text, previous, kb, lang or before)
        if lead_again is not None:
            language = _followed_language(previous, e, lang, own_words, switched)
            return replace(lead_again, lang=language)
    if not previous and _only_a_move(e, text, kb, lang):
        return Understanding("unknown", lang, 0.0)
    langs = [lang] if lang else ["en", "fr", "es"]
    # "When" beside another question word joins two clauses ("what should we do when we
    # activate?", "¿qué hacer cuando queremos activar?"): the other word says what is asked.
    whens = [p for code in langs for p in kb.text(code).intent_words.get("when", ())]
    # Its "when" is then no word of what is asked either ("quand on active un cluster, qui
    # décide ?" asks who decides, not when activating is justified).
    # "What does the ERC do when it receives the letter?" may name a step done, as "after" does.
    joined_by_when = "when" in e.intents
    if "when" in e.intents and asks_besides(text, whens):
        e = replace(e, intents=e.intents - {"when"}, rest=without(e.rest, whens))
    e = _without_examples(e, langs, kb)
    e = _spelt_acronym(e, text, kb, langs)
    # The ranker sees what the question asks beside the names and lead words, so "what does
    # UNHCR lead?" is a lead question and "is our NGO co-lead accountable to the HC?" is not.
    ranked = kb.ranker.rank(e.rest, langs, limit=4)
    if ranked:
        ranked = _of_deactivating(ranked, e.rest, kb, langs)
        ranked = _two_lines_of_one_topic(ranked, text, kb, langs)
        ranked = _by_its_actors(ranked, e, text, kb, langs)
        ranked = _of_activating(ranked, e, kb, langs)
        ranked = _handed_over(ranked, e, text, kb, langs)
        ranked = _the_procedure_by_its_name(ranked, text, kb, langs)
    if "duration" in e.intents and ranked:
        ranked = _of_the_subject(ranked, e.rest, kb, langs)
    if "still" in e.intents and ranked:
        ranked = _still_the_approver(ranked, e, kb, langs)
    duty = _duty_of_the_subject(ranked, e, kb, langs, normalize(text))
    if duty is not None:
        ranked, e = duty
    if e.intents & (_AFTER | _BEFORE) or joined_by_when:
        back = not (e.intents & _AFTER or joined_by_when)
        ranked = _after_step(text, ranked, kb, langs, e.situation, back=back)
    other = (
        _another_organisation(e, text, kb, langs)
        or _an_organisation_with_a_cluster_word(e, text)
        or _national_society(e, text, kb, langs)
    )
    if other:
        return Understanding("unknown_agency", lang, 0.9, unknown_name=other[:60])
    u = _classify(e, lang, ranked, kb, langs, normalize(text), text)
    u = _past_the_end(u, text, kb, langs)
    if (
        u.intent in _GOVERNMENT_OVERRIDES or _instead_of_government(u, kb, langs)
    ) and _government_asked(e, normalize(text), kb, langs):
        u = _as_government(u, ranked, kb)
    # "Les autorités peuvent-elles diriger le cluster santé ?": the cluster's lead, then what
    # our topics say of the government leading (as of anyone else, `_another_leading`).
    if (
        u.intent == "who_leads"
        and u.related
        and _instead_of_government(replace(u, intent="concept", topic=u.related[0]), kb, langs)
        and _government_asked(e, normalize(text), kb, langs)
    ):
        lines = kb.ranker.rank(e.rest, langs, limit=8)
        line = next((r.topic for r in lines if _family(r.topic, kb) == _GOVERNMENT), _GOVERNMENT)
        u = replace(u, related=(line,))
    whole_procedure = _whole_procedure_named(u, e, ranked, text, kb, langs)
    if whole_procedure is not None:
        return whole_procedure
    if whole and u.intent == "who_leads" and not (u.related or u.unheld):
        pair = _two_questions(text, kb, _a_lead_and_a_topic(kb))
        if pair is not None:
            asked = next(q.topic for q in pair if q.intent == "concept")
            u = replace(u, related=(asked,) if asked else ())
    if whole and u.intent in ("concept", "unknown"):
        both = _two_questions(text, kb, _two_topics(kb), listed=True)
        # A topic ranked over two questions that one of its lines answers holds both ("can an
        # NGO co-lead? are we then provider of last resort?": the NGO co-lead topic), whole
        # when the message ranked one of its lines first (the other line answers the rest).
        family = _family(u.topic or "", kb)
        if (
            both is not None
            and family in kb.concepts
            and any(q.topic != u.topic and _family(q.topic or "", kb) == family for q in both)
        ):
            both = None
            u = replace(u, topic=family)
        if both is not None:
            return replace(both[0], lang=lang or both[0].lang, also_topic=both[1].topic)
    if whole and u.intent in ("unknown", "acronym"):
        ending = _after_a_preamble(text, kb, topics=u.intent == "acronym")
        if ending is not None:
            return replace(ending, lang=lang or ending.lang)
    if whole and u.intent == "unknown" and _names_the_procedure(text, kb, langs):
        return Understanding("concept", lang, ALONE, topic=_PROCEDURE)
    # The global list too is asked of a place ("which clusters are active in Sudn?").
    if u.intent in ("who_leads", "list_clusters") and e.leftover:
        places = _unknown_places(e, text, kb, langs)
        return replace(u, unknown_places=places) if places else u
    return u


def _what_it_means(e: Entities) -> bool:
    """Whether an acronym with a topic of its own is asked what it means, and nothing more.

    "What does CCPM mean?", "CCPM是什么意思": its topic, which spells it out and says what it
    is, rather than its words alone (more words, "... in practice if there is no money?", ask
    what the topic says of them).
    """
    # "What does POLR stand for?" ("stand" left over) still asks for the words.
    return not e.leftover and not e.sectors and not e.agencies


def _spelt_acronym(e: Entities, text: str, kb: KnowledgeBase, langs: list[str]) -> Entities:
    """`e` with an acronym's whole name, when that is all the message names, read as the acronym.

    "What is the Inter-Agency Standing Committee?", "¿qué es el Comité Permanente entre
    Organismos?", "机构间常设委员会是什么": the IASC, as if typed, not the step whose text holds
    its words. The longest name wins ("... (IASC) 应急主任小组" is the EDG); a name of one word,
    a cluster's, an agency's, a post's or a topic's title (read so already) is left alone.
    """
    if e.sectors or e.agencies:
        return e
    norm = normalize(text)
    fillers = kb.matcher.post_fillers
    posts = set(kb.matcher.posts.targets.values())
    words = [w for w in norm.split() if w not in fillers]
    left = e.leftover.split()
    found: list[tuple[int, str, str]] = []
    for code in dict.fromkeys([*langs, "en"]):
        for acronym, spelt in kb.text(code).acronyms.items():
            name = normalize(re.sub(r"\(.*?\)|（.*?）", " ", spelt))
            if _CJK.search(name):
                name = name.replace(" ", "")
                held = len(name) >= 4 and name in norm and all(w in name for w in left)
            else:
                own = [w for w in name.split() if w not in fillers]
                held = len(own) >= 2 and any(
                    words[i : i + len(own)] == own for i in range(len(words))
                )
                held = held and all(w in own for w in left)
            # A topic's title ("provider of last resort") and a name holding a lead or
            # cluster word ("cluster lead agency", a post) are read so already.
            titled = acronym in kb.acronym_topics or acronym in posts
            if held and not titled and not kb.matcher.intents.find(name):
                found.append((len(name), acronym, name))
    if not found:
        return e
    _, acronym, name = max(found)
    if _CJK.search(name):
        rest = normalize(e.rest).replace(name, " ")
    else:
        named = set(name.split())
        rest = " ".join(w for w in normalize(e.rest).split() if w not in named)
    return replace(e, acronyms=(acronym,), leftover="", rest=f"{rest} {acronym.casefold()}")


# The topic on the government's part, and the answers a question on it may have been given
# instead: no topic, a name we do not know ("can the host government lead a cluster?": no
# agency), a cluster's lead ("les autorités peuvent-elles diriger le cluster santé ?").
_GOVERNMENT = "government_role"
_GOVERNMENT_OVERRIDES = frozenset({"unknown", "unknown_cluster", "unknown_agency"})
# The government before a lead word by this many words at most ("el gobierno nacional puede
# co-liderar"); a role word this near the government ("el rol del gobierno").
_SUBJECT_WORDS, _ROLE_WORDS = 4, 3


def _government_asked(e: Entities, norm: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the government is who the question has leading, or whose role it asks.

    "El gobierno nacional puede co-liderar el cluster?", "le gouvernement peut-il coprésider
    un cluster ?", "هل تقدر الحكومة تقود مجموعة", "ما دور الحكومة": the government leading, as
    the subject of a lead or co-lead word (Arabic also puts it right after the verb), or the
    part it plays; not one who leads coordinating with it ("el líder tiene que coordinar con el
    gobierno"), nor "who" asked ("the ministry asked who leads"), nor a question on NGOs.
    """
    groups = [kb.text(code).government_words for code in langs]
    names = [normalize(w) for g in groups for w in g["names"]]
    if not any(_holds(norm, n) for n in names):
        return False
    if any(_holds(norm, w) for g in groups for w in g["ngo"]):
        return False
    leading = [p for code in langs for p in kb.lead_phrases[code]]
    leading += [normalize(w) for code in langs for w in kb.text(code).record_words["co_lead"]]
    roles = [normalize(w) for g in groups for w in g["roles"]]
    if _CJK.search(norm):
        at = min((norm.find(n) for n in names if n in norm), default=-1)
        lead_at = [norm.find(p) for p in leading if _CJK.search(p) and p in norm]
        return not _WHO.search(norm) and (
            any(i > at for i in lead_at) or any(r in norm[at:] for r in roles)
        )
    tokens = norm.split()

    def starts(phrases: list[str]) -> list[int]:
        cut = [p.split() for p in phrases if p]
        return [i for i in range(len(tokens)) for p in cut if tokens[i : i + len(p)] == p]

    government, leads, parts = starts(names), starts(leading), starts(roles)
    arabic = _ARABIC.search(norm) is not None
    for g in government:
        for i in leads:
            between = tokens[g:i]
            if 0 < i - g <= _SUBJECT_WORDS and not any(_WHO.fullmatch(w) for w in between):
                return True
            if arabic and g - i == 1:  # "هل يمكن أن تقود الحكومة"
                return True
        if any(abs(g - r) <= _ROLE_WORDS for r in parts):
            return True
    return False


def _instead_of_government(u: Understanding, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether a topic answers a question on the government's part only by sharing its words.

    A topic whose text never names the government (NGOs co-leading, who makes up a cluster,
    OCHA's part) says nothing of it; the approach as a whole names it among everything else.
    One that does (a cluster handed over to the government) may be what is asked.
    """
    family = _family(u.topic or "", kb)
    if u.intent != "concept" or family == _GOVERNMENT:
        return False
    if family == _APPROACH:
        return True
    for code in langs:
        concept = kb.text(code).concepts.get(family)
        if concept is None:
            continue
        said = normalize(f"{concept.title} {concept.body} {' '.join(concept.keywords)}")
        if any(_holds(said, w) for w in kb.text(code).government_words["names"]):
            return False
    return True


def _as_government(u: Understanding, ranked: list[Ranked], kb: KnowledgeBase) -> Understanding:
    """The answer on the government's part: the whole topic, or its line the ranker put first."""
    first = ranked[0].topic if ranked else ""
    line = first if _family(first, kb) == _GOVERNMENT else _GOVERNMENT
    related = tuple(r.topic for r in ranked if _family(r.topic, kb) != _GOVERNMENT)[:2]
    return replace(
        u,
        intent="concept",
        confidence=max(u.confidence, CONFIDENT),
        topic=line,
        related=related,
        unknown_name="",
        suggestions=(),
    )


def _without_examples(e: Entities, langs: list[str], kb: KnowledgeBase) -> Entities:
    """The question without a name it gives as an example ("like World Vision").

    "Can an international NGO like World Vision co-lead a cluster?" asks what any NGO may do:
    the words of a name we do not hold, after `organisation_words.like`, say nothing of it.
    A word that also asks ("como") is no such word (`KnowledgeBase.example_words`).
    """
    likes = {p for code in langs for p in kb.example_words[code]}
    tokens = e.rest.split()
    if not e.leftover or not set(tokens) & {p[0] for p in likes}:
        return e
    leads = {w for code in langs for w in kb.lead_word_parts[code]}
    left = set(e.leftover.split()) - leads
    kept: list[str] = []
    dropped: set[str] = set()
    i = 0
    while i < len(tokens):
        like = next((p for p in likes if tuple(tokens[i : i + len(p)]) == p), None)
        end = i + len(like) if like else i
        while like and end < len(tokens) and tokens[end] in left:
            end += 1
        if like and end > i + len(like):
            dropped.update(tokens[i + len(like) : end])
            i = end
            continue
        kept.append(tokens[i])
        i += 1
    if not dropped:
        return e
    leftover = " ".join(w for w in e.leftover.split() if w not in dropped)
    return replace(e, rest=" ".join(kept), leftover=leftover)


# Where a sentence or a clause ends, before the question a message comes to; or, with no mark,
# where a question opens inside a sentence ("... with the HCT tomorrow what exactly is POLR?").
_PREAMBLE_END = re.compile(
    r"[:：.。!！;；,，、،…]\s*|\s(?=(?:what|how|which|why|where)\s+(?:exactly\s+|really\s+)?"
    r"(?:is|are|was|does|do|did|can|should|would|happens)\s)",
    re.IGNORECASE,
)
# Where a question a message opens with ends, before what the asker needs it for ("what are
# the 6 core functions again? need them for a training slide").
_QUESTION_END = re.compile(r"[?？؟:：.。!！;；,，、،…]")


def _after_a_preamble(
    text: str, kb: KnowledgeBase, *, topics: bool = False
) -> Understanding | None:
    """The question a message ends with, after words on who asks and why, or opens with.

    "Sorry to bother, we are preparing a training for new staff: what exactly is the provider
    of last resort?" Asked only of a message not understood whole: its other words had drowned
    the question. The last two clauses that ask are tried, the last first; then the first
    clause, when it asks, before what the asker needs the answer for ("集群的核心职能有哪几个，
    我要写进培训PPT里"). `topics`: only a topic answers (the whole message was read as an
    acronym of its preamble, "I have a meeting with the HCT tomorrow, what is POLR?").
    """
    tried = 0
    clauses = [
        text[m.end() :].strip()
        for m in reversed(list(_PREAMBLE_END.finditer(text.rstrip(" ?？؟!！.。"))))
    ]
    first = _QUESTION_END.search(text.rstrip(" ?？؟!！.。"))
    opening = [text[: first.start()].strip()] if first else []
    for clause in [*clauses, *opening]:
        asks = (
            _CHINESE_ASKING.search(clause) if _CJK.search(clause[:1]) else opens_a_question(clause)
        )
        if not clause or not asks:
            continue
        tried += 1
        if tried > 3:
            break
        u = understand(clause, kb, whole=False)
        if u.intent == "concept" or (not topics and u.intent not in ("unknown", "empty")):
            return u
    return None


# Where a message may hold a second question: after a question mark or a comma, at "and"
# ("et", "y", 还有, Arabic و joined to a question word), when what follows asks one.
_SECOND_QUESTION = re.compile(
    r"[?？؟;；,，、،]\s*(?:(?:and|et|y|e)\s+|و(?=من|ما|ماذا|متى|كيف|لماذا|هل|كم))?|"
    r"\s+(?:and|et|y|e)\s+|还有|另外|以及|\s+و(?=من|ما|ماذا|متى|كيف|لماذا|هل|كم)"
)
# The places a message is tried as two questions at, at most (each understands two clauses).
_SPLITS = 3
# The question words of every language, which say that a clause asks, not what.
_ASKING_WORDS = (
    "how what who when why which where comment quoi qui quand pourquoi quel quelle como que "
    "quien cuando por cual donde 怎么 如何 什么 谁 哪 为什么 كيف ما ماذا من متى لماذا"
)
# A Chinese clause asks with a question word anywhere in it ("集群怎么停用？").
_CHINESE_ASKING = re.compile(r"什么|啥|怎么|咋|怎样|如何|谁|哪|吗|呢|多少|几|是否|为什么|为何")


# A clause opening so says when or if, and asks nothing ("cuando se activa, ¿qué se hace?").
_SUBORDINATE = re.compile(
    r"\W*(?:when|whenever|if|once|after|before|while|quand|lorsque|si|une fois|après|avant|"
    r"cuando|una vez|después|antes|mientras|عندما|إذا|اذا|لما|بعد|قبل)(?:\W|$)"
    r"|\W*(?:如果|当|一旦)",
    re.IGNORECASE,
)


# A clause of a message, as typed, and as understood on its own.
Clause = tuple[str, Understanding]


def _two_questions(
    text: str, kb: KnowledgeBase, both: Callable[[Clause, Clause], bool], *, listed: bool = False
) -> tuple[Understanding, Understanding] | None:
    """Two questions in one message ("what are the criteria and who decides?"), when `both`.

    Each clause is understood on its own; `both` says whether the two clauses are questions
    the message asks apart (two topics, or a lead and a topic). `listed`: the second may be
    a few words naming its topic by its title, asked by the first's question word ("what are
    the criteria and the steps?").
    """
    tried = 0
    for m in _SECOND_QUESTION.finditer(text):
        first, second = text[: m.start()].strip(), text[m.end() :].strip()
        asked = first + m.group(0).strip()[:1]  # with its question mark, when it has one
        if not first or _SUBORDINATE.match(first) or _only_how_far(first, kb):
            continue
        named = listed and _named_after(asked, second)
        if not (named or _asks_again(asked, second)):
            continue
        tried += 1
        if tried > _SPLITS:
            return None
        one, two = understand(first, kb, whole=False), understand(second, kb, whole=False)
        if both((first, one), (second, two)) and not (named and not _titled(second, two, kb)):
            return one, two
    return None


def _only_how_far(clause: str, kb: KnowledgeBase) -> bool:
    """Whether a clause is only a procedure's span ("from start to finish", "من البداية للنهاية").

    It says how much of what the next clause asks is wanted, and asks nothing of its own.
    """
    norm = normalize(clause)
    return any(
        norm == normalize(p) for code in kb.languages for p in kb.text(code).procedure_words
    )


def _named_after(first: str, second: str) -> bool:
    """Whether `second` is a few words after a question, asked by its question word."""
    words = second.split()
    return (
        not _CJK.search(second)
        and 0 < len(words) <= NAME_WORDS
        and not opens_a_question(second)
        and (opens_a_question(first) or first.endswith(("?", "？", "؟")))
    )


def _titled(clause: str, u: Understanding, kb: KnowledgeBase) -> bool:
    """Whether a clause of a few words names its topic by a word of the topic's title."""
    code = u.lang or "en"
    index = kb.ranker.indexes.get(code)
    if index is None or not u.topic:
        return False
    title = index.titles.get(_family(u.topic, kb), frozenset())
    return bool(set(kb.ranker.tokens(clause, code)) & title)


def _two_topics(kb: KnowledgeBase) -> Callable[[Clause, Clause], bool]:
    """Both clauses ask a topic, of two topics apart, the second saying which."""

    def both(a: Clause, b: Clause) -> bool:
        (_, one), (second, two) = a, b
        if one.intent != "concept" or two.intent != "concept" or not (one.topic and two.topic):
            return False
        apart = _family(one.topic, kb) != _family(two.topic, kb)
        return apart and _names_its_topic(second, two, kb)

    return both


def _a_lead_and_a_topic(kb: KnowledgeBase) -> Callable[[Clause, Clause], bool]:
    """One clause asks who leads, the other a topic it names ("what is POLR? who leads WASH?")."""

    def both(a: Clause, b: Clause) -> bool:
        topic = next((c for c in (a, b) if c[1].intent == "concept" and c[1].topic), None)
        lead = next((c for c in (a, b) if c[1].intent == "who_leads"), None)
        if topic is None or lead is None:
            return False
        return _names_its_topic(*topic, kb, asked_too=True)

    return both


def _names_its_topic(
    clause: str, u: Understanding, kb: KnowledgeBase, *, asked_too: bool = False
) -> bool:
    """Whether a second clause says what it asks, not only how ("and how does it work?").

    A clause that points back ("it", "ça") asks about the first one's topic; one whose only
    word beside its question words is in no title of its topic ("cómo funciona") ties with
    every topic that says the word, and the ranker's pick among them is chance.
    """
    e = kb.matcher.entities(clause)
    if "pointer" in e.intents:
        return False
    code = u.lang or "en"
    ranker = kb.ranker
    asking = ranker.word_tokens(_ASKING_WORDS, code)
    words = set(ranker.tokens(e.rest, code)) - asking - kb.cluster_tokens.get(code, frozenset())
    index = ranker.indexes.get(code)
    if not words or index is None:
        return False
    topic = u.topic or ""
    title = index.titles.get(_family(topic, kb), frozenset())
    # Beside a lead question, a word people ask the topic with names it too ("what is POLR?").
    if asked_too:
        title = title | index.asked.get(topic, frozenset())
    return bool(words & title) or len(words) >= 2


def _asks_again(first: str, second: str) -> bool:
    """Whether `second` is a question of its own after `first`, not more of the same one.

    A Chinese question need not open with its question word ("集群怎么停用？"), so both of
    its clauses must hold one ("最后手段提供者是什么意思，集群怎么停用"); elsewhere the
    second opens with one.
    """
    if _CJK.search(second[:1]):
        return bool(_CHINESE_ASKING.search(first) and _CHINESE_ASKING.search(second))
    # The first asks too, or names what it asks in a few words ("criteres d'activation"):
    # "je suis nouvelle au bureau OCHA" says who asks.
    first_asks = (
        first.endswith(("?", "？", "؟"))
        or opens_a_question(first)
        or asks_besides(first, ())
        or len(first.split()) <= 3
    )
    # Two sentences each with its question mark are two questions, however the second opens
    # ("شو معايير التفعيل؟ وخلال قديش ساعة الـ ERC بيحول المقترح؟").
    marked = first.endswith(_MARKS) and second.rstrip().endswith(_MARKS)
    return first_asks and (opens_a_question(second) or marked)


_MARKS = ("?", "？", "؟")


def _family(topic: str, kb: KnowledgeBase) -> str:
    """The topic a passage is a line of, or the topic itself."""
    passage = kb.passages.get(topic)
    return passage.concept if passage is not None else topic


def _plain_case(e: Entities, text: str, kb: KnowledgeBase) -> Entities:
    """The names a message means where its case says nothing, read again in their case.

    Typed all in capitals ("WHO LEADS WASH"), its opening "WHO" is the question word, not the
    agency; "who leads etc" asks for the ETC, the one word left being its acronym in lower
    case (in a sentence, "etc" alone is "et cetera").
    """
    if text.isupper() and "WHO" in e.agencies and normalize(text).split()[:1] == ["who"]:
        return kb.matcher.entities(re.sub(r"WHO", "who", text, count=1))
    word = e.leftover if "lead" in e.intents and not e.sectors else ""
    if word and " " not in word and kb.matcher.acronym_sector(word) is not None:
        return kb.matcher.entities(
            re.sub(rf"\b{re.escape(word)}\b", word.upper(), text, flags=re.I)
        )
    return e


def _lead_again(
    e: Entities, text: str, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None
) -> Understanding | None:
    """The last lead question again, for a follow-up that names no cluster, agency or country.

    "And since when?", "depuis quand ?", "منذ متى؟" ask since when it holds there: the lead
    answer, whose record says when the cluster was activated (the ranker would answer with
    the approach's own start, 2005). "And in Darfur?" names a place we know no country by:
    it is said so beside the global lead, as for a whole question, and the next follow-up
    still follows the lead question.
    """
    sectors = tuple(previous.get("sectors") or ())
    if previous.get("intent") != "who_leads" or not sectors:
        return None
    if e.sectors or e.agencies or e.countries or e.words > _FOLLOWUP_WORDS:
        return None
    # "And in the country?", "et dans le pays ?": the lead in the last question's country, or
    # which country is meant (as for "in our country"), not the two levels of the approach.
    if "country_level" in e.intents:
        codes = [lang] if lang else list(kb.languages)
        phrases = [normalize(p) for c in codes for p in kb.text(c).intent_words["country_level"]]
        level = {w for p in phrases for w in p.split()}
        if all(w in level for w in normalize(e.leftover).split()):
            country = previous.get("country")
            return Understanding(
                "who_leads", lang, 0.8, sectors=sectors, country=country, own_country=not country
            )
    # "What does it do?": what every cluster does, beside the lead.
    if _asks_what_it_does(e, normalize(text)) and not (e.intents & {"lead"} or e.acronyms):
        return Understanding(
            "who_leads",
            lang,
            0.8,
            sectors=sectors,
            country=previous.get("country"),
            related=(_FUNCTIONS,),
        )
    since = "when" in e.intents and not (e.intents - _SINCE_INTENTS)
    if since and e.words <= _FOLLOWUP_WORDS - 2:
        return Understanding(
            "who_leads", lang, 0.8, sectors=sectors, country=previous.get("country")
        )
    places = _unknown_places(e, text, kb, [lang or "en"]) if "followup" in e.intents else ()
    if places:
        return Understanding("who_leads", lang, 0.8, sectors=sectors, unknown_places=places)
    return None


# A part of the record asked for alone is this short at most ("qui est le co-chef de file ?").
_PART_WORDS = 8
# The parts of a record a follow-up may ask for by name (`record_words`).
_PARTS = ("co_lead", "coordinator")
# Words that ask something else of the part named ("who pays the coordinator?").
_ASKS_OTHERWISE = frozenset(
    {"pay", "contract", "budget", "count", "why", "when", "duration", "after", "once", "compare"}
)
# "Who" in our five languages (folded): "who is their co-lead?" asks for a name.
_WHO = re.compile(r"(?:^|\s)(?:who|whos|qui|quien|quienes|و?من|و?مين)(?:\s|$)|谁")
_CHINESE_WHAT = re.compile(r"什么|怎么|怎样|如何|哪|为什么|为何|多少|做啥|干嘛")


def _record_parts(
    e: Entities, text: str, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None
) -> Understanding | None:
    """The last lead question again, for a follow-up that asks one part of its answer.

    "Who is their co-lead?", "¿y el colíder?", "协调员的电子邮件是什么" after a lead question
    ask that part of our record there (or of the global arrangement), not the topic on NGO
    co-leadership or coordinators; "what does a co-lead do?" still asks the topic.
    """
    sectors = tuple(previous.get("sectors") or ())
    if previous.get("intent") != "who_leads" or not sectors:
        return None
    # A country may be named ("and who co-leads it in Yemen?"): that part of our record there.
    if e.sectors or e.agencies or e.acronyms or e.country_choices or e.words > _PART_WORDS:
        return None
    codes = [lang] if lang else list(kb.languages)
    words = {part: [w for c in codes for w in kb.text(c).record_words[part]] for part in _PARTS}
    firsts = {normalize(w).split()[0] for ws in words.values() for w in ws}
    norm = _and_off(normalize(text), firsts)
    parts = [part for part in _PARTS if any(_holds(norm, w) for w in words[part])]
    # A name is asked ("who is...?") or nothing else is ("and the coordinator?", "what about
    # the coordinator?"); "what does it do", "who pays the coordinator?" ask something else.
    plain = without(norm, [p for c in codes for p in kb.text(c).intent_words["followup"]])
    asks = opens_a_question(plain) or bool(_CJK.search(norm) and _CHINESE_WHAT.search(norm))
    named = [normalize(w) for ws in words.values() for w in ws]
    # "¿Y quién es el colíder allí?": "there" is the last question's place, nothing else asked.
    there = {
        w for c in codes for p in kb.text(c).place_words["there"] for w in normalize(p).split()
    }
    besides = [
        w
        for w in _and_off(e.leftover, firsts).split()
        if w not in there and not any(w in n.split() or w in n for n in named)
    ]
    if (asks and not _WHO.search(norm)) or besides or e.intents & _ASKS_OTHERWISE:
        parts = []
    # A contact of someone else ("phone number of the minister?") is no part of our record.
    contact = {
        w for c in codes for p in kb.text(c).intent_words["contact"] for w in normalize(p).split()
    }
    if "contact" in e.intents and all(w in contact for w in besides):
        parts.append("contact")
    if not parts:
        return None
    return Understanding(
        "who_leads",
        lang,
        0.85,
        sectors=sectors,
        country=e.countries[0] if e.countries else previous.get("country"),
        also_countries=e.countries[1:],
        parts=tuple(parts),
        unheld=("contact",) if "contact" in parts else (),
    )


def _co_lead_asked(norm: str, kb: KnowledgeBase, lang: str | None) -> tuple[str, ...]:
    """("co_lead",) when a question uses a word for the co-lead (`record_words`), else ()."""
    codes = [lang] if lang else list(kb.languages)
    asked = any(_holds(norm, w) for c in codes for w in kb.text(c).record_words["co_lead"])
    return ("co_lead",) if asked else ()


def _and_off(norm: str, firsts: set[str]) -> str:
    """Arabic "and" (و) taken off a word that, without it, starts a phrase looked for.

    "وبيشاركها بالقيادة" is "and" + "بيشاركها بالقيادة".
    """
    return " ".join(
        w[1:] if w.startswith("و") and w not in firsts and w[1:] in firsts else w
        for w in norm.split()
    )


# "做什么", "干嘛": what a Chinese question asks something does, anywhere in the sentence.
_CHINESE_DOES = re.compile(r"做什么|干什么|干嘛|做啥|干啥|有什么作用|起什么作用")


def _asks_what_it_does(e: Entities, norm: str) -> bool:
    """Whether the message asks what something does ("what does it do?", "qué hace"), not who.

    The `role` words hold both ways of asking about a post ("what does", "who is"); a who
    asks for a name, and one left over asks something else ("what does it cost?").
    """
    if e.leftover and not _CJK.search(e.leftover):
        return False
    if _CJK.search(norm) and _CHINESE_DOES.search(norm):
        return True
    return "role" in e.intents and not _WHO.search(norm)


def _asks_what_it_is(e: Entities, text: str, kb: KnowledgeBase, lang: str | None) -> bool:
    """Whether a message asks what an acronym it names is ("que significa OCHA", "OCHA是什么").

    After a lead question it is still the acronym, never a yes/no on the acronym's agency
    for the last cluster; "and OCHA?", "what about OCHA?" swap the agency in.
    """
    if not e.acronyms or e.intents & {"lead", "which_clusters", "list_clusters"}:
        return False
    if "acronym_question" in e.intents:
        return True
    codes = [lang] if lang else list(kb.languages)
    plain = without(
        normalize(text), [p for c in codes for p in kb.text(c).intent_words["followup"]]
    )
    return bool(_WHAT.search(plain) or _CHINESE_WHAT.search(plain))


def _holds(norm: str, phrase: str) -> bool:
    """Whether folded text holds a phrase: as words, or inside a run of Chinese."""
    folded = normalize(phrase)
    if _CJK.search(folded):
        return folded in norm
    return f" {folded} " in f" {norm} "


# Words beside "who works" that make it another question: who leads, which clusters, a list.
_NOT_PRESENCE = frozenset(
    {"lead", "cluster_word", "which_clusters", "list_clusters", "checklist", "wish", "help"}
)


def _presence_again(
    e: Entities, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None
) -> Understanding | None:
    """Who works there, asked of the last question's cluster and country, or None.

    "Which NGOs are there?", "¿qué ONG trabajan allí?" after "who works on WASH in Sudan?" or
    "who leads health in Sudan?" name neither: they are the partners of that cluster there,
    not a topic that mentions NGOs.
    """
    sectors, country = tuple(previous.get("sectors") or ()), previous.get("country")
    if previous.get("intent") not in ("presence", "who_leads") or not (sectors and country):
        return None
    if "presence" not in e.intents or e.intents & _NOT_PRESENCE:
        return None
    if e.sectors or e.agencies or e.countries or e.words > _FOLLOWUP_WORDS:
        return None
    # Nothing asked beside who works, but "there" ("allí", "là-bas").
    codes = [lang] if lang else list(kb.languages)
    there = {
        w for c in codes for p in kb.text(c).place_words["there"] for w in normalize(p).split()
    }
    if any(w not in there for w in e.leftover.split()):
        return None
    return Understanding("presence", lang, 0.85, sectors=sectors, country=country)


# The words that make a message a follow-up of the last question: "and ...?", "still ...?".
_FOLLOWING = frozenset({"followup", "still"})
# A follow-up naming a place is short: "and in Cox's Bazar?", "¿y en el norte de Darfur?".
_FOLLOWUP_WORDS = 6
# The intents of "and since when?", "when was it activated?" after a lead question.
_SINCE_INTENTS = frozenset({"when", "followup", "pointer"})
# At most this many places we do not know are named back, each this long at most.
_PLACES, _PLACE_LENGTH = 3, 60


def _unknown_places(
    e: Entities, text: str, kb: KnowledgeBase, langs: list[str]
) -> tuple[str, ...]:
    """The places a lead question names that are no country we know ("in Darfur"), as typed.

    A place is a run of left-over words right after a word that puts a place after it ("in",
    "au", "en", "在", "في"; articles between, "and" to the next place). A run the question
    already understands (a kind of emergency: "in a conflict"), that our texts know ("in
    emergencies", "in the country") or that a language's `not_places` holds ("in English")
    is no place.
    """
    words = [kb.text(code).place_words for code in langs]

    def of(group: str) -> set[str]:
        return {normalize(w) for pw in words for w in pw.get(group, ())}

    before, skip, joins, not_places = of("before"), of("skip"), of("and"), of("not_places")
    # In Chinese a place may also come before the name it has, with a word such as 的
    # ("达尔富尔的卫生集群"): what follows it in `e.rest` is that name, blanked out.
    owning = {w for w in of("of") if _CJK.search(w)}
    rest = f"{e.rest} "
    left = set(e.leftover.split())
    runs = [
        w
        for w in e.leftover.split()
        if _CJK.search(w)
        and (
            any(f"{b}{w}" in e.rest or f"{b}{w}" in text for b in before if _CJK.search(b))
            or (
                any(f"{w}{o} " in rest for o in owning)
                # Two characters at least, and no word of our texts ("最新", "国际"), but for
                # a longer run none of whose character pairs they hold ("达尔富尔").
                and len(w) >= 2
                and (not kb.ranker.knows(w, ["zh"]) or (len(w) >= 3 and kb.ranker.pairs_unseen(w)))
            )
        )
        and not any(n in w for n in not_places if _CJK.search(n))
    ]
    tokens = e.rest.split()
    i = 0
    while i < len(tokens):
        i += 1
        if tokens[i - 1] not in before:
            continue
        while True:  # one place, then the next after "and"
            while i < len(tokens) and tokens[i] in skip:
                i += 1
            run = _left_run(tokens, i, left)
            i += len(run)
            name = " ".join(run)
            if (
                run
                and not set(run) & (not_places | e.situation)
                and not kb.ranker.knows(name, langs)
            ):
                runs.append(name)
            if i >= len(tokens) or tokens[i] not in joins:
                break
            i += 1
    between = joins | before | skip
    typed = [p[:_PLACE_LENGTH] for r in dict.fromkeys(runs) for p in _as_typed(r, text, between)]
    return tuple(typed[:_PLACES])


def _left_run(tokens: list[str], i: int, left: set[str]) -> list[str]:
    """The left-over words from `tokens[i]` on ("cox s bazar": a letter between two is one)."""
    run: list[str] = []
    while i < len(tokens) and (
        _left(tokens[i], left)
        or (run and len(tokens[i]) == 1 and i + 1 < len(tokens) and _left(tokens[i + 1], left))
    ):
        run.append(tokens[i])
        i += 1
    return run


def _left(token: str, left: set[str]) -> bool:
    """Whether a word of the question is left over ("البركان" is left as "بركان")."""
    return token in left or (token.startswith("ال") and token[2:] in left)


def _as_typed(name: str, text: str, between: set[str]) -> list[str]:
    """`name` (normalised words) as the message wrote it ("cox s bazar": "Cox's Bazar").

    Words the message parts with a comma or a word of `between` ("wakanda and atlantis", "au
    Wakanda et en Atlantide") are as many places.
    """
    if _CJK.search(name):
        return [name]
    found = [(m.start(), m.end(), normalize(m.group())) for m in re.finditer(r"\w+", text)]
    want = name.split()
    for k in range(len(found)):
        groups: list[list[tuple[int, int]]] = []
        j, parted = 0, True
        for begin, end, word in found[k:]:
            if j == len(want):
                break
            if word == want[j]:
                if parted or "," in text[groups[-1][-1][1] : begin]:
                    groups.append([])
                groups[-1].append((begin, end))
                j, parted = j + 1, False
            elif j and word in between:
                parted = True
            else:
                break
        if j == len(want):
            return [text[g[0][0] : g[-1][1]] for g in groups]
    return [name]


# Where a clause ends: "after the letter, what does the ERC do?", or where a question opens
# without a comma ("after the letter goes to the erc how long until ..."); words that are
# also "that" or "from" (que, qui, من) open no question so.
_CLAUSE_END = re.compile(
    r"[,，、;；:：?？؟.。!！]|\b(?:how|what|who|which|combien|comment|cuanto|cuanta|cuantos|"
    r"cuantas|cuánto|cuánta|cuántos|cuántas|cómo|quién|quien|كم|كيف|متى|ماذا|مين)\b",
    re.IGNORECASE,
)


def _after_step(
    text: str,
    ranked: list[Ranked],
    kb: KnowledgeBase,
    langs: list[str],
    situation: frozenset[str] = frozenset(),
    *,
    back: bool = False,
) -> list[Ranked]:
    """The step after the one a clause names ("what happens after the ERC gets the letter?").

    The clause runs from "after" to the end of its phrase (in Chinese, from the start of the
    phrase to 之后). When it names a step of the procedure and the rest of the question asks
    nothing that something else answers, the next step is the answer. A clause that opens
    with the emergency (`situation`: "after the earthquake", "بعد الزلزال") names no step.
    `back`: the clause is a "before" one ("which step is before the ERC letter?", "第五步之前"),
    and the step before is the answer. Any numbered line goes so ("the function after
    monitoring"); past either end of its list there is none: the whole list, which shows it.
    """
    clause = _after_clause(text, kb, "before" if back else "after")
    if clause is None:
        return ranked
    start, end, body = clause
    opening = normalize(body).split()[:2]
    if any(w in situation or w.removeprefix("ال") in situation for w in opening):
        return ranked
    # The clause names a step when one of its nearest passages is a step about as sure as the
    # best ("after the RC/HC writes to the ERC" is step 5 as much as who proposes). Its "after"
    # word is left out: it is a word of other steps ("après l'approbation", step 8).
    candidates = kb.ranker.rank(body, langs, limit=3)
    # A step, unless the clause names another line by its number ("before function 3") or the
    # question asks another kind ("what is the function after monitoring?").
    numbered = kb.ranker.parts.named(body, langs)
    asked = _part_asked(f"{text[:start]} {text[end:]}", kb, langs)
    kind = asked or (numbered[0] if numbered else "step")
    named = [
        r
        for r in candidates
        if r.confidence >= max(CONFIDENT, _AS_SURE * candidates[0].confidence)
        and getattr(kb.passages.get(r.topic), "kind", "") == kind
    ]
    # "After the ERC gets the letter", "après que l'ERC a reçu la lettre": the step done to
    # the one who receives, whose words the receiver's own next step shares.
    # Its receiver may be named before the clause ("what does the ERC do when it receives it").
    received = _received_step(body, kb, langs, text[:start])
    if received is not None:
        best = candidates[0] if candidates else Ranked(received, "passage", 1.0, 1.0, 2)
        sure = max(best.confidence, CONFIDENT)
        named = [Ranked(received, "passage", best.score, sure, max(best.matched, 2))]
    step = kb.passages[named[0].topic] if named else None
    # "Once the principals have signed off, who tells the partners?": the one step the rest's
    # roles fit (told to the partners), whichever step the clause names, if any.
    fitting = (
        _the_step_of(f"{text[:start]} {text[end:]}", kb, langs)
        if not back and kind == "step"
        else None
    )
    if fitting is not None and (step is None or fitting != _beside_line(step, kb)):
        best = ranked[0] if ranked else Ranked(fitting, "passage", 1.0, CONFIDENT, 2)
        return [
            Ranked(fitting, "passage", best.score, max(best.confidence, CONFIDENT), 2),
            *(r for r in ranked if r.topic != fitting),
        ]
    if step is None:
        return ranked
    following = _beside_line(step, kb, back=back)
    # "Before the HCT meeting, who alerts the global CLAs?" is step 2's own "before the
    # UNCT/HCT meets", not the step before the meeting it names.
    if numbered is None and _its_own_clause(body, step, kb, langs, "before" if back else "after"):
        following = named[0].topic
    # "After the HCT consultation, who writes the letter?" asks what the rest says.
    rest = kb.ranker.rank(
        _beside_a_move(f"{text[:start]} {text[end:]}", kb, langs), langs, limit=8
    )
    answered = rest and rest[0].matched >= 2 and rest[0].confidence >= CONFIDENT
    # Unless the next step answers it about as well ("after the ERC confirms, what does the
    # RC/HC do?": the RC/HC's next move is step 8, whoever else the RC/HC is named in).
    also_next = any(
        r.topic == following and r.confidence >= _AS_SURE * rest[0].confidence for r in rest
    ) or (
        following in kb.passages
        and _done_by(f"{text[:start]} {text[end:]}", kb.passages[following], kb, langs)
    )
    if answered and rest[0].topic != following and not also_next:
        # What the rest asks comes first ("after step 3, what is step 5?": step 5).
        return [rest[0], *(r for r in ranked if r.topic != rest[0].topic)]
    first = named[0]
    kind = "passage" if following in kb.passages else "concept"
    return [
        Ranked(following, kind, first.score, first.confidence, first.matched),
        *(r for r in ranked if r.topic != following),
    ]


def _beside_a_move(text: str, kb: KnowledgeBase, langs: list[str]) -> str:
    """`text` without the words of a move and of a list ("qué paso sigue" asks nothing else).

    A list's word beside its number stays: "after step 3, what is step 5?" asks step 5.
    """
    moving = [p for c in langs for g in _LINE_MOVES for p in kb.text(c).intent_words.get(g, ())]
    if kb.ranker.parts.named(text, langs) is None:
        moving += [w for c in langs for ws in kb.text(c).part_words.values() for w in ws]
    return without(normalize(text), moving)


def _part_asked(text: str, kb: KnowledgeBase, langs: list[str]) -> str | None:
    """The kind of numbered line `text` asks for ("which step", "哪一步", "la fonction")."""
    norm = normalize(text)
    for code in langs:
        for word, kind in kb.ranker.parts.kinds.get(code, {}).items():
            if (word in norm) if _CJK.search(word) else (f" {word} " in f" {norm} "):
                return kind
    return None


def _its_own_clause(
    body: str, line: Passage, kb: KnowledgeBase, langs: list[str], group: str
) -> bool:
    """Whether a clause is the line's own, so the line itself is asked, not the one beside it.

    Most of its words are in the clause the same word opens (closes) in the line's text:
    "before the HCT meeting" is step 2's "before the UNCT/HCT meets".
    """
    for code in langs:
        own = _after_clause(kb.passage_text(line, code), kb, group)
        asked = set(kb.ranker.tokens(body, code))
        if not (own and asked):
            continue
        theirs = kb.ranker.tokens(own[2], code)
        # A word's stem may differ from another form's ("reunion", "reúna": "reun"): the same
        # first four letters are the same word here.
        alike = [a for a in asked if any(a == t or _same_stem(a, t) for t in theirs)]
        if 2 * len(alike) >= len(asked):
            return True
    return False


def _same_stem(a: str, b: str) -> bool:
    """Two stems of one word ("reunion", "reun"): the same first four letters at least."""
    return len(a) >= 4 and len(b) >= 4 and a[:4] == b[:4]


def _beside_line(line: Passage, kb: KnowledgeBase, *, back: bool = False) -> str:
    """The line after (`back`: before) a numbered line; past either end, its whole list."""
    n = line.n - 1 if back else line.n + 1
    return kb.ranker.parts.lines.get((line.kind, n), line.concept)


def _after_clause(
    text: str, kb: KnowledgeBase, group: str = "after"
) -> tuple[int, int, str] | None:
    """Where the clause an "after" word opens (in Chinese, closes) is, and its words without it.

    A "once" word ("once", "as soon as") opens such a clause only when an actor and a done
    action follow it ("once the HC has sent the letter"); "once a cluster is activated, who
    answers to the HC?" names a state, not a step done. `group`: "before" finds the clause a
    "before" word opens (closes) the same way.
    """
    folded = text.lower()
    for lang in kb.languages:
        words = kb.text(lang).intent_words
        # "When" opens such a clause only when it names who received what a step sent
        # ("cuando el ERC recibe la carta"): "when should a cluster be activated?" names none.
        whens = (
            tuple(w for w in words.get("when", ()) if len(w.split()) == 1 and not _CJK.search(w))
            if group == "after"
            else ()
        )
        once = (*words.get("once", ()), *whens) if group == "after" else ()
        for marker in (*words.get(group, ()), *once):
            at = folded.find(marker)
            if at < 0:
                continue
            end = at + len(marker)
            if _CJK.search(marker) and marker not in once:
                begin = max((m.end() for m in _CLAUSE_END.finditer(text, 0, at)), default=0)
                return begin, end, text[begin:at]
            if not _CJK.search(marker) and (
                (at and folded[at - 1].isalnum()) or (end < len(text) and folded[end].isalnum())
            ):
                continue  # inside another word
            stop = _CLAUSE_END.search(text, end)
            close = stop.start() if stop else len(text)
            if marker in once and not (
                (marker not in whens and _done(folded[end:close], words.get("done", ())))
                or _received_step(text[end:close], kb, [lang], text[:at]) is not None
            ):
                continue
            return at, close, text[end:close]
    return None


def _the_step_of(words: str, kb: KnowledgeBase, langs: list[str]) -> str | None:
    """The one step whose doer some words ask for, done to the roles they name, if one.

    "Who tells the partners": asked with "who" ("combien de temps a l'ERC" asks how long).
    """
    norm = normalize(words)
    if not _WHO.search(norm):
        return None
    for code in langs:
        named, _ = _roles_named(norm, kb, code)
        if not named:
            continue
        steps = [
            p.id
            for p in kb.passages.values()
            if p.kind == "step" and all(role in (p.to if to else p.by) for role, to in named)
        ]
        return steps[0] if len(steps) == 1 else None
    return None


def _done_by(words: str, step: Passage, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the roles some words name doing something are all the step's own doers.

    "ماذا يفعل ERC عندما يستلم الرسالة": what the ERC does next is the ERC's next step.
    """
    norm = normalize(words)
    for code in langs:
        named, whom = _roles_named(norm, kb, code)
        if named:
            return not whom and all(not to and role in step.by for role, to in named)
    return False


# The words a clause may open with before its receiving word ("when it receives").
_RECEIVER_GAP = 2


def _received_step(
    clause: str, kb: KnowledgeBase, langs: list[str], before: str = ""
) -> str | None:
    """The step a clause says is done by naming who received it ("the ERC gets it"), or None.

    `before`: the words before the clause, where its receiver may be named.

    A role with a `step_roles.receives` word right after it ("el ERC recibe", "ERC收到") or
    right before it (Arabic puts the verb first: "يستلم ERC") is the one a step is done to:
    the step done to it, by the other roles the clause names, and the one the clause's words
    rank first among several ("once the HC receives the confirmation").
    """
    norm = f" {normalize(clause)} "
    opening = normalize(clause).split()[:_RECEIVER_GAP]
    for code in langs:
        receives = [normalize(w) for w in kb.text(code).step_roles.get("receives", ())]
        roles, _, _ = kb.step_role_words[code]
        got, others = set(), set()
        for word, role in roles:
            inside = code == "zh" and bool(_CJK.search(word))
            needle = word if inside else f" {word} "
            at = norm.find(needle)
            if at < 0:
                continue
            next_words, last_words = norm[at + len(needle) :].lstrip(), norm[:at].rstrip()
            gap = "" if inside else " "
            if any(
                f"{next_words} ".startswith(f"{r}{gap}") or f" {last_words}".endswith(f"{gap}{r}")
                for r in receives
            ):
                got.add(role)
            else:
                others.add(role)
            norm = norm.replace(word, "#" * len(word))
        # "What does the ERC do when it receives it?": the clause opens on receiving, and its
        # receiver is the role named last before it.
        if not got and before and any(w in receives for w in opening):
            last = _roles_named(normalize(before), kb, code)[0][-1:]
            got = {role for role, _ in last}
        if not got:
            continue
        steps = [
            p.id
            for p in kb.passages.values()
            if p.kind == "step" and got <= set(p.to) and others - got <= set(p.by)
        ]
        if not steps:
            continue
        order = [r.topic for r in kb.ranker.rank(clause, [code], limit=16)]
        return min(steps, key=lambda s: (order.index(s) if s in order else len(order), s))
    return None


def _done(clause: str, done: tuple[str, ...]) -> bool:
    """Whether a clause says someone has done something: an actor, a "has", an action after.

    In Chinese the done word is inside the run ("一旦HC发了信"), with something either side.
    """
    if _CJK.search(clause):
        return any(d in clause.strip()[1:-1] for d in done if _CJK.search(d))
    words = clause.split()
    return any(w in done for w in words[1:-1])


# The word groups of facts we do not hold, and the kind of fact each asks (pay and a contract
# are both a post's terms).
_UNHELD = {
    "contact": "contact",
    "budget": "budget",
    "count": "count",
    "pay": "terms",
    "contract": "terms",
}
_OF_A_POST = {"contact", "terms"}


def _unheld(e: Entities) -> tuple[str, ...]:
    """The kinds of fact we do not hold that the question asks for, in a fixed order."""
    return tuple(dict.fromkeys(kind for group, kind in _UNHELD.items() if group in e.intents))


def _asked_beside_a_lead(
    best: Ranked, e: Entities, kb: KnowledgeBase, langs: list[str], lang: str | None
) -> bool:
    """Whether a lead question asks the passage the ranker is sure of as a second thing.

    Two of the passage's words at least, beyond those the lead rule used: one word beside a
    cluster ("who leads health in emergencies", "is education activated in Chad?")
    says how or where the lead is asked, not what else. Lead and country words are gone from
    the question already; a named cluster's own name in any language goes too, though the
    matcher found it by a shorter alias ("مجموعة الاتصالات في حالات الطوارئ" is ETC's name).
    """
    own = {
        w
        for s in e.sectors
        for other in LANGUAGES
        for name in (kb.text(other).sectors[s].name, kb.text(other).sectors[s].short)
        for w in normalize(name).split()
    }
    # A run of Chinese counts as one matched word, so one is enough when it is Chinese.
    least = 1 if lang == "zh" else 2
    rest = " ".join(w for w in e.rest.split() if w not in own)
    if rest == e.rest:
        return best.matched >= least
    again = kb.ranker.rank(rest, langs, limit=8)
    return any(r.topic == best.topic and r.matched >= least for r in again)


def _classify(
    e: Entities,
    lang: str | None,
    ranked: list[Ranked],
    kb: KnowledgeBase,
    langs: list[str],
    norm: str,
    text: str = "",
) -> Understanding:
    country = e.countries[0] if e.countries else None
    best = ranked[0] if ranked else None
    # "¿Qué se necesita para activar un clúster?": activating a cluster, and nothing else, is
    # what is asked; the procedure answers it (who decides, the criteria and the letter each
    # hold the word as well, and tie with it). "Who activates" asks who decides; "why
    # activate" what justifies it (the criteria, below).
    if (
        best is not None
        and _of_activation(best.topic, kb)
        and _activating_alone(e.rest, kb, langs)
        and not _WHY.search(norm)
    ):
        topic = _DECISION if _WHO.search(norm) else _PROCEDURE
        best = Ranked(topic, "concept", best.score, best.confidence, best.matched)
        ranked = [best, *(r for r in ranked if r.topic != topic)]
    # "Who is put in charge of a cluster when it's set up?", "qui est désigné chef de file
    # quand un cluster est activé ?": who comes to lead an activated cluster, none named, is
    # who proposes and who endorses the leads, not one step's words or a sector's.
    at_activation = best is not None and _leads_at_activation(e, norm, kb, langs)
    if at_activation and best is not None and best.topic != _DECISION:
        best = Ranked(_DECISION, "concept", best.score, max(best.confidence, CONFIDENT), 2)
        ranked = [best, *(r for r in ranked if r.topic != _DECISION)]
    # "When should a cluster be activated?", "cuándo hay que activar": when activating is
    # justified, the criteria, rather than the procedure or who decides; when the question
    # says more than activating a cluster ("when does the ERC answer?") it asks that.
    # "Why would a cluster be activated?", "pourquoi activer un cluster" ask what justifies it
    # as well, when they name activating ("why do we have clusters?" asks what clusters are
    # for; "why does the HC write to the ERC?" says more, and asks that).
    reason = "when" in e.intents or ("why" in e.intents and _names_activating(e.rest, kb, langs))
    besides = f"{_words(kb, langs, 'when')} {_words(kb, langs, 'why')}"
    if (
        best is not None
        and any(r.topic in _ACTIVATION or _procedure(r.topic, kb) for r in ranked)
        and reason
        and kb.ranker.titled(e.rest, _CRITERIA, langs, besides=besides)
    ):
        best = Ranked(_CRITERIA, "concept", best.score, best.confidence, best.matched)
        ranked = [best, *(r for r in ranked if r.topic != _CRITERIA)]
    grounds_asked = False
    # "On what grounds can the HC recommend activating a cluster?", "HC根据什么建议启动集群":
    # the grounds of activating are the criteria, whoever the question says proposes it.
    if (
        best is not None
        and "grounds" in e.intents
        and _names_activating(e.rest, kb, langs)
        and not _names_deactivating(e.rest, kb, langs)
        # "启动集群的第二条标准是什么": one criterion named by its number is that line.
        and kb.ranker.parts.named(norm, langs) is None
    ):
        best = Ranked(_CRITERIA, "concept", best.score, max(best.confidence, CONFIDENT), 2)
        grounds_asked = True
        ranked = [best, *(r for r in ranked if r.topic != _CRITERIA)]
    # One word of a passage is enough only when it is most of the question: "weather today"
    # shares "day" with a passage, which makes it no question about that passage.
    sure = best is not None and best.confidence >= (CONFIDENT if best.matched >= 2 else ALONE)
    # A best candidate on one word that is not sure of it gives way to a close one that holds
    # two of the question's words and is ("is advocacy part of what a cluster does?").
    if best is not None and not sure and best.matched < 2:
        held = [
            r
            for r in ranked[1:]
            if r.matched >= 2 and r.confidence >= CONFIDENT and r.score >= _AS_SURE * best.score
        ]
        if held:
            best, sure = held[0], True
            ranked = [best, *(r for r in ranked if r is not best)]
    lead = "lead" in e.intents
    which = "which_clusters" in e.intents
    confidence = 0.75 if e.fuzzy else 0.95

    def found(intent: str, conf: float, **details: Any) -> Understanding:
        return Understanding(
            intent,
            lang,
            round(conf, 2),
            country=country,
            acronyms=e.acronyms,
            country_choices=e.country_choices,
            also_countries=e.countries[1:],
            **details,
        )

    def answer(r: Ranked, **details: Any) -> Understanding:
        related = tuple(x.topic for x in ranked[1:] if x.topic != r.topic)[:2]
        return found("concept", r.confidence, topic=r.topic, related=related, **details)

    # "We want to activate clusters, what is the procedure?" wishes for the checklist and asks
    # a question: the procedure, when the rest of the message asks for it, is the answer.
    # (A run of Chinese counts as one matched word, so one is enough when it is Chinese.)
    procedure = (
        e.asks
        and best is not None
        and sure
        and (best.matched >= 2 or lang == "zh")
        and _procedure(best.topic, kb)
    )
    if "checklist" in e.intents:
        if procedure and best is not None:
            return answer(best, sectors=e.sectors)
        return found("start_checklist", 0.9, sectors=e.sectors)
    # A wish to activate ("we want to activate shelter") starts the checklist; with a question
    # it gets what the question asks ("..., what are the criteria?"), else the procedure
    # ("..., how do we do it?", "..., what do we have to do").
    # Not a wish: "we don't need to activate", or a lead question beside it ("we need to
    # activate protection, who leads it?").
    wish = "wish" in e.intents and "negation" not in e.intents
    if wish and not (lead and (e.sectors or e.agencies)):
        if not e.asks:
            return found("start_checklist", 0.9, sectors=e.sectors)
        asked = _asked_beside_a_wish(e, norm, kb, langs)
        if asked is not None:
            return answer(asked, sectors=e.sectors)
        # "When do we need to activate a cluster?" asks when it is justified: the criteria.
        topic = _CRITERIA if "when" in e.intents else _PROCEDURE
        return found("concept", 0.8, topic=topic, sectors=e.sectors)
    # "We need a logistics cluster here, how do we get one?": a cluster needed, asked how, is a
    # wish to activate it, unless the rest says more of something else.
    if (
        "need" in e.intents
        and e.sectors
        and not (lead or which or "negation" in e.intents)
        and (_HOW.search(norm) or _CHINESE_HOW.search(norm))
        and not (
            best is not None and sure and best.matched >= 2 and not _of_activation(best.topic, kb)
        )
        # "بدنا ننضم لمجموعة الصحة، كيف نعمل؟": joining it is what is wanted, not activating it.
        and not (best is not None and sure and kb.concepts[_family(best.topic, kb)].of_a_cluster)
    ):
        return found("concept", 0.8, topic=_PROCEDURE, sectors=e.sectors)
    # "I'm new in the OCHA office, how are clusters activated?", "我是新来的信息管理官员
    # 集群咋启动的": one clause asks how clusters are activated and nothing more; what the
    # others say (who asks, whom they brief) is no question of its own.
    if not (lead and (e.sectors or e.agencies)) and _how_to_activate(norm, kb, langs):
        return found("concept", 0.8, topic=_PROCEDURE, sectors=e.sectors)
    # What a post is paid, or how it is funded ("the coordinator's salary", "谁给协调员发工资"),
    # its contract, and how to reach it (its phone number, its e-mail address) are in none of
    # our passages: a line that names the post answers something else. Of a named cluster
    # ("who leads ETC in Yemen and what is the phone number?", "how long is the health cluster
    # coordinator's contract?") the lead is answered, with a country record's contact when it
    # holds one, and a line saying what we do not hold. So are a cluster's budget and a count
    # of its partners or staff ("what's the budget of the health cluster", "卫生集群有多少个伙伴"),
    # which no passage holds either; asked of no cluster, those words may be a passage's.
    unheld = _unheld(e)
    if set(unheld) & _OF_A_POST and not e.sectors:
        # Said so, as of a cluster ("we hold no terms of employment"), not a plain "I don't know".
        related = tuple(r.topic for r in ranked[:3])
        return found("unknown", 0.0, related=related, unheld=unheld)
    if not e.sectors:
        unheld = ()
    level = _accountable_at(e, ranked, sure, kb, langs, norm)
    if level:
        return found("concept", 0.9, topic=level, sectors=e.sectors)
    if _the_cluster_word_alone(e, kb, lang):
        # "What is a cluster?" asks what it is; "clusters" alone, which there are; "what does
        # a cluster do?", "集群是做什么的", what every cluster does: its core functions.
        if e.asks and (e.words >= 2 or lang == "zh"):
            does = _asks_what_it_does(e, norm)
            return found("concept", 0.9, topic=_FUNCTIONS if does else _APPROACH)
        return found("list_clusters", 0.85)
    # An acronym among everyday words asks what it stands for ("HRP = ?", "what's the HRP"),
    # unless a passage holds more of the question than the acronym ("cuánto tarda el ERC").
    says_more = best is not None and sure and best.matched >= 2
    # "What does the HC do (in a country)?", "who is the ERC?" ask about the post the acronym
    # names: the topic whose title names it answers, when it holds about as much of the
    # question as the best; "what does HC stand for?" asks for the words.
    # The post may be named by an acronym's words ("what does the CLA do?": the cluster lead
    # agency), or by lead words alone ("what does the lead agency do?", "qué hace la agencia
    # líder"); an acronym that is also a body's name ("who is OCHA?") names it as well.
    role = "role" in e.intents and "acronym_question" not in e.intents
    if role and not at_activation and (best is not None or e.acronyms or e.agencies):
        post = _post(e, kb, lang, lead=lead, country=country)
        # The question's own candidates, or, when the acronym is all it says ("what does the
        # CLA do?"), those of the acronym's words; lead words are in many passages: more of them
        # ("what does the lead do?" has the lead duties after eight lines that name a lead).
        pool = ranked
        if post and lead:
            pool = kb.ranker.rank(e.rest, langs, limit=16)
        elif post and best is None:
            pool = kb.ranker.rank(post, langs, limit=4)
        if pool:
            top = best or pool[0]
            for r in pool:
                near = r.confidence >= max(ALONE, _AS_SURE * top.confidence)
                if near and any(kb.ranker.titled(p, r.topic, langs) for p in post.split("|")):
                    return answer(r)
    if e.acronyms and (
        "acronym_question" in e.intents
        or not (e.leftover or e.sectors or lead or which or says_more)
    ):
        # "What is POLR?" asks for the topic the acronym is the title of; "what does POLR
        # stand for?" for its words.
        titled = kb.acronym_topics.get(e.acronyms[0]) if len(e.acronyms) == 1 else None
        if titled and ("acronym_question" not in e.intents or _what_it_means(e)):
            return found("concept", 0.9, topic=titled)
        # "What does POLR mean in practice if there is no money?" asks what its topic says of
        # the rest, when the ranker is sure of the rest there; "what does HRP mean?", the words.
        if titled and e.leftover:
            others = without(e.rest, [a.casefold() for a in e.acronyms])
            there = [
                r
                for r in kb.ranker.rank(others, langs, limit=8)
                # The acronym names the topic already: one word of the rest is enough for a line.
                if _family(r.topic, kb) == titled and r.confidence >= CONFIDENT
            ]
            if there:
                return answer(there[0])
        return found("acronym", 0.9)
    words = e.leftover.split()
    # A name is one run of words ("the cash cluster"), not words picked out of a sentence;
    # in Chinese it has two characters at least (怎么定的 leaves 定, "decided", over).
    # The word right after "who" is what is asked of the lead ("who alerts the global cluster
    # leads?", "qui paie le coordinateur du cluster ?"), not a name.
    short = (
        lead
        and words
        and _length(words) <= NAME_WORDS
        and not _CJK.fullmatch(e.leftover)
        and not after_who(norm, e.leftover)
        # "集群牵头机构的第五项职责": a numbered line (五项), not a cluster's name.
        and kb.ranker.parts.named(norm, langs) is None
    )
    # "Who leads the security cluster?" asks for the lead of a cluster of that name: one word
    # that our passages hold ("security") does not make it a question about a passage, unless
    # it is a topic's own title ("who leads the refugee response?") or the name says more.
    cluster_name = (
        short
        and _asks_for_a_cluster(e)
        and _one_run(e, kb, gaps=True)
        and not (best is not None and sure and _names_a_topic(e.leftover, best, kb, langs))
    )
    unknown_name = cluster_name or (
        short and _one_run(e, kb) and not kb.ranker.knows(e.leftover, langs)
    )
    # "Which clusters does MSF lead?": a name asked of what it leads is an agency's, and one
    # we do not hold (never a cluster of that name, nor a guess at what it leads).
    if (
        which
        and (lead or _lead_inside(norm, kb, langs))
        and words
        and _length(words) <= NAME_WORDS
        and not (e.sectors or e.agencies or country)
        and _one_run(e, kb, gaps=True)
        and not kb.ranker.knows(e.leftover, langs)
    ):
        return found("unknown_agency", 0.9, unknown_name=_as_named(e, kb)[:60])
    # "Vision mundial lidera algún clúster?", "منظمة العمل ضد الجوع بتقود ايه": a name said as an
    # organisation's, asked of what it leads, is an agency's we do not hold, however long.
    organisation = _organisation(e, text or norm, norm, kb, langs) if lead or which else ""
    if organisation:
        return found("unknown_agency", 0.9, unknown_name=organisation[:60])
    # "Does MSF lead any cluster?", "¿MSF lidera algún clúster?", "what does MSF lead?": a name
    # before a lead word, asked of what it leads, is an agency's too.
    by_name = lead and not (e.sectors or e.agencies)
    subject = _leading(words, norm, kb, langs) if by_name else ""
    # "Who normally leads a cluster?": the word after "who" is no name (see `short`).
    if subject and not kb.ranker.knows(subject, langs) and not after_who(norm, subject):
        return found("unknown_agency", 0.9, unknown_name=_name_as_typed(subject, text)[:60])
    # "¿Qué lidera el CICR?", "que dirige le CICR ?": "what" and a lead word, then the name.
    led = _led_after_what(e, norm, kb, langs) if by_name else ""
    if led:
        return found("unknown_agency", 0.9, unknown_name=_name_as_typed(led, text)[:60])
    if unknown_name and not (e.sectors or e.agencies):
        return found(
            "unknown_cluster",
            0.9,
            unknown_name=e.leftover[:60],
            suggestions=tuple(kb.matcher.sectors.suggest(e.leftover)),
        )
    # A name, or a request for the list, is what the rules answer; the ranker's passage wins
    # only when the rest of the question says more (two of a passage's words at least).
    # "List the 13 responsibilities" asks for a list of what it names, not of the clusters:
    # a list word with no word for clusters, beside words the ranker is sure of.
    # So does a list word whose first word of substance is something else ("list the
    # responsibilities of a cluster lead agency"): the list is of that.
    listing = "list_clusters" in e.intents and e.listed != "other" and (e.says_cluster or not sure)
    # A post asked in a country ("苏丹的人道主义协调员是谁") is still the post: the country
    # names no record of ours.
    in_a_country = country and not (role and not lead)
    named = bool(e.sectors or e.agencies or in_a_country or which or listing)
    # One word of a topic about clusters themselves ("comment rejoindre le cluster wash") asks
    # it of the cluster named; of most topics one word beside a cluster says how the lead is
    # asked ("in emergencies").
    of_a_cluster = best is not None and sure and kb.concepts[_family(best.topic, kb)].of_a_cluster
    telling = best is not None and sure and (best.matched >= 2 or not named or of_a_cluster)
    if _besides_what_it_leads(e, text, norm, kb, langs):
        return found("agency_clusters", confidence, agencies=e.agencies)
    # "We're a small NGO just registered, how do we join the nutrition cluster in Yemen?": a
    # cluster joined is asked whom to ask (its lead, there), whoever says they are ("NGO" is
    # no question of who works there).
    # Asked how: "can a local NGO join the health cluster?" asks who may be a member.
    # A lead word beside it ("we're a women-led CSO") changes nothing: the lead is answered.
    joining = "join" in e.intents and not which and _asks_how(norm)
    if joining and e.sectors:
        return found("who_leads", confidence, sectors=e.sectors, related=(_JOINING,))
    # Of clusters in general, unless the rest says more of another topic than of membership.
    if (
        joining
        and not lead
        and not (
            best is not None
            and sure
            and best.matched >= 2
            and _family(best.topic, kb) not in {_JOINING, _MEMBERSHIP}
        )
    ):
        return found("concept", 0.8, topic=_JOINING)
    # "En RDC on se demande si le cluster protection doit être activé, quels sont les
    # critères ?": the grounds of activating a cluster named in a country, with no lead word,
    # ask the criteria, not its lead.
    if grounds_asked and best is not None and not lead:
        return answer(best, sectors=e.sectors)
    if e.sectors and country and "presence" in e.intents and not lead:
        # Who works there (operational presence): partners, answered apart from who leads.
        return found("presence", confidence, sectors=e.sectors)
    if e.sectors and (lead or country or unheld or not telling or of_a_cluster):
        # A cluster in a country is a question about our record there ("is education
        # activated in Chad?"); what else it asks is answered after, when we know it. So is
        # a topic asked of the cluster ("how do I join WASH?": whose lead agency to ask).
        # "... après le séisme": an "after" that names the emergency asks for no step.
        after_the_emergency = "after" in e.intents and bool(e.conditions)
        # What else it asks is a fact we do not hold when it asks for one: no passage holds that.
        telling_more = best is not None and sure and not (after_the_emergency or unheld)
        # Someone else named leading ("the government wants to co-lead WASH") asks whether it may.
        also = () if after_the_emergency or unheld else _another_leading(e, norm, kb, langs)
        if not also:
            also = (
                (best.topic,)
                if telling_more
                and best is not None
                and (of_a_cluster or _asked_beside_a_lead(best, e, kb, langs, lang))
                else ()
            )
        # "What does the nutrition cluster do?": what every cluster does, beside its lead.
        if not (also or lead or e.agencies) and _asks_what_it_does(e, norm):
            also = (_FUNCTIONS,)
        own = "own_country" in e.intents and country is None
        return found(
            "who_leads",
            confidence,
            sectors=e.sectors,
            agencies=e.agencies,
            related=also,
            # "Who co-leads health?" is told whether there is a co-lead ("Globally, Health has
            # no co-lead"), as the same follow-up is; of an agency it is a yes or no.
            parts=() if e.agencies else _co_lead_asked(norm, kb, lang),
            own_country=own,
            condition=_one_condition(e),
            unheld=unheld,
            # Of one agency: "X, or only Y?" asks about X beside another, not whether X is alone.
            only="only" in e.intents and len(e.agencies) == 1,
        )
    # An agency named with no lead word ("is the Red Cross a member of clusters?") asks what
    # the rest of the question says, when the ranker is sure of it, even on one word; in a
    # long message that says more ("I'm new in the OCHA office, how are clusters activated?")
    # it is no question about the agency at all.
    # "Refugees: clusters, or does UNHCR coordinate?" asks about a topic the rest of the
    # question names by its title and whose text names the agency, not what the agency leads.
    if (
        e.agencies
        and lead
        and not which
        and sure
        and best is not None
        and _title_word(e.rest, best, e, kb, langs)
        and _names_agency(best, e, kb, langs)
    ):
        return answer(best)
    # "Who is the head of OCHA?", "qui dirige OCHA ?" ask who heads the body, not what it
    # leads: the line our topics hold on it (the ERC heads OCHA), or that we do not know.
    asks_who = _asks_who(norm.split()) or "谁" in norm
    if e.agencies and lead and asks_who and not (which or e.sectors or e.says_cluster or words):
        heads = _lead_words(norm, kb, langs)
        saying = [
            r
            for r in kb.ranker.rank(f"{e.rest} {heads}", langs, limit=4)
            if r.matched >= 2 and r.confidence >= CONFIDENT and _names_agency(r, e, kb, langs)
        ]
        if saying:
            return answer(saying[0])
        return found("unknown", 0.0, related=tuple(r.topic for r in ranked[:3]))
    if e.agencies and (lead or which or (not sure and _length(words) <= NAME_WORDS)):
        return found("agency_clusters", confidence, agencies=e.agencies)
    if e.agencies and sure and best is not None:
        return answer(best)
    rule_words = lead or which or e.intents & {"cluster_word", "list_clusters"}
    # A name that fits two countries ("Congo") is asked which one is meant: the records are
    # one country's.
    # "When did Iraq close its clusters?" asks what a passage says of that country (its HCT
    # closing them in 2022), not for our records there; of two lines that hold the question
    # as well, the one naming the country.
    if country and rule_words and best is not None and not e.sectors:
        told = _naming(ranked, country, kb, langs)
        if told is not None and (not telling or told.confidence >= best.confidence):
            return answer(told)
    # "Which clusters are in this year's HRP for Sudan?": an acronym people ask a topic by says
    # what is asked is that topic (where a plan's clusters are listed), not our records.
    if (
        country
        and rule_words
        and sure
        and best is not None
        and not e.sectors
        and any(_asked_by(a, best.topic, kb, langs) for a in e.acronyms)
    ):
        return answer(best)
    if (country or e.country_choices) and rule_words and not telling:
        return found("country_clusters", 0.9)
    if "help" in e.intents and (best is None or best.matched < 2):
        return found("help", 0.9)
    if best and telling:
        return answer(best, sectors=e.sectors)
    if listing or which:
        # "Which clusters are there?" names no agency or country: the list is the answer.
        return found("list_clusters", 0.85)
    if "cluster_word" in e.intents and not words:
        return found("list_clusters", 0.85)
    small = len(words) <= 2
    if "thanks" in e.intents and small:
        return found("thanks", 0.9)
    if "greeting" in e.intents and small:
        return found("greeting", 0.9)
    if "help" in e.intents:
        return found("help", 0.9)
    # An acronym answers what it stands for when the message is little else ("HRP pls",
    # "the HCT here"); beside more words it is a word of what they ask ("HCT asked me how we
    # activate a cluster, where do we start"), which is no question about its words.
    if e.acronyms and _length(e.leftover.split()) <= _BESIDE_AN_ACRONYM:
        return found("acronym", 0.9)
    return found("unknown", 0.0, related=tuple(r.topic for r in ranked[:3]))


def _leading(words: list[str], norm: str, kb: KnowledgeBase, langs: list[str]) -> str:
    """The name left over that a lead word follows, asked of what it leads, or "".

    "msf lidera algun cluster", "what does msf lead", "اطباء بلا حدود شو بتقود": the name (a
    "what" may follow it), then a lead word with a cluster word after it or, when the message
    asks what, nothing left over. A cluster's name stands after the
    lead word ("who leads the cash cluster") or the cluster word ("cluster tourism lead"), and
    "who" asks for its lead ("who is the cash lead").
    """
    if not words or _CJK.search(words[0]):
        return ""
    text = norm.split()
    latin = not _ARABIC.search(norm)
    if words[0] not in text or _asks_who(text):
        return ""
    clusters = kb.matcher.cluster_words
    at = text.index(words[0])
    if any(w in clusters for w in text[:at]):
        return ""
    leads = sorted((p for code in langs for p in kb.lead_phrases[code]), key=len, reverse=True)
    firsts = {p.split()[0] for p in leads}
    # The name's words, one everyday word between two of them ("medicos sin fronteras").
    end = at + 1
    while end < len(text) and (
        text[end] in words
        or (
            text[end] in kb.matcher.common_words
            and text[end] not in firsts
            and text[end + 1 : end + 2] in ([w] for w in words)
        )
    ):
        end += 1
    if end - at > NAME_WORDS:
        return ""
    for verb in range(end, min(len(text), end + 2)):
        after = " ".join(text[verb:])
        lead = next((p for p in leads if f"{after} ".startswith(f"{p} ")), None)
        if lead is not None:
            later = after[len(lead) :].split()
            # Arabic puts the verb first: a name before "قائد مشارك للكلاستر" is no subject.
            named = (latin and verb == end and any(w in clusters for w in later)) or (
                _WHAT.search(norm) is not None and not set(later) & set(words)
            )
            return " ".join(text[at:end]) if named else ""
        if not _WHAT.fullmatch(text[verb]):  # "اطباء بلا حدود شو بتقود": "what" between
            return ""
    return ""


def _besides_what_it_leads(
    e: Entities, text: str, norm: str, kb: KnowledgeBase, langs: list[str]
) -> bool:
    """Whether a cluster the agency leads is named as what it leads besides ("à part la ...").

    "Le HCR il est lead de quoi, à part la protection ?", "besides protection, what does UNHCR
    lead?": everything it leads, not the cluster's lead. "Besides UNICEF, who co-leads
    education?" names the agency as the one set aside: the cluster's leads answer.
    """
    if not (e.agencies and e.sectors and "besides" in e.intents):
        return False
    if "lead" not in e.intents and not _lead_inside(norm, kb, langs):
        return False
    if len(e.agencies) != 1 or _asks_who(norm.split()) or _WHO.search(norm):
        return False
    led = {s.id for s, _ in kb.clusters_led_by(e.agencies[0])}
    return set(e.sectors) <= led and not _set_aside_agency(text, kb, langs)


def _set_aside_agency(text: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether what a "besides" word sets aside, up to the clause's end, names an agency."""
    phrases = [normalize(p) for code in langs for p in kb.text(code).intent_words["besides"]]
    for clause in (normalize(c) for c in re.split(r"[,，、،;；?？؟.。]", text)):
        at = next((clause.find(p) + len(p) for p in phrases if p in clause), -1)
        if at >= 0:
            return kb.matcher.find_agency(clause[at:]) is not None
    return False


def _led_after_what(e: Entities, norm: str, kb: KnowledgeBase, langs: list[str]) -> str:
    """The name a "what" and a lead word come before, asked what it leads, or "".

    Spanish, French and Arabic may put the verb first: "qué lidera el CICR", "que dirige le
    CICR ?", "ما الذي تقوده أوكسفام": only "what" and everyday words before the lead word,
    then one short run of words of a name our passages do not hold, and no word for cluster
    ("qué agencia lidera el clúster X" asks for a cluster's lead).
    """
    words = e.leftover.split()
    if not words or _CJK.search(e.leftover) or "cluster_word" in e.intents:
        return ""
    if _length(words) > NAME_WORDS or not _one_run(e, kb, gaps=True):
        return ""
    tokens = norm.split()
    if _asks_who(tokens) or words[0] not in tokens:
        return ""
    leads = [p.split() for code in langs for p in kb.lead_phrases[code] if not _CJK.search(p)]
    at = next(
        (i for i in range(len(tokens)) for p in leads if tokens[i : i + len(p)] == p), len(tokens)
    )
    before = tokens[:at]
    name_at = tokens.index(words[0])
    if name_at <= at or not any(_WHAT.fullmatch(w) for w in before):
        return ""
    if any(w not in kb.matcher.common_words for w in before):
        return ""
    name = _as_named(e, kb)
    return "" if kb.ranker.knows(name, langs) else name


def _name_as_typed(name: str, text: str) -> str:
    """A name left over (folded words) as the message wrote it, with its capitals beside it.

    "what does UN Women lead": "un" is an everyday word of French and Spanish, but typed in
    capitals beside the name it is part of it ("UN Women", not "women").
    """
    if _CJK.search(name) or not text:
        return name
    typed = _typed_span(name.split(), text)
    at = text.find(typed)
    if at < 0:
        return typed
    start, end = at, at + len(typed)
    while m := re.search(r"\b([A-Z]{2,})\W{1,2}$", text[:start]):
        start = m.start(1)
    while m := re.match(r"^\W{1,2}([A-Z]{2,})\b", text[end:]):
        end += m.end(1)
    return text[start:end]


# An organisation's name holds this many words of its own at most, beside its marker words.
_ORGANISATION_WORDS = 4
# Chinese asking what ("负责啥", "牵头什么") or which ("哪个集群").
_CHINESE_WHAT_LEADS = re.compile(r"什么|啥|哪")


def _organisation(e: Entities, text: str, norm: str, kb: KnowledgeBase, langs: list[str]) -> str:
    """The name of an organisation we do not hold that a lead question asks about, or "".

    "Vision mundial lidera algún clúster?", "accion contra el hambre que cluster lidera",
    "منظمة العمل ضد الجوع بتقود ايه", "世界宣明会在集群里负责啥": a run of words left over that
    holds a word saying it is an organisation's (`organisation_words`: "mundial", "منظمة", a
    closing 会) and one of its own, the words of a name between ("contra el"), asked what or
    which it leads, not who leads it. A message naming a cluster, an agency or a country asks
    something else, and marker words alone ("international organisations") are no name.
    Returned as typed.
    """
    if e.sectors or e.agencies or e.countries or e.country_choices or not e.leftover:
        return ""
    if _WHO.search(norm) or _asks_who(norm.split()):
        return ""
    groups = [kb.text(code).organisation_words for code in langs]
    # Names are often said in English whatever the language ("World Relief lidera algo?").
    named_in = [kb.text(code).organisation_words for code in dict.fromkeys([*langs, "en"])]
    markers = {normalize(w) for g in named_in for w in g["markers"]}
    # "Can an NGO like World Vision co-lead?" asks who may lead, of an example.
    if any(_holds(norm, w) for g in groups for group in ("like", "may") for w in g[group]):
        return ""
    if _CJK.search(e.leftover):
        run, typed = _with_its_acronym(e.leftover, text)
        chinese = {m for m in markers if _CJK.search(m)}
        named = (
            " " not in run
            and len(run) >= 3
            and any(m in run and m != run for m in chinese)
            and not _CHINESE_WHAT_LEADS.search(run)
        )
        asks = "which_clusters" in e.intents or _CHINESE_WHAT_LEADS.search(norm)
        return typed if named and asks else ""
    # "Does X lead anything", "X lidera algo": words that ask what, beside the question words.
    asks = bool(e.intents & {"which_clusters", "cluster_word"}) or _WHAT.search(norm)
    if not (asks or any(_holds(norm, w) for g in groups for w in g["asks"])):
        return ""
    links = {normalize(w) for g in named_in for w in g["links"]}
    # Lead words ("co-lider": "co" left over) and words of a kind ("una ONG local") name none.
    leads = {w for code in langs for w in kb.lead_word_parts[code]}
    kinds = {normalize(w) for g in groups for w in g["kinds"]}
    left = set(e.leftover.split()) - leads - kinds - kb.matcher.cluster_words
    tokens = norm.split()
    i = 0
    while i < len(tokens):
        if tokens[i] not in left | markers:
            i += 1
            continue
        end = i + 1
        while end < len(tokens):
            if tokens[end] in left | markers:
                end += 1
            elif tokens[end] in links and any(
                t in left | markers for t in tokens[end + 1 : end + 3]
            ):
                end += 1 + (tokens[end + 1] in links)
            else:
                break
        span = tokens[i:end]
        # A word of its own beside a marker ("vision mundial"), or two markers left over, as a
        # name's are ("World Relief"), not marker words the question is put in.
        own = [t for t in span if t in left and t not in markers]
        a_name = bool(own) or len([t for t in span if t in left]) >= 2
        if a_name and any(t in markers for t in span) and len(own) <= _ORGANISATION_WORDS:
            return _typed_span(span, text)
        i = end
    return ""


def _with_its_acronym(run: str, text: str) -> tuple[str, str]:
    """A Chinese name left over without its acronym in brackets, and the name as typed.

    "国际关怀协会（CARE）牵头哪个集群": the name is 国际关怀协会, and named back with its "CARE".
    """
    chinese, _, latin = run.partition(" ")
    bracketed = re.search(r"[（(]\s*([A-Za-z][\w&.\- ]*?)\s*[）)]", text)
    if latin and _CJK.search(chinese) and bracketed and normalize(bracketed.group(1)) == latin:
        return chinese, f"{chinese}（{bracketed.group(1)}）"
    return run, run


def _another_organisation(e: Entities, text: str, kb: KnowledgeBase, langs: list[str]) -> str:
    """An organisation whose name holds one of our agencies', asked what it leads, or "".

    "What does the International Committee of the Red Cross lead?", "红十字国际委员会牵头什么
    集群": "Red Cross" names the IFRC, but the ICRC is another body, which leads no cluster
    (`organisation_words.others`); named as typed.
    """
    if not (e.agencies and e.intents & {"lead", "which_clusters"}) or e.sectors:
        return ""
    norm = normalize(text)
    codes = dict.fromkeys([*langs, "en"])
    for phrase in (normalize(p) for c in codes for p in kb.text(c).organisation_words["others"]):
        if _holds(norm, phrase):
            return phrase if _CJK.search(phrase) else _typed_span(phrase.split(), text)
    return ""


def _an_organisation_with_a_cluster_word(e: Entities, text: str) -> str:
    """An organisation we do not hold whose name holds a cluster's word, asked of, or "".

    "What does International Medical Corps lead?", "Shelter Box", "does Water Mission lead
    a cluster?": the matcher read the name as no cluster (`Entities.organisation`); asked
    what it leads, or named alone, it is an agency we do not hold, never a cluster's lead.
    """
    if not e.organisation or e.sectors or e.agencies:
        return ""
    alone = normalize(text) == normalize(e.organisation)
    return e.organisation if alone or e.intents & {"lead", "which_clusters"} else ""


def _national_society(e: Entities, text: str, kb: KnowledgeBase, langs: list[str]) -> str:
    """A national Red Cross or Red Crescent society asked what it leads, as typed, or "".

    "Which clusters does the Kenya Red Cross lead?", "que clusters lidera la Cruz Roja
    Colombiana", "الهلال الأحمر المصري بيقود ايه", "肯尼亚红十字会牵头什么": "Red Cross" names
    the IFRC, but with a country or a word of its own beside it (`organisation_words.societies`)
    it is a national society, a body of its own.
    """
    if not (e.agencies and e.intents & {"lead", "which_clusters"}) or e.sectors:
        return ""
    norm = normalize(text)
    codes = dict.fromkeys([*langs, "en"])
    societies = {normalize(p) for c in codes for p in kb.text(c).organisation_words["societies"]}
    if _CJK.search(norm):
        for code in e.countries:
            country = normalize(kb.matcher.country_name(code, "zh"))
            for society in sorted(societies, key=len, reverse=True):
                if f"{country}{society}" in norm:
                    return f"{country}{society}"
        return ""
    tokens, left = norm.split(), set(e.leftover.split())
    markers = {normalize(w) for c in codes for w in kb.text(c).organisation_words["markers"]}
    leads = {w for code in langs for w in kb.lead_word_parts[code]}  # "co" of "co-lead"
    own = left - markers - leads - kb.matcher.cluster_words

    def national(word: str) -> bool:
        # A country by its name: "la" would be Laos's code.
        return word in own or (len(word) > 2 and kb.matcher.find_country(word) is not None)

    for named in (s.split() for s in societies):
        for i in range(len(tokens) - len(named) + 1):
            if tokens[i : i + len(named)] != named:
                continue
            start, end = i, i + len(named)
            start -= start > 0 and national(tokens[start - 1])
            end += end < len(tokens) and national(tokens[end])
            if (start, end) != (i, i + len(named)):
                return _typed_span(tokens[start:end], text)
    return ""


def _typed_span(span: list[str], text: str) -> str:
    """Folded words of a message as the message wrote them.

    "منظمه عمل ضد جوع" is "منظمة العمل ضد الجوع"; words not found side by side stay folded.
    """
    found = [(m.start(), m.end(), normalize(m.group())) for m in re.finditer(r"\w+", text)]
    for k in range(len(found) - len(span) + 1):
        if [w for _, _, w in found[k : k + len(span)]] == span:
            return text[found[k][0] : found[k + len(span) - 1][1]]
    return " ".join(span)


# "What" in our languages (folded): what is led, where "who" (`_WHO`) asks for a lead.
_WHAT = re.compile(
    r"(?:^|\s)(?:what|whats|quoi|que|quel|quels|quelle|ما|ماذا|شو|ايش|وش|ايه)(?:\s|$)"
)
_ARABIC = re.compile(r"[\u0600-\u06ff]")


def _asks_who(words: list[str]) -> bool:
    """Whether a message (its words) asks "who".

    Arabic من is also "of" and "from" ("أوكسفام شو بتقود من الكتل"): it asks only first, or
    with "and" written onto it ("ما هو POLR ومن يقود اللوجستيات؟").
    """
    return bool(words) and (
        words[0] in ("من", "مين")
        or any(w in ("ومن", "ومين") or _WHO.fullmatch(w) for w in words if w not in ("من", "مين"))
    )


def _as_named(e: Entities, kb: KnowledgeBase) -> str:
    """The name left over as the message says it, with the everyday words inside it.

    "y medicos sin fronteras que cluster lidera": "medicos sin fronteras", not "medicos fronteras".
    """
    words, name = normalize(e.rest).split(), e.leftover.split()
    if _CJK.search(e.leftover) or name[0] not in words:
        return e.leftover
    at = words.index(name[0])
    end = next((i for i in range(len(words) - 1, at, -1) if words[i] == name[-1]), at)
    span = words[at : end + 1]
    return " ".join(span) if len(span) <= len(name) * 2 else e.leftover


def _another_leading(
    e: Entities, norm: str, kb: KnowledgeBase, langs: list[str]
) -> tuple[str, ...]:
    """The topic a lead question asks of someone it names leading, or ().

    "The government wants to co-lead the WASH cluster, is that allowed?", "can an NGO co-lead
    the WASH cluster?": a word left over before the lead word, not "who", asks whether it may
    lead; the ranker, given the lead word again, is sure of what answers it on two words.
    """
    text, left = norm.split(), set(e.leftover.split())
    left |= {a.casefold() for a in e.acronyms if kb.matcher.acronym_sector(a) is None}
    if e.agencies or _asks_who(text) or not left:
        return ()
    leads = [p.split() for code in langs for p in kb.lead_phrases[code] if not _CJK.search(p)]
    at = next((i for i in range(len(text)) for p in leads if text[i : i + len(p)] == p), len(text))
    if not left & set(text[:at]):
        return ()
    verb = next((" ".join(p) for p in leads if text[at : at + len(p)] == p), "")
    best = kb.ranker.rank(f"{e.rest} {verb}", langs, limit=1)
    if best and best[0].matched >= 2 and best[0].confidence >= CONFIDENT:
        return (best[0].topic,)
    return ()


def _asked_by(word: str, topic: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether `word` is one people ask `topic` (or the topic it is a line of) with."""
    for code in langs:
        index = kb.ranker.indexes.get(code)
        tokens = set(kb.ranker.tokens(word, code))
        if index is not None and tokens:
            asked = index.asked.get(topic, frozenset()) | index.asked.get(
                _family(topic, kb), frozenset()
            )
            if tokens <= asked:
                return True
    return False


def _lead_words(norm: str, kb: KnowledgeBase, langs: list[str]) -> str:
    """The lead words `norm` holds ("head", "dirige", "领导" inside a run), as one text."""
    return " ".join(
        p
        for code in langs
        for p in kb.lead_phrases[code]
        if (p in norm if _CJK.search(p) else f" {p} " in f" {norm} ")
    )


def _lead_inside(norm: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether a lead word is inside a run of Chinese ("牵头哪些": "which ... leads")."""
    return any(
        p in norm for code in langs for p in kb.text(code).intent_words["lead"] if _CJK.search(p)
    )


def _post(e: Entities, kb: KnowledgeBase, lang: str | None, *, lead: bool, country: Any) -> str:
    """The words naming the post a "what does ... do" asks about, one way of naming it a part.

    An acronym by itself and by its words ("CLA|cluster lead agency"), when nothing else is
    named beside it (a body one of our acronyms names, "OCHA", "أوتشا", is that acronym); lead
    words alone when no name is there; else nothing.
    """
    bodies = [a for a in e.agencies if a in kb.acronyms]
    # A post in a country ("who is the HC in Sudan?") is still the post: its topic says who
    # holds it is not ours to know. A body or lead words there ask for our records instead.
    in_records = country and (e.agencies or not e.acronyms)
    if e.sectors or in_records or len(bodies) < len(e.agencies):
        return ""
    named = tuple(dict.fromkeys((*e.acronyms, *bodies)))
    if named:
        if lead:
            return ""
        spelt = kb.text(lang or "en").acronyms
        words = [re.sub(r"\(.*?\)", " ", spelt.get(a, "")) for a in named]
        return "|".join((" ".join(named), *(w for w in words if w.strip())))
    if not lead:
        return ""
    # The lead words and what stands with them, not the rest of what is asked ("at country level").
    asked = set(e.leftover.split())
    return " ".join(w for w in e.rest.split() if w not in asked)


def _the_cluster_word_alone(e: Entities, kb: KnowledgeBase, lang: str | None) -> bool:
    """Whether the cluster word is all a message names ("what is a cluster?", "什么是集群").

    One word of many passages, alone it ranks whichever says it most densely.
    """
    if e.intents & _NOT_WHAT or "cluster_word" not in e.intents:
        return False
    if e.sectors or e.agencies or e.countries or e.acronyms or e.country_choices:
        return False
    # A sector or an AoR ("what is a sector?") is a question of its own: not in cluster_tokens.
    for code in [lang] if lang else list(kb.languages):  # "cluster" is a word of every language
        tokens = set(kb.ranker.tokens(e.rest, code))
        if tokens and tokens <= kb.cluster_tokens[code]:
            return True
    return False


_ACTIVATION_TOPICS = frozenset({*_ACTIVATION, _CRITERIA})


def _of_activation(topic: str, kb: KnowledgeBase) -> bool:
    """Whether `topic` is one of the activation topics or a line of one."""
    passage = kb.passages.get(topic)
    return (passage.concept if passage else topic) in _ACTIVATION_TOPICS


# "Why" in our five languages (folded): with it (or "who", `_WHO`), activating alone is not
# asked.
_WHY = re.compile(r"(?:^|\s)(?:why|pourquoi|por que|لماذا|ليش)(?:\s|$)|为什么|为何")


# The note on who approves today (the EDG since late 2021, per one handbook).
_APPROVER_NOW = "approver_update"
# The approvers of activation, then and now, as acronyms (their titles are read as them too).
_APPROVERS = frozenset({"ERC", "EDG"})


def _still_the_approver(
    ranked: list[Ranked], e: Entities, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """Whether the approver is still the one it was, asked of activating: the note on who approves.

    "La activación la decide todavía el ERC o ahora el EDG", "c'est toujours l'ERC qui décide ?":
    a `still` word asks what changed, and the note on the approver says it, when the question
    shares its words (the whole procedure holds them all, the note among them).
    """
    first = ranked[0]
    # A step shown with the note already ("does the ERC still have 24 hours?": step 6) stays.
    shown = getattr(kb.passages.get(first.topic), "note", "") == _APPROVER_NOW
    if first.topic == _APPROVER_NOW or shown:
        return ranked
    if not (_of_activation(first.topic, kb) or _procedure(first.topic, kb)):
        return ranked
    # Of an approver named ("still the ERC", "或者EDG"), not of activating at all ("should we
    # still activate?" asks whether to).
    if not set(e.acronyms) & _APPROVERS:
        return ranked
    pool = {r.topic: r for r in kb.ranker.rank(e.rest, langs, limit=8)}
    note = pool.get(_APPROVER_NOW) or pool.get("activation_decision.3")
    if note is None or note.matched < 2:
        return ranked
    chosen = Ranked(_APPROVER_NOW, "passage", first.score, max(note.confidence, CONFIDENT), 2)
    return [chosen, *(r for r in ranked if r.topic != _APPROVER_NOW)]


# The words, besides leading, activating and the cluster word, of "who is put in charge of a
# cluster when it is set up" ("put", "queda", "désigné").
_BESIDE_LEADING = 1


def _leads_at_activation(e: Entities, norm: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether a "who" asks who leads a cluster once activated, naming no cluster or agency."""
    if "lead" not in e.intents or e.sectors or e.agencies or e.countries or not _WHO.search(norm):
        return False
    for code in langs:
        tokens = set(kb.ranker.tokens(e.rest, code)) - kb.cluster_tokens[code]
        words = kb.text(code).intent_words["lead"]
        leading = {t for w in words for t in kb.ranker.tokens(w, code)}
        activating = tokens & kb.activation_tokens[code]
        besides = tokens - activating - leading
        if activating and tokens & leading and len(besides) <= _BESIDE_LEADING:
            return True
    return False


def _activating_alone(rest: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the words ranked say "activate (a cluster)" and nothing more."""
    for code in langs:
        tokens = set(kb.ranker.tokens(rest, code)) - kb.cluster_tokens[code]
        if tokens and tokens == kb.activation_tokens[code]:
            return True
    return False


# "How" in our languages (folded), opening what a clause asks; Chinese puts it before the verb.
_HOW = re.compile(r"(?:^|\s)(?:how|comment|como|كيف|ازاي|إزاي)(?:\s|$)")
_CHINESE_HOW = re.compile(r"怎么样|怎么|怎样|如何|咋")


def _asks_how(norm: str) -> bool:
    """Whether a question asks how ("how do we...", "comment", "كيف", "怎么")."""
    return bool(_HOW.search(norm) or _CHINESE_HOW.search(norm))


# Where a clause ends: a mark, or, in Chinese, a space between two runs.
_CLAUSE_MARK = re.compile(
    r"[:：.。!！;；,，、،?？؟]|\s+-\s+|(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])"
)


def _how_to_activate(norm: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether one clause asks how clusters are activated, and nothing more.

    "Cómo se activan los clústeres", "集群咋启动的", "how do we activate a cluster": the words
    from "how" on (in Chinese, the clause without it) say activating and a cluster's name or
    the cluster word at most.
    """
    for clause in _CLAUSE_MARK.split(norm):
        if _CJK.search(clause):
            how = _CHINESE_HOW.search(clause)
            tail = _CHINESE_HOW.sub(" ", clause) if how else ""
        else:
            how = _HOW.search(clause)
            tail = clause[how.end() :] if how else ""
        if how and tail.strip() and _activating_only(kb.matcher.entities(tail).rest, kb, langs):
            return True
    return False


def _activating_only(rest: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the words say activating, with at most the words people ask the procedure by.

    "Como se activan los clusters en un pais": its keywords name activating in a country.
    """
    for code in langs:
        tokens = set(kb.ranker.tokens(rest, code)) - kb.cluster_tokens[code]
        index = kb.ranker.indexes.get(code)
        procedure = index.asked.get(_PROCEDURE, frozenset()) if index else frozenset()
        activating = kb.activation_tokens[code]
        if tokens & activating and tokens <= activating | procedure:
            return True
    return False


def _names_the_procedure(text: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether a message names the procedure of activating by its noun and the activation word.

    "The formal procedure for cluster activation", "el trámite para activar un clúster",
    "إجراءات تفعيل المجموعات". Asked of a message not understood otherwise: its other words
    (who asks, whom they brief, what happened) had drowned the two that say what it wants.
    """
    norm = normalize(text)
    return any(
        set(kb.ranker.tokens(text, code)) & kb.activation_tokens[code]
        and any(_holds(norm, p) for p in kb.text(code).procedure_words)
        for code in langs
    )


# The candidates among which the ranker's view of activating is looked for.
_NEAREST = 4


def _whole_procedure_named(
    u: Understanding,
    e: Entities,
    ranked: list[Ranked],
    text: str,
    kb: KnowledgeBase,
    langs: list[str],
) -> Understanding | None:
    """The whole procedure, named in a longer message that another topic took, or none.

    "What is the formal route to get the IASC to activate clusters", "من البداية للنهاية،
    كيف يتم تفعيل المجموعات؟", "we are a new HCT member and want to understand the sequence
    from proposal to endorsement": a noun for the procedure (`procedure_words`) with activating
    named, or with an activation topic among the nearest candidates, asks for the procedure,
    unless a word people ask the first or another near candidate by is in the message besides
    those ("the government's role in the activation process"). A line of activating stays
    when the message says anything more ("who signs in the process?"); "por dónde empiezo"
    alone asks where the whole begins. A span of it (`_procedure_span`) asks for it whole.
    """
    if u.intent not in ("concept", "unknown") or u.beyond or u.topic == _PROCEDURE:
        return None
    line = bool(u.topic) and (_of_activation(u.topic or "", kb) or _procedure(u.topic or "", kb))
    norm = normalize(text)
    for code in langs:
        held = [p for p in kb.text(code).procedure_words if _holds(norm, normalize(p))]
        span = "" if "duration" in e.intents else _procedure_span(norm, kb, code)
        if not (held or span):
            continue
        tokens = set(kb.ranker.tokens(e.rest, code))
        activating = bool(span or tokens & kb.activation_tokens[code]) or any(
            _of_activation(r.topic, kb) for r in ranked[:_NEAREST]
        )
        if not activating:
            continue
        said = {t for p in (*held, span, *QUESTION_WORDS) for t in kb.ranker.tokens(p, code)}
        beside = tokens - said - kb.activation_tokens[code] - kb.cluster_tokens[code]
        others = {t for t in (u.topic, *(r.topic for r in ranked[:_NEAREST])) if t}
        asked = _asked_of({t for t in others if not _procedure(t, kb)}, kb, code)
        if not span and ((line and beside) or beside & asked):
            continue
        related = tuple(t for t in (u.topic, *u.related) if t and t != _PROCEDURE)[:2]
        return replace(
            u,
            intent="concept",
            confidence=max(u.confidence, ALONE),
            topic=_PROCEDURE,
            related=related,
            also_topic=None,
        )
    return None


def _asked_of(topics: set[str], kb: KnowledgeBase, code: str) -> set[str]:
    """The tokens people ask these topics, or the topics their lines belong to, by."""
    index = kb.ranker.indexes.get(code)
    if index is None:
        return set()
    return {
        t
        for topic in topics
        for key in (topic, _family(topic, kb))
        for t in index.asked.get(key, frozenset())
    }


# The words of each end of a span of the procedure, at most ("from the ERC's approval").
_END_WORDS = 3
# The characters of each end of a Chinese span ("从提议到批准").
_CJK_END = 6


def _procedure_span(norm: str, kb: KnowledgeBase, code: str) -> str:
    """The span of the procedure a message names, both its ends stages of activating, or "".

    "From proposal to endorsement", "desde la propuesta hasta la aprobación", "从提议到批准",
    "من الاقتراح إلى الموافقة": each end, ranked alone, is a line or a topic of activating
    (`procedure_spans` of each language file: the word before each end).
    """
    tokens = norm.split()
    for opening, closing in (p for p in kb.text(code).procedure_spans if len(p) == 2):
        if _CJK.search(opening):
            for m in re.finditer(rf"{opening}(.{{1,{_CJK_END}}}?){closing}", norm):
                after = norm[m.end() : m.end() + _CJK_END]
                ends = (after[:k] for k in range(2, len(after) + 1))
                end = next((x for x in ends if _a_stage(x, kb, code)), "")
                if end and _a_stage(m.group(1), kb, code):
                    return m.group(0) + end
            continue
        for i in (i for i, t in enumerate(tokens) if t == normalize(opening)):
            for j in range(i + 2, min(len(tokens), i + 2 + _END_WORDS)):
                before, after_it = tokens[i + 1 : j], tokens[j + 1 : j + 1 + _END_WORDS]
                if (
                    tokens[j] == normalize(closing)
                    and after_it
                    and _a_stage(" ".join(before), kb, code)
                    and _a_stage(" ".join(after_it), kb, code)
                ):
                    return " ".join(tokens[i : j + 1 + len(after_it)])
    return ""


def _a_stage(words: str, kb: KnowledgeBase, code: str) -> bool:
    """Whether words ranked alone ("the proposal", "批准") are a line or a topic of activating."""
    first = kb.ranker.rank(words, [code], limit=1)
    return bool(first) and (_of_activation(first[0].topic, kb) or _procedure(first[0].topic, kb))


def _the_procedure_by_its_name(
    ranked: list[Ranked], text: str, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """The procedure first, over another topic's line, when the message names it by its noun.

    "I need to brief the RC tomorrow on the formal procedure for cluster activation, can you
    summarise it": a line that mentions "the activation procedure" in passing (the HCT's)
    holds the words as well, but what is wanted is the procedure. Only when the procedure is
    among the candidates, and the first is of no activation topic.
    """
    first = ranked[0]
    if _of_activation(first.topic, kb) or _procedure(first.topic, kb) or first.kind == "concept":
        return ranked
    steps = next((r for r in ranked if r.topic == _PROCEDURE), None)
    if steps is None or not _names_the_procedure(text, kb, langs):
        return ranked
    steps = replace(steps, confidence=max(steps.confidence, first.confidence))
    return [steps, *(r for r in ranked if r.topic != _PROCEDURE)]


def _names_activating(rest: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the words ranked say "activate" ("why activate a cluster?")."""
    return any(set(kb.ranker.tokens(rest, code)) & kb.activation_tokens[code] for code in langs)


# A criterion holding two of the question's words at this share of the best's confidence
# answers a question that names activating better than another topic's line.
_OF_ACTIVATING = 0.6


def _of_activating(
    ranked: list[Ranked], e: Entities, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """A question naming activating, or a cluster needed, gets the criterion it asks of.

    "Does national capacity matter for activating clusters?", "do we even need a cluster if
    the govt can handle it": the lines on the government's role hold the rest as well, but
    the question is whether to activate (the second criterion). Deactivating named, or a
    line of the activation topics first already, leaves the order as it is.
    """
    if not ranked or _of_activation(ranked[0].topic, kb) or _procedure(ranked[0].topic, kb):
        return ranked
    # A whole topic first is named by its title; a line first that holds every word of the
    # question is its answer ("que rol tiene el gobierno cuando se activan clusters").
    if ranked[0].kind == "concept" or ranked[0].confidence >= 1.0:
        return ranked
    needing = "need" in e.intents and e.says_cluster
    if not (needing or _names_activating(e.rest, kb, langs)):
        return ranked
    if _names_deactivating(e.rest, kb, langs):
        return ranked
    first = ranked[0]
    seen = {r.topic for r in ranked}
    pool = ranked + [r for r in kb.ranker.rank(e.rest, langs, limit=8) if r.topic not in seen]

    def asked_by(topic: str) -> bool:
        # The words people ask the criterion by ("national capacity", "cope"), besides activating.
        for code in langs:
            index = kb.ranker.indexes.get(code)
            words = set(kb.ranker.tokens(e.rest, code)) - kb.activation_tokens[code]
            if index is not None and words & index.asked.get(topic, frozenset()):
                return True
        return False

    chosen = next(
        (
            r
            for r in pool
            if (p := kb.passages.get(r.topic)) is not None
            and p.kind == "criterion"
            and r.matched >= 2
            and r.confidence >= max(CONFIDENT, _OF_ACTIVATING * first.confidence)
            and asked_by(r.topic)
        ),
        None,
    )
    return _put_first(chosen, ranked)


def _put_first(chosen: Ranked | None, ranked: list[Ranked]) -> list[Ranked]:
    """`chosen` first and its topic nowhere after it; `ranked` as it was when none was chosen."""
    if chosen is None:
        return ranked
    return [chosen, *(r for r in ranked if r.topic != chosen.topic)]


# Chinese "itself" ("政府能自己协调了"): the government doing it alone, as "only" says elsewhere.
_ITSELF = re.compile(r"自己|自行|独立")


def _handed_over(
    ranked: list[Ranked], e: Entities, text: str, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """The government coordinating alone now, asked of the clusters: when they close.

    "政府能自己协调了，集群怎么办", "the government can coordinate on its own now, what happens
    to the clusters?": the line on closing a cluster once national structures can take over,
    not the government's role at large. Activating or needing a cluster named asks the
    opposite (the second criterion, `_of_activating`).
    """
    if not ranked or _concept(ranked[0], kb) == DEACTIVATION or not e.says_cluster:
        return ranked
    norm = normalize(text)
    alone = "only" in e.intents or bool(_ITSELF.search(norm))
    if not alone or "need" in e.intents or _names_activating(e.rest, kb, langs):
        return ranked
    if not any(
        role == "authorities" for code in langs for role, _ in _roles_named(norm, kb, code)[0]
    ):
        return ranked
    seen = {r.topic for r in ranked}
    pool = ranked + [r for r in kb.ranker.rank(e.rest, langs, limit=8) if r.topic not in seen]
    closing = next(
        (r for r in pool if _concept(r, kb) == DEACTIVATION and r.confidence >= CONFIDENT), None
    )
    return _put_first(closing, ranked)


def _names_deactivating(rest: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the words ranked say "deactivate" ("close the cluster")."""
    return any(set(kb.ranker.tokens(rest, c)) & kb.deactivation_tokens[c] for c in langs)


def _of_deactivating(
    ranked: list[Ranked], rest: str, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """A question naming deactivation first gets the deactivation line that answers it.

    Deactivating is activating's opposite, and the activation lines hold the rest of such a
    question as well ("who decides", the HC, the ERC, the government coordinating alone): the
    word for closing a cluster says which of the two is asked.
    """
    if not _names_deactivating(rest, kb, langs):
        return ranked
    if _concept(ranked[0], kb) == DEACTIVATION:
        return ranked
    pool = ranked + kb.ranker.rank(rest, langs, limit=16)
    closing = next((r for r in pool if _concept(r, kb) == DEACTIVATION), None)
    return _put_first(closing, ranked)


def _roles_named(norm: str, kb: KnowledgeBase, code: str) -> tuple[list[tuple[str, bool]], bool]:
    """The procedure's roles a question names, and whether it asks to whom.

    Each role with whether a step is done to it ("to the ERC", "al equipo humanitario",
    "告诉RC/HC").
    """
    roles, to, to_whom = kb.step_role_words[code]
    text = f" {norm} "
    named: list[tuple[int, str, bool]] = []
    for word, role in roles:
        inside = code == "zh" and bool(_CJK.search(word))
        needle = word if inside else f" {word} "
        while (i := text.find(needle)) >= 0:
            at = i if inside else i + 1
            before = text[:at].rstrip()
            done_to = any(
                before.endswith(t) if _CJK.search(t) else f" {before}".endswith(f" {t}")
                for t in to
            )
            named.append((at, role, done_to))
            text = text[:at] + "#" * len(word) + text[at + len(word) :]
    whom = any((w in text) if _CJK.search(w) else (f" {w} " in text) for w in to_whom) or (
        norm.split()[-1:] != [] and norm.split()[-1] in to and not _CJK.search(norm)
    )
    return [(role, done_to) for _, role, done_to in sorted(named)], whom


def _by_its_actors(
    ranked: list[Ranked], e: Entities, text: str, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """The step done by the roles the question names as doing it, to those it names as done to.

    "Who does the ERC send the proposal on to?" names the ERC doing the step: the ERC's step
    (it forwards to the Principals), not the one whose words it shares (the RC/HC writes to
    the ERC); "who tells the RC/HC in writing?" asks of a step done to the RC/HC. A question
    whose best answer is no step is of one only when it names someone a step is done to, or
    asks to whom ("协调员的信要寄给谁", to whom the coordinator's letter goes).
    """
    if not ranked:
        return ranked
    norm = normalize(text)
    named: list[tuple[str, bool]] = []
    whom = False
    for code in langs:
        named, whom = _roles_named(norm, kb, code)
        if named:
            break
    if not named:
        return ranked

    def fits(topic: str) -> bool:
        p = kb.passages.get(topic)
        return (
            p is not None
            and bool(p.by or p.to)
            and all(role in (p.to if to else p.by) for role, to in named)
        )

    first = ranked[0]
    step = kb.passages.get(first.topic)
    if fits(first.topic):
        return ranked
    pool = ranked
    # A step, or the whole procedure that two of its lines made first: any step may answer.
    if (step is not None and (step.by or step.to)) or first.topic == _PROCEDURE:
        seen = {r.topic for r in ranked}
        pool = ranked + [r for r in kb.ranker.rank(e.rest, langs, limit=16) if r.topic not in seen]
    elif not ((whom or any(to for _, to in named)) and (whom or _WHO.search(norm))):
        return ranked
    chosen = next(
        (r for r in pool if fits(r.topic) and r.confidence >= _AS_SURE * first.confidence),
        None,
    )
    return _put_first(chosen, ranked)


_QUESTION_MARKS = re.compile(r"[?？؟]")


def _two_lines_of_one_topic(
    ranked: list[Ranked], text: str, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """Two questions in one message that two lines of one topic answer get the topic.

    "Can an NGO co-lead a cluster? Are we then provider of last resort?": the line on last
    resort names the NGO co-lead as well and holds the whole message, but the first question
    is the other line's.
    """
    parts = [p for p in _QUESTION_MARKS.split(text) if p.strip()]
    first = ranked[0]
    if len(parts) < 2 or first.kind != "passage":
        return ranked
    topic = kb.passages[first.topic].concept
    for part in parts:
        best = kb.ranker.rank(part, langs, limit=1)
        if not best or best[0].confidence < CONFIDENT or best[0].topic == first.topic:
            continue
        passage = kb.passages.get(best[0].topic)
        if passage is not None and passage.concept == topic:
            whole = Ranked(topic, "concept", first.score, first.confidence, first.matched)
            return [whole, *(r for r in ranked if r.topic != topic)]
    return ranked


# Who answers to whom, at each level.
_LEVELS = "levels"
_GLOBAL_LEVEL = "accountability_global"
_COUNTRY_LEVEL = "accountability"
_HC_LEVEL = "hc_accountability"
_HC = "HC"


def _accountable_at(
    e: Entities, ranked: list[Ranked], sure: bool, kb: KnowledgeBase, langs: list[str], norm: str
) -> str:
    """To whom a cluster lead answers, at the level asked: the line, or both levels, or "".

    "Who do cluster leads report to?", "who does the health cluster lead answer to?" ask
    accountability, not who leads (nor of a cluster named "report"). A level named answers
    with its line; a question that names none gets both (global leads to the ERC, country
    leads to the HC). A passage the ranker is
    sure of on two words elsewhere that the question asks beside ("is an NGO co-lead
    accountable to the HC?") answers instead, as the HC's own line does when no cluster is.
    """
    # An agency named ("is Save the Children accountable to the HC as co-lead?") is what is
    # asked about: the rules on it answer.
    if "accountable" not in e.intents or e.agencies:
        return ""
    # "And the HC, who does he report to?", "et le HC, il rend des comptes à qui ?": the HC
    # named before the words for answering to someone is who is asked of ("the HC asked me
    # who cluster leads report to" names who asks).
    if "asker" not in e.intents and _the_hc_answers(norm, kb, langs):
        return _HC_LEVEL
    if not ("lead" in e.intents or e.says_cluster):
        return ""
    best = ranked[0] if sure and ranked else None
    if (
        best is not None
        and best.matched >= 2
        and _family(best.topic, kb) != _LEVELS
        and _asked_besides_accountability(best, e, kb, langs)
    ):
        return ""
    # "人道主义协调员向谁负责" asks the HC's own line ("负责" is a lead word too); a cluster
    # named, or a cluster word, makes a lead the one asked of.
    if best is not None and best.topic == _HC_LEVEL and not (e.sectors or e.says_cluster):
        return ""
    if "scope" in e.intents:
        return _GLOBAL_LEVEL
    country_words = (p for code in langs for p in kb.text(code).country_level_words)
    if "country_level" in e.intents or e.countries or any(_holds(norm, p) for p in country_words):
        return _COUNTRY_LEVEL
    return _LEVELS


def _the_hc_answers(norm: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the HC, by its acronym or its title, is named before the accountability words."""
    for code in langs:
        asked = [
            f" {normalize(p)} " in f" {norm} " and f" {norm} ".index(f" {normalize(p)} ")
            for p in kb.text(code).intent_words["accountable"]
        ]
        at = min((a for a in asked if a is not False), default=None)
        if at is None:
            continue
        names = ("hc", "ch", normalize(kb.text(code).acronyms[_HC].split(" (")[0]))
        before = f" {norm} "[: at + 1]
        if any(f" {n} " in before for n in names):
            return True
    return False


def _asked_besides_accountability(
    best: Ranked, e: Entities, kb: KnowledgeBase, langs: list[str]
) -> bool:
    """Whether the passage is what the question asks beside its lead and accountability words.

    "Is an NGO co-lead accountable to the HC?" still asks of the NGO co-lead once its lead,
    cluster and accountability words are gone; "to whom are cluster lead agencies
    accountable?" asks nothing more.
    """
    said = [
        p
        for code in langs
        for group in ("lead", "cluster_word", "accountable")
        for p in kb.text(code).intent_words[group]
    ]
    again = kb.ranker.rank(without(e.rest, said), langs, limit=3)
    return any(r.topic == best.topic and r.matched >= 2 for r in again)


def _title_word(rest: str, r: Ranked, e: Entities, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether `rest` holds a word of its topic's title besides the cluster word and acronym.

    "OCHA in the cluster approach" is not named by "is OCHA a lead?"; "Refugee responses" is by
    "refugees: clusters, or UNHCR?" (the agency's full name holds "refugees": not taken out).
    """
    topic = _concept(r, kb)
    for code in langs:
        title = set(kb.ranker.tokens(kb.text(code).concepts[topic].title, code))
        named = {a.casefold() for a in e.agencies}
        for agency in e.agencies:
            names = kb.text(code).agencies[agency]
            named |= set(kb.ranker.tokens(names.short, code))
        if set(kb.ranker.tokens(rest, code)) & (title - kb.cluster_tokens[code] - named):
            return True
    return False


def _names_agency(r: Ranked, e: Entities, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the text of `r` names one of the agencies the question names."""
    for code in langs:
        text = normalize(_text_of(r.topic, kb, code))
        for agency in e.agencies:
            names = kb.text(code).agencies[agency]
            if any(normalize(n) in text for n in (names.short, names.name) if n):
                return True
    return False


def _naming(
    ranked: list[Ranked], country: str, kb: KnowledgeBase, langs: list[str]
) -> Ranked | None:
    """The candidate we are sure of whose text names `country`, if one does."""
    for r in ranked:
        if r.confidence < CONFIDENT:
            continue
        for code in langs:
            name = normalize(kb.matcher.country_name(country, code))
            if name and name in normalize(_text_of(r.topic, kb, code)):
                return r
    return None


def _text_of(topic: str, kb: KnowledgeBase, code: str) -> str:
    """What a passage or a whole topic says, in one language."""
    passage = kb.passages.get(topic)
    return kb.passage_text(passage, code) if passage else kb.text(code).concepts[topic].body


def _one_condition(e: Entities) -> str | None:
    """The kind of emergency a message names, when it names exactly one ("in floods")."""
    return next(iter(e.conditions)) if len(e.conditions) == 1 else None


# A question word before a wish to activate: the words before it ask ("what are the criteria
# if we want to activate?").
_ASKING_BEFORE = re.compile(
    r"(?:^|\s)(?:what|how|who|when|why|which|quoi|qui|quand|pourquoi|comment|quel|quelle|que|"
    r"como|quien|cuando|cual|por que|ما|ماذا|كيف|من|متي|لماذا|شو)(?:\s|$)"
    r"|什么|怎么|如何|谁|哪|为什么|啥|咋"
)


def _asked_beside_a_wish(
    e: Entities, text: str, kb: KnowledgeBase, langs: list[str]
) -> Ranked | None:
    """The topic a question beside a wish to activate names, or None for the procedure.

    What it asks beside "how" and "cluster" decides, when it names a topic by two words or
    by its title ("..., what are the criteria?"); "what do we do" asks for the procedure.
    """
    plain = {*QUESTION_WORDS, *kb.matcher.cluster_words}
    asked = [w for w in e.rest.split() if w not in plain]
    # What comes before the wish and asks nothing says who asks ("HC here - we want to
    # propose activating logistics, what do I have to do?"), not what.
    norm = normalize(text)
    wishes = sorted(
        {normalize(p) for c in langs for p in kb.text(c).intent_words.get("wish", ())},
        key=len,
        reverse=True,
    )
    at = next(((norm.find(w), w) for w in wishes if w and norm.find(w) > 0), None)
    before = norm[: at[0]] if at is not None else ""
    if at is not None and not (opens_a_question(before) or _ASKING_BEFORE.search(before)):
        after = set(norm[at[0] + len(at[1]) :].split())
        asked = [w for w in asked if w in after]
    ranked = kb.ranker.rank(" ".join(asked), langs, limit=3) if asked else []
    if not ranked or ranked[0].confidence < (CONFIDENT if ranked[0].matched >= 2 else ALONE):
        return None
    best = ranked[0]
    # Even where the words before the wish ask, an acronym among them names who wishes ("what
    # should the HC do if we want to activate?"), not the topic ("..., who is the HC?").
    acronyms = {a.casefold() for a in e.acronyms}
    named = [
        w
        for w in asked
        if not (w in acronyms and re.search(rf"(?<![^\W\d_]){re.escape(w)}(?![^\W\d_])", before))
    ]
    if best.matched >= 2 or any(kb.ranker.titled(w, best.topic, langs) for w in named):
        return best
    return None


def _named_in_capitals(e: Entities, text: str, kb: KnowledgeBase) -> Entities:
    """A follow-up's one word read as the name it is in capitals ("what about etc?": ETC).

    Names that are everyday words (who, etc, log) count only in capitals; a follow-up word
    and that word alone can mean nothing else.
    """
    words = e.leftover.split()
    if "followup" not in e.intents or len(words) != 1 or e.sectors or e.agencies or e.countries:
        return e
    word = words[0]
    capitals = re.sub(rf"(?i)(?<!\w){re.escape(word)}(?!\w)", word.upper(), text)
    again = kb.matcher.entities(capitals)
    return again if again.sectors or again.countries else e


# A message asking "who else?" is this short ("and is there anyone else?").
_OTHERS_WORDS = 6


# Beside the name, "who leads the ... cluster" and its ways of saying it ("quién es la agencia
# líder del clúster de ...") take this many words at most.
_LEAD_QUESTION_WORDS = 7


def _asks_for_a_cluster(e: Entities) -> bool:
    """Whether the message is only "who leads the <name> cluster".

    That is lead words, the word cluster, and one run of other words (the name), nothing else.
    """
    return (
        e.intents <= _ONLY_A_LEAD_QUESTION
        and "cluster_word" in e.intents
        and e.words - len(e.leftover.split()) <= _LEAD_QUESTION_WORDS
    )


# Intents that ask nothing beside "who leads": "and who leads ... in our country, globally?"
_ONLY_A_LEAD_QUESTION = frozenset(
    {"lead", "cluster_word", "followup", "aside", "scope", "pointer"}
) | {"own_country"}


def _one_run(e: Entities, kb: KnowledgeBase, gaps: bool = False) -> bool:
    """Whether the words left over are side by side in the message, as a name's are.

    With `gaps` (a message that says "cluster" beside the name), one everyday word may stand
    between two of its words ("the cash and voucher cluster", "el clúster de dinero en
    efectivo"); otherwise words apart are words picked out of a sentence.
    """
    rest = normalize(e.rest)
    if _CJK.search(e.leftover):
        # Chinese runs have no spaces: the name is one piece of the run ("谁牵头交通集群").
        return " " not in e.leftover and e.leftover in rest
    name = e.leftover.split()
    words = rest.split()
    if name[0] not in words:
        return False
    at = words.index(name[0])
    for word in name[1:]:
        # The next word of the name, or one everyday word and then it.
        if words[at + 1 : at + 2] == [word]:
            at += 1
        elif (
            gaps and words[at + 2 : at + 3] == [word] and words[at + 1] in kb.matcher.common_words
        ):
            at += 2
        else:
            return False
    return True


def _names_a_topic(name: str, best: Ranked, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether a name is the title of the best topic, or two words of a passage by itself.

    The name alone, not the question: its lead words ("who leads") occur in many passages.
    """
    if kb.ranker.titled(name, best.topic, langs):
        return True
    alone = kb.ranker.rank(name, langs, limit=1)
    return bool(alone) and alone[0].matched >= 2 and alone[0].confidence >= CONFIDENT


def _words(kb: KnowledgeBase, langs: list[str], intent: str) -> str:
    """The phrases of one intent in these languages, as one text."""
    return " ".join(p for lang in langs for p in kb.text(lang).intent_words.get(intent, ()))


def _length(words: list[str]) -> int:
    """How many words these are, a run of Chinese counting a word for every two characters."""
    return sum(len(w) // 2 or 1 if _CJK.search(w) else 1 for w in words)


def _procedure(topic: str, kb: KnowledgeBase) -> bool:
    """Whether `topic` is the activation procedure or one of its steps."""
    passage = kb.passages.get(topic)
    return (passage.concept if passage else topic) == "activation_steps"


def _concept(r: Ranked, kb: KnowledgeBase) -> str:
    return _family(r.topic, kb)


def _holds_a_figure(concept: str, kb: KnowledgeBase, lang: str) -> bool:
    body = kb.text(lang).concepts[concept].body
    return any(c.isdigit() for c in body)


def _of_the_subject(
    ranked: list[Ranked], rest: str, kb: KnowledgeBase, langs: list[str]
) -> list[Ranked]:
    """The ranking with what a how-long or by-when word asks of put first.

    "How long is a scale-up?", "when must the transition plan be ready?": the time words
    hold no subject of their own (the ERC's 24 hours, the lead's readiness), they ask the time
    of the subject named. Ranked without them, the question names that subject; its passage
    nearest the whole question comes first, as sure as the subject is.
    """
    # "Must" beside a deadline is the deadline's ("when must the plan be ready?"), no duty.
    words = [
        p
        for code in langs
        for group in ("duration", "duty")
        for p in kb.text(code).intent_words.get(group, ())
    ]
    left = without(rest, words)
    # "Combien de temps pour l'activation ?": activating as a whole takes the time of its
    # decision (the ERC's 24 hours); its criteria and steps hold no duration of their own.
    tokens = {c: set(kb.ranker.tokens(left, c)) for c in langs}
    if any(tokens.values()) and all(
        t <= kb.activation_tokens[c] | kb.cluster_tokens[c] for c, t in tokens.items()
    ):
        decision = Ranked("activation_decision", "concept", ranked[0].score, 1.0, 1)
        return [decision, *(r for r in ranked if r.topic != decision.topic)]
    subject = kb.ranker.rank(left, langs, limit=4)
    if not subject or _concept(subject[0], kb) == _concept(ranked[0], kb):
        return ranked
    about = subject[0]
    sure = about.confidence >= (CONFIDENT if about.matched >= 2 else ALONE)
    if not sure:
        return ranked
    # Of the subject's answers, the nearest to the whole question (the passage on the plan's
    # 90 days, or the concept whole where no one passage says more).
    concept = _concept(about, kb)
    # A time is a figure: a subject whose text holds none ("the ERC", who he is) is no
    # answer to "how long", and the time words keep the answer that has one.
    if not _holds_a_figure(concept, kb, langs[0]):
        return ranked
    mine = max((r for r in (*ranked, about) if _concept(r, kb) == concept), key=lambda r: r.score)
    best = replace(mine, confidence=max(mine.confidence, about.confidence))
    return [best, *(r for r in ranked if r.topic != mine.topic)]


# Whose duties answer a question asking what someone must do, by its subject: the lead's
# (its responsibilities), or, when the subject is the cluster itself, the core functions.
_LEAD_DUTIES = "lead_responsibilities"


def _duty_of_the_subject(
    ranked: list[Ranked], e: Entities, kb: KnowledgeBase, langs: list[str], norm: str
) -> tuple[list[Ranked], Entities] | None:
    """The ranking with the subject's duty first, when a question asks what the subject must do.

    "Does the lead agency have to coordinate with the government?", "le chef de file doit-il
    faire du plaidoyer ?": the lead (`subject_words.lead`) is who the duty is asked of, and its
    line on the thing named answers, not a topic that merely shares the word (the government's
    role, the advocacy function). Ranked without the subject's and the duty's words, the rest
    names the thing; the lead's first line the rest is sure of comes first, unless the rest
    names another topic by its whole title ("does the lead have to be provider of last resort
    with no funding?" asks that topic). Its duties asked as such ("what are the lead's
    obligations?") and no line named: all of them.
    "Does the cluster have to do monitoring?" asks it of the cluster: its core function, when
    it holds the rest as well as the best ("what must be done to activate a cluster" holds
    the cluster as its object, and the procedure holds more of it).
    A co-lead or a coordinator is another subject; a named cluster or agency, a lead question.
    """
    if e.sectors or e.agencies or e.countries:
        return None
    phrases = {
        group: [p for c in langs for p in kb.text(c).subject_words.get(group, ())]
        for group in ("lead", "duties")
    }
    duties = [p for p in phrases["duties"] if _holds(norm, p)]
    if not ("duty" in e.intents or duties):
        return None
    others = [w for c in langs for w in kb.text(c).record_words.get("co_lead", ())]
    if any(_holds(norm, w) for w in others):
        return None
    lead = any(_holds(norm, p) for p in phrases["lead"])
    coordinator = [w for c in langs for w in kb.text(c).record_words.get("coordinator", ())]
    cluster = (
        "duty" in e.intents
        and "cluster_word" in e.intents
        and not any(_holds(norm, w) for w in coordinator)
    )
    if not (lead or cluster):
        return None
    family = _LEAD_DUTIES if lead else _FUNCTIONS
    # Already the subject's, and sure ("what is the first responsibility of a cluster lead?").
    first = ranked[0] if ranked else None
    if (
        first is not None
        and _family(first.topic, kb) == family
        and first.confidence >= (CONFIDENT if first.matched >= 2 else ALONE)
    ):
        return ranked, _without_duties(e, duties)
    words = [
        *phrases["lead"],
        *duties,
        *(p for c in langs for g in ("duty", "cluster_word") for p in kb.text(c).intent_words[g]),
    ]
    left = without(e.rest, words)
    asked = kb.ranker.rank(left, langs, limit=8) if left else []
    # The rest naming another topic by its whole title asks that topic ("does the lead have to
    # be provider of last resort?"), not a line of the lead's that names it.
    if asked and _whole_title_in(asked[0], left, kb, langs):
        named = asked[0]
        return [named, *(r for r in ranked if r.topic != named.topic)], e
    # Of the cluster, and of the lead beside a post or body it names ("does the lead have to
    # write to the ERC?": the step) or asking who ("who must the lead report to?"), the line
    # must hold the rest as well as the best does.
    tie = not lead or bool(e.acronyms) or bool(_WHO.search(norm))
    mine = next(
        (
            r
            for r in asked
            if _family(r.topic, kb) == family
            and r.confidence >= (CONFIDENT if r.matched >= 2 else ALONE)
            and (not tie or r.confidence >= asked[0].confidence)
        ),
        None,
    )
    if mine is None and not (lead and duties):
        return None
    # A line people ask by another topic's title ("proveedor de último recurso" of the lead's
    # last line) points to that topic, which says more of it: when it holds more of the rest
    # ("... even with no funding?"), it answers.
    if mine is not None and _names_the_title(mine, asked[0], kb, langs):
        return None
    if mine is None:
        # The whole, said by the subject and its duties: a line it is not sure of would
        # answer what was not asked.
        score = max((r.score for r in ranked[:1]), default=1.0)
        mine = Ranked(family, "concept", score, 1.0, 2)
    # Ranked on the whole question too, it is as sure as it was there, at least.
    for r in ranked:
        if r.topic == mine.topic:
            mine = Ranked(
                r.topic,
                r.kind,
                max(r.score, mine.score),
                max(r.confidence, mine.confidence),
                max(r.matched, mine.matched),
            )
    rest = [r for r in ranked if r.topic != mine.topic]
    return [mine, *rest], _without_duties(e, duties)


def _without_duties(e: Entities, duties: list[str]) -> Entities:
    """A duty noun asked of the lead is no name ("las obligaciones del líder de clúster")."""
    return e if without(e.leftover, duties) else replace(e, leftover="")


def _names_the_title(mine: Ranked, other: Ranked, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether the words `mine` is asked with hold the whole title of `other`'s topic, another."""
    family = _family(other.topic, kb)
    if family == _family(mine.topic, kb) or other.confidence <= mine.confidence:
        return False
    for code in langs:
        index = kb.ranker.indexes.get(code)
        title = index.titles.get(family, frozenset()) if index else frozenset()
        if index and title and title <= index.asked.get(mine.topic, frozenset()):
            return True
    return False


def _whole_title_in(r: Ranked, rest: str, kb: KnowledgeBase, langs: list[str]) -> bool:
    """Whether `rest` holds every word of the title of `r`'s topic ("provider of last resort")."""
    for code in langs:
        index = kb.ranker.indexes.get(code)
        title = index.titles.get(_family(r.topic, kb), frozenset()) if index else frozenset()
        if title and title <= set(kb.ranker.tokens(rest, code)):
            return True
    return False


def _followed_language(
    previous: dict[str, Any], e: Entities, lang: str | None, own_words: bool, switched: bool
) -> str | None:
    """The language a follow-up answers in: the question's it follows, unless it says another.

    Its own script says another ("and UNHCR?" after a Spanish question is still Spanish,
    "还有谁" after an English one is Chinese), or a bare name in words of its own language
    ("salud?" after a French question is Spanish), or words clearly another language's ("et
    au Soudan ?" after Spanish is French).
    """
    before = previous.get("lang")
    own = (own_words and "followup" not in e.intents) or switched
    if (before in LATIN and lang in (None, *LATIN) and not own) or (before and lang is None):
        return str(before)
    return lang


def _pointed(
    e: Entities, text: str, previous: dict[str, Any], lang: str | None
) -> Understanding | None:
    """A lead question on an agency that points at the last cluster, or None.

    "Is UNFPA the lead for that?", "l'UNFPA en est-il le chef de file ?", "هل UNFPA هو القائد
    لذلك؟" after a lead question name no cluster but point at the one in conversation: a yes
    or no on the agency for it, not the list of what the agency leads. Chinese drops the
    object of a yes/no question ("是UNFPA牵头吗", "is it UNFPA that leads?"): its 吗 points too.
    """
    if previous.get("intent") != "who_leads" or not previous.get("sectors"):
        return None
    if previous.get("between"):  # "that" is what was said just before, not over another one
        return None
    # "Is OCHA still the lead?" points as "for that" does: "still" is said of what was said.
    pointing = bool(e.intents & {"pointer", "still"}) or (
        lang == "zh" and text.rstrip("?？ ").endswith("吗")
    )
    if not (pointing and "lead" in e.intents and e.agencies) or e.sectors:
        return None
    # "Which clusters does it lead?", "UNICEF在苏丹牵头很多集群吗" ask for the agency's list,
    # whatever they point at.
    if e.intents & {"which_clusters", "list_clusters", "cluster_word"}:
        return None
    return Understanding(
        "who_leads",
        lang,
        0.9,
        sectors=tuple(previous["sectors"]),
        agencies=e.agencies,
        country=e.countries[0] if e.countries else previous.get("country"),
        condition=_one_condition(e),
        also_countries=e.countries[1:],
    )


def _past_the_end(
    u: Understanding, text: str, kb: KnowledgeBase, langs: list[str]
) -> Understanding:
    """The whole list, with the number asked, for a line past its end ("step 9", "第九步")."""
    if u.intent != "concept" or not u.topic:
        return u
    past = kb.ranker.parts.beyond(text, langs)
    if past is None or kb.ranker.parts.concepts[past[0]] != _family(u.topic, kb):
        return u
    return replace(u, topic=kb.ranker.parts.concepts[past[0]], beyond=past[1])


def _next_line(
    e: Entities, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None, text: str = ""
) -> Understanding | None:
    """The line after (or before) the one last shown, for "and the next one?" after a step.

    "And after that?", "y después?", "然后呢" ask for the next line too; "and the previous
    one?", "上一步呢" for the one before. Past either end there is none: the whole list, which
    shows where it ends.
    """
    line = kb.passages.get(str(previous.get("line") or ""))
    moves = _line_moves(e, kb, lang, text)
    if line is None or not line.kind or not moves:
        return None
    back = not moves & {"next_line", "after"}
    return Understanding("concept", lang, 0.9, topic=_beside_line(line, kb, back=back))


def _only_a_move(e: Entities, text: str, kb: KnowledgeBase, lang: str | None) -> bool:
    """Whether a message is a move from a line and nothing else ("et avant ?", "上一步呢").

    With no line shown to move from, it asks nothing we know: not whichever line holds the
    word "avant" or "قبل". Every word of it is a move's, a follow-up's or a stop word.
    """
    moves = _line_moves(e, kb, lang, text)
    if not moves or e.acronyms:
        return False
    langs = [lang] if lang else list(kb.languages)
    said = [p for c in langs for g in _NEXT_ONLY for p in kb.text(c).intent_words.get(g, ())]
    left = without(normalize(text), said)
    return not any(kb.ranker.tokens(left, c) for c in langs)


def _who_does_the_line(
    e: Entities, text: str, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None
) -> Understanding | None:
    """The step last shown again, for "who does it?", "qui la fait ?", "谁来做", or None.

    The step's own line says who does it (the `roles` of facts.yaml are the same facts):
    not whichever topic holds the word "do" ("fait", 做), nor the whole procedure.
    """
    line = kb.passages.get(str(previous.get("line") or ""))
    if line is None or not line.by or "does_it" not in e.intents:
        return None
    if e.sectors or e.agencies or e.countries or e.words > _NEXT_WORDS:
        return None
    norm = normalize(text)
    if not _WHO.search(norm):
        return None
    langs = [lang] if lang else list(kb.languages)
    asking = [
        p
        for c in langs
        for g in ("does_it", "pointer", "followup")
        for p in kb.text(c).intent_words.get(g, ())
    ]
    left = _WHO.sub(" ", without(norm, asking))
    if any(kb.ranker.tokens(left, c) for c in langs):
        return None
    return Understanding("concept", lang, 0.9, topic=line.id)


def _nth_of_the_list(
    e: Entities, text: str, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None
) -> Understanding | None:
    """Line n of the list last shown, for "and the fifth?", "et la cinquième ?", "والخامسة؟".

    After the core functions (or one of them) an ordinal alone asks that function, not the
    step of that number whose words hold it; past the list's end, the whole list.
    """
    line = str(previous.get("line") or "")
    parts = kb.ranker.parts
    passage = kb.passages.get(line)
    lists = {concept: kind for kind, concept in parts.concepts.items()}
    kind = passage.kind if passage is not None and passage.kind else lists.get(line)
    if not kind or e.sectors or e.agencies or e.countries or e.words > _NEXT_WORDS:
        return None
    langs = [lang] if lang else list(kb.languages)
    if parts.named(text, langs) is not None:  # "and step 5?" names its own list
        return None
    asking = [
        p
        for c in langs
        for g in ("followup", "pointer")
        for p in kb.text(c).intent_words.get(g, ())
    ]
    ordinals = {w: n for c in langs for w, n in parts.numbers.get(c, {}).items()}
    words = [
        w if w in ordinals else w.removeprefix("و")
        for w in without(normalize(text), asking).split()
    ]
    said = {ordinals[w] for w in words if w in ordinals}
    left = " ".join(w for w in words if w not in ordinals)
    if len(said) != 1 or any(kb.ranker.tokens(left, c) for c in langs):
        return None
    n = said.pop()
    topic = parts.line_of(kind, n)
    if topic is None:
        return Understanding("concept", lang, 0.9, topic=parts.concepts[kind], beyond=n)
    return Understanding("concept", lang, 0.9, topic=topic)


def _line_moves(
    e: Entities, kb: KnowledgeBase, lang: str | None, text: str = ""
) -> frozenset[str]:
    """The moves ("next_line", "before"...) a message asks and nothing else, or none.

    "And the next one?", "et avant ?", "上一步呢" move from the line last shown; "next week?",
    "who is next?", "下一个问题" and "and after step 5?" (a line of its own) ask something else.
    """
    moves = e.intents & _LINE_MOVES
    if not moves or e.sectors or e.agencies or e.countries or e.words > _NEXT_WORDS:
        return frozenset()
    langs = [lang] if lang else list(kb.languages)
    if text and kb.ranker.parts.named(text, langs) is not None:
        return frozenset()
    said = {
        w
        for c in langs
        for m in moves
        for p in kb.text(c).intent_words.get(m, ())
        for w in normalize(p).split()
    }
    if e.intents - _NEXT_ONLY or any(
        not (kb.ranker.parts.names_a_part(w) or w in said or w.removeprefix("و") in said)
        for w in e.leftover.split()
    ):
        return frozenset()
    return moves


# A follow-up on the last topic ("who decides that?", "y quién lo decide?") has so many words
# at most; one of at most `_ELLIPTIC_WORDS` needs no word pointing at it ("qui décide ?").
_WITHIN_WORDS = 9
_ELLIPTIC_WORDS = 3
# Candidates looked through for one of the last topic's lines.
_WITHIN_LIMIT = 12
# Words pointing at the subject in conversation, normalised ("that", "lo", "ça", "那", "ذلك").
_THAT = re.compile(
    r"(?:^|\s)(?:that|this|it|its|then|if|ca|cela|ceci|si|eso|esto|ello|lo|ذلك|هذا|هذه|هيك|ده|دا"
    r"|لو|اذا|واذا|ولو)(?:\s|$)|那|这|它|如果|要是|万一"
)
# The words that ask of a subject without naming one: a question of only these and pointing
# words ("how long after that?") names no other topic.
_ASKING_GROUPS = ("duration", "duty", "when", "why", "followup", "after", "pointer", "negation")


def _within_the_topic(
    e: Entities, text: str, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None
) -> Understanding | None:
    """A short question on the last topic, answered by one of its lines, or None.

    "When is a cluster deactivated?" then "who decides that?" asks who decides the
    deactivation (the HC with the HCT), not the activation; "what if there's no money?" after
    provider of last resort asks its limits. Such a follow-up names no topic of its own: it
    points at the last one ("that", "lo"), opens with a follow-up word, or is a few words
    only. Its own words are ranked, and the best of the last topic's lines answers it; a
    question that names another topic ("does that apply to NGO co-leads?") gets the line of
    that topic that names the last one (an NGO co-lead is not provider of last resort).
    Activation's topics are left to the ranker, the steps to their own follow-ups ("and the
    next one?", "after ...").
    """
    line = str(previous.get("line") or "")
    if not line or e.sectors or e.agencies or e.countries or "acronym_question" in e.intents:
        return None
    # A lead word after a lead question kept from before ("and who co-leads?") asks the lead
    # follow-ups, not the topic shown since.
    if previous.get("intent") and "lead" in e.intents:
        return None
    family = _family(line, kb)
    # Activating is one subject of three topics (its criteria, steps and decision): the
    # ranker's own answer already takes the one asked ("the criteria" then "who decides?").
    if family not in kb.concepts or family in _ACTIVATION_TOPICS or e.words > _WITHIN_WORDS:
        return None
    langs = [lang] if lang else list(kb.languages)
    norm = normalize(text)
    if kb.ranker.parts.named(norm, langs) is not None:
        return None
    # "That", "lo", "那": the question is of the last subject, whatever its verb names
    # ("y quién lo decide?" names deciding, which the activation topic is titled by).
    that = bool(_THAT.search(norm)) or "pointer" in e.intents
    if not (that or "followup" in e.intents or e.words <= _ELLIPTIC_WORDS):
        return None
    ranked = kb.ranker.rank(e.rest, langs, limit=_WITHIN_LIMIT)
    if not ranked:
        return None
    # The topic's lines, the one holding most of the question's words first, then the best
    # scored (within one question the scores compare).
    mine = sorted(
        (r for r in ranked if _family(r.topic, kb) == family),
        key=lambda r: (r.matched, r.score),
        reverse=True,
    )
    # "How long after?": of the topic's lines, the one that holds a time.
    if "duration" in e.intents:
        timed = [
            r
            for r in mine
            if r.topic in kb.passages
            and any(c.isdigit() for c in kb.passage_text(kb.passages[r.topic], langs[0]))
        ]
        mine = timed or mine
    asking = [p for c in langs for g in _ASKING_GROUPS for p in kb.text(c).intent_words.get(g, ())]
    left = without(e.rest, asking)
    named = kb.ranker.rank(left, langs, limit=_WITHIN_LIMIT)
    other = _family(named[0].topic, kb) if named else family
    # "Who decides?" names deciding, not activating: of another subject, activation's topics
    # are named only by the word for activating.
    if other in _ACTIVATION_TOPICS and not any(
        set(kb.ranker.tokens(left, c)) & kb.activation_tokens[c] for c in langs
    ):
        other = family
    if other != family and named[0].confidence >= CONFIDENT:
        # Another topic named ("does that apply to NGO co-leads?"): its line that names the
        # last topic (an NGO co-lead is no provider of last resort), or that topic as asked
        # alone.
        strong = named[0].matched >= 2 or (
            not that and kb.ranker.titled(left, named[0].topic, langs)
        )
        if not strong:
            return None if not mine else Understanding("concept", lang, 0.8, topic=mine[0].topic)
        title = kb.text(langs[0]).concepts[family].title
        of_it = kb.ranker.rank(title, langs, limit=_WITHIN_LIMIT)
        first = next(
            (
                r
                for r in of_it
                if _family(r.topic, kb) == other
                and r.topic in kb.passages
                and r.confidence >= CONFIDENT
                and r.matched >= 2
            ),
            None,
        )
        return Understanding("concept", lang, 0.8, topic=first.topic) if first else None
    if mine:
        return Understanding("concept", lang, 0.8, topic=mine[0].topic)
    # Nothing of the topic's lines in its words: the topic whole, when the question points at it.
    return Understanding("concept", lang, 0.8, topic=family) if that else None


# The answers naming who leads what, after which "why?" asks why that agency leads.
_LEAD_ANSWERS = frozenset({"who_leads", "agency_clusters"})


def _why_again(
    e: Entities, previous: dict[str, Any], kb: KnowledgeBase, lang: str | None
) -> Understanding | None:
    """The passage that says why, for "why?" after a topic or a line, or that none does.

    Only where our text gives the reason (`reasons` in facts.yaml: the global CLAs are alerted
    "so that they can take part"); of any other subject the answer says we hold no reason,
    and guesses none (never the aims or the whole procedure again).
    """
    line = str(previous.get("line") or "")
    # "Who leads health?" then "why?": the lead is a fact of ours; why that agency leads,
    # none of our texts says (`reasons` holds no lead), so the answer says so of that lead.
    led = previous.get("intent") in _LEAD_ANSWERS and (
        previous.get("sectors") or previous.get("agencies")
    )
    if not (line or led) or "why" not in e.intents or e.intents - _WHY_ONLY:
        return None
    if e.sectors or e.agencies or e.countries or e.acronyms or e.words > _WHY_WORDS:
        return None
    langs = [lang] if lang else list(kb.languages)
    said = {
        w
        for c in langs
        for group in _WHY_ONLY
        for p in kb.text(c).intent_words.get(group, ())
        for w in normalize(p).split()
    }
    if any(w not in said and w.removeprefix("و") not in said for w in e.leftover.split()):
        return None
    if not line:
        return Understanding(
            "no_reason",
            lang,
            0.9,
            sectors=tuple(previous.get("sectors") or ()),
            agencies=tuple(previous.get("agencies") or ()),
        )
    # An unnamed line ("scale_up.2") was shown as its whole topic: the topic's reason.
    subject = _family(line, kb) if "." in line else line
    reason = kb.reasons.get(subject)
    if reason is None:
        return Understanding("no_reason", lang, 0.9, topic=subject)
    return Understanding("concept", lang, 0.9, topic=reason)


def _followup(
    e: Entities,
    previous: dict[str, Any],
    lang: str | None,
    own_words: bool,
    *,
    switched: bool = False,
) -> Understanding | None:
    """The last question again with the one thing this message names swapped in, or None.

    Only an elliptic message counts: it opens with a follow-up word (or is two words or
    fewer), names a cluster, an agency, a country or, after a lead question, a kind of
    emergency, and asks nothing of its own. `own_words`: it holds marker words of the
    language it was read in ("salud"), which then outweigh the question it follows;
    `switched`: its words, follow-up words included, are clearly that other language.
    """
    intent = str(previous.get("intent") or "")
    if intent not in FOLLOWABLE:
        return None
    if e.intents & {"lead", "which_clusters", "list_clusters", "checklist", "wish", "help"}:
        return None
    # The kind of emergency ("and in conflict?") is what a lead depends on: the lead answer
    # states it for each kind, so it is the last question again.
    kind = "emergency" in e.intents and intent == "who_leads"
    # "Congo" names a country still to choose: the answer asks which, as for a whole question.
    choices = () if e.countries else e.country_choices
    named = bool(e.sectors or e.agencies or e.countries or choices)
    # "Who else?", "¿alguien más?", "还有谁": more of what was asked, which the last answer
    # gave whole (every lead and co-lead we hold): that answer again, not a guess at others.
    if "others" in e.intents and not named and e.words <= _OTHERS_WORDS:
        if previous.get("between"):  # more of the message just before, not of an older one
            return None
        if intent == "country_clusters" and not previous.get("country"):
            return None
        if "cluster_word" in e.intents:  # "还有其他集群吗": other clusters, not other leads
            return None
        return Understanding(
            intent,
            _followed_language(previous, e, lang, own_words, switched),
            0.9,
            sectors=tuple(previous.get("sectors") or ()),
            agencies=tuple(previous.get("agencies") or ()),
            country=previous.get("country"),
        )
    # "And globally?", "全球呢？": the same question at the global level, without its country.
    worldwide = "scope" in e.intents
    asked = [w for w in e.leftover.split() if not (kind and w in e.situation)]
    if not (named or kind or worldwide) or asked:
        return None
    # A message that is nothing but names ("the Republic of the Congo", the answer to "which
    # country?") is elliptic however many words they take. "Is it still OCHA?", "¿sigue siendo
    # OCHA?" ask the name again of the last subject: "still" follows up as "and" does.
    if not e.intents & _FOLLOWING and e.words > 3 and e.intents:
        return None
    sectors = tuple(previous.get("sectors") or ())
    agencies = tuple(previous.get("agencies") or ())
    country = previous.get("country")
    if e.countries or choices:
        country = e.countries[0] if e.countries else None
    if intent == "presence" and (e.agencies or worldwide or kind or choices):
        # Who works where names no agency's part and no global level: asked anew.
        return None
    if worldwide and not e.countries:
        country = None
        if intent == "country_clusters" and not e.sectors:
            # A country's records "and globally?": the global clusters and their leads.
            return Understanding(
                "list_clusters", _followed_language(previous, e, lang, own_words, switched), 0.9
            )
    if e.sectors:
        sectors, agencies = e.sectors, ()
        intent = "presence" if intent == "presence" else "who_leads"
    if e.agencies:
        agencies = e.agencies
        if not e.sectors and intent == "agency_clusters":
            sectors = ()
    if intent == "country_clusters" and sectors:
        intent = "who_leads"
    if intent == "who_leads" and not sectors:
        intent = "agency_clusters" if agencies else "country_clusters"
    if intent == "country_clusters" and not (country or choices):
        return None
    lang = _followed_language(previous, e, lang, own_words, switched)
    condition = _one_condition(e)
    u = Understanding(
        intent,
        lang,
        0.9,
        sectors=sectors,
        agencies=agencies,
        country=country,
        condition=condition if intent == "who_leads" else None,
        also_countries=e.countries[1:],
        country_choices=choices,
    )
    return replace(u, agencies=()) if intent == "country_clusters" else u
