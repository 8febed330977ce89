"""One way to send to a Telegram chat, for replies and notifications alike; failures named.

A failure is one of: retry later (a flood wait), undeliverable (the bot was blocked, the chat
is gone) or moved (a group became a supergroup); anything else is a transient error.
"""

import asyncio
import datetime as dtm
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.adapters.telegram.markup import keyboard, split_html
from bot.core import Reply
from bot.outbox import Moved, RetryLater, Undeliverable, clamp_seconds
from bot.render import Renderer, to_plain
from bot.word import docx_file

log = logging.getLogger("clusterbot.telegram")

# Told that a group moved (old id, new id) before its message is sent again there.
Follow = Callable[[int, int], Awaitable[None]]


def retry_seconds(exc: RetryAfter) -> float:
    """A RetryAfter's wait in seconds (PTB gives int or timedelta), within 0..MAX_WAIT."""
    value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, dtm.timedelta) else value
    return clamp_seconds(seconds, default=1.0)


def classify(exc: TelegramError) -> RetryLater | Undeliverable | Moved | None:
    """What a failed send means; None for anything else (a transient error, or ours)."""
    if isinstance(exc, RetryAfter):
        return RetryLater(retry_seconds(exc))
    if isinstance(exc, Forbidden):
        return Undeliverable(f"forbidden: {exc.message}")
    if isinstance(exc, ChatMigrated):
        return Moved(f"telegram:{exc.new_chat_id}")
    if isinstance(exc, BadRequest) and "chat not found" in exc.message.lower():
        return Undeliverable(f"chat not found: {exc.message}")
    return None


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
    thread: int | None = None,
) -> None:
    """One sendMessage in HTML; markup Telegram refuses is sent again as plain text."""
    params = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    try:
        await bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            reply_parameters=params,
            message_thread_id=thread,
        )
    except BadRequest as exc:
        if "parse entities" not in exc.message.lower():
            raise
        # Our markup should always parse; if it does not, say it without tags, not nothing.
        log.error("telegram: HTML refused (%s); sending it without markup", exc.message)
        await bot.send_message(
            chat_id,
            html.escape(to_plain(text), quote=False),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )


async def _send_following(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    reply_to: int | None,
    thread: int | None,
    follow: Follow | None,
) -> int:
    """One message; with `follow`, a group's migration is followed once. The chat id used."""
    try:
        await send_text(bot, chat_id, text, markup, reply_to, thread)
        return chat_id
    except ChatMigrated as exc:
        if follow is None:
            raise
        log.warning(
            "telegram: group %s migrated to supergroup %s; resending there",
            chat_id,
            exc.new_chat_id,
        )
        await follow(chat_id, exc.new_chat_id)
        await send_text(bot, exc.new_chat_id, text, markup)
        return exc.new_chat_id


async def deliver(
    bot: Bot,
    renderer: Renderer,
    chat_id: int,
    replies: list[Reply],
    reply_to: int | None = None,
    thread: int | None = None,
    gap: float = 0.0,
    follow: Follow | None = None,
    resend: Sequence[float] = (),
) -> int:
    """Send replies as HTML messages (split when long), with buttons and files.

    `gap` seconds pass between the pieces of one long reply (notifications are paced so);
    with `follow`, a group's migration is followed once, else ChatMigrated is raised. A
    message a passing failure lost (a time-out, a 5xx) is sent again after each pause of
    `resend` (replies: their update counts as answered once they are out; a time-out may
    hide a message that arrived, so this risks a duplicate, never a loss). Any other
    TelegramError is raised for the caller to `classify`. Returns the chat id used.
    """
    for reply in replies:
        chunks = split_html(renderer.html(reply))
        markup = keyboard(reply.choices) if reply.choices else None
        for i, chunk in enumerate(chunks):
            if i and gap:
                await asyncio.sleep(gap)
            last = markup if i == len(chunks) - 1 else None
            for pause in resend:
                try:
                    chat_id = await _send_following(
                        bot, chat_id, chunk, last, reply_to, thread, follow
                    )
                    break
                except NetworkError as exc:
                    if isinstance(exc, BadRequest):
                        raise  # Telegram refused this message: sending it again changes nothing
                    log.warning("telegram: sending to %s failed (%s); again soon", chat_id, exc)
                    await asyncio.sleep(pause)
            else:
                chat_id = await _send_following(
                    bot, chat_id, chunk, last, reply_to, thread, follow
                )
            reply_to = None  # only the first message answers the user's
        if reply.file_name:
            # The text is the message above; the file is the Word version to edit.
            # Building a .docx takes ~0.2 s: off the event loop.
            name, content = await asyncio.to_thread(
                docx_file, renderer.document(reply), reply.file_name, reply.lang
            )
            await bot.send_document(
                chat_id, document=content, filename=name, message_thread_id=thread
            )
    return chat_id
