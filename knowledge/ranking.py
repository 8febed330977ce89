"""Rank every passage and whole topic against a question, in the question's language.

The rules in `understanding` take what must be exact (who leads what, which agency, which
country). Everything else is ranked here with BM25 (bm25s) over stemmed words (PyStemmer for
English, French, Spanish and Arabic; character unigrams and bigrams for Chinese, which has no
spaces). BM25 orders the candidates; how sure we are is a separate, bounded measure: the share
of the question's informative words that the best candidate contains, weighted by how rare
each word is. A question full of words we have never seen is not answered by chance.
"""

import logging
import math
import pickle
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from knowledge.facts import Facts
from knowledge.matching import QUESTION_WORDS, normalize, stop_words
from knowledge.parts import Parts

# The question words ("how"), as one text to tokenise.
_QUESTION_TEXT = " ".join(sorted(QUESTION_WORDS))

if TYPE_CHECKING:
    import bm25s

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Letters Arabic writes onto the next word: "for" (ل), "with" (ب), "so" (ف).
_AR_PREFIXES = frozenset("لبف")
# Spoken Arabic's present tense: "ب" before a verb's "ي", "ت" or "ن" (بيقرر, بتقرر, بنقرر).
_AR_SPOKEN_PRESENT = frozenset({"بي", "بت", "بن"})
_STEMMERS = {"en": "english", "fr": "french", "es": "spanish", "ar": "arabic"}
# An unseen word is first read as the closest word we know (a typo: "critera" is "criteria"),
# when it is this close (rapidfuzz ratio) and long enough for one slip to be a slip.
_TYPO_RATIO = 88.0
_TYPO_LENGTH = 5
# A second line of the same topic holding this share of the question that the first lacks:
# the question asks for both, and the topic answers it.
_BOTH_LINES = 0.25
# The rarity (idf) from which a word tells what a question is about: "cluster" (0.5) does not.
_TELLING = 1.0
# A line's BM25 this close to its topic's is as good an answer (a tie on everything else).
_NEARLY = 0.9
# How much more a candidate weighs when the question's words are the ones people ask it with.
_ASKED = 0.5


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate answer: a passage id or a concept id."""

    topic: str
    kind: str  # passage | concept
    score: float  # BM25, comparable only within one question
    confidence: float  # 0..1: the weighted share of the question's words it covers
    matched: int  # how many of the question's words it contains


class _Index:
    """One language's documents, tokenised the same way as its questions."""

    def __init__(
        self,
        docs: list[tuple[str, str, list[str]]],
        parents: dict[str, str],
        titles: dict[str, frozenset[str]],
        asked: dict[str, frozenset[str]],
        spelled: dict[str, str] | None = None,
    ) -> None:
        import bm25s

        # bm25s logs every index it builds at DEBUG on a handler of its own.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.ids = [(topic, kind) for topic, kind, _ in docs]
        self.tokens = [set(tokens) for _, _, tokens in docs]
        bm25 = bm25s.BM25()
        bm25.index([tokens for _, _, tokens in docs], show_progress=False)
        self.bm25: bm25s.BM25 | bytes = bm25
        n = len(docs)
        df: dict[str, int] = {}
        for tokens in self.tokens:
            for t in tokens:
                df[t] = df.get(t, 0) + 1
        self.idf = {t: _idf(n, d) for t, d in df.items()}
        # A word we have never seen weighs as much as the rarest word we know.
        self.unseen = _idf(n, 1)
        # A synonym's words as typed ("activation", "desactivación") are slipped on as often as
        # other words, but become their group's token ("=activate") before stemming: a slip on
        # one ("activaton") is read as that token.
        self.spelled = {w: t for w, t in (spelled or {}).items() if t in self.idf}
        self.vocabulary = [t for t in self.idf if len(t) >= _TYPO_LENGTH - 1]
        self.vocabulary += [w for w in self.spelled if w not in self.idf]
        self.parent = parents  # passage -> its topic
        self.titles = titles  # topic -> the tokens of its title
        # A topic's or passage's words that people ask it with (title, keywords, passage_words).
        self.asked = asked

    def corrected(self, token: str) -> str:
        """An unseen token read as the closest known one, if one is a slip away."""
        if token in self.idf or len(token) < _TYPO_LENGTH or token.startswith("="):
            return token
        best = process.extractOne(
            token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=_TYPO_RATIO
        )
        return self.spelled.get(str(best[0]), str(best[0])) if best else token

    # Kept on disk (knowledge.base), the BM25 part is a pickle of its own, read on the first
    # question that has words to rank: unpickling it imports bm25s and numpy (about 0.1 s of a
    # cold `clusterbot ask`), which a question of names and lead words alone never needs.
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        if not isinstance(self.bm25, bytes):
            state["bm25"] = pickle.dumps(self.bm25, protocol=pickle.HIGHEST_PROTOCOL)
        return state

    def _bm25(self) -> "bm25s.BM25":
        bm25 = self.bm25
        if isinstance(bm25, bytes):
            bm25 = self.bm25 = pickle.loads(bm25)
        return bm25

    def rank(
        self, query: list[str], limit: int, asking: frozenset[str] = frozenset()
    ) -> list[Ranked]:
        """The best candidates for `query`, best first.

        `asking`: the tokens of question words ("how"), which say what kind of answer is asked,
        not which topic.
        """
        query = [self.corrected(t) for t in query]
        if not query:
            return []
        scores = self._bm25().get_scores(query)
        weights = {t: self.idf.get(t, self.unseen) for t in query}
        total = sum(weights.values())
        out = []
        matched: dict[str, frozenset[str]] = {}
        for i in scores.argsort()[::-1][: limit * 3]:
            if scores[i] <= 0:
                break
            hit = [t for t in weights if t in self.tokens[i]]
            covered = sum(weights[t] for t in hit)
            topic, kind = self.ids[i]
            matched[topic] = frozenset(hit)
            # A Chinese word is there as its characters and its pairs: count it once.
            words = sum(not _CJK.fullmatch(t) for t in hit) or min(len(hit), 1)
            out.append(Ranked(topic, kind, float(scores[i]), round(covered / total, 3), words))

        # BM25 weighs how often and how densely a passage holds the question's words; the
        # confidence discounts it for the question's words it does not hold. Words people ask
        # a topic or passage with (its title, keywords, passage_words) say more than words its
        # prose merely holds: "who is part of a cluster" asks for the membership line, not a
        # line on government representatives taking part.
        def key(r: Ranked) -> float:
            words = self.asked.get(r.topic, frozenset())
            share = sum(weights[t] for t in weights if t in words) / total
            return -r.score * r.confidence * (1 + _ASKED * share)

        out.sort(key=key)
        # Of answers that cover the question equally, a topic whose whole title the question
        # names is the one asked for ("c'est quoi l'approche cluster", not "what the cluster
        # approach aims to achieve").
        asked = set(query)

        def substance(r: Ranked) -> float:
            return sum(weights[t] for t in matched[r.topic] if t not in asking)

        # A candidate that holds only the question words ("comment", of "comment désactiver")
        # is no answer to a question whose other words another candidate holds ("comment
        # rejoindre le cluster wash").
        if out and substance(out[0]) == 0:
            out.sort(key=lambda r: substance(r) == 0)

        # ... or holds more of it than the best beside its question words ("how does the
        # cluster approach work?": "how" is a word of how to deactivate, too).
        named = [
            r
            for r in out
            if r.kind == "concept"
            and (out[0].confidence <= r.confidence or substance(r) > substance(out[0]))
            and self.titles.get(r.topic)
            and self.titles[r.topic] <= asked
        ]
        # So is a line of such a topic, when it covers the question better than the first:
        # "our local NGO co-leads, are we provider of last resort too?" names the NGO
        # co-lead, and the line on it holds more of the question than the last-resort lines.
        lines = [
            r
            for r in out
            if r.kind == "passage"
            and out[0].confidence < r.confidence
            and self.titles.get(self.parent.get(r.topic, ""))
            and self.titles[self.parent[r.topic]] <= asked
        ]
        if lines and not named:
            top = lines[0]
            out = [top, *(r for r in out if r is not top)]
        if named:
            top = max(named, key=lambda r: len(self.titles[r.topic]))

            # Unless a line holds the title's words and more of the question, among them a word
            # of its own topic's title (a Chinese pair, not one character: 项 of 项目 is no
            # 六项), and is surer: "NGO联合牵头的话也要当最后手段提供者吗" is the NGO co-lead's
            # last-resort line.
            def says_more(r: Ranked) -> bool:
                extra = matched[r.topic] - matched[top.topic]
                own = self.titles.get(self.parent.get(r.topic, ""), frozenset())
                return matched[r.topic] > matched[top.topic] and any(
                    not _CJK.fullmatch(t) for t in extra & own
                )

            more = [
                r
                for r in out
                if r.kind == "passage" and r.confidence > top.confidence and says_more(r)
            ]
            if more:
                top = max(more, key=lambda r: r.confidence)
            out = [top, *(r for r in out if r is not top)]
            # "What is the provider of last resort?" names the topic and asks nothing more.
            if not more and matched[top.topic] <= self.titles[top.topic]:
                return out
        share = {t: w / total for t, w in weights.items()}
        return _whole_first(out, matched, self.parent, share, weights)


def _whole_first(
    ranked: list[Ranked],
    matched: dict[str, frozenset[str]],
    parent: dict[str, str],
    share: dict[str, float],
    weights: dict[str, float],
) -> list[Ranked]:
    """A whole topic before a passage that says less about the question than the topic does.

    "What are the activation criteria?" matches a step that mentions the criteria as well as
    the topic titled with them: the topic is what was asked. And a question that two lines of
    one topic answer between them ("what does it oblige to, and what if there is no
    funding?") gets the topic. Otherwise the passage that answers goes first.

    A topic that only ties with one of its own lines, on two telling words, is no better an
    answer than the line ("who are country cluster leads accountable to?" is one line of the
    levels); on one word ("and step 6?") the question is too vague for one line.
    """

    def ties(a: Ranked, b: Ranked) -> bool:
        # Words as common as "cluster" do not make a question precise.
        telling = [t for t in matched[a.topic] if weights[t] >= _TELLING]
        same = matched[a.topic] == matched[b.topic] and len(telling) >= 2
        return same and a.confidence == b.confidence

    if len(ranked) < 2:
        return ranked
    first = ranked[0]
    if first.kind == "concept":
        # BM25 put the topic first: its line takes the place only if it scores nearly as well
        # ("程序是怎样的", what is the procedure, is the whole of it, not its note on approval).
        for r in ranked[1:]:
            close = r.score >= _NEARLY * first.score
            if parent.get(r.topic) == first.topic and ties(r, first) and close:
                return [r, *(x for x in ranked if x is not r)]
        return ranked
    # A line that ties with its own topic is as good an answer as the topic ("what does a
    # co-lead do?" is the line on who may co-lead): another topic must then say more than the
    # line, not only as much (a topic naming a government co-lead).
    own = parent.get(first.topic)
    held = any(r.topic == own and ties(r, first) for r in ranked[1:])
    for r in ranked[1:]:
        if (
            r.kind == "concept"
            and r.confidence >= first.confidence
            and matched[r.topic] >= matched[first.topic]
            and not (own == r.topic and ties(r, first))
            and not (held and matched[r.topic] == matched[first.topic])
        ):
            return [r, *(x for x in ranked if x is not r)]
    topic = parent.get(first.topic)
    for r in ranked[1:]:
        extra = matched[r.topic] - matched[first.topic]
        if (
            r.kind == "passage"
            and topic is not None
            and parent.get(r.topic) == topic
            and sum(share[t] for t in extra) >= _BOTH_LINES
        ):
            whole = Ranked(topic, "concept", first.score, first.confidence, first.matched)
            return [whole, *(x for x in ranked if parent.get(x.topic) != topic)]
    return ranked


def _idf(n: int, df: int) -> float:
    return math.log((n - df + 0.5) / (df + 0.5) + 1.0)


class Ranker:
    """Indexes over every language's passages, built once; a look-up takes about 0.1 ms."""

    def __init__(self, facts: Facts) -> None:
        import Stemmer

        self.algorithms = {c: a for c, a in _STEMMERS.items() if c in facts.languages}
        self.stemmers = {code: Stemmer.Stemmer(algo) for code, algo in self.algorithms.items()}
        self.stop: dict[str, frozenset[str]] = {}
        self.synonyms: dict[str, dict[str, str]] = {}
        self.cjk_synonyms: list[tuple[str, str]] = []
        # Synonyms of two words or more ("switched on"), longest first, and every group's token.
        self.phrases: dict[str, list[tuple[str, str]]] = {}
        self.canon_tokens: dict[str, frozenset[str]] = {}
        # The Chinese fillers of our knowledge files (请问, 一下), taken out inside the text.
        self.cjk_fillers = (
            sorted(
                (normalize(w) for w in facts.text("zh").stopwords if len(w) > 1),
                key=len,
                reverse=True,
            )
            if "zh" in facts.languages
            else []
        )
        self.indexes: dict[str, _Index] = {}
        self.ar_words: frozenset[str] = frozenset()
        self.parts = Parts(facts)
        # Our acronyms as each language's tokens: one we know that no passage holds ("CLA")
        # is not an unknown word, and says nothing the rest of the question does not.
        self.acronyms: dict[str, frozenset[str]] = {}
        for code, lang in facts.languages.items():
            self.stop[code] = stop_words(code, lang)
            canon: dict[str, str] = {}
            for group in lang.synonyms:
                words = [normalize(w) for w in group]
                for word in words:
                    canon.setdefault(word, f"={words[0]}")
            self.synonyms[code] = canon
            self.phrases[code] = sorted(
                ((w, c) for w, c in canon.items() if " " in w), key=lambda wc: -len(wc[0])
            )
            self.canon_tokens[code] = frozenset(canon.values())
            if code == "zh":
                # Chinese has no spaces: its synonyms are found inside the text, longest first.
                self.cjk_synonyms = sorted(
                    ((w, c) for w, c in canon.items() if _CJK.search(w)),
                    key=lambda wc: -len(wc[0]),
                )
            if code == "ar":
                # The words our Arabic texts hold, as written: "لخطة" is "ل" + "خطة" when
                # "خطة" is one of them (see `_stems`).
                self.ar_words = frozenset(
                    w
                    for text in (
                        *(f"{c.title} {' '.join(c.keywords)}" for c in lang.concepts.values()),
                        *(c.body for c in lang.concepts.values()),
                        *(" ".join(ws) for ws in lang.passage_words.values()),
                    )
                    for w in normalize(text).split()
                )
            docs: list[tuple[str, str, list[str]]] = []
            asked: dict[str, frozenset[str]] = {}
            titles = {
                key: frozenset(self.tokens(t.title, code)) for key, t in lang.concepts.items()
            }
            for key, text in lang.concepts.items():
                # A topic is its title and the phrases that ask for it: each word once, or a
                # word repeated across its phrases would outweigh a shorter, closer topic.
                words = self.tokens(f"{text.title} {' '.join(text.keywords)}", code)
                docs.append((key, "concept", list(dict.fromkeys(words))))
                asked[key] = frozenset(words)
            # "How" asks for a procedure in a question and in the phrases people ask with, but
            # in a passage's prose ("how well a cluster carries out its core functions") it
            # says nothing about what the passage answers.
            prose = self.stop[code] | QUESTION_WORDS
            for pid, passage in facts.passages.items():
                extra = " ".join(lang.passage_words.get(pid, ()))
                line = normalize(facts.passage_text(passage, code))
                words = self.tokens(extra, code)
                asked[pid] = frozenset(words)
                tokens = self._stems(code, line, prose) + words
                docs.append((pid, "passage", tokens))
            parents = {pid: p.concept for pid, p in facts.passages.items()}
            spelled = {
                w: c for w, c in canon.items() if len(w) >= _TYPO_LENGTH and not _CJK.search(w)
            }
            self.indexes[code] = _Index(docs, parents, titles, asked, spelled)
            self.acronyms[code] = frozenset(
                t for a in facts.acronyms for t in self.tokens(a, code)
            )

    def __getstate__(self) -> dict[str, object]:
        # PyStemmer's stemmers cannot be pickled; they cost nothing to make again.
        return {k: v for k, v in self.__dict__.items() if k != "stemmers"}

    def __setstate__(self, state: dict[str, object]) -> None:
        import Stemmer

        self.__dict__.update(state)
        self.stemmers = {code: Stemmer.Stemmer(algo) for code, algo in self.algorithms.items()}

    def _stems(self, lang: str, norm: str, stop: frozenset[str] | None = None) -> list[str]:
        """Tokens of normalised text; a synonym becomes its group's token ("=lead"), unstemmed.

        Synonyms are whole words matched before stemming, so "activities" (stem "activ")
        never joins "activate" (stem "activ" too) unless a group says so.
        """
        canon = self.synonyms.get(lang, {})
        if lang == "zh":
            out: list[str] = []
            zh_stop = self.stop.get("zh", frozenset()) if stop is None else stop
            # Synonyms first: a filler may be inside a name ("工作" in 人道主义国家工作队).
            for word, token in self.cjk_synonyms:
                # In prose (`stop` holds the question words) "how" (如何) says nothing.
                if word in norm and not (stop is not None and word in stop):
                    out.append(token)
                    norm = norm.replace(word, " ")
            for filler in self.cjk_fillers:
                norm = norm.replace(filler, " ")
            for word in norm.split():
                if word in canon:
                    out.append(canon[word])
                elif _CJK.search(word):
                    # Characters and pairs of them; a pair that is or holds a stop word
                    # (什么, 的条) says nothing and would only dilute the confidence.
                    out += [c for c in word if c not in zh_stop]
                    pairs = (word[i : i + 2] for i in range(len(word) - 1))
                    out += [p for p in pairs if p not in zh_stop and not (set(p) & zh_stop)]
                elif word not in zh_stop:
                    # A Latin word among Chinese is English: its "of" says nothing either.
                    out.append(word)
            return out
        stop = self.stop.get(lang, frozenset()) if stop is None else stop
        stemmer = self.stemmers.get(lang)
        norm = self._joined(lang, norm)
        grouped = self.canon_tokens.get(lang, frozenset())
        tokens = []
        for word in norm.split():
            if word in grouped:
                tokens.append(word)
                continue
            # Arabic writes "and" (و) onto the next word: "وبدي" is "and" + "بدي" (I want).
            if lang == "ar" and word[:1] == "و" and len(word) > 3 and word not in canon:
                word = word[1:] if word[1:] in stop or word[1:] in canon else word
            # So does it "for", "with", "so" (ل, ب, ف): "لخطة الانتقال" is "for the transition
            # plan", when the word without it is one our texts hold and the word is not.
            if (
                lang == "ar"
                and word[:1] in _AR_PREFIXES
                and len(word) > 3
                # "بيقود", "بتقود": spoken Arabic's present tense, a verb, not "with" + a word.
                and not (word[0] == "ب" and word[1] in "يتنا")
                and word not in canon
                and word not in self.ar_words
                and (word[1:] in self.ar_words or word[1:] in canon)
            ):
                word = word[1:]
            # Spoken Arabic's present tense puts "ب" before the verb: "بيقرر" is "يقرر" (decides),
            # "بيقفلوا" is "يقفلوا" (they close), when our texts or synonyms hold the verb.
            if (
                lang == "ar"
                and word[:2] in _AR_SPOKEN_PRESENT
                and len(word) > 4
                and word not in canon
                and word not in self.ar_words
                and (word[1:] in canon or word[1:] in self.ar_words)
            ):
                word = word[1:]
            # In prose (`stop` holds the question words) "how" says nothing, though a synonym
            # group gives it its spoken forms ("كيف", "شلون", "إزاي").
            if word in QUESTION_WORDS and word in stop:
                continue
            if word in canon:
                tokens.append(canon[word])
            elif word not in stop and not word.isdigit():
                tokens.append(stemmer.stemWord(word) if stemmer else word)
        return tokens

    def word_tokens(self, words: str, lang: str) -> frozenset[str]:
        """The tokens of a fixed list of words (question words) in `lang`, worked out once."""
        key = (words, lang)
        cache: dict[tuple[str, str], frozenset[str]] = self.__dict__.setdefault("_words", {})
        if key not in cache:
            cache[key] = frozenset(self.tokens(words, lang))
        return cache[key]

    def tokens(self, text: str, lang: str) -> list[str]:
        """The words of `text` as the index sees them: folded, without stop words, stemmed."""
        return self._stems(lang, normalize(text))

    def _joined(self, lang: str, norm: str) -> str:
        """`norm` with each synonym of two words ("switched on", "phase out") as its token."""
        for phrase, token in self.phrases.get(lang, ()):
            if f" {phrase} " in f" {norm} ":
                norm = f" {norm} ".replace(f" {phrase} ", f" {token} ").strip()
        return norm

    def _asked(self, text: str, lang: str, index: _Index) -> list[str]:
        """The tokens of a question; a word whose stem we never saw is read as typed first.

        A slip changes the stem ("proces" stems to "proce", far from "process"); the word as
        typed is one letter from the word the stem was taken from.
        """
        if lang == "zh":
            return self.tokens(text, lang)
        out: list[str] = []
        for word in self._joined(lang, normalize(text)).split():
            tokens = self._stems(lang, word)
            if len(tokens) == 1 and tokens[0] not in index.idf:
                fixed = index.corrected(word)
                tokens = [fixed] if fixed in index.idf else tokens
            out += tokens
        return out

    def knows(self, text: str, langs: Iterable[str]) -> bool:
        """Whether most of `text` occurs in our passages (an unknown name does not).

        "Most": a Chinese name shares a character pair with our texts more often than not
        (网络安全 has 安全), so one known token does not make a known name.
        """
        for lang in langs:
            index = self.indexes.get(lang)
            tokens = self.tokens(text, lang)
            if index and tokens:
                known = sum(index.corrected(t) in index.idf for t in tokens)
                if known * 2 > len(tokens):
                    return True
        return False

    def pairs_unseen(self, text: str) -> bool:
        """Whether no character pair of a Chinese run occurs in our passages.

        A foreign name written in characters ("达尔富尔") shares single characters with our
        texts, but hardly ever two in a row, as our own words do ("人道主义", "非正式").
        """
        index = self.indexes.get("zh")
        pairs = [t for t in self.tokens(text, "zh") if len(t) == 2]
        if index is None or not pairs:
            return False
        return not any(t in index.idf for t in pairs)

    def titled(self, text: str, topic: str, langs: Iterable[str], besides: str = "") -> bool:
        """Whether every word of `text` is in the title of `topic` or of the topic it is part of.

        "The cluster approach" names a topic; "security" only occurs in one's prose. The words
        of `besides` ("quand", 什么时候) do not count.
        """
        for lang in langs:
            index = self.indexes.get(lang)
            ignored = set(self.tokens(besides, lang)) if besides else set()
            tokens = [t for t in self.tokens(text, lang) if t not in ignored]
            if index is None or not tokens:
                continue
            title = index.titles.get(index.parent.get(topic, topic), frozenset())
            if title and all(index.corrected(t) in title for t in tokens):
                return True
        return False

    def rank(self, text: str, langs: Iterable[str], limit: int = 3) -> list[Ranked]:
        """The best candidates for `text` among the given languages' indexes, best first."""
        # BM25 orders one language's candidates; scores of two languages do not compare, so
        # an undecided language is settled by whose best candidate covers the question most.
        best: list[Ranked] = []
        for lang in langs:
            index = self.indexes.get(lang)
            if index is None:
                continue
            known = self.acronyms.get(lang, frozenset())
            tokens = [
                t for t in self._asked(text, lang, index) if t in index.idf or t not in known
            ]
            ranked = index.rank(tokens, limit, self.word_tokens(_QUESTION_TEXT, lang))[:limit]
            if ranked and (not best or ranked[0].confidence > best[0].confidence):
                best = ranked
        # "Step 6", "la sixième étape": the line named by its number is what was asked; "step 9"
        # of eight, the whole list, which says where it ends.
        named = self.parts.named(text, langs)
        if named is not None:
            line = self.parts.line_of(*named)
            whole = self.parts.concepts[named[0]] if self.parts.past_the_end(*named) else None
            topic, kind = (line, "passage") if line else (whole, "concept")
            if topic is not None:
                score = best[0].score if best else 1.0
                best = [Ranked(topic, kind, score, 1.0, 2), *(r for r in best if r.topic != topic)]
        return best[:limit]
