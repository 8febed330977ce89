"""Benchmark one activation-checklist step beside a plain Q&A answer, in the same process.

Each checklist step reads the open run, parses the answer, writes it to the database and renders
the next question; a Q&A answer only reads. Run: `python benchmarks/checklist_step.py`.
"""

import statistics
import tempfile
import time

from bot.app import Bot
from bot.core import Incoming
from bot.db import make_engine
from bot.settings import Settings
from knowledge import load

ANSWERS = [
    "Sudan",
    "Floods displaced 40,000 people",
    "health, wash",
    "yes",
    "yes",
    "no",
    "yes",
    "unsure",
]
ANSWERS += ["done"] * 8 + ["yes", "none", "yes", "none"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main(users: int = 40) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        bot = Bot(Settings(database_url=url), kb=load(), engine=make_engine(url))
        steps: list[float] = []
        answers: list[float] = []
        for u in range(users):
            who = f"console:u{u}"
            bot.handle_sync(Incoming(who, who, "/checklist"))
            for text in ANSWERS:
                start = time.perf_counter()
                bot.render_plain(bot.handle_sync(Incoming(who, who, text)))
                steps.append(time.perf_counter() - start)
                start = time.perf_counter()
                bot.render_plain(
                    bot.handle_sync(
                        Incoming("console:qa", "console:qa", "who leads WASH in Sudan?")
                    )
                )
                answers.append(time.perf_counter() - start)
    print(f"{users} users x {len(ANSWERS)} checklist steps (SQLite file, one commit per step)")
    for name, s in (("Q&A answer (baseline)", answers), ("checklist step", steps)):
        print(
            f"  {name:22} median {statistics.median(s) * 1e3:6.2f} ms   p99 {percentile(s, 99) * 1e3:6.2f} ms"
        )
    print(
        f"  ratio step/answer: median {statistics.median(steps) / statistics.median(answers):.2f}x"
        f"   p99 {percentile(steps, 99) / percentile(answers, 99):.2f}x"
    )


if __name__ == "__main__":
    main()
