"""Telegram's sender: outbox notifications to `telegram:CHAT_ID`, each outcome named."""

import os

from telegram import Bot
from telegram.error import TelegramError

from bot.adapters.telegram.address import ADDRESS
from bot.adapters.telegram.delivery import classify, deliver
from bot.core import Reply
from bot.outbox import Pace, Reaching, Undeliverable
from bot.render import Renderer

# Telegram allows about 30 messages a second overall; notifications take 25 of them, so the
# replies the adapter sends to people asking questions always find room (README: Notifications).
NOTIFY_RATE = 25.0
# One message a second to a private chat, 20 a minute to a group; a little margin for jitter.
PRIVATE_INTERVAL = 1.1
GROUP_INTERVAL = 3.1


class TelegramSender(Reaching, address=ADDRESS):
    """Delivers outbox notifications to Telegram chats, naming each outcome for the dispatcher.

    Its own PTB Bot, without PTB's rate limiter: a 429 goes back to the dispatcher, which holds
    that row back and keeps sending to everyone else.
    """

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
        gap = self.pace(target).min_interval
        try:
            await deliver(self.bot, self.renderer, chat_id, [reply], gap=gap)
        except TelegramError as exc:
            outcome = classify(exc)  # retry later, undeliverable or moved, as for replies
            if outcome is None:
                raise
            raise outcome from exc
