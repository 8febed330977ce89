"""The platform-neutral kernel: what came in, what to say back, and who handles it."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.models import User
    from knowledge import KnowledgeBase, Understanding


# Control characters (but tab and newline), direction overrides and embeddings, and lone
# surrogates: never meant as text, refused by PostgreSQL (NUL), or able to make shown text lie.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text from outside with control characters, direction overrides and lone surrogates gone."""
    return _UNSAFE.sub("", text)


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


Handler = Callable[[Incoming, Context], "Reply | list[Reply]"]
Conversation = Callable[[Incoming, Context], "Reply | list[Reply] | None"]


H = TypeVar("H", bound=Handler)


def as_list(replies: "Reply | list[Reply]") -> list[Reply]:
    """A handler may return one reply or several; callers always get a list."""
    return replies if isinstance(replies, list) else [replies]


@dataclass
class Router:
    """Maps commands, button actions and understood intents to handlers."""

    commands: dict[str, Handler] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    intents: dict[str, Handler] = field(default_factory=dict)
    conversations: list[Conversation] = field(default_factory=list)

    def command(self, *names: str) -> Callable[[H], H]:
        """Register a handler for `/name` commands."""

        def register(fn: H) -> H:
            for name in names:
                self.commands[name] = fn
            return fn

        return register

    def action(self, prefix: str) -> Callable[[H], H]:
        """Register a handler for button actions `prefix:...`."""

        def register(fn: H) -> H:
            self.actions[prefix] = fn
            return fn

        return register

    def intent(self, *names: str) -> Callable[[H], H]:
        """Register a handler for understood intents."""

        def register(fn: H) -> H:
            for name in names:
                self.intents[name] = fn
            return fn

        return register

    def conversation(self, fn: Conversation) -> Conversation:
        """Register a hook that sees every message first and may take it (returns non-None)."""
        self.conversations.append(fn)
        return fn

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
        self.conversations.extend(other.conversations)


def split_command(text: str) -> tuple[str, str] | None:
    """`/lead wash sudan` -> ("lead", "wash sudan"); None when the text is not a command."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()  # Telegram appends @botname in groups
    return (name, rest.strip()) if name.isascii() and name.replace("_", "").isalnum() else None
