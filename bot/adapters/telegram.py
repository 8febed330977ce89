"""The Telegram adapter: updates in as Incoming, Replies out as HTML with inline keyboards.

With an engine, every update is written to the inbox (bot/inbox.py) before Telegram may forget
it: in polling mode before getUpdates returns to PTB (so the next call's offset confirms only
stored updates), in webhook mode before the 200 (bot/web.py). An inbox worker calls `answer`.
"""

import asyncio
import contextlib
import datetime as dtm
import html
import logging
import os
import re
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from sqlalchemy.engine import Engine
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, ExtBot
from telegram.ext import TypeHandler as _TypeHandler

from bot import inbox
from bot.core import Choice, Incoming, Reply, split_command
from bot.outbox import Moved, Pace, RetryLater, Undeliverable, clamp_seconds
from bot.render import Renderer, to_plain
from bot.word import docx_file

log = logging.getLogger("clusterbot.telegram")

Handle = Callable[[Incoming], Awaitable[list[Reply]]]
# Told when a chat moved (old target, new target) or is gone (target, reason): records it.
OnMoved = Callable[[str, str], Awaitable[None]]
OnGone = Callable[[str, str], Awaitable[None]]
PTBApplication = Application[Any, Any, Any, Any, Any, Any]

PLATFORM = "telegram"  # our name for Telegram in the inbox table
MAX_MESSAGE = 4096  # Telegram's limit for one message's text
MAX_INCOMING = 4096  # Telegram never sends more: a longer text is not a real user message
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for a button's data
MAX_DESCRIPTION = 256  # Telegram's limit for a command's description
# Telegram allows about 30 messages a second overall; notifications take 25 of them, so the
# replies the adapter sends to people asking questions always find room (README: Notifications).
NOTIFY_RATE = 25.0
# One message a second to a private chat, 20 a minute to a group; a little margin for jitter.
PRIVATE_INTERVAL = 1.1
GROUP_INTERVAL = 3.1
COMMANDS_TEMPLATE = "help/telegram_commands.j2"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
CHAT_SETTING_COMMANDS = {"subscribe", "unsubscribe"}  # in a group, for its admins only
GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}
CHATS_AT_ONCE = 16  # chats whose updates are handled at the same time (each chat in order)
REPLY_RATE = 30.0  # replies a second, all chats together (Telegram's own limit)
STOP_GRACE = 10.0  # seconds replies in progress get to finish at stop
# Pauses before a reply's message is sent again after a network failure or a Telegram 5xx: the
# update is marked answered once its reply is out, so a passing fault must not cost the reply.
RESEND_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)
CONFLICT_MESSAGE = (
    "Telegram answered 409 Conflict to getUpdates: another instance is already polling this "
    "bot token. Stopping this one instead of fighting it. Run one polling instance per token, "
    "or set TELEGRAM_WEBHOOK_URL to run several workers behind a webhook."
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of replies sent to one chat: delivered, or why not."""

    chat: str
    delivered: bool
    reason: str = ""


def retry_seconds(exc: RetryAfter) -> float:
    """A RetryAfter's wait in seconds (PTB gives int or timedelta), within 0..MAX_WAIT."""
    value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, dtm.timedelta) else value
    return clamp_seconds(seconds, default=1.0)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<(/?)([a-zA-Z]+)[^>]*>")
_ATOM = re.compile(r"<[^>]*>|&#?\w+;|[^<&]")


def _track(stack: list[tuple[str, str]], text: str) -> None:
    """Update the open-tag stack with the tags in `text`."""
    for m in _TAG.finditer(text):
        closing, name = m.group(1), m.group(2).lower()
        if not closing:
            stack.append((name, m.group(0)))
        elif stack and stack[-1][0] == name:
            stack.pop()


def _closers(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _openers(stack: list[tuple[str, str]]) -> str:
    return "".join(tag for _, tag in stack)


def _split_line(line: str, room: int) -> list[str]:
    """Cut one over-long line into pieces of at most `room`, never inside a tag or an entity."""
    pieces: list[str] = []
    current = ""
    space_at = -1  # where the last plain space in `current` ends, to cut between words
    for atom in _ATOM.findall(line):
        if current and utf16_len(current + atom) > room:
            if 0 < space_at < len(current):
                pieces.append(current[:space_at])
                current = current[space_at:]
            else:
                pieces.append(current)
                current = ""
            space_at = -1
        current += atom
        if atom == " ":
            space_at = len(current)
    if current:
        pieces.append(current)
    return pieces


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages of at most `limit`, each valid on its own.

    Cuts between lines; a line too long by itself is cut in its plain text, outside tags and
    entities. A tag still open at a cut is closed at the end of that chunk and opened again at
    the start of the next.
    """
    if utf16_len(text) <= limit:
        return [text]
    # Room for the tags we may have to close and reopen around a cut.
    margin = min(limit // 4, 200)
    segments: list[tuple[str, str]] = []  # (separator before it, text)
    for line in text.split("\n"):
        if utf16_len(line) + margin > limit:
            parts = _split_line(line, limit - margin)
            segments.append(("\n", parts[0]))
            segments.extend(("", part) for part in parts[1:])
        else:
            segments.append(("\n", line))
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []
    current = ""
    started = False
    for sep, segment in segments:
        after = list(stack)
        _track(after, segment)
        candidate = current + (sep if started else "") + segment
        if started and utf16_len(candidate + _closers(after)) > limit:
            chunks.append(current + _closers(stack))
            current = _openers(stack) + segment
        else:
            current = candidate
        started = True
        stack = after
    chunks.append(current + _closers(stack))
    return [c for c in chunks if c.strip()]


def keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    """Inline buttons for the choices, three to a row; a choice too big for Telegram is dropped."""
    buttons = []
    for c in choices:
        if len(c.action.encode()) > MAX_CALLBACK_DATA:
            log.error("button %r dropped: action id over 64 bytes", c.action)
            continue
        buttons.append(InlineKeyboardButton(c.label[:64], callback_data=c.action))
    if not buttons:
        return None
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def command_menu(renderer: Renderer, lang: str) -> list[BotCommand]:
    """The command menu in one language, from the telegram_commands template."""
    text = renderer.plain(Reply(COMMANDS_TEMPLATE, {}, lang, "commands"))
    commands = []
    for line in text.splitlines():
        name, sep, description = line.partition("|")
        if sep and name.strip() and description.strip():
            commands.append(BotCommand(name.strip(), description.strip()[:MAX_DESCRIPTION]))
    return commands


class ChatRateLimiter(BaseRateLimiter[int]):
    """Telegram's limits for replies, where a flood wait holds back only the chat that earned it.

    About 30 sends a second in all and 20 a minute to one group, as PTB's AIORateLimiter; but a
    429 (RetryAfter) makes only the request that got it wait and try again. AIORateLimiter paused
    every request while waiting: one chat's flood wait delayed everyone's answers.
    """

    def __init__(
        self, per_second: float = REPLY_RATE, group_per_minute: float = 20.0, max_retries: int = 5
    ) -> None:
        self.overall = AsyncLimiter(per_second, 1)
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self._groups: dict[int | str, AsyncLimiter] = {}

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _group(self, chat_id: int | str) -> AsyncLimiter:
        if len(self._groups) > 512:  # forget groups whose whole minute is unused
            self._groups = {
                k: v for k, v in self._groups.items() if not v.has_capacity(v.max_rate)
            }
        if chat_id not in self._groups:
            self._groups[chat_id] = AsyncLimiter(self.group_per_minute, 60)
        return self._groups[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Run one Bot API call within the limits; a 429 is waited out here, for this call only."""
        chat_id: Any = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        retries = rate_limit_args or self.max_retries
        attempt = 0
        while True:
            try:
                if chat_id is None:
                    return await callback(*args, **kwargs)
                group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
                async with self.overall:
                    if not group:
                        return await callback(*args, **kwargs)
                    async with self._group(chat_id):
                        return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= retries:
                    raise
                attempt += 1
                wait = retry_seconds(exc)
                log.info("telegram: chat %s flood wait %.1f s (%s)", chat_id, wait, endpoint)
                await asyncio.sleep(wait + 0.1)


class _TolerantBot(ExtBot[Any]):
    """PTB's bot, except that one malformed update in a getUpdates batch cannot stall polling.

    PTB parses a batch as a whole: one update it cannot read fails the batch, the offset never
    moves, and every later update waits forever. Each unreadable update is swapped for an empty
    one with the same id, which confirms it and which our handler logs and skips.

    With `store` set, a batch is stored before PTB sees it; a batch that cannot be stored is a
    network error to PTB, which asks again for the same updates.
    """

    def __init__(
        self,
        *args: Any,
        store: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():  # PTB objects are frozen once built
            self.store = store

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        kept = self._readable(result)
        if self.store is not None and kept:
            try:
                await self.store(kept)
            except Exception as exc:
                raise NetworkError(f"updates not stored in the inbox: {exc}") from exc
        return kept

    def _readable(self, result: list[Any]) -> list[Any]:
        kept = []
        for item in result:
            try:
                Update.de_json(item, self)
                kept.append(item)
            except Exception as exc:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                log.warning("telegram: unreadable update %s skipped: %s", update_id, exc)
                if isinstance(update_id, int):
                    kept.append({"update_id": update_id})
        return kept


class TelegramAdapter:
    """Runs one bot token: polling or webhook intake, routing through `handle`, sending replies."""

    def __init__(
        self,
        handle: Handle,
        renderer: Renderer,
        token: str,
        api_url: str = "https://api.telegram.org",
        engine: Engine | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        rate_limiter: BaseRateLimiter[Any] | None = None,
        on_fatal: Callable[[str], None] | None = None,
        poll_timeout: float = 10.0,
        on_moved: OnMoved | None = None,
        on_gone: OnGone | None = None,
    ) -> None:
        # PTB 22 gives RetryAfter.retry_after as int unless this is set; later majors always
        # use timedelta. Opt in now (retry_seconds reads both).
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        if webhook_url and not webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET as well")
        self.handle = handle
        self.renderer = renderer
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.on_fatal = on_fatal
        self.on_moved = on_moved
        self.on_gone = on_gone
        self.poll_timeout = poll_timeout
        self.migrated: dict[int, int] = {}  # group id -> supergroup id, learnt from Telegram
        self.fatal: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._chats: dict[int, deque[Update]] = {}  # updates waiting, per chat, in order
        self._slots = asyncio.Semaphore(CHATS_AT_ONCE)
        self.engine = engine
        self.wake: Callable[[], None] | None = None  # tells the inbox worker to look now
        base = api_url.rstrip("/")
        limiter = rate_limiter if rate_limiter is not None else ChatRateLimiter()
        bot = _TolerantBot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            rate_limiter=limiter,
            store=self.store if engine is not None else None,
        )
        self.application: PTBApplication = ApplicationBuilder().bot(bot).build()
        self.application.add_handler(_TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    @property
    def username(self) -> str:
        """Our bot's @username (known after start)."""
        return self.application.bot.username or ""

    async def start(self) -> None:
        """Log in (getMe), register the command menu, and start polling or set the webhook."""
        app = self.application
        await app.initialize()
        await self.register_commands()
        await app.start()
        if self.webhook_url:
            await app.bot.set_webhook(
                self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("telegram: webhook set for @%s", self.username)
        else:
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=dtm.timedelta(seconds=self.poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._on_polling_error,
            )
            log.info("telegram: polling for @%s", self.username)

    async def stop(self) -> None:
        """Stop intake, finish what is queued, and close the HTTP clients."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
        await app.shutdown()

    async def register_commands(self) -> None:
        """Register the command menu (setMyCommands) in every language; English is the default."""
        bot = self.application.bot
        for lang in ("", *self.renderer.envs):
            try:
                commands = command_menu(self.renderer, lang or "en")
                await bot.set_my_commands(commands, language_code=lang or None)
            except TelegramError as exc:
                log.error("telegram: setMyCommands failed for %r: %s", lang or "default", exc)

    async def _moved(self, old: int, new: int) -> None:
        """Remember a group's new id, and have its subscriptions follow it."""
        self.migrated[old] = new
        if self.on_moved is not None:
            try:
                await self.on_moved(f"telegram:{old}", f"telegram:{new}")
            except Exception:
                log.exception("telegram: recording the move of %s to %s failed", old, new)

    async def _gone(self, chat_id: int, reason: str) -> None:
        """A chat we cannot reach any more: its subscriptions stop."""
        if self.on_gone is not None:
            try:
                await self.on_gone(f"telegram:{chat_id}", reason)
            except Exception:
                log.exception("telegram: recording that chat %s is gone failed", chat_id)

    def _on_polling_error(self, exc: TelegramError) -> None:
        if isinstance(exc, Conflict):
            if self.fatal is None:
                self.fatal = CONFLICT_MESSAGE
                log.critical("telegram: %s (%s)", CONFLICT_MESSAGE, exc)
                # The callback must not block or raise: stop polling from a task of our own.
                self._tasks.add(asyncio.get_running_loop().create_task(self._conflict_stop()))
            return
        log.warning("telegram: polling error, retrying: %s", exc)

    async def _conflict_stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.on_fatal is not None:
            self.on_fatal(CONFLICT_MESSAGE)

    async def _on_error(self, update: object, context: Any) -> None:
        log.error("telegram: error while handling an update", exc_info=context.error)

    def chat_of(self, data: Mapping[str, Any]) -> str:
        """The inbox's chat key for a raw update: its chat, or a lane of its own."""
        with contextlib.suppress(Exception):
            chat = Update.de_json(dict(data), self.application.bot).effective_chat
            if chat is not None:
                return f"telegram:{chat.id}"
        return f"telegram:update:{data.get('update_id')}"

    async def store(self, updates: list[dict[str, Any]]) -> None:
        """Write raw updates to the inbox (one transaction); raises if the write fails."""
        assert self.engine is not None
        events: list[tuple[str, str, str, Mapping[str, Any]]] = [
            (str(u["update_id"]), self.chat_of(u), "update", u)
            for u in updates
            if isinstance(u, dict) and isinstance(u.get("update_id"), int)
        ]
        new = await asyncio.to_thread(inbox.put_many, self.engine, PLATFORM, events)
        if new and self.wake is not None:
            self.wake()

    async def answer(self, event: inbox.Event) -> None:
        """Answer one stored update (called by the inbox worker)."""
        await self._handle(Update.de_json(event.payload, self.application.bot))

    async def _on_update(self, update: Update, context: Any) -> None:
        """Every update comes here, in order: each chat's go to that chat's own queue.

        With the inbox, polled updates are stored already and answered from there: skip them.

        PTB hands over one update at a time; handling them here would make every chat wait for
        the one before (a flood wait in one chat held up all). Chats run side by side, each
        chat's messages in the order they came.
        """
        if self.engine is not None:
            return
        chat = update.effective_chat
        if chat is None:
            await self._handle(update)
            return
        waiting = self._chats.get(chat.id)
        if waiting is not None:
            waiting.append(update)  # the chat's worker takes it after the ones before
            return
        self._chats[chat.id] = deque([update])
        task = asyncio.get_running_loop().create_task(self._drain(chat.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, chat_id: int) -> None:
        """Handle one chat's updates in order until none is left."""
        waiting = self._chats[chat_id]
        try:
            while waiting:
                async with self._slots:
                    await self._handle(waiting.popleft())
        finally:
            del self._chats[chat_id]

    async def _handle(self, update: Update) -> None:
        """One update; nothing escapes: a bad one is logged and skipped."""
        try:
            if update.callback_query is not None:
                await self._on_button(update.callback_query)
            elif update.message is not None:
                await self._on_message(update.message)
            else:
                log.info("telegram: update %s skipped: not a message or button", update.update_id)
        except Exception:
            log.exception("telegram: update %s failed", update.update_id)

    def _addressed(self, message: Message, text: str) -> str | None:
        """The text to handle when a group message is meant for us, else None."""
        username = self.username.casefold()
        if text.startswith("/"):
            head = text.split(maxsplit=1)[0]
            _, at, target = head.partition("@")
            if at and target.casefold() != username:
                return None  # a command for another bot
            return text
        mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        ours = [
            part
            for entity, part in mentions.items()
            if part.casefold() == f"@{username}"
            or (entity.user is not None and entity.user.id == self.application.bot.id)
        ]
        if ours:
            for part in ours:
                text = text.replace(part, " ")
            return " ".join(text.split())
        replied = message.reply_to_message
        if (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.id == self.application.bot.id
        ):
            return text
        return None

    async def _on_message(self, message: Message) -> None:
        chat, user = message.chat, message.from_user
        if message.migrate_to_chat_id is not None:
            await self._moved(chat.id, message.migrate_to_chat_id)
            log.warning(
                "telegram: group %s migrated to supergroup %s; replies go there now",
                chat.id,
                message.migrate_to_chat_id,
            )
            return
        text = message.text
        if text is None or user is None:
            log.info("telegram: message %s skipped: no text or no sender", message.message_id)
            return
        if len(text) > MAX_INCOMING:
            log.warning(
                "telegram: message %s skipped: %d characters is more than Telegram allows",
                message.message_id,
                len(text),
            )
            return
        if chat.type in GROUPS:
            addressed = self._addressed(message, text)
            if addressed is None:
                return  # not for us: groups hear from us only when they ask
            text = addressed
        elif chat.type != ChatType.PRIVATE:
            log.info("telegram: message in %s chat %s skipped", chat.type, chat.id)
            return
        incoming = Incoming(
            identity=f"telegram:{user.id}",
            chat=f"telegram:{chat.id}",
            text=text,
            locale=user.language_code,
            thread=str(message.message_thread_id) if message.is_topic_message else None,
            may_manage_chat=await self._may_manage(message, text),
        )
        replies = await self.handle(incoming)
        reply_to = message.message_id if chat.type in GROUPS else None
        thread = message.message_thread_id if message.is_topic_message else None
        await self.send(chat.id, replies, reply_to=reply_to, thread=thread)

    async def _may_manage(self, message: Message, text: str) -> bool:
        """Whether the sender may change this chat's settings: anyone in private, admins in groups.

        Asked of Telegram only for the commands that change a chat's settings, to spare an API
        call on every group message.
        """
        chat, user = message.chat, message.from_user
        if chat.type not in GROUPS:
            return True
        command = split_command(text)
        if command is None or command[0] not in CHAT_SETTING_COMMANDS or user is None:
            return True
        if message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an anonymous admin posting as the group
        try:
            member = await self.application.bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            log.warning("telegram: could not check admin rights in %s: %s", chat.id, exc)
            return False
        return member.status in {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}

    async def _on_button(self, query: CallbackQuery) -> None:
        try:
            await query.answer()  # stops the button's spinner, whatever happens next
        except TelegramError as exc:
            log.info("telegram: answerCallbackQuery failed: %s", exc)
        data = query.data
        if not data or len(data.encode()) > MAX_CALLBACK_DATA:
            log.info("telegram: button press %s skipped: no usable data", query.id)
            return
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        incoming = Incoming(
            identity=f"telegram:{query.from_user.id}",
            chat=f"telegram:{chat_id}",
            action=data,
            locale=query.from_user.language_code,
        )
        await self.send(chat_id, await self.handle(incoming))

    async def deliver(self, chat: str, replies: list[Reply]) -> Delivery:
        """Send replies to a `telegram:<chat id>` destination (for notifications)."""
        return await self.send(int(chat.partition(":")[2]), replies)

    async def send(
        self,
        chat_id: int,
        replies: list[Reply],
        reply_to: int | None = None,
        thread: int | None = None,
    ) -> Delivery:
        """Send replies as HTML messages (split when long), with buttons and files."""
        chat_id = self.migrated.get(chat_id, chat_id)
        try:
            for reply in replies:
                chunks = split_html(self.renderer.html(reply))
                markup = keyboard(reply.choices) if reply.choices else None
                for i, chunk in enumerate(chunks):
                    chat_id = await self._send_text_resending(
                        chat_id,
                        chunk,
                        markup if i == len(chunks) - 1 else None,
                        reply_to,
                        thread,
                    )
                    reply_to = None  # only the first message answers the user's
                if reply.file_name:
                    # The text is the message above; the file is the Word version to edit.
                    # Building a .docx takes ~0.2 s: off the event loop.
                    name, content = await asyncio.to_thread(
                        docx_file, self.renderer.plain(reply), reply.file_name, reply.lang
                    )
                    await self.application.bot.send_document(
                        chat_id, document=content, filename=name, message_thread_id=thread
                    )
        except Forbidden as exc:
            log.warning(
                "telegram: chat %s cannot be reached (the user blocked the bot or it was "
                "removed): %s; reply not delivered",
                chat_id,
                exc.message,
            )
            await self._gone(chat_id, f"forbidden: {exc.message}")
            return Delivery(f"telegram:{chat_id}", False, f"forbidden: {exc.message}")
        except RetryAfter as exc:
            log.error(
                "telegram: chat %s still rate limited after retries (retry after %.0f s)",
                chat_id,
                retry_seconds(exc),
            )
            return Delivery(f"telegram:{chat_id}", False, f"rate limited: {exc.message}")
        except TelegramError as exc:
            log.error("telegram: sending to chat %s failed: %s", chat_id, exc)
            if isinstance(exc, BadRequest) and "chat not found" in exc.message.lower():
                await self._gone(chat_id, f"chat not found: {exc.message}")
            return Delivery(f"telegram:{chat_id}", False, f"error: {exc.message}")
        return Delivery(f"telegram:{chat_id}", True)

    async def _send_text_resending(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        reply_to: int | None,
        thread: int | None,
    ) -> int:
        """`_send_text`, sent again after a passing failure (a time-out, a 5xx), then given up.

        A time-out may hide a message that did arrive: resending risks a duplicate, never a loss.
        """
        for pause in RESEND_PAUSES:
            try:
                return await self._send_text(chat_id, text, markup, reply_to, thread)
            except NetworkError as exc:
                if isinstance(exc, BadRequest):
                    raise  # Telegram refused this message: sending it again changes nothing
                log.warning("telegram: sending to %s failed (%s); again soon", chat_id, exc)
                await asyncio.sleep(pause)
        return await self._send_text(chat_id, text, markup, reply_to, thread)

    async def _send_text(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        reply_to: int | None,
        thread: int | None,
    ) -> int:
        """One sendMessage; follows a group's migration once. Returns the chat id used."""
        params = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            await self.application.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                reply_parameters=params,
                message_thread_id=thread,
            )
            return chat_id
        except ChatMigrated as exc:
            log.warning(
                "telegram: group %s migrated to supergroup %s; resending there",
                chat_id,
                exc.new_chat_id,
            )
            await self._moved(chat_id, exc.new_chat_id)
            await self.application.bot.send_message(
                exc.new_chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            return exc.new_chat_id
        except BadRequest as exc:
            if "parse entities" not in exc.message.lower():
                raise
            # Our markup should always parse; if it does not, say it without tags, not nothing.
            log.error("telegram: HTML refused (%s); sending it without markup", exc.message)
            await self.application.bot.send_message(
                chat_id,
                html.escape(to_plain(text), quote=False),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
            return chat_id


class TelegramSender:
    """Delivers outbox notifications to Telegram chats, naming each outcome for the dispatcher.

    Its own PTB Bot, without PTB's rate limiter: a 429 goes back to the dispatcher, which holds
    that row back and keeps sending to everyone else.
    """

    prefix = "telegram"

    def __init__(
        self,
        renderer: Renderer,
        token: str,
        api_url: str = "https://api.telegram.org",
        per_second: float = NOTIFY_RATE,
    ) -> None:
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.renderer = renderer
        self.per_second = per_second
        base = api_url.rstrip("/")
        self.bot = Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")

    async def start(self) -> None:
        """Open the HTTP client (and log in with getMe)."""
        await self.bot.initialize()

    async def stop(self) -> None:
        """Close the HTTP client."""
        await self.bot.shutdown()

    def pace(self, target: str) -> Pace:
        """Groups (negative ids) 20 a minute, private chats 1 a second, 25 a second in all."""
        group = target.partition(":")[2].strip().startswith("-")
        return Pace(self.per_second, GROUP_INTERVAL if group else PRIVATE_INTERVAL)

    async def send(self, target: str, reply: Reply) -> None:
        """Send the notification as HTML (split when long, chunks paced like messages)."""
        try:
            chat_id = int(target.partition(":")[2])
        except ValueError:
            raise Undeliverable(f"not a Telegram chat id: {target[:100]!r}") from None
        chunks = split_html(self.renderer.html(reply))
        try:
            for i, chunk in enumerate(chunks):
                if i:
                    await asyncio.sleep(self.pace(target).min_interval)
                await self._send_text(chat_id, chunk)
        except RetryAfter as exc:
            raise RetryLater(retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise Undeliverable(f"forbidden: {exc.message}") from exc
        except ChatMigrated as exc:
            raise Moved(f"telegram:{exc.new_chat_id}") from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise Undeliverable(f"chat not found: {exc.message}") from exc
            raise

    async def _send_text(self, chat_id: int, text: str) -> None:
        try:
            await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            if "parse entities" not in exc.message.lower():
                raise
            log.error("telegram: HTML refused (%s); sending it without markup", exc.message)
            await self.bot.send_message(
                chat_id, html.escape(to_plain(text), quote=False), parse_mode=ParseMode.HTML
            )
