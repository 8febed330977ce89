"""The terminal chat: one message a line in, plain-text replies out (interactive or piped)."""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from bot.core import Choice, Incoming, Reply

PROMPT = "> "


def render_choices(choices: tuple[Choice, ...]) -> str:
    """Buttons become numbered lines; typing the number presses the button."""
    return "\n".join(f"  [{i}] {c.label}" for i, c in enumerate(choices, 1))


def _show(render: Callable[[Reply], str], reply: Reply, files: Path) -> str:
    """The reply's text; a reply that is also a file (a draft letter) is saved, with its path."""
    text = render(reply)
    if reply.file_name:
        files.mkdir(parents=True, exist_ok=True)
        path = files / Path(reply.file_name).name
        path.write_text(text + "\n", encoding="utf-8")
        text += f"\n\n[saved as {path.resolve()}]"
    return text


def chat(
    handle: Callable[[Incoming], list[Reply]],
    render: Callable[[Reply], str],
    user: str,
    lines: Iterable[str],
    out: TextIO,
    interactive: bool,
    files: Path,
) -> int:
    """Answer every line until end of input or `/quit`; returns how many lines were answered."""
    identity = f"console:{user}"
    choices: tuple[Choice, ...] = ()
    answered = 0
    if interactive:
        out.write("clusterbot: ask about clusters and their leads (/help, /quit).\n" + PROMPT)
        out.flush()
    for raw in lines:
        line = raw.rstrip("\r\n")
        if line.strip() in {"/quit", "/exit"}:
            break
        action = None
        picked = line.strip()
        if choices and picked.isdigit() and 1 <= int(picked) <= len(choices):
            action = choices[int(picked) - 1].action
        replies = handle(Incoming(identity, identity, text="" if action else line, action=action))
        choices = replies[-1].choices
        text = "\n\n".join(_show(render, r, files) for r in replies)
        if choices:
            text += "\n" + render_choices(choices)
        out.write(text + "\n" + (PROMPT if interactive else "\n"))
        out.flush()
        answered += 1
    return answered
