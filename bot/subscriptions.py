"""Partner subscriptions: which chats, channels and webhooks hear of which activations."""

import re
from collections.abc import Iterable

from sqlmodel import Session, col, select

from bot.models import Subscription

# The destinations a notification can reach; a console chat cannot be reached later.
_TARGET = re.compile(
    r"^(?:telegram:-?\d{1,20}|slack:[A-Z0-9]{1,20}:[A-Z0-9]{1,20}|webhook:https?://\S{1,990}"
    r"|whatsapp:\d{1,20})$"
)


class BadTarget(ValueError):
    """The text is not a destination notifications can be sent to."""


def check_target(target: str) -> str:
    """`target` unchanged when notifications can reach it, else BadTarget."""
    if not _TARGET.match(target):
        raise BadTarget(
            f"{target!r} is not a notification target; use telegram:CHAT_ID, "
            "slack:TEAM:CHANNEL, whatsapp:WA_ID or webhook:URL"
        )
    return target


def add(
    session: Session,
    target: str,
    country: str | None,
    clusters: Iterable[str],
    lang: str,
    created_by: str = "",
) -> tuple[Subscription, bool]:
    """Subscribe `target`; an identical active subscription is returned, not doubled."""
    check_target(target)
    wanted = sorted(set(clusters))
    for sub in for_target(session, target):
        if sub.country == country and sorted(sub.clusters) == wanted:
            if sub.lang != lang:
                sub.lang = lang
                session.add(sub)
            return sub, False
    sub = Subscription(
        target=target, country=country, clusters=wanted, lang=lang, created_by=created_by
    )
    session.add(sub)
    session.flush()
    return sub, True


def for_target(session: Session, target: str) -> list[Subscription]:
    """The active subscriptions of one chat, channel or webhook."""
    return list(
        session.exec(
            select(Subscription)
            .where(Subscription.target == target, col(Subscription.active))
            .order_by(col(Subscription.id))
        ).all()
    )


def everything(session: Session) -> list[Subscription]:
    """Every subscription, inactive ones included (they say why)."""
    return list(session.exec(select(Subscription).order_by(col(Subscription.id))).all())


def remove(session: Session, sub_id: int, target: str | None = None) -> bool:
    """End one subscription (only of `target` when given); True when there was one.

    The row stays, marked inactive, because notifications already sent refer to it.
    """
    sub = session.get(Subscription, sub_id)
    if sub is None or (target is not None and sub.target != target):
        return False
    sub.active = False
    sub.inactive_reason = "unsubscribed"
    session.add(sub)
    return True


def matching(session: Session, country: str, clusters: Iterable[str]) -> list[Subscription]:
    """Active subscriptions that want news of `country` and any of `clusters`."""
    wanted = set(clusters)
    rows = session.exec(
        select(Subscription).where(
            col(Subscription.active),
            (col(Subscription.country).is_(None)) | (Subscription.country == country),
        )
    ).all()
    return [s for s in rows if not s.clusters or wanted & set(s.clusters)]
