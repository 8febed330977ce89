"""Replies as Telegram HTML: valid messages of at most 4,096 characters, keyboards, the menu."""

import logging
import re
from collections.abc import Sequence

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import Choice
from bot.render import translate

log = logging.getLogger("clusterbot.telegram")

MAX_MESSAGE = 4096  # Telegram's limit for one message's text
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for a button's data
MAX_DESCRIPTION = 256  # Telegram's limit for a command's description


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<(/?)([a-zA-Z]+)[^>]*>")
_ATOM = re.compile(r"<[^>]*>|&#?\w+;|[^<&]")


def _track(stack: list[tuple[str, str]], text: str) -> None:
    """Update the open-tag stack with the tags in `text`."""
    for m in _TAG.finditer(text):
        closing, name = m.group(1), m.group(2).lower()
        if not closing:
            stack.append((name, m.group(0)))
        elif stack and stack[-1][0] == name:
            stack.pop()


def _closers(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _openers(stack: list[tuple[str, str]]) -> str:
    return "".join(tag for _, tag in stack)


def _split_line(line: str, room: int) -> list[str]:
    """Cut one over-long line into pieces of at most `room`, never inside a tag or an entity."""
    pieces: list[str] = []
    current = ""
    space_at = -1  # where the last plain space in `current` ends, to cut between words
    for atom in _ATOM.findall(line):
        if current and utf16_len(current + atom) > room:
            if 0 < space_at < len(current):
                pieces.append(current[:space_at])
                current = current[space_at:]
            else:
                pieces.append(current)
                current = ""
            space_at = -1
        current += atom
        if atom == " ":
            space_at = len(current)
    if current:
        pieces.append(current)
    return pieces


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages of at most `limit`, each valid on its own.

    Cuts between lines; a line too long by itself is cut in its plain text, outside tags and
    entities. A tag still open at a cut is closed at the end of that chunk and opened again at
    the start of the next.
    """
    if utf16_len(text) <= limit:
        return [text]
    # Room for the tags we may have to close and reopen around a cut.
    margin = min(limit // 4, 200)
    segments: list[tuple[str, str]] = []  # (separator before it, text)
    for line in text.split("\n"):
        if utf16_len(line) + margin > limit:
            parts = _split_line(line, limit - margin)
            segments.append(("\n", parts[0]))
            segments.extend(("", part) for part in parts[1:])
        else:
            segments.append(("\n", line))
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []
    current = ""
    started = False
    for sep, segment in segments:
        after = list(stack)
        _track(after, segment)
        candidate = current + (sep if started else "") + segment
        if started and utf16_len(candidate + _closers(after)) > limit:
            chunks.append(current + _closers(stack))
            current = _openers(stack) + segment
        else:
            current = candidate
        started = True
        stack = after
    chunks.append(current + _closers(stack))
    return [c for c in chunks if c.strip()]


def keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    """Inline buttons for the choices, three to a row; a choice too big for Telegram is dropped."""
    buttons = []
    for c in choices:
        if len(c.action.encode()) > MAX_CALLBACK_DATA:
            log.error("button %r dropped: action id over 64 bytes", c.action)
            continue
        buttons.append(InlineKeyboardButton(c.label[:64], callback_data=c.action))
    if not buttons:
        return None
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def command_menu(menu: Sequence[tuple[str, str]], lang: str) -> list[BotCommand]:
    """The command menu in one language: each (command, text marked N_) of the router's menu."""
    return [BotCommand(name, translate(lang, text)[:MAX_DESCRIPTION]) for name, text in menu]
