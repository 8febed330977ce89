"""Settings from environment variables (and an optional .env); read by entry points only."""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.adapters.whatsapp.settings import WhatsAppSettings


class Settings(BaseSettings):
    """Every setting clusterbot reads; README.md lists them with their meaning."""

    model_config = SettingsConfigDict(env_prefix="CLUSTERBOT_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{Path.cwd() / 'clusterbot.db'}"
    default_language: str = "en"
    log_level: str = "WARNING"
    # "text" (one line a record, for people) or "json" (one object a line, for log shippers).
    log_format: Literal["text", "json"] = "text"
    drafts_dir: Path = Path("drafts")
    # The knowledge indexes, built once and kept here so `clusterbot ask` starts fast; an
    # empty value keeps nothing on disk.
    cache_dir: Path | None = Path.home() / ".cache" / "clusterbot"

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _no_cache_when_empty(cls, value: object) -> object:
        # An empty CLUSTERBOT_CACHE_DIR means "keep nothing", not the working directory.
        return None if value in ("", None) else value

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
    slack_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id")
    )
    slack_client_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "slack_client_secret")
    )
    slack_app_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url"),
    )

    @property
    def slack_configured(self) -> bool:
        """Slack runs when there is a token (or an OAuth app) and a signing secret."""
        return bool((self.slack_bot_token or self.slack_client_id) and self.slack_signing_secret)

    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)  # WHATSAPP_*

    # Outgoing webhooks are signed with this (HMAC-SHA256); without it they stay pending.
    webhook_secret: str | None = None
    # A partner's endpoint that hangs holds a webhook slot this long at most.
    webhook_timeout_seconds: float = 5.0
    # The notification dispatcher (README: Notifications).
    dispatch_in_serve: bool = True  # run a dispatcher inside `clusterbot serve`
    outbox_max_attempts: int = 8  # failures before a message goes to the dead letters
    outbox_backoff_seconds: float = 30.0  # first retry after a failure; doubles each time
    outbox_lease_seconds: float = 60.0  # a claim another dispatcher may take over once passed
    outbox_concurrency: int = 32  # messages one dispatcher holds in flight, per platform
    outbox_rate_share: float = 1.0  # this dispatcher's share of each platform's rate
    telegram_notify_rate: float = 25.0  # notifications a second (Telegram allows ~30 in all)
    # Coordinators are reminded when an announced activation has clusters without a
    # deactivation/transition plan this many days after the announcement.
    transition_plan_days: int = 90
    # A country record not confirmed for this many days is shown as possibly out of date, and
    # the coordinators of its country are reminded (once per record per period).
    record_max_age_days: int = 90
    # HDX HAPI (operational presence, `clusterbot sync presence`): the app identifier HAPI asks
    # every request to carry (base64 of "app-name:email"; HAPI's encoded-identifier endpoint
    # makes one), and the endpoint (a mirror, or the tests' stand-in).
    hapi_app_identifier: str | None = None
    hapi_url: str = "https://hapi.humdata.org/api/v2/coordination-context/operational-presence"
    # Operations (README: Running in production). /readyz wants some dispatcher's heartbeat
    # at most this many seconds old; 0 leaves the dispatcher out of readiness.
    ready_dispatcher_seconds: float = 60.0
    # `clusterbot dispatch` serves its /metrics at this HOST:PORT ("[::1]:9100" for IPv6);
    # empty: no metrics server.
    # (`serve` has /metrics on its own port.)
    metrics_address: str = ""
    # Set, /metrics (of `serve` and of `dispatch`) answers only "Authorization: Bearer <this>".
    metrics_token: str | None = None
    # Platform requests one `serve` handles at once; more are refused (503, Retry-After: the
    # platform resends) rather than all acknowledged late. 0: no limit.
    max_requests_in_flight: int = 1000
