"""The `clusterbot` command: run, serve, chat, ask, import-clusters, db, dispatch, outbox."""

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.app import Bot

LANG_CHOICES = ("auto", "en", "zh", "fr", "es", "ar")
ROLES = ("admin", "coordinator", "hc", "erc", "partner")  # as bot.models.ROLES (kept light here)
MOVE_COMMANDS = ("submit", "forward", "endorse", "return", "plan-deactivation", "deactivate")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clusterbot",
        description="Answers questions on the IASC cluster approach and its leads.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", help="run the bot (the terminal chat when no platform tokens are set)")

    serve = sub.add_parser("serve", help="serve the chat platforms (Slack, Telegram) over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")

    chat = sub.add_parser("chat", help="interactive terminal chat (also reads piped lines)")
    chat.add_argument("--user", default="local", help="who is chatting (default: local)")
    chat.add_argument(
        "--json", action="store_true", help="one JSON object a line for each message in"
    )

    ask = sub.add_parser("ask", help="answer one question, or one a line from standard input")
    ask.add_argument("--lang", choices=LANG_CHOICES, default="auto", help="reply language")
    ask.add_argument("--json", action="store_true", help="print JSON (one object a line)")
    ask.add_argument("question", nargs="+", help="the question, or - to read lines from stdin")

    imp = sub.add_parser(
        "import-clusters", help="load country cluster records from a CSV or .xlsx file"
    )
    imp.add_argument("file", type=Path, help="CSV (any encoding; , ; or tab) or Excel .xlsx")
    imp.add_argument(
        "--allow-unknown-agency",
        action="store_true",
        help="load leads that are not agencies we know, as written",
    )

    _workflow_parsers(sub)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations")
    rev = db_sub.add_parser("revision", help="write a migration for model changes (autogenerate)")
    rev.add_argument("message")

    # -- notifications: the dispatcher and the outbox (one block; see README: Notifications) --
    dispatch = sub.add_parser("dispatch", help="deliver due notifications until stopped")
    dispatch.add_argument(
        "--once", action="store_true", help="deliver what is due, then exit (see README)"
    )
    box = sub.add_parser("outbox", help="the notification outbox: counts and dead letters")
    box_sub = box.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    status = box_sub.add_parser("status", help="count pending, sent, failed and dead messages")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    retry = box_sub.add_parser("retry", help="re-queue dead messages")
    retry.add_argument(
        "--failed", action="store_true", help="re-queue undeliverable (failed) ones too"
    )
    return parser


def _workflow_parsers(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """`users`, `proposals` and `subscriptions`: the activation workflow from the shell."""
    users = sub.add_parser("users", help="roles: who may move proposals")
    users_sub = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    grant = users_sub.add_parser("grant", help="give IDENTITY a ROLE")
    grant.add_argument("identity", help="e.g. slack:T1:U2, telegram:123, console:alice")
    grant.add_argument("role", choices=ROLES)
    users_sub.add_parser("list", help="everyone the bot knows, with their role")

    props = sub.add_parser("proposals", help="activation proposals through endorsement")
    props_sub = props.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = props_sub.add_parser("create", help="a draft proposal; prints its id")
    create.add_argument("--as", dest="actor", required=True, metavar="IDENTITY")
    create.add_argument("--country", required=True, help="a country name or ISO code")
    create.add_argument("--cluster", action="append", required=True, metavar="K")
    create.add_argument("--lead", action="append", default=[], metavar="K=AGENCY")
    create.add_argument("--co-lead", action="append", default=[], metavar="K=AGENCY")
    create.add_argument("--response", default="", help="the emergency, in a few words")
    create.add_argument("--justification", default="")
    for name in MOVE_COMMANDS:
        move = props_sub.add_parser(name, help=f"{name} a proposal (refused: exit status 1)")
        move.add_argument("id", type=int)
        move.add_argument("--as", dest="actor", required=True, metavar="IDENTITY")
        move.add_argument("--note", default="", help="why (feedback or transition plan)")
        if name in ("plan-deactivation", "deactivate"):
            move.add_argument("--cluster", required=True, metavar="K")
    show = props_sub.add_parser("show", help="one proposal with its history")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    plist = props_sub.add_parser("list", help="proposals, newest first")
    plist.add_argument("--country")
    plist.add_argument("--json", action="store_true")

    subs = sub.add_parser("subscriptions", help="who hears of endorsed activations")
    subs_sub = subs.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = subs_sub.add_parser("add", help="subscribe a chat, channel or webhook")
    add.add_argument(
        "--target",
        required=True,
        help="telegram:CHAT_ID|slack:TEAM:CHANNEL|whatsapp:WA_ID|webhook:URL",
    )
    add.add_argument("--country")
    add.add_argument("--cluster", action="append", default=[], metavar="K")
    add.add_argument("--lang", choices=LANG_CHOICES[1:], default="en")
    subs_sub.add_parser("list", help="every subscription, inactive ones with the reason")
    remove = subs_sub.add_parser("remove", help="end a subscription")
    remove.add_argument("id", type=int)


def _dispatch(settings: Settings, once: bool) -> int:
    """Run the dispatcher (until stopped, or until nothing is due with --once)."""
    import asyncio
    import signal

    from bot.app import dispatcher_for
    from bot.db import make_engine, upgrade
    from bot.render import renderer_for
    from knowledge import LANGUAGES, load

    engine = make_engine(settings.database_url)
    upgrade(engine)
    dispatcher = dispatcher_for(settings, engine, renderer_for(LANGUAGES), load())
    if not dispatcher.senders:
        print(
            "clusterbot dispatch: no sender configured (set TELEGRAM_BOT_TOKEN, Slack's "
            "SLACK_BOT_TOKEN or SLACK_CLIENT_ID with SLACK_SIGNING_SECRET, or "
            "CLUSTERBOT_WEBHOOK_SECRET); notifications stay pending",
            file=sys.stderr,
        )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, dispatcher.stop)
        await (dispatcher.run_once() if once else dispatcher.run_forever())

    asyncio.run(run())
    stats = dispatcher.stats
    print(
        f"dispatch: {stats.sent} sent, {stats.rate_limited} rate limited, {stats.retried} to "
        f"retry, {stats.failed} undeliverable, {stats.dead} dead",
        file=sys.stderr,
    )
    return 0


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    """`outbox status` and `outbox retry`."""
    from bot import outbox
    from bot.db import make_engine, session_scope, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        if args.outbox_command == "retry":
            n = outbox.retry_dead(session, include_failed=args.failed)
            print(f"{n} notification(s) re-queued; clusterbot dispatch --once sends them")
            return 0
        counts = outbox.counts(session)
    if args.json:
        print(json.dumps(counts))
    else:
        for state, n in counts.items():
            print(f"{state:8} {n}")
    return 0


def _bot(settings: Settings) -> "Bot":
    from bot.app import Bot
    from knowledge import load

    return Bot(settings, kb=load(cache_dir=settings.cache_dir))


def _chat(settings: Settings, user: str, as_json: bool = False) -> int:
    from bot.adapters.terminal import chat, typed_lines

    bot = _bot(settings)
    interactive = sys.stdin.isatty()
    files = settings.drafts_dir
    render = bot.renderer.plain
    lines = typed_lines(Path.home() / ".clusterbot_history") if interactive else sys.stdin
    chat(bot.handle_sync, render, user, lines, sys.stdout, interactive, files, as_json)
    return 0


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core import Incoming

    bot = _bot(settings)
    forced = None if args.lang == "auto" else args.lang
    batch = args.question == ["-"]
    questions = sys.stdin if batch else [" ".join(args.question)]
    for line in questions:
        question = line.rstrip("\r\n")
        replies = bot.handle_sync(
            Incoming("console:ask", "console:ask", question, lang=forced, standalone=True)
        )
        text = bot.render_plain(replies)
        reply = replies[0]
        if args.json:
            row = {
                "question": question,
                "text": text,
                "lang": reply.lang,
                "intent": reply.intent,
                "topic": reply.data.get("topic"),
                "confidence": reply.confidence,
                "sources": list(reply.sources),
            }
            print(json.dumps(row, ensure_ascii=False), flush=batch)
        else:
            print(text + ("\n" if batch else ""), flush=batch)
    return 0


def _serve(settings: Settings, host: str, port: int) -> int:
    """Run bot.web under uvicorn until stopped; non-zero when a platform had to stop."""
    on = settings.telegram_bot_token or settings.slack_configured or settings.whatsapp.configured
    if not on:
        print(
            "clusterbot serve: no platform configured; set TELEGRAM_BOT_TOKEN, or "
            "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID) with SLACK_SIGNING_SECRET, or WHATSAPP_TOKEN, "
            "WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN",
            file=sys.stderr,
        )
        return 2
    import uvicorn

    from bot.web import create_app

    fatal: list[str] = []

    def on_fatal(reason: str) -> None:
        fatal.append(reason)
        server.should_exit = True  # uvicorn then runs the lifespan's shutdown

    app = create_app(settings, on_fatal=on_fatal)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower())
    )
    server.run()
    if fatal:
        print(f"clusterbot serve: stopped: {fatal[0]}", file=sys.stderr)
        return 1
    if not server.started:
        print("clusterbot serve: could not start (see the log above)", file=sys.stderr)
        return 1
    return 0


def _import(settings: Settings, path: Path, allow_unknown_agency: bool) -> int:
    from bot.db import make_engine, upgrade
    from bot.records import RecordsError, UnreadableFile, import_file
    from knowledge import load

    engine = make_engine(settings.database_url)
    upgrade(engine)
    kb = load()
    try:
        result = import_file(path, kb, engine, allow_unknown_agency)
    except UnreadableFile as exc:
        print(f"error: {exc.errors[0]}; nothing imported.", file=sys.stderr)
        print("Check the path and the file, then run the command again.", file=sys.stderr)
        return 2
    except RecordsError as exc:
        n = len(exc.errors)
        print(f"{path}: nothing imported (a file loads all its rows or none);", file=sys.stderr)
        print(f"{n} problem{'s' if n != 1 else ''} to fix:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        if exc.unknown_agencies:
            print(
                "If those agencies are right as written, import again with "
                "--allow-unknown-agency.",
                file=sys.stderr,
            )
        print("Fix the file, then run the command again.", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"  {warning}", file=sys.stderr)
    print(f"{path}: {result.added} added, {result.updated} updated (read as {result.read_as}).")
    country, cluster = result.first
    question = (
        f"who leads {kb.text('en').sectors[cluster].short} in "
        f"{kb.matcher.country_name(country, 'en')}?"
    )
    print(f'Check an answer: clusterbot ask "{question}"')
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `clusterbot` command."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`clusterbot ask ... | head`): stop quietly, print nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    command = args.command or "run"
    if command == "db":
        from bot.db import make_engine, new_revision, upgrade

        engine = make_engine(settings.database_url)
        if args.db_command == "revision":
            print(f"wrote migration {new_revision(engine, args.message)}; review it, then commit")
            return 0
        upgrade(engine)
        print("database is up to date")
        return 0
    if command in ("users", "proposals", "subscriptions"):
        from bot.workflow_cli import run_workflow

        return run_workflow(settings, command, args)
    if command == "ask":
        return _ask(settings, args)
    if command == "import-clusters":
        return _import(settings, args.file, args.allow_unknown_agency)
    if command == "chat":
        return _chat(settings, args.user, args.json)
    if command == "serve":
        return _serve(settings, args.host, args.port)
    if command == "dispatch":
        return _dispatch(settings, args.once)
    if command == "outbox":
        return _outbox(settings, args)
    # run: serve the platforms that are configured; with none, chat locally.
    if settings.telegram_bot_token or settings.slack_configured or settings.whatsapp.configured:
        return _serve(settings, "127.0.0.1", 8080)
    return _chat(settings, "local")


if __name__ == "__main__":
    sys.exit(main())
