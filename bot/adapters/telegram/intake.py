"""PTB's bot with polling that one malformed update cannot stall, storing each batch first."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import ExtBot

log = logging.getLogger("clusterbot.telegram")


class TolerantBot(ExtBot[Any]):
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
