"""Outbox notifications to `whatsapp:WA_ID`: text inside the 24-hour window, else the template."""

import asyncio
import logging
from typing import Any

from sqlalchemy.engine import Engine

from bot.adapters.whatsapp import store
from bot.adapters.whatsapp.address import ADDRESS
from bot.adapters.whatsapp.api import OUTSIDE_WINDOW, Graph, GraphError
from bot.adapters.whatsapp.delivery import classify, deliver
from bot.adapters.whatsapp.settings import WhatsAppSettings
from bot.core import Reply
from bot.outbox import Pace, Reaching, Undeliverable, current_key
from bot.render import Renderer

log = logging.getLogger("clusterbot.whatsapp")

TEMPLATE_KIND = "endorsed"  # the one notice registered as a template with Meta
# Notifications take this share of the number's throughput: the replies the adapter sends to
# people asking questions always find room (as Telegram's 25 of 30 a second).
NOTIFY_SHARE = 0.85


def wa_id(target: str) -> str:
    """The WhatsApp id (digits) of a `whatsapp:WA_ID` target; Undeliverable when it is none."""
    if not ADDRESS.reaches(target):
        raise Undeliverable(f"not a WhatsApp target: {target[:100]!r}")
    return target.partition(":")[2]


def _param(text: str) -> dict[str, str]:
    # Template parameters may hold no newline or tab, nor more than four spaces in a row.
    return {"type": "text", "text": " ".join(str(text).split())[:1000] or "-"}


def template_content(settings: WhatsAppSettings, reply: Reply) -> dict[str, Any]:
    """`cluster_activation_endorsed` with its parameters: country, clusters, proposal id."""
    data = reply.data
    country = (data.get("country") or {}).get("name") or ""
    clusters = ", ".join(str(c.get("name") or c.get("id")) for c in data.get("clusters") or [])
    return {
        "name": settings.template_name,
        "language": {"code": settings.template_language(reply.lang)},
        "components": [
            {
                "type": "body",
                "parameters": [_param(country), _param(clusters), _param(str(data.get("id")))],
            }
        ],
    }


class WhatsAppSender(Reaching, address=ADDRESS):
    """Sends notifications from one number, paced for Meta's limits, naming each outcome.

    Inside a person's 24-hour window (their last message, from the database) the notice goes as
    text; outside it, or when WhatsApp answers 131047, the endorsement goes as the registered
    template. 130429 and 131056 are held back (RetryLater); 131026 and the other permanent
    refusals are Undeliverable with WhatsApp's reason (`delivery.classify`, as for replies).
    """

    def __init__(self, renderer: Renderer, engine: Engine, settings: WhatsAppSettings) -> None:
        assert settings.token and settings.phone_number_id
        self.renderer = renderer
        self.engine = engine
        self.settings = settings
        self.graph = Graph(settings.token, settings.phone_number_id, settings.api_url)

    async def start(self) -> None:
        """Open the HTTP client."""
        await self.graph.start()

    async def stop(self) -> None:
        """Close the HTTP client."""
        await self.graph.stop()

    def pace(self, target: str) -> Pace:
        """85% of the number's throughput; one message every 6 s (a setting) to one person."""
        return Pace(self.settings.notify_rate * NOTIFY_SHARE, self.settings.person_interval)

    async def send(self, target: str, reply: Reply) -> None:
        """Send the notification as text in the window, else as the template."""
        to = wa_id(target)
        key = current_key.get()
        try:
            if await asyncio.to_thread(store.window_open, self.engine, target):
                try:
                    wamid = await self._text(to, reply)
                except GraphError as exc:
                    if exc.code != OUTSIDE_WINDOW:
                        raise
                    log.info("whatsapp: %s is outside the window after all; template", target)
                    await asyncio.to_thread(store.close_window, self.engine, target)
                    wamid = await self._template(to, reply)
            else:
                wamid = await self._template(to, reply)
        except GraphError as exc:
            outcome = classify(exc, self.settings.person_interval)
            if outcome is None:
                raise  # anything else is transient: retried with backoff
            raise outcome from exc
        await asyncio.to_thread(store.note_sent, self.engine, key, wamid)

    async def _text(self, to: str, reply: Reply) -> str:
        gap = self.settings.person_interval  # a long notice's parts keep the person's pace
        return await deliver(self.graph, self.renderer, to, reply, gap=gap)

    async def _template(self, to: str, reply: Reply) -> str:
        if reply.data.get("kind") != TEMPLATE_KIND:
            # Only the endorsement is registered with Meta: anything else waits (and is
            # retried) until the person writes again, or goes to the dead letters.
            raise RuntimeError(
                f"outside the 24-hour window, and no template for {reply.data.get('kind')!r}"
            )
        return await self.graph.send(to, "template", template_content(self.settings, reply))
