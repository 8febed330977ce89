"""The knowledge base: the facts, with the matcher and ranker built over them once."""

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from knowledge.facts import DATA_DIR, LANGUAGES, Facts, read_facts
from knowledge.matching import AnswerWords, Matcher
from knowledge.ranking import Ranker


@dataclass(frozen=True)
class KnowledgeBase(Facts):
    """The validated facts and the indexes every look-up uses, each built on first use."""

    @cached_property
    def matcher(self) -> Matcher:
        """Clusters, agencies, countries and intent words found in a message."""
        return Matcher(self)

    @cached_property
    def ranker(self) -> Ranker:
        """Passages, topics and acronyms ranked against a question."""
        return Ranker(self)

    @cached_property
    def checklist_words(self) -> AnswerWords:
        """Answer and control words of every language, for the activation checklist."""
        return AnswerWords(self)


def load(data_dir: Path = DATA_DIR, languages: tuple[str, ...] = LANGUAGES) -> KnowledgeBase:
    """Read and validate the knowledge files; raise KnowledgeError listing every gap."""
    return KnowledgeBase(**read_facts(data_dir, languages))
