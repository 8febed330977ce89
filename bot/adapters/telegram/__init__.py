"""Telegram: python-telegram-bot in (polling or webhook), HTML and keyboards out, the sender.

The package's surface is `platform` (the web app's routes and start/stop) and
`outbox_sender` (its outbox notifications), both None when the settings leave Telegram off.
Importing the package loads no Telegram library: its modules load when the platform is on.

- `markup`: replies as Telegram HTML split into valid messages, keyboards, the command menu
- `intake`: PTB's bot with polling that stores each batch first and skips unreadable updates
- `limiter`: the reply rate limits, a flood wait holding back only its own chat
- `adapter`: TelegramAdapter, updates in and replies out
- `routes`: `/telegram/webhook` with its secret, body limit and duplicate-update check
- `sender`: TelegramSender, outbox notifications and how their failures are named
- `credentials`: getMe, the credentials check of /readyz and `clusterbot doctor`
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.platform import Bot, Engine, OnFatal, Platform, Probe, Renderer, Sender, Settings


ORDER = 1
SETTINGS_HINT = "TELEGRAM_BOT_TOKEN"
SENDER_HINT = SETTINGS_HINT  # its sender needs the same


def serves(settings: "Settings") -> bool:
    """Whether the settings turn this chat platform on."""
    return bool(settings.telegram_bot_token)


def platform(
    bot: "Bot", settings: "Settings", on_fatal: "OnFatal | None" = None
) -> "Platform | None":
    """Telegram's routes and start/stop when a bot token is set, else None."""
    if not serves(settings):
        return None
    from bot.adapters.telegram.routes import telegram_platform

    return telegram_platform(bot, settings, on_fatal)


def outbox_sender(settings: "Settings", renderer: "Renderer", engine: "Engine") -> "Sender | None":
    """The outbox's sender for `telegram:` targets when a bot token is set, else None."""
    if not settings.telegram_bot_token:
        return None
    from bot.adapters.telegram.sender import TelegramSender

    return TelegramSender(
        renderer,
        settings.telegram_bot_token,
        api_url=settings.telegram_api_url,
        per_second=settings.telegram_notify_rate,
    )


PROBE_FIX = (
    "check TELEGRAM_BOT_TOKEN (@BotFather: /mybots, API Token) and that this machine reaches "
    "TELEGRAM_API_URL (default https://api.telegram.org)"
)


def probe(settings: "Settings") -> "Probe | None":
    """The getMe check when a bot token is set, else None."""
    token = settings.telegram_bot_token
    if not token:
        return None
    from bot.adapters.telegram.credentials import get_me

    url = settings.telegram_api_url
    return lambda: get_me(token, url)


def secrets(settings: "Settings") -> list[str | None]:
    """What Telegram's log lines must never show."""
    return [settings.telegram_bot_token, settings.telegram_webhook_secret]
