"""What a platform package gives the web app: its routes, its start/stop, its inbox answerer.

Each package under bot/adapters/ returns a `Platform` when its settings turn it on; bot/web.py
mounts the routes and runs start/stop in its lifespan without knowing which platform it is.
Its `probe` (a `Probe`) is the credentials check /readyz and `clusterbot doctor` run.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.routing import BaseRoute

if TYPE_CHECKING:
    # The names a platform package's surface speaks of: its __init__ imports them from here.
    from sqlalchemy.engine import Engine as Engine

    from bot.app import Bot as Bot
    from bot.inbox import Event
    from bot.outbox import Sender as Sender
    from bot.render import Renderer as Renderer
    from bot.settings import Settings as Settings

# What a platform calls when it cannot go on (its token revoked): the app stops serving.
OnFatal = Callable[[str], None]


class Intake(Protocol):
    """An adapter that stores events in the inbox and answers them when the worker asks."""

    wake: Callable[[], None] | None  # tells the inbox worker to look now

    async def answer(self, event: "Event") -> None:
        """Answer one stored event of this platform (the inbox worker calls it)."""
        ...


# One cheap authenticated call: (ok, what the platform said), never a URL or a token.
Probe = Callable[[], Awaitable[tuple[bool, str]]]


class Answer(Protocol):
    """What a probe's HTTP call answers (an httpx.Response; the library stays in bot.adapters)."""

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        ...

    @property
    def content(self) -> bytes:
        """The body's bytes."""
        ...

    def json(self) -> Any:
        """The body as JSON."""
        ...


def failure(exc: Exception) -> str:
    """A probe's failed call in a few words: the kind of failure, never its text (URLs, tokens)."""
    kind = type(exc).__name__
    if "Timeout" in kind:  # httpx.ReadTimeout, ConnectTimeout, ...; asyncio's TimeoutError
        return "no answer in time"
    if kind == "ConnectError":
        return "cannot connect"
    return kind


async def read_answer(call: Callable[[], Awaitable[Answer]]) -> tuple[int, dict[str, Any]] | str:
    """A probe's call made: (HTTP status, its JSON object), or what went wrong in a few words."""
    try:
        response = await call()
        body = response.json() if response.content else {}
    except Exception as exc:
        return failure(exc)
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    return response.status_code, body


def json_object(body: bytes) -> dict[str, Any] | None:
    """A request body as a JSON object, or None when it is not one (hostile bytes included)."""
    try:
        data = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8
        return None
    return data if isinstance(data, dict) else None


@dataclass
class Platform:
    """One chat platform served by the app: its routes, and what to run at start and stop."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]
    routes: list[BaseRoute] = field(default_factory=list)
    intake: Intake | None = None  # its events go through the inbox


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed `limit` bytes.

    Content-Length is checked first, then the bytes are counted as they arrive, so an
    over-long body (declared or not) is never held whole in memory.
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
