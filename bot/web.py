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
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import adapters, health
from bot.app import Bot
from bot.inbox import Answer, InboxWorker
from bot.platform import Platform
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.outbox import Dispatcher

log = logging.getLogger("clusterbot.web")


async def healthz(request: Request) -> Response:
    """Liveness: the process serves HTTP."""
    return PlainTextResponse("ok")


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
    engine: Engine, answerers: dict[str, Answer]
) -> tuple[Platform, InboxWorker]:
    """The inbox worker that answers stored events, as a participant of the app's lifespan."""
    worker = InboxWorker(engine, answerers)
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
    if intakes:
        # Started after the adapters (their clients exist), stopped before them.
        assert the_bot.engine is not None
        answerers: dict[str, Answer] = {
            p.name: p.intake.answer for p in platforms if p.intake is not None
        }
        participant, worker = inbox_participant(the_bot.engine, answerers)
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
    routes += health.routes(the_bot.engine, auth, settings.ready_dispatcher_seconds)
    for platform in platforms:
        routes.extend(platform.routes)
    return Starlette(routes=routes, lifespan=lifespan)
