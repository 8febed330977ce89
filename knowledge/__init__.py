"""The facts clusterbot states, as validated data, and the pure look-ups over them.

Nothing here imports the rest of clusterbot: the knowledge base can be loaded, checked and
queried on its own (tests, scripts, other tools). Modules import in one direction only:
facts <- matching <- ranking <- base <- checklist, understanding.
"""

from knowledge.base import KnowledgeBase, load
from knowledge.facts import (
    LANGUAGES,
    Agency,
    Concept,
    KnowledgeError,
    Lead,
    Passage,
    Sector,
    Source,
)
from knowledge.understanding import Understanding, understand

__all__ = [
    "LANGUAGES",
    "Agency",
    "Concept",
    "KnowledgeBase",
    "KnowledgeError",
    "Lead",
    "Passage",
    "Sector",
    "Source",
    "Understanding",
    "load",
    "understand",
]
