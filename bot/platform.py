"""What a platform package gives the web app: its routes, its start/stop, its inbox answerer.

Each package under bot/adapters/ returns a `Platform` when its settings turn it on; bot/web.py
mounts the routes and runs start/stop in its lifespan without knowing which platform it is.
Each also gives a `Probe` of its credentials (bot.health: /readyz and `clusterbot doctor`).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from starlette.requests import Request
from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from bot.inbox import Event

# One cheap authenticated call to a platform: (accepted, what it said). It answers, never
# raises, and its answer names no URL or token.
Probe = Callable[[], Awaitable[tuple[bool, str]]]
TIMEOUT = 10.0  # seconds a probe waits for the platform


def unreachable(exc: BaseException) -> str:
    """What a probe's failed call says: its kind only (a platform's URL may carry a token)."""
    kinds = {c.__name__ for c in type(exc).__mro__}  # the HTTP library's, without importing it
    if "TimeoutException" in kinds or isinstance(exc, TimeoutError):
        return "no answer in time"
    if "ConnectError" in kinds:
        return "cannot connect"
    return type(exc).__name__


class Intake(Protocol):
    """An adapter that stores events in the inbox and answers them when the worker asks."""

    wake: Callable[[], None] | None  # tells the inbox worker to look now

    async def answer(self, event: "Event") -> None:
        """Answer one stored event of this platform (the inbox worker calls it)."""
        ...


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
