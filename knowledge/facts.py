"""The knowledge files read, checked for gaps, and held as frozen values (no indexes here)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
LANGUAGES: tuple[str, ...] = ("en", "zh", "fr", "es", "ar")
ROLES = ("lead", "co_lead", "convener")


class KnowledgeError(ValueError):
    """The knowledge files are incomplete or inconsistent; the message lists every gap."""


@dataclass(frozen=True, slots=True)
class Source:
    """A document a fact comes from."""

    key: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Lead:
    """One agency's part in leading a cluster, possibly only in one kind of emergency."""

    agency: str
    role: str
    when: str | None = None


@dataclass(frozen=True, slots=True)
class Sector:
    """A global cluster or one of Protection's Areas of Responsibility (kind "aor")."""

    id: str
    kind: str
    leads: tuple[Lead, ...]
    sources: tuple[str, ...]
    aors: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Concept:
    """Something the bot explains.

    `of_a_cluster`: one of its words beside a named cluster asks for it ("how do I join the
    WASH cluster?"), where one word beside a cluster usually says how the lead is asked.
    """

    id: str
    sources: tuple[str, ...]
    of_a_cluster: bool = False


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency's id and sources; its names are per language."""

    id: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Names:
    """How one language names a cluster, AoR or agency."""

    name: str
    short: str
    aliases: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class ConceptText:
    """A concept's title, the phrases that ask for it, and the answer, in one language."""

    title: str
    keywords: tuple[str, ...]
    body: str


@dataclass(frozen=True, slots=True)
class Language:
    """Everything one language contributes: names, explanations and the words that mark it."""

    code: str
    name: str
    native: str
    vocabulary: frozenset[str]
    intent_words: Mapping[str, tuple[str, ...]]
    conditions: Mapping[str, str]
    roles: Mapping[str, str]
    agencies: Mapping[str, Names]
    sectors: Mapping[str, Names]
    acronyms: Mapping[str, str]
    country_aliases: Mapping[str, tuple[str, ...]]
    # Names that fit several countries ("Congo"): never read as one of them.
    ambiguous_countries: Mapping[str, tuple[str, ...]]
    country_names: Mapping[str, str]  # our name for a country where CLDR's is unclear
    concepts: Mapping[str, ConceptText]
    checklist_words: Mapping[str, tuple[str, ...]]
    passage_titles: Mapping[str, str]  # "Step {n} of {total}" per numbered list
    passage_words: Mapping[str, tuple[str, ...]]  # words people use for one passage
    synonyms: tuple[tuple[str, ...], ...]  # words the ranker treats as one
    stopwords: tuple[str, ...]  # words the ranker ignores, beyond bm25s's own lists
    # Naming one line of a numbered list ("step 6", "the sixth step"): each list's words,
    # the ordinals in order (each with its other spellings), and the words for the last line.
    part_words: Mapping[str, tuple[str, ...]]
    ordinals: tuple[tuple[str, ...], ...]
    last_words: tuple[str, ...]
    # Nouns naming the activation procedure ("the formal procedure", "el trámite", "إجراءات").
    procedure_words: tuple[str, ...]
    # The words opening and closing a span of it ("from the proposal to the endorsement"):
    # a span whose two ends are each a stage of activating names the whole procedure.
    procedure_spans: tuple[tuple[str, ...], ...]
    country_level_words: tuple[str, ...]  # the country level named by its word alone
    # A place the question puts a cluster in ("in Darfur"): `before`, the words that put a
    # place after them; `skip`, articles between ("in the ..."); `and`, what joins two places;
    # `not_places`, words after them that name no place ("in English", "in future").
    place_words: Mapping[str, tuple[str, ...]]
    # A part of a country record a follow-up asks for alone ("who is their co-lead?").
    record_words: Mapping[str, tuple[str, ...]]
    # Who a question asks a duty of ("does the lead agency have to ...?"): `lead`, the lead.
    subject_words: Mapping[str, tuple[str, ...]]
    # How a name says it is an organisation's ("World Vision", "منظمة ..."): `markers`, the
    # words that say so; `links`, the words inside such a name ("Action against Hunger").
    organisation_words: Mapping[str, tuple[str, ...]]
    # The government named as who leads, or whose role is asked: `names`, `roles`, `ngo`.
    government_words: Mapping[str, tuple[str, ...]]
    # The words for who does a step of the procedure ("rc_hc", "erc": the roles of facts.yaml)
    # and, as `to`, the words before the one a step is done to ("to the", "al", "给").
    step_roles: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Passage:
    """One fact-sized line of a concept: what a question about one step or function gets.

    `n` and `total` place a numbered line in its list (step 5 of 8); `kind` names the list
    ("step", "function"), so each language can title it.
    """

    id: str
    concept: str
    line: int  # index into the concept's body lines, the same in every language
    kind: str = ""
    n: int = 0
    total: int = 0
    note: str = ""  # the id of a passage always shown after this one (who approves, today)
    # Who does a step and to whom (roles of `step_roles` in each language file): "who does
    # the ERC send it on to" is the ERC's step, not the one that writes to the ERC.
    by: tuple[str, ...] = ()
    to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """The validated knowledge: facts once, words per language."""

    sources: Mapping[str, Source]
    agencies: Mapping[str, Agency]
    sectors: Mapping[str, Sector]
    concepts: Mapping[str, Concept]
    acronyms: tuple[str, ...]
    caps_only: frozenset[str]
    languages: Mapping[str, Language]
    passages: Mapping[str, Passage]
    # "Why?" of a subject (a concept or passage id): the one whose text says why (`reasons`).
    reasons: Mapping[str, str]

    @property
    def clusters(self) -> list[Sector]:
        """The global clusters, in the order of the facts file."""
        return [s for s in self.sectors.values() if s.kind == "cluster"]

    def text(self, lang: str) -> Language:
        """The words of `lang`, falling back to English for an unknown code."""
        return self.languages.get(lang, self.languages["en"])

    def source_titles(self, keys: tuple[str, ...]) -> list[str]:
        """Readable titles for source keys, in order, without repeats."""
        return [self.sources[k].title for k in dict.fromkeys(keys)]

    def clusters_led_by(self, agency: str) -> list[tuple[Sector, Lead]]:
        """Every cluster and AoR in which `agency` has a part, with that part."""
        return [
            (s, lead) for s in self.sectors.values() for lead in s.leads if lead.agency == agency
        ]

    def passage_text(self, passage: Passage, lang: str) -> str:
        """The passage's line in `lang`, without its list number."""
        line = self.text(lang).concepts[passage.concept].body.splitlines()[passage.line]
        if not passage.n:
            return line.strip()
        # Shown alone, an item of a list that runs on ("12. training and capacity building;")
        # is a sentence of its own: "Training and capacity building."
        item = NUMBERED.sub("", line, count=1).strip()
        item = _RUNS_ON.sub("。" if item.endswith("；") else ".", item)
        return item[:1].upper() + item[1:]

    def passage_title(self, passage: Passage, lang: str) -> str:
        """A numbered line's title ("Step 5 of 8 …"); the concept's title otherwise."""
        words = self.text(lang)
        if passage.kind and passage.kind in words.passage_titles:
            return words.passage_titles[passage.kind].format(n=passage.n, total=passage.total)
        return words.concepts[passage.concept].title


# "1. ", "2) ", "3、" at the start of a line: a numbered item of a list.
NUMBERED = re.compile(r"^\s*(\d+)[.)、．]\s*")
# The end of a list item the next item goes on from (";", "；", "؛").
_RUNS_ON = re.compile(r"\s*[;；؛]$")
# A line that only introduces the list below it ("The approach has four aims:").
_INTRO = re.compile(r"[:：]\s*$")


def _passages(facts: dict[str, Any], en: dict[str, Any], gaps: list[str]) -> dict[str, Passage]:
    """Cut every concept into its lines; named lines and numbered lists get readable ids.

    The line structure comes from English; every language must have the same number of lines
    (checked in `load`), so a passage is the same fact in every language.
    """
    out: dict[str, Passage] = {}
    names = facts.get("passages") or {}
    for concept in facts["concepts"]:
        body = str(((en.get("concepts") or {}).get(concept) or {}).get("body") or "")
        lines = body.strip().splitlines()
        spec = names.get(concept) or {}
        numbered = [i for i, line in enumerate(lines) if NUMBERED.match(line)]
        named = {int(k): str(v) for k, v in (spec.get("lines") or {}).items()}
        for i, line in enumerate(lines):
            if i in named:
                pid = named[i]
            elif spec.get("numbered") and i in numbered:
                m = NUMBERED.match(line)
                assert m is not None
                n = int(m.group(1))
                kind = str(spec["numbered"])
                out[f"{kind}_{n}"] = Passage(f"{kind}_{n}", concept, i, kind, n, len(numbered))
                continue
            elif _INTRO.search(line):
                continue  # an intro alone answers nothing
            else:
                pid = f"{concept}.{i + 1}"
            if pid in out:
                gaps.append(f"facts.yaml: passages: {pid} names two lines")
            out[pid] = Passage(pid, concept, i)
    for spec in names.values():
        for pid, note in (spec.get("notes") or {}).items():
            if pid not in out or note not in out:
                gaps.append(f"facts.yaml: passages: the note {note} of {pid} names no passage")
                continue
            out[pid] = replace(out[pid], note=str(note))
        for pid, roles in (spec.get("roles") or {}).items():
            if pid not in out:
                gaps.append(f"facts.yaml: passages: the roles of {pid} name no passage")
                continue
            by, to = _tuple((roles or {}).get("by")), _tuple((roles or {}).get("to"))
            out[pid] = replace(out[pid], by=by, to=to)
    return out


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _read(path: Path) -> dict[str, Any]:
    import yaml  # only when the knowledge files are read: not on a start from the cache

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=loader)
    if not isinstance(data, dict):
        raise KnowledgeError(f"{path.name}: expected a mapping at the top")
    return data


def _language(code: str, raw: dict[str, Any], facts: dict[str, Any], gaps: list[str]) -> Language:
    """Build one language and record every missing or empty field in `gaps`."""
    where = f"{code}.yaml"

    def need(mapping: Any, key: str, path: str) -> Any:
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if value is None or (isinstance(value, str | list | dict) and not value):
            gaps.append(f"{where}: {path}.{key} is missing or empty")
        return value

    def names(section: str, key: str, required_note: bool) -> Names:
        entry = (raw.get(section) or {}).get(key)
        if not isinstance(entry, dict):
            gaps.append(f"{where}: {section}.{key} is missing")
            return Names(key, key, ())
        path = f"{section}.{key}"
        name = str(need(entry, "name", path) or key)
        short = str(entry.get("short") or entry.get("acronym") or name)
        if section == "agencies":
            need(entry, "acronym", path)
        note = str(entry.get("note") or "")
        if required_note and not note:
            gaps.append(f"{where}: {path}.note is missing (English has one)")
        return Names(name, short, _tuple(entry.get("aliases")), note.strip())

    en_raw = facts["_en"]
    sectors: dict[str, Names] = {}
    for key in facts["clusters"]:
        has_note = bool(((en_raw.get("clusters") or {}).get(key) or {}).get("note"))
        sectors[key] = names("clusters", key, has_note)
        need((raw.get("clusters") or {}).get(key, {}), "aliases", f"clusters.{key}")
    for key in facts["aors"]:
        has_note = bool(((en_raw.get("aors") or {}).get(key) or {}).get("note"))
        sectors[key] = names("aors", key, has_note)
    agencies = {key: names("agencies", key, False) for key in facts["agencies"]}

    concepts: dict[str, ConceptText] = {}
    for key in facts["concepts"]:
        entry = (raw.get("concepts") or {}).get(key) or {}
        path = f"concepts.{key}"
        concepts[key] = ConceptText(
            str(need(entry, "title", path) or key),
            _tuple(need(entry, "keywords", path)),
            str(need(entry, "body", path) or "").strip(),
        )

    def table(section: str, keys: Any) -> dict[str, str]:
        got = raw.get(section) or {}
        for key in keys:
            need(got, key, section)
        return {str(k): str(v).strip() for k, v in got.items()}

    def groups(section: str) -> dict[str, tuple[str, ...]]:
        got = {str(k): _tuple(v) for k, v in (raw.get(section) or {}).items()}
        for group in en_raw.get(section) or {}:
            if not got.get(group):
                gaps.append(f"{where}: {section}.{group} is missing or empty")
        return got

    meta = raw.get("language") or {}
    if meta.get("code") != code:
        gaps.append(f"{where}: language.code must be {code!r}")
    return Language(
        code=code,
        name=str(meta.get("name") or code),
        native=str(meta.get("native") or code),
        vocabulary=frozenset(str(w).casefold() for w in need(raw, "vocabulary", "") or ()),
        intent_words=groups("intent_words"),
        conditions=table("conditions", en_raw.get("conditions") or {}),
        roles=table("roles", ROLES),
        agencies=agencies,
        sectors=sectors,
        acronyms=table("acronyms", facts["acronyms"]),
        country_aliases={
            str(k).upper(): _tuple(v) for k, v in (raw.get("country_aliases") or {}).items()
        },
        ambiguous_countries={
            str(k): tuple(str(c).upper() for c in v)
            for k, v in (raw.get("ambiguous_country_names") or {}).items()
        },
        country_names={
            str(k).upper(): str(v) for k, v in (raw.get("country_names") or {}).items()
        },
        concepts=concepts,
        checklist_words=groups("checklist_words"),
        passage_titles=table("passage_titles", en_raw.get("passage_titles") or {}),
        passage_words={str(k): _tuple(v) for k, v in (raw.get("passage_words") or {}).items()},
        synonyms=tuple(_tuple(group) for group in raw.get("synonyms") or ()),
        stopwords=_tuple(raw.get("stopwords")),
        part_words=groups("part_words"),
        ordinals=tuple(_tuple(spellings) for spellings in raw.get("ordinals") or ()),
        last_words=_tuple(raw.get("last_words")),
        procedure_words=_tuple(raw.get("procedure_words")),
        procedure_spans=tuple(_tuple(pair) for pair in raw.get("procedure_spans") or ()),
        country_level_words=_tuple(raw.get("country_level_words")),
        place_words=groups("place_words"),
        record_words=groups("record_words"),
        subject_words=groups("subject_words"),
        organisation_words=groups("organisation_words"),
        government_words=groups("government_words"),
        step_roles=groups("step_roles"),
    )


def _check_facts(facts: dict[str, Any], gaps: list[str]) -> None:
    """Every lead names a known agency and role, and every entry names known sources."""
    known_sources = set(facts["sources"])
    conditions = set((facts["_en"].get("conditions") or {}).keys())
    for section in ("agencies", "clusters", "aors", "concepts"):
        for key, entry in facts[section].items():
            sources = (entry or {}).get("sources") or []
            if not sources:
                gaps.append(f"facts.yaml: {section}.{key} has no source")
            gaps.extend(
                f"facts.yaml: {section}.{key} cites unknown source {s!r}"
                for s in sources
                if s not in known_sources
            )
    for section in ("clusters", "aors"):
        for key, entry in facts[section].items():
            for lead in entry.get("leads") or []:
                if lead.get("agency") not in facts["agencies"]:
                    gaps.append(f"facts.yaml: {section}.{key} names unknown agency {lead}")
                if lead.get("role") not in ROLES:
                    gaps.append(f"facts.yaml: {section}.{key} has unknown role {lead}")
                if lead.get("when") and lead["when"] not in conditions:
                    gaps.append(f"facts.yaml: {section}.{key} has unknown condition {lead}")
            if not entry.get("leads"):
                gaps.append(f"facts.yaml: {section}.{key} has no lead")
    for key, entry in facts["aors"].items():
        if entry.get("cluster") not in facts["clusters"]:
            gaps.append(f"facts.yaml: aors.{key} belongs to unknown cluster")


def read_facts(
    data_dir: Path = DATA_DIR, languages: tuple[str, ...] = LANGUAGES
) -> dict[str, Any]:
    """Read and validate the knowledge files into the fields of `Facts`.

    Raises KnowledgeError listing every gap, so one run shows everything to fix.
    """
    facts = _read(data_dir / "facts.yaml")
    facts["_en"] = _read(data_dir / "en.yaml")
    gaps: list[str] = []
    _check_facts(facts, gaps)
    langs: dict[str, Language] = {}
    for code in languages:
        path = data_dir / f"{code}.yaml"
        if not path.exists():
            gaps.append(f"{code}.yaml is missing")
            continue
        raw = facts["_en"] if code == "en" else _read(path)
        langs[code] = _language(code, raw, facts, gaps)
    passages = _passages(facts, facts["_en"], gaps)
    roles = set((facts["_en"].get("step_roles") or {}).keys())
    gaps.extend(
        f"facts.yaml: passages: {p.id} names the role {r!r}, which en.yaml's step_roles lacks"
        for p in passages.values()
        for r in (*p.by, *p.to)
        if r not in roles
    )
    reasons = {str(k): str(v) for k, v in (facts.get("reasons") or {}).items()}
    gaps.extend(
        f"facts.yaml: reasons.{key} names an unknown topic"
        for key, value in reasons.items()
        if not all(t in passages or t in facts["concepts"] for t in (key, value))
    )
    for code, lang in langs.items():
        for key, text in lang.concepts.items():
            want = len(langs["en"].concepts[key].body.splitlines()) if "en" in langs else 0
            if want and len(text.body.splitlines()) != want:
                gaps.append(f"{code}.yaml: concepts.{key} has not the {want} lines of English")
        gaps.extend(
            f"{code}.yaml: passage_words.{pid} names no passage"
            for pid in lang.passage_words
            if pid not in passages
        )
        # A country key is an ISO code: a list read into the wrong mapping shows here.
        named = {
            "country_aliases": lang.country_aliases.keys(),
            "country_names": lang.country_names.keys(),
            "ambiguous_country_names": {
                c for codes in lang.ambiguous_countries.values() for c in codes
            },
        }
        gaps.extend(
            f"{code}.yaml: {field} names {c!r}, which is no country code"
            for field, codes in named.items()
            for c in sorted(codes)
            if not (len(c) == 2 and c.isalpha() and c.isupper())
        )
    if gaps:
        raise KnowledgeError("knowledge has gaps:\n  " + "\n  ".join(gaps))

    def leads(entry: dict[str, Any]) -> tuple[Lead, ...]:
        return tuple(Lead(str(x["agency"]), str(x["role"]), x.get("when")) for x in entry["leads"])

    sectors: dict[str, Sector] = {}
    for key, entry in facts["clusters"].items():
        sectors[key] = Sector(
            key, "cluster", leads(entry), _tuple(entry["sources"]), _tuple(entry.get("aors"))
        )
    for key, entry in facts["aors"].items():
        sectors[key] = Sector(
            key, "aor", leads(entry), _tuple(entry["sources"]), parent=str(entry["cluster"])
        )
    return dict(
        sources={
            k: Source(k, str(v["title"]), str(v.get("url") or ""))
            for k, v in facts["sources"].items()
        },
        agencies={k: Agency(k, _tuple(v["sources"])) for k, v in facts["agencies"].items()},
        sectors=sectors,
        concepts={
            k: Concept(k, _tuple(v["sources"]), bool(v.get("of_a_cluster")))
            for k, v in facts["concepts"].items()
        },
        acronyms=_tuple(facts["acronyms"]),
        caps_only=frozenset(str(w).casefold() for w in facts.get("caps_only") or ()),
        languages=langs,
        passages=passages,
        reasons=reasons,
    )
