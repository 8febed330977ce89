"""The terminal chat: one message a line in, plain-text replies out (interactive or piped)."""

from collections.abc import Callable, Iterable
from typing import TextIO

from bot.core import Choice, Incoming, Reply

PROMPT = "> "


def render_choices(choices: tuple[Choice, ...]) -> str:
    """Buttons become numbered lines; typing the number presses the button."""
    return "\n".join(f"  [{i}] {c.label}" for i, c in enumerate(choices, 1))


def chat(
    handle: Callable[[Incoming], Reply],
    render: Callable[[Reply], str],
    user: str,
    lines: Iterable[str],
    out: TextIO,
    interactive: bool,
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
        reply = handle(Incoming(identity, identity, text="" if action else line, action=action))
        choices = reply.choices
        text = render(reply)
        if choices:
            text += "\n" + render_choices(choices)
        out.write(text + "\n" + (PROMPT if interactive else "\n"))
        out.flush()
        answered += 1
    return answered
