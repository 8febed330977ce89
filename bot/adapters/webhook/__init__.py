"""Outgoing webhooks: signed JSON POSTs of notifications, for partners on other tools.

Send-only: `platform` is always None (nothing comes in); `outbox_sender` serves `webhook:`
targets when CLUSTERBOT_WEBHOOK_SECRET is set. `sender.py` holds the signing and the POST.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.platform import Bot, Engine, OnFatal, Platform, Probe, Renderer, Sender, Settings


ORDER = 3
SETTINGS_HINT = ""  # nothing to serve
SENDER_HINT = "CLUSTERBOT_WEBHOOK_SECRET"


def serves(settings: "Settings") -> bool:
    """Never: webhooks are no chat platform to serve."""
    return False


def platform(
    bot: "Bot", settings: "Settings", on_fatal: "OnFatal | None" = None
) -> "Platform | None":
    """Nothing to serve: webhooks only go out."""
    return None


def outbox_sender(settings: "Settings", renderer: "Renderer", engine: "Engine") -> "Sender | None":
    """The outbox's sender for `webhook:` targets when the signing secret is set, else None."""
    if not settings.webhook_secret:
        return None
    from bot.adapters.webhook.sender import WebhookSender

    timeout = settings.webhook_timeout_seconds
    return WebhookSender(renderer, settings.webhook_secret, timeout=timeout)


PROBE_FIX = ""  # no credentials to check: partners' endpoints are asked as notices go


def probe(settings: "Settings") -> "Probe | None":
    """None: there is no account to log in to."""
    return None


def secrets(settings: "Settings") -> list[str | None]:
    """The signing secret: never in a log line."""
    return [settings.webhook_secret]
