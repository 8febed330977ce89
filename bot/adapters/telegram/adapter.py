"""The Telegram adapter: updates in as Incoming, Replies out as HTML with inline keyboards.

With an engine, every update is written to the inbox (bot/inbox.py) before Telegram may forget
it: in polling mode before getUpdates returns to PTB (so the next call's offset confirms only
stored updates), in webhook mode before the 200 (routes.py). An inbox worker calls `answer`.
"""

import asyncio
import contextlib
import datetime as dtm
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from telegram import (
    CallbackQuery,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    Conflict,
    Forbidden,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter
from telegram.ext import TypeHandler as _TypeHandler

from bot import inbox
from bot.adapters.telegram.delivery import classify, deliver
from bot.adapters.telegram.intake import TolerantBot
from bot.adapters.telegram.limiter import ChatRateLimiter
from bot.adapters.telegram.markup import MAX_CALLBACK_DATA, command_menu
from bot.core import Incoming, Reply, split_command
from bot.outbox import RetryLater, Undeliverable
from bot.render import Renderer

log = logging.getLogger("clusterbot.telegram")

Handle = Callable[[Incoming], Awaitable[list[Reply]]]
# Told when a chat moved (old target, new target) or is gone (target, reason): records it.
OnMoved = Callable[[str, str], Awaitable[None]]
OnGone = Callable[[str, str], Awaitable[None]]
PTBApplication = Application[Any, Any, Any, Any, Any, Any]

PLATFORM = "telegram"  # our name for Telegram in the inbox table
MAX_INCOMING = 4096  # Telegram never sends more: a longer text is not a real user message
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}
CHATS_AT_ONCE = 16  # chats whose updates are handled at the same time (each chat in order)
STOP_GRACE = 10.0  # seconds replies in progress get to finish at stop
# Pauses before a reply's message is sent again after a network failure or a Telegram 5xx: the
# update is marked answered once its reply is out, so a passing fault must not cost the reply.
RESEND_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)
CONFLICT_MESSAGE = (
    "Telegram answered 409 Conflict to getUpdates: another instance is already polling this "
    "bot token. Stopping this one instead of fighting it. Run one polling instance per token, "
    "or set TELEGRAM_WEBHOOK_URL to run several workers behind a webhook."
)


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
        menu: Sequence[tuple[str, str]] = (),
        chat_settings: Collection[str] = (),
    ) -> None:
        # PTB 22 gives RetryAfter.retry_after as int unless this is set; later majors always
        # use timedelta. Opt in now (retry_seconds reads both).
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        if webhook_url and not webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET as well")
        self.handle = handle
        self.menu = list(menu)  # (command, text marked N_): the router's menu
        self.chat_settings = frozenset(chat_settings)  # in a group, for its admins only
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
        bot = TolerantBot(
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
                commands = command_menu(self.menu, lang or "en")
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
        if command is None or command[0] not in self.chat_settings or user is None:
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

    async def send(
        self,
        chat_id: int,
        replies: list[Reply],
        reply_to: int | None = None,
        thread: int | None = None,
    ) -> None:
        """Send replies to a chat; a failure is logged, and a chat gone for good recorded."""
        chat_id = self.migrated.get(chat_id, chat_id)
        bot, follow = self.application.bot, self._moved
        try:
            await deliver(
                bot,
                self.renderer,
                chat_id,
                replies,
                reply_to,
                thread,
                follow=follow,
                resend=RESEND_PAUSES,
            )
        except TelegramError as exc:
            chat_id = self.migrated.get(chat_id, chat_id)
            outcome = classify(exc)
            if isinstance(exc, Forbidden):
                log.warning(
                    "telegram: chat %s cannot be reached (the user blocked the bot or it was "
                    "removed): %s; reply not delivered",
                    chat_id,
                    exc.message,
                )
            elif isinstance(outcome, RetryLater):
                log.error(
                    "telegram: chat %s still rate limited after retries (retry after %.0f s)",
                    chat_id,
                    outcome.seconds,
                )
            else:
                log.error("telegram: sending to chat %s failed: %s", chat_id, exc)
            if isinstance(outcome, Undeliverable):
                await self._gone(chat_id, str(outcome))
