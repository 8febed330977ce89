"""Ask the evaluation set (tests/eval/*.yaml) and grade each answer as a user would read it.

`python -m tests.evaluation` prints the figures per language and per kind, and every miss;
tests/test_eval.py asserts them. See tests/eval/README.md for the format.
"""

import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.app import Bot
from bot.core import Incoming, Reply
from bot.db import make_engine
from bot.settings import Settings
from knowledge import LANGUAGES, KnowledgeBase, load

EVAL_DIR = Path(__file__).parent / "eval"
# Written apart from the evaluation set and never looked at while tuning: the honest figure.
VALIDATION_DIR = EVAL_DIR / "validation"
# Reply intents that answer a topic of another name.
_SAME = {
    "thanks": {"greeting"},
    "checklist": {"start_checklist"},
    "unknown_cluster": {"unknown"},
    "unknown": {"unknown_cluster"},
}
# Passages that answer a topic of the README's under another name (one line each).
_PART_OF = {"accountability_global": "accountability", "hc_accountability": "accountability"}


@dataclass(frozen=True)
class Result:
    """One case asked: what came back and what was wrong with it."""

    lang: str
    kind: str
    question: str
    got: str
    text: str
    problems: tuple[str, ...]


def cases(lang: str, folder: Path = EVAL_DIR) -> list[dict[str, Any]]:
    """The cases of one language (libyaml's loader where there is one: five times faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (folder / f"{lang}.yaml").open(encoding="utf-8") as fh:
        return list(yaml.load(fh, Loader=loader))


def _contains(text: str, needle: str) -> bool:
    # An acronym in capitals ("WHO", "OMS") must appear as itself (or its plural, "NGOs"), not
    # inside "who" or "noms".
    if needle.isascii() and needle.isupper() and len(needle) > 1:
        pattern = rf"(?<![A-Za-z]){re.escape(needle)}s?(?![A-Za-z])"
        return re.search(pattern, text) is not None
    return needle.casefold() in text.casefold()


def _topics(reply: Reply, kb: KnowledgeBase) -> set[str]:
    """Every topic name the reply answers: its intent, its topic, the topic's concept."""
    got = {reply.intent, *_SAME.get(reply.intent, ())}
    topic = reply.data.get("topic")
    if isinstance(topic, str):
        got.add(topic)
        if topic in kb.passages:
            got.add(kb.passages[topic].concept)
        if topic in _PART_OF:
            got.add(_PART_OF[topic])
        if topic.startswith("acronym:"):
            got.add("acronym")
    return got


def _agency_names(kb: KnowledgeBase, lang: str) -> set[str]:
    names = kb.text(lang).agencies
    return {n.short for n in names.values()} | {n.name for n in names.values()}


def grade(
    case: dict[str, Any], lang: str, replies: list[Reply], text: str, kb: KnowledgeBase
) -> Result:
    """Check one answer against the case."""
    reply = replies[0]
    problems = []
    # A question in two parts may get two replies; the person reads both.
    topics = set().union(*(_topics(r, kb) for r in replies))
    if not topics & set(case["topic"]):
        problems.append(f"topic {sorted(topics)} not in {case['topic']}")
    problems += [f"lacks {s!r}" for s in case.get("has", ()) if not _contains(text, s)]
    if case.get("any") and not any(_contains(text, s) for s in case["any"]):
        problems.append(f"has none of {case['any']}")
    problems += [f"says {s!r}" for s in case.get("not", ()) if _contains(text, s)]
    # Nonsense names no agency; the help a greeting gets names some as examples, which is no
    # claim about what was typed.
    if case["kind"] == "unknown" and not topics & {"help", "greeting"}:
        problems += [f"names {a!r}" for a in _agency_names(kb, lang) if _contains(text, a)]
    question = " / ".join(case["turns"]) if "turns" in case else case["q"]
    got = str(reply.data.get("topic") or reply.intent)
    return Result(lang, case["kind"], question, got, text, tuple(problems))


def run(bot: Bot, langs: tuple[str, ...] = LANGUAGES, folder: Path = EVAL_DIR) -> list[Result]:
    """Ask every case of `langs`, each as a new person, and grade the answers."""
    results = []
    for lang in langs:
        for i, case in enumerate(cases(lang, folder)):
            user = f"console:eval-{lang}-{i}"
            replies: list[Reply] = []
            for turn in case.get("turns") or [case["q"]]:
                replies = bot.handle_sync(Incoming(user, user, str(turn)))
            results.append(grade(case, lang, replies, bot.render_plain(replies), bot.kb))
    return results


def share(results: list[Result]) -> float:
    """The share of results with no problem."""
    return sum(not r.problems for r in results) / len(results) if results else 0.0


def report(results: list[Result]) -> str:
    """Figures per language and per kind, then every miss."""
    lines = [f"overall {share(results):.1%} of {len(results)}"]
    for lang in dict.fromkeys(r.lang for r in results):
        mine = [r for r in results if r.lang == lang]
        lines.append(f"  {lang} {share(mine):.1%} of {len(mine)}")
    kinds = Counter(r.kind for r in results)
    for kind, n in sorted(kinds.items()):
        mine = [r for r in results if r.kind == kind]
        lines.append(f"  {kind:16} {share(mine):6.1%} of {n}")
    for r in results:
        if r.problems:
            lines.append(
                f"MISS [{r.lang} {r.kind}] {r.question!r} -> {r.got}: {'; '.join(r.problems)}"
            )
    return "\n".join(lines)


def main() -> int:
    """Print the report for the languages given (all by default); verbose with -v.

    `--validation` asks the validation set (tests/eval/validation/), which nobody tunes on.
    """
    langs = tuple(a for a in sys.argv[1:] if not a.startswith("-")) or LANGUAGES
    folder = VALIDATION_DIR if "--validation" in sys.argv else EVAL_DIR
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/eval.db")
        bot = Bot(Settings(database_url="sqlite://"), kb=load(), engine=engine)
        results = run(bot, langs, folder)
        print(report(results))
        if "-v" in sys.argv:
            for r in results:
                if r.problems:
                    print(f"\n--- {r.question}\n{r.text}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
