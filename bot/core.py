"""The platform-neutral kernel: what came in, what to say back, and who handles it."""

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.models import User
    from knowledge import KnowledgeBase, Understanding


# Control characters (but tab and newline), direction overrides and embeddings, word joiners,
# byte-order marks and soft hyphens, and lone surrogates: never meant as text, refused by
# PostgreSQL (NUL), or able to make shown text lie. (Joiners stay: emoji and scripts need them;
# the zero-width non-joiner is part of how Persian writes a word.)
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u2060\ufeff\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# A zero-width space is a break between words, typed or pasted ("who\u200bleads\u200bhealth").
_BREAKS = str.maketrans({"\u200b": " "})


def clean_text(text: str) -> str:
    """Text from outside with control characters, direction overrides and lone surrogates gone."""
    return _UNSAFE.sub("", text.translate(_BREAKS))


@dataclass(frozen=True, slots=True)
class Address:
    """How one platform writes the people it serves and the places notifications reach.

    Each platform package declares one (bot/adapters/<platform>/address.py) and its sender
    carries it; patterns are for what follows `platform:`, and empty when there is none.
    """

    platform: str  # the prefix of its identities and targets: "telegram"
    person: str = ""  # a person's identity: "[0-9]+"
    person_form: str = ""  # how to write one, for a refusal
    target: str = ""  # a notification target; empty: nothing here can be notified later
    target_form: str = ""  # how to write one, for a refusal
    direct: str = ""  # identities that are also their private chat's target

    def reaches(self, target: str) -> bool:
        """Whether notifications can be sent to `target` on this platform."""
        pattern = rf"{re.escape(self.platform)}:(?:{self.target})"
        return bool(self.target) and re.fullmatch(pattern, target) is not None  # "$" takes "\n"

    def reaches_person(self, identity: str) -> str | None:
        """Where this person can be notified directly (their private chat), if anywhere."""
        platform, _, rest = identity.partition(":")
        if platform == self.platform and self.direct and re.fullmatch(self.direct, rest):
            return identity
        return None

    def names_person(self, identity: str) -> bool:
        """Whether `identity` is a person of this platform, written the way its adapter does."""
        platform, _, rest = identity.partition(":")
        return (
            platform == self.platform
            and bool(self.person)
            and bool(re.fullmatch(self.person, rest))
        )


class Addresses:
    """Every platform's Address, registered by the platform packages (bot/adapters/__init__.py).

    Domain code asks here whom and where it can reach, so it names no platform.
    """

    def __init__(self) -> None:
        self._known: dict[str, Address] = {}

    def register(self, address: Address) -> None:
        """Add (or replace) one platform's Address."""
        self._known[address.platform] = address

    def __iter__(self) -> "Iterator[Address]":
        return iter(list(self._registered().values()))

    def get(self, platform: str) -> Address | None:
        """The Address of `platform`, if one is registered."""
        return self._registered().get(platform)

    def _registered(self) -> dict[str, Address]:
        # Empty only when bot.adapters was never imported: say so rather than refuse everyone.
        if not self._known:
            raise RuntimeError("no platform Address registered: import bot.adapters first")
        return self._known

    def reaches(self, target: str) -> bool:
        """Whether some platform can send notifications to `target`."""
        return any(a.reaches(target) for a in self)

    def reaches_person(self, identity: str) -> str | None:
        """Where a person can be notified directly, by whichever platform is theirs."""
        address = self.get(identity.partition(":")[0])
        return address.reaches_person(identity) if address is not None else None

    def target_forms(self) -> list[str]:
        """How targets are written, one per platform that has them ("telegram:CHAT_ID")."""
        return [a.target_form for a in self if a.target]

    def person_forms(self) -> list[str]:
        """How people are written, one per platform that has them."""
        return [a.person_form for a in self if a.person]


# Filled when bot.adapters is imported (bot.app and the entry points import it).
ADDRESSES = Addresses()


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or button press, already translated out of its platform's shape.

    Its text and action are cleaned here (`clean_text`), at the edge, for every platform.
    """

    identity: str  # who: "console:alice", "slack:T1:U2", "telegram:123"
    chat: str  # where the reply goes: a chat, channel or terminal
    text: str = ""
    action: str | None = None  # a button's action id, e.g. "lang:fr"
    locale: str | None = None  # the platform's language hint for this user
    lang: str | None = None  # a language forced for this one message (ask --lang)
    thread: str | None = None
    # The platform says this person may change the chat's settings: subscribing a chat needs
    # it. Always so in a private chat; in a Telegram group only its admins; in a Slack channel
    # its members (only they can write there).
    may_manage_chat: bool = True
    # A question asked on its own (`clusterbot ask`): it follows nothing (no last question, no
    # open checklist) and is not kept for a follow-up, since each line of a batch is a
    # separate question.
    standalone: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", clean_text(self.text))
        if self.action is not None:
            object.__setattr__(self, "action", clean_text(self.action))

    @property
    def args(self) -> str:
        """The words after a `/command` (empty when there are none)."""
        return self.text.partition(" ")[2].strip()


@dataclass(frozen=True, slots=True)
class Choice:
    """A button (or numbered choice) offered with a reply; pressing it sends `action`."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What to say, never how: a template, JSON-able data, and choices."""

    template: str
    data: Mapping[str, Any]
    lang: str
    intent: str
    confidence: float = 1.0
    sources: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    file_name: str = ""  # also deliver the rendered text as a file of this name (a draft letter)


@dataclass(slots=True)
class Context:
    """What a handler may use: the database session, the knowledge, the user and their language."""

    session: "Session"
    kb: "KnowledgeBase"
    user: "User"
    lang: str
    understanding: "Understanding"
    followups: list[Reply] = field(default_factory=list)  # said after the handler's reply
    # The moment the message is handled (the bot's clock: tests inject one) and the age after
    # which a country record is shown as possibly out of date.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    record_max_age: timedelta = timedelta(days=90)
    # A button's action read by its handler's declared pattern: the named parts, or None when
    # the action fits none of them (a stale or forged button).
    pressed: dict[str, str] | None = None
    # The router that chose the handler: what the bot can do, for answers about commands.
    router: "Router | None" = None
    # The user was created by this very message: nothing else of theirs is stored yet (no
    # checklist to look for).
    new_user: bool = False
    # False when the user is known to have no open (or paused) checklist in this chat.
    checklist_open: bool = True


Handler = Callable[[Incoming, Context], "Reply | list[Reply]"]
Conversation = Callable[[Incoming, Context], "Reply | list[Reply] | None"]


H = TypeVar("H", bound=Handler)


def as_list(replies: "Reply | list[Reply]") -> list[Reply]:
    """A handler may return one reply or several; callers always get a list."""
    return replies if isinstance(replies, list) else [replies]


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """What adapters may know of a command besides its handler."""

    # Its answer only tells (nothing changes): it may be asked again, to share the answer.
    shareable: bool = False
    # It changes the chat's settings: in a group, only the chat's admins may use it.
    chat_setting: bool = False
    menu: str = ""  # its line in a platform's command menu (marked N_); empty: not listed
    menu_at: int = 0  # its place in the menu (then the order of registration)


Fallback = Literal["command", "intent"]


@dataclass
class Router:
    """Maps commands, button actions and understood intents to handlers.

    Two fallbacks are explicit: a command (or a button) nobody registered, and an understood
    intent with no handler of its own.
    """

    commands: dict[str, Handler] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    intents: dict[str, Handler] = field(default_factory=dict)
    conversations: list[Conversation] = field(default_factory=list)
    info: dict[str, CommandInfo] = field(default_factory=dict)
    patterns: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    fallbacks: dict[Fallback, Handler] = field(default_factory=dict)

    def command(
        self,
        *names: str,
        shareable: bool = False,
        chat_setting: bool = False,
        menu: str = "",
        menu_at: int = 0,
    ) -> Callable[[H], H]:
        """Register a handler for `/name` commands, with what adapters may know of them."""
        info = CommandInfo(shareable, chat_setting, menu, menu_at)

        def register(fn: H) -> H:
            for name in names:
                self.commands[name] = fn
                self.info[name] = info
            return fn

        return register

    def action(self, prefix: str, *patterns: str) -> Callable[[H], H]:
        """Register a handler for button actions `prefix:...`, read by `patterns`.

        Each pattern must match the whole action; the first that does gives its named groups
        to the handler as `ctx.pressed`.
        """

        def register(fn: H) -> H:
            self.actions[prefix] = fn
            self.patterns[prefix] = [re.compile(p, re.DOTALL) for p in patterns]
            return fn

        return register

    def parse(self, action: str) -> dict[str, str] | None:
        """The named parts of a button's action by its handler's patterns; None if none fits."""
        for pattern in self.patterns.get(action.partition(":")[0], ()):
            match = pattern.fullmatch(action)
            if match:
                return {k: v or "" for k, v in match.groupdict().items()}
        return None

    def intent(self, *names: str) -> Callable[[H], H]:
        """Register a handler for understood intents."""

        def register(fn: H) -> H:
            for name in names:
                self.intents[name] = fn
            return fn

        return register

    def fallback(self, kind: Fallback) -> Callable[[H], H]:
        """Register the handler for what nothing else takes: a `command` (or button), an intent."""

        def register(fn: H) -> H:
            self.fallbacks[kind] = fn
            return fn

        return register

    def conversation(self, fn: Conversation) -> Conversation:
        """Register a hook that sees every message first and may take it (returns non-None)."""
        self.conversations.append(fn)
        return fn

    def for_action(self, action: str) -> Handler:
        """The handler of a button's action (its prefix before ":"), else the command fallback."""
        return self.actions.get(action.partition(":")[0]) or self.fallbacks["command"]

    def for_command(self, name: str) -> Handler:
        """The handler of `/name`, else the command fallback."""
        return self.commands.get(name) or self.fallbacks["command"]

    def nearest_command(self, name: str) -> str | None:
        """The command a mistyped `/name` most likely meant ("/leads", "/hlep"), if one is close.

        Close is one edit away (a swap of two letters is one), two for names of six letters or
        more; with two commands equally close ("/lan": lang, plan) none is named.
        """
        from rapidfuzz.distance import OSA

        typed = name.casefold()
        allowed = 1 if len(typed) < 6 else 2
        distances = {c: OSA.distance(typed, c) for c in self.commands}
        best = min(distances.values(), default=allowed + 1)
        if best > allowed:
            return None
        closest = [c for c, d in distances.items() if d == best]
        return closest[0] if len(closest) == 1 else None

    def for_intent(self, intent: str) -> Handler:
        """The handler of an understood intent, else the intent fallback."""
        return self.intents.get(intent) or self.fallbacks["intent"]

    def shareable(self) -> frozenset[str]:
        """Commands whose answer only tells: the only ones a Share button may ask again."""
        return frozenset(name for name, info in self.info.items() if info.shareable)

    def chat_settings(self) -> frozenset[str]:
        """Commands that change a chat's settings (in a group, for its admins only)."""
        return frozenset(name for name, info in self.info.items() if info.chat_setting)

    def menu(self) -> list[tuple[str, str]]:
        """(command, menu text) for a platform's command menu, in menu order."""
        listed = [(n, i) for n, i in self.info.items() if i.menu]
        ordered = sorted(enumerate(listed), key=lambda e: (e[1][1].menu_at, e[0]))
        return [(name, info.menu) for _, (name, info) in ordered]

    def merge(self, other: "Router") -> None:
        """Take over another router's registrations; a clash is a programming error."""
        for mine, theirs in (
            (self.commands, other.commands),
            (self.actions, other.actions),
            (self.intents, other.intents),
        ):
            clash = mine.keys() & theirs.keys()
            if clash:
                raise ValueError(f"registered twice: {sorted(clash)}")
            mine.update(theirs)
        if self.fallbacks.keys() & other.fallbacks.keys():
            raise ValueError(f"fallback registered twice: {sorted(other.fallbacks)}")
        self.fallbacks.update(other.fallbacks)
        self.info.update(other.info)
        self.patterns.update(other.patterns)
        self.conversations.extend(other.conversations)


def split_command(text: str) -> tuple[str, str] | None:
    """`/lead wash sudan` -> ("lead", "wash sudan"); None when the text is not a command."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()  # Telegram appends @botname in groups
    return (name, rest.strip()) if name.isascii() and name.replace("_", "").isalnum() else None
