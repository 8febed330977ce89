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
