"""The Slack adapter: events, slash commands and buttons in as Incoming; Replies out as Block Kit.

Bolt's AsyncApp verifies every request and routes it to a listener here. Each listener writes
the event to the inbox (bot/inbox.py), then acknowledges: Slack hears back within its 3 seconds
whatever the work costs, and what it heard acknowledged survives a crash. If the write fails the
request fails, and Slack resends. An inbox worker calls `answer` for each stored event.
"""

import asyncio
import html
import json
import logging
import math
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store import Bot as InstalledBot
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.engine import Engine

from bot import inbox
from bot.core import Choice, Incoming, Reply, split_command
from bot.outbox import MAX_WAIT, Pace, RetryLater, Undeliverable, clamp_seconds
from bot.render import Renderer
from bot.word import docx_file

log = logging.getLogger("clusterbot.slack")
# Bolt's own log lines quote request bodies (what people wrote, or an attacker's junk) at INFO
# and WARNING: it logs here, and only its errors are kept; ours say what happened in one line.
bolt_log = logging.getLogger("clusterbot.slack.bolt")
bolt_log.setLevel(logging.ERROR)

Handle = Callable[[Incoming], Awaitable[list[Reply]]]
Block = dict[str, Any]

COMMAND = "/cluster"
SHARE_ACTION = "clusterbot_share"  # a namespace no Choice.action uses (they are "prefix:...")
HOME_ACTION = "home:"
SHARE_TEMPLATE = "help/slack_share.j2"
SCOPES = [
    "commands",
    "chat:write",
    "app_mentions:read",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "channels:read",
]
MAX_SECTION = 3000  # characters of one section's text
MAX_BLOCKS = 50  # blocks in one message
MAX_HOME_BLOCKS = 100  # blocks in a Home tab view
MAX_BUTTONS = 25  # elements in one actions block
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_VALUE = 2000  # a button's value
MAX_FALLBACK = 3000  # the notification text we send beside the blocks
MAX_INCOMING = 40000  # Slack's own limit on a message's text
PLATFORM = "slack"  # our name for Slack in the inbox table
MAX_REPLY_WAIT = 60.0  # seconds a reply waits out a 429 in place; longer, it is given up
LOCALE_TTL = 3600.0  # seconds a user's Slack locale is trusted
TOKEN_TTL = 300.0  # seconds the sender trusts a workspace's bot token from the installations
# Errors that mean the channel (or the workspace's install) is gone: the subscription ends.
# invalid_auth is not among them: a mistyped or rotated token would end every subscription;
# it is retried, and ends dead in `clusterbot outbox status` for someone to see.
UNDELIVERABLE = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "account_inactive",
    "token_revoked",
}
# Commands whose answer only tells (nothing changes): the only ones a Share button may ask again.
SHAREABLE = {"help", "start", "clusters", "lead", "acronyms", "proposal", "proposals"}


# ---- incoming text ------------------------------------------------------------------------------

_TOKEN = re.compile(r"<([^<>]*)>")


def _token_text(token: str) -> str:
    """One `<...>` token of Slack's message format as the plain text a reader sees."""
    target, _, label = token.partition("|")
    if target.startswith("@"):  # a user: <@U123> or <@U123|name>
        return f"@{label or target[1:]}"
    if target.startswith("#"):  # a channel: <#C1|name>
        return f"#{label or target[1:]}"
    if target.startswith("!"):  # <!channel>, <!here>, <!subteam^S1|@team>, <!date^...|text>
        if label:
            return label
        return f"@{target[1:].split('^', 1)[0]}"
    return label or target  # a link: <http://x|label>, <mailto:a@b>


def plain_text(text: str, bot_user: str | None = None) -> str:
    """Slack's escaped message text as the plain text the user typed; our own mention dropped.

    Slack escapes `& < >` and writes mentions, channels and links as `<...>` tokens: resolve
    the tokens, then unescape once, so `&amp;lt;` stays `&lt;` as the user wrote it.
    """
    if bot_user:
        text = re.sub(rf"<@{re.escape(bot_user)}(?:\|[^<>]*)?>", " ", text)
    text = _TOKEN.sub(lambda m: _token_text(m.group(1)), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", text).strip()  # the gap a dropped mention leaves


# ---- outgoing text ------------------------------------------------------------------------------

_HTML = re.compile(r'<(/?)(b|i|u|s|code|pre|blockquote|a)(?: href="([^"]*)")?>')
_MARKS = {"b": "*", "i": "_", "s": "~", "code": "`", "pre": "```", "u": ""}


def escape(text: str) -> str:
    """Slack's own escaping: only `&`, `<` and `>` (a quote escaped would show as `&#39;`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ZWSP = "\u200b"
# Slack mrkdwn has no escape character: a zero-width space on each side of a marker keeps it
# from opening or closing *bold*, _italic_, ~strike~ or `code`. An underscore inside a word
# (snake_case) is no marker and stays as it is.
_MARKER = re.compile(r"[*~`]|(?<!\w)_|_(?!\w)")
_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """Text shown as typed in mrkdwn: formatting marks disarmed, direction overrides dropped.

    Our own formatting comes from the renderer's tags, never from the text between them.
    """
    return _MARKER.sub(lambda m: f"{ZWSP}{m.group(0)}{ZWSP}", _OVERRIDES.sub("", text))


def _link(href: str, label: str) -> str:
    """A link Slack shows as `label`; anything but a plain web address stays text."""
    url = html.unescape(href)
    if re.fullmatch(r"https?://[^\s<>|]+", url) and label:
        return f"<{escape(url)}|{label.replace('|', '¦')}>"
    return f"{label} ({escape(url)})" if label and url else label or escape(url)


def to_mrkdwn(markup: str) -> str:
    """The renderer's HTML subset as Slack mrkdwn, every piece of text escaped Slack's way.

    Text between our tags is unescaped from HTML and escaped again for Slack, so a user's
    `<!channel>` or `<@U1>` arrives as `&lt;!channel&gt;`: shown, never a mention.
    """
    out: list[str] = []
    link: list[str] | None = None  # the label being collected, while inside <a>
    href = ""
    quote = False
    pos = 0
    for m in _HTML.finditer(markup):
        piece = escape(inert(html.unescape(markup[pos : m.start()])))
        if quote:
            piece = piece.replace("\n", "\n> ")
        (link if link is not None else out).append(piece)
        pos = m.end()
        closing, tag = m.group(1) == "/", m.group(2)
        if tag == "a":
            if not closing:
                link, href = [], m.group(3) or ""
            elif link is not None:
                out.append(_link(href, "".join(link)))
                link = None
        elif tag == "blockquote":
            quote = not closing
            if quote:
                out.append("> ")
        else:
            (link if link is not None else out).append(_MARKS[tag])
    tail = escape(inert(html.unescape(markup[pos:])))
    (link if link is not None else out).append(tail)
    if link is not None:  # an unclosed <a>: keep its words
        out.append("".join(link))
    return "".join(out)


def _cut(line: str, limit: int) -> list[str]:
    """A line longer than `limit` in pieces, between words when it can, never inside `&amp;`."""
    pieces = []
    while len(line) > limit:
        at = line.rfind(" ", limit // 2, limit)
        if at <= 0:
            at = limit
            amp = line.rfind("&", at - 5, at)
            if amp > 0 and ";" not in line[amp:at]:
                at = amp
        pieces.append(line[:at])
        line = line[at:].lstrip(" ")
    return [*pieces, line]


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Slack mrkdwn in pieces of at most `limit` characters, cut between lines where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _cut(line, limit):
            joined = f"{current}\n{piece}" if current else piece
            if len(joined) > limit:
                chunks.append(current)
                current = piece
            else:
                current = joined
    if current.strip():
        chunks.append(current)
    return chunks or [""]


def buttons(choices: Collection[Choice], extra: Collection[Block] = ()) -> list[Block]:
    """Actions blocks (25 buttons each) whose action_id and value carry each Choice.action."""
    elements: list[Block] = []
    seen: set[str] = set()
    for c in choices:
        if len(c.action) > MAX_ACTION_ID or c.action in seen:
            log.error("slack: button %r dropped: action id too long or repeated", c.action)
            continue
        seen.add(c.action)
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": c.label[:MAX_BUTTON_TEXT] or "?"},
                "action_id": c.action,
                "value": c.action,
            }
        )
    elements.extend(extra)
    return [
        {"type": "actions", "elements": elements[i : i + MAX_BUTTONS]}
        for i in range(0, len(elements), MAX_BUTTONS)
    ]


@dataclass(frozen=True, slots=True)
class Message:
    """One Slack message: Block Kit blocks, and the plain `text` shown in notifications."""

    text: str
    blocks: list[Block]

    def payload(self) -> dict[str, Any]:
        """The fields chat.postMessage and response_url take alike."""
        return {"text": self.text, "blocks": self.blocks}


# A command the bot names ("/help", "type /lead health") at the start of a word.
_COMMAND = re.compile(r"(^|[\s(“\"'])/(?!cluster\b)([a-z][a-z_]{1,30})\b", re.M)


def slash_commands(text: str) -> str:
    """Our commands as Slack users type them ("/lead" -> "/cluster lead").

    Slack's composer takes any leading "/" as its own slash command: there, ours are subcommands.
    """
    return _COMMAND.sub(lambda m: f"{m.group(1)}{COMMAND} {m.group(2)}", text)


def reply_blocks(renderer: Renderer, reply: Reply) -> list[Block]:
    """One reply as sections of at most 3000 characters, then its buttons.

    `verbatim`: Slack links only what we wrote as a link, never a bare URL or #channel a user
    typed.
    """
    sections: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk, "verbatim": True}}
        for chunk in split_text(slash_commands(to_mrkdwn(renderer.html(reply))))
        if chunk.strip()
    ]
    return sections + (buttons(reply.choices) if reply.choices else [])


def _fallback(blocks: list[Block]) -> str:
    """The notification text for a message: its sections' text, shortened."""
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    return text if len(text) <= MAX_FALLBACK else text[: MAX_FALLBACK - 1] + "…"


def messages(
    renderer: Renderer, replies: list[Reply], extra: list[Block] | None = None
) -> list[Message]:
    """Replies as Slack messages of at most 50 blocks; `extra` blocks end the last one."""
    blocks = [b for r in replies for b in reply_blocks(renderer, r)] + (extra or [])
    out = []
    for i in range(0, len(blocks), MAX_BLOCKS):
        part = blocks[i : i + MAX_BLOCKS]
        out.append(Message(_fallback(part) or " ", part))
    return out


# ---- OAuth stores: slack_sdk's SQLAlchemy stores on our own (sync) engine ---------------------


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store for async Bolt, run in worker threads.

    The sync store works on the engine we already have (SQLite or PostgreSQL); its async twin
    would need a second, async engine and driver.
    """

    def __init__(self, engine: Engine) -> None:
        self.store = SQLAlchemyInstallationStore(client_id="", engine=engine)

    @property
    def logger(self) -> logging.Logger:
        """The store's logger (required by the interface)."""
        return log

    async def async_save(self, installation: Installation) -> None:
        """Store a workspace's installation (tokens) after the OAuth flow."""
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: InstalledBot) -> None:
        """Store a workspace's bot token."""
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> InstalledBot | None:
        """The bot installed in a workspace, if any."""
        return await asyncio.to_thread(
            lambda: self.store.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """A workspace's installation, if any."""
        return await asyncio.to_thread(
            lambda: self.store.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot (the app was uninstalled)."""
        await asyncio.to_thread(
            lambda: self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace's installation."""
        await asyncio.to_thread(
            lambda: self.store.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        )


class ThreadedStateStore(AsyncOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store for async Bolt, run in worker threads."""

    def __init__(self, engine: Engine, expiration_seconds: int = 600) -> None:
        self.store = SQLAlchemyOAuthStateStore(
            expiration_seconds=expiration_seconds, engine=engine
        )

    @property
    def logger(self) -> logging.Logger:
        """The store's logger (required by the interface)."""
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state value for one install attempt."""
        return await asyncio.to_thread(self.store.issue)

    async def async_consume(self, state: str) -> bool:
        """True once for a state we issued and that has not expired."""
        return await asyncio.to_thread(self.store.consume, state)


# ---- the adapter --------------------------------------------------------------------------------


def shareable(text: str) -> bool:
    """Whether asking `text` again only tells (a question, or a command in SHAREABLE)."""
    command = split_command(text)
    return command is None or command[0] in SHAREABLE


class NotStored(Exception):
    """The inbox refused an event: the request must fail, so that Slack sends it again."""


def _team(body: Mapping[str, Any]) -> str:
    """The workspace a request comes from, whatever its payload's shape."""
    team = body.get("team_id") or body.get("team") or body.get("user", {}).get("team_id") or ""
    return str(team.get("id", "") if isinstance(team, dict) else team)


class SlackAdapter:
    """One Bolt AsyncApp: verifies and acknowledges requests, routes them through `handle`."""

    def __init__(
        self,
        handle: Handle,
        renderer: Renderer,
        engine: Engine,
        *,
        signing_secret: str,
        token: str | None = None,
        api_url: str = "https://slack.com/api/",
        client_id: str | None = None,
        client_secret: str | None = None,
        app_token: str | None = None,
        commands: Collection[str] = (),
    ) -> None:
        self.handle = handle
        self.renderer = renderer
        self.engine = engine
        self.inbox = inbox.Writer(engine)  # events arriving together share one transaction
        self.api_url = api_url
        self.app_token = app_token
        self.commands = {c.casefold() for c in commands if c != "*"}
        self.installations: ThreadedInstallationStore | None = None
        self.states: ThreadedStateStore | None = None
        self.wake: Callable[[], None] | None = None  # tells the inbox worker to look now
        self._locales: dict[tuple[str, str], tuple[str | None, float]] = {}
        self._socket: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._retries: list[AsyncRetryHandler] = [ReplyRateLimitRetry(max_retry_count=2)]
        # Replies to people retry a 429 in place (twice); the outbox's sender does its own.
        client = AsyncWebClient(
            token=None if client_id else token,
            base_url=api_url,
            retry_handlers=list(self._retries),
        )
        oauth = None
        if client_id:
            self.installations = ThreadedInstallationStore(engine)
            self.states = ThreadedStateStore(engine)
            oauth = AsyncOAuthSettings(
                client_id=client_id,
                client_secret=client_secret,
                scopes=SCOPES,
                installation_store=self.installations,
                state_store=self.states,
            )
        # process_before_response: each listener acks first and queues its own work, so
        # Bolt returns the ack at once instead of polling for it every 10 ms.
        self.app = AsyncApp(
            signing_secret=signing_secret,
            client=client,
            oauth_settings=oauth,
            process_before_response=True,
            # Bolt names loggers after the app and copies a level onto them: under its own
            # name, it would set our "clusterbot" logger's level.
            name=bolt_log.name,
            logger=bolt_log,
        )
        self.app.command(COMMAND)(self._on_command)
        self.app.action(re.compile(".+"))(self._on_action)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home)
        self.app.error(self._on_error)

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP session, create the OAuth tables, connect Socket Mode when configured."""
        # One HTTP session (kept-alive connections) for every call, made on the serving loop;
        # Bolt's per-request clients share it.
        self._session = aiohttp.ClientSession()
        self.app.client.session = self._session
        for store in (self.installations, self.states):
            if store is not None:
                await asyncio.to_thread(store.store.create_tables)
        if self.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.app_token)
            await self._socket.connect_async()
            log.info("slack: socket mode connected")

    async def stop(self) -> None:
        """Close Socket Mode and the HTTP session (the inbox worker stopped before)."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._session is not None:
            self.app.client.session = None
            await self._session.close()
            self._session = None

    # ---- plumbing ---------------------------------------------------------------------------

    async def _store(
        self, kind: str, body: Mapping[str, Any], chat: str, context: Mapping[str, Any]
    ) -> None:
        """Write the event to the inbox before Slack is acknowledged; raises if it cannot.

        `chat` orders answers: one person's messages in one conversation (a DM channel, or one
        person in a channel), never everyone in a busy channel one after the other.

        Events carry an event_id, and Slack resends them with it: stored once. Commands and
        button presses are never resent, and get an id of their own.
        """
        event_id = str(body.get("event_id") or f"{kind}:{uuid.uuid4().hex}")
        payload = {"body": dict(body), "bot_user_id": context.get("bot_user_id")}
        try:
            new = await self.inbox.put(PLATFORM, event_id, chat, kind, payload)
        except Exception as exc:
            raise NotStored(f"{kind} {event_id} not stored: {type(exc).__name__}") from exc
        if not new:
            log.info("slack: event %s already stored; retry ignored", event_id)
        elif self.wake is not None:
            self.wake()

    async def answer(self, event: inbox.Event) -> None:
        """Answer one stored event (called by the inbox worker)."""
        body: dict[str, Any] = event.payload["body"]
        context = {"bot_user_id": event.payload.get("bot_user_id")}
        client = await self._client(_team(body))
        if event.kind in ("message", "mention"):
            message = body["event"]
            thread = message.get("thread_ts") or message.get("ts")
            await self._answer(
                client, context, body, message, thread if event.kind == "mention" else None
            )
        elif event.kind == "home":
            await self._publish_home(client, body, body["event"])
        elif event.kind == "command":
            await self._command(client, body)
        elif event.kind == "share":
            await self._shared(client, body, body["actions"][0])
        elif event.kind == "button":
            await self._pressed(client, body, body["actions"][0])
        else:
            log.error("slack: stored event of unknown kind %r skipped", event.kind)

    async def _client(self, team: str) -> AsyncWebClient:
        """The Web API client for a workspace: ours, or its installation's token (OAuth)."""
        if self.installations is None:
            return self.app.client
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None or not bot.bot_token:
            raise RuntimeError(f"no installation for workspace {team}")
        return AsyncWebClient(
            token=bot.bot_token,
            base_url=self.api_url,
            session=self._session,
            retry_handlers=list(self._retries),
        )

    async def _on_error(self, error: Exception, body: Mapping[str, Any]) -> None:
        if isinstance(error, NotStored):  # Slack resends: one line, no traceback
            log.error("slack: %s; refused so that Slack resends", error)
            return
        log.error("slack: error in a listener for %s", body.get("type"), exc_info=error)

    async def _locale(self, client: AsyncWebClient, team: str, user: str) -> str | None:
        """The user's Slack locale (users.info), cached; None when Slack will not say."""
        key = (team, user)
        cached = self._locales.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        locale = None
        try:
            response = await client.users_info(user=user, include_locale=True)
            found = (response.get("user") or {}).get("locale")
            locale = found if isinstance(found, str) else None
        except SlackApiError as exc:
            log.info("slack: no locale for %s: %s", user, exc.response.get("error"))
        except Exception as exc:  # a network error costs the hint, never the answer
            log.info("slack: no locale for %s: %s", user, exc)
        if len(self._locales) > 10_000:
            self._locales.clear()
        self._locales[key] = (locale, time.monotonic() + LOCALE_TTL)
        return locale

    async def _post(
        self,
        client: AsyncWebClient,
        channel: str,
        replies: list[Reply],
        thread: str | None = None,
    ) -> None:
        """Post replies in a channel (or thread); a message Slack refuses is logged."""
        for message in messages(self.renderer, replies):
            try:
                await client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread,
                    unfurl_links=False,
                    unfurl_media=False,
                    **message.payload(),
                )
            except SlackApiError as exc:
                log.error(
                    "slack: reply to %s not delivered: %s", channel, exc.response.get("error")
                )
                return
        for reply in replies:
            if reply.file_name:
                await self._upload(client, channel, reply, thread)

    async def _upload(
        self, client: AsyncWebClient, channel: str, reply: Reply, thread: str | None
    ) -> None:
        """A reply that is also a file (a draft letter): its Word version, in the conversation."""
        # Building a .docx takes ~0.2 s: off the event loop.
        name, content = await asyncio.to_thread(
            docx_file, self.renderer.plain(reply), reply.file_name, reply.lang
        )
        try:
            await client.files_upload_v2(
                channel=channel, thread_ts=thread, file=content, filename=name, title=name
            )
        except SlackApiError as exc:
            log.error("slack: %s not uploaded to %s: %s", name, channel, exc.response.get("error"))
        except Exception as exc:  # the upload URL is a second server: a failure costs the file
            log.error("slack: %s not uploaded to %s: %s", name, channel, exc)

    # ---- events -----------------------------------------------------------------------------

    async def _on_mention(
        self, ack: Any, body: dict[str, Any], event: dict[str, Any], client: Any, context: Any
    ) -> None:
        """@clusterbot in a channel: answered in the message's thread."""
        if not event.get("bot_id"):
            chat = f"slack:{_team(body)}:{event.get('channel')}:{event.get('user')}"
            await self._store("mention", body, chat, context)
        await ack()

    async def _on_message(
        self, ack: Any, body: dict[str, Any], event: dict[str, Any], client: Any, context: Any
    ) -> None:
        """A direct message: a private chat. Edits, bots and our own messages are ignored."""
        if not (
            event.get("channel_type") != "im"
            or event.get("subtype")
            or event.get("bot_id")
            or event.get("user") in (None, context.get("bot_user_id"))
        ):
            await self._store(
                "message", body, f"slack:{_team(body)}:{event.get('channel')}", context
            )
        await ack()

    async def _answer(
        self,
        client: AsyncWebClient,
        context: Mapping[str, Any],
        body: Mapping[str, Any],
        event: Mapping[str, Any],
        thread: str | None,
    ) -> None:
        # A message over Slack's 40,000 characters gets the bot's "too long" answer, as anywhere.
        text = str(event.get("text") or "")
        team, user, channel = _team(body), str(event["user"]), str(event["channel"])
        incoming = Incoming(
            identity=f"slack:{team}:{user}",
            chat=f"slack:{team}:{channel}",
            text=plain_text(text, context.get("bot_user_id")),
            locale=await self._locale(client, team, user),
            thread=thread,
        )
        await self._post(client, channel, await self.handle(incoming), thread)

    async def _on_home(
        self, ack: Any, body: dict[str, Any], event: dict[str, Any], client: Any
    ) -> None:
        """The Home tab: a short guide and the user's language, published as a view."""
        if event.get("tab", "home") == "home":
            await self._store("home", body, f"slack:{_team(body)}:{event.get('user')}:home", {})
        await ack()

    async def _publish_home(
        self, client: AsyncWebClient, body: Mapping[str, Any], event: Mapping[str, Any]
    ) -> None:
        team, user = _team(body), str(event["user"])
        incoming = Incoming(
            identity=f"slack:{team}:{user}",
            chat=f"slack:{team}:{event.get('channel') or user}",
            action=HOME_ACTION,
            locale=await self._locale(client, team, user),
        )
        blocks = [b for r in await self.handle(incoming) for b in reply_blocks(self.renderer, r)]
        try:
            await client.views_publish(
                user_id=user, view={"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}
            )
        except SlackApiError as exc:
            log.error("slack: home tab for %s not published: %s", user, exc.response.get("error"))

    # ---- the slash command --------------------------------------------------------------------

    def command_text(self, text: str) -> str:
        """`/cluster lang fr` -> "/lang fr"; anything not starting with a command is a question."""
        text = text.strip()
        word = text.split(maxsplit=1)[0].casefold() if text else ""
        if not text:
            return "/help"
        if word in self.commands:
            return "/" + text
        return text

    async def _on_command(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        """`/cluster ...`: stored, acked, answered to the asker alone, with a Share button."""
        chat = f"slack:{_team(body)}:{body.get('channel_id')}:{body.get('user_id')}"
        await self._store("command", body, chat, {})
        await ack()

    async def _command(self, client: AsyncWebClient, body: Mapping[str, Any]) -> None:
        team, user = _team(body), str(body.get("user_id", ""))
        channel = str(body.get("channel_id", ""))
        text = self.command_text(plain_text(str(body.get("text", ""))[:MAX_INCOMING]))
        incoming = Incoming(
            identity=f"slack:{team}:{user}",
            chat=f"slack:{team}:{channel}",
            text=text,
            locale=await self._locale(client, team, user),
        )
        replies = await self.handle(incoming)
        out = messages(self.renderer, replies, self._share(text, replies))
        await self._respond(body, out)
        await self._upload_privately(client, user, replies)

    async def _upload_privately(
        self, client: AsyncWebClient, user: str, replies: list[Reply]
    ) -> None:
        """A letter finished in an ephemeral answer goes to the person's DM, not the channel."""
        letters = [r for r in replies if r.file_name]
        if not letters:
            return
        try:
            opened = await client.conversations_open(users=user)
        except SlackApiError as exc:
            log.error("slack: no DM with %s for the letter: %s", user, exc.response.get("error"))
            return
        channel = str((opened.get("channel") or {}).get("id") or "")
        for reply in letters:
            await self._upload(client, channel, reply, None)

    def _share(self, text: str, replies: list[Reply]) -> list[Block]:
        """A "Share in channel" button, for answers that are not a step in a conversation.

        The button carries the question, not the answer: Slack does not send an ephemeral
        message back with the press, so the answer is made again in the same language.
        """
        if not replies or any(r.choices for r in replies):
            return []
        if not shareable(text):
            return []  # asking again would do it again (a second proposal, a subscription)
        value = json.dumps({"q": text, "l": replies[0].lang}, ensure_ascii=False)
        if len(value) > MAX_VALUE:
            return []
        label = self.renderer.plain(Reply(SHARE_TEMPLATE, {}, replies[0].lang, "label"))
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": label[:MAX_BUTTON_TEXT]},
            "action_id": SHARE_ACTION,
            "value": value,
        }
        return [{"type": "actions", "elements": [button]}]

    async def _respond(self, body: Mapping[str, Any], out: list[Message]) -> None:
        """Answer through the response_url, visible only to the person who asked."""
        for message in out:
            payload = {"response_type": "ephemeral", "replace_original": False}
            if not await self._webhook(body, {**payload, **message.payload()}):
                return

    async def _webhook(self, body: Mapping[str, Any], payload: dict[str, Any]) -> bool:
        """One post to the request's response_url; a refusal is logged. True when accepted."""
        url = str(body.get("response_url") or "")
        if not url:
            log.error("slack: no response_url to answer %s", body.get("type") or "a command")
            return False
        hook = AsyncWebhookClient(url, session=self._session, retry_handlers=self._retries)
        try:
            response = await hook.send_dict(payload)
        except Exception as exc:
            log.error("slack: response_url post failed: %s", exc)
            return False
        if response.status_code != 200:
            log.error("slack: response_url refused: %s %s", response.status_code, response.body)
            return False
        return True

    # ---- buttons ------------------------------------------------------------------------------

    async def _on_action(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any
    ) -> None:
        """A button press: the share button, or a Choice that goes through the router."""
        team, user, channel = self._where(body)
        kind = "share" if action.get("action_id") == SHARE_ACTION else "button"
        await self._store(kind, body, f"slack:{team}:{channel}:{user}", {})
        await ack()

    def _where(self, body: Mapping[str, Any]) -> tuple[str, str, str]:
        team = _team(body)
        user = str(body.get("user", {}).get("id", ""))
        channel = str(
            (body.get("channel") or {}).get("id")
            or body.get("container", {}).get("channel_id", "")
        )
        return team, user, channel

    async def _pressed(
        self,
        client: AsyncWebClient,
        body: Mapping[str, Any],
        action: Mapping[str, Any],
    ) -> None:
        value = str(action.get("value") or action.get("action_id") or "")
        team, user, channel = self._where(body)
        if not value or len(value) > MAX_VALUE or not user:
            log.info("slack: button press without a usable value skipped")
            return
        incoming = Incoming(
            identity=f"slack:{team}:{user}",
            chat=f"slack:{team}:{channel or user}",
            action=value,
            locale=await self._locale(client, team, user),
        )
        replies = await self.handle(incoming)
        container = body.get("container") or {}
        if container.get("is_ephemeral") or not channel:
            await self._respond(body, messages(self.renderer, replies))
            await self._upload_privately(client, user, replies)
        else:
            thread = (body.get("message") or {}).get("thread_ts")
            await self._post(client, channel, replies, thread)

    async def _shared(
        self,
        client: AsyncWebClient,
        body: Mapping[str, Any],
        action: Mapping[str, Any],
    ) -> None:
        """Post the answer for everyone in the channel, and drop the private copy."""
        try:
            asked = json.loads(str(action.get("value", "")))
            text, lang = str(asked["q"]), str(asked["l"])
        except (ValueError, KeyError, TypeError):
            log.info("slack: share press with an unreadable value skipped")
            return
        if not shareable(text):  # the value is the client's to send: check it again
            log.warning("slack: share press for a command that is not shareable refused")
            return
        team, user, channel = self._where(body)
        incoming = Incoming(
            identity=f"slack:{team}:{user}", chat=f"slack:{team}:{channel}", text=text, lang=lang
        )
        replies = await self.handle(incoming)
        try:
            for message in messages(self.renderer, replies):
                await client.chat_postMessage(
                    channel=channel, unfurl_links=False, unfurl_media=False, **message.payload()
                )
        except SlackApiError as exc:
            log.error("slack: sharing in %s failed: %s", channel, exc.response.get("error"))
            return
        await self._webhook(body, {"delete_original": True})


# ---- notifications ------------------------------------------------------------------------------


def _retry_after(headers: Mapping[str, Any], high: float = MAX_WAIT) -> float:
    """Slack's Retry-After header in seconds, within 0..`high` (1 when missing or unreadable)."""
    for key, value in headers.items():
        if key.casefold() == "retry-after":
            return clamp_seconds(value[0] if isinstance(value, list) else value, 1.0, high)
    return 1.0


class ReplyRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's in-place retry of a 429 for replies, with Slack's Retry-After clamped.

    slack_sdk sleeps `int(Retry-After)`: "inf" raised, and a huge number parked the reply
    forever. Someone is waiting for a reply: a wait over a minute is not worth it (logged).
    """

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _retry_after(response.headers, high=math.inf) <= MAX_REPLY_WAIT

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = _retry_after(response.headers if response is not None else {}, MAX_REPLY_WAIT)
        await asyncio.sleep(wait + random.random())
        state.increment_current_attempt()


class SlackSender:
    """Delivers outbox notifications to `slack:TEAM:CHANNEL` with chat.postMessage."""

    prefix = "slack"

    def __init__(
        self,
        renderer: Renderer,
        *,
        token: str | None = None,
        api_url: str = "https://slack.com/api/",
        installations: AsyncInstallationStore | None = None,
    ) -> None:
        self.renderer = renderer
        self.token = token
        self.installations = installations
        self.api_url = api_url
        self._tokens: dict[str, tuple[str, float]] = {}  # team -> (bot token, trusted until)
        self._session: aiohttp.ClientSession | None = None
        # No retry handler for 429: the dispatcher reschedules the row at Retry-After.
        self.client = AsyncWebClient(base_url=api_url)

    async def start(self) -> None:
        """One kept-alive HTTP session for every notification (made on the serving loop)."""
        self._session = aiohttp.ClientSession()
        self.client = AsyncWebClient(base_url=self.api_url, session=self._session)

    async def stop(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def pace(self, target: str) -> Pace:
        """Slack allows about one message a second per channel; a few hundred a minute overall."""
        return Pace(per_second=5.0, min_interval=1.1)  # a margin for network jitter

    async def _token(self, team: str) -> str:
        if self.installations is not None:
            cached = self._tokens.get(team)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]  # a fan-out to one workspace reads its install once
            bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team)
            if bot is None or not bot.bot_token:
                raise Undeliverable(f"no installation for workspace {team}")
            self._tokens[team] = (bot.bot_token, time.monotonic() + TOKEN_TTL)
            return bot.bot_token
        if not self.token:
            raise RuntimeError("no Slack bot token configured")  # a setting to fix: retried
        return self.token

    async def send(self, target: str, reply: Reply) -> None:
        """Post the rendered reply; 429 -> RetryLater, a channel gone for good -> Undeliverable."""
        prefix, _, rest = target.partition(":")
        team, _, channel = rest.partition(":")
        if prefix != self.prefix or not team or not channel:
            raise Undeliverable(f"not a Slack target: {target!r}")
        token = await self._token(team)
        for message in messages(self.renderer, [reply]):
            try:
                await self.client.chat_postMessage(
                    token=token,
                    channel=channel,
                    unfurl_links=False,
                    unfurl_media=False,
                    **message.payload(),
                )
            except SlackApiError as exc:
                error = str(exc.response.get("error") or "")
                if exc.response.status_code == 429:
                    raise RetryLater(_retry_after(exc.response.headers)) from exc
                if error in UNDELIVERABLE:
                    raise Undeliverable(error) from exc
                raise
