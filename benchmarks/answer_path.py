"""Benchmark the answer path against a constant-reply baseline run in the same process.

Reports median and p99 per answer over a fixed set of questions in all five languages, the
`clusterbot ask --json -` batch of 1,000 questions beside a batch of constant-reply commands, and
the cold start of `clusterbot ask`. Run: `make bench` (or `python benchmarks/answer_path.py`).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.app import Bot
from bot.core import Context, Incoming, Reply, Router
from bot.db import make_engine
from bot.settings import Settings
from handlers import build_router
from knowledge import load

ROOT = Path(__file__).parent.parent
SUBJECTS = {
    "en": [
        "who leads {c}?",
        "{c} cluster lead",
        "who is in charge of {c} in Sudan?",
        "lead of {c}",
    ],
    "zh": ["{c}集群由谁牵头？", "谁负责{c}？", "苏丹的{c}集群由谁牵头"],
    "fr": [
        "Qui dirige le cluster {c} ?",
        "qui est responsable du cluster {c} au Soudan ?",
        "chef de file {c}",
    ],
    "es": [
        "¿Quién lidera el clúster de {c}?",
        "¿quién dirige {c} en Sudán?",
        "líder del clúster {c}",
    ],
    "ar": ["من يقود مجموعة {c}؟", "من يقود {c} في السودان؟"],
}
EXTRA = [
    "what does provider of last resort mean",
    "what are the activation criteria",
    "which clusters does UNICEF lead",
    "世界粮食计划署负责哪些集群",
    "什么是最后手段提供者？",
    "Quels sont les critères d'activation ?",
    "¿Cuáles son las seis funciones básicas?",
    "ما هي معايير التفعيل؟",
    "nutriton clustr lead?",
    "who leads the cybersecurity cluster",
    "hello",
    "",
    "what does ERC mean",
    "x" * 5000,
]
FIELD_QUESTIONS = ROOT.parent / "shared" / "reference" / "field-questions.md"


def questions() -> list[str]:
    kb = load()
    out = []
    for lang, forms in SUBJECTS.items():
        words = kb.text(lang)
        for cluster in kb.clusters:
            for form in forms:
                out.append(form.format(c=words.sectors[cluster.id].name))
    # The questions users actually ask, where the reference list is at hand (it sits beside the
    # project in the team's checkout).
    if FIELD_QUESTIONS.exists():
        lines = FIELD_QUESTIONS.read_text(encoding="utf-8").splitlines()
        out += [line.split(". ", 1)[1] for line in lines if line[:1].isdigit() and ". " in line]
    return out + EXTRA


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def time_each(bot: Bot, items: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per answer (CPU time leaves out waits for a busy machine)."""
    wall, cpu = [], []
    for _ in range(rounds):
        for text in items:
            start, start_cpu = time.perf_counter(), time.thread_time()
            bot.render_plain(bot.handle_sync(Incoming("console:bench", "console:bench", text)))
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
    return wall, cpu


def constant_router() -> Router:
    """The same path (transaction, user, routing, rendering) with a constant reply."""
    router = build_router()

    def constant(msg: Incoming, ctx: Context) -> Reply:
        return Reply("help/empty.j2", {}, ctx.lang, "constant")

    router.intents = dict.fromkeys(router.intents, constant)
    router.commands = dict.fromkeys(router.commands, constant)
    router.fallbacks = dict.fromkeys(router.fallbacks, constant)
    return router


def in_process(items: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        settings = Settings(database_url=url)
        kb = load()
        full = Bot(settings, kb=kb, engine=make_engine(url))
        base = Bot(settings, kb=kb, engine=make_engine(url), router=constant_router())
        constant_items = ["/ping"] * len(items)
        time_each(full, items, 1)  # warm caches, templates, first user row
        time_each(base, constant_items, 1)
        base_s: list[float] = []
        base_cpu: list[float] = []
        full_s: list[float] = []
        full_cpu: list[float] = []
        # Rounds in turn (baseline, answers, baseline, ...), so a machine that gets busier or
        # quieter during the run weighs on both sides alike.
        for _ in range(3):
            for times, cpu, bot, texts in (
                (base_s, base_cpu, base, constant_items),
                (full_s, full_cpu, full, items),
            ):
                wall, spent = time_each(bot, texts, 1)
                times += wall
                cpu += spent
    print(f"answer path over {len(items)} questions x 3 rounds ({len(full_s)} answers)")
    for label, b, f in (("wall clock", base_s, full_s), ("CPU time", base_cpu, full_cpu)):
        report(label, b, f)


def report(label: str, base_s: list[float], full_s: list[float]) -> None:
    print(f" {label}:")
    for name, s in (("baseline (constant reply)", base_s), ("full answer", full_s)):
        print(
            f"  {name:26} median {statistics.median(s) * 1e3:6.2f} ms   p99 {percentile(s, 99) * 1e3:6.2f} ms"
        )
    print(
        f"  ratio full/baseline: median {statistics.median(full_s) / statistics.median(base_s):.2f}x"
        f"   p99 {percentile(full_s, 99) / percentile(base_s, 99):.2f}x"
    )


def time_cli(args: list[str], env: dict[str, str], cwd: str | Path, stdin: str = "") -> float:
    """Seconds a whole `clusterbot ARGS` process takes, from start to exit."""
    command = [sys.executable, "-m", "bot.cli", *args]
    start = time.perf_counter()
    subprocess.check_output(command, input=stdin, env=env, cwd=cwd, text=True)
    return time.perf_counter() - start


def batch(items: list[str]) -> None:
    lines = [items[i % len(items)] for i in range(1000)]
    with tempfile.TemporaryDirectory() as tmp:
        # A cache of its own (warmed by the first run): the shared one is replaced whenever
        # another checkout with other code runs, and would be rebuilt in the middle of a run.
        env = {
            **os.environ,
            "CLUSTERBOT_DATABASE_URL": f"sqlite:///{tmp}/batch.db",
            "CLUSTERBOT_CACHE_DIR": f"{tmp}/cache",
        }

        def run(stdin: str) -> float:
            return time_cli(["ask", "--json", "-"], env, tmp, stdin)

        run("warm\n")
        base = min(run("/ping\n" * 1000) for _ in range(3))
        full = min(run("\n".join(lines) + "\n") for _ in range(3))
        cold = [time_cli(["ask", "who leads WASH"], env, tmp) for _ in range(5)]
    print("ask --json - with 1,000 questions (best of 3, whole process)")
    print(f"  baseline (1,000 unknown commands) {base:6.2f} s")
    print(f"  1,000 questions                   {full:6.2f} s   ratio {full / base:.2f}x")
    print(
        f'cold start of `clusterbot ask "who leads WASH"`: median of 5 {statistics.median(cold):.2f} s'
    )


if __name__ == "__main__":
    items = questions()
    in_process(items)
    batch(items)
