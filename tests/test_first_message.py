"""A new user's first messages, sent at once, are all answered: users are created by an upsert."""

import threading

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import Bot
from bot.core import Incoming
from bot.models import User
from bot.settings import Settings
from knowledge import KnowledgeBase


def test_simultaneous_first_messages_get_answers(
    kb: KnowledgeBase, threaded_engine: Engine
) -> None:
    bot = Bot(Settings(database_url="sqlite://"), kb=kb, engine=threaded_engine)
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
    with Session(threaded_engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == users
