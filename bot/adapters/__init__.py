"""Adapters: the only code that knows a platform (native input in, rendered Reply out).

Each platform is a package here (`slack/`, `telegram/`, `webhook/`, `whatsapp/`) with the same
surface: `platform(bot, settings, on_fatal)`, its routes and start/stop for the web app,
`outbox_sender(settings, renderer, engine)`, its outbox sender, and `probe(settings)`, its
credentials check; each is None when the settings leave the platform off. `secrets(settings)`
names what log lines must never show. Its constants say, for what people read: `ORDER`, its
place in lists (forms, hints) and at start; `SETTINGS_HINT`, what to set to serve it (for
`clusterbot serve` when no platform is; empty when nothing is served); `SENDER_HINT`, what to
set for its outbox sender (for `clusterbot dispatch` when there is none); `PROBE_FIX`, what to
do when the platform refuses our credentials. The packages are found by looking, so a new one
is served without a line changed here; `terminal.py` is the local chat, not served.
"""

import importlib
import pkgutil
from types import ModuleType
from typing import TYPE_CHECKING

from bot.adapters import terminal
from bot.core import ADDRESSES

if TYPE_CHECKING:
    from bot.platform import Bot, Engine, OnFatal, Platform, Probe, Renderer, Sender, Settings


def packages() -> list[ModuleType]:
    """Every platform package, in its ORDER (importing one loads no platform library)."""
    found = [m.name for m in pkgutil.iter_modules(__path__) if m.ispkg]
    modules = [importlib.import_module(f"{__name__}.{name}") for name in found]
    return sorted(modules, key=lambda m: (m.ORDER, m.__name__))


def _name(package: ModuleType) -> str:
    return package.__name__.rpartition(".")[2]


def served(settings: "Settings") -> list[str]:
    """The names of the chat platforms the settings turn on (what `clusterbot serve` serves)."""
    return [_name(p) for p in packages() if p.serves(settings)]


def setting_hints() -> list[str]:
    """What to set to turn each chat platform on, for a message that none is."""
    return [p.SETTINGS_HINT for p in packages() if p.SETTINGS_HINT]


def sender_hints() -> list[str]:
    """What to set to turn each platform's outbox sender on, for a message that none is."""
    return [p.SENDER_HINT for p in packages() if p.SENDER_HINT]


# Each package's address module is as light as its __init__: both load at import.
for _package in packages():
    ADDRESSES.register(importlib.import_module(f"{_package.__name__}.address").ADDRESS)
ADDRESSES.register(terminal.ADDRESS)


def platforms(
    bot: "Bot", settings: "Settings", on_fatal: "OnFatal | None" = None
) -> list["Platform"]:
    """The platforms the settings turn on, each with its routes and start/stop."""
    made = [package.platform(bot, settings, on_fatal) for package in packages()]
    return [p for p in made if p is not None]


def senders(settings: "Settings", renderer: "Renderer", engine: "Engine") -> list["Sender"]:
    """One Sender per configured platform; targets of any other platform wait in the outbox."""
    made = [package.outbox_sender(settings, renderer, engine) for package in packages()]
    return [s for s in made if s is not None]


def probes(settings: "Settings") -> dict[str, "Probe"]:
    """One credentials check per platform the settings turn on, by the platform's name."""
    found = {_name(p): p.probe(settings) for p in packages()}
    return {name: probe for name, probe in found.items() if probe is not None}


def probe_fixes() -> dict[str, str]:
    """What to do when a platform refuses our credentials, by the platform's name."""
    return {_name(p): p.PROBE_FIX for p in packages() if p.PROBE_FIX}


def secrets(settings: "Settings") -> list[str | None]:
    """Every platform's tokens and secrets in the settings: never to reach a log line."""
    return [secret for p in packages() for secret in p.secrets(settings)]
