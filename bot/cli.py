"""The `clusterbot` command: run, serve, chat, ask, imports, sync, db, dispatch, outbox...

Also the workflow's users, proposals, subscriptions and records (bot/workflow_cli.py).
"""

import argparse
import contextlib
import gc
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import adapters, logs
from bot.core import ADDRESSES
from bot.settings import Settings
from bot.terms import MoveName, Role
from knowledge.facts import LANGUAGES

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.domain.presence import LoadResult
    from knowledge import KnowledgeBase

LANG_CHOICES = ("auto", *LANGUAGES)
ROLES = tuple(Role)
MOVE_COMMANDS = tuple(move.command for move in MoveName)


class _Once(argparse._StoreAction):
    """An option that takes one value: given twice, it is refused rather than the last kept.

    `--country Sudan --country Chad` would otherwise make a Chad proposal without a word.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if getattr(namespace, f"_{self.dest}_given", False):
            parser.error(f"{option_string} is given twice; give it once")
        setattr(namespace, f"_{self.dest}_given", True)
        super().__call__(parser, namespace, values, option_string)


class _Parser(argparse.ArgumentParser):
    """Every command's parser, with options of one value taken once (`_Once`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _Once)
        self.register("action", "store", _Once)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="clusterbot",
        description="Answers questions on the IASC cluster approach and its leads.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", help="run the bot (the terminal chat when no platform tokens are set)")

    serve = sub.add_parser("serve", help="serve the configured chat platforms over HTTP")
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

    pres = sub.add_parser(
        "import-presence", help="load HDX HAPI operational presence (3W) from a CSV file"
    )
    pres.add_argument("file", type=Path, help="the global CSV or the API's CSV output")
    sync = sub.add_parser("sync", help="fetch data from its source over the internet")
    sync.add_argument("what", choices=("presence",), help="presence: HDX HAPI 3W")
    sync.add_argument("--country", help="one country only (a name or ISO code)")

    _workflow_parsers(sub)

    doctor = sub.add_parser(
        "doctor", help="check the database, migrations, platforms and dispatcher, with fixes"
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object")

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


def _workflow_parsers(sub: "argparse._SubParsersAction[_Parser]") -> None:
    """`users`, `proposals` and `subscriptions`: the activation workflow from the shell."""
    users = sub.add_parser("users", help="roles: who may move proposals")
    users_sub = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    grant = users_sub.add_parser("grant", help="give IDENTITY a ROLE")
    grant.add_argument("identity", help="; ".join(ADDRESSES.person_forms()))
    grant.add_argument("role", choices=[role.value for role in ROLES])
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
    create.add_argument(
        "--allow-unknown-agency",
        action="store_true",
        help="propose leads that are not agencies we know, as written (as an import allows)",
    )
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
    add.add_argument("--target", required=True, help="|".join(ADDRESSES.target_forms()))
    add.add_argument("--country")
    add.add_argument("--cluster", action="append", default=[], metavar="K")
    add.add_argument("--lang", choices=LANG_CHOICES[1:], default="en")
    subs_sub.add_parser("list", help="every subscription, inactive ones with the reason")
    remove = subs_sub.add_parser("remove", help="end a subscription")
    remove.add_argument("id", type=int)

    recs = sub.add_parser("records", help="country records: confirm, correct, list the stale")
    recs_sub = recs.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = recs_sub.add_parser(
        "verify", help="confirm a record as still right, or correct it with --lead"
    )
    verify.add_argument("--as", dest="actor", required=True, metavar="IDENTITY")
    verify.add_argument("--country", required=True, help="a country name or ISO code")
    verify.add_argument("--cluster", required=True, metavar="K")
    verify.add_argument("--lead", help="the new lead (correcting the record)")
    verify.add_argument("--co-lead", help="the new co-lead, with --lead ('' removes it)")
    verify.add_argument(
        "--allow-unknown-agency",
        action="store_true",
        help="load a lead that is not an agency we know, as written",
    )
    rlist = recs_sub.add_parser("list", help="records with when they were last confirmed")
    rlist.add_argument("--country")
    rlist.add_argument("--stale", action="store_true", help="only those possibly out of date")
    rlist.add_argument("--json", action="store_true")


def _dispatch(settings: Settings, once: bool) -> int:
    """Run the dispatcher (until stopped, or until nothing is due with --once)."""
    import asyncio
    import signal

    with _starting():
        from bot.app import dispatcher_for
        from bot.db import make_engine, upgrade
        from bot.render import renderer_for
        from knowledge import LANGUAGES, load

        engine = make_engine(settings.database_url)
        upgrade(engine)
        renderer = renderer_for(LANGUAGES, settings.cache_dir)
        dispatcher = dispatcher_for(settings, engine, renderer, load())
    if settings.metrics_address:
        from bot.health import serve_metrics

        serve_metrics(settings.metrics_address, engine, settings.metrics_token)
    if not dispatcher.senders:
        hints = ", or ".join(adapters.sender_hints())
        print(
            f"clusterbot dispatch: no sender configured (set {hints}); notifications stay pending",
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


def _doctor(settings: Settings, as_json: bool) -> int:
    """Every readiness check from the shell, with what to do about each failure."""
    from bot import health
    from bot.db import make_engine

    checks = health.doctor(settings, make_engine(settings.database_url))
    failed = [c for c in checks if c.failed]
    if as_json:
        body = health.summary(checks)
        body["fixes"] = {c.name: c.fix for c in checks if c.state in ("fail", "warn") and c.fix}
        print(json.dumps(body))
    else:
        for c in checks:
            print(f"{c.state.upper():5} {c.name:11} {c.detail}")
            if c.state in ("fail", "warn") and c.fix:
                print(f"{'':17} -> {c.fix}")
        n = len(failed)
        print("ready" if not n else f"not ready: {n} check{'s' if n != 1 else ''} failed")
    return 1 if failed else 0


def _secrets(settings: Settings) -> list[str | None]:
    """What must never reach a log line: tokens, secrets, the database password."""
    from sqlalchemy.engine import make_url

    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unreadable URL fails later, with its own message
        password = None
    return [*adapters.secrets(settings), None if password is None else str(password)]


@contextlib.contextmanager
def _starting(freeze: bool = True) -> Iterator[None]:
    """The collector off while a command sets up, then (`freeze`) what it made out of its sight.

    Start-up (the libraries' imports, the knowledge, the adapters) makes some 100,000 objects
    that live as long as the process and next to no garbage: the collections it set off walked
    them all, a quarter of a `dispatch` start's CPU and a tenth of a cold `ask`. A command that
    ends after its work has no later collections to spare: it freezes nothing.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if collecting:
            gc.enable()


def _bot(settings: Settings) -> "Bot":
    with _starting():
        from bot.app import Bot
        from knowledge import load

        return Bot(settings, kb=load(cache_dir=settings.cache_dir))


def _chat(settings: Settings, user: str, as_json: bool = False) -> int:
    from bot.adapters.terminal import chat, typed_lines

    bot = _bot(settings)
    interactive = sys.stdin.isatty()
    files = settings.drafts_dir
    lines = typed_lines(Path.home() / ".clusterbot_history") if interactive else sys.stdin
    try:
        chat(bot.handle_sync, bot.renderer, user, lines, sys.stdout, interactive, files, as_json)
    finally:
        bot.close()
    return 0


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    bot = _bot(settings)
    forced = None if args.lang == "auto" else args.lang
    batch = args.question == ["-"]
    questions = sys.stdin if batch else [" ".join(args.question)]
    try:
        _answer_each(bot, questions, forced, args.json, batch)
    finally:
        bot.close()
    return 0


def _answer_each(
    bot: "Bot", questions: Iterable[str], forced: str | None, as_json: bool, batch: bool
) -> None:
    """Print the answer to each question, as text or as one JSON row each."""
    from bot.core import Incoming

    for line in questions:
        question = line.rstrip("\r\n")
        replies = bot.handle_sync(
            Incoming("console:ask", "console:ask", question, lang=forced, standalone=True)
        )
        text = bot.render_plain(replies)
        reply = replies[0]
        if as_json:
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


def _serve(settings: Settings, host: str, port: int) -> int:
    """Run bot.web under uvicorn until stopped; non-zero when a platform had to stop."""
    if not adapters.served(settings):
        hints = ", or ".join(adapters.setting_hints())
        print(f"clusterbot serve: no platform configured; set {hints}", file=sys.stderr)
        return 2
    fatal: list[str] = []

    def on_fatal(reason: str) -> None:
        fatal.append(reason)
        server.should_exit = True  # uvicorn then runs the lifespan's shutdown

    with _starting():
        import uvicorn

        from bot.web import create_app

        app = create_app(settings, on_fatal=on_fatal)
    # log_config=None: uvicorn's lines go through bot.logs like every other (format, redaction).
    level = settings.log_level.lower()
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level=level, log_config=None)
    )
    server.run()
    if fatal:
        print(f"clusterbot serve: stopped: {fatal[0]}", file=sys.stderr)
        return 1
    if not server.started:
        print("clusterbot serve: could not start (see the log above)", file=sys.stderr)
        return 1
    return 0


def _failed(status: int, *lines: str) -> int:
    """Say on stderr what went wrong and what to do next; the command's exit status."""
    for line in lines:
        print(line, file=sys.stderr)
    return status


def _import(settings: Settings, path: Path, allow_unknown_agency: bool) -> int:
    from bot.db import make_engine, upgrade
    from bot.domain.records import RecordsError, UnreadableFile, import_file
    from knowledge import load

    engine = make_engine(settings.database_url)
    upgrade(engine)
    kb = load()
    try:
        result = import_file(path, kb, engine, allow_unknown_agency)
    except UnreadableFile as exc:
        return _failed(
            2,
            f"error: {exc.errors[0]}; nothing imported.",
            "Check the path and the file, then run the command again.",
        )
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


def _presence_summary(result: "LoadResult", kb: "KnowledgeBase") -> None:
    from bot.domain.presence import SKIP_REASONS

    n = len(result.countries)
    print(
        f"{result.organisations} organisation entries for {n} "
        f"countr{'ies' if n != 1 else 'y'} from {result.rows} rows; the data of "
        f"{'those countries' if n != 1 else 'that country'} was replaced."
    )
    for reason, count in sorted(result.skipped.items()):
        print(f"  {count} rows left out: {SKIP_REASONS[reason]}", file=sys.stderr)
    if result.countries:
        name = kb.matcher.country_name(result.countries[0], "en")
        print(f'Check an answer: clusterbot ask "who works on health in {name}?"')


def _import_presence(settings: Settings, path: Path) -> int:
    from bot.db import make_engine, upgrade
    from bot.domain.presence import PresenceError, import_file
    from knowledge import load

    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        result = import_file(path, engine)
    except PresenceError as exc:
        return _failed(
            2,
            f"error: {exc}; nothing imported.",
            "Give the HDX HAPI operational presence CSV (the global file, or the API's "
            "output_format=csv), then run the command again.",
        )
    print(f"{path}: loaded.", end=" ")
    _presence_summary(result, load())
    return 0


def _sync(settings: Settings, country: str | None) -> int:
    from bot.db import make_engine, upgrade
    from bot.domain.presence import HapiRefused, Offline, PresenceError, sync
    from knowledge import load

    kb = load()
    code = None
    if country:
        code = country.upper() if len(country) == 2 else kb.matcher.find_country(country)
        if not code:
            unclear = kb.matcher.which_country(country)
            return _failed(2, f"error: {unclear or f'no country called {country!r}'}")
    if not settings.hapi_app_identifier:
        return _failed(
            2,
            "error: HDX HAPI needs an app identifier; set CLUSTERBOT_HAPI_APP_IDENTIFIER "
            '(base64 of "app-name:email", which HAPI\'s encoded-identifier endpoint makes), '
            "then run the command again.",
        )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        result = sync(engine, settings.hapi_app_identifier, settings.hapi_url, str(code or ""))
    except Offline as exc:
        return _failed(
            1,
            f"clusterbot sync presence: cannot reach HDX HAPI at {settings.hapi_url} ({exc}). "
            "This machine seems to have no internet connection; nothing was changed.",
            "On a machine with internet, download hdx_hapi_operational_presence_global.csv "
            "from HDX and load it here with: clusterbot import-presence FILE",
        )
    except HapiRefused as exc:
        hint = {
            400: "check CLUSTERBOT_HAPI_APP_IDENTIFIER",
            401: "check CLUSTERBOT_HAPI_APP_IDENTIFIER",
            403: "check CLUSTERBOT_HAPI_APP_IDENTIFIER",
            429: "HDX HAPI asks us to slow down: try again later",
        }.get(exc.status, "try again later")
        return _failed(
            1,
            f"clusterbot sync presence: HDX HAPI refused the request ({exc}); nothing was "
            f"changed. {hint[0].upper()}{hint[1:]}.",
        )
    except PresenceError as exc:
        return _failed(1, f"clusterbot sync presence: {exc}; nothing was changed.")
    print(f"HDX HAPI: {result.requests} request{'s' if result.requests != 1 else ''};", end=" ")
    _presence_summary(result, kb)
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
    logs.setup(settings.log_level, settings.log_format, _secrets(settings))
    command = args.command or "run"
    # Those that run on (or answer many questions) pause the collector for their own set-up.
    if command == "ask":
        return _ask(settings, args)
    if command == "chat":
        return _chat(settings, args.user, args.json)
    if command == "serve":
        return _serve(settings, args.host, args.port)
    if command == "dispatch":
        return _dispatch(settings, args.once)
    if command == "run":  # serve the platforms that are configured; with none, chat locally
        if adapters.served(settings):
            return _serve(settings, "127.0.0.1", 8080)
        return _chat(settings, "local")
    with _starting(freeze=False):  # the rest do one bounded piece of work, then end
        return _once(command, settings, args)


def _once(command: str, settings: Settings, args: argparse.Namespace) -> int:
    if command == "db":
        from bot.db import make_engine, new_revision, upgrade

        engine = make_engine(settings.database_url)
        if args.db_command == "revision":
            print(f"wrote migration {new_revision(engine, args.message)}; review it, then commit")
            return 0
        upgrade(engine)
        print("database is up to date")
        return 0
    if command in ("users", "proposals", "subscriptions", "records"):
        from bot.workflow_cli import run_workflow

        return run_workflow(settings, command, args)
    if command == "import-clusters":
        return _import(settings, args.file, args.allow_unknown_agency)
    if command == "import-presence":
        return _import_presence(settings, args.file)
    if command == "sync":
        return _sync(settings, args.country)
    if command == "outbox":
        return _outbox(settings, args)
    if command == "doctor":
        return _doctor(settings, args.json)
    raise SystemExit(f"clusterbot: no command {command!r}")  # argparse refuses it first


if __name__ == "__main__":
    sys.exit(main())
