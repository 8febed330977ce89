"""WhatsApp (Cloud API): the signed webhook in, WhatsApp text, buttons and lists out, the sender.

The package's surface is `platform` (the web app's routes and start/stop) and
`outbox_sender` (its outbox notifications), both None when the settings leave WhatsApp off.
Importing the package loads no HTTP library: its modules load when WhatsApp is configured.

- `settings`: WhatsAppSettings, the WHATSAPP_* variables
- `address`: how WhatsApp writes people and targets (`whatsapp:WA_ID`)
- `text`: the renderer's HTML subset as WhatsApp text, split; choices as buttons, list, numbers
- `api`: Graph, the Cloud API calls (messages, media) over httpx; the error codes
- `delivery`: one `deliver()` for replies and notifications, one `classify()` of failures
- `adapter`: WhatsAppAdapter, the webhook routes (handshake, signature, inbox) and the replies
- `store`: the 24-hour window and delivery statuses, in the database
- `sender`: WhatsAppSender, outbox notifications paced for Meta, the template outside the window
- `credentials`: the sending number read with the token (/readyz, `clusterbot doctor`)
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.platform import Bot, Engine, OnFatal, Platform, Probe, Renderer, Sender, Settings


ORDER = 3
SETTINGS_HINT = (
    "WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN"
)
SENDER_HINT = SETTINGS_HINT  # its sender needs the same


def serves(settings: "Settings") -> bool:
    """Whether the settings turn this chat platform on (all four secrets and ids set)."""
    return settings.whatsapp.configured


def platform(
    bot: "Bot", settings: "Settings", on_fatal: "OnFatal | None" = None
) -> "Platform | None":
    """WhatsApp's webhook routes and start/stop when it is configured, else None."""
    if not serves(settings):
        return None
    from bot.adapters.whatsapp.adapter import whatsapp_platform

    return whatsapp_platform(bot, settings.whatsapp)


def outbox_sender(settings: "Settings", renderer: "Renderer", engine: "Engine") -> "Sender | None":
    """The outbox's sender for `whatsapp:` targets when WhatsApp is configured, else None."""
    if not serves(settings):
        return None
    from bot.adapters.whatsapp.sender import WhatsAppSender

    return WhatsAppSender(renderer, engine, settings.whatsapp)


PROBE_FIX = (
    "check WHATSAPP_TOKEN (a system user's token with whatsapp_business_messaging, not expired) "
    "and WHATSAPP_PHONE_NUMBER_ID (WhatsApp, API Setup), and that this machine reaches "
    "WHATSAPP_API_URL (default https://graph.facebook.com/v23.0)"
)


def probe(settings: "Settings") -> "Probe | None":
    """The sending number read with the token when WhatsApp is configured, else None."""
    wa = settings.whatsapp
    if not (serves(settings) and wa.token and wa.phone_number_id):
        return None
    from bot.adapters.whatsapp.credentials import phone_number

    token, number, url = wa.token, wa.phone_number_id, wa.api_url
    return lambda: phone_number(token, number, url)


def secrets(settings: "Settings") -> list[str | None]:
    """What WhatsApp's log lines must never show."""
    wa = settings.whatsapp
    return [wa.token, wa.app_secret, wa.verify_token]
