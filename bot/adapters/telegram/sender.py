"""Telegram's sender: outbox notifications to `telegram:CHAT_ID`, each outcome named."""

import asyncio
import datetime as dtm
import html
import logging
import os
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from bot.adapters.telegram.address import ADDRESS
from bot.adapters.telegram.markup import split_html
from bot.core import Reply
from bot.outbox import Moved, Pace, RetryLater, Undeliverable, clamp_seconds
from bot.render import Renderer, to_plain

log = logging.getLogger("clusterbot.telegram")

# Telegram allows about 30 messages a second overall; notifications take 25 of them, so the
# replies the adapter sends to people asking questions always find room (README: Notifications).
NOTIFY_RATE = 25.0
# One message a second to a private chat, 20 a minute to a group; a little margin for jitter.
PRIVATE_INTERVAL = 1.1
GROUP_INTERVAL = 3.1


def retry_seconds(exc: RetryAfter) -> float:
    """A RetryAfter's wait in seconds (PTB gives int or timedelta), within 0..MAX_WAIT."""
    value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, dtm.timedelta) else value
    return clamp_seconds(seconds, default=1.0)



class TelegramSender:
    """Delivers outbox notifications to Telegram chats, naming each outcome for the dispatcher.

    Its own PTB Bot, without PTB's rate limiter: a 429 goes back to the dispatcher, which holds
    that row back and keeps sending to everyone else.
    """

    address = ADDRESS  # whom and where it reaches: domain code asks the Address
    prefix = ADDRESS.platform

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
