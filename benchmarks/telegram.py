"""Benchmark the Telegram path against a bare PTB echo bot, both polling the local stand-in API.

Reports updates handled per second (a burst of questions from distinct chats) and reply latency
(update queued at the stand-in -> sendMessage received there, one at a time) for Q&A messages,
beside a PTB Application with one handler that echoes, in the same run. Both bots run without
flood limits here (AIORateLimiter with retries only), to measure our own cost; a last line shows
the Q&A bot under the production limiter (about 30 messages a second overall).
Run: `python benchmarks/telegram.py`.
"""

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named like the library: keep its folder off the path, put the repository on it.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from telegram import Update  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.adapters.telegram.adapter import TelegramAdapter  # noqa: E402
from bot.app import Bot  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.telegram_api import TOKEN, FakeTelegram  # noqa: E402

QUESTIONS = [
    ("who leads WASH?", "en"),
    ("who leads the health cluster in Sudan?", "en"),
    ("which clusters does UNICEF lead", "en"),
    ("谁领导卫生集群？", "zh"),
    ("Qui dirige le cluster logistique ?", "fr"),
    ("¿Quién lidera el clúster de nutrición?", "es"),
    ("من يقود مجموعة الصحة؟", "ar"),
    ("what does provider of last resort mean", "en"),
]
BURST = 100
SEQUENTIAL = 100


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


class LoopThread:
    """An event loop in a thread of its own, so the driver can block while the bot runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, make: Callable[[], Awaitable[Any]], timeout: float = 60) -> Any:
        async def wrapper() -> Any:
            return await make()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def measure(fake: FakeTelegram, name: str, base_chat: int) -> dict[str, float]:
    """Warm up, then a burst for throughput and one-at-a-time round trips for latency."""
    for i in range(20):
        text, lang = QUESTIONS[i % len(QUESTIONS)]
        fake.push(fake.message(text, user_id=base_chat + i, language_code=lang))
        fake.wait_sent(base_chat + i, 1, timeout=60)
    base_chat += 1000
    start = time.perf_counter()
    for i in range(BURST):
        text, lang = QUESTIONS[i % len(QUESTIONS)]
        fake.push(fake.message(text, user_id=base_chat + i, language_code=lang))
    chats = set(range(base_chat, base_chat + BURST))
    fake.wait_for(
        lambda calls: chats <= {c.chat_id for c in calls if c.method == "sendMessage"}, 300
    )
    last = max(c.at for c in fake.of("sendMessage") if c.chat_id in chats)
    rate = BURST / (last - start)
    base_chat += 1000
    latencies = []
    for i in range(SEQUENTIAL):
        text, lang = QUESTIONS[i % len(QUESTIONS)]
        update_id = fake.push(fake.message(text, user_id=base_chat + i, language_code=lang))
        reply = fake.wait_sent(base_chat + i, 1, timeout=60)[0]
        latencies.append(reply.at - fake.pushed_at[update_id])
    result = {
        "rate": rate,
        "median": statistics.median(latencies) * 1e3,
        "p99": percentile(latencies, 99) * 1e3,
    }
    print(
        f"  {name:34} {rate:7.1f} updates/s   latency median {result['median']:6.2f} ms"
        f"   p99 {result['p99']:6.2f} ms"
    )
    return result


def echo_bot(fake: FakeTelegram) -> Any:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or ""
        )

    app = ApplicationBuilder().token(TOKEN).base_url(f"{fake.url}/bot").build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def main() -> None:
    fake = FakeTelegram().start()
    loop = LoopThread()
    print(f"Telegram path, polling a local stand-in ({BURST} burst, {SEQUENTIAL} one at a time)")
    try:
        echo = echo_bot(fake)

        async def start_echo() -> None:
            await echo.initialize()
            await echo.start()
            assert echo.updater is not None
            await echo.updater.start_polling(timeout=1)

        async def stop(app: Any) -> None:
            if app.updater.running:
                await app.updater.stop()
            await app.stop()
            await app.shutdown()

        loop.run(start_echo)
        base = measure(fake, "bare PTB echo bot", 1_000_000)
        loop.run(lambda: stop(echo))
        with tempfile.TemporaryDirectory() as tmp:
            bot = Bot(Settings(database_url=f"sqlite:///{tmp}/bench.db"))
            for label, limiter, chat in (
                (
                    "clusterbot Q&A",
                    AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=5),
                    2_000_000,
                ),
                ("clusterbot Q&A, production limiter", AIORateLimiter(max_retries=5), 3_000_000),
            ):
                adapter = TelegramAdapter(
                    bot.handle,
                    bot.renderer,
                    TOKEN,
                    api_url=fake.url,
                    rate_limiter=limiter,
                    poll_timeout=1,
                )
                loop.run(adapter.start)
                full = measure(fake, label, chat)
                loop.run(adapter.stop)
                if limiter._base_limiter is None:  # the like-for-like comparison
                    print(
                        f"  ratio Q&A/echo: throughput {base['rate'] / full['rate']:.2f}x slower,"
                        f" p99 latency {full['p99'] / base['p99']:.2f}x"
                    )
    finally:
        loop.close()
        fake.stop()


if __name__ == "__main__":
    main()
