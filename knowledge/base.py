"""The knowledge base: the facts, with the matcher and ranker built over them once."""

import hashlib
import importlib.util
import os
import pickle
import re
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from knowledge.facts import DATA_DIR, LANGUAGES, Facts, read_facts
from knowledge.matching import _CJK, QUESTION_WORDS, AnswerWords, Matcher, normalize
from knowledge.ranking import Ranker

# The topic on closing clusters: its lines answer what a question naming deactivation asks.
DEACTIVATION = "deactivation"


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
    def cluster_tokens(self) -> dict[str, frozenset[str]]:
        """Per language, the ranker's tokens of its words for clusters, less sector and AoR."""

        def tokens(code: str, group: str) -> set[str]:
            words = self.text(code).intent_words.get(group, ())
            return {t for w in words for t in self.ranker.tokens(w, code)}

        return {
            c: frozenset(tokens(c, "cluster_word") - tokens(c, "sector_word"))
            for c in self.languages
        }

    @cached_property
    def activation_tokens(self) -> dict[str, frozenset[str]]:
        """Per language, the ranker's token for activating.

        It is the word the titles of the procedure, the criteria and who decides share, less
        the cluster word.
        """
        topics = ("activation_steps", "activation_criteria", "activation_decision")
        out = {}
        for c in self.languages:
            titles = [set(self.ranker.tokens(self.text(c).concepts[k].title, c)) for k in topics]
            out[c] = frozenset(set.intersection(*titles) - self.cluster_tokens[c])
        return out

    @cached_property
    def acronym_topics(self) -> dict[str, str]:
        """The topic each acronym is the title of ("POLR": provider of last resort).

        Only where the acronym's words and the topic's English title are the same words, so
        "what is POLR?" asks for the topic; "HC" names a post that a wider topic covers.
        """
        en = self.text("en")
        titles = {
            key: set(self.ranker.tokens(en.concepts[key].title, "en")) for key in self.concepts
        }
        out = {}
        for acronym, meaning in en.acronyms.items():
            words = set(self.ranker.tokens(re.sub(r"\(.*?\)", " ", meaning), "en"))
            itself = set(self.ranker.tokens(acronym, "en"))
            for key, title in titles.items():
                if words and words == title - itself:
                    out[acronym] = key
        return out

    @cached_property
    def deactivation_tokens(self) -> dict[str, frozenset[str]]:
        """Per language, the ranker's token for deactivating ("close", "停用", "إغلاق").

        It is the synonym group of the deactivation topic's title that is not activating's.
        """
        out = {}
        for c in self.languages:
            title = self.ranker.tokens(self.text(c).concepts[DEACTIVATION].title, c)
            groups = {t for t in title if t.startswith("=")}
            out[c] = frozenset(groups - self.activation_tokens[c])
        return out

    @cached_property
    def lead_phrases(self) -> dict[str, tuple[str, ...]]:
        """Per language, its lead words folded as messages are ("dirige", "lidera")."""
        return {
            c: tuple(normalize(p) for p in self.text(c).intent_words["lead"])
            for c in self.languages
        }

    @cached_property
    def lead_word_parts(self) -> dict[str, frozenset[str]]:
        """Per language, every word of its lead and co-lead phrases ("co" of "co-lead").

        None of them is a word of a name ("World Vision co-lead": "co" is not Vision's).
        """
        return {
            c: frozenset(w for p in self.lead_phrases[c] for w in p.split())
            | frozenset(
                w for p in self.text(c).record_words["co_lead"] for w in normalize(p).split()
            )
            for c in self.languages
        }

    @cached_property
    def example_words(self) -> dict[str, frozenset[tuple[str, ...]]]:
        """Per language, the words giving a name as an example ("like", "such as"), folded.

        As word tuples; none in Chinese, nor one that also asks how ("como").
        """
        return {
            c: frozenset(
                tuple(normalize(p).split())
                for p in self.text(c).organisation_words.get("like", ())
                if not _CJK.search(p) and normalize(p) not in QUESTION_WORDS
            )
            for c in self.languages
        }

    @cached_property
    def step_role_words(
        self,
    ) -> dict[str, tuple[tuple[tuple[str, str], ...], frozenset[str], tuple[str, ...]]]:
        """Per language, the words of the procedure's roles, folded, each with its role.

        Longest first; then the words before the one a step is done to, and those asking
        for that one.
        """
        out = {}
        for c in self.languages:
            words = self.text(c).step_roles
            named = {
                (normalize(w), role)
                for role, ws in words.items()
                if role not in ("to", "to_whom", "receives")
                for w in ws
            }
            roles = tuple(sorted(named, key=lambda wr: (-len(wr[0]), wr)))
            to = frozenset(normalize(w) for w in words.get("to", ()))
            out[c] = (roles, to, tuple(normalize(w) for w in words.get("to_whom", ())))
        return out

    @cached_property
    def checklist_words(self) -> AnswerWords:
        """Answer and control words of every language, for the activation checklist."""
        return AnswerWords(self)


def load(
    data_dir: Path = DATA_DIR,
    languages: tuple[str, ...] = LANGUAGES,
    cache_dir: Path | None = None,
) -> KnowledgeBase:
    """Read and validate the knowledge files; raise KnowledgeError listing every gap.

    With `cache_dir`, the indexes are built once and kept there, so a command that answers one
    question (`clusterbot ask`) starts in a fraction of the time. The file is named by a digest
    of everything it was built from (the knowledge files, this package's code, the libraries'
    versions), so a change to any of them builds it anew; an unreadable or unwritable cache is
    simply not used.
    """
    if cache_dir is None:
        return KnowledgeBase(**read_facts(data_dir, languages))
    path = cache_dir / f"knowledge-{_fingerprint(data_dir, languages)}.pickle"
    try:
        with path.open("rb") as fh:
            cached = pickle.load(fh)
        if isinstance(cached, KnowledgeBase):
            return cached
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        pass
    kb = KnowledgeBase(**read_facts(data_dir, languages))
    kb.matcher, kb.ranker, kb.checklist_words  # noqa: B018 (build them to keep them)
    _keep(kb, path)
    return kb


def _fingerprint(data_dir: Path, languages: tuple[str, ...]) -> str:
    digest = hashlib.sha256(repr((languages, sys.version)).encode())
    # The libraries the indexes are made with, found without importing them (bm25s imports
    # numpy, a tenth of a second): where each is installed, and its file's size and time,
    # which any install, upgrade or downgrade changes.
    for name in ("babel", "bm25s", "opencc", "rapidfuzz", "Stemmer"):
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is not None and os.path.exists(origin):
            info = os.stat(origin)
            digest.update(f"{name}:{origin}:{info.st_size}:{info.st_mtime_ns}".encode())
        else:
            digest.update(f"{name}:missing".encode())
    for file in (*sorted(data_dir.glob("*.yaml")), *sorted(Path(__file__).parent.glob("*.py"))):
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:20]


def _keep(kb: KnowledgeBase, path: Path) -> None:
    """Write the cache atomically (a half-written file is never read), or not at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as fh:
            pickle.dump(kb, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, path)
        for old in path.parent.glob("knowledge-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
