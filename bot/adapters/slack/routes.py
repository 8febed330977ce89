"""Slack's HTTP side: `/slack/events` (with cheap refusals before Bolt) and the OAuth routes."""

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from slack_bolt.adapter.starlette.async_handler import (
    AsyncSlackRequestHandler,
    to_async_bolt_request,
    to_starlette_response,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.adapters.slack.adapter import SlackAdapter
from bot.platform import Platform, read_limited

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.settings import Settings

# The refusals are the web app's log lines (one each, without the body), as they always were.
log = logging.getLogger("clusterbot.web")

SLACK_EVENTS = "/slack/events"
SLACK_INSTALL = "/slack/install"
SLACK_OAUTH_REDIRECT = "/slack/oauth_redirect"
MAX_SLACK_BYTES = 1 << 20  # a real event, command or button press is a few kilobytes
SLACK_MAX_AGE = 5 * 60  # seconds: Slack's own rule for a request timestamp
_SLACK_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


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


def slack_platform(bot: "Bot", settings: "Settings") -> Platform:
    """The Slack adapter for `settings`: events, commands and buttons, and OAuth when set up."""
    assert settings.slack_signing_secret and bot.engine is not None
    adapter = SlackAdapter(
        bot.handle,
        bot.renderer,
        bot.engine,
        # What the router says of its commands, then what the settings say of Slack.
        commands=bot.router.commands.keys(),
        shareable=bot.router.shareable(),
        signing_secret=settings.slack_signing_secret,
        token=settings.slack_bot_token,
        api_url=settings.slack_api_url,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        app_token=settings.slack_app_token,
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
    return Platform("slack", adapter.start, adapter.stop, routes, intake=adapter)
