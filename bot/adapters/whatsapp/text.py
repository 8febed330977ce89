"""The renderer's HTML subset as WhatsApp text (*bold*, _italic_), split under WhatsApp's limits.

WhatsApp has no HTML and no escape character. Our formatting comes from the renderer's tags
only; in the text between them every marker a user could have typed is disarmed, so user text
never becomes formatting.
"""

import html
import re
from dataclasses import dataclass

from bot.core import Choice
from bot.render import MARKUP_TAG, pack_lines

MAX_TEXT = 4096  # characters in one text message
MAX_BODY = 1024  # characters in the body of a message with buttons or a list
MAX_BUTTONS = 3  # reply buttons in one message
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10  # rows in one list message, all sections together
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ID = 200  # characters of a button's or a row's id

ZWSP = "\u200b"
# WhatsApp opens *bold*, _italic_, ~strike~ and `code` only at a marker that follows a space,
# a line start or punctuation, and closes one only before such a place. A zero-width space on
# each side of a marker the user typed leaves it neither: it is shown, never applied. An
# underscore inside a word (snake_case) is no marker and stays as it is; so does a `>` that
# does not start a line (a quote).
_MARKER = re.compile(r"[*~`]|(?<!\w)_|_(?!\w)|^>", re.M)
_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")
_MARKS = {"b": "*", "i": "_", "s": "~", "code": "`", "pre": "```"}
_ORDER = ("pre", "code", "b", "i", "s")  # how marks nest: the outermost first

# The list message's button, in each of our languages (WhatsApp requires one, 20 characters).
CHOOSE = {"en": "Choose", "fr": "Choisir", "es": "Elegir", "zh": "选择", "ar": "اختر"}


def inert(text: str) -> str:
    """Text shown as typed: formatting markers disarmed, direction overrides dropped."""
    return _MARKER.sub(lambda m: f"{ZWSP}{m.group(0)}{ZWSP}", _OVERRIDES.sub("", text))


def _runs(markup: str) -> list[tuple[str, frozenset[str], bool]]:
    """The markup as (plain text, marks in force, inside a quote) runs; links written out."""
    runs: list[tuple[str, frozenset[str], bool]] = []
    marks: list[str] = []
    quote = False
    link: tuple[str, int] | None = None  # the href, and where its label's runs begin
    pos = 0

    def add(text: str) -> None:
        if text:
            runs.append((text, frozenset(marks), quote))

    for m in MARKUP_TAG.finditer(markup):
        add(html.unescape(markup[pos : m.start()]))
        pos = m.end()
        closing, tag = m.group(1) == "/", m.group(2)
        if tag == "a":
            if not closing:
                link = (html.unescape(m.group(3) or ""), len(runs))
            elif link is not None:
                href, start = link
                label = "".join(r[0] for r in runs[start:])
                if href and href != label:
                    add(f" ({href})" if label else href)  # WhatsApp links a bare URL itself
                link = None
        elif tag == "blockquote":
            quote = not closing
        elif tag in _MARKS:
            if closing:
                if tag in marks:
                    marks.remove(tag)
            else:
                marks.append(tag)
    add(html.unescape(markup[pos:]))
    return runs


def _styled(text: str, marks: frozenset[str]) -> str:
    """One run as WhatsApp text: its marks around the words, spaces kept outside them."""
    shown = inert(text)
    core = shown.strip()
    if not marks or not core:
        return shown
    lead = shown[: len(shown) - len(shown.lstrip())]
    trail = shown[len(shown.rstrip()) :]
    ordered = [m for m in _ORDER if m in marks]
    opening = "".join(_MARKS[m] for m in ordered)
    closing = "".join(_MARKS[m] for m in reversed(ordered))
    return f"{lead}{opening}{core}{closing}{trail}"


def to_whatsapp(markup: str) -> str:
    """The renderer's HTML subset as WhatsApp text; every line carries its own formatting.

    A mark is closed at the end of each line and opened again on the next, so a message can be
    cut between any two lines and each piece still shows as meant.
    """
    lines: list[list[str]] = [[]]
    quoted: list[bool] = [False]
    for text, marks, quote in _runs(markup):
        for i, part in enumerate(text.split("\n")):
            if i:
                lines.append([])
                quoted.append(quote)
            if part:
                lines[-1].append(_styled(part, marks))
                quoted[-1] = quoted[-1] or quote
    return "\n".join(
        ("> " if q and "".join(parts).strip() else "") + "".join(parts)
        for parts, q in zip(lines, quoted, strict=True)
    )


def split_text(text: str, limit: int = MAX_TEXT, last: int = MAX_TEXT) -> list[str]:
    """WhatsApp text in messages of at most `limit` characters, the last one of at most `last`.

    Cut between lines where possible. `last` leaves the final piece short enough to be the body
    of a message with buttons (1,024 characters).
    """
    chunks = pack_lines(text, limit, piece=min(limit, last))
    if len(chunks) > 1 and not chunks[-1].strip():
        chunks.pop()
    if len(chunks[-1]) > last:  # the tail alone becomes the last message
        head, tail = _tail(chunks.pop(), last)
        chunks.extend([head, tail] if head.strip() else [tail])
    return [c for c in chunks if c.strip()] or [""]


def _tail(chunk: str, last: int) -> tuple[str, str]:
    """Split `chunk` so that its last lines, at most `last` characters, stand alone."""
    lines = chunk.split("\n")
    tail: list[str] = []
    while lines and len("\n".join([lines[-1], *tail])) <= last:
        tail.insert(0, lines.pop())
    if not tail:  # one long last line (cut at `last` already by split_text)
        tail = [lines.pop()]
    return "\n".join(lines), "\n".join(tail)


@dataclass(frozen=True, slots=True)
class Offer:
    """How a reply's choices go out: reply buttons, a list message, or numbered lines."""

    kind: str  # "buttons", "list" or "numbers"
    interactive: dict[str, object] | None  # the `action` object of an interactive message
    numbered: str = ""  # the lines to add to the text, when kind is "numbers"


def _short(label: str, limit: int) -> str:
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def offer(choices: tuple[Choice, ...], lang: str) -> Offer:
    """Up to 3 short choices as reply buttons, up to 10 as a list, more as numbered lines."""
    usable = [c for c in choices if 0 < len(c.action) <= MAX_ID]
    if len(usable) <= MAX_BUTTONS and all(len(c.label) <= MAX_BUTTON_TITLE for c in usable):
        buttons = [
            {"type": "reply", "reply": {"id": c.action, "title": c.label.strip() or "…"}}
            for c in usable
        ]
        return Offer("buttons", {"buttons": buttons})
    if len(usable) <= MAX_ROWS:
        rows: list[dict[str, str]] = []
        for c in usable:
            row = {"id": c.action, "title": _short(c.label, MAX_ROW_TITLE) or "…"}
            if len(c.label) > MAX_ROW_TITLE:
                row["description"] = _short(c.label, MAX_ROW_DESCRIPTION)
            rows.append(row)
        button = CHOOSE.get(lang, CHOOSE["en"])
        return Offer("list", {"button": button, "sections": [{"rows": rows}]})
    lines = "\n".join(f"{i}. {inert(c.label)}" for i, c in enumerate(usable, 1))
    return Offer("numbers", None, lines)
