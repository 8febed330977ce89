"""Notifications put in the outbox, for its tests and benchmarks: one loop, in one place."""

from sqlalchemy.engine import Engine

from bot import outbox
from bot.db import session_scope
from bot.outbox import BULK


def notify(
    engine: Engine,
    targets: list[str],
    tag: str = "n",
    *,
    mark: str = "",
    priority: int = BULK,
    sub: int | None = None,
    lang: str = "en",
) -> None:
    """One notification per target, in one transaction: key `tag:i`, text `tag i` + `mark`."""
    with session_scope(engine) as s:
        for i, target in enumerate(targets):
            outbox.enqueue(
                s,
                key=f"{tag}:{i}",
                target=target,
                template="outbox/text.j2",
                data={"text": f"{tag} {i}{mark}"},
                lang=lang,
                priority=priority,
                subscription_id=sub,
            )
