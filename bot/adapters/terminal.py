"""The terminal chat: one message a line in, plain-text replies out (interactive or piped).

`--json` writes one JSON object a line instead, so dialogues can be scripted and tested
exactly as the terminal sees them.
"""

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.core import Address, Choice, Incoming, Reply
from bot.word import documents

if TYPE_CHECKING:
    from bot.render import Renderer

PROMPT = "> "
# A terminal user is someone to grant a role to, never someone to notify later.
ADDRESS = Address(
    platform="console",
    person=r"[^\s:]+",
    person_form="console:NAME (the terminal chat's --user, e.g. console:alice)",
)


def typed_lines(history: Path | None = None) -> Iterator[str]:
    """Lines typed at a terminal, with line editing and history (arrow keys, Ctrl-R).

    `input()` goes through readline once it is imported; reading sys.stdin directly would not,
    and the arrow keys would type escape codes. The prompt is input()'s, so readline can redraw
    it. History is kept in `history` between sessions when given.
    """
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        readline = None  # type: ignore[assignment]
    if readline is not None and history is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
        readline.set_history_length(1000)
    try:
        while True:
            try:
                yield input(PROMPT)
            except EOFError:
                return
    finally:
        if readline is not None and history is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(history)


def render_choices(choices: tuple[Choice, ...], start: int = 1) -> str:
    """Buttons become numbered lines; typing the number presses the button."""
    return "\n".join(f"  [{i}] {c.label}" for i, c in enumerate(choices, start))


def _save(renderer: "Renderer", reply: Reply, files: Path) -> list[Path]:
    """A reply that is also a file (a draft letter) is saved under `files`: .md and .docx."""
    if not reply.file_name:
        return []
    files.mkdir(parents=True, exist_ok=True)
    saved = []
    text = renderer.document(reply)
    for name, content in documents(text, Path(reply.file_name).name, reply.lang).items():
        path = files / name
        path.write_bytes(content)
        saved.append(path.resolve())
    return saved


def chat(
    handle: Callable[[Incoming], list[Reply]],
    renderer: "Renderer",
    user: str,
    lines: Iterable[str],
    out: TextIO,
    interactive: bool,
    files: Path,
    as_json: bool = False,
) -> int:
    """Answer every line until end of input or `/quit`; returns how many lines were answered.

    Every reply's buttons are shown, numbered on from the reply before, so a summary's offer
    is still there when a letter follows it.
    """
    identity = f"console:{user}"
    choices: tuple[Choice, ...] = ()
    answered = 0
    if interactive and not as_json:
        # The prompt comes with each typed line (typed_lines), not from here.
        out.write("clusterbot: ask about clusters and their leads (/help, /quit).\n")
        out.flush()
    for raw in lines:
        line = raw.rstrip("\r\n")
        if line.strip() in {"/quit", "/exit"}:
            break
        action = None
        picked = line.strip()
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if choices and picked.isdecimal() and 1 <= int(picked) <= len(choices):
            action = choices[int(picked) - 1].action
        replies = handle(Incoming(identity, identity, text="" if action else line, action=action))
        if picked.isdecimal() and action is None and _not_understood(replies):
            # A number that is no button shown now (a refusal has none): say so, not "I don't
            # know". A number the bot does read (a checklist's answer) goes on as typed.
            data = {"number": picked[:6], "count": len(choices)}
            # The choices shown stay open: "4" of three, then "3", picks the third.
            replies = [Reply("help/no_choice.j2", data, replies[0].lang, "no_choice")]
        else:  # an answer: its own buttons, if any, are the choices now
            choices = tuple(c for r in replies for c in r.choices)
        if as_json:
            out.write(json.dumps(_as_json(line, replies, renderer, files), ensure_ascii=False))
            out.write("\n")
        else:
            out.write(_as_text(replies, renderer, files) + "\n\n")
        out.flush()
        answered += 1
    return answered


def _not_understood(replies: list[Reply]) -> bool:
    return len(replies) == 1 and replies[0].template == "help/not_understood.j2"


def _as_text(replies: list[Reply], renderer: "Renderer", files: Path) -> str:
    parts = []
    number = 1
    for reply in replies:
        text = renderer.plain(reply)
        saved = _save(renderer, reply, files)
        if saved:
            text += "\n\n" + "\n".join(f"[{path}]" for path in saved)
        if reply.choices:
            text += "\n" + render_choices(reply.choices, number)
            number += len(reply.choices)
        parts.append(text)
    return "\n\n".join(parts)


def _as_json(line: str, replies: list[Reply], renderer: "Renderer", files: Path) -> dict[str, Any]:
    rows = []
    for reply in replies:
        saved = _save(renderer, reply, files)
        rows.append(
            {
                "text": renderer.plain(reply),
                "lang": reply.lang,
                "intent": reply.intent,
                "topic": reply.data.get("topic"),
                "choices": [{"label": c.label, "action": c.action} for c in reply.choices],
                **({"file": str(saved[0]), "files": [str(p) for p in saved]} if saved else {}),
            }
        )
    return {"message": line, "replies": rows}
