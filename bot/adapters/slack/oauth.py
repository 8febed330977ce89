"""Slack OAuth stores: slack_sdk's SQLAlchemy stores on our own (sync) engine."""

import asyncio
import logging
from typing import Any

from slack_sdk.oauth.installation_store import Bot as InstalledBot
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

log = logging.getLogger("clusterbot.slack")


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store for async Bolt, run in worker threads.

    The sync store works on the engine we already have (SQLite or PostgreSQL); its async twin
    would need a second, async engine and driver.
    """

    def __init__(self, engine: Engine) -> None:
        self.store = SQLAlchemyInstallationStore(client_id="", engine=engine)

    @property
    def logger(self) -> logging.Logger:
        """The store's logger (required by the interface)."""
        return log

    async def async_save(self, installation: Installation) -> None:
        """Store a workspace's installation (tokens) after the OAuth flow."""
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: InstalledBot) -> None:
        """Store a workspace's bot token."""
        await asyncio.to_thread(self.store.save_bot, bot)

    # slack_sdk gives each sync method and its async twin the same keyword arguments
    # (enterprise_id, team_id, ...): they are passed on as Bolt gave them, none copied by hand.

    async def async_find_bot(self, **where: Any) -> InstalledBot | None:
        """The bot installed in a workspace, if any."""
        return await asyncio.to_thread(self.store.find_bot, **where)

    async def async_find_installation(self, **where: Any) -> Installation | None:
        """A workspace's installation, if any."""
        return await asyncio.to_thread(self.store.find_installation, **where)

    async def async_delete_bot(self, **where: Any) -> None:
        """Forget a workspace's bot (the app was uninstalled)."""
        await asyncio.to_thread(self.store.delete_bot, **where)

    async def async_delete_installation(self, **where: Any) -> None:
        """Forget a workspace's installation."""
        await asyncio.to_thread(self.store.delete_installation, **where)


class ThreadedStateStore(AsyncOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store for async Bolt, run in worker threads."""

    def __init__(self, engine: Engine, expiration_seconds: int = 600) -> None:
        self.store = SQLAlchemyOAuthStateStore(
            expiration_seconds=expiration_seconds, engine=engine
        )

    @property
    def logger(self) -> logging.Logger:
        """The store's logger (required by the interface)."""
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state value for one install attempt."""
        return await asyncio.to_thread(self.store.issue)

    async def async_consume(self, state: str) -> bool:
        """True once for a state we issued and that has not expired."""
        return await asyncio.to_thread(self.store.consume, state)
