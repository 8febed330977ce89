"""Outbox benchmark: enqueueing beside plain inserts, and the dispatcher's achieved send rate.

1. Time to enqueue 10,000 notifications (one transaction, `outbox.enqueue` with its key check)
   beside inserting 10,000 plain rows of a same-shaped table in the same process, on SQLite and,
   when CLUSTERBOT_TEST_POSTGRES_URL is set, on PostgreSQL (in a schema of its own).
2. The real `clusterbot dispatch --once` process against the Telegram stand-in with raised
   limits: achieved rate (first to last delivery, as the stand-in saw them) as a fraction of
   the rate the dispatcher was allowed, and the number of 429s (aim: >= 0.9, zero).

    .venv/bin/python benchmarks/outbox.py [--n 10000] [--sends 2000] [--rate 60]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import outbox  # noqa: E402
from bot.db import make_engine, session_scope, upgrade  # noqa: E402
from tests.fakes.telegram_api import TOKEN, FakeTelegram, Limits  # noqa: E402
from tests.notices import notify  # noqa: E402
from tests.own_schema import own_schema  # noqa: E402


def enqueue_times(engine: Engine, n: int) -> tuple[float, float]:
    """Seconds to enqueue n notifications, and to insert n plain rows, in one transaction each."""
    plain = Table(
        "bench_plain",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("key", String(300), unique=True),
        Column("target", String(1000)),
        Column("body", String(1000)),
    )
    plain.create(engine)
    insert = plain.insert()
    started = time.perf_counter()
    with engine.begin() as conn:
        for i in range(n):
            conn.execute(insert, {"key": f"k{i}", "target": f"telegram:{i}", "body": f"hello {i}"})
    baseline = time.perf_counter() - started
    targets = [f"telegram:{i}" for i in range(n)]
    started = time.perf_counter()
    notify(engine, targets, "bench")
    return time.perf_counter() - started, baseline


def report_enqueue(name: str, engine: Engine, n: int) -> None:
    upgrade(engine)
    took, base = enqueue_times(engine, n)
    print(
        f"enqueue {n:,} on {name}: {took:.2f} s ({n / took:,.0f}/s); plain inserts "
        f"{base:.2f} s; ratio {took / base:.2f}x"
    )


def dispatch_rate(n: int, rate: float) -> None:
    limits = Limits(per_second=rate / 0.8, private_interval=1.0, group_per_minute=20)
    fake = FakeTelegram(limits=limits).start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/dispatch.db"
        engine = make_engine(url)
        upgrade(engine)
        notify(engine, [f"telegram:{100 + i}" for i in range(n)], "d")
        env = {
            **os.environ,
            "CLUSTERBOT_DATABASE_URL": url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.url,
            "CLUSTERBOT_TELEGRAM_NOTIFY_RATE": str(rate),
        }
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "dispatch", "--once"], env=env, cwd=ROOT, check=True
        )
        with session_scope(engine) as s:
            sent = outbox.counts(s)["sent"]
        engine.dispose()
    fake.stop()
    times = sorted(c.at for c in fake.delivered)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    print(
        f"dispatch {n:,} (stand-in allows {limits.per_second:.0f}/s, dispatcher {rate:.0f}/s): "
        f"{achieved:.1f}/s = {achieved / rate:.2f} of the allowed rate; {fake.count_429()} 429s; "
        f"{sent} sent"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--sends", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        report_enqueue("SQLite", engine, args.n)
        engine.dispose()
    pg = os.environ.get("CLUSTERBOT_TEST_POSTGRES_URL")
    if pg:
        with own_schema(pg, "bench") as url:
            engine = make_engine(url)
            try:
                report_enqueue("PostgreSQL", engine, args.n)
            finally:
                engine.dispose()
    else:
        print("PostgreSQL: skipped (set CLUSTERBOT_TEST_POSTGRES_URL)")
    dispatch_rate(args.sends, args.rate)


if __name__ == "__main__":
    main()
