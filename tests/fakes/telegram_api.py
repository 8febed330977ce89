"""A local stand-in for the Telegram Bot API: real HTTP on 127.0.0.1, recording every call.

PTB posts form-encoded (or multipart) requests to `/bot<TOKEN>/<method>`, non-string values as
JSON strings. The stand-in serves queued updates through getUpdates, records what the bot sends,
and can be told to fail: 429 with retry_after, 502, 403 for a blocked chat, 409 for getUpdates, or a
group that migrated to a supergroup. Given `Limits`, it enforces Telegram's flood limits on sends
(overall per second, one a second per private chat, 20 a minute per group) and answers 429 with
retry_after when a bot goes faster.
"""

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.settings import Settings
from tests.fakes.server import Recording, served

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "clusterbot_test_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "clusterbot", "username": BOT_USERNAME}
JSON_FIELDS = {
    "chat_id",
    "reply_markup",
    "commands",
    "scope",
    "offset",
    "limit",
    "timeout",
    "allowed_updates",
    "message_id",
    "reply_parameters",
    "message_thread_id",
    "link_preview_options",
    "show_alert",
    "drop_pending_updates",
}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One request the bot made: the method, its parameters, and when it arrived."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int:
        return int(self.params.get("chat_id", 0))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class Limits:
    """Telegram's flood limits on sending (raise them for benchmarks)."""

    per_second: float = 30.0  # all chats together, in any one-second window
    private_interval: float = 1.0  # seconds between two messages to one private chat
    group_per_minute: int = 20  # messages to one group in any sixty-second window
    retry_after: int = 1  # what a 429 tells the bot to wait


SENDS = {"sendMessage", "sendDocument"}


class FakeTelegram(Recording):
    """The stand-in server; start() serves it in a background thread, stop() ends it."""

    def __init__(self, token: str = TOKEN, limits: Limits | None = None) -> None:
        self.token = token
        self.limits = limits
        self.calls: list[Call] = []
        self.delivered: list[Call] = []  # sends answered ok: what people received
        self._recent: deque[float] = deque()  # arrival times of sends in the last second
        self._last_private: dict[int, float] = {}
        self._group_recent: dict[int, deque[float]] = {}
        self.updates: list[dict[str, Any]] = []
        self.pushed_at: dict[int, float] = {}  # update_id -> perf_counter when queued
        self.cond = threading.Condition()
        self.fail_429: dict[str, list[int]] = {}  # method -> retry_after for each next call
        self.fail_429_chat: dict[int, list[int]] = {}  # chat -> retry_after, its next sends
        self.fail_502: dict[str, int] = {}  # method -> how many next calls get 502 Bad Gateway
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.admins: set[tuple[int, int]] = set()  # (chat id, user id) of group administrators
        self.conflict = False
        self.max_poll_wait = 1.0
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._stopping = False  # set by stop(): held long polls answer at once
        self._running = contextlib.ExitStack()
        self.url = ""

    # ---- running ---------------------------------------------------------------------------

    def start(self) -> "FakeTelegram":
        app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])],
            lifespan=self._lifespan,
        )
        self.url = self._running.enter_context(served(app))
        return self

    def stop(self) -> None:
        """End the server; a getUpdates still held open answers now, not at its timeout.

        The bot cancels its long poll when it stops, but the server does not notice a client
        gone in mid-request: uvicorn would wait for that handler before it could stop.
        """
        self._stopping = True
        self._wake_polls()
        self._running.close()

    def bot_settings(self, database_url: str = "sqlite://", **settings: Any) -> Settings:
        """Settings for a bot that talks to this stand-in with its token."""
        return Settings(
            database_url=database_url,
            telegram_bot_token=self.token,
            telegram_api_url=self.url,
            **settings,
        )

    def _wake_polls(self) -> None:
        if self._loop is not None and self._new_update is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._new_update.set)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        self._new_update = asyncio.Event()
        yield

    # ---- what tests push -------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Queue one update (update_id assigned) for getUpdates; returns its id."""
        with self.cond:
            update_id = next(self._ids)
            update = {"update_id": update_id, **update}
            self.updates.append(update)
            self.pushed_at[update_id] = time.perf_counter()
        self._wake_polls()
        return update_id

    def message(
        self,
        text: str,
        user_id: int = 42,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        reply_to_bot: bool = False,
        first_name: str = "Amina",
    ) -> dict[str, Any]:
        """A message update as Telegram would send it, with command and mention entities."""
        chat_id = user_id if chat_id is None else chat_id
        user = _user(user_id, language_code, first_name)
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Coordination group"
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": utf16(text.split()[0])})
        pos = 0
        for word in text.split(" "):
            if word.startswith("@") and len(word) > 1:
                entities.append(
                    {"type": "mention", "offset": utf16(text[:pos]), "length": utf16(word)}
                )
            pos += len(word) + 1
        msg = self._message_in(chat, user, text)
        if entities:
            msg["entities"] = entities
        if reply_to_bot:
            msg["reply_to_message"] = self._bot_message(chat, "an earlier answer")
        return {"message": msg}

    def _bot_message(self, chat: dict[str, Any], text: str) -> dict[str, Any]:
        """One of our own earlier messages, as Telegram quotes it in an update."""
        return self._message_in(chat, BOT_USER, text)

    def _message_in(
        self, chat: dict[str, Any], sender: dict[str, Any], text: str
    ) -> dict[str, Any]:
        """A message as Telegram puts it in an update, numbered in the order the fake made it."""
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            "text": text,
        }

    def button(
        self, data: str, user_id: int = 42, language_code: str | None = "en"
    ) -> dict[str, Any]:
        """A callback_query update: the user pressed a button under one of our messages.

        Under a message in their private chat with the bot: no test presses one in a group.
        """
        return {
            "callback_query": {
                "id": str(next(self._message_ids)),
                "from": _user(user_id, language_code),
                "chat_instance": "ci-1",
                "data": data,
                "message": self._bot_message(
                    {"id": user_id, "type": "private"}, "a question with buttons"
                ),
            }
        }

    # ---- what tests read -------------------------------------------------------------------

    def of(self, method: str, chat_id: int | None = None) -> list[Call]:
        with self.cond:
            return [
                c
                for c in self.calls
                if c.method == method and (chat_id is None or c.chat_id == chat_id)
            ]

    def wait_sent(self, chat_id: int, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """Wait for `count` sendMessage calls to chat_id; returns them all."""
        self.wait_for(
            lambda calls: (
                sum(1 for c in calls if c.method == "sendMessage" and c.chat_id == chat_id)
                >= count
            ),
            timeout,
        )
        return self.of("sendMessage", chat_id)

    def count_429(self) -> int:
        """How many requests were answered 429 (flood control)."""
        with self.cond:
            return sum(1 for c in self.calls if c.method.endswith(":429"))

    def _over_limit(self, chat_id: int, now: float) -> bool:
        """Whether this send breaks a flood limit; if not, it is counted (caller holds cond)."""
        limits = self.limits
        if limits is None:
            return False
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= limits.per_second:
            return True
        if chat_id < 0:
            recent = self._group_recent.setdefault(chat_id, deque())
            while recent and now - recent[0] >= 60.0:
                recent.popleft()
            if len(recent) >= limits.group_per_minute:
                return True
            recent.append(now)
        else:
            last = self._last_private.get(chat_id)
            if last is not None and now - last < limits.private_interval:
                return True
            self._last_private[chat_id] = now
        self._recent.append(now)
        return False

    def queue_empty(self) -> bool:
        with self.cond:
            return not self.updates

    # ---- the API ---------------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        body = await request.body()
        ctype = request.headers.get("content-type", "")
        raw: dict[str, Any] = {}
        if ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
            )
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True)
                if filename:
                    raw[str(name)] = {"filename": filename, "content": payload}
                else:
                    raw[str(name)] = payload.decode() if isinstance(payload, bytes) else payload
        elif ctype.startswith("application/json"):
            raw = json.loads(body or b"{}")
        else:
            raw = dict(parse_qsl(body.decode(), keep_blank_values=True))
            raw.update(request.query_params)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key in JSON_FIELDS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            params[key] = value
        return params

    @staticmethod
    def _error(code: int, description: str, **parameters: Any) -> JSONResponse:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return JSONResponse(body, status_code=code)

    def _flood_refusal(self, method: str, params: dict[str, Any], seconds: int) -> JSONResponse:
        """Record a call refused for flood control, and answer 429 as Telegram does.

        The caller holds `cond`: the refusal is recorded with the check that made it.
        """
        self.calls.append(Call(f"{method}:429", params))
        self.cond.notify_all()
        return self._error(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await self._params(request)
        if method == "getUpdates":
            return await self._get_updates(params)
        with self.cond:
            if self.fail_502.get(method):
                self.fail_502[method] -= 1
                self.calls.append(Call(f"{method}:502", params))
                self.cond.notify_all()
                return self._error(502, "Bad Gateway")
            retry = self.fail_429.get(method)
            if retry:
                return self._flood_refusal(method, params, retry.pop(0))
            chat_id = params.get("chat_id")
            held = self.fail_429_chat.get(chat_id) if method in SENDS else None  # type: ignore[arg-type]
            if held:
                return self._flood_refusal(method, params, held.pop(0))
            if (
                method in SENDS
                and isinstance(chat_id, int)
                and self._over_limit(chat_id, time.monotonic())
            ):
                assert self.limits is not None
                return self._flood_refusal(method, params, self.limits.retry_after)
            call = Call(method, params)
            self.calls.append(call)
            ok = not (
                isinstance(chat_id, int) and (chat_id in self.blocked or chat_id in self.migrated)
            )
            if ok and method in SENDS:
                self.delivered.append(call)
            self.cond.notify_all()
        if isinstance(chat_id, int) and chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if isinstance(chat_id, int) and chat_id in self.migrated:
            return self._error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated[chat_id],
            )
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False}
        if method in {"sendMessage", "editMessageText", "sendDocument"}:
            chat_id = int(params.get("chat_id", 0))
            chat_type = "private" if chat_id > 0 else "supergroup"
            result: dict[str, Any] = {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": chat_type},
                "from": BOT_USER,
            }
            if method == "sendDocument":
                doc = params.get("document") or {}
                result["document"] = {
                    "file_id": "doc-1",
                    "file_unique_id": "doc-1u",
                    "file_name": doc.get("filename", "") if isinstance(doc, dict) else "",
                }
            else:
                result["text"] = params.get("text", "")
            return result
        if method == "getChatMember":
            chat_id, user_id = int(params.get("chat_id", 0)), int(params.get("user_id", 0))
            status = "administrator" if (chat_id, user_id) in self.admins else "member"
            member: dict[str, Any] = {"status": status, "user": _user(user_id, "en", "Amina")}
            if status == "administrator":
                member.update(
                    {
                        "can_be_edited": False,
                        "is_anonymous": False,
                        "can_manage_chat": True,
                        "can_delete_messages": True,
                        "can_manage_video_chats": True,
                        "can_restrict_members": True,
                        "can_promote_members": False,
                        "can_change_info": True,
                        "can_invite_users": True,
                        "can_post_stories": False,
                        "can_edit_stories": False,
                        "can_delete_stories": False,
                    }
                )
            return member
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True  # deleteWebhook, setWebhook, setMyCommands, answerCallbackQuery, ...

    async def _get_updates(self, params: dict[str, Any]) -> JSONResponse:
        with self.cond:
            self.calls.append(Call("getUpdates", params))
            self.cond.notify_all()
        if self.conflict:
            return self._error(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = time.monotonic() + wait
        while True:
            with self.cond:
                if offset:
                    # Telegram forgets updates once a later offset confirms them.
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = self.updates[:limit]
                if ready or self._stopping or time.monotonic() >= deadline:
                    return JSONResponse({"ok": True, "result": ready})
                assert self._new_update is not None
                self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._new_update.wait(), max(0.0, deadline - time.monotonic())
                )


def _user(user_id: int, language_code: str | None, first_name: str = "Amina") -> dict[str, Any]:
    """The `from` of an update: a person, with their app language when they have one set."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user
