"""The facts clusterbot states, as validated data, and the pure look-ups over them.

Nothing here imports the rest of clusterbot: the knowledge base can be loaded, checked and
queried on its own (tests, scripts, other tools).
"""

from knowledge.base import (
    LANGUAGES,
    Agency,
    Concept,
    KnowledgeBase,
    KnowledgeError,
    Lead,
    Sector,
    Source,
    load,
)
from knowledge.understanding import Understanding, understand

__all__ = [
    "LANGUAGES",
    "Agency",
    "Concept",
    "KnowledgeBase",
    "KnowledgeError",
    "Lead",
    "Sector",
    "Source",
    "Understanding",
    "load",
    "understand",
]
