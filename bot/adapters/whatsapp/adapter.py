"""The WhatsApp adapter: the webhook in (verified, stored in the inbox), replies out as WhatsApp.

`GET /whatsapp/webhook` answers Meta's handshake for our verify token only. `POST` bodies must
carry `X-Hub-Signature-256`, the HMAC-SHA256 of the exact body under the app secret; anything
else is refused before it is read as JSON. Messages and statuses are written to the inbox
(bot/inbox.py) before the 200, keyed by WhatsApp's ids, so an event Meta sends again is stored,
and answered, once. The inbox worker calls `answer`.
"""

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import inbox
from bot.adapters.whatsapp import store
from bot.adapters.whatsapp.address import ADDRESS
from bot.adapters.whatsapp.api import Graph, GraphError
from bot.adapters.whatsapp.delivery import classify, deliver
from bot.adapters.whatsapp.settings import WhatsAppSettings
from bot.core import Choice, Incoming, Reply
from bot.models import utcnow
from bot.outbox import RetryLater
from bot.platform import Platform, json_object, read_limited
from bot.render import Renderer

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger("clusterbot.whatsapp")

Handle = Callable[[Incoming], Awaitable[list[Reply]]]

PLATFORM = ADDRESS.platform  # our name for WhatsApp in the inbox table and in identities
WEBHOOK = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY_BYTES = 1 << 20  # a real webhook is a few kilobytes
MAX_INCOMING = 4096  # WhatsApp's own limit for a text message
# A reply refused for pacing (131056, 130429) waits and goes again, this many times.
REPLY_RETRIES = (1.0, 2.0, 4.0, 8.0)
NUMBERED_FOR = 3600.0  # seconds a numbered choice ("3") stays pressable


def signed(secret: bytes, header: str, body: bytes) -> bool:
    """Whether `header` is Meta's `sha256=<hex>` HMAC of `body` under the app secret."""
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or len(given) != 64:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.lower())


def _when(value: object) -> datetime:
    """A webhook timestamp (seconds, as a string) as an aware datetime; now when unreadable."""
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (ValueError, OverflowError, OSError):
        return utcnow()


def events_of(
    body: Mapping[str, Any], phone_number_id: str
) -> tuple[list[tuple[str, str, str, Mapping[str, Any]]], dict[str, datetime]]:
    """The inbox events in one webhook body, and when each person last wrote in it.

    Changes for another of the business's numbers are not ours and are skipped.
    """
    events: list[tuple[str, str, str, Mapping[str, Any]]] = []
    seen: dict[str, datetime] = {}
    for entry in body.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            ours = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if ours != phone_number_id:
                log.info("whatsapp: change for number %s is not ours; skipped", ours[:40])
                continue
            names = {
                str(c.get("wa_id")): (c.get("profile") or {}).get("name")
                for c in value.get("contacts") or []
                if isinstance(c, dict)
            }
            for message in value.get("messages") or []:
                sender, wamid = str(message.get("from") or ""), str(message.get("id") or "")
                if not sender.isdigit() or not wamid:
                    continue
                identity = f"{PLATFORM}:{sender}"
                at = _when(message.get("timestamp"))
                seen[identity] = max(at, seen.get(identity, at))
                payload = {"message": message, "name": names.get(sender)}
                events.append((wamid, identity, "message", payload))
            for status in value.get("statuses") or []:
                wamid, state = str(status.get("id") or ""), str(status.get("status") or "")
                if wamid and state:
                    # One lane per message: its statuses apply in order, never holding a chat.
                    events.append(
                        (f"status:{wamid}:{state}", f"{PLATFORM}:status:{wamid}", "status", status)
                    )
    return events, seen


def incoming_of(message: Mapping[str, Any], numbered: Mapping[str, str]) -> Incoming | None:
    """A stored message as an Incoming (text, a button or list row pressed); None to skip.

    `numbered` maps the numbers of the last numbered choices shown in this chat to actions.
    """
    sender = str(message["from"])
    identity = f"{PLATFORM}:{sender}"
    kind = message.get("type")
    if kind == "text":
        text = str((message.get("text") or {}).get("body") or "")
        if len(text) > MAX_INCOMING:
            log.warning("whatsapp: message %s skipped: over 4,096 characters", message.get("id"))
            return None
        picked = numbered.get(text.strip())
        if picked:
            return Incoming(identity, identity, action=picked)
        return Incoming(identity, identity, text)
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        pressed = interactive.get("button_reply") or interactive.get("list_reply") or {}
        action = str(pressed.get("id") or "")
        return Incoming(identity, identity, action=action) if action else None
    if kind == "button":  # a template's quick-reply button
        text = str((message.get("button") or {}).get("text") or "")
        return Incoming(identity, identity, text) if text else None
    log.info("whatsapp: %s message %s skipped", kind, message.get("id"))
    return None


class WhatsAppAdapter:
    """One WhatsApp number: the webhook routes, the inbox's answerer, the replies."""

    def __init__(
        self, handle: Handle, renderer: Renderer, engine: Engine, settings: WhatsAppSettings
    ) -> None:
        assert settings.configured and settings.token and settings.phone_number_id
        self.handle = handle
        self.renderer = renderer
        self.engine = engine
        self.settings = settings
        self.graph = Graph(settings.token, settings.phone_number_id, settings.api_url)
        self.wake: Callable[[], None] | None = None  # tells the inbox worker to look now
        self._secret = (settings.app_secret or "").encode()
        # The numbered choices last shown in each chat (more than a list message holds):
        # chat -> (until, {"1": action, ...}).
        self._numbered: dict[str, tuple[float, dict[str, str]]] = {}
        self.routes: list[BaseRoute] = [
            Route(WEBHOOK, self.verify, methods=["GET"]),
            Route(WEBHOOK, self.receive, methods=["POST"]),
        ]

    async def start(self) -> None:
        """Open the HTTP client, on the serving loop."""
        await self.graph.start()

    async def stop(self) -> None:
        """Close the HTTP client (the inbox worker stopped before)."""
        await self.graph.stop()

    # ---- the webhook ----------------------------------------------------------------------

    async def verify(self, request: Request) -> Response:
        """Meta's handshake: echo `hub.challenge` when `hub.verify_token` is ours."""
        query = request.query_params
        given = query.get("hub.verify_token", "").encode()
        ours = (self.settings.verify_token or "").encode()
        if query.get("hub.mode") == "subscribe" and ours and hmac.compare_digest(given, ours):
            return PlainTextResponse(query.get("hub.challenge", ""))
        log.warning("whatsapp webhook: verification with a wrong token or mode refused")
        return PlainTextResponse("forbidden", status_code=403)

    async def receive(self, request: Request) -> Response:
        """A signed event: stored in the inbox before the 200; anything else refused."""
        body = await read_limited(request, MAX_BODY_BYTES)
        if body is None:
            log.warning("whatsapp webhook: body over %d bytes refused", MAX_BODY_BYTES)
            return PlainTextResponse("too large", status_code=413)
        if not signed(self._secret, request.headers.get(SIGNATURE_HEADER, ""), body):
            log.warning("whatsapp webhook: unsigned or forged request refused (401)")
            return PlainTextResponse("invalid signature", status_code=401)
        data = json_object(body)
        if data is None:
            log.warning("whatsapp webhook: signed but not JSON (%d bytes)", len(body))
            return PlainTextResponse("bad request", status_code=400)
        events, seen = events_of(data, self.settings.phone_number_id or "")
        try:
            new = await asyncio.to_thread(self._store, events, seen)
        except Exception as exc:
            log.error("whatsapp webhook: not stored (%s); refused so that Meta resends", exc)
            return PlainTextResponse("unavailable", status_code=503)
        if new and self.wake is not None:
            self.wake()
        return PlainTextResponse("ok")

    def _store(
        self, events: list[tuple[str, str, str, Mapping[str, Any]]], seen: dict[str, datetime]
    ) -> int:
        new = inbox.put_many(self.engine, PLATFORM, events) if events else 0
        store.saw(self.engine, seen)  # after the events: a failure here is resent, stored once
        return new

    # ---- answering ------------------------------------------------------------------------

    async def answer(self, event: inbox.Event) -> None:
        """Answer one stored event (called by the inbox worker)."""
        if event.kind == "status":
            outcome = await asyncio.to_thread(store.record_status, self.engine, event.payload)
            log.info("whatsapp: status %s: %s", event.event_id, outcome)
            return
        message = event.payload["message"]
        chat = f"{PLATFORM}:{message['from']}"
        held = self._numbered.get(chat)
        numbered = held[1] if held and held[0] > time.monotonic() else {}
        incoming = incoming_of(message, numbered)
        if incoming is None:
            return
        await self.send(str(message["from"]), await self.handle(incoming))

    async def send(self, to: str, replies: list[Reply]) -> None:
        """Send replies as WhatsApp text, with buttons or a list, and files as documents."""
        try:
            for reply in replies:
                await self._send_reply(to, reply)
        except GraphError as exc:
            log.error("whatsapp: reply to %s not delivered: %s", to, exc)

    async def _send_reply(self, to: str, reply: Reply) -> None:
        chat = f"{PLATFORM}:{to}"
        await deliver(
            self.graph,
            self.renderer,
            to,
            reply,
            call=self._call,
            numbered=lambda choices: self._remember(chat, choices),
        )

    def _remember(self, chat: str, choices: tuple[Choice, ...]) -> None:
        if len(self._numbered) > 10_000:
            now = time.monotonic()
            self._numbered = {k: v for k, v in self._numbered.items() if v[0] > now}
        actions = {str(i): c.action for i, c in enumerate(choices, 1)}
        self._numbered[chat] = (time.monotonic() + NUMBERED_FOR, actions)

    async def _call(self, fn: Callable[..., Awaitable[str]], *args: Any) -> str:
        """One API call, sent again after a pacing refusal (131056, 130429) or a passing fault.

        The inbox marks the message answered once its replies are out: a time-out or a 5xx
        must not cost the reply. A time-out may hide a message that did arrive: resending
        risks a duplicate, never a loss.
        """
        for pause in REPLY_RETRIES:
            try:
                return await fn(*args)
            except GraphError as exc:
                paced = isinstance(classify(exc, pause), RetryLater)
                if not paced and exc.status < 500:
                    raise
                log.info("whatsapp: %s; again in %g s", exc, pause)
            except httpx.TransportError as exc:
                log.warning("whatsapp: %s; again in %g s", type(exc).__name__, pause)
            await asyncio.sleep(pause)
        return await fn(*args)


def whatsapp_platform(bot: "Bot", settings: WhatsAppSettings) -> Platform:
    """The WhatsApp adapter for `settings`: its webhook routes, start/stop, inbox answerer."""
    assert bot.engine is not None
    adapter = WhatsAppAdapter(bot.handle, bot.renderer, bot.engine, settings)
    return Platform(PLATFORM, adapter.start, adapter.stop, adapter.routes, intake=adapter)
