"""Find clusters, agencies, countries, concepts and intent words in a message, in any language.

Matching is alias-aware and typo-tolerant, but strict about what it accepts: exact phrases first,
then a close fuzzy match only for words long enough that one slip cannot turn an unknown name
into a real cluster.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from knowledge.facts import Facts, Language

_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None})
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
# Scripts that fuzzy matching leaves alone (Chinese is matched inside runs, Arabic by words).
_NO_BOUNDARY = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u0600-\u06ff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Arabic attaches "the" (ال) and "and/with/for/as" (و ف ب ل ك) to words: fold them away so that
# "بالسودان" finds "السودان", while "القطري" (national) does not find "قطر" (Qatar); "and"
# comes before "with"/"for" ("وبالسودان", "وللصحة"), never "as" (so "وكالات" stays whole).
_AR_CLITIC = re.compile(r"(?<!\S)(?:[وفبك]?ال|و?بال|[وف]?لل)(?=\S\S)")
MAX_UNDERSTOOD = 1000
# Letters and marks that only one of the Latin-script languages uses.
_MARKS = {"es": "¿¡ñáíóú", "fr": "çœèêëàâîïôûù"}


def _letter_words(text: str) -> list[str]:
    """The runs of letters in `text`, casefolded, accents kept ("d'Ivoire": "d", "ivoire")."""
    return re.findall(r"[^\W\d_]+", text.casefold())


@lru_cache(maxsize=1)
def _simplified() -> Any:
    """OpenCC's traditional-to-simplified converter (9 ms to load): only for Chinese text."""
    import opencc

    return opencc.OpenCC("t2s")


# Characters `_Fold` keeps what it worked out for: more than our five languages use.
_FOLD_KEPT = 8192


# Invisible format characters that sit inside a word, never between two: the joiners (ZWNJ
# in Persian "می‌خواهم"), the word joiner, the byte-order mark, the soft hyphen. Folded to
# nothing, as accents are, so the word is matched whole ("hea\xadlth" is health).
_INSIDE_A_WORD = frozenset("\u200c\u200d\u2060\ufeff\xad")


class _Fold(dict[int, str | None]):
    """What `normalize` makes of each character of decomposed text, for str.translate.

    Accents and Arabic diacritics (Mn) go, as do `_INSIDE_A_WORD`; punctuation, symbols,
    spaces and controls (P, S, Z, C) other than "-" and "'" become spaces; the rest stays.
    Worked out the first time a character is seen, not character by character in Python on
    every text folded.
    """

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        cat = unicodedata.category(ch)
        if cat == "Mn" or ch in _INSIDE_A_WORD:
            folded = None
        elif cat[0] in "PSZC" and ch not in "-'":
            folded = " "
        else:
            folded = ch
        if len(self) < _FOLD_KEPT:
            self[code] = folded
        return folded


_FOLD = _Fold()


@lru_cache(maxsize=512)
def normalize(text: str) -> str:
    """Fold text for matching: NFKC, case, Latin accents, Arabic letter forms, punctuation.

    Chinese is folded to simplified characters, as our files are written: "誰牽頭" is "谁牵头".
    Cached: one message's text and its parts are folded several times on the way to an answer.
    """
    text = unicodedata.normalize("NFKC", text[: MAX_UNDERSTOOD * 2]).casefold()
    if _CJK.search(text):
        # OpenCC takes UTF-8: a lone surrogate (\ud800, from a broken escape) becomes "?".
        text = _simplified().convert(text.encode("utf-8", "replace").decode("utf-8"))
    decomposed = unicodedata.normalize("NFD", text).translate(_FOLD)
    folded = unicodedata.normalize("NFC", decomposed).translate(_ALEF)
    folded = folded.replace("-", " ").replace("'", " ")
    folded = _CJK_RUN.sub(lambda m: f" {m.group()} ", folded)
    return " ".join(_AR_CLITIC.sub("", folded).split())


@dataclass(frozen=True, slots=True)
class Hit:
    """A phrase found in the text: what it points to, where, and how sure we are (0..1)."""

    target: str
    phrase: str
    start: int
    score: float


def _tokens(norm: str) -> list[tuple[int, str]]:
    """Words of normalised text with their offsets."""
    return [(m.start(), m.group()) for m in re.finditer(r"\S+", norm)]


class Words:
    """One message's words, split and looked at once for every index that reads it.

    `Matcher.entities` looks a message up in five indexes; each split it again, searched every
    word for Chinese and Arabic letters and listed the capitalised words anew (a third of the
    time of `entities`). What depends on an index (its own phrases) is still done per index.
    """

    __slots__ = ("bounded", "capitals", "cjk", "clitics", "strings", "words")

    def __init__(self, norm: str, original: str = "") -> None:
        self.words = _tokens(norm)
        self.strings = [w for _, w in self.words]
        self.cjk, self.bounded = _scripts(norm, self.strings)
        # Capitals-only names are looked for in the message as typed.
        self.capitals = re.findall(r"[A-Za-z][A-Za-z0-9]*", original) if original else []
        # Whether any word may carry an Arabic "and"/"so" or a spoken present's "b-" that an
        # index takes off (_unclitic).
        self.clitics = any(len(w) > 3 and _unclitic_letter(w) for w in self.strings)


def _unclitic_letter(word: str) -> bool:
    """Whether `word` opens with a letter Arabic writes onto words.

    "And"/"so" (و, ف), or the "b-" of the spoken present before a verb's own first letter
    (بي, بت, بن).
    """
    return word[0] in "وف" or (word[0] == "ب" and word[1] in "يتن")


def _scripts(norm: str, strings: list[str]) -> tuple[list[bool], list[bool]]:
    """Per word: whether it is Chinese, and whether fuzzy matching may read it (Latin only).

    The text is searched once; its words only when it holds such letters at all.
    """
    cjk = [False] * len(strings)
    if _CJK.search(norm):
        cjk = [bool(_CJK.search(w)) for w in strings]
    if _NO_BOUNDARY.search(norm):
        bounded = [not _NO_BOUNDARY.search(w) for w in strings]
    else:
        bounded = [True] * len(strings)
    return cjk, bounded


class PhraseIndex:
    """Phrases pointing at targets, found exactly or (for long Latin words) fuzzily.

    Exact matching is dictionary look-ups over word n-grams (and character n-grams inside
    Chinese runs), so building an index costs nothing and a look-up is linear in the text.
    With `overlapping`, the longest phrase at every position counts, so "four aims of the
    cluster approach" yields both "aims of the cluster approach" and "cluster approach".
    """

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]],
        caps_only: frozenset[str] = frozenset(),
        fuzzy: bool = False,
        common_words: frozenset[str] = frozenset(),
        overlapping: bool = False,
    ) -> None:
        self.targets: dict[str, str] = {}
        self.caps: dict[str, str] = {}
        for phrase, target in pairs:
            norm = normalize(phrase)
            # Two Arabic letters left after folding are an everyday word ("بالاو", Palau,
            # folds to "او", which is "or"), never a name.
            if not norm or (len(norm) < 3 and _ARABIC.search(norm)):
                continue
            if norm in caps_only:
                self.caps[norm.upper()] = target
            else:
                self.targets.setdefault(norm, target)
        self.overlapping = overlapping
        # The word counts of the phrases each word starts, longest first.
        starts: dict[str, set[int]] = {}
        for p in self.targets:
            starts.setdefault(p.split()[0], set()).add(len(p.split()))
        self.sizes_from = {w: sorted(n, reverse=True) for w, n in starts.items()}
        self.first_words = frozenset(starts)
        # The lengths of the Chinese phrases each character starts, longest first: most
        # characters of a run start none, and are passed over without a look-up per length.
        cjk_starts: dict[str, set[int]] = {}
        for p in self.targets:
            if " " not in p and _CJK.search(p):
                cjk_starts.setdefault(p[0], set()).add(len(p))
        self.cjk_starts = {c: sorted(n, reverse=True) for c, n in cjk_starts.items()}
        self.common_words = common_words
        # Fuzzy candidates by word count: only Latin phrases of 5+ letters.
        self.fuzzy: dict[int, list[str]] = {}
        # Words never read as a slip for one of our phrases (set by the Matcher).
        self.unslipped: frozenset[str] = frozenset()
        if fuzzy:
            for norm in self.targets:
                if len(norm) >= 5 and not _NO_BOUNDARY.search(norm):
                    self.fuzzy.setdefault(len(norm.split()), []).append(norm)
        self.fuzzy_sizes = sorted(self.fuzzy, reverse=True)
        # Per word count, the first letter and length each word of a candidate may have at each
        # place (its own length, one more or one less): a text with a word no candidate allows
        # there cannot pass _fuzzy's test of each word, whichever phrase is closest, and is not
        # looked up at all (most runs of a message's words are no name).
        self.shapes = {
            size: [
                frozenset(
                    (word[0], len(word) + d)
                    for p in phrases
                    for word in (p.split()[place],)
                    for d in (-1, 0, 1)
                )
                for place in range(size)
            ]
            for size, phrases in self.fuzzy.items()
        }
        # A word of a shape no candidate has at any place is in no fuzzy match at all.
        self.any_shape = frozenset().union(*(s for places in self.shapes.values() for s in places))
        # In an index of Latin-script phrases alone (no capitals-only names, no Chinese runs, no
        # Arabic clitics), what a word must look like to start any hit, exact or fuzzy: the
        # first letter of a phrase's first word, and its length or a letter more or less.
        self.openings: frozenset[tuple[str, int]] | None = None
        if not self.caps and not any(_NO_BOUNDARY.search(p) for p in self.targets):
            self.openings = frozenset(
                (p[0], len(p.split()[0]) + d) for p in self.targets for d in (-1, 0, 1)
            )
        # The closest phrase of each text of `known` (set by the Matcher: the words of our own
        # names and intent phrases), worked out the first time it is tried. Those are most of
        # what is tried ("education" against 236 country names, "sudan" against the
        # clusters), the same on every message; other words (typos) are tried each time.
        self.known: frozenset[str] = frozenset()
        self.closest: dict[str, tuple[str, float, int] | None] = {}
        # The fuzzy candidates by word count and length, keyed by their sorted letters: where
        # two swapped letters ("somaila") are looked for, built the first time each is needed.
        self.anagrams: dict[tuple[int, int], dict[str, tuple[str, ...]]] = {}

    def may_hold(self, strings: list[str]) -> bool:
        """Whether a hit may start at one of these words: a test cheaper than `find`.

        False only where no word looks like a phrase's first word (`openings`), as every exact
        and fuzzy hit's first word does; most messages name no post by its title.
        """
        if self.openings is None:
            return True
        return any((w[0], len(w)) in self.openings for w in strings)

    def find(self, norm: str, original: str = "") -> list[Hit]:
        """All hits in `norm` (and capitals-only names in `original`), leftmost-longest."""
        return self.find_words(Words(norm, original))

    def find_words(self, text: Words) -> list[Hit]:
        """`find` over a message's words split once (`Words`), for several indexes in turn."""
        if text.clitics:
            words = self._unclitic(text.words)
            strings = [w for _, w in words]
            cjk, bounded = _scripts(" ".join(strings), strings)
        else:
            words, strings, cjk, bounded = text.words, text.strings, text.cjk, text.bounded
        hits: list[Hit] = []
        covered: set[int] = set()
        i = 0
        starts = self.sizes_from
        while i < len(words):
            # Most words start no phrase: one look-up here, not a call.
            size = self._words_at(strings, i) if strings[i] in starts else 0
            if size:
                phrase = " ".join(strings[i : i + size])
                hits.append(Hit(self.targets[phrase], phrase, words[i][0], 1.0))
                covered.update(range(i, i + size))
                i += 1 if self.overlapping else size
                continue
            if cjk[i]:
                hits.extend(self._inside(words[i]))
            i += 1
        if self.caps:
            # Latin words only: "ETC现在" is the name ETC followed by Chinese.
            for word in text.capitals:
                if word in self.caps:
                    hits.append(Hit(self.caps[word], word.casefold(), -1, 1.0))
        if self.fuzzy:
            hits.extend(self._fuzzy(words, strings, bounded, covered))
        return hits

    def _words_at(self, strings: list[str], i: int) -> int:
        """How many words from `i` form the longest known phrase (0: none)."""
        sizes = self.sizes_from.get(strings[i])
        if not sizes:
            return 0  # most words start no phrase: one look-up, no joins
        for size in sizes:
            if i + size <= len(strings) and " ".join(strings[i : i + size]) in self.targets:
                return size
        return 0

    def _unclitic(self, words: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """Arabic "and"/"so" (و, ف), or a spoken present's "b-", written onto a word.

        "وحماية" is "and" + "حماية"; "بيشاركه" is the spoken form of "يشاركه" (he shares it).

        Taken off only where the word itself starts no phrase and what remains does, so
        "وكالة" (agency) and "بيت" (house) stay as they are.
        """
        out = []
        for offset, w in words:
            if (
                len(w) > 3
                and _unclitic_letter(w)
                and _ARABIC.match(w)
                and w not in self.first_words
                and w[1:] in self.first_words
            ):
                out.append((offset + 1, w[1:]))
            else:
                out.append((offset, w))
        return out

    def _inside(self, word: tuple[int, str]) -> list[Hit]:
        """Phrases inside a run of Chinese (written without spaces), leftmost-longest."""
        offset, text = word
        hits = []
        j = 0
        while j < len(text):
            for length in self.cjk_starts.get(text[j], ()):
                piece = text[j : j + length]
                if len(piece) == length and piece in self.targets:
                    hits.append(Hit(self.targets[piece], piece, offset + j, 1.0))
                    j += 1 if self.overlapping else length
                    break
            else:
                j += 1
        return hits

    def _fuzzy(
        self,
        words: list[tuple[int, str]],
        strings: list[str],
        bounded: list[bool],
        covered: set[int],
    ) -> list[Hit]:
        hits: list[Hit] = []
        # Words matched exactly, everyday words ("le", "cluster"), words of scripts matched
        # otherwise and words no candidate's word looks like (`shapes`) never take part in a
        # fuzzy match.
        shaped = self.any_shape
        free = [
            j not in covered
            and w not in self.common_words
            and w not in self.unslipped
            and bounded[j]
            and (w[0], len(w)) in shaped
            for j, w in enumerate(strings)
        ]
        # No phrase longer than the longest run of free words can match: those sizes, and
        # the places where a run does not start, are not tried.
        longest = run = 0
        for f in free:
            run = run + 1 if f else 0
            if run > longest:
                longest = run
        for size in self.fuzzy_sizes:
            if size > longest:
                continue
            for i in range(len(words) - size + 1):
                if not (free[i] and all(free[i : i + size])):
                    continue
                text = " ".join(strings[i : i + size])
                if len(text) < 5:
                    continue
                shapes = self.shapes[size]
                if not all(
                    (w[0], len(w)) in shapes[place]
                    for place, w in enumerate(strings[i : i + size])
                ):
                    continue
                best = self._closest(text, size)
                # Each word one slip from its match: close, no more than a letter longer or
                # shorter ("soudaine" is not "Soudan", "shelterr" is "shelter"), and with its
                # first letter, which a slip rarely changes ("reduction" is not "education").
                if best is not None and all(
                    fuzz.ratio(a, b) >= 75 and abs(len(a) - len(b)) <= 1 and a[0] == b[0]
                    for a, b in zip(text.split(), best[0].split(), strict=True)
                ):
                    phrase, score, _ = best
                    hits.append(Hit(self.targets[phrase], phrase, words[i][0], score / 100))
                    free[i : i + size] = [False] * size
        return hits

    def _closest(self, text: str, size: int) -> tuple[str, float, int] | None:
        """The phrase of `size` words closest to `text` (fuzz.ratio), if it is close enough."""
        if text in self.closest:
            return self.closest[text]
        cutoff = 88.0 if len(text) < 8 else 85.0
        reach = _within_reach(self, size, len(text), cutoff)
        best = process.extractOne(text, reach, scorer=fuzz.ratio, score_cutoff=cutoff)
        if best is None:
            # Two letters typed the wrong way round ("somaila") are one slip, though fuzz.ratio
            # counts them as two: the same letters, one swap of neighbours apart.
            swapped = [
                c
                for c in self._same_letters(size, len(text)).get("".join(sorted(text)), ())
                if OSA.distance(text, c) == 1
            ]
            if swapped:
                best = (swapped[0], cutoff, 0)
        if text in self.known:
            self.closest[text] = best
        return best

    def _same_letters(self, size: int, length: int) -> dict[str, tuple[str, ...]]:
        """The fuzzy candidates of `size` words and `length` characters, by sorted letters."""
        found = self.anagrams.get((size, length))
        if found is None:
            out: dict[str, list[str]] = {}
            for c in self.fuzzy[size]:
                if len(c) == length:
                    out.setdefault("".join(sorted(c)), []).append(c)
            found = self.anagrams[size, length] = {k: tuple(v) for k, v in out.items()}
        return found

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Targets whose names look a little like `text`: for "did you mean", never an answer."""
        if not text:
            return []
        # Plain edit distance on each word: "cash" is not one slip from "wash" (75), "helth"
        # is from "health" (91). WRatio's partial matches suggested WASH for any "...ash".
        seen: dict[str, None] = {}
        for word in text.split():
            if len(word) < 4:
                continue
            # Two neighbouring letters swapped are one slip ("chda", "mlai"), as in `_closest`,
            # and nearer than what fuzz.ratio finds ("mlai" is Mali before Malawi).
            swapped = [
                phrase
                for phrase, _, _ in process.extract(
                    word, list(self.targets), scorer=OSA.distance, limit=limit, score_cutoff=1
                )
                if sorted(phrase) == sorted(word)
            ]
            close = process.extract(
                word, list(self.targets), scorer=fuzz.ratio, limit=limit, score_cutoff=80
            )
            for phrase in swapped + [p for p, _, _ in close]:
                seen.setdefault(self.targets[phrase], None)
        return list(seen)[:limit]


@lru_cache(maxsize=4096)
def _within_reach(index: PhraseIndex, size: int, length: int, cutoff: float) -> tuple[str, ...]:
    """The fuzzy candidates of `size` words whose length lets fuzz.ratio reach `cutoff`.

    fuzz.ratio is at most 200 * shorter / (sum of lengths), so the others cannot be the best
    match: extractOne gives the same answer over fewer names, in the same order (one word
    was tried against all 346 country names on most messages). Cached: an index does not
    change, and texts come in a few dozen lengths.
    """
    return tuple(
        c for c in index.fuzzy[size] if 200 * min(length, len(c)) >= cutoff * (length + len(c))
    )


def _runs(phrases: Iterable[str], longest: int) -> Iterable[str]:
    """Every run of up to `longest` consecutive words of each phrase."""
    for phrase in phrases:
        words = phrase.split()
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + longest) + 1):
                yield " ".join(words[i:j])


@dataclass(frozen=True, slots=True)
class Entities:
    """What a message mentions, each list best first and without repeats."""

    sectors: tuple[str, ...]
    agencies: tuple[str, ...]
    countries: tuple[str, ...]
    intents: frozenset[str]
    acronyms: tuple[str, ...]
    fuzzy: bool
    leftover: str  # the words that are none of the above nor everyday words
    rest: str  # the normalised text without names, lead and cluster words: what else it asks
    words: int  # how many words the message has (a Chinese run counts as one)
    situation: frozenset[str] = frozenset()  # the words naming a kind of emergency ("conflict")
    conditions: frozenset[str] = frozenset()  # the kinds they name ("natural_disaster")
    asks: bool = False  # a question mark or a question word ("how", "怎样") is in it
    # A word for clusters is in it, alone or inside a longer phrase ("clusters mondiaux").
    says_cluster: bool = False
    # The countries a name that fits several could mean ("Congo": CD, CG), when none is named.
    country_choices: tuple[str, ...] = ()
    # What a list word lists: "clusters" ("list the clusters"), "other" (a thing it names
    # first: "list the responsibilities of a cluster lead"), or "" (nothing: "list please").
    listed: str = ""
    # The name of an organisation we do not hold that holds a cluster's word, as typed
    # ("International Medical Corps", "Shelter Box"): it names no cluster.
    organisation: str = ""


# The intent of the words naming a kind of emergency ("and in conflict?").
_EMERGENCY = "emergency"
# The intent of the words naming the global level ("globally", "全球").
_SCOPE = "scope"
# Lists that are not the clusters' ("the mailing list"), and the list words they may hold.
_OTHER_LIST = "other_list"
_LISTS = frozenset({"list_clusters", "which_clusters"})
# Intent words that, beside a list word, ask for nothing else than the clusters.
_LIST_FILLERS = frozenset({"lead", "cluster_word", "scope", "list_clusters", "which_clusters"})
# The words saying someone asked the asker ("the HC asked me", "el HC me pidió", "HC让我").
_ASKER = "asker"
# Intent words the lead rules answer; what a question says beside them goes to the ranker.
_RULE_WORDS = frozenset({"lead", "followup"})
# Words the rules always answer, whatever else the message holds.
_LIST_WORDS = frozenset(
    {
        "which_clusters",
        "list_clusters",
        "help",
        "greeting",
        "thanks",
        "acronym_question",
        "checklist",
        "wish",
    }
)


def _beside_an_asker(norm: str, askers: list[Hit], posts: Iterable[Hit]) -> list[Hit]:
    """The posts a message names as who asked the asker ("the HC asked me", "طلب مني المنسق").

    A post right before the asking words, or right after them (Arabic puts the verb first),
    one word between at most ("the HC also asked me"), says who wants to know, not what.
    """
    if not askers:
        return []
    near = []
    for post in posts:
        starts = [post.start] if post.start >= 0 else _found_at(norm, post.phrase)
        for start, a in ((s, a) for s in starts for a in askers):
            end, a_end = start + len(post.phrase), a.start + len(a.phrase)
            gap = norm[end : a.start] if end <= a.start else norm[a_end:start]
            if a.start >= 0 and len(gap.split()) <= 1 and (end <= a.start or start >= a_end):
                near.append(post)
                break
    return near


def _found_at(norm: str, phrase: str) -> list[int]:
    """Where a word typed in capitals ("HC") stands in the folded message."""
    return [m.start() for m in re.finditer(rf"(?<!\w){re.escape(phrase.casefold())}(?!\w)", norm)]


def _blank(norm: str, hits: Iterable[Hit]) -> str:
    """`norm` with every hit's phrase blanked out (capitals-only hits wherever the word is)."""
    chars = list(norm)
    whole_words = set()
    for h in hits:
        if h.start < 0:
            whole_words.add(h.phrase)
            continue
        for i in range(h.start, min(len(chars), h.start + len(h.phrase))):
            chars[i] = " "
    words = "".join(chars).split()
    return " ".join(w for w in words if w not in whole_words)


def _distinct(hits: list[Hit]) -> tuple[str, ...]:
    ordered = sorted(hits, key=lambda h: (h.start, -len(h.phrase)))
    return tuple(dict.fromkeys(h.target for h in ordered))


# CLDR lists a few two-letter "territories" that are not countries ("UN" is Naciones Unidas).
# Réunion, a French department, is left out too: its name is the French and Spanish word for
# a meeting ("avant la réunion de l'équipe de pays"), which questions on the procedure use.
_NOT_COUNTRIES = frozenset({"UN", "EU", "EZ", "QO", "XA", "XB", "ZZ", "RE"})


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's model (about 1 s to load): loaded only when the word lists tie."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


@lru_cache(maxsize=256)
def _identify(text: str, candidates: tuple[str, ...]) -> str:
    """Break a tie between our word lists with a language identifier limited to `candidates`."""
    identifier = _identifier()
    identifier.set_languages(list(candidates))
    return str(identifier.classify(text)[0])


@lru_cache(maxsize=8)
def _territories(lang: str) -> dict[str, str]:
    from babel import Locale

    names = dict(Locale.parse(lang).territories)
    return {
        code: name
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def stop_words(code: str, lang: Language) -> frozenset[str]:
    """Words that say nothing about the question: bm25s's lists and the language file's own."""
    from bm25s import stopwords

    lists = {
        "en": stopwords.STOPWORDS_EN_PLUS,
        "fr": stopwords.STOPWORDS_FRENCH,
        "es": stopwords.STOPWORDS_SPANISH,
        "zh": stopwords.STOPWORDS_CHINESE,
    }
    # bm25s's Chinese list holds words that carry meaning here (限制, 现在, 以后): only its
    # single characters are taken; longer Chinese stop words come from our own list.
    library = [w for w in lists.get(code, ()) if code != "zh" or len(w) == 1]
    # Latin words in a Chinese or Arabic question are English ("没有准入的地方 provider of last
    # resort 还要负责吗"): its "of" says no more there than in English.
    if code in ("zh", "ar"):
        library += stopwords.STOPWORDS_EN
    return frozenset(normalize(w) for w in (*library, *lang.stopwords)) - QUESTION_WORDS


# Question words that the libraries' lists drop but that say what is asked: "how do I
# activate" asks for the procedure, Arabic "when" (متى, only ever a question word, unlike
# "when" and "cuando") for the conditions or a date.
QUESTION_WORDS = frozenset({"how", "comment", "como", "怎么", "如何", "怎样", "كيف", "متي"})


# Words that make a message a question without asking "how": "我们要启动WASH集群，要走什么流程".
_ASKING = QUESTION_WORDS | {"what", "define", "explain", "describe", "什么", "啥", "ماذا"}
# Spoken Arabic's question words, folded ("شلون", "إزاي" how; "وش", "إيش" what; "منو" who;
# "إمتى" when; "ليش" why; "وين", "فين" where; "قديش" how much), none of them another word.
_ASKING |= {"شلون", "اشلون", "ازاي", "وش", "ايش", "منو", "امتي", "ليش", "وين", "فين", "قديش"}
# Words that ask only where a clause opens with them: "..., que tenemos que hacer" asks, "ya
# que hubo un terremoto" ("since there was") does not.
# Spoken French asks with "quoi" at a clause's end as well ("on commence par quoi ?").
_ASKING_FIRST = re.compile(
    r"(?:^|[,;:¿¡.!?，،؛]\s*)(?:qu[eé]|qu['’]est-ce|quoi|cu[aá]l(?:es)?|ما|شو)(?:\s|$)"
    r"|\squoi\W*(?:[,;.!?]|$)"
)


# Words a question opens with, in our five languages: a message that opens with one is asked,
# not typed as an answer ("who leads health" at "which country?").
_OPENS_A_QUESTION = re.compile(
    r"^\W*(?:who|what|whats|how|which|when|why|where|is|are|does|do|can|could|should|"
    r"qui|que|quoi|quel|quelle|quels|quelles|comment|quand|pourquoi|où|est-ce|"
    r"qui[eé]n|qu[eé]|c[oó]mo|cu[aá]l|cu[aá]les|cu[aá]ndo|por qu[eé]|d[oó]nde|"
    r"من|مين|ما|ماذا|كيف|هل|لماذا|متى|أين|شو|"
    r"منو|شلون|اشلون|ازاي|إزاي|وش|ايش|إيش|إمتى|امتى|ليش|ليه|وين|فين|قديش)(?:\W|$)",
    re.IGNORECASE,
)


def opens_a_question(text: str) -> bool:
    """Whether `text` opens with a question word ("who leads health", "¿qué es...")."""
    head = text.strip()
    return (
        bool(_OPENS_A_QUESTION.match(head))
        or head.startswith("¿")
        or head.startswith(("谁", "什么", "怎么", "怎样", "如何", "哪", "为什么", "是否"))
    )


def _asks(norm: str, text: str) -> bool:
    """Whether text holds a question word (inside a run, for Chinese)."""
    words = set(norm.split())
    return any(q in words or (_CJK.search(q) and q in norm) for q in _ASKING) or bool(
        _ASKING_FIRST.search(text.casefold().strip())
    )


# "Who" asks too ("quand on active un cluster, qui décide ?"); Arabic من is also "from".
_WHO = frozenset({"who", "qui", "quien", "谁"})


def asks_besides(text: str, phrases: Iterable[str]) -> bool:
    """Whether `text` asks with a word beside `phrases`: "what do we do when we activate?"."""
    rest = without(normalize(text), phrases)
    # A clause that opens with "que" is read in the text as typed, where its comma still is
    # ("quand on active un cluster, que faut-il faire ?"): no word of "when" opens so.
    return bool(set(rest.split()) & _WHO) or "谁" in rest or _asks(rest, text)


# Arabic "who" (من is also "from") asks only as the message's first word.
_WHO_FIRST = frozenset({"من", "مين"})


def after_who(norm: str, name: str) -> bool:
    """Whether `name` comes right after a "who" in `norm`: the verb of what is asked.

    "Who alerts the global cluster leads?", "qui paie le coordinateur du cluster ?", "谁通知
    全球集群牵头机构": a name follows a lead or cluster word, never the "who" itself.
    """
    if not name:
        return False
    if _CJK.search(name):
        return f"谁{name}" in norm
    words = norm.split()
    first = name.split()[0]
    if words[:2] and words[0] in _WHO_FIRST and words[1:2] == [first]:
        return True
    return any(w in _WHO and words[i + 1] == first for i, w in enumerate(words[:-1]))


def without(norm: str, phrases: Iterable[str]) -> str:
    """Normalised text without `phrases` (whole words; inside a run, for Chinese)."""
    norm = f" {norm} "
    for phrase in sorted(map(normalize, phrases), key=len, reverse=True):
        norm = norm.replace(phrase if _CJK.search(phrase) else f" {phrase} ", " ")
    return " ".join(norm.split())


def _own_phrases(lang: Language) -> Iterable[str]:
    """The phrases a language's file gives for asking: intent words and names."""
    for phrases in lang.intent_words.values():
        yield from phrases
    for names in (*lang.sectors.values(), *lang.agencies.values()):
        yield names.name
        yield names.short
        yield from names.aliases


def _all_words(lang: Language) -> set[str]:
    """Every word a language's file holds, its explanations included."""
    words = {w for p in _own_phrases(lang) for w in normalize(p).split()}
    for concept in lang.concepts.values():
        for text in (concept.title, *concept.keywords, concept.body):
            words.update(normalize(text).split())
    return words


def _marker_words(
    langs: list[Language], stop: dict[str, frozenset[str]]
) -> dict[str, frozenset[str]]:
    """Each language's marker words: its vocabulary, and the words only its files use.

    A Latin-script language's own one-word phrases for asking and for the clusters and
    agencies, that no other such language's file holds anywhere ("conflicto", "santé",
    "logistique", "PAM"), tell it apart as surely as its vocabulary does, even in a message
    of one word. A word any other file holds ("situation" in an English text) marks nothing.
    """
    vocabulary = {lang.code: frozenset(normalize(w) for w in lang.vocabulary) for lang in langs}
    latin = [lang for lang in langs if lang.code not in {"zh", "ar"}]
    # A phrase of one word only: longer phrases borrow everyday words ("top merci", "lista de
    # control", "media luna roja") that an English message may hold.
    own = {
        lang.code: {w for w in map(normalize, _own_phrases(lang)) if w and " " not in w}
        for lang in latin
    }
    seen = {lang.code: _all_words(lang) for lang in latin}
    for code, words in own.items():
        others = set().union(
            *(seen[o] | vocabulary[o] | stop.get(o, frozenset()) for o in own if o != code)
        )
        vocabulary[code] |= frozenset(w for w in words - others if len(w) > 2)
    return vocabulary


# "In" and "for" (ب, ل), with "and" before them, written onto a name without the article:
# "بلبنان" is "in Lebanon" as "في لبنان" is (with the article, `_AR_CLITIC` folds them).
_AR_PREPOSITIONS = ("ب", "ل", "وب", "ول")


def _with_arabic_prepositions(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Arabic country names of `pairs` that take no article, a preposition written onto them."""
    return [
        (f"{p}{name}", code)
        for name, code in pairs
        if _ARABIC_LETTER.match(name) and not name.startswith("ال")
        for p in _AR_PREPOSITIONS
    ]


_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")


class Matcher:
    """Indexes built once over every language, so a message in any of them is understood."""

    def __init__(self, kb: Facts) -> None:
        self.kb = kb
        langs = list(kb.languages.values())
        self.stop = {code: stop_words(code, lang) for code, lang in kb.languages.items()}
        common = frozenset().union(*(lang.vocabulary for lang in langs), *self.stop.values())
        # "emergency_conflict" words are emergency words that also say which kind: the kind
        # decides a lead ("does UNHCR lead shelter in floods?").
        intent_phrases = [
            (p, _EMERGENCY if group.startswith(_EMERGENCY) else group)
            for lang in langs
            for group, ps in lang.intent_words.items()
            for p in ps
        ]
        self.emergency_kinds = {
            normalize(p): group.removeprefix(f"{_EMERGENCY}_")
            for lang in langs
            for group, ps in lang.intent_words.items()
            if group.startswith(f"{_EMERGENCY}_")
            for p in ps
        }
        self.intents = PhraseIndex(intent_phrases, overlapping=True)
        # A kind of emergency stays a word of its own: "the war cluster" is a name we do not
        # know, not a cluster with filler.
        common |= frozenset(
            normalize(p) for p, group in intent_phrases if " " not in p and group != _EMERGENCY
        )
        self.common_words = common
        # Lead phrases of several words that say what someone does ("a cargo de", "in charge
        # of"), not those naming who leads ("lead agency", "الوكالة الرائدة", "co-lead").
        naming = {
            normalize(p)
            for lang in langs
            for group in (lang.subject_words, lang.record_words)
            for ps in group.values()
            for p in ps
        }
        several = {normalize(p) for p, group in intent_phrases if group == "lead"}
        self.lead_verbs = frozenset(p for p in several if " " in p) - naming
        self.cluster_words = frozenset(
            normalize(p) for p, group in intent_phrases if group == "cluster_word"
        )
        # The Chinese ones, found inside a run rather than as words (`_holds_cluster`).
        self.cjk_cluster_words = tuple(w for w in self.cluster_words if _CJK.search(w))
        # Chinese words that, after a list word, say nothing else than the clusters.
        self.list_fillers = sorted(
            {
                normalize(p)
                for p, group in intent_phrases
                if group in _LIST_FILLERS and _CJK.search(p)
            },
            key=len,
            reverse=True,
        )
        # Single characters of Chinese that are everyday words (的, 是, 吗): not left over.
        self.cjk_common = frozenset(w for w in common if len(w) == 1 and _CJK.search(w))
        # Longer Chinese stop words (什么, 哪些), taken out of a run before what is left over.
        # and the words of our synonym groups (职责, 启动), which are the topics' own words:
        # "责任" is never part of an unknown cluster's name.
        topic_words = {normalize(w) for lang in langs for group in lang.synonyms for w in group}
        self.cjk_stop = sorted(
            (w for w in (*self.stop.get("zh", ()), *topic_words) if len(w) > 1 and _CJK.search(w)),
            key=len,
        )[::-1]
        # The same by their first character, with their place in that order: a run of Chinese
        # tries the few that start with one of its characters, not all 300 (`_cjk_stop_in`).
        self.cjk_stop_from: dict[str, list[tuple[int, str]]] = {}
        for place, w in enumerate(self.cjk_stop):
            self.cjk_stop_from.setdefault(w[0], []).append((place, w))
        self.sectors = PhraseIndex(
            (
                (alias, key)
                for lang in langs
                for key, names in lang.sectors.items()
                for alias in (names.name, names.short, *names.aliases)
            ),
            caps_only=kb.caps_only,
            fuzzy=True,
            common_words=common,
        )
        self.agencies = PhraseIndex(
            (
                (alias, key)
                for lang in langs
                for key, names in lang.agencies.items()
                for alias in (names.name, names.short, key, *names.aliases)
            ),
            caps_only=kb.caps_only,
            fuzzy=True,
            common_words=common,
        )
        # A language's own acronym, given in brackets where ours is spelt out ("Coordonnateur
        # des secours d'urgence (CSU ; ...)"), is ours: "que veut dire CSU ?" asks about ERC.
        # Typed in capitals only, as an ordinary word may be spelt the same. Another of our
        # acronyms in brackets is that one ("机构间常设委员会（IASC）应急主任小组": the EDG is the
        # IASC's group, and "IASC" still the IASC).
        local = [
            (found, a)
            for lang in langs
            for a, spelt in lang.acronyms.items()
            for found in re.findall(r"[(（]([A-Za-z]{2,5})\b", spelt)
            if sum(c.isupper() for c in found) >= 2 and found not in (a, *kb.acronyms)
        ]
        self.acronyms = PhraseIndex(
            [(a, a) for a in kb.acronyms] + local,
            caps_only=kb.caps_only | {normalize(found) for found, _ in local},
        )
        # An acronym is also named by its words when they are a word for a sector or an AoR
        # ("area of responsibility", "责任领域" are the AoR): its spelt form opens with them.
        self.acronym_words = PhraseIndex(
            (word, acronym)
            for lang in langs
            for acronym, spelt in lang.acronyms.items()
            for word in lang.intent_words.get("sector_word", ())
            if normalize(word) != acronym.casefold()
            and f"{normalize(spelt)} ".startswith(f"{normalize(word)} ")
        )
        # Posts by their titles' words of substance, one slip each allowed: "coordinateur des
        # secours d'urgence" is the "coordonnateur des secours d'urgence", "coordinador de
        # socorro de emergencias" the "coordinador del socorro de emergencia".
        self.post_fillers = frozenset().union(*self.stop.values())
        self.posts = PhraseIndex(
            (
                (self._substance(title), acronym)
                for lang in langs
                for acronym, spelt in lang.acronyms.items()
                if self._a_post(title := re.sub(r"\(.*?\)|（.*?）", " ", spelt))
            ),
            fuzzy=True,
        )
        self.vocabulary = _marker_words(langs, self.stop)
        country_pairs = [
            (name, code) for lang in kb.languages for code, name in _territories(lang).items()
        ]
        # CLDR adds a second name in brackets ("Myanmar (Burma)"): the first alone is typed too,
        # unless it is another country's name ("Saint-Martin (partie néerlandaise)").
        taken = {normalize(name) for name, _ in country_pairs}
        country_pairs += [
            (bare, code)
            for name, code in country_pairs
            if (bare := re.sub(r"\s*[(（].*?[)）]", "", name).strip()) != name
            and normalize(bare) not in taken
        ]
        country_pairs += [
            (alias, code)
            for lang in langs
            for code, aliases in lang.country_aliases.items()
            for alias in aliases
        ]
        country_pairs += _with_arabic_prepositions(country_pairs)
        # "Congo" alone is Spanish CLDR's name for one Congo, and what people call either.
        ambiguous = {
            normalize(name): codes
            for lang in langs
            for name, codes in lang.ambiguous_countries.items()
        }
        self.countries = PhraseIndex(
            [(name, code) for name, code in country_pairs if normalize(name) not in ambiguous],
            caps_only=kb.caps_only,
            fuzzy=True,
            common_words=common,
        )
        self.ambiguous_countries = PhraseIndex((n, " ".join(c)) for n, c in ambiguous.items())
        # The words of the countries' names as the Latin-script languages write them, accents
        # kept ("soudan", "sudán"), and how many of them write each ("sudan" two): `evidence`.
        self.country_spellings = {
            code: frozenset(w for name in _territories(code).values() for w in _letter_words(name))
            for code in kb.languages
            if code not in {"zh", "ar"}
        }
        self.spellers = Counter(w for words in self.country_spellings.values() for w in words)
        self.any_country_spelling = frozenset(self.spellers)
        # Words of the names we know and the word "cluster": in a message in another script
        # they are names, not the language it is written in.
        named = (self.sectors, self.agencies, self.acronyms, self.countries)
        self.name_words = frozenset(
            w
            for index in named
            for p in (*index.targets, *index.caps)
            for w in p.casefold().split()
        ) | frozenset(normalize(p) for p, group in intent_phrases if group == "cluster_word")

        # Every run of words inside our phrases, as a fuzzy match may try it (PhraseIndex.known).
        phrases = {p for index in (*named, self.intents) for p in index.targets}
        fuzzy = (self.sectors, self.agencies, self.countries)
        known = frozenset(_runs(phrases, max(max(i.fuzzy, default=0) for i in fuzzy)))
        # A word people ask a topic with ("réfugiés") is no slip for a name in another language
        # ("refugios", Spanish for shelters).
        asked = frozenset(
            w
            for lang in langs
            for text in lang.concepts.values()
            for k in text.keywords
            if " " not in (w := normalize(k))
        )
        for index in fuzzy:
            index.known = known
            index.unslipped = asked - set(index.targets)

    def _substance(self, text: str) -> str:
        """Normalised text without its stop words ("coordinador socorro emergencia")."""
        return " ".join(w for w in normalize(text).split() if w not in self.post_fillers)

    def _post_hits(self, words: Words) -> list[Hit]:
        """The posts a message names by their titles, as spans of the message's own words."""
        kept = [(at, w) for at, w in words.words if w not in self.post_fillers]
        if not kept or not self.posts.may_hold([w for _, w in kept]):
            return []
        starts, offset = {}, 0
        for i, (_, w) in enumerate(kept):
            starts[offset] = i
            offset += len(w) + 1
        hits = []
        for h in self.posts.find(" ".join(w for _, w in kept)):
            first = starts.get(h.start)
            if first is None:
                continue
            last = kept[first + len(h.phrase.split()) - 1]
            begin, end = kept[first][0], last[0] + len(last[1])
            span = " ".join(w for at, w in words.words if begin <= at < end)
            hits.append(Hit(h.target, span, begin, h.score))
        return hits

    def _a_post(self, title: str) -> bool:
        """Whether an acronym's words name a post: a lead word, no cluster word in them.

        "Emergency Relief Coordinator", "coordinador humanitario": a coordinator is no lead of
        a cluster; "cluster lead agency" is a cluster's lead.
        """
        targets = {h.target for h in self.intents.find(normalize(title))}
        return "lead" in targets and "cluster_word" not in targets

    def _listed(self, norm: str, hits: list[Hit]) -> str:
        """What the list words of a message list: "clusters", "other" or "" (`Entities.listed`)."""
        found = ""
        for h in hits:
            what = self._list_object(norm[h.start + len(h.phrase) :], h.phrase)
            if what == "clusters":
                return what
            found = found or what
        return found

    def _list_object(self, after: str, phrase: str) -> str:
        """What one list word lists, from the words after it.

        Its first word of substance says ("list the core functions of a cluster": "other");
        Chinese puts what is listed last, after its 的 ("列出集群牵头机构的职责"), where lead,
        cluster and scope words say nothing else than the clusters ("列出所有集群的牵头机构").
        """
        if _CJK.search(phrase):
            run = after.split(" ")[0] if after[:1] != " " else ""
            if "的" in run:
                tail = run.rpartition("的")[2]
                for filler in self.list_fillers:
                    tail = tail.replace(filler, "")
                tail = "".join(ch for ch in tail if ch not in self.cjk_common)
                return "other" if tail else "clusters"
            return "clusters" if self._holds_cluster(phrase) else ""
        if self._holds_cluster(phrase):
            return "clusters"
        for word in after.split():
            if word in self.cluster_words:
                return "clusters"
            if word not in self.common_words and not word.isdigit():
                return "other"
        return ""

    def _holds_cluster(self, phrase: str) -> bool:
        """Whether a phrase holds a word for clusters ("集群列表", "clusters mondiaux")."""
        return any(w in self.cluster_words for w in phrase.split()) or any(
            w in phrase for w in self.cjk_cluster_words
        )

    def _cjk_stop_in(self, run: str) -> list[str]:
        """The words of `cjk_stop` inside a run of Chinese, in that order (longest first).

        Taking them out one by one only puts spaces in the run, so one that is not in it at
        the start never is later: leaving those out changes nothing.
        """
        found = sorted(
            entry for ch in set(run) for entry in self.cjk_stop_from.get(ch, ()) if entry[1] in run
        )
        return [w for _, w in found]

    def language(self, text: str) -> str | None:
        """The language of a message, by script and then by vocabulary; None if unsure.

        The script counts leave out names written in Latin letters in any language ("مين
        بيقود health cluster" is Arabic, "shelter cluster 谁牵头" Chinese).
        """
        cjk = len(_CJK.findall(text))
        # Letters only: Arabic punctuation and digits ("؟", "،", "٣") say no language.
        arabic = sum(ch.isalpha() for ch in _ARABIC.findall(text))
        latin = len(_LATIN.findall(text))
        if cjk or arabic:
            names = re.findall(r"[A-Za-z\u00c0-\u024f]+", text)
            latin -= sum(len(w) for w in names if normalize(w) in self.name_words)
        if cjk and cjk * 2 >= latin and "zh" in self.vocabulary:
            return "zh"
        if arabic and arabic >= latin and "ar" in self.vocabulary:
            return "ar"
        if not latin:
            return None
        words = normalize(text).split()
        lowered = text.casefold()
        scores: dict[str, float] = {}
        for code, vocabulary in self.vocabulary.items():
            if code in {"zh", "ar"}:
                continue
            # Our own marker words count fully; common stop words, shared by the Latin
            # languages more often than not ("de", "la", "en"), only a little. (Counted with
            # map: this runs for three languages on every message.)
            stop = self.stop.get(code, frozenset())
            scores[code] = float(sum(map(vocabulary.__contains__, words)))
            scores[code] += 0.25 * sum(map(stop.__contains__, words))
            scores[code] += sum(1.5 for ch in _MARKS.get(code, "") if ch in lowered)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if not ranked or ranked[0][1] == 0:
            return None
        tied = [code for code, score in ranked if score == ranked[0][1]]
        return tied[0] if len(tied) == 1 else _identify(text, tuple(tied))

    def marked(self, text: str, code: str) -> bool:
        """Whether `text` holds a marker word of language `code` ("salud", "conflicto")."""
        return any(w in self.vocabulary.get(code, ()) for w in normalize(text).split())

    def evidence(self, text: str, code: str) -> int:
        """How many of `text`'s words are Latin-script language `code`'s alone (a short message).

        A word of a country's name counts only when no other such language spells it so
        ("soudan", "sudán", "españa"): "Côte d'Ivoire" and "Curaçao" are English names too.
        Any other word counts when it is one of `code`'s marker words or holds a letter only
        `code` uses ("ñ", "ç"); so does a mark only `code` writes ("¿").
        """
        own = self.vocabulary.get(code, frozenset())
        letters = _MARKS.get(code, "")
        spelled = self.country_spellings.get(code, frozenset())
        count = 0
        for word in _letter_words(text):
            if word in self.any_country_spelling:
                count += word in spelled and self.spellers[word] == 1
            else:
                count += normalize(word) in own or any(ch in word for ch in letters)
        # Marks that are no letters count too: "¿y en Venezuela?" is Spanish by its "¿" alone.
        return count + any(ch in text for ch in letters if not ch.isalpha())

    def country_name(self, code: str, lang: str) -> str:
        """The country's name in `lang` (ours where CLDR's is unclear), else the code."""
        lang = lang if lang in self.kb.languages else "en"
        own = self.kb.text(lang).country_names.get(code)
        return own or _territories(lang).get(code, code)

    def find_country(self, text: str) -> str | None:
        """The ISO code of the country named in `text`, if exactly one stands out."""
        norm = normalize(text)
        if len(norm) == 2 and norm.upper() in _territories("en"):
            return norm.upper()
        hits = self.countries.find(norm, text)
        return _distinct(hits)[0] if hits else None

    def country_choices(self, text: str) -> tuple[str, ...]:
        """The countries a name that fits several may mean ("Congo": CD, CG); () otherwise."""
        if self.find_country(text):
            return ()
        hits = self.ambiguous_countries.find(normalize(text), text)
        return tuple(hits[0].target.split()) if hits else ()

    def which_country(self, text: str) -> str | None:
        """For the shell, where `text` fits several countries: which they are; else None."""
        choices = self.country_choices(text)
        if not choices:
            return None
        named = " or ".join(f"{c} ({self.country_name(c, 'en')})" for c in choices)
        return f"{text!r} names more than one country: write {named}"

    def find_sector(self, text: str) -> str | None:
        """The cluster or AoR that `text` names, if any.

        `text` is a name on its own (a records field, a command's word), so an acronym in
        lower case is that acronym ("etc"), where in a sentence it would be "et cetera".
        """
        hits = self.sectors.find(normalize(text), text)
        return _distinct(hits)[0] if hits else self.acronym_sector(text)

    def acronym_sector(self, word: str) -> str | None:
        """The cluster whose acronym `word` is, in any case ("etc"), matched exactly, if any."""
        hits = [h for h in self.sectors.find(normalize(word), word.upper()) if h.score == 1.0]
        return hits[0].target if len(hits) == 1 else None

    def find_agency(self, text: str) -> str | None:
        """The agency that `text` names, if any."""
        hits = self.agencies.find(normalize(text), text)
        return _distinct(hits)[0] if hits else None

    def _wish_around(self, norm: str, places: list[Hit]) -> list[Hit]:
        """The wish hits of `norm` once its places, with the word placing them, are cut out."""
        cut = norm
        for h in places:
            cut = re.sub(rf"[在于到为给]?{re.escape(h.phrase)}", "", cut)
        return [h for h in self.intents.find(cut) if h.target == "wish"]

    @cached_property
    def organisation_markers(self) -> tuple[frozenset[str], frozenset[str]]:
        """The words saying a name is an organisation's ("corps"), and those joining its words.

        Of every language (names are often said in English), folded; no cluster word.
        """
        groups = [lang.organisation_words for lang in self.kb.languages.values()]
        markers = {normalize(w) for g in groups for w in g.get("markers", ())}
        links = {normalize(w) for g in groups for w in g.get("links", ())}
        return frozenset(markers - self.cluster_words), frozenset(links)

    @cached_property
    def topic_words(self) -> frozenset[str]:
        """Every word of our topics and intents in every language, folded: no name's we lack.

        "Protection Activated", "Logistics Capacity", "Shelter Coordination" are our words
        typed with capitals; "Box", "Mission" and "Hungry" are in none of our texts.
        """
        words: set[str] = set()
        for lang in self.kb.languages.values():
            for c in lang.concepts.values():
                words.update(normalize(f"{c.title} {c.body} {' '.join(c.keywords)}").split())
            for ws in (*lang.passage_words.values(), *lang.intent_words.values()):
                words.update(w for p in ws for w in normalize(p).split())
        return frozenset(words)

    def _name_around(
        self, hit: Hit, norm: str, original: str, held: set[str]
    ) -> tuple[int, int] | None:
        """The words (first, past the last) of an organisation's name a cluster's word is in.

        "International Medical Corps" (a word saying so on both sides), or a name typed with
        capitals whose next word is no word of ours ("Shelter Box", "Food for the Hungry",
        "Water Mission"): not "Health Cluster", "Protection In Sudan" or "WASH and Health".
        `held`: the names of clusters, and of agencies and countries found exactly, which are
        no such word.
        """
        if hit.start < 0 or _CJK.search(norm):
            return None
        markers, links = self.organisation_markers
        tokens = norm.split()
        i = len(norm[: hit.start].split())
        end = i + len(hit.phrase.split())
        after = end
        while after < len(tokens) and tokens[after] in links and after - end < 2:
            after += 1
        if after >= len(tokens):
            return None
        following = tokens[after]
        typed = self._typed_capitals(original, len(tokens))

        def a_name_word(k: int) -> bool:
            word = tokens[k]
            return (
                typed is not None
                and typed[k]
                and word not in self.common_words
                and word not in self.cluster_words
                and word not in self.topic_words
                and not any(word in n.split() for n in held)
            )

        both = i > 0 and tokens[i - 1] in markers and following in markers
        if not (both or (typed is not None and typed[i] and a_name_word(after))):
            return None
        first, last = i, after + 1
        while first > 0 and (tokens[first - 1] in markers or a_name_word(first - 1)):
            first -= 1
        while last < len(tokens) and (tokens[last] in markers or a_name_word(last)):
            last += 1
        return first, last

    @staticmethod
    def _typed_words(span: tuple[int, int], norm: str, original: str) -> str:
        """The words of a span of the folded message as typed, where they fold one for one."""
        typed = original.split()
        if len(typed) == len(norm.split()):
            return " ".join(typed[span[0] : span[1]]).strip("?!.,;:¿¡")
        return " ".join(norm.split()[span[0] : span[1]])

    @staticmethod
    def _typed_capitals(original: str, count: int) -> list[bool] | None:
        """Per folded word, whether it was typed as a name is ("Mission", not "WASH" or "in").

        None when the typed words do not fold one for one into the message's words.
        """
        flags: list[bool] = []
        for word in original.split():
            folded = normalize(word).split()
            bare = word.lstrip("¿¡\"'(«“‘")
            title = len(folded) == 1 and bare[:1].isupper() and not bare.isupper()
            flags += [title] * len(folded)
        return flags if len(flags) == count else None

    def entities(self, text: str) -> Entities:
        """Everything the matcher recognises in one message."""
        norm = normalize(text)
        original = unicodedata.normalize("NFKC", text[: MAX_UNDERSTOOD * 2])
        words = Words(norm, original)
        agency_hits = self.agencies.find_words(words)
        # "health" inside "World Health Organization" names the agency, not the cluster.
        inside = {
            i for h in agency_hits if h.start >= 0 for i in range(h.start, h.start + len(h.phrase))
        }
        sector_hits = [h for h in self.sectors.find_words(words) if h.start not in inside]
        # A name that is both an agency and a cluster word (e.g. "habitat") counts as the agency
        # only where no cluster was meant; countries never claim a cluster's words.
        country_hits = [
            h
            for h in self.countries.find_words(words)
            if h.phrase not in {s.phrase for s in sector_hits}
        ]
        # "International Medical Corps", "Water Mission": a cluster's word inside the name of an
        # organisation we do not hold names no cluster (the name is left over, as any is).
        # "Health, Shelter, WASH": another cluster's name is no word of an organisation's.
        held = {h.phrase for h in (*agency_hits, *country_hits) if h.score == 1.0}
        held |= {h.phrase for h in sector_hits}
        spans = {h: self._name_around(h, norm, original, held) for h in sector_hits}
        named = [span for span in spans.values() if span is not None]
        sector_hits = [h for h, span in spans.items() if span is None]
        organisation = self._typed_words(named[0], norm, original) if named else ""
        if named:
            # "Food for the Hungry" is no slip for Hungary: a country's words inside the name.
            inside_name = {k for a, b in named for k in range(a, b)}
            country_hits = [
                h
                for h in country_hits
                if h.start < 0 or len(norm[: h.start].split()) not in inside_name
            ]
        # A name that fits several countries counts only where no country is named.
        unclear = [] if country_hits else self.ambiguous_countries.find_words(words)[:1]
        # No intent phrase is capitals-only: the capitals in `words` change nothing here.
        # A post named by its title ("the emergency relief coordinator") is its acronym: the
        # lead word of its title ("coordinator") asks for no lead.
        post_hits = self._post_hits(words)
        titles = {i for h in post_hits for i in range(h.start, h.start + len(h.phrase))}
        intent_hits = [
            h
            for h in self.intents.find_words(words)
            if not (h.target in _RULE_WORDS and h.start in titles)
        ]
        # A list word inside another list's name ("the mailing list") lists no clusters.
        others = {
            i
            for h in intent_hits
            if h.target == _OTHER_LIST
            for i in range(h.start, h.start + len(h.phrase))
        }
        intent_hits = [h for h in intent_hits if not (h.target in _LISTS and h.start in others)]
        intents = frozenset(h.target for h in intent_hits)
        if "wish" not in intents and country_hits and _CJK.search(norm):
            # Chinese puts the place before the verb ("我想在缅甸启动卫生集群"): without the
            # place, the wish reads whole ("我想启动").
            intent_hits += self._wish_around(norm, country_hits)
            intents = frozenset(h.target for h in intent_hits)
        # The words of an acronym stand for it, as a post's title does: ranked as the acronym.
        spelt_hits = self.acronym_words.find_words(words)
        acronym_hits = [*self.acronyms.find_words(words), *spelt_hits]
        acronyms = _distinct(acronym_hits)
        found = (*sector_hits, *agency_hits, *country_hits, *unclear, *acronym_hits)
        # A scope word inside a name ("World Food Programme", "منظمة الصحة العالمية") says no
        # level; outside one ("and globally?") it says where, as "our country" does: no word
        # of it is left over.
        scope = [h for h in intent_hits if h.target == _SCOPE]
        if scope:
            inside = {i for h in found for i in range(h.start, h.start + len(h.phrase))}
            if any(h.start in inside for h in scope):
                scope = [h for h in scope if h.start not in inside]
                intent_hits = [h for h in intent_hits if h.target != _SCOPE or h in scope]
                intents = frozenset(h.target for h in intent_hits)
        # "Our country" says where, without a name: no word of it is left over or ranked.
        own_country = [h for h in intent_hits if h.target == "own_country"]
        # "What does ... do", "qué hace", "ماذا يفعل": how a question about a post is put, not
        # what it asks ("يفعل" is also a form of "activate", "hace" a word of other lines).
        role = [h for h in intent_hits if h.target == "role"]
        # "The HC asked me ...": who asks, and the post asking through the asker, ask nothing.
        asker = [h for h in intent_hits if h.target == _ASKER]
        asking_posts = _beside_an_asker(norm, asker, (*acronym_hits, *post_hits))
        # A lead phrase of several words ("a cargo de", "in charge of") is no name either, as
        # a one-word lead word is not: "cargo" would split "a cargo del clúster de energía".
        leading = [h for h in intent_hits if h.target == "lead" and h.phrase in self.lead_verbs]
        known = {
            w
            for h in (*found, *own_country, *role, *post_hits, *scope, *asker, *leading)
            for w in h.phrase.split()
        }
        # Inside a run of Chinese, take out what was recognised; what remains is left over.
        cjk_known = sorted(
            {h.phrase for h in (*found, *intent_hits) if _CJK.search(h.phrase)}, key=len
        )[::-1]
        leftover_words = []
        for w in norm.split():
            if w in self.common_words or w in known or w.isdigit():
                continue
            # "وحماية", "وبعد": "and" written onto a name we found, or onto a common word.
            if w[0] in "وف" and (w[1:] in known or (len(w) > 2 and w[1:] in self.common_words)):
                continue
            if _CJK.search(w):
                for phrase in (*cjk_known, *self._cjk_stop_in(w)):
                    w = w.replace(phrase, " ")
                w = "".join(ch for ch in w if ch.strip() and ch not in self.cjk_common)
                if not w:
                    continue
            leftover_words.append(w)
        leftover = " ".join(leftover_words)
        # Acronyms stay: "ERC" or "HCT" says what a question about the procedure is about.
        # Lead words go too when a name is there ("who leads health"): the rules answer those;
        # without a name they may be what the question is about. "Cluster" goes with a
        # cluster's name ("the health cluster") or a country's records ("clusters in Haiti");
        # beside an agency alone it is what is asked ("is the Red Cross a member of clusters?").
        names = (*sector_hits, *agency_hits, *country_hits)
        listed = self._listed(norm, [h for h in intent_hits if h.target == "list_clusters"])
        listing = "which_clusters" in intents or ("list_clusters" in intents and listed != "other")
        cluster_named = sector_hits or country_hits or listing
        masked = [
            *names,
            *own_country,
            *(h for h in intent_hits if h.target in _LIST_WORDS),
            *(h for h in intent_hits if (names or listing) and h.target in _RULE_WORDS),
            *(h for h in intent_hits if cluster_named and h.target == "cluster_word"),
            # "Who leads CCCM in conflict?": the kind of emergency says which lead is asked.
            *(h for h in intent_hits if sector_hits and h.target == _EMERGENCY),
            # "How many clusters are there at global level?" asks for the list: "global
            # level" says which list, not what else is asked.
            *(h for h in intent_hits if listing and h.target == "scope"),
            # "Who leads shelter globally?": beside a cluster and a lead word, "globally" says
            # which lead is asked (the global one), not that the two levels are.
            *(h for h in intent_hits if sector_hits and "lead" in intents and h.target == "scope"),
            # "In the end, who approves?" asks who approves, not for the last step.
            *(h for h in intent_hits if h.target == "aside"),
            *asker,
            *asking_posts,
            # "Who else?" asks for more of the last answer, not about one who steps in.
            *(h for h in intent_hits if h.target == "others"),
            *role,
            *post_hits,
            *spelt_hits,
        ]
        # A body one of our acronyms names ("OCHA", "أوتشا") stays, as that acronym: what it
        # does is a topic of its own, and its name in one language is no word of the question.
        bodies = [h.target.casefold() for h in agency_hits if h.target in self.kb.acronyms]
        posts = [h.target.casefold() for h in (*post_hits, *spelt_hits) if h not in asking_posts]
        rest = " ".join((_blank(norm, masked), *dict.fromkeys((*bodies, *posts))))
        return Entities(
            sectors=_distinct(sector_hits),
            agencies=_distinct(agency_hits),
            countries=_distinct(country_hits),
            country_choices=tuple(unclear[0].target.split()) if unclear else (),
            intents=intents,
            acronyms=acronyms,
            fuzzy=any(h.score < 1.0 for h in (*sector_hits, *agency_hits)),
            leftover=leftover,
            rest=rest,
            words=len(norm.split()),
            situation=frozenset(
                w for h in intent_hits if h.target == _EMERGENCY for w in h.phrase.split()
            ),
            conditions=frozenset(
                self.emergency_kinds[h.phrase]
                for h in intent_hits
                if h.target == _EMERGENCY and h.phrase in self.emergency_kinds
            ),
            asks=bool(set("?？؟") & set(text)) or _asks(norm, text) or opens_a_question(text),
            says_cluster="cluster_word" in intents
            or any(self._holds_cluster(h.phrase) for h in intent_hits),
            listed=listed,
            organisation=organisation,
        )


class AnswerWords:
    """Answer and control words of every language (yes, no, done, back …), normalised once."""

    # Words said beside an answer ("please", "actually"), never an answer of their own: a
    # message opening with one ("please, who leads health?") may well be a question.
    BESIDE = ("polite", "filler")
    # Words read only where they are asked for: "the global lead" names no answer of its own
    # elsewhere ("global lead for health?" is a question), nor do "and" or "why is it unclear".
    READ_APART = ("as_global", "lead_in", "why")

    def __init__(self, kb: Facts) -> None:
        self.groups: dict[str, set[str]] = {}
        for lang in kb.languages.values():
            for group, words in lang.checklist_words.items():
                self.groups.setdefault(group, set()).update(normalize(w) for w in words)
        apart = self.BESIDE + self.READ_APART
        self.answer_groups = tuple(g for g in self.groups if g not in apart)

    def only(self, text: str, groups: tuple[str, ...]) -> bool:
        """Whether `text` is nothing but one word of these groups ("yes", "无", "لا")."""
        norm = normalize(text)
        return any(norm in self.groups.get(g, ()) for g in groups)

    def made_of(self, text: str, groups: tuple[str, ...]) -> bool:
        """Whether `text` is nothing but words of these groups, one after another."""
        while text:
            group, _, text = self.opening(text, groups)
            if group is None:
                return False
        return True

    def which(self, text: str, groups: tuple[str, ...]) -> tuple[str | None, str]:
        """The group whose word opens `text` (longest word wins), and the rest as a note."""
        group, _, rest = self.opening(text, groups)
        return group, rest

    def opening(self, text: str, groups: tuple[str, ...]) -> tuple[str | None, str, str]:
        """The group whose word opens `text`, what parts that word from the rest, and the rest.

        A word joined to the next by a hyphen is part of a longer one ("No-Lost", "non-existent"):
        no answer word opens that text.
        """
        norm = normalize(text)
        candidates = sorted(
            ((g, w) for g in groups for w in self.groups.get(g, ()) if w),
            key=lambda gw: -len(gw[1]),
        )
        for group, word in candidates:
            if norm == word:
                return group, "", ""
            if norm.startswith(word + " "):
                gap, rest = _after(text, word)
                if gap in _HYPHENS:
                    continue
                return group, gap, rest
        return None, "", ""


_HYPHENS = frozenset("-‐‑")
_GAP = " -–—:,.;，。：、،؛"


def _after(text: str, word: str) -> tuple[str, str]:
    """What parts `word` from the rest of `text`, and that rest, in the user's own characters."""
    fold = normalize.__wrapped__  # every prefix once: not worth the cache's room
    for i in range(1, len(text) + 1):
        if fold(text[:i]) == word:
            tail = text[i:]
            rest = tail.strip(_GAP)
            return tail[: len(tail) - len(tail.lstrip(_GAP))], rest
    return "", ""
