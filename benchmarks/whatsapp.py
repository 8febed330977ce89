"""WhatsApp against the stand-in: a burst of messages to `clusterbot serve`, and a notice fan-out.

1. `clusterbot serve` runs as a process of its own (SQLite file, the Graph stand-in as its API);
   N signed message events (default 2,000, distinct numbers) are posted 16 at a time. Reports
   the acknowledgement rate, the answer rate, the last answer's delay and the unanswered.
2. `clusterbot dispatch --once` delivers M endorsement-style notices (default 800) to M numbers
   inside their window, at WHATSAPP_NOTIFY_RATE (80 a second); reports the achieved rate and
   how many sends the stand-in refused (131056 / 130429: none expected).
Run: `python benchmarks/whatsapp.py [N] [M]`.
"""

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from benchmarks.served import post_all, serve_env, wait_for_answers  # noqa: E402
from bot.db import make_engine, session_scope, upgrade  # noqa: E402
from bot.models import User, utcnow  # noqa: E402
from tests.fakes import whatsapp_api as meta  # noqa: E402
from tests.notices import notify  # noqa: E402
from tests.serve_process import start_serve  # noqa: E402

CONCURRENCY = 16
STALL = 30.0  # seconds without a new answer before the rest count as lost


def number(i: int) -> str:
    return f"49150{i:08d}"


def environment(tmp: str, fake: meta.FakeWhatsApp) -> dict[str, str]:
    return serve_env(
        f"sqlite:///{tmp}/whatsapp.db",
        WHATSAPP_TOKEN=meta.TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=meta.PHONE_NUMBER_ID,
        WHATSAPP_APP_SECRET=meta.APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=meta.VERIFY_TOKEN,
        WHATSAPP_API_URL=fake.api_url,
    )


def burst(n: int, tmp: str, fake: meta.FakeWhatsApp) -> None:
    served = start_serve(environment(tmp, fake), Path(tmp) / "serve.log")
    proc, url = served.proc, served.base
    try:
        bodies = [json.dumps(meta.text(number(i), "who leads health?")).encode() for i in range(n)]
        signed = [(body, {"X-Hub-Signature-256": meta.signature(body)}) for body in bodies]
        start = time.perf_counter()
        acked_at = asyncio.run(post_all(url + "/whatsapp/webhook", signed, CONCURRENCY))

        def answered() -> int:
            with fake.cond:
                return len({c.to for c in fake.calls if c.method == "messages"})

        seen = wait_for_answers(n, answered, STALL)
        with fake.cond:
            answered_at = max(c.at for c in fake.calls)
        last = max(answered_at, acked_at)
        print(f"{n} WhatsApp messages, {CONCURRENCY} at a time, against clusterbot serve (SQLite)")
        print(f"  acknowledged   {n / (acked_at - start):8.1f} /s")
        print(f"  answered       {seen / (last - start):8.1f} /s")
        print(f"  last answer    {max(0.0, answered_at - acked_at):8.1f} s after the last ack")
        print(f"  unanswered     {n - seen:8d} acknowledged messages (none for {STALL:.0f} s)")
    finally:
        proc.terminate()
        proc.wait(30)


def fan_out(m: int, tmp: str, fake: meta.FakeWhatsApp) -> None:
    engine = make_engine(f"sqlite:///{tmp}/whatsapp.db")
    upgrade(engine)
    targets = [f"whatsapp:{number(100_000 + i)}" for i in range(m)]
    with session_scope(engine) as s:  # each inside its 24-hour window
        s.add_all(User(identity=target, last_message_at=utcnow()) for target in targets)
    notify(engine, targets, tag="bench")
    engine.dispose()
    with fake.cond:
        before = len(fake.calls)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "dispatch", "--once"],
        env=environment(tmp, fake),
        cwd=ROOT,
        check=False,
    )
    took = time.perf_counter() - start
    with fake.cond:
        calls = fake.calls[before:]
    sent = [c for c in calls if not c.error]
    spread = max(c.at for c in sent) - min(c.at for c in sent) if len(sent) > 1 else 0.0
    print(f"{m} notices to {m} numbers, clusterbot dispatch --once (exit {done.returncode})")
    print(
        f"  delivered      {len(sent):8d} in {spread:.1f} s: {len(sent) / max(spread, 1e-9):.1f} /s"
    )
    print(f"  refused        {len(calls) - len(sent):8d} (131056, 130429, ...)")
    print(f"  process        {took:8.1f} s from start to exit")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 800
    fake = meta.FakeWhatsApp(pair_interval=6.0, per_second=80).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            burst(n, tmp, fake)
            fan_out(m, tmp, fake)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
