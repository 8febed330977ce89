"""The ASGI app that `clusterbot serve` runs: probes, metrics and the chat platforms' endpoints.

Each configured platform package (bot/adapters/) contributes its routes and its start/stop, run
by the app's lifespan; this module names no platform.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot import adapters, health, metrics
from bot.app import Bot
from bot.inbox import Answer, InboxWorker
from bot.platform import Platform
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.outbox import Dispatcher

log = logging.getLogger("clusterbot.web")

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})  # never counted, never refused
BUSY = PlainTextResponse("busy, send again later", status_code=503, headers={"Retry-After": "1"})


async def healthz(request: Request) -> Response:
    """Liveness: the process serves HTTP."""
    return PlainTextResponse("ok")


class InFlight:
    """The platform POSTs this process is handling now (the probes and /metrics aside).

    The inbox worker defers to them (`busy`), and beyond `limit` (0: none) a POST is refused at
    once with 503 and Retry-After, before its body is read: nothing is stored or acknowledged,
    so an event is sent again (a Slack slash command is not: the person sees an error), instead
    of every request of an overload waiting past the platform's deadline. GETs (OAuth, a
    webhook's check) are neither counted nor refused. `on_quiet` hears when the last is done.
    """

    def __init__(self, limit: int = 0) -> None:
        self.limit = limit
        self.count = 0
        self.on_quiet: Callable[[], None] = lambda: None
        self._refusing = False

    def busy(self) -> bool:
        """Whether a platform request is in flight."""
        return self.count > 0

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """`app` with its platform requests counted and, beyond the limit, refused."""

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in PROBES:
                await app(scope, receive, send)
                return
            if self.limit and self.count >= self.limit:
                metrics.REQUESTS_REFUSED.inc()
                if not self._refusing:  # one line per overload, not one per request
                    self._refusing = True
                    log.warning("over %d requests in flight: refusing with 503", self.limit)
                await BUSY(scope, receive, send)
                return
            self.count += 1
            try:
                await app(scope, receive, send)
            finally:
                self.count -= 1
                if not self.count:
                    self._refusing = False
                    self.on_quiet()

        return counted


def background(
    name: str, what: str, run: Callable[[], Coroutine[Any, Any, object]], halt: Callable[[], None]
) -> Platform:
    """A loop (`run`, ended by `halt`) that lives as long as the app, as a lifespan participant.

    A loop that dies is said at once, not at shutdown: until then its work stops unseen. Stopping
    waits for it, so what is in flight finishes and is recorded.
    """
    tasks: list[asyncio.Task[object]] = []

    def report(task: "asyncio.Task[object]") -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the %s stopped", what, exc_info=task.exception())

    async def start() -> None:
        task = asyncio.get_running_loop().create_task(run())
        task.add_done_callback(report)
        tasks.append(task)

    async def stop() -> None:
        halt()
        for task in tasks:
            try:
                await task
            except Exception:
                log.exception("the %s failed", what)

    return Platform(name, start, stop)


def inbox_participant(
    engine: Engine, answerers: dict[str, Answer], busy: Callable[[], bool] = lambda: False
) -> tuple[Platform, InboxWorker]:
    """The inbox worker that answers stored events, as a participant of the app's lifespan."""
    worker = InboxWorker(engine, answerers, busy=busy)
    return background("inbox", "inbox worker", worker.run_forever, worker.stop), worker


def dispatcher_participant(dispatcher: "Dispatcher") -> Platform:
    """The notification dispatcher as a background participant of the app's lifespan."""
    what = "notification dispatcher"
    return background("dispatcher", what, dispatcher.run_forever, dispatcher.stop)


def create_app(
    settings: Settings, bot: Bot | None = None, on_fatal: Callable[[str], None] | None = None
) -> Starlette:
    """The app serving every configured platform; `on_fatal` hears why one had to stop."""
    the_bot = bot if bot is not None else Bot(settings)
    platforms = adapters.platforms(the_bot, settings, on_fatal)
    # Each platform's credentials, asked once it has started (see /readyz); the platform
    # packages give the checks (each package's `probe`), none is named here.
    probes = adapters.probes(settings)
    auth = health.PlatformAuth(list(probes))
    if platforms:
        start, stop = health.auth_at_start(probes, auth)
        platforms.append(Platform("credentials check", start, stop))
    intakes = [p.intake for p in platforms if p.intake is not None]
    in_flight = InFlight(settings.max_requests_in_flight)
    if intakes:
        # Started after the adapters (their clients exist), stopped before them.
        assert the_bot.engine is not None
        answerers: dict[str, Answer] = {
            p.name: p.intake.answer for p in platforms if p.intake is not None
        }
        participant, worker = inbox_participant(the_bot.engine, answerers, in_flight.busy)
        in_flight.on_quiet = worker.wake  # the answers held back may go now
        platforms.append(participant)
        for intake in intakes:
            intake.wake = worker.wake
    if settings.dispatch_in_serve:
        platforms.append(dispatcher_participant(the_bot.dispatcher()))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for platform in platforms:
                stack.push_async_callback(platform.stop)  # also undoes a half-done start
                await platform.start()
                log.info("%s started", platform.name)
            yield

    routes: list[BaseRoute] = [Route("/healthz", healthz)]
    assert the_bot.engine is not None
    routes += health.routes(
        the_bot.engine, auth, settings.ready_dispatcher_seconds, settings.metrics_token
    )
    for platform in platforms:
        routes.extend(platform.routes)
    return Starlette(
        routes=routes, lifespan=lifespan, middleware=[Middleware(in_flight.middleware)]
    )
