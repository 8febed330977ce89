"""Outgoing webhooks: notifications as signed JSON POSTs, for partners on other tools.

The body is JSON; the `X-Clusterbot-Signature` header is `sha256=` and the hex HMAC-SHA256 of
the exact body bytes under CLUSTERBOT_WEBHOOK_SECRET. Receivers recompute it and compare in
constant time; `sent_at` in the body lets them refuse old replays.
"""

import hashlib
import hmac
import json
import logging
from email.utils import parsedate_to_datetime

import httpx

from bot.adapters.webhook.address import ADDRESS
from bot.core import Reply
from bot.models import utcnow
from bot.outbox import Pace, Reaching, RetryLater, Undeliverable, clamp_seconds, current_key
from bot.render import Renderer

log = logging.getLogger("clusterbot.webhook")

SIGNATURE_HEADER = "X-Clusterbot-Signature"
DEFAULT_RETRY = 30.0  # seconds, when a 429 names no usable Retry-After


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), at most an hour."""
    if not value:
        return DEFAULT_RETRY
    try:
        return clamp_seconds(float(value), DEFAULT_RETRY)
    except ValueError:
        pass
    try:
        wait = (parsedate_to_datetime(value) - utcnow()).total_seconds()
    except (TypeError, ValueError, OverflowError):  # naive, unreadable or absurd dates
        return DEFAULT_RETRY
    return clamp_seconds(wait, DEFAULT_RETRY)


class WebhookSender(Reaching, address=ADDRESS):
    """POSTs each notification to its `webhook:URL` target, signed."""

    def __init__(
        self,
        renderer: Renderer,
        secret: str,
        per_second: float = 20.0,
        min_interval: float = 0.1,
        timeout: float = 5.0,  # CLUSTERBOT_WEBHOOK_TIMEOUT_SECONDS
    ) -> None:
        if not secret:
            raise ValueError("webhooks need CLUSTERBOT_WEBHOOK_SECRET to sign their bodies")
        self.renderer = renderer
        self.secret = secret
        self.per_second = per_second
        self.min_interval = min_interval
        self.timeout = timeout
        self.client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Open the HTTP client."""
        self.client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)

    async def stop(self) -> None:
        """Close the HTTP client."""
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def pace(self, target: str) -> Pace:
        """A modest pace: partners' endpoints are not built for floods."""
        return Pace(self.per_second, self.min_interval)

    def payload(self, reply: Reply) -> bytes:
        """The JSON body: the rendered text and what it was made from."""
        body = {
            "key": current_key.get(),
            "template": reply.template,
            "lang": reply.lang,
            "data": dict(reply.data),
            "text": self.renderer.plain(reply),
            "sent_at": utcnow().isoformat(),
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    async def send(self, target: str, reply: Reply) -> None:
        """POST the notification; 429 waits, 404/410 end the subscription, others retry."""
        url = target.partition(":")[2]
        if not url.startswith(("https://", "http://")):
            raise Undeliverable(f"not an http(s) URL: {url[:100]!r}")
        if self.client is None:
            await self.start()
        assert self.client is not None
        body = self.payload(reply)
        response = await self.client.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.secret, body),
            },
        )
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429:
            raise RetryLater(retry_after(response.headers.get("Retry-After")))
        if status in (404, 410):
            raise Undeliverable(f"webhook answered {status}: the endpoint is gone")
        raise RuntimeError(f"webhook answered {status}")
