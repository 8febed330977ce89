"""Slack's sender: outbox notifications to `slack:TEAM:CHANNEL`, and the 429 rules for replies."""

import asyncio
import math
import random
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.address import ADDRESS
from bot.adapters.slack.blocks import Message, messages
from bot.core import Reply
from bot.outbox import MAX_WAIT, Pace, Reaching, RetryLater, Undeliverable, clamp_seconds
from bot.render import Renderer

MAX_REPLY_WAIT = 60.0  # seconds a reply waits out a 429 in place; longer, it is given up
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


def _retry_after(headers: Mapping[str, Any], high: float = MAX_WAIT) -> float:
    """Slack's Retry-After header in seconds, within 0..`high` (1 when missing or unreadable)."""
    for key, value in headers.items():
        if key.casefold() == "retry-after":
            return clamp_seconds(value[0] if isinstance(value, list) else value, 1.0, high)
    return 1.0


FAILED = (SlackApiError, RetryLater, Undeliverable)  # what `deliver` raises


def classify(exc: SlackApiError) -> RetryLater | Undeliverable | None:
    """What a refused post means; None for anything else (retried later, or only logged)."""
    if exc.response.status_code == 429:
        return RetryLater(_retry_after(exc.response.headers))
    error = str(exc.response.get("error") or "")
    return Undeliverable(error) if error in UNDELIVERABLE else None


def slack_error(exc: Exception) -> Any:
    """Slack's own error code for a failed post (what our log lines show)."""
    cause = exc if isinstance(exc, SlackApiError) else exc.__cause__
    return cause.response.get("error") if isinstance(cause, SlackApiError) else str(exc)


async def deliver(
    client: AsyncWebClient,
    channel: str,
    out: list[Message],
    thread: str | None = None,
    token: str | None = None,
) -> None:
    """Post messages in a channel (or a thread), for replies and notifications alike.

    Links and media are never unfurled. A refusal is raised as `classify` names it
    (RetryLater, Undeliverable), or as the SlackApiError itself.
    """
    for message in out:
        try:
            await client.chat_postMessage(
                token=token,
                channel=channel,
                thread_ts=thread,
                unfurl_links=False,
                unfurl_media=False,
                **message.payload(),
            )
        except SlackApiError as exc:
            outcome = classify(exc)
            if outcome is None:
                raise
            raise outcome from exc


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


class SlackSender(Reaching, address=ADDRESS):
    """Delivers outbox notifications to `slack:TEAM:CHANNEL` with chat.postMessage."""

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
        await deliver(self.client, channel, messages(self.renderer, [reply]), token=token)
