"""Adapters: the only code that knows a platform (native input in, rendered Reply out).

Each platform is a package here (`slack/`, `telegram/`, `webhook/`) with the same surface:
`platform(bot, settings, on_fatal)`, its routes and start/stop for the web app, and
`outbox_sender(settings, renderer, engine)`, its outbox sender; each is None when the settings
leave the platform off. The packages are found by looking, so a new one is served without a line
changed here; `terminal.py` is the local chat, not served.
"""

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.app import Bot
    from bot.outbox import Sender
    from bot.platform import Platform
    from bot.render import Renderer
    from bot.settings import Settings


def packages() -> list[ModuleType]:
    """Every platform package, in name order (importing one loads no platform library)."""
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)
    return [importlib.import_module(f"{__name__}.{name}") for name in found]


def platforms(
    bot: "Bot", settings: "Settings", on_fatal: Callable[[str], None] | None = None
) -> list["Platform"]:
    """The platforms the settings turn on, each with its routes and start/stop."""
    made = [package.platform(bot, settings, on_fatal) for package in packages()]
    return [p for p in made if p is not None]


def senders(settings: "Settings", renderer: "Renderer", engine: "Engine") -> list["Sender"]:
    """One Sender per configured platform; targets of any other platform wait in the outbox."""
    made = [package.outbox_sender(settings, renderer, engine) for package in packages()]
    return [s for s in made if s is not None]
