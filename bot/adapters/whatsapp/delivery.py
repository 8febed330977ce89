"""One way to send to a WhatsApp number, for replies and notifications alike; failures named.

A failure is one of: retry later (the number's throughput, 130429, or the pace to one person,
131056) or undeliverable (131026 and the other permanent refusals); anything else is a
transient error. The adapter and the sender both read a refusal through `classify`.
"""

import asyncio
import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.whatsapp.api import PAIR_RATE, PERMANENT, THROUGHPUT, Graph, GraphError
from bot.adapters.whatsapp.text import MAX_BODY, MAX_TEXT, offer, split_text, to_whatsapp
from bot.core import Choice, Reply
from bot.outbox import RetryLater, Undeliverable
from bot.render import Renderer
from bot.word import docx_file

THROUGHPUT_WAIT = 2.0  # seconds before a send refused for the number's throughput goes again
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# One Graph call (Graph.send or Graph.upload), as the caller wants it made (retried or not).
Call = Callable[..., Awaitable[str]]


def classify(exc: GraphError, pair_wait: float) -> RetryLater | Undeliverable | None:
    """What a refusal means; None for anything else (a transient error, or ours).

    `pair_wait` is how long one person's pace holds (131056 comes back after it).
    """
    if exc.code == THROUGHPUT:
        return RetryLater(THROUGHPUT_WAIT)
    if exc.code == PAIR_RATE:
        return RetryLater(pair_wait)
    if exc.code in PERMANENT:
        return Undeliverable(f"{exc.code}: {exc.message or PERMANENT[exc.code]}")
    return None


async def _direct(fn: Callable[..., Awaitable[str]], *args: Any) -> str:
    return await fn(*args)


async def deliver(
    graph: Graph,
    renderer: Renderer,
    to: str,
    reply: Reply,
    *,
    call: Call = _direct,
    gap: float = 0.0,
    numbered: Callable[[tuple[Choice, ...]], None] | None = None,
) -> str:
    """Send one reply to `to` as WhatsApp text; the id (wamid) of its last message.

    Long text is split under 4,096 characters, its parts `gap` seconds apart. Choices go as
    reply buttons, a list, or numbered lines whose actions `numbered` keeps (a notification
    passes none: it goes as text alone). A file goes as a document. `call(fn, *args)` makes
    each Graph call (the adapter's retries passing faults; the sender's does not).
    """
    text = to_whatsapp(renderer.html(reply))
    choices = offer(reply.choices, reply.lang) if reply.choices and numbered else None
    if choices is not None and choices.kind == "numbers" and numbered is not None:
        text = f"{text}\n\n{choices.numbered}"
        numbered(reply.choices)
    interactive = choices is not None and choices.interactive is not None
    chunks = split_text(text, last=MAX_BODY if interactive else MAX_TEXT)
    wamid = ""
    for i, chunk in enumerate(chunks):
        if i and gap:  # a long message's parts keep the person's pace too
            await asyncio.sleep(gap)
        if interactive and i == len(chunks) - 1 and choices is not None:
            content: dict[str, Any] = {
                "type": "button" if choices.kind == "buttons" else "list",
                "body": {"text": chunk},
                "action": choices.interactive,
            }
            wamid = await call(graph.send, to, "interactive", content)
        else:
            content = {"body": chunk, "preview_url": False}  # text
            wamid = await call(graph.send, to, "text", content)
    if reply.file_name:
        wamid = await _document(graph, renderer, to, reply, call)
    return wamid


async def _document(graph: Graph, renderer: Renderer, to: str, reply: Reply, call: Call) -> str:
    """The draft letter's Word version, uploaded, then sent as a document."""
    # Building a .docx takes ~0.2 s: off the event loop.
    name, content = await asyncio.to_thread(
        docx_file, renderer.document(reply), reply.file_name, reply.lang
    )
    mime = mimetypes.guess_type(name)[0] or DOCX
    media = await call(graph.upload, name, content, mime)
    return await call(graph.send, to, "document", {"id": media, "filename": name})
