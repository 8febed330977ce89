"""Each person's activation checklist in each chat, as stored: start, find, save, record.

The guided checklist (handlers/checklist.py) asks one question at a time; this module keeps
where a run is and what was answered, so the handler never touches the table. Answers are
stored as a JSON object, question key -> {"value", "note", "at"} (or {"skipped": true}), and
read back by meaning through `knowledge.checklist.Answers` and `answer_to`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import bindparam, exists
from sqlmodel import Session, col, select

from bot.models import OPEN_STATES, ChecklistRun, utcnow
from knowledge.checklist import Answers, questions


@dataclass(frozen=True, slots=True)
class Stored:
    """One question's stored answer: what was answered and whether it was skipped instead."""

    value: Any
    skipped: bool
    # A lead or co-lead answered "not sure" or "tbd": none named yet.
    undecided: bool = False


def answer_to(run: ChecklistRun, key: str) -> Stored | None:
    """The stored answer to question `key`, or None while it has none."""
    entry = Answers(run.answers).entry(key)
    if not entry:
        return None
    return Stored(entry.get("value"), bool(entry.get("skipped")), bool(entry.get("undecided")))


# Built once: building the select cost more than running it, on every message (see open_run).
_HERE = (
    col(ChecklistRun.identity) == bindparam("identity"),
    col(ChecklistRun.chat) == bindparam("chat"),
    col(ChecklistRun.status).in_(OPEN_STATES),
)
_OPEN = select(ChecklistRun).where(*_HERE)
# Whether open_run would find one, as a column another select may carry (bot.app's).
OPEN_HERE = exists().where(*_HERE)


def open_run(session: Session, identity: str, chat: str) -> ChecklistRun | None:
    """A person's open or paused checklist in one chat, if any (at most one: an index)."""
    return session.exec(_OPEN, params={"identity": identity, "chat": chat}).first()


def get(session: Session, run_id: int) -> ChecklistRun | None:
    """One checklist by its id (a finished one's letter button names it)."""
    return session.get(ChecklistRun, run_id)


def start(
    session: Session, identity: str, chat: str, given: Mapping[str, Any] | None = None
) -> ChecklistRun:
    """A new checklist, stored (it has an id for its buttons).

    `given` are answers the opening message already held (question key -> value), marked
    `prefilled`: the run starts at the first question without one, and passes over them.
    """
    at = utcnow().isoformat()
    answers = {
        key: {"value": value, "note": "", "prefilled": True, "at": at}
        for key, value in (given or {}).items()
    }
    run = ChecklistRun(identity=identity, chat=chat, answers=answers)
    run.position = next_unanswered(run, 0)
    save(session, run)
    return run


def next_unanswered(run: ChecklistRun, position: int) -> int:
    """`position`, or past it the first question not prefilled from the opening message.

    An answer kept with another (the co-lead "yes" to a co-led cluster's lead keeps) is passed
    over too.
    """
    qs = questions(run.answers)
    a = Answers(run.answers)
    while position < len(qs) and (
        a.entry(qs[position].key).get("prefilled") or a.entry(qs[position].key).get("kept")
    ):
        position += 1
    return position


def save(session: Session, run: ChecklistRun, **changes: Any) -> None:
    """Change the run's fields (status, position, answers) and store it now."""
    for name, value in changes.items():
        setattr(run, name, value)
    run.updated_at = utcnow()
    session.add(run)
    session.flush()


def record(
    session: Session,
    run: ChecklistRun,
    key: str,
    entry: Mapping[str, Any],
    kept: Mapping[str, Any | None] | None = None,
) -> None:
    """Store one answer with when it was given, and move on to the next question.

    `kept`: answers to other questions the answer gives too (question key -> value, marked
    `kept`), or None to forget one given so by an earlier answer. A new dict each time: a
    JSON column does not see changes made in place.
    """
    at = utcnow().isoformat()
    answers = {**run.answers, key: {**entry, "at": at}}
    for other, value in (kept or {}).items():
        if value is None:
            answers.pop(other, None)
        else:
            answers[other] = {"value": value, "note": "", "kept": True, "at": at}
    run.answers = answers
    save(session, run, answers=answers, position=next_unanswered(run, run.position + 1))


def idle_longer_than(run: ChecklistRun, after: timedelta) -> bool:
    """Whether nothing happened in the run for longer than `after` (it has then expired)."""
    updated = run.updated_at.replace(tzinfo=run.updated_at.tzinfo or UTC)
    return utcnow() - updated > after


def _flag(session: Session, run: ChecklistRun, flag: str) -> None:
    """Keep a mark in the run's answers (a string key, which no question's answer is)."""
    save(session, run, answers={**run.answers, flag: utcnow().isoformat()})


def _unflag(session: Session, run: ChecklistRun, flag: str) -> None:
    """Take a mark out of the run's answers, if it is there."""
    if flag in run.answers:
        save(session, run, answers={k: v for k, v in run.answers.items() if k != flag})


# Where a run keeps a "restart?" not yet answered (a string: no question's answer is one).
RESTART_ASKED = "restart_asked"


def ask_restart(session: Session, run: ChecklistRun) -> None:
    """Keep that the person was asked whether to clear every answer and start again."""
    _flag(session, run, RESTART_ASKED)


def restart_asked(run: ChecklistRun) -> bool:
    """Whether the run waits for a yes or no to starting again."""
    return RESTART_ASKED in run.answers


def drop_restart(session: Session, run: ChecklistRun) -> None:
    """Forget the "restart?" asked: answered, or passed over by another message."""
    _unflag(session, run, RESTART_ASKED)


# Where a run keeps that it was started with no language shown ("/checklist" alone): the first
# answer that shows one sets it, even a name ("السودان", "Soudan").
LANGUAGE_UNTOLD = "language_untold"


def mark_language_untold(session: Session, run: ChecklistRun) -> None:
    """Keep that nothing the person wrote has shown the checklist's language yet."""
    _flag(session, run, LANGUAGE_UNTOLD)


def language_untold(run: ChecklistRun) -> bool:
    """Whether the run still waits for a message that shows its language."""
    return LANGUAGE_UNTOLD in run.answers


def drop_language_untold(session: Session, run: ChecklistRun) -> None:
    """A message showed the language: it is the checklist's from now on."""
    _unflag(session, run, LANGUAGE_UNTOLD)


def last_run(session: Session, identity: str, chat: str) -> ChecklistRun | None:
    """A person's newest checklist in one chat, whatever its state."""
    return session.exec(
        select(ChecklistRun)
        .where(ChecklistRun.identity == identity, ChecklistRun.chat == chat)
        .order_by(col(ChecklistRun.id).desc())
    ).first()
