"""A local stand-in for the Slack Web API: real HTTP on 127.0.0.1, recording every call.

slack_sdk posts to `<base_url><method>` (JSON or form-encoded, the token in the Authorization
header). The stand-in answers auth.test, chat.postMessage, chat.postEphemeral, users.info,
views.publish, apps.connections.open and oauth.v2.access, records `response_url` posts, and can be
told to fail: 429 with Retry-After, an error such as not_in_channel for a channel, or Slack's
one-message-a-second pace per channel. Socket Mode is served by a websocket stand-in (aiohttp)
whose URL apps.connections.open hands out.
"""

import asyncio
import contextlib
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from bot.settings import Settings
from tests.fakes.server import Recording, free_socket, served

TEAM = "T0001"
BOT_USER = "UBOT"
BOT_ID = "B0001"
TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class Call:
    """One request the app made: the method, its parameters, the token, when it arrived."""

    method: str
    params: dict[str, Any]
    token: str = ""
    at: float = field(default_factory=time.perf_counter)

    @property
    def text(self) -> str:
        """What a reader sees: the message's section texts (or its fallback text)."""
        blocks = self.params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        sections = [b["text"]["text"] for b in blocks if b.get("type") == "section"]
        return "\n".join(sections) if sections else str(self.params.get("text", ""))

    @property
    def channel(self) -> str:
        return str(self.params.get("channel", ""))

    @property
    def buttons(self) -> list[tuple[str, str, str]]:
        """(label, action_id, value) of every button in the message."""
        blocks = self.params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return [
            (e["text"]["text"], e["action_id"], e.get("value", ""))
            for b in blocks
            if b.get("type") == "actions"
            for e in b["elements"]
        ]


class FakeSlack(Recording):
    """The stand-in server; start() serves it in background threads, stop() ends it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.cond = threading.Condition()
        self.fail_429: dict[str, list[float | str]] = {}  # method -> Retry-After, each next call
        self.errors: dict[str, str] = {}  # channel -> error chat.postMessage answers
        self.locales: dict[str, str] = {}  # user -> Slack locale (default en-US)
        self.enforce_pace = False  # answer 429 to a second post in a channel within 1 s
        self.revoked: set[str] = set()  # tokens answered invalid_auth (a revoked install)
        self.acks: list[dict[str, Any]] = []  # Socket Mode acknowledgements received
        self._last_post: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._running = contextlib.ExitStack()
        self._ws_loop: asyncio.AbstractEventLoop | None = None
        self._ws_runner: web.AppRunner | None = None
        self._ws_thread: threading.Thread | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.url = ""
        self.ws_url = ""
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes posted to its upload URL

    # ---- running ---------------------------------------------------------------------------

    def start(self) -> "FakeSlack":
        app = Starlette(
            routes=[
                Route("/api/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/response/{key}", self._response_url, methods=["POST"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
            ]
        )
        self.url = self._running.enter_context(served(app, lifespan="auto"))
        self._start_ws()
        return self

    def stop(self) -> None:
        self._running.close()
        if self._ws_loop is not None and self._ws_runner is not None:
            runner = self._ws_runner
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self._ws_loop).result(10)
            self._ws_loop.call_soon_threadsafe(self._ws_loop.stop)
        if self._ws_thread is not None:
            self._ws_thread.join(timeout=10)

    @property
    def api_url(self) -> str:
        """The base URL to give slack_sdk (SLACK_API_URL)."""
        return self.url + "/api/"

    def bot_settings(self, database_url: str = "sqlite://", **settings: Any) -> Settings:
        """Settings for a bot that talks to this stand-in with its token and signing secret."""
        return Settings(
            database_url=database_url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.api_url,
            **settings,
        )

    def response_url(self, key: str = "") -> str:
        """A response_url for a slash command or button press, recorded as "response"."""
        return f"{self.url}/response/{key or uuid.uuid4().hex}"

    # ---- Socket Mode -----------------------------------------------------------------------

    def _start_ws(self) -> None:
        sock = free_socket()
        self.ws_url = f"ws://127.0.0.1:{sock.getsockname()[1]}/link"
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._ws_loop = loop

        async def setup() -> None:
            app = web.Application()
            app.router.add_get("/link", self._ws_handler)
            self._ws_runner = web.AppRunner(app)
            await self._ws_runner.setup()
            await web.SockSite(self._ws_runner, sock).start()
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(setup())
            loop.run_forever()
            loop.close()

        self._ws_thread = threading.Thread(target=run, daemon=True)
        self._ws_thread.start()
        ready.wait(10)

    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                with self.cond:
                    self.acks.append(json.loads(msg.data))
                    self.cond.notify_all()
        self._sockets.remove(ws)
        return ws

    def push_envelope(self, payload: dict[str, Any], kind: str = "events_api") -> str:
        """Send one Socket Mode envelope to every connected client; returns its envelope_id."""
        envelope_id = uuid.uuid4().hex
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        assert self._ws_loop is not None

        async def send() -> None:
            for ws in list(self._sockets):
                await ws.send_str(json.dumps(envelope))

        asyncio.run_coroutine_threadsafe(send(), self._ws_loop).result(10)
        return envelope_id

    def connected(self) -> bool:
        return bool(self._sockets)

    # ---- what tests read -------------------------------------------------------------------

    def of(self, method: str, channel: str | None = None) -> list[Call]:
        with self.cond:
            return [
                c
                for c in self.calls
                if c.method == method and (channel is None or c.channel == channel)
            ]

    def wait_calls(
        self, method: str, count: int = 1, channel: str | None = None, timeout: float = 20.0
    ) -> list[Call]:
        """Wait for `count` calls of `method` (to `channel`); returns them all."""
        self.wait_for(lambda _: len(self._of(method, channel)) >= count, timeout)
        return self.of(method, channel)

    def _of(self, method: str, channel: str | None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (channel is None or c.channel == channel)
        ]

    # ---- the API ---------------------------------------------------------------------------

    @staticmethod
    async def _params(request: Request) -> dict[str, Any]:
        body = await request.body()
        ctype = request.headers.get("content-type", "")
        params: dict[str, Any] = dict(request.query_params)
        if ctype.startswith("application/json"):
            params.update(json.loads(body or b"{}"))
        elif body:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        return params

    def _record(self, call: Call) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    async def _response_url(self, request: Request) -> PlainTextResponse:
        params = await self._params(request)
        params["key"] = request.path_params["key"]
        self._record(Call("response", params))
        return PlainTextResponse("ok")

    async def _upload(self, request: Request) -> PlainTextResponse:
        """The upload URL files.getUploadURLExternal hands out: the file's bytes arrive here."""
        file_id = request.path_params["file_id"]
        self.uploads[file_id] = await request.body()
        self._record(Call("upload", {"file_id": file_id}))
        return PlainTextResponse(f"OK - {len(self.uploads[file_id])}")

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await self._params(request)
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") or str(params.get("token", ""))
        with self.cond:
            retry = self.fail_429.get(method)
            if retry:
                seconds = retry.pop(0)
                self.calls.append(Call(f"{method}:429", params, token))
                self.cond.notify_all()
                return self._rate_limited(seconds)
            channel = str(params.get("channel", ""))
            if method == "chat.postMessage" and self.enforce_pace:
                now = time.monotonic()
                last = self._last_post.get(channel)
                if last is not None and now - last < 1.0:
                    self.calls.append(Call(f"{method}:429", params, token))
                    self.cond.notify_all()
                    return self._rate_limited(1)
                self._last_post[channel] = now
            self.calls.append(Call(method, params, token))
            self.cond.notify_all()
            error = self.errors.get(channel) if method.startswith("chat.") else None
        if token in self.revoked:
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        if error:
            return JSONResponse({"ok": False, "error": error})
        if not token.startswith(("xoxb-", "xapp-")) and method not in {"oauth.v2.access"}:
            return JSONResponse({"ok": False, "error": "not_authed"})
        return JSONResponse({"ok": True, **self._result(method, params, token)})

    @staticmethod
    def _rate_limited(seconds: float | str) -> JSONResponse:
        return JSONResponse(
            {"ok": False, "error": "ratelimited"},
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )

    def _result(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        if method == "auth.test":
            team = "T0002" if token == "xoxb-installed" else TEAM
            return {
                "url": "https://example.slack.com/",
                "team": "Coordination",
                "user": "clusterbot",
                "team_id": team,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in {"chat.postMessage", "chat.postEphemeral"}:
            return {"channel": params.get("channel"), "ts": f"{time.time():.0f}.{next(self._ts)}"}
        if method == "users.info":
            user = str(params.get("user", ""))
            return {"user": {"id": user, "locale": self.locales.get(user, "en-US")}}
        if method == "views.publish":
            return {"view": {"id": "V1", **(params.get("view") or {})}}
        if method == "conversations.open":
            return {"channel": {"id": "D" + str(params.get("users", ""))[1:]}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):04d}"
            return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files") or "[]"
            files = json.loads(files) if isinstance(files, str) else files
            return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        if method == "apps.connections.open":
            return {"url": self.ws_url}
        if method == "oauth.v2.access":
            return {
                "access_token": "xoxb-installed",
                "token_type": "bot",
                "scope": "commands,chat:write",
                "bot_user_id": BOT_USER,
                "app_id": "A0001",
                "team": {"id": "T0002", "name": "Partner workspace"},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": "U0009"},
            }
        return {}


def signed_dm(n: int, tag: str, text: str = "who leads WASH?") -> tuple[bytes, dict[str, str]]:
    """Person n's direct message to the bot, signed as Slack signs it: body and headers.

    Person n writes from channel D{n:06d}; `tag` keeps event ids apart between scenarios.
    """
    from slack_sdk.signature import SignatureVerifier

    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"Ev{tag}{n:06d}",
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": f"D{n:06d}",
                "user": f"U{n:06d}",
                "text": text,
                "ts": f"{n}.1",
            },
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
    )
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=ts, body=body
        ),
    }
    return body.encode(), headers
