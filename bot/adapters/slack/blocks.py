"""Replies as Block Kit: mrkdwn sections, buttons, and messages of at most 50 blocks."""

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.mrkdwn import split_text, to_mrkdwn
from bot.core import Choice, Reply
from bot.render import Renderer

log = logging.getLogger("clusterbot.slack")

Block = dict[str, Any]

COMMAND = "/cluster"
MAX_BLOCKS = 50  # blocks in one message
MAX_BUTTONS = 25  # elements in one actions block
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_FALLBACK = 3000  # the notification text we send beside the blocks


def buttons(choices: Collection[Choice], extra: Collection[Block] = ()) -> list[Block]:
    """Actions blocks (25 buttons each) whose action_id and value carry each Choice.action."""
    elements: list[Block] = []
    seen: set[str] = set()
    for c in choices:
        if len(c.action) > MAX_ACTION_ID or c.action in seen:
            log.error("slack: button %r dropped: action id too long or repeated", c.action)
            continue
        seen.add(c.action)
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": c.label[:MAX_BUTTON_TEXT] or "?"},
                "action_id": c.action,
                "value": c.action,
            }
        )
    elements.extend(extra)
    return [
        {"type": "actions", "elements": elements[i : i + MAX_BUTTONS]}
        for i in range(0, len(elements), MAX_BUTTONS)
    ]


@dataclass(frozen=True, slots=True)
class Message:
    """One Slack message: Block Kit blocks, and the plain `text` shown in notifications."""

    text: str
    blocks: list[Block]

    def payload(self) -> dict[str, Any]:
        """The fields chat.postMessage and response_url take alike."""
        return {"text": self.text, "blocks": self.blocks}


# A command the bot names ("/help", "type /lead health") at the start of a word.
_COMMAND = re.compile(r"(^|[\s(“\"'])/(?!cluster\b)([a-z][a-z_]{1,30})\b", re.M)


def slash_commands(text: str) -> str:
    """Our commands as Slack users type them ("/lead" -> "/cluster lead").

    Slack's composer takes any leading "/" as its own slash command: there, ours are subcommands.
    """
    return _COMMAND.sub(lambda m: f"{m.group(1)}{COMMAND} {m.group(2)}", text)


def reply_blocks(renderer: Renderer, reply: Reply) -> list[Block]:
    """One reply as sections of at most 3000 characters, then its buttons.

    `verbatim`: Slack links only what we wrote as a link, never a bare URL or #channel a user
    typed.
    """
    sections: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk, "verbatim": True}}
        for chunk in split_text(slash_commands(to_mrkdwn(renderer.html(reply))))
        if chunk.strip()
    ]
    return sections + (buttons(reply.choices) if reply.choices else [])


def _fallback(blocks: list[Block]) -> str:
    """The notification text for a message: its sections' text, shortened."""
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    return text if len(text) <= MAX_FALLBACK else text[: MAX_FALLBACK - 1] + "…"


def messages(
    renderer: Renderer, replies: list[Reply], extra: list[Block] | None = None
) -> list[Message]:
    """Replies as Slack messages of at most 50 blocks; `extra` blocks end the last one."""
    blocks = [b for r in replies for b in reply_blocks(renderer, r)] + (extra or [])
    out = []
    for i in range(0, len(blocks), MAX_BLOCKS):
        part = blocks[i : i + MAX_BLOCKS]
        out.append(Message(_fallback(part) or " ", part))
    return out
