"""The WhatsApp Cloud API calls we make, over httpx: send a message, upload a file.

httpx rather than pywa 4.5: pywa's GraphAPI writes its base URL itself
(`https://graph.facebook.com/v{version}`, pywa/api.py), so WHATSAPP_API_URL could reach a proxy
or the tests' stand-in only through a private attribute; and our webhook route stores raw
events in the inbox before answering, which pywa's handler dispatch does not do.
"""

from dataclasses import dataclass
from typing import Any

import httpx

# Error codes the Cloud API answers with (error.code), and what they mean for us.
THROUGHPUT = 130429  # the number sends faster than its throughput: wait, send again
PAIR_RATE = 131056  # too many messages to one person in a short time: wait, send again
OUTSIDE_WINDOW = 131047  # more than 24 hours since the person wrote: a template only
# The person cannot get our message, whatever we send: undeliverable, as on other platforms.
PERMANENT = {
    131026: "message undeliverable (not a WhatsApp number, or an old app, or terms not accepted)",
    131030: "recipient not in the allowed list (a test number)",
    131021: "recipient is our own number",
    131045: "the number is not registered to send",
    131050: "the person stopped marketing messages from us",
}


class GraphError(Exception):
    """The Cloud API refused a call: its HTTP status, error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else f"HTTP {status}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Graph:
    """One sending number's client: `{api_url}/{phone_number_id}/messages` and `/media`."""

    token: str
    phone_number_id: str
    api_url: str
    timeout: float = 10.0
    client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """One kept-alive HTTP client, made on the serving loop."""
        if self.client is None:
            self.client = httpx.AsyncClient(
                base_url=f"{self.api_url.rstrip('/')}/{self.phone_number_id}",
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )

    async def stop(self) -> None:
        """Close the HTTP client."""
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def _call(self, path: str, **kwargs: Any) -> dict[str, Any]:
        if self.client is None:
            await self.start()
        assert self.client is not None
        response = await self.client.post(path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            code = error.get("code")
            details = (error.get("error_data") or {}).get("details") or ""
            message = str(error.get("message") or response.reason_phrase)
            raise GraphError(
                response.status_code,
                code if isinstance(code, int) else 0,
                f"{message} {details}".strip()[:400],
            )
        return body

    async def send(self, to: str, kind: str, content: dict[str, Any]) -> str:
        """Send one message of `kind` (text, interactive, document, template); its wamid."""
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": kind,
            kind: content,
        }
        body = await self._call("/messages", json=payload)
        messages = body.get("messages") or [{}]
        return str(messages[0].get("id") or "")

    async def upload(self, name: str, content: bytes, mime: str) -> str:
        """Upload a file for a later document message; its media id."""
        body = await self._call(
            "/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (name, content, mime)},
        )
        return str(body.get("id") or "")
