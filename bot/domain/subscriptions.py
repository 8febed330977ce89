"""Partner subscriptions: which chats, channels and webhooks hear of which activations."""

from collections.abc import Iterable

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from bot.core import ADDRESSES
from bot.models import Subscription


class BadTarget(ValueError):
    """The text is not a destination notifications can be sent to."""


def check_target(target: str) -> str:
    """`target` unchanged when some platform's notifications reach it, else BadTarget.

    A console chat cannot be reached later: the terminal has no target.
    """
    if not ADDRESSES.reaches(target):
        *most, last = ADDRESSES.target_forms()
        forms = f"{', '.join(most)} or {last}" if most else last
        raise BadTarget(f"{target!r} is not a notification target; use {forms}")
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


def _active(session: Session, where: ColumnElement[bool]) -> list[Subscription]:
    """The active subscriptions that match `where`, oldest first."""
    query = select(Subscription).where(where, col(Subscription.active))
    return list(session.exec(query.order_by(col(Subscription.id))).all())


def for_target(session: Session, target: str) -> list[Subscription]:
    """The active subscriptions of one chat, channel or webhook."""
    return _active(session, col(Subscription.target) == target)


def made_by(session: Session, identity: str) -> list[Subscription]:
    """The active subscriptions a person made (in any chat)."""
    return _active(session, col(Subscription.created_by) == identity)


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
