"""Settings from environment variables (and an optional .env); read by entry points only."""

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting clusterbot reads; README.md lists them with their meaning."""

    model_config = SettingsConfigDict(env_prefix="CLUSTERBOT_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{Path.cwd() / 'clusterbot.db'}"
    default_language: str = "en"
    log_level: str = "WARNING"
    drafts_dir: Path = Path("drafts")
    # The platforms' own names, without our prefix (the names their documentation uses).
    telegram_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token")
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        validation_alias=AliasChoices("TELEGRAM_API_URL", "telegram_api_url"),
    )
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_WEBHOOK_URL", "telegram_webhook_url")
    )
    telegram_webhook_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret"),
    )
    # Outgoing webhooks are signed with this (HMAC-SHA256); without it they stay pending.
    webhook_secret: str | None = None
    # The notification dispatcher (README: Notifications).
    dispatch_in_serve: bool = True  # run a dispatcher inside `clusterbot serve`
    outbox_max_attempts: int = 8  # failures before a message goes to the dead letters
    outbox_backoff_seconds: float = 30.0  # first retry after a failure; doubles each time
    outbox_lease_seconds: float = 60.0  # a claim another dispatcher may take over once passed
    outbox_concurrency: int = 32  # messages one dispatcher holds in flight at most
    outbox_rate_share: float = 1.0  # this dispatcher's share of each platform's rate
    telegram_notify_rate: float = 25.0  # notifications a second (Telegram allows ~30 in all)
