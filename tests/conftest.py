"""Shared fixtures: the knowledge base, a bot on a fresh database, and a `chat` to talk to it."""

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.app import Bot
from bot.core import Incoming, Reply
from bot.db import make_engine, upgrade
from bot.settings import Settings
from knowledge import KnowledgeBase, load
from tests.fakes.server import running
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.own_schema import own_schema

POSTGRES_URL = os.environ.get("CLUSTERBOT_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load()


def _postgres_engine() -> Iterator[Engine]:
    """A PostgreSQL engine confined to a schema of its own, dropped afterwards."""
    if not POSTGRES_URL:
        if os.environ.get("CLUSTERBOT_REQUIRE_POSTGRES"):
            pytest.fail(
                "CLUSTERBOT_REQUIRE_POSTGRES is set but CLUSTERBOT_TEST_POSTGRES_URL is not"
            )
        pytest.skip("PostgreSQL tests need CLUSTERBOT_TEST_POSTGRES_URL (CI sets it)")
    with own_schema(POSTGRES_URL) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _upgraded(dialect: str, sqlite_url: str) -> Iterator[Engine]:
    """A migrated engine: SQLite at `sqlite_url`, or PostgreSQL in a schema of its own."""
    engines = _postgres_engine() if dialect == "postgres" else iter([make_engine(sqlite_url)])
    for engine in engines:
        upgrade(engine)
        yield engine
        if dialect == "sqlite":
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The same test on SQLite and, when a URL is given, on PostgreSQL."""
    yield from _upgraded(request.param, "sqlite://")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def threaded_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """As `any_engine`, but SQLite in a file: threads get connections of their own."""
    yield from _upgraded(request.param, f"sqlite:///{tmp_path / 'threads.db'}")


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; tests get copies (running Alembic per test is slow)."""
    path = tmp_path_factory.mktemp("db") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def shell_db(migrated_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite file that `clusterbot` commands run in this process use."""
    db = tmp_path / "shell.db"
    db.write_bytes(migrated_db.read_bytes())
    monkeypatch.setenv("CLUSTERBOT_DATABASE_URL", f"sqlite:///{db}")
    return db


def sh(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `clusterbot ARGS` in this process: its exit status, stdout and stderr, stripped."""
    from bot.cli import main

    code = main(args)
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


@pytest.fixture
def engine(migrated_db: Path, tmp_path: Path) -> Iterator[Engine]:
    copy = tmp_path / "bot.db"
    shutil.copyfile(migrated_db, copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


@pytest.fixture
def bot(kb: KnowledgeBase, engine: Engine) -> Bot:
    return Bot(Settings(database_url="sqlite://"), kb=kb, engine=engine)


@dataclass
class Chat:
    """Push a message, read the reply: tests read like a conversation."""

    bot: Bot
    user: str = "console:tester"
    last: Reply | None = None
    where: str = ""  # the chat, when not the user's own (e.g. "telegram:-100")

    replies: list[Reply] = field(default_factory=list)

    def __call__(self, text: str = "", action: str | None = None, **kw: Any) -> str:
        where = self.where or self.user
        self.replies = self.bot.handle_sync(Incoming(self.user, where, text, action, **kw))
        self.last = self.replies[0]
        return self.bot.render_plain(self.replies)

    def ask(self, *turns: str, intent: str | None = None) -> str:
        """Ask each turn in order and return the reply to the last (a follow-up after the rest).

        With `intent`, the last reply must be understood as that intent.
        """
        answer = ""
        for turn in turns:
            answer = self(turn)
        if intent is not None:
            assert self.last is not None and self.last.intent == intent, (self.last, answer)
        return answer

    def html(self) -> str:
        return "\n\n".join(self.bot.renderer.html(r) for r in self.replies)


@pytest.fixture
def chat(bot: Bot) -> Chat:
    return Chat(bot)


@pytest.fixture
def chat_as(bot: Bot) -> Callable[..., Chat]:
    """`chat_as("telegram:1")`, or `chat_as("telegram:1", where="telegram:-100")` in a group."""
    return lambda user, where="": Chat(bot, user, where=where)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """The stand-in Telegram Bot API, started for the test and stopped after it."""
    yield from running(FakeTelegram())


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The stand-in Slack Web API, started for the test and stopped after it."""
    yield from running(FakeSlack())
