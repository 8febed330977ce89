"""WhatsApp (Cloud API): the signed webhook in, WhatsApp text, buttons and lists out, the sender.

Importing the package loads no HTTP library: its modules load when WhatsApp is configured.

- `settings`: WhatsAppSettings, the WHATSAPP_* variables
- `text`: the renderer's HTML subset as WhatsApp text, split; choices as buttons, list, numbers
- `api`: Graph, the Cloud API calls (messages, media) over httpx; the error codes
- `adapter`: WhatsAppAdapter, the webhook routes (handshake, signature, inbox) and the replies
- `store`: the 24-hour window and delivery statuses, in the database
- `sender`: WhatsAppSender, outbox notifications paced for Meta, the template outside the window
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.outbox import Sender
    from bot.render import Renderer
    from bot.settings import Settings


def outbox_sender(settings: "Settings", renderer: "Renderer", engine: "Engine") -> "Sender | None":
    """The outbox's sender for `whatsapp:` targets when WhatsApp is configured, else None."""
    if not settings.whatsapp.configured:
        return None
    from bot.adapters.whatsapp.sender import WhatsAppSender

    return WhatsAppSender(renderer, engine, settings.whatsapp)
