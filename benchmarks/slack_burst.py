"""A burst of Slack DMs against `clusterbot serve`: how fast they are acknowledged and answered.

`clusterbot serve` runs as a process of its own (SQLite file, the Slack stand-in as its API);
N signed DM events (default 20,000, distinct users and channels) are posted 16 at a time. Reports
the acknowledgement rate, the answer rate (answers reaching the stand-in), how long after the
last acknowledgement the last answer came, the serving process's peak memory (VmHWM), and how
many acknowledged DMs were never answered.
Run: `python benchmarks/slack_burst.py [N]`.
"""

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import httpx  # noqa: E402

from tests.fakes.slack_api import SIGNING_SECRET, TOKEN, FakeSlack, signed_dm  # noqa: E402
from tests.serve_process import start_serve  # noqa: E402

CONCURRENCY = 16
STALL = 30.0  # seconds without a new answer before the rest count as lost


def peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def events(n: int) -> list[tuple[bytes, dict[str, str]]]:
    return [signed_dm(i, "BURST") for i in range(n)]


async def post_all(url: str, reqs: list[tuple[bytes, dict[str, str]]]) -> float:
    """Post every event, CONCURRENCY at a time; returns when the last was acknowledged."""
    queue = list(reversed(reqs))
    async with httpx.AsyncClient(
        limits=httpx.Limits(max_connections=CONCURRENCY), timeout=60
    ) as c:

        async def worker() -> None:
            while queue:
                body, headers = queue.pop()
                response = await c.post(url, content=body, headers=headers)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    fake = FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "CLUSTERBOT_DATABASE_URL": f"sqlite:///{tmp}/burst.db",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "CLUSTERBOT_DISPATCH_IN_SERVE": "false",
            "CLUSTERBOT_LOG_LEVEL": "ERROR",
        }
        for name in ("TELEGRAM_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID"):
            env.pop(name, None)
        served = start_serve(env, Path(tmp) / "serve.log")
        proc, url = served.proc, served.base
        try:
            reqs = events(n)
            start_mb = peak_mb(proc.pid)
            start = time.perf_counter()
            acked_at = asyncio.run(post_all(url + "/slack/events", reqs))
            # Wait for every answer, or until none came for STALL seconds (a DM lost).
            seen, last_progress = 0, time.monotonic()
            while seen < n and time.monotonic() - last_progress < STALL:
                time.sleep(0.2)
                now_seen = len({c.channel for c in fake.of("chat.postMessage")})
                if now_seen > seen:
                    seen, last_progress = now_seen, time.monotonic()
            answered_at = max(c.at for c in fake.of("chat.postMessage"))
            # Call.at is the stand-in's perf_counter, in this process: the same clock.
            last = max(answered_at, acked_at)
            print(f"{n} Slack DMs, {CONCURRENCY} at a time, against clusterbot serve (SQLite)")
            print(f"  acknowledged   {n / (acked_at - start):8.1f} /s")
            print(f"  answered       {seen / (last - start):8.1f} /s")
            print(f"  last answer    {max(0.0, answered_at - acked_at):8.1f} s after the last ack")
            print(f"  peak memory    {start_mb:8.0f} MB at start, {peak_mb(proc.pid):.0f} MB peak")
            print(f"  unanswered     {n - seen:8d} acknowledged DMs (none for {STALL:.0f} s)")
        finally:
            proc.terminate()
            proc.wait(30)
            fake.stop()


if __name__ == "__main__":
    main()
