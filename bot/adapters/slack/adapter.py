"""The Slack adapter: events, slash commands and buttons in as Incoming; Replies out as Block Kit.

Bolt's AsyncApp verifies every request and routes it to a listener here. Each listener writes
the event to the inbox (bot/inbox.py), then acknowledges: Slack hears back within its 3 seconds
whatever the work costs, and what it heard acknowledged survives a crash. If the write fails the
request fails, and Slack resends. An inbox worker calls `answer` for each stored event.
"""

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.engine import Engine

from bot import inbox
from bot.adapters.slack.blocks import (
    COMMAND,
    MAX_BUTTON_TEXT,
    Block,
    Message,
    messages,
    reply_blocks,
)
from bot.adapters.slack.mrkdwn import plain_text
from bot.adapters.slack.oauth import ThreadedInstallationStore, ThreadedStateStore
from bot.adapters.slack.sender import FAILED, ReplyRateLimitRetry, deliver, slack_error
from bot.core import Incoming, Reply, split_command
from bot.render import Renderer
from bot.word import docx_file

log = logging.getLogger("clusterbot.slack")
# Bolt's own log lines quote request bodies (what people wrote, or an attacker's junk) at INFO
# and WARNING: it logs here, and only its errors are kept; ours say what happened in one line.
bolt_log = logging.getLogger("clusterbot.slack.bolt")
bolt_log.setLevel(logging.ERROR)

Handle = Callable[[Incoming], Awaitable[list[Reply]]]
# A JSON object as Slack sent it (a request body, or the event or action inside one): read only.
SlackJson = Mapping[str, Any]

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
MAX_HOME_BLOCKS = 100  # blocks in a Home tab view
MAX_VALUE = 2000  # a button's value
MAX_INCOMING = 40000  # Slack's own limit on a message's text
PLATFORM = "slack"  # our name for Slack in the inbox table
LOCALE_TTL = 3600.0  # seconds a user's Slack locale is trusted


# ---- the adapter --------------------------------------------------------------------------------


class NotStored(Exception):
    """The inbox refused an event: the request must fail, so that Slack sends it again."""


def _team(body: SlackJson) -> str:
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
        shareable: Collection[str] = (),
    ) -> None:
        self.handle = handle
        self.renderer = renderer
        self.engine = engine
        self.inbox = inbox.Writer(engine)  # events arriving together share one transaction
        self.api_url = api_url
        self.app_token = app_token
        self.commands = {c.casefold() for c in commands}
        # Commands whose answer only tells (nothing changes): the only ones Share asks again.
        self.shareable_commands = frozenset(shareable)
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
        if self.installations is not None:
            # A workspace that uninstalls the app (or revokes its tokens) is forgotten: its
            # tokens are deleted, and notices to it are then recorded as undeliverable.
            self.app.enable_token_revocation_listeners()
        else:
            # One workspace's own token: nothing to delete, but the operator must know.
            self.app.event("app_uninstalled")(self._on_revoked)
            self.app.event("tokens_revoked")(self._on_revoked)
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
        """Close Socket Mode, the inbox Writer's thread and the HTTP session.

        The inbox worker stopped before.
        """
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        await self.inbox.close()
        if self._session is not None:
            self.app.client.session = None
            await self._session.close()
            self._session = None

    # ---- plumbing ---------------------------------------------------------------------------

    async def _store(
        self, kind: str, body: SlackJson, chat: str, context: Mapping[str, Any]
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

    async def _on_revoked(self, body: SlackJson) -> None:
        log.warning(
            "slack: %s for workspace %s: SLACK_BOT_TOKEN no longer works; reinstall the app "
            "and set the new token",
            body.get("event", {}).get("type"),
            body.get("team_id"),
        )

    async def _on_error(self, error: Exception, body: SlackJson) -> None:
        if isinstance(error, NotStored):  # Slack resends: one line, no traceback
            log.error("slack: %s; refused so that Slack resends", error)
            return
        log.error("slack: error in a listener for %s", body.get("type"), exc_info=error)

    async def _incoming(
        self, client: AsyncWebClient, team: str, user: str, chat: str, **fields: Any
    ) -> Incoming:
        """What `user` of workspace `team` sent in `chat`, with their Slack locale as the hint."""
        locale = await self._locale(client, team, user)
        return Incoming(
            identity=f"slack:{team}:{user}", chat=f"slack:{team}:{chat}", locale=locale, **fields
        )

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
        try:
            await deliver(client, channel, messages(self.renderer, replies), thread)
        except FAILED as exc:
            log.error("slack: reply to %s not delivered: %s", channel, slack_error(exc))
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
            docx_file, self.renderer.document(reply), reply.file_name, reply.lang
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
        body: SlackJson,
        event: SlackJson,
        thread: str | None,
    ) -> None:
        # A message over Slack's 40,000 characters gets the bot's "too long" answer, as anywhere.
        text = str(event.get("text") or "")
        team, user, channel = _team(body), str(event["user"]), str(event["channel"])
        text = plain_text(text, context.get("bot_user_id"))
        incoming = await self._incoming(client, team, user, channel, text=text, thread=thread)
        await self._post(client, channel, await self.handle(incoming), thread)

    async def _on_home(
        self, ack: Any, body: dict[str, Any], event: dict[str, Any], client: Any
    ) -> None:
        """The Home tab: a short guide and the user's language, published as a view."""
        if event.get("tab", "home") == "home":
            await self._store("home", body, f"slack:{_team(body)}:{event.get('user')}:home", {})
        await ack()

    async def _publish_home(
        self, client: AsyncWebClient, body: SlackJson, event: SlackJson
    ) -> None:
        team, user = _team(body), str(event["user"])
        chat = str(event.get("channel") or user)
        incoming = await self._incoming(client, team, user, chat, action=HOME_ACTION)
        blocks = [b for r in await self.handle(incoming) for b in reply_blocks(self.renderer, r)]
        try:
            await client.views_publish(
                user_id=user, view={"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}
            )
        except SlackApiError as exc:
            log.error("slack: home tab for %s not published: %s", user, exc.response.get("error"))

    # ---- the slash command --------------------------------------------------------------------

    def shareable(self, text: str) -> bool:
        """Whether asking `text` again only tells (a question, or a shareable command)."""
        command = split_command(text)
        return command is None or command[0] in self.shareable_commands

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

    async def _command(self, client: AsyncWebClient, body: SlackJson) -> None:
        team, user = _team(body), str(body.get("user_id", ""))
        channel = str(body.get("channel_id", ""))
        text = self.command_text(plain_text(str(body.get("text", ""))[:MAX_INCOMING]))
        replies = await self.handle(await self._incoming(client, team, user, channel, text=text))
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
        if not self.shareable(text):
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

    async def _respond(self, body: SlackJson, out: list[Message]) -> None:
        """Answer through the response_url, visible only to the person who asked."""
        for message in out:
            payload = {"response_type": "ephemeral", "replace_original": False}
            if not await self._webhook(body, {**payload, **message.payload()}):
                return

    async def _webhook(self, body: SlackJson, payload: dict[str, Any]) -> bool:
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

    def _where(self, body: SlackJson) -> tuple[str, str, str]:
        team = _team(body)
        user = str(body.get("user", {}).get("id", ""))
        channel = str(
            (body.get("channel") or {}).get("id")
            or body.get("container", {}).get("channel_id", "")
        )
        return team, user, channel

    async def _pressed(self, client: AsyncWebClient, body: SlackJson, action: SlackJson) -> None:
        value = str(action.get("value") or action.get("action_id") or "")
        team, user, channel = self._where(body)
        if not value or len(value) > MAX_VALUE or not user:
            log.info("slack: button press without a usable value skipped")
            return
        incoming = await self._incoming(client, team, user, channel or user, action=value)
        replies = await self.handle(incoming)
        container = body.get("container") or {}
        if container.get("is_ephemeral") or not channel:
            await self._respond(body, messages(self.renderer, replies))
            await self._upload_privately(client, user, replies)
        else:
            thread = (body.get("message") or {}).get("thread_ts")
            await self._post(client, channel, replies, thread)

    async def _shared(self, client: AsyncWebClient, body: SlackJson, action: SlackJson) -> None:
        """Post the answer for everyone in the channel, and drop the private copy."""
        try:
            asked = json.loads(str(action.get("value", "")))
            text, lang = str(asked["q"]), str(asked["l"])
        except (ValueError, KeyError, TypeError):
            log.info("slack: share press with an unreadable value skipped")
            return
        if not self.shareable(text):  # the value is the client's to send: check it again
            log.warning("slack: share press for a command that is not shareable refused")
            return
        team, user, channel = self._where(body)
        incoming = Incoming(
            identity=f"slack:{team}:{user}", chat=f"slack:{team}:{channel}", text=text, lang=lang
        )
        replies = await self.handle(incoming)
        try:
            await deliver(client, channel, messages(self.renderer, replies))
        except FAILED as exc:
            log.error("slack: sharing in %s failed: %s", channel, slack_error(exc))
            return
        await self._webhook(body, {"delete_original": True})
