"""Bounded bursts of signed Slack events against `clusterbot serve`: every ack under 3 s?

`clusterbot serve` runs as a process of its own (a SQLite file, or PostgreSQL when
CLUSTERBOT_TEST_POSTGRES_URL is set: a schema of its own, dropped after), the Slack stand-in as
its API. N DMs (default 5,000, distinct people) are posted in bursts of B (default 500) all in
flight at once, one burst after the other. Reports each acknowledgement's latency (p50, p99,
max, how many took 3 s or more: Slack's limit), the answer latency from serve's own /metrics
(clusterbot_answer_seconds), and the process's resident memory before the first burst and
after the last answer.
Run: `python benchmarks/serve_burst.py [N] [B]`.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import httpx  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from sqlalchemy import text  # noqa: E402

from benchmarks.served import memory_mb, slack_env, wait_for_answers  # noqa: E402
from bot.db import make_engine  # noqa: E402
from tests.fakes.slack_api import FakeSlack, signed_dm  # noqa: E402
from tests.serve_process import start_serve  # noqa: E402

SLACK_LIMIT = 3.0  # seconds Slack waits for an ack before it retries
STALL = 60.0  # seconds without a new answer before the rest count as lost


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def burst(client: httpx.AsyncClient, url: str, first: int, size: int) -> list[float]:
    """Post `size` DMs at once; each one's time to its acknowledgement."""

    async def one(n: int) -> float:
        body, headers = signed_dm(n, "OPS")
        started = time.perf_counter()
        response = await client.post(url, content=body, headers=headers)
        took = time.perf_counter() - started
        assert response.status_code == 200, (response.status_code, response.text[:200])
        return took

    return list(await asyncio.gather(*(one(first + i) for i in range(size))))


async def post_all(url: str, n: int, size: int) -> list[float]:
    # A new connection for each event: a kept-alive one the server closed meanwhile (after 5 s
    # idle) would fail the next request sent on it.
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        latencies: list[float] = []
        for first in range(0, n, size):
            latencies += await burst(client, url, first, min(size, n - first))
        return latencies


def answer_quantile(metrics_text: str, q: float) -> float:
    """The q-quantile of clusterbot_answer_seconds from its buckets (upper bound)."""
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "clusterbot_answer_seconds_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    for bound, count in buckets:
        if total and count >= q * total:
            return bound
    return float("nan")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    fake = FakeSlack().start()
    postgres = os.environ.get("CLUSTERBOT_TEST_POSTGRES_URL", "")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp:
        if postgres:
            admin = make_engine(postgres)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in postgres else "?"
            db_url = f"{postgres}{sep}options=-csearch_path%3D{schema}"
        else:
            db_url = f"sqlite:///{tmp}/burst.db"
        env = slack_env(db_url, fake)
        served = start_serve(env, Path(tmp) / "serve.log")
        proc, url = served.proc, served.base
        try:
            before_mb = memory_mb(proc.pid, "VmRSS")
            start = time.perf_counter()
            acks = asyncio.run(post_all(url + "/slack/events", n, size))
            acked_at = time.perf_counter()
            seen = wait_for_answers(
                n, lambda: len({c.channel for c in fake.of("chat.postMessage")}), STALL
            )
            answered_at = max(c.at for c in fake.of("chat.postMessage"))
            after_mb = memory_mb(proc.pid, "VmRSS")
            metrics_text = httpx.get(url + "/metrics", timeout=30).text
            where = "PostgreSQL" if postgres else "SQLite"
            slow = sum(1 for a in acks if a >= SLACK_LIMIT)
            print(f"{n} signed Slack DMs in bursts of {size} at once, clusterbot serve on {where}")
            print(
                f"  ack latency     p50 {statistics.median(acks) * 1000:7.0f} ms   "
                f"p99 {quantile(acks, 0.99) * 1000:7.0f} ms   max {max(acks) * 1000:7.0f} ms"
            )
            print(f"  acks >= {SLACK_LIMIT:g} s    {slow} of {n}")
            print(f"  acknowledged    {n / (acked_at - start):7.1f} /s")
            print(f"  answered        {seen} of {n}, {seen / (answered_at - start):7.1f} /s")
            print(
                f"  answer latency  p50 <= {answer_quantile(metrics_text, 0.5):g} s   "
                f"p99 <= {answer_quantile(metrics_text, 0.99):g} s (clusterbot_answer_seconds)"
            )
            print(f"  memory (RSS)    {before_mb:7.0f} MB before, {after_mb:.0f} MB after")
        finally:
            proc.terminate()
            proc.wait(30)
            fake.stop()
            if postgres:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
