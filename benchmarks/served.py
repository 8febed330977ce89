"""What the benchmarks against a `clusterbot serve` process share.

Its environment (one platform on, no dispatcher inside, errors only in its log), posting signed
events at it a few at a time, waiting for its answers, and reading its memory.
"""

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.fakes.slack_api import SIGNING_SECRET, TOKEN, FakeSlack

PLATFORM_VARIABLES = ("SLACK_", "TELEGRAM_", "WHATSAPP_")


def serve_env(database_url: str, **platform: str) -> dict[str, str]:
    """This environment for `serve` on `database_url`, with no platform but the one given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_VARIABLES)}
    return {
        **env,
        "CLUSTERBOT_DATABASE_URL": database_url,
        "CLUSTERBOT_DISPATCH_IN_SERVE": "false",
        "CLUSTERBOT_LOG_LEVEL": "ERROR",
        **platform,
    }


def slack_env(database_url: str, fake: FakeSlack) -> dict[str, str]:
    """`serve` with Slack on, against the Slack stand-in."""
    return serve_env(
        database_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
    )


async def post_all(url: str, requests: list[tuple[bytes, dict[str, str]]], at_once: int) -> float:
    """Post every (body, headers), `at_once` at a time; returns when the last was acknowledged."""
    queue = list(reversed(requests))
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=at_once), timeout=60) as c:

        async def worker() -> None:
            while queue:
                body, headers = queue.pop()
                response = await c.post(url, content=body, headers=headers)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(worker() for _ in range(at_once)))
    return time.perf_counter()


def wait_for_answers(n: int, answered: Callable[[], int], stall: float) -> int:
    """How many of `n` are answered once all are, or none more came for `stall` seconds."""
    seen, last_progress = 0, time.monotonic()
    while seen < n and time.monotonic() - last_progress < stall:
        time.sleep(0.2)
        now_seen = answered()
        if now_seen > seen:
            seen, last_progress = now_seen, time.monotonic()
    return seen


def memory_mb(pid: int, field: str) -> float:
    """A process's memory figure from /proc (VmRSS: resident now, VmHWM: its peak) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0
