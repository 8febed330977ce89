"""Telegram's limits for replies: 30 a second in all, 20 a minute a group, flood waits per chat."""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.adapters.telegram.delivery import retry_seconds

log = logging.getLogger("clusterbot.telegram")

REPLY_RATE = 30.0  # replies a second, all chats together (Telegram's own limit)


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
