"""Turn one message into an intent and its entities: pure, fast, and never a guess.

The rules are ordered from the most specific to the least; when nothing fits well, the intent is
"unknown" and the handler says so, with suggestions, instead of naming an agency.
"""

from dataclasses import dataclass
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.matching import MAX_UNDERSTOOD

# A concept needs about one real keyword (e.g. "last resort", "最后手段") to be chosen.
STRONG_CONCEPT = 6.0
# Concepts that are themselves about who leads: a lead word does not override them.
LEAD_CONCEPTS = frozenset(
    {"ngo_co_lead", "government_role", "inter_cluster", "activation_decision"}
)


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message asks for."""

    intent: str
    lang: str | None
    confidence: float
    sectors: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    country: str | None = None
    concept: str | None = None
    related: tuple[str, ...] = ()
    acronyms: tuple[str, ...] = ()
    unknown_name: str = ""
    suggestions: tuple[str, ...] = ()


def understand(text: str, kb: KnowledgeBase) -> Understanding:
    """Classify `text`; the language is None when the text does not show one."""
    text = text.strip()
    if not text:
        return Understanding("empty", None, 1.0)
    matcher = kb.matcher
    lang = matcher.language(text[:MAX_UNDERSTOOD])
    if len(text) > MAX_UNDERSTOOD:
        return Understanding("too_long", lang, 1.0)
    e = matcher.entities(text)
    country = e.countries[0] if e.countries else None
    concept, score = e.concepts[0] if e.concepts else (None, 0.0)
    strong = score >= STRONG_CONCEPT
    related = tuple(c for c, _ in e.concepts[1:3])
    lead = "lead" in e.intents
    sure = 0.75 if e.fuzzy else 0.95

    def found(intent: str, confidence: float, **details: Any) -> Understanding:
        return Understanding(
            intent, lang, round(confidence, 2), country=country, acronyms=e.acronyms, **details
        )

    if "checklist" in e.intents:
        return found("start_checklist", 0.9, sectors=e.sectors)
    if e.sectors:
        # "Is education activated in Sudan?" is about that country's record, whatever the words.
        if concept and strong and not country and (not lead or concept in LEAD_CONCEPTS):
            return found(
                "concept",
                min(1.0, score / 12),
                sectors=e.sectors,
                concept=concept,
                related=related,
            )
        return found(
            "who_leads",
            sure,
            sectors=e.sectors,
            agencies=e.agencies,
            related=(concept,) if concept else (),
        )
    if e.agencies and "which_clusters" in e.intents:
        return found("agency_clusters", sure, agencies=e.agencies)
    if concept and strong:
        return found("concept", min(1.0, score / 12), concept=concept, related=related)
    if e.agencies and (lead or "cluster_word" in e.intents):
        return found("agency_clusters", sure, agencies=e.agencies)
    if country and e.intents & {"lead", "cluster_word", "list_clusters", "which_clusters"}:
        return found("country_clusters", 0.9)
    unknown = {
        "unknown_name": e.leftover[:60],
        "suggestions": tuple(matcher.sectors.suggest(e.leftover)),
    }
    if "cluster_word" in e.intents and e.leftover and (lead or "list_clusters" not in e.intents):
        return found("unknown_cluster", 0.9, **unknown)
    if "list_clusters" in e.intents or "cluster_word" in e.intents:
        return found("list_clusters", 0.85)
    if concept:
        return found("concept", min(1.0, score / 12), concept=concept, related=related)
    if e.acronyms:
        return found("acronym", 0.9)
    if "help" in e.intents:
        return found("help", 0.9)
    if "greeting" in e.intents:
        return found("greeting", 0.9)
    return found("unknown", 0.0, **unknown)
