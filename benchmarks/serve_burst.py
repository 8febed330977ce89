"""Bounded bursts of signed Slack events against `clusterbot serve`: every ack under 3 s?

`clusterbot serve` runs as a process of its own (a SQLite file, or PostgreSQL when
CLUSTERBOT_TEST_POSTGRES_URL is set: a schema of its own, dropped after), the Slack stand-in as
its API. N DMs (default 5,000, distinct people) are posted in bursts of B (default 500) all in
flight at once, one burst after the other. Reports each acknowledgement's latency (p50, p99,
max, how many took 3 s or more: Slack's limit), the answer latency from serve's own /metrics
(clusterbot_answer_seconds), serve's CPU time per event, its resident memory before the first
burst and after the last answer, and the machine's load average (other work on the machine
makes acks slower: compare runs made under the same load).
The events go out on plain asyncio connections (see post_raw), so the client's own work stays
out of the figures.
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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def post_raw(host: str, port: int, body: bytes, headers: dict[str, str]) -> float:
    """POST one event on a connection of its own; the time from connecting to the whole answer.

    Plain asyncio streams, not an HTTP client library: 500 requests at once through httpx cost
    the client about as much CPU as the server, on the same two cores, and its own queueing
    was counted as the server's latency.
    """
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST /slack/events HTTP/1.1\r\nHost: {host}:{port}\r\n{head}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        answer = await reader.read()  # to the end: the server closes after its answer
    finally:
        writer.close()
    took = time.perf_counter() - started
    status = answer.split(b" ", 2)[1:2]
    assert status == [b"200"], answer[:200]
    return took


async def post_all(url: str, n: int, size: int) -> list[float]:
    """N DMs, B at a time all in flight (each signed before its clock starts); each one's ack time."""
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    latencies: list[float] = []
    for first in range(0, n, size):
        signed = [signed_dm(first + i, "OPS") for i in range(min(size, n - first))]
        latencies += await asyncio.gather(*(post_raw(host, port, b, h) for b, h in signed))
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
            load_before = os.getloadavg()[0]
            cpu_start = cpu_seconds(proc.pid)
            start = time.perf_counter()
            acks = asyncio.run(post_all(url, n, size))
            acked_at = time.perf_counter()
            cpu_acked = cpu_seconds(proc.pid)
            seen = wait_for_answers(
                n, lambda: len({c.channel for c in fake.of("chat.postMessage")}), STALL
            )
            answered_at = max(c.at for c in fake.of("chat.postMessage"))
            after_mb = memory_mb(proc.pid, "VmRSS")
            cpu_end = cpu_seconds(proc.pid)
            load_after = os.getloadavg()[0]
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
            print(
                f"  serve CPU       {(cpu_acked - cpu_start) * 1000 / n:.1f} ms an event while "
                f"acknowledging, {(cpu_end - cpu_start) * 1000 / n:.1f} ms in all"
            )
            print(f"  memory (RSS)    {before_mb:7.0f} MB before, {after_mb:.0f} MB after")
            cores = os.cpu_count()
            print(
                f"  machine load    {load_before:.1f} before, {load_after:.1f} after ({cores} cores)"
            )
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
