"""Benchmark `/slack/events` for a signed Q&A slash command against a bare Bolt AsyncApp that acks.

Both apps are served the same way (Starlette + AsyncSlackRequestHandler under uvicorn on
127.0.0.1, each in a process of its own, so the load generator and the Slack stand-in do not
share its CPU) and receive the same signed `/cluster <question>` requests over real HTTP, in
the same run. Reports acknowledged requests per second (a burst, 16 at a time) and the latency of
the acknowledgement (one at a time: median and p99), which is what Slack's 3-second rule is
about; for clusterbot also how long until the answer reached the stand-in's response_url.
Run: `python benchmarks/slack.py`.
"""

import asyncio
import contextlib
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named like the library: keep its folder off the path, put the repository on it.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler  # noqa: E402
from slack_bolt.async_app import AsyncApp  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bot.adapters.slack.routes import SLACK_EVENTS  # noqa: E402
from bot.app import Bot  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web import create_app  # noqa: E402
from tests.fakes.slack_api import SIGNING_SECRET, TEAM, TOKEN, FakeSlack  # noqa: E402

QUESTIONS = [
    "who leads WASH?",
    "who leads the health cluster in Sudan?",
    "which clusters does UNICEF lead",
    "谁领导卫生集群？",
    "Qui dirige le cluster logistique ?",
    "¿Quién lidera el clúster de nutrición?",
    "من يقود مجموعة الصحة؟",
    "what does provider of last resort mean",
]
WARMUP = 50
BURST = 400
CONCURRENCY = 16
SEQUENTIAL = 300


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def bare_app(api_url: str, process_before_response: bool) -> Starlette:
    """A Bolt AsyncApp whose one listener only acknowledges the command."""
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        process_before_response=process_before_response,
    )

    @app.command("/cluster")
    async def ack_only(ack: Any) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route(SLACK_EVENTS, endpoint, methods=["POST"])])


def build(kind: str, api_url: str, db: str) -> Starlette:
    """The app to measure: "bare", "bare-default" or "clusterbot"."""
    if kind == "clusterbot":
        settings = Settings(
            database_url=db,
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=api_url,
        )
        return create_app(settings, bot=Bot(settings))
    return bare_app(api_url, process_before_response=kind == "bare")


def serve(kind: str, api_url: str, db: str, port: int) -> None:
    """The child process: build the app and serve it until terminated."""
    app = build(kind, api_url, db)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@contextlib.contextmanager
def served(kind: str, api_url: str, db: str = "") -> Iterator[str]:
    """Serve one app in a child process; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=serve, args=(kind, api_url, db, port), daemon=True)
    proc.start()
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert proc.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.join(15)


def requests(fake: FakeSlack, n: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """`n` signed slash-command requests, built before any timing starts."""
    verifier = SignatureVerifier(SIGNING_SECRET)
    out = []
    for i in range(n):
        body = urlencode(
            {
                "team_id": TEAM,
                "channel_id": "C0001",
                "user_id": f"U{i % 50:04d}",
                "command": "/cluster",
                "text": QUESTIONS[i % len(QUESTIONS)],
                "response_url": fake.response_url(f"{tag}{i}"),
                "trigger_id": "1.2.3",
            }
        )
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
        }
        out.append((body.encode(), headers))
    return out


async def burst(url: str, reqs: list[tuple[bytes, dict[str, str]]]) -> float:
    """Send all requests, CONCURRENCY at a time; returns acknowledged requests per second."""
    queue = list(reversed(reqs))
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            while queue:
                body, headers = queue.pop()
                response = await client.post(url, content=body, headers=headers)
                assert response.status_code == 200, response.text

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return len(reqs) / (time.perf_counter() - start)


def sequential(
    url: str, reqs: list[tuple[bytes, dict[str, str]]]
) -> tuple[list[float], list[float]]:
    """When each request was sent and how long its acknowledgement took, one at a time."""
    starts, latencies = [], []
    with httpx.Client(timeout=30) as client:
        for body, headers in reqs:
            start = time.perf_counter()
            response = client.post(url, content=body, headers=headers)
            starts.append(start)
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
            time.sleep(0.002)  # a little air between requests, as in real traffic
    return starts, latencies


def wait_answers(fake: FakeSlack, tag: str, n: int) -> None:
    keys = {f"{tag}{i}" for i in range(n)}
    fake.wait_for(
        lambda calls: keys <= {c.params.get("key") for c in calls if c.method == "response"}, 300
    )


def measure(
    fake: FakeSlack, name: str, app: tuple[str, str], tag: str, answers: bool
) -> dict[str, float]:
    with served(app[0], fake.api_url, app[1]) as base:
        url = base + SLACK_EVENTS
        sequential(url, requests(fake, WARMUP, f"{tag}w"))
        rate = asyncio.run(burst(url, requests(fake, BURST, f"{tag}b")))
        if answers:
            wait_answers(fake, f"{tag}b", BURST)
        starts, latencies = sequential(url, requests(fake, SEQUENTIAL, f"{tag}s"))
        answer_ms = 0.0
        if answers:
            wait_answers(fake, f"{tag}s", SEQUENTIAL)
            # Answer latency: response_url post arrival minus when its request was sent.
            arrivals = {c.params["key"]: c.at for c in fake.of("response")}
            answer = [arrivals[f"{tag}s{i}"] - starts[i] for i in range(SEQUENTIAL)]
            answer_ms = statistics.median(answer) * 1e3
    result = {
        "rate": rate,
        "median": statistics.median(latencies) * 1e3,
        "p99": percentile(latencies, 99) * 1e3,
    }
    extra = f"   answer median ~{answer_ms:5.1f} ms" if answers else ""
    print(
        f"  {name:44} {rate:7.1f} req/s   ack median {result['median']:6.2f} ms"
        f"   p99 {result['p99']:6.2f} ms{extra}"
    )
    return result


def main() -> None:
    fake = FakeSlack().start()
    print(
        f"/slack/events, signed /cluster Q&A ({BURST} burst at {CONCURRENCY} concurrent,"
        f" {SEQUENTIAL} one at a time)"
    )
    try:
        strict = measure(
            fake, "bare AsyncApp, ack only (process_before_response)", ("bare", ""), "bare1", False
        )
        default = measure(
            fake, "bare AsyncApp, ack only (Bolt defaults)", ("bare-default", ""), "bare2", False
        )
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{tmp}/bench.db"
            ours = measure(fake, "clusterbot Q&A", ("clusterbot", db), "cb", True)
        for label, base in (("process_before_response", strict), ("Bolt defaults", default)):
            print(
                f"  ratio clusterbot/bare ({label}): throughput {base['rate'] / ours['rate']:.2f}x"
                f" slower, p99 {ours['p99'] / base['p99']:.2f}x"
            )
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
