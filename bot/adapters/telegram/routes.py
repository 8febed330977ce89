"""Telegram's HTTP side: `/telegram/webhook`, each update stored in the inbox before the 200."""

import hmac
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.platform import Platform, json_object, read_limited

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.settings import Settings

# The refusals are the web app's log lines (one each, without the body), as they always were.
log = logging.getLogger("clusterbot.web")

TELEGRAM_WEBHOOK = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20  # a real update is a few kilobytes


def telegram_platform(
    bot: "Bot", settings: "Settings", on_fatal: Callable[[str], None] | None = None
) -> Platform:
    """The Telegram adapter for `settings`, with its webhook route in webhook mode."""
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
        menu=bot.router.menu(),
        chat_settings=bot.router.chat_settings(),
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
        data = json_object(body)
        if data is None:
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
    return Platform("telegram", adapter.start, adapter.stop, routes, intake=adapter)
