"""A burst of Slack DMs against `clusterbot serve`: how fast they are acknowledged and answered.

`clusterbot serve` runs as a process of its own (SQLite file, the Slack stand-in as its API);
N signed DM events (default 20,000, distinct users and channels) are posted 16 at a time. Reports
the acknowledgement rate, the answer rate (answers reaching the stand-in), how long after the
last acknowledgement the last answer came, the serving process's peak memory (VmHWM), and how
many acknowledged DMs were never answered.
Run: `python benchmarks/slack_burst.py [N]`.
"""

import asyncio
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from benchmarks.served import memory_mb, post_all, slack_env, wait_for_answers  # noqa: E402
from tests.fakes.slack_api import FakeSlack, signed_dm  # noqa: E402
from tests.serve_process import start_serve  # noqa: E402

CONCURRENCY = 16
STALL = 30.0  # seconds without a new answer before the rest count as lost


def events(n: int) -> list[tuple[bytes, dict[str, str]]]:
    return [signed_dm(i, "BURST") for i in range(n)]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    fake = FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        served = start_serve(slack_env(f"sqlite:///{tmp}/burst.db", fake), Path(tmp) / "serve.log")
        proc, url = served.proc, served.base
        try:
            reqs = events(n)
            start_mb = memory_mb(proc.pid, "VmHWM")
            start = time.perf_counter()
            acked_at = asyncio.run(post_all(url + "/slack/events", reqs, CONCURRENCY))
            # Every answer, or as many as came until none came for STALL seconds (a DM lost).
            seen = wait_for_answers(
                n, lambda: len({c.channel for c in fake.of("chat.postMessage")}), STALL
            )
            answered_at = max(c.at for c in fake.of("chat.postMessage"))
            # Call.at is the stand-in's perf_counter, in this process: the same clock.
            last = max(answered_at, acked_at)
            print(f"{n} Slack DMs, {CONCURRENCY} at a time, against clusterbot serve (SQLite)")
            print(f"  acknowledged   {n / (acked_at - start):8.1f} /s")
            print(f"  answered       {seen / (last - start):8.1f} /s")
            print(f"  last answer    {max(0.0, answered_at - acked_at):8.1f} s after the last ack")
            peak = memory_mb(proc.pid, "VmHWM")
            print(f"  peak memory    {start_mb:8.0f} MB at start, {peak:.0f} MB peak")
            print(f"  unanswered     {n - seen:8d} acknowledged DMs (none for {STALL:.0f} s)")
        finally:
            proc.terminate()
            proc.wait(30)
            fake.stop()


if __name__ == "__main__":
    main()
