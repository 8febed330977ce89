"""The ASGI app that `clusterbot serve` runs: health check and the chat platforms' endpoints.

Each configured platform contributes its routes and its start/stop, run by the app's lifespan;
Slack's `/slack/events` joins the same way beside Telegram's webhook.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import Bot
from bot.inbox import Answer, InboxWorker
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.adapters.slack import SlackAdapter
    from bot.adapters.telegram import TelegramAdapter
    from bot.outbox import Dispatcher

log = logging.getLogger("clusterbot.web")

TELEGRAM_WEBHOOK = "/telegram/webhook"
SLACK_EVENTS = "/slack/events"
SLACK_INSTALL = "/slack/install"
SLACK_OAUTH_REDIRECT = "/slack/oauth_redirect"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20  # a real update is a few kilobytes
MAX_SLACK_BYTES = 1 << 20  # a real event, command or button press is a few kilobytes
SLACK_MAX_AGE = 5 * 60  # seconds: Slack's own rule for a request timestamp
_SLACK_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass
class Platform:
    """One chat platform served by the app: its routes, and what to run at start and stop."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]
    routes: list[BaseRoute] = field(default_factory=list)


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


def slack_signed(secret: bytes, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether Slack signed this body within the last five minutes (its v0 HMAC-SHA256).

    Checked before Bolt sees the request: Bolt parses the body first (junk raised a traceback)
    and logs every unsigned body at INFO.
    """
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not _SLACK_TIMESTAMP.fullmatch(timestamp) or not _SLACK_SIGNATURE.fullmatch(signature):
        return False
    if abs(time.time() - int(timestamp)) > SLACK_MAX_AGE:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def slack_payload_readable(body: bytes) -> bool:
    """Whether Bolt can read the body: UTF-8, and JSON or a form (with a JSON `payload`)."""
    try:
        text = body.decode("utf-8")
        if text.startswith("{"):
            return isinstance(json.loads(text), dict)
        form = dict(parse_qsl(text, keep_blank_values=True))
        return "payload" not in form or isinstance(json.loads(form["payload"]), dict)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False


async def healthz(request: Request) -> Response:
    """Liveness: the process serves HTTP."""
    return PlainTextResponse("ok")


def telegram_platform(
    bot: Bot, settings: Settings, on_fatal: Callable[[str], None] | None = None
) -> tuple[Platform, "TelegramAdapter"]:
    """The Telegram adapter for `settings`, with its webhook route in webhook mode."""
    from bot.adapters.telegram import TelegramAdapter

    assert settings.telegram_bot_token
    adapter = TelegramAdapter(
        bot.handle,
        bot.renderer,
        settings.telegram_bot_token,
        api_url=settings.telegram_api_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        on_fatal=on_fatal,
        on_moved=bot.retarget,
        on_gone=bot.deactivate,
        engine=bot.engine,
    )
    secret = (settings.telegram_webhook_secret or "").encode()
    engine = bot.engine

    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            log.warning("telegram webhook: missing or wrong secret token; update ignored")
            return PlainTextResponse("forbidden", status_code=403)
        body = await read_limited(request, MAX_UPDATE_BYTES)
        if body is None:
            log.warning("telegram webhook: body over %d bytes refused", MAX_UPDATE_BYTES)
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("telegram webhook: body is not an update (%d bytes); skipped", len(body))
            return PlainTextResponse("bad update", status_code=400)
        if not isinstance(data.get("update_id"), int):
            log.warning("telegram webhook: update without an update_id; skipped")
            return PlainTextResponse("bad update", status_code=400)
        assert engine is not None
        try:
            # Stored before the 200: an update Telegram resends (its 200 lost) is stored once.
            await adapter.store([data])
        except Exception as exc:
            log.error(
                "telegram webhook: update %s not stored (%s); refused so that Telegram resends",
                data["update_id"],
                type(exc).__name__,
            )
            return PlainTextResponse("unavailable", status_code=503)
        return PlainTextResponse("ok")

    routes: list[BaseRoute] = []
    if settings.telegram_webhook_url:
        routes.append(Route(TELEGRAM_WEBHOOK, webhook, methods=["POST"]))
    return Platform("telegram", adapter.start, adapter.stop, routes), adapter


def slack_platform(bot: Bot, settings: Settings) -> tuple[Platform, "SlackAdapter"]:
    """The Slack adapter for `settings`: events, commands and buttons, and OAuth when set up."""
    from slack_bolt.adapter.starlette.async_handler import (
        AsyncSlackRequestHandler,
        to_async_bolt_request,
        to_starlette_response,
    )

    from bot.adapters.slack import SlackAdapter

    assert settings.slack_signing_secret and bot.engine is not None
    adapter = SlackAdapter(
        bot.handle,
        bot.renderer,
        bot.engine,
        signing_secret=settings.slack_signing_secret,
        token=settings.slack_bot_token,
        api_url=settings.slack_api_url,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        app_token=settings.slack_app_token,
        commands=bot.router.commands.keys(),
    )
    handler = AsyncSlackRequestHandler(adapter.app)
    secret = settings.slack_signing_secret.encode()

    async def events(request: Request) -> Response:
        """Refuse what Slack did not send, cheaply and in one log line; Bolt gets the rest."""
        body = await read_limited(request, MAX_SLACK_BYTES)
        if body is None:
            log.warning("slack events: body over %d bytes refused", MAX_SLACK_BYTES)
            return PlainTextResponse("too large", status_code=413)
        if not slack_signed(secret, request.headers, body):
            log.warning("slack events: unsigned, forged or stale request refused (401)")
            return PlainTextResponse("invalid request", status_code=401)
        if not slack_payload_readable(body):
            log.warning("slack events: signed but unreadable body refused (%d bytes)", len(body))
            return PlainTextResponse("bad request", status_code=400)
        bolt_response = await adapter.app.async_dispatch(to_async_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def oauth(request: Request) -> Response:
        return await handler.handle(request)

    routes: list[BaseRoute] = [Route(SLACK_EVENTS, events, methods=["POST"])]
    if settings.slack_client_id:
        routes.append(Route(SLACK_INSTALL, oauth, methods=["GET"]))
        routes.append(Route(SLACK_OAUTH_REDIRECT, oauth, methods=["GET"]))
    return Platform("slack", adapter.start, adapter.stop, routes), adapter


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
    platforms: list[Platform] = []
    answerers: dict[str, Answer] = {}
    adapters: list[Any] = []  # each gets the inbox worker's wake
    if settings.telegram_bot_token:
        telegram, telegram_adapter = telegram_platform(the_bot, settings, on_fatal)
        platforms.append(telegram)
        answerers["telegram"] = telegram_adapter.answer
        adapters.append(telegram_adapter)
    if settings.slack_configured:
        slack, slack_adapter = slack_platform(the_bot, settings)
        platforms.append(slack)
        answerers["slack"] = slack_adapter.answer
        adapters.append(slack_adapter)
    if settings.whatsapp.configured:  # WhatsApp (issue 14)
        from bot.adapters.whatsapp.adapter import WhatsAppAdapter

        assert the_bot.engine is not None
        wa = WhatsAppAdapter(the_bot.handle, the_bot.renderer, the_bot.engine, settings.whatsapp)
        platforms.append(Platform("whatsapp", wa.start, wa.stop, wa.routes))
        answerers["whatsapp"] = wa.answer
        adapters.append(wa)
    if answerers:
        # Started after the adapters (their clients exist), stopped before them.
        assert the_bot.engine is not None
        participant, worker = inbox_participant(the_bot.engine, answerers)
        platforms.append(participant)
        for adapter in adapters:
            adapter.wake = worker.wake
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
    for platform in platforms:
        routes.extend(platform.routes)
    return Starlette(routes=routes, lifespan=lifespan)
