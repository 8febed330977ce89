"""Wires knowledge, storage, handlers and rendering into the Bot every adapter talks to."""

import asyncio
import functools
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import adapters, metrics, outbox
from bot.core import Context, Handler, Incoming, Reply, Router, as_list, split_command
from bot.db import make_engine, session_scope, upgrade
from bot.domain import checklist_runs, proposals, roles, verification
from bot.domain.conversation import carried, keep, last_subject
from bot.models import User, utcnow
from bot.render import Renderer, renderer_for
from bot.settings import Settings
from handlers import build_router
from knowledge import KnowledgeBase, Understanding, load, understand

log = logging.getLogger("clusterbot")
# The message's user, and whether they have a checklist open in this chat, in one round trip
# (most have none: the checklist's own look-up is spared). Built once: building a select cost
# more than running it.
_USER = select(User, checklist_runs.OPEN_HERE).where(col(User.identity) == bindparam("identity"))


@dataclass
class Bot:
    """The platform-neutral bot: one `handle` for every adapter."""

    settings: Settings
    kb: KnowledgeBase = field(default_factory=load)
    engine: Engine | None = None
    router: Router = field(default_factory=build_router)
    clock: Callable[[], datetime] = utcnow  # what "now" is for the handlers (tests inject one)

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = make_engine(self.settings.database_url)
        upgrade(self.engine)
        self.renderer = renderer_for(tuple(self.kb.languages), self.settings.cache_dir)
        # What a message counts as in clusterbot_messages_total: a bounded set of names.
        self._intents = {*self.router.intents, *self.router.commands, "action"}
        # Build the indexes now, not on the first question.
        self.kb.matcher  # noqa: B018
        self.kb.ranker  # noqa: B018
        # The knowledge, indexes and templates live as long as the process: move them out of the
        # garbage collector's sight, or every full collection walks them (seen as p99 stalls).
        # A start with the collector off (`clusterbot ask`, see bot.cli) left next to no
        # garbage, and collecting it would walk everything once more for nothing.
        if gc.isenabled():
            gc.collect()
        gc.freeze()

    def close(self) -> None:
        """Close the database connections: SQLite folds its write-ahead log back into the file.

        A process left without this keeps its `.db-wal` beside the file (nothing is lost, but a
        copy of the file alone then lacks the last answers).
        """
        if self.engine is not None:
            self.engine.dispose()

    def handle_sync(self, msg: Incoming) -> list[Reply]:
        """Understand and answer one message inside one database transaction."""
        assert self.engine is not None
        command = split_command(msg.text) if not msg.action else None
        text = command[1] if command else msg.text
        understood = Understanding("action", None, 1.0)
        subject: dict[str, Any] | None = None
        try:
            with session_scope(self.engine) as session:
                conversing = not (msg.action or command or msg.standalone)
                # Only a typed question may follow the last one ("and in Haiti?"); a command
                # ("/help") takes only its language from it.
                last = None if msg.standalone else last_subject(session, msg.identity, msg.chat)
                previous = last if conversing else None
                if not msg.action:
                    understood = understand(text, self.kb, previous)
                if command:
                    understood = replace(understood, intent=command[0], confidence=1.0)
                    code = command[1].strip().casefold()
                    if command[0] not in self.router.commands:
                        # "/lan fr", "/lan es": no command of ours, answered in the
                        # conversation's language, not in one its words happen to name.
                        understood = replace(understood, lang=None)
                    elif code in self.kb.languages:
                        # "/lang fr": a language code says the language ("en" is no Spanish "in").
                        understood = replace(understood, lang=code)
                found = session.execute(_USER, {"identity": msg.identity, "chat": msg.chat})
                user, checklist = found.first() or (None, False)
                new = False
                if user is None:
                    session.commit()  # nothing to keep: gives the connection back meanwhile
                    user, new = self._first_sight(session, msg.identity)
                    # Created meanwhile by another message, which may have opened a checklist.
                    checklist = not new
                lang = self._language(msg, understood, user, last)
                ctx = Context(
                    session,
                    self.kb,
                    user,
                    lang,
                    understood,
                    now=self.clock(),
                    record_max_age=timedelta(days=self.settings.record_max_age_days),
                    router=self.router,
                    new_user=new,
                    checklist_open=checklist,
                )
                if msg.action:
                    ctx.pressed = self.router.parse(msg.action)
                replies = self._replies(msg, ctx, command)
                # The language kept is the reply's: a message that showed none answered in it.
                if conversing:
                    own = {**ctx.understanding.subject(), "lang": ctx.lang}
                    subject = carried(previous, own)
                    if subject == previous:
                        subject = None
                # Buttons answer in the language they were shown in (a write only then).
                shown = next((r.lang for r in replies if r.choices), None)
                if shown and user.reply_lang != shown:
                    user.reply_lang = shown
                    session.add(user)
            intent = understood.intent if understood.intent in self._intents else "other"
            metrics.MESSAGES.labels(metrics.platform_of(msg.identity), intent).inc()
        except Exception:
            log.exception("handler failed for %s", msg.identity)
            metrics.HANDLER_ERRORS.labels(metrics.platform_of(msg.identity), "handler").inc()
            lang = self._language(msg, understood, None)
            return [Reply("help/error.j2", {}, lang, "error", 0.0)]
        if subject is not None:
            # After the answer's own transaction, which stays durable; see conversation.keep.
            try:
                keep(self.engine, msg.identity, msg.chat, subject)
            except Exception:
                log.exception("keeping the subject failed for %s", msg.identity)
        return replies

    def _first_sight(self, session: Session, identity: str) -> tuple[User, bool]:
        """Create a new user in a short transaction of its own, then use it in `session`.

        True with it when this message created it: nothing else of theirs can be stored yet.

        Inside the handler's transaction the insert would hold SQLite's write lock for as long
        as the handler runs, and the inbox could not store the events arriving meanwhile. The
        insert returns the row, so `session` reads it only when another message created it.
        """
        assert self.engine is not None
        with session_scope(self.engine) as own:
            new = roles.created(own, identity)
        if new is None:
            return roles.user(session, identity), False
        session.add(new)
        return new, True

    def _replies(
        self, msg: Incoming, ctx: Context, command: tuple[str, str] | None
    ) -> list[Reply]:
        # A conversation in progress (e.g. a checklist) sees the message first; a question
        # asked on its own (`clusterbot ask`) follows nothing, so it is spared the look-up.
        for conversation in () if msg.standalone else self.router.conversations:
            taken = conversation(msg, ctx)
            if taken is not None:
                return as_list(taken)
        replies = as_list(self._route(msg, command, ctx.understanding)(msg, ctx))
        return replies + ctx.followups

    async def handle(self, msg: Incoming) -> list[Reply]:
        """The async entry for adapters: the handler and its transaction run in a worker thread."""
        return await asyncio.to_thread(self.handle_sync, msg)

    def _route(self, msg: Incoming, command: tuple[str, str] | None, u: Understanding) -> Handler:
        if msg.action:
            return self.router.for_action(msg.action)
        if command:
            return self.router.for_command(command[0])
        return self.router.for_intent(u.intent)

    def _language(
        self,
        msg: Incoming,
        u: Understanding,
        user: User | None,
        subject: dict[str, Any] | None = None,
    ) -> str:
        """Forced language, then the message's own, then the last question's, then the choice.

        A button press has no words: it answers in the language of the last reply with buttons.
        A message whose words show no language ("HRP?") answers in the language of this
        person's last question here, then the user's /lang (which promised it), then the
        platform's hint, then ours.
        """
        supported = self.kb.languages
        hint = (msg.locale or "").replace("_", "-").split("-")[0].casefold()
        pressed = user.reply_lang if user and msg.action else None
        before = (subject or {}).get("lang")
        chosen = user.lang if user else None
        # A command's words show no language ("/lang", "/help"): the language chosen holds
        # there, however the last question was asked ("/lang fr", "who leads wash", "/lang").
        if chosen and not msg.action and split_command(msg.text):
            before = None
        for code in (msg.lang, u.lang, pressed, before, chosen, hint):
            if code and code in supported:
                return code
        return self.settings.default_language

    async def retarget(self, old: str, new: str) -> None:
        """A chat moved (Telegram group to supergroup): its subscriptions follow it."""
        await asyncio.to_thread(self._outbox_change, outbox.retarget, old, new)

    async def deactivate(self, target: str, reason: str) -> None:
        """A chat is gone (blocked the bot, deleted): its subscriptions stop."""
        await asyncio.to_thread(self._outbox_change, outbox.deactivate, target, reason)

    def _outbox_change(self, change: Callable[[Session, str, str], int], a: str, b: str) -> None:
        assert self.engine is not None
        try:
            with session_scope(self.engine) as session:
                change(session, a, b)
        except Exception:
            log.exception("recording %s(%s, %s) failed", change.__name__, a, b)

    def dispatcher(self, senders: list[outbox.Sender] | None = None) -> outbox.Dispatcher:
        """A notification dispatcher on this bot's database, with the configured senders."""
        assert self.engine is not None
        return dispatcher_for(self.settings, self.engine, self.renderer, self.kb, senders)

    def render_plain(self, replies: list[Reply]) -> str:
        """The replies as plain text (terminal, JSON), separated by a blank line."""
        return "\n\n".join(self.renderer.plain(r) for r in replies)


def senders_for(settings: Settings, renderer: Renderer, engine: Engine) -> list[outbox.Sender]:
    """One Sender per configured platform; targets of any other platform wait in the outbox."""
    return adapters.senders(settings, renderer, engine)


def dispatcher_for(
    settings: Settings,
    engine: Engine,
    renderer: Renderer,
    kb: KnowledgeBase,
    senders: list[outbox.Sender] | None = None,
) -> outbox.Dispatcher:
    """The dispatcher `serve` and `dispatch` run, tuned by the CLUSTERBOT_OUTBOX_* settings.

    Each round it also runs the proposals' time-driven work (due reminders, announcements),
    and, every few minutes, the reminders of country records gone stale that nobody asked about,
    after writing its heartbeat (bot.health: /readyz looks for it).
    """
    plans = functools.partial(
        proposals.tick, kb=kb, plan_after=timedelta(days=settings.transition_plan_days)
    )
    stale = verification.StaleReminders(kb, timedelta(days=settings.record_max_age_days))

    def tick(session: Session) -> None:
        # The stale-record reminders in a transaction of their own, first (SQLite allows one
        # writer): a failure there is logged and never holds back the proposals' reminders.
        try:
            with session_scope(engine) as own:
                stale(own)
        except Exception:
            log.exception("stale country-record reminders failed")
        plans(session)

    dispatcher = outbox.Dispatcher(
        engine,
        senders_for(settings, renderer, engine) if senders is None else senders,
        None,
        max_attempts=settings.outbox_max_attempts,
        backoff=settings.outbox_backoff_seconds,
        lease=settings.outbox_lease_seconds,
        concurrency=settings.outbox_concurrency,
        share=settings.outbox_rate_share,
    )
    # Here, not at the top: bot.health brings Starlette and httpx (about 60 ms), which a
    # process that never dispatches (`clusterbot ask`, `chat`) does not need.
    from bot import health

    dispatcher.tick = health.ticker(dispatcher.worker, tick)  # the heartbeat first (/readyz)
    return dispatcher
