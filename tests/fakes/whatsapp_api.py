"""A local stand-in for the WhatsApp Cloud API: real HTTP on 127.0.0.1, recording every call.

The bot posts JSON to `/{version}/{phone_number_id}/messages` and multipart to `.../media`
with a bearer token. The stand-in checks what WhatsApp checks (text under 4,096 characters, an
interactive body under 1,024, at most 3 reply buttons of 20 characters, at most 10 list rows,
templates that were registered, media that was uploaded), and answers as WhatsApp does: a wamid,
or an `error` with a code. It keeps WhatsApp's rules when told to: the 24-hour window (131047),
one message every `pair_interval` seconds to one person (131056), `per_second` messages from
the number (130429), and refusals queued per number (e.g. 131026).

It also builds what Meta POSTs to the bot (messages, button presses, statuses) and signs it
with the app secret, as Meta does (X-Hub-Signature-256).
"""

import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import Recording, http_client, served

TOKEN = "EAAtest-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
VERSION = "v23.0"
TEMPLATE = "cluster_activation_endorsed"
WINDOW = 24 * 3600.0


@dataclass
class Call:
    """One request the bot made: `messages`, `media` or `number`, its parameters, when it arrived."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    wamid: str = ""
    error: int = 0  # the error code answered, 0 when accepted

    @property
    def to(self) -> str:
        return str(self.params.get("to", ""))

    @property
    def kind(self) -> str:
        return str(self.params.get("type", ""))

    @property
    def text(self) -> str:
        """What the person reads: a text's body, or an interactive message's body."""
        if self.kind == "text":
            return str(self.params["text"]["body"])
        if self.kind == "interactive":
            return str(self.params["interactive"]["body"]["text"])
        return ""

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(id, title) of the reply buttons or list rows."""
        if self.kind != "interactive":
            return []
        action = self.params["interactive"]["action"]
        if "buttons" in action:
            return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
        return [(r["id"], r["title"]) for s in action["sections"] for r in s["rows"]]


def multipart(ctype: str, body: bytes) -> dict[str, str | tuple[str, bytes]]:
    """A multipart/form-data body: fields as text, files as (file name, bytes)."""
    if not ctype.startswith("multipart/form-data"):
        return {}
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, str | tuple[str, bytes]] = {}
    for part in msg.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        fields[name] = (filename, content) if filename else content.decode()
    return fields


def error(code: int, message: str, status: int = 400) -> JSONResponse:
    body = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "Atest",
        }
    }
    return JSONResponse(body, status_code=status)


class FakeWhatsApp(Recording):
    """The stand-in server; start() serves it in a background thread, stop() ends it."""

    def __init__(
        self,
        *,
        pair_interval: float = 0.0,
        per_second: float = 0.0,
        enforce_window: bool = False,
        templates: dict[str, int] | None = None,
    ) -> None:
        self.pair_interval = pair_interval
        self.per_second = per_second
        self._recent: deque[float] = deque()  # accepted sends in the last second
        self.enforce_window = enforce_window
        self.templates = templates if templates is not None else {TEMPLATE: 3}
        self.calls: list[Call] = []
        self.cond = threading.Condition()
        self.media: dict[str, tuple[str, bytes, str]] = {}  # id -> (file name, bytes, mime)
        self.inbound: dict[str, float] = {}  # wa_id -> when they last wrote (time.time())
        self.refuse: dict[str, list[int]] = defaultdict(list)  # wa_id -> codes for next sends
        self._last_to: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._server: Any = None
        self.url = ""

    @property
    def api_url(self) -> str:
        """WHATSAPP_API_URL for the bot: the base with its version."""
        return f"{self.url}/{VERSION}"

    def start(self) -> "FakeWhatsApp":
        app = Starlette(
            routes=[
                Route("/{version}/{number}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{number}/media", self._media, methods=["POST"]),
                Route("/{version}/{number}", self._number, methods=["GET"]),
            ]
        )
        self._server = served(app)
        self.url = self._server.__enter__()
        return self

    def stop(self) -> None:
        self._server.__exit__(None, None, None)

    # ---- the API ---------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def _authorised(self, request: Request) -> bool:
        return (
            request.headers.get("authorization") == f"Bearer {TOKEN}"
            and request.path_params["number"] == PHONE_NUMBER_ID
            and request.path_params["version"] == VERSION
        )

    async def _number(self, request: Request) -> JSONResponse:
        """The sending number's fields (the bot's credentials check)."""
        if not self._authorised(request):
            return error(190, "Invalid OAuth access token", 401)
        self._record(Call("number", dict(request.query_params)))
        body = {"display_phone_number": "+1 555 0100", "verified_name": "Clusterbot"}
        return JSONResponse({**body, "id": PHONE_NUMBER_ID})

    async def _media(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return error(190, "Invalid OAuth access token", 401)
        form = multipart(request.headers.get("content-type", ""), await request.body())
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not isinstance(upload, tuple):
            return error(100, "messaging_product and file are required")
        media_id = f"media-{next(self._ids)}"
        self.media[media_id] = (upload[0], upload[1], str(form.get("type")))
        self._record(Call("media", {"id": media_id, "filename": upload[0]}))
        return JSONResponse({"id": media_id})

    async def _messages(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return error(190, "Invalid OAuth access token", 401)
        params = await request.json()
        call = Call("messages", params)
        problem = self._check(params)
        if problem is None:
            call.error = self._refusal(params)
        if problem is not None or call.error:
            code, message = problem or (call.error, f"refused with {call.error}")
            call.error = code
            self._record(call)
            return error(code, message)
        call.wamid = f"wamid.{next(self._ids)}"
        self._record(call)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": call.to, "wa_id": call.to}],
                "messages": [{"id": call.wamid}],
            }
        )

    def _refusal(self, params: dict[str, Any]) -> int:
        """The platform's rules for this send: 0 to accept it, else WhatsApp's error code."""
        to, now = str(params["to"]), time.monotonic()
        with self.cond:
            if self.refuse.get(to):
                return self.refuse[to].pop(0)
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if self.per_second and len(self._recent) >= self.per_second:
                return 130429
            if self.pair_interval and now - self._last_to.get(to, -1e9) < self.pair_interval:
                return 131056
            late = time.time() - self.inbound.get(to, -1e12) > WINDOW
            if self.enforce_window and params["type"] != "template" and late:
                return 131047
            self._last_to[to] = now
            self._recent.append(now)
        return 0

    def _check(self, p: dict[str, Any]) -> tuple[int, str] | None:
        """What WhatsApp refuses as malformed (error 100 or 132xxx), else None."""
        if p.get("messaging_product") != "whatsapp" or not str(p.get("to", "")).isdigit():
            return 100, "messaging_product and a recipient are required"
        kind = p.get("type")
        if kind == "text":
            body = p["text"]["body"]
            if not body or len(body) > 4096:
                return 100, "text body must be 1 to 4096 characters"
        elif kind == "interactive":
            i = p["interactive"]
            if not i["body"]["text"] or len(i["body"]["text"]) > 1024:
                return 100, "interactive body must be 1 to 1024 characters"
            action = i["action"]
            if i["type"] == "button":
                buttons = action["buttons"]
                if not 1 <= len(buttons) <= 3:
                    return 100, "1 to 3 buttons"
                if any(not 1 <= len(b["reply"]["title"]) <= 20 for b in buttons):
                    return 100, "a button title is 1 to 20 characters"
            elif i["type"] == "list":
                rows = [r for s in action["sections"] for r in s["rows"]]
                if not 1 <= len(rows) <= 10 or not 1 <= len(action["button"]) <= 20:
                    return 100, "1 to 10 rows and a button of 20 characters"
                if any(len(r["title"]) > 24 or len(r.get("description", "")) > 72 for r in rows):
                    return 100, "a row title is 24 characters, its description 72"
            else:
                return 100, f"interactive type {i['type']!r} not supported here"
        elif kind == "document":
            if p["document"].get("id") not in self.media:
                return 131053, "media upload error: unknown media id"
        elif kind == "template":
            t = p["template"]
            if t["name"] not in self.templates:
                return 132001, f"template name {t['name']} does not exist"
            params = [x for c in t.get("components", []) for x in c.get("parameters", [])]
            if len(params) != self.templates[t["name"]]:
                return 132000, "number of parameters does not match the expected number"
            if any("\n" in x["text"] or "\t" in x["text"] for x in params):
                return 132018, "a parameter holds a new line or a tab"
        else:
            return 100, f"message type {kind!r} not supported here"
        return None

    # ---- what tests read -------------------------------------------------------------------

    def sent(self, to: str, kind: str | None = None) -> list[Call]:
        """Accepted messages to one number (of one type)."""
        with self.cond:
            return [
                c
                for c in self.calls
                if c.method == "messages"
                and not c.error
                and c.to == to
                and (kind is None or c.kind == kind)
            ]

    def refused(self) -> list[Call]:
        with self.cond:
            return [c for c in self.calls if c.error]

    def wait_sent(self, to: str, count: int, timeout: float = 30.0) -> list[Call]:
        self.wait_for(lambda _: len(self.sent(to)) >= count, timeout)
        return self.sent(to)


# ---- what Meta sends the bot ---------------------------------------------------------------

_wamids = itertools.count(1)


def change(value: dict[str, Any]) -> dict[str, Any]:
    """A webhook body holding one `messages` change for our number."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}],
    }


def message(wa_id: str, content: dict[str, Any], at: float | None = None) -> dict[str, Any]:
    """A webhook body with one message from `wa_id` (`content`: type and its object)."""
    msg = {
        "from": wa_id,
        "id": f"wamid.in.{next(_wamids)}",
        "timestamp": str(int(at if at is not None else time.time())),
        **content,
    }
    return change(
        {"contacts": [{"profile": {"name": "Field Partner"}, "wa_id": wa_id}], "messages": [msg]}
    )


def text(wa_id: str, body: str, at: float | None = None) -> dict[str, Any]:
    return message(wa_id, {"type": "text", "text": {"body": body}}, at)


def pressed(wa_id: str, button_id: str, title: str, row: bool = False) -> dict[str, Any]:
    """A reply button (or, with `row`, a list row) pressed."""
    kind = "list_reply" if row else "button_reply"
    return message(
        wa_id,
        {
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": button_id, "title": title}},
        },
    )


def status(
    wamid: str, state: str, wa_id: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A status event (sent, delivered, read, failed) for one message we sent."""
    event: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
    }
    if errors:
        event["errors"] = errors
    return change({"statuses": [event]})


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(
    url: str, body: dict[str, Any] | bytes, secret: str | None = APP_SECRET
) -> httpx.Response:
    """POST a webhook body to the bot as Meta does: signed, unless `secret` is None."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature(raw, secret)
    return http_client.post(url, content=raw, headers=headers)
