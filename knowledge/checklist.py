"""The activation checklist as pure logic: the questions, reading answers, and the verdict.

The questions follow the IASC activation procedure: the context, the two criteria (asked per
cluster where they differ by cluster), the eight steps, then each cluster's proposed lead. The
list depends only on the answers so far, so it can be rebuilt at any time from stored answers.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.matching import MAX_UNDERSTOOD, AnswerWords, normalize, opens_a_question

STEPS = 8
YES_NO = ("yes", "no", "unsure")
STEP_STATUS = ("done", "not_yet", "not_applicable")
CONTROLS = ("back", "skip", "status", "pause", "resume", "restart", "cancel", "letter")
# One limit for every message, answer or question: what the bot reads at all.
MAX_TEXT = MAX_UNDERSTOOD


@dataclass(frozen=True, slots=True)
class Question:
    """One checklist question; `kind` says how its answer is read."""

    key: str
    kind: str  # country | text | clusters | yes_no | step | lead | colead
    cluster: str | None = None
    step: int | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A parsed answer: the stored value (JSON-able) and an optional note."""

    value: Any
    note: str = ""
    # "not sure", "tbd" to a lead or co-lead: no name yet, a placeholder in the letter.
    undecided: bool = False
    # The co-lead a lead answer names too ("UNICEF, with Oxfam as co-lead"): Oxfam.
    colead: str = ""


@dataclass(frozen=True, slots=True)
class Invalid:
    """An answer that does not fit the question; `reason` picks the re-prompt."""

    reason: str
    # The text was an answer word ("yes" where a name is wanted), so never a question.
    answer_word: bool = False


def questions(answers: Mapping[str, Any]) -> list[Question]:
    """Every question, in order, for the clusters chosen so far."""
    chosen = list((answers.get("clusters") or {}).get("value") or [])
    out = [
        Question("country", "country"),
        Question("emergency", "text"),
        Question("clusters", "clusters"),
        Question("change", "yes_no"),
    ]
    for c in chosen:
        out.append(Question(f"gaps:{c}", "yes_no", cluster=c))
        out.append(Question(f"capacity:{c}", "yes_no", cluster=c))
    out += [Question(f"step:{n}", "step", step=n) for n in range(1, STEPS + 1)]
    for c in chosen:
        out.append(Question(f"lead:{c}", "lead", cluster=c))
        out.append(Question(f"colead:{c}", "colead", cluster=c))
    return out


def step_texts(kb: KnowledgeBase, lang: str) -> dict[int, str]:
    """The eight activation steps in `lang`, from the step passages of the knowledge."""
    return {p.n: kb.passage_text(p, lang) for p in kb.passages.values() if p.kind == "step"}


# "2", "1, roads cut", "2 - the ministry is coping": the number of a shown choice, then a note.
_CHOICE_NUMBER = re.compile(r"^\s*(\d{1,2})\s*(?:$|[.,;:)、，。：،؛\-–—]\s*|\s+)(.*)$", re.S)


def _numbered(text: str, options: tuple[str, ...]) -> tuple[str, str] | None:
    """The option a typed choice number picks (1 is the first button), with the note after."""
    m = _CHOICE_NUMBER.match(text)
    if not m or not 1 <= int(m.group(1)) <= len(options):
        return None
    return options[int(m.group(1)) - 1], m.group(2).strip()


# The answers of every question; which one a message opens with decides what it says.
ANSWER_GROUPS = (*YES_NO, *STEP_STATUS, "none")


def _word_answer(text: str, words: AnswerWords, groups: tuple[str, ...]) -> tuple[str | None, str]:
    """The answer word of `groups` opening `text`, and the note after it.

    The longest answer word of any question decides: "لا ينطبق" and "no aplica" are "n/a",
    not "no" with a note. An answer of another question gives ("", "").
    """
    group, gap, note = words.opening(text, ANSWER_GROUPS)
    if group is not None and note and _filler_opening(text, gap, note, words):
        # "嗯，不是": the sound is filler before the answer itself, not a "yes".
        group, _, note = words.opening(note, ANSWER_GROUPS)
    if group is None:
        return None, ""
    if group not in groups:
        return "", ""
    return group, "" if _only_answer_words(note, words, group) else note


def _filler_opening(text: str, gap: str, rest: str, words: AnswerWords) -> bool:
    """Whether the answer word opening `text` is also a filler, and an answer word follows it."""
    head = normalize(text[: len(text) - len(rest)].rstrip(gap + " "))
    filler = head in words.groups.get("filler", ())
    return filler and words.opening(rest, ANSWER_GROUPS)[0] is not None


# The answer words that say the same as a group's ("no todavía" is "todavía no", "yes, done"
# is "done" to a step); "not yet" may name the step not done ("not yet done", "pas encore
# fait", "todavía no hecho").
_SAME = {
    "yes": ("yes", "done"),
    "no": ("no", "not_yet"),
    "unsure": ("unsure",),
    "done": ("done", "yes"),
    "not_yet": ("not_yet", "no", "done"),
    "not_applicable": ("not_applicable",),
}


def _only_answer_words(note: str, words: AnswerWords, group: str) -> bool:
    """Whether a note only repeats the answer's own words ("no, todavía", "لا، ليس بعد").

    Words that say nothing of the situation ("no actually", "yes please", "oui bien sûr") are
    no note either: the letter would read "Actually." as a sentence of its own.
    """
    rest = normalize(note)
    groups = (*_SAME.get(group, (group,)), "filler", "polite")
    own = {w for g in groups for w in words.groups.get(g, ())}
    own |= {t for w in own for t in w.split()}
    for w in sorted(own, key=len, reverse=True):
        rest = re.sub(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", " ", rest)
    return bool(note.strip()) and not re.search(r"[^\W_]", rest)


# What closes a short Chinese request ("那信函呢": and the letter?).
_ZH_CLOSING = "呢吗啊呀吧"


def request(text: str, words: AnswerWords) -> str:
    """A short follow-up as the request it makes, folded: "and the letter?" is "the letter".

    The words that lead into it ("and", "so", "那") and a Chinese closing particle go.
    """
    group, _, rest = words.opening(text, ("lead_in",))
    norm = normalize(rest if group and rest else text)
    if " " not in norm and re.match(r"[\u4e00-\u9fff]", norm):
        # "那信函呢": Chinese writes no space after "那", nor before "呢".
        heads = (w for w in words.groups.get("lead_in", ()) if norm.startswith(w))
        head = max(heads, key=len, default="")
        norm = norm[len(head) :].rstrip(_ZH_CLOSING) or norm
    return norm


# Where a message's clauses part: a mark then a space ("300,000" is one number), a Chinese
# or Arabic mark, or a dash between spaces.
_CLAUSES = re.compile(r"(?<=[,;:.!?])\s+|(?<=[，。；：！？،؛])|\s[-–—]\s")


def situation_told(text: str, kb: KnowledgeBase) -> list[str]:
    """What happened, as the opening message tells it beside the request.

    "we need to activate the cccm cluster in Sudan, fighting in El Fasher has displaced
    300,000 people": the clauses naming a kind of emergency or a number, and not the request
    itself. None when none does: the question is asked.
    """
    if len(text) > MAX_TEXT:
        return []
    told = []
    for clause in _CLAUSES.split(text):
        clause = clause.strip(" ,;:.!?，。；：！？،؛")
        named = kb.matcher.entities(clause) if clause else None
        if named is None or named.intents & {"checklist", "wish"}:
            continue  # the request ("we need to activate the cccm cluster in Sudan")
        if named.conditions or re.search(r"\d", clause):
            told.append(clause)
    return told


def control(text: str, words: AnswerWords) -> str | None:
    """A checklist command (back, skip, status, ...) when the whole message is one."""
    norm = normalize(text)
    for group in CONTROLS:
        if norm in words.groups.get(group, ()):
            return group
    return None


def parse(
    q: Question, text: str, kb: KnowledgeBase, words: AnswerWords, condition: str | None = None
) -> Answer | Invalid:
    """Read `text` as an answer to `q`; "yes" to a lead keeps the global lead for `condition`."""
    # A name or a short answer is one line, however it was typed ("Mercy\nCorps").
    if len(text.strip()) > MAX_TEXT:
        return Invalid("too_long")  # measured as everywhere else, before spaces are folded
    text = text.strip() if q.kind == "text" else " ".join(text.split())
    if not text:
        return Invalid("empty")
    if q.kind in {"country", "text"}:
        # A name or a description has letters or digits, and is more than an answer word.
        other, _, rest = words.opening(text, ANSWER_GROUPS)
        if not re.search(r"[^\W_]", text) or (other and not rest):
            return Invalid(q.kind, answer_word=bool(other))
    if q.kind == "country":
        # The letter is from one country's RC/HC: the answer names one country we know
        # ("Darfur, Sudan"), or a name that fits several ("Congo", asked between). Anything
        # else ("1", "the Sahel response", "Mali and Niger") is asked again, never put in it.
        if not re.search(r"[^\W\d_]", text):
            return Invalid("country")
        code = kb.matcher.find_country(text)
        if len(kb.matcher.entities(text).countries) > 1:
            return Invalid("one_country")
        if code is None and not kb.matcher.country_choices(text):
            return Invalid("unknown_country")
        return Answer({"code": code, "name": text})
    if q.kind == "text":
        return Answer(text)
    if q.kind == "clusters":
        if opens_a_question(text):
            return Invalid("clusters_question")  # "who leads health": asked, not chosen
        sectors = kb.matcher.entities(text).sectors
        # An Area of Responsibility is no cluster: clusters are activated, so its cluster is
        # asked for (as /propose does), never the AoR dropped without a word.
        # It is an answer to this question, however a question about the AoR it reads like.
        # Named beside its cluster ("protection, child protection"), the cluster covers it.
        if any(
            kb.sectors[s].kind != "cluster" and kb.sectors[s].parent not in sectors
            for s in sectors
        ):
            return Invalid("aor", answer_word=True)
        found = [s for s in sectors if kb.sectors[s].kind == "cluster"]
        return Answer(found) if found else Invalid("no_cluster")
    if q.kind == "yes_no":
        group, note = _numbered(text, YES_NO) or _word_answer(text, words, YES_NO)
        return Answer(group, note) if group else Invalid("yes_no", answer_word=group == "")
    if q.kind == "step":
        group, note = _numbered(text, STEP_STATUS) or _word_answer(
            text, words, (*STEP_STATUS, "yes", "no")
        )
        status = {"yes": "done", "no": "not_yet"}.get(group or "", group)
        return Answer(status, note) if status else Invalid("step", answer_word=group == "")
    # A lead or co-lead is an organisation: "no" to the suggested lead and "yes" to "any
    # co-lead?" name none yet, so the name is asked for ("no, IOM" and "yes, IMC" name one).
    if q.kind in {"lead", "colead"}:
        # A number picks the button shown ("yes" to the lead, "none" to the co-lead); another
        # question's answer alone ("n/a", "لا ينطبق") names no organisation.
        reason = f"{q.kind}_name"
        button = "yes" if q.kind == "lead" else "none"
        if text.isdecimal():
            if _numbered(text, (button,)) is None:
                return Invalid(reason, answer_word=True)
            if button == "yes":
                return Answer(default_lead(kb, q.cluster or "", condition))
            return Answer("")
        other, _, rest = words.opening(text, ANSWER_GROUPS)
        if q.kind == "colead" and other == "not_applicable" and not rest:
            return Answer("")  # "n/a" to "any co-lead?": there is none
        if other in {"unsure", "not_yet"} and words.made_of(rest, _UNDECIDED_REST):
            # "not sure yet", "tbd", "还没定": no organisation yet; the letter keeps a place.
            return Answer("", undecided=True)
        if other in {"unsure", *STEP_STATUS} and not rest:
            return Invalid(reason, answer_word=True)
        if (
            words.made_of(text, ("as_global", "polite", "filler"))
            and words.opening(text, ("as_global",))[0]
        ):
            # "same as global": the global arrangement, as "yes" keeps it.
            if q.kind == "lead":
                return Answer(default_lead(kb, q.cluster or "", condition))
            return Answer(default_colead(kb, q.cluster or "", condition))
        if _not_a_name(kb, text, words):
            # "who leads shelter in conflict", "can an NGO co-lead?": a question or a
            # sentence, never an organisation's name in the letter.
            return Invalid(f"{q.kind}_question")
    together = named_together(kb, text) if q.kind == "lead" else None
    if together is not None:
        return _lead_and_colead(q, together, kb, words, condition)
    if q.kind == "lead":
        group, named = _opening(text, kb, words, ("none", "yes", "no"))
        agency = kb.matcher.find_agency(named) if named else None
        if group == "yes":  # "yes" keeps the global lead; "yes, IOM" names IOM
            return Answer(agency or default_lead(kb, q.cluster or "", condition))
        if group == "none" or (group == "no" and not named):
            return Invalid("lead_name", answer_word=True)  # a cluster needs a lead
        if group and named and not agency and not _names_organisation(kb, named):
            name, rest = _name_first(kb, named)  # "no, Mercy Corps for now"
            if name and not _only_interim(kb, rest):
                return Invalid("lead_name")  # "no, IOM is not the lead": asked again
            named = name or named
        named = named if group else text
        return Answer(agency or _agency_or_typed(kb, named))
    if q.kind == "colead":
        group, named = _opening(text, kb, words, ("none", "no", "yes"))
        # "no, IOM" to "any co-lead?" answers with the organisation: "no" then says "not
        # none", in every language ("non, NRC pour l'instant": NRC, for now). What is not a
        # name ("no, not for now") is a note on having none.
        if group and named and not _names_organisation(kb, named):
            name, rest = _name_first(kb, named)
            if name and _only_interim(kb, rest):
                return Answer(kb.matcher.find_agency(name) or name, rest)
            if name:
                # "no, IOM is not co-lead", "no, UNICEF declined": more is said of the name
                # than how long it holds; which organisation co-leads is asked.
                return Invalid("colead_name", answer_word=True)
            if kb.matcher.entities(named).agencies:
                # An organisation we know among other words ("没有，国际移民组织暂时"): which is
                # meant is asked, rather than the name lost or guessed.
                return Invalid("colead_name", answer_word=True)
        if group in {"none", "no"} and not (named and _names_organisation(kb, named)):
            return Answer("", named)
        if group == "yes" and not (named and _names_organisation(kb, named)):
            return Invalid("colead_name", answer_word=True)  # "yes" or "yes please": who?
        named = named if group else text
        if named:
            name, rest = _name_first(kb, named)  # "NRC for now": NRC, and for how long
            if name and rest and _only_interim(kb, rest):
                return Answer(kb.matcher.find_agency(name) or name, rest)
        return Answer(_agency_or_typed(kb, named))
    raise ValueError(f"unknown question kind {q.kind}")


def _lead_and_colead(
    q: Question,
    together: "NamedTogether",
    kb: KnowledgeBase,
    words: AnswerWords,
    condition: str | None,
) -> Answer | Invalid:
    """Both names of "UNICEF, with Oxfam as co-lead", each read as its own answer would be.

    Either not a name, or the co-lead the lead itself: which is meant is asked, never one name
    kept and the other dropped.
    """
    lead = parse(q, together.lead, kb, words, condition) if together.lead else None
    colead_q = Question(f"colead:{q.cluster}", "colead", cluster=q.cluster)
    colead = parse(colead_q, together.colead, kb, words) if together.colead else None
    if not (isinstance(lead, Answer) and isinstance(colead, Answer)):
        return Invalid("lead_and_colead")
    if not lead.value or not colead.value or lead.undecided or colead.undecided:
        return Invalid("lead_and_colead")
    if str(lead.value).casefold() == str(colead.value).casefold():
        return Invalid("lead_and_colead")
    return Answer(lead.value, colead=str(colead.value))


# What may follow "not sure" or "not yet" in an undecided lead ("not sure yet", "pas encore").
_UNDECIDED_REST = ("unsure", "not_yet", "filler", "polite")
# A name is a few words: an answer of more, in lower case, is a sentence about something.
_NAME_WORDS = 10
_QUESTION_MARKS = ("?", "？", "؟")


def _not_a_name(kb: KnowledgeBase, text: str, words: AnswerWords) -> bool:
    """Whether a lead or co-lead answer is a question or a sentence rather than a name.

    A question ends with a question mark or opens with a question word; a sentence is more
    words than a name holds, not written as one. An agency we know is a name however asked
    ("IOM?"), and a name we do not hold ("Sudanese Red Crescent") is still a name.
    """
    bare = text.rstrip("".join(_QUESTION_MARKS) + " ")
    if bare and (just_agency(kb, bare) or words.opening(bare, ANSWER_GROUPS)[0]):
        return False  # "IOM?", "ما في" (none): a name, or an answer word opening the reply
    # "WHO together with the Ministry of Health" opens with a name in capitals, not "who".
    opens = opens_a_question(text) and not text.split()[0].isupper()
    if text.endswith(_QUESTION_MARKS) or opens:
        return True
    return len(text.split()) > _NAME_WORDS and not _proper_name(text)


# Words a name of an organisation may hold uncapitalised ("Ministry of Health", "la FICR").
_NAME_LINKS = frozenset(
    {"of", "the", "for", "and", "&", "de", "la", "le", "les", "du", "des", "d", "l", "y"}
    | {"el", "del", "los", "las", "et", "en", "dans", "por", "para"}
)


def _opening(
    text: str, kb: KnowledgeBase, words: AnswerWords, groups: tuple[str, ...]
) -> tuple[str | None, str]:
    """The answer word opening a lead or co-lead answer, and the rest; none in a name.

    "No Lost Generation" is a name that starts with an answer word: capitalised and followed
    by capitalised words with nothing between but a space, it is taken whole, unless the rest
    alone is an organisation we know ("No IOM", "Yes UNICEF": the answer word, then IOM) or
    holds only everyday words ("No Thanks", "None For Now", "Yes Please").
    """
    group, gap, rest = words.opening(text, groups)
    if (
        group
        and rest
        and gap.isspace()
        and text[:1].isupper()
        and _proper_name(rest)
        and _holds_a_name(kb, rest)
        and not just_agency(kb, rest)
    ):
        return None, ""
    return group, rest


def _agency_or_typed(kb: KnowledgeBase, named: str) -> str:
    """The agency we know that `named` is, or the name as typed.

    "Sudanese Red Crescent" is a national society, not the IFRC its last words name: a name
    written as one that holds more than an agency we know stays as written. So does one in a
    script without capitals that names a country as well ("苏丹红新月会": Sudan's, not the
    IFRC), and a body our texts say is not the agency its words name ("Comité international
    de la Croix-Rouge").
    """
    agency = kb.matcher.find_agency(named)
    if not agency:
        return named
    caseless = not any(c.isupper() or c.islower() for c in named)
    if caseless and kb.matcher.entities(named).countries:
        return named
    if just_agency(kb, named):
        return agency
    folded = normalize(named)
    others = (
        normalize(p)
        for code in kb.languages
        for p in kb.text(code).organisation_words.get("others", ())
    )
    if _proper_name(named) or caseless or any(o in folded for o in others):
        return named
    return agency


def just_agency(kb: KnowledgeBase, text: str) -> bool:
    """Whether `text` is an agency we know and nothing else ("IOM", "la FICR", "国际移民组织")."""
    e = kb.matcher.entities(text)
    return bool(e.agencies) and not e.leftover


def _proper_name(text: str) -> bool:
    """Whether `text` reads as the name of an organisation: a few capitalised words."""
    tokens = re.findall(r"[^\W\d_][^\s,;:]*", text)
    if not 1 <= len(tokens) <= 8 or re.search(r"[.;:!?]\s", text):
        return False
    main = [t for t in tokens if t.casefold() not in _NAME_LINKS]
    return bool(main) and all(t[:1].isupper() for t in main)


def _holds_a_name(kb: KnowledgeBase, text: str) -> bool:
    """Whether `text` holds a word that is no everyday word ("Thanks", "For Now" hold none)."""
    return any(w not in kb.matcher.common_words for w in normalize(text).split())


def _names_organisation(kb: KnowledgeBase, text: str) -> bool:
    """Whether `text` names an organisation: one we know, or one written as a name."""
    return just_agency(kb, text) or (_proper_name(text) and _holds_a_name(kb, text))


def _name_first(kb: KnowledgeBase, text: str) -> tuple[str, str]:
    """An organisation's name opening `text`, then the words after it; ("", text) if none.

    "Norwegian Refugee Council pour l'instant", "NRC por ahora": the name, then words about it.
    """
    tokens = list(re.finditer(r"\S+", text))
    # A name is a few words (`_proper_name`: eight at most): longer heads are never tried, so
    # a long answer costs no more than a short one.
    for end in range(min(len(tokens) - 1, 12), 0, -1):
        head, tail = text[: tokens[end - 1].end()], text[tokens[end].start() :]
        last = normalize(tokens[end - 1].group()).split()[-1:]
        if last and (last[0] in _NAME_LINKS or last[0] in kb.matcher.common_words):
            continue  # "NRC pour", "Mercy Corps for": the name ends before
        if _names_organisation(kb, head.strip(" ,;:-–—")) and not _names_organisation(kb, tail):
            return head.strip(" ,;:-–—"), tail.strip(" ,;:-–—")
    return "", text


def _only_interim(kb: KnowledgeBase, rest: str) -> bool:
    """Whether the words after a name say only how long it holds ("for now", "暂时")."""
    phrases = [normalize(p) for c in kb.languages for p in kb.text(c).intent_words["interim"]]
    words = set(normalize(rest).split())
    return bool(words) and words <= {w for p in phrases for w in p.split()}


def default_lead(kb: KnowledgeBase, cluster: str, condition: str | None = None) -> str:
    """The global lead a coordinator can accept: the one for the kind of emergency, if known.

    Shelter and CCCM are led by one agency in natural disasters and another in conflict; with
    the kind unknown, the first listed is suggested and the question names both.
    """
    leads = kb.sectors[cluster].leads
    fitting = [x for x in leads if condition is not None and x.when == condition]
    return (fitting or leads)[0].agency


def global_arrangement(
    kb: KnowledgeBase, cluster: str, condition: str | None = None
) -> tuple[str, str] | None:
    """The global (lead, co-lead) for the kind of emergency; None when that decides and is unknown.

    Education and Food Security are co-led: both agencies, the first as the lead and the second
    as the co-lead, as a proposal and a country record hold them. Shelter and CCCM are led by
    one agency in natural disasters and another in conflict: with no condition there is none.
    """
    leads = kb.sectors[cluster].leads
    fitting = [x for x in leads if x.when is None or x.when == condition]
    if not fitting or (condition is None and any(x.when for x in leads)):
        return None
    co_led = len(fitting) > 1 and any(x.role == "co_lead" for x in fitting)
    return fitting[0].agency, fitting[1].agency if co_led else ""


def default_colead(kb: KnowledgeBase, cluster: str, condition: str | None = None) -> str:
    """The global co-lead that goes with `default_lead` ("" where the cluster has one lead)."""
    pair = global_arrangement(kb, cluster, condition)
    return pair[1] if pair and pair[0] == default_lead(kb, cluster, condition) else ""


def condition_of(kb: KnowledgeBase, text: str) -> str | None:
    """The one kind of emergency `text` names ("fighting displaced...": conflict), if one."""
    named = kb.matcher.entities(text).conditions if text else frozenset()
    return next(iter(named)) if len(named) == 1 else None


def global_leads(kb: KnowledgeBase, cluster: str, condition: str | None = None) -> set[str]:
    """Every agency with a global leading part in `cluster`, in this kind of emergency if known.

    In a cyclone UNHCR is no global lead of CCCM (IOM is): proposing it differs from the
    arrangement, as proposing an NGO would.
    """
    leads = kb.sectors[cluster].leads
    return {x.agency for x in leads if condition is None or x.when in (None, condition)}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether activation of one cluster is justified by the answers: met, not_met or unclear."""

    cluster: str
    outcome: str
    criterion1: str
    criterion2: str
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Answers:
    """A checklist's stored answers (key -> {"value", "note", "at"}), read by what they mean."""

    stored: Mapping[str, Any]

    def entry(self, key: str) -> Mapping[str, Any]:
        """One stored answer; empty when there is none (or it is not an answer)."""
        found = self.stored.get(key)
        return found if isinstance(found, dict) else {}

    def value(self, key: str) -> Any:
        """An answer's value (a word, a list of clusters, a country), None when missing."""
        return self.entry(key).get("value")

    def text(self, key: str) -> str:
        """An answer's value as text, empty when missing."""
        return str(self.value(key) or "")

    def note(self, key: str) -> str:
        """The note given with an answer ("yes, 40,000 displaced" -> "40,000 displaced")."""
        return str(self.entry(key).get("note", ""))

    def undecided(self, key: str) -> bool:
        """Whether a lead or co-lead was answered "not sure" or "tbd": none named yet."""
        return bool(self.entry(key).get("undecided"))

    def clusters(self) -> list[str]:
        """The clusters chosen for the checklist, in the order given."""
        return list(self.value("clusters") or [])

    def country(self) -> Mapping[str, Any]:
        """The country answered (its code and name), empty when none is known."""
        found = self.value("country")
        return found if isinstance(found, dict) else {}

    def condition(self, kb: KnowledgeBase) -> str | None:
        """The kind of emergency what happened names (and the first criterion's note), if one."""
        return condition_of(kb, f"{self.text('emergency')} {self.note('change')}".strip())

    def leads(self, kb: KnowledgeBase, cluster: str) -> tuple[str, str]:
        """The (lead, co-lead) proposed for `cluster`, as the summary, letter and proposal say.

        A lead not answered is the global one, with its co-lead where the cluster is co-led;
        a lead answered, or a co-lead question answered, keeps only what was answered. Where
        the kind of emergency decides the global lead (Shelter, CCCM) and what happened does not
        say it, a lead not answered is "": not chosen, as /propose refuses to guess it.
        """
        condition = self.condition(kb)
        if self.undecided(f"lead:{cluster}"):
            return "", self.text(f"colead:{cluster}")  # the letter keeps a place for it
        if not self.text(f"lead:{cluster}") and global_arrangement(kb, cluster, condition) is None:
            return "", self.text(f"colead:{cluster}")
        lead = self.text(f"lead:{cluster}") or default_lead(kb, cluster, condition)
        answered = self.entry(f"colead:{cluster}")
        given = bool(answered) and not answered.get("skipped")
        if self.text(f"colead:{cluster}") or self.text(f"lead:{cluster}") or given:
            return lead, self.text(f"colead:{cluster}")
        return lead, default_colead(kb, cluster, condition)


def _value(answers: Mapping[str, Any], key: str) -> Any:
    return Answers(answers).value(key)


def _combine(*parts: str) -> str:
    if "not_met" in parts:
        return "not_met"
    return "met" if all(p == "met" for p in parts) else "unclear"


def verdict(answers: Mapping[str, Any], cluster: str) -> Verdict:
    """Criterion 1 needs a sharp change AND gaps; criterion 2 needs national capacity short."""
    as_outcome = {"yes": "met", "no": "not_met"}
    change = as_outcome.get(_value(answers, "change"), "unclear")
    gaps = as_outcome.get(_value(answers, f"gaps:{cluster}"), "unclear")
    capacity = as_outcome.get(_value(answers, f"capacity:{cluster}"), "unclear")
    c1 = _combine(change, gaps)
    missing = tuple(
        key
        for key, outcome in (
            ("change", change),
            (f"gaps:{cluster}", gaps),
            (f"capacity:{cluster}", capacity),
        )
        if outcome == "unclear"
    )
    return Verdict(cluster, _combine(c1, capacity), c1, capacity, missing)


@dataclass(frozen=True, slots=True)
class NamedTogether:
    """A lead answer that names the co-lead too: both as typed ("" where one is not a name)."""

    lead: str
    colead: str


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One pattern for every phrase, longest first, bounded by non-letters where a word ends.

    Chinese writes no space between words, so a phrase in it is found inside a run too.
    """
    parts = []
    for p in sorted(set(phrases), key=len, reverse=True):
        head = "" if _CJK_CHAR.match(p[:1]) else r"(?<![^\W_])"
        tail = "" if _CJK_CHAR.match(p[-1:]) else r"(?![^\W_])"
        parts.append(f"{head}{re.escape(p)}{tail}")
    return re.compile("|".join(parts), re.I) if parts else None


_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PARTING = " ,;:.-–—、，；：。،؛"


def _words_of(kb: KnowledgeBase, *keys: str) -> list[str]:
    """The phrases of `organisation_words` (or `record_words`: "record:co_lead"), all languages."""
    out: list[str] = []
    for code in kb.languages:
        t = kb.text(code)
        for key in keys:
            table, _, name = key.rpartition(":")
            source = t.record_words if table == "record" else t.organisation_words
            out += source.get(name, ())
    return out


def named_together(kb: KnowledgeBase, text: str) -> NamedTogether | None:
    """The lead and the co-lead one lead answer names ("UNICEF, with Oxfam as co-lead"), if so.

    The co-lead is the name just after its mark ("co-led by Oxfam", "co-lead Oxfam"), or else
    just before it, back to a comma or a "with" ("Oxfam as co-lead"), or to an "and" when the
    answer holds no comma or "with" ("UNICEF and Oxfam co-lead"); the lead is what comes before.
    None when no co-lead is named: the answer is read as one name. A part that is no name is
    "": the caller asks rather than keep one name and drop the other.
    """
    marks = _phrase_pattern(_words_of(kb, "record:co_lead", "co_lead_marks"))
    mark = marks.search(text) if marks else None
    if mark is None:
        return None
    before, after = text[: mark.start()], text[mark.end() :]
    joins = _phrase_pattern(_words_of(kb, "with"))
    ands = _phrase_pattern(_words_of(kb, "and"))
    after = after.strip(_PARTING)
    # What follows the mark, up to the next comma or "with", names the co-lead.
    after_head = re.split(r"[,;،，；]", after, maxsplit=1)[0]
    if after_head.strip(_PARTING):
        colead, lead = after_head, before
    else:
        parted = [m for p in (joins,) if p for m in p.finditer(before)]
        parted += list(re.finditer(r"[,;،，；]", before))
        if not parted and ands:
            parted = list(ands.finditer(before))
        if not parted:
            return NamedTogether("", before.strip(_PARTING))  # "Oxfam co-lead": which lead?
        cut = max(parted, key=lambda m: m.start())
        lead, colead = before[: cut.start()], before[cut.end() :]
    lead = lead.strip(_PARTING)
    # "UNICEF as lead, with": the lead's own words and the joining word go.
    for pattern in (joins, _phrase_pattern(_words_of(kb, "lead_marks")), joins):
        if pattern:
            lead = _strip_ends(pattern, lead)
    colead = colead.strip(_PARTING)
    if joins:
        colead = _strip_ends(joins, colead)
    return NamedTogether(lead, colead)


def _strip_ends(pattern: re.Pattern[str], text: str) -> str:
    """`text` without the phrase of `pattern` it opens or ends with ("UNICEF as lead")."""
    text = text.strip(_PARTING)
    opening = pattern.match(text)
    if opening:
        text = text[opening.end() :].strip(_PARTING)
    closing = [m for m in pattern.finditer(text) if m.end() == len(text)]
    if closing:
        text = text[: closing[-1].start()].strip(_PARTING)
    return text


def names_in(kb: KnowledgeBase, typed: str) -> list[str]:
    """The organisations one lead or co-lead answer names ("Oxfam and Save the Children": two).

    An agency we know is one, however its name reads ("Food and Agriculture Organization");
    otherwise the parts between commas and "and" words are several when each is a name.
    """
    if not typed or typed in kb.agencies or just_agency(kb, typed):
        return [typed] if typed else []
    ands = _phrase_pattern(_words_of(kb, "and"))
    pattern = r"[,;、،，；]" + (f"|{ands.pattern}" if ands else "")
    parts = [p.strip(_PARTING) for p in re.split(pattern, typed, flags=re.I)]
    caseless = not any(c.isupper() or c.islower() for c in typed)
    named = all(p and (caseless or _names_organisation(kb, p)) for p in parts)
    return parts if len(parts) > 1 and named else [typed]
