"""A new user's first messages, sent at once, are all answered: users are created by an upsert."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import Bot
from bot.core import Incoming
from bot.db import make_engine, upgrade
from bot.models import User
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.conftest import _postgres_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """SQLite in a file (threads need their own connections) or PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
    else:
        for engine in _postgres_engine():
            upgrade(engine)
            yield engine


def test_simultaneous_first_messages_get_answers(kb: KnowledgeBase, shared_engine: Engine) -> None:
    bot = Bot(Settings(database_url="sqlite://"), kb=kb, engine=shared_engine)
    users, each = 40, 3
    start = threading.Barrier(users * each)
    intents: list[str] = []
    lock = threading.Lock()

    def first_message(n: int) -> None:
        msg = Incoming(f"slack:T1:NEW{n}", f"slack:T1:D{n}", "who leads health")
        start.wait()
        replies = bot.handle_sync(msg)
        with lock:
            intents.extend(r.intent for r in replies)

    threads = [
        threading.Thread(target=first_message, args=(n,))
        for n in range(users)
        for _ in range(each)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(intents) >= users * each
    assert "error" not in intents
    with Session(shared_engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == users
