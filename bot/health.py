"""Readiness and what the database says: /readyz, /metrics' gauges, `clusterbot doctor`.

/readyz is ready (200) when the database answers and is at the latest migration, each
configured platform accepted our credentials at start, and some dispatcher's heartbeat is
fresh. The heartbeat is a row per dispatcher (table `heartbeat`, `Heartbeat.worker` = host:pid)
rewritten by its loop every few seconds, whether it runs inside `clusterbot serve` or as
`clusterbot dispatch` elsewhere: the database is the one place every replica can see it.
`clusterbot doctor` runs the same checks from the shell, asking the platforms afresh, and
says what to do about each failure.
"""

import asyncio
import hmac
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import case, delete, func, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import adapters, metrics, migrations
from bot.core import ADDRESSES
from bot.db import insert_ignore
from bot.models import Heartbeat, InboxEvent, Notification, utcnow
from bot.platform import Probe
from bot.settings import Settings

log = logging.getLogger("clusterbot.health")

DISPATCHER = "dispatcher"
DB_TIMEOUT = 3.0  # seconds /readyz waits for the database before calling it down
AUTH_RETRY = 30.0  # seconds between two tries of credentials a platform refused at start
KEEP_BEATS = timedelta(days=1)  # heartbeats of dispatchers long gone are removed after this


def _platforms(targets: bool = False) -> list[str]:
    """Every platform's name (the packages register them), or those notifications can reach."""
    return [a.platform for a in ADDRESSES if a.target or not targets]


@dataclass(frozen=True, slots=True)
class Check:
    """One check's verdict: `ok`, `fail`, `warn` (worth a look, not a failure) or `skip`."""

    name: str
    state: str
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        """Whether this check makes the whole not ready."""
        return self.state == "fail"

    def line(self) -> str:
        """`state: detail`, as /readyz shows it under the check's name."""
        return f"{self.state}: {self.detail}"


# ---- the dispatcher's heartbeat -----------------------------------------------------------------


def beat(session: Session, worker: str, role: str = DISPATCHER) -> None:
    """Record that `worker` is alive now (and forget workers silent for a day)."""
    now = utcnow()
    t = Heartbeat.__table__  # type: ignore[attr-defined]
    done = session.execute(update(t).where(t.c.worker == worker).values(beat_at=now, role=role))
    if not done.rowcount:  # type: ignore[attr-defined]
        insert_ignore(session, t, {"worker": worker, "role": role, "beat_at": now}, ["worker"])
    session.execute(delete(t).where(t.c.beat_at < now - KEEP_BEATS))


def ticker(worker: str, then: Callable[[Session], None]) -> Callable[[Session], None]:
    """A dispatcher tick that beats first, committed on its own, then does `then`'s work."""

    def tick(session: Session) -> None:
        beat(session, worker)
        session.commit()  # the beat stands even if the work after it fails
        then(session)

    return tick


# ---- checks -------------------------------------------------------------------------------------


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _reason(exc: BaseException) -> str:
    first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:300]


def database(engine: Engine) -> list[Check]:
    """Whether the database answers, and whether it is at this code's latest migration.

    A SQLite file that does not exist is reported, not created (connecting would create it).
    After a PostgreSQL restart the pool's dead connections are replaced as they are taken
    (pool_pre_ping, bot.db): one failed answer means the database is down.
    """
    missing = missing_sqlite_file(engine)
    if missing is not None:
        return [
            Check(
                "database",
                "fail",
                f"no database file at {missing}",
                "check CLUSTERBOT_DATABASE_URL (and the working directory, for a relative "
                "path); to start a new database there, run: clusterbot db upgrade",
            ),
            Check("migrations", "skip", "there is no database"),
        ]
    try:
        revision = _revision(engine)
    except Exception as exc:
        fix = (
            "check CLUSTERBOT_DATABASE_URL and that the database server is up "
            "(PostgreSQL: pg_isready -h HOST -p PORT)"
        )
        return [
            Check("database", "fail", f"not answering ({_reason(exc)})", fix),
            Check("migrations", "skip", "the database is not answering"),
        ]
    where = engine.url.render_as_string(hide_password=True)
    checks = [Check("database", "ok", f"{engine.dialect.name} answers ({where})")]
    head = migrations.head()
    if revision == head:
        checks.append(Check("migrations", "ok", f"at {head}, the latest"))
    elif revision is None:
        checks.append(
            Check("migrations", "fail", "no migrations applied", "run: clusterbot db upgrade")
        )
    elif str(revision) > head:
        checks.append(
            Check(
                "migrations",
                "fail",
                f"at {revision}, newer than this code's {head}",
                f"this code is older than the database: deploy the version with migration "
                f"{revision}",
            )
        )
    else:
        checks.append(
            Check(
                "migrations",
                "fail",
                f"at {revision}; this code needs {head}",
                "run: clusterbot db upgrade (serve and dispatch also upgrade when they start)",
            )
        )
    return checks


def missing_sqlite_file(engine: Engine) -> str | None:
    """The SQLite file `engine` names when it does not exist; None otherwise (or in memory)."""
    name = engine.url.database if engine.dialect.name == "sqlite" else None
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return None if Path(name).exists() else name


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        if not inspect(conn).has_table("alembic_version"):
            return None
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if found is None else str(found)


def dispatcher(engine: Engine, max_age: float) -> Check:
    """Whether some dispatcher beat within `max_age` seconds (0: not checked)."""
    if max_age <= 0:
        return Check("dispatcher", "skip", "not checked (CLUSTERBOT_READY_DISPATCHER_SECONDS=0)")
    t = Heartbeat.__table__  # type: ignore[attr-defined]
    try:
        with engine.connect() as conn:
            last = conn.execute(
                select(t.c.worker, t.c.beat_at)
                .where(t.c.role == DISPATCHER)
                .order_by(t.c.beat_at.desc())
                .limit(1)
            ).first()
    except Exception as exc:
        return Check("dispatcher", "fail", f"heartbeat not readable ({_reason(exc)})")
    fix = (
        "start one: clusterbot dispatch (or CLUSTERBOT_DISPATCH_IN_SERVE=true), and read its "
        "log; if none should run, set CLUSTERBOT_READY_DISPATCHER_SECONDS=0"
    )
    if last is None:
        return Check("dispatcher", "fail", "no dispatcher has run on this database", fix)
    age = (utcnow() - _aware(last[1])).total_seconds()
    if age > max_age:
        detail = f"last heartbeat {age:.0f} s ago (from {last[0]}), over {max_age:g} s"
        return Check("dispatcher", "fail", detail, fix)
    return Check("dispatcher", "ok", f"heartbeat {max(age, 0):.0f} s ago (from {last[0]})")


def platform_probes(settings: Settings) -> dict[str, Probe]:
    """One credentials check per configured platform (each package's `probe`)."""
    return adapters.probes(settings)


class PlatformAuth:
    """What each configured platform answered to our credentials when `serve` started."""

    def __init__(self, names: Sequence[str]) -> None:
        self.results: dict[str, tuple[bool, str] | None] = dict.fromkeys(names)

    def record(self, name: str, ok: bool, detail: str) -> None:
        """Keep a platform's latest answer."""
        self.results[name] = (ok, detail)

    def checks(self) -> list[Check]:
        """One check per platform; one not asked yet is not ready."""
        found = []
        for name, result in self.results.items():
            if result is None:
                found.append(Check(name, "fail", "credentials not checked yet"))
            else:
                ok, detail = result
                fix = adapters.probe_fixes().get(name, "")
                found.append(Check(name, "ok" if ok else "fail", detail, fix))
        return found


def auth_at_start(
    probes_: dict[str, Probe], status: PlatformAuth, retry: float = AUTH_RETRY
) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    """(start, stop) of a lifespan participant asking each platform once, again until it accepts.

    Started after the platforms, in the background: a platform slow to answer does not hold up
    the others, nor the start.
    """
    tasks: list[asyncio.Task[None]] = []

    async def ask(name: str, probe: Probe) -> None:
        while True:
            try:
                ok, detail = await probe()
            except Exception as exc:  # a probe answers, it does not raise; never leave it unset
                ok, detail = False, type(exc).__name__
            status.record(name, ok, detail)
            if ok:
                log.info("%s: credentials accepted (%s)", name, detail)
                return
            log.error("%s: credentials refused: %s; asking again in %g s", name, detail, retry)
            await asyncio.sleep(retry)

    async def start() -> None:
        loop = asyncio.get_running_loop()
        tasks.extend(loop.create_task(ask(name, probe)) for name, probe in probes_.items())

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return start, stop


def readiness(engine: Engine, status: PlatformAuth | None, max_age: float) -> list[Check]:
    """Every check /readyz makes (blocking: the database is asked)."""
    checks = database(engine)
    if status is not None:
        checks += status.checks()
    checks.append(_dispatcher_unless(checks, engine, max_age))
    return checks


def _dispatcher_unless(checks: Sequence[Check], engine: Engine, max_age: float) -> Check:
    """The dispatcher check, skipped when the database or its schema failed already."""
    if checks[0].failed:
        return Check("dispatcher", "skip", "the database is not answering")
    if checks[1].failed:
        return Check("dispatcher", "skip", "the schema is not at the latest migration")
    return dispatcher(engine, max_age)


def summary(checks: Sequence[Check]) -> dict[str, Any]:
    """The JSON /readyz answers: ready or not, the first failure, and every check."""
    failing = [c for c in checks if c.failed]
    body: dict[str, Any] = {"ready": not failing}
    if failing:
        body["reason"] = f"{failing[0].name}: {failing[0].detail}"
    body["checks"] = {c.name: c.line() for c in checks}
    return body


async def ready_response(
    engine: Engine, status: PlatformAuth | None, max_age: float, timeout: float = DB_TIMEOUT
) -> Response:
    """/readyz: 200 when every check passes, else 503; a short JSON reason either way."""
    try:
        checks = await asyncio.wait_for(
            asyncio.to_thread(readiness, engine, status, max_age), timeout
        )
    except TimeoutError:
        checks = [Check("database", "fail", f"no answer within {timeout:g} s")]
    body = summary(checks)
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


def bearer_accepted(token: str | None, authorization: str) -> bool:
    """Whether an Authorization header carries `token` as its bearer (any header, without one)."""
    if not token:
        return True
    scheme, _, given = authorization.partition(" ")
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500 for "Bearer é").
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def routes(
    engine: Engine, status: PlatformAuth | None, max_age: float, metrics_token: str | None = None
) -> list[BaseRoute]:
    """/readyz and /metrics for bot.web; /metrics wants `metrics_token` as a bearer when set."""

    async def readyz(request: Request) -> Response:
        return await ready_response(engine, status, max_age)

    async def metrics_page(request: Request) -> Response:
        if not bearer_accepted(metrics_token, request.headers.get("authorization", "")):
            return PlainTextResponse(
                "a bearer token is required",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await asyncio.to_thread(metrics.render, [DatabaseCollector(engine)])
        return Response(body, headers={"Content-Type": metrics.CONTENT_TYPE})

    return [Route("/readyz", readyz), Route("/metrics", metrics_page)]


# ---- the database's gauges ----------------------------------------------------------------------


class DatabaseCollector:
    """Gauges read from the database at each scrape: the same from every process (take max).

    Outbox rows by status and platform, the age of the oldest overdue pending notification, and
    the inbox's events by status with the age of its oldest pending one. Each scrape runs three
    grouped counts; with many millions of sent rows, scrape less often.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """The gauges; with the database away, only clusterbot_database_up 0."""
        up = GaugeMetricFamily(
            "clusterbot_database_up", "Whether the database answered this scrape (1) or not (0)."
        )
        try:
            found = self._read()
        except Exception as exc:
            log.warning("metrics: database gauges not read: %s", _reason(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _read(self) -> list[Metric]:
        n = Notification.__table__  # type: ignore[attr-defined]
        i = InboxEvent.__table__  # type: ignore[attr-defined]
        platform = case(
            *[(n.c.target.startswith(f"{p}:"), p) for p in _platforms()], else_="other"
        ).label("platform")
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(n.c.status, platform, func.count()).group_by(n.c.status, platform)
            ).all()
            overdue = conn.execute(
                select(platform, func.min(n.c.due_at))
                .where(n.c.status == "pending", n.c.due_at <= now)
                .group_by(platform)
            ).all()
            events = conn.execute(select(i.c.status, func.count()).group_by(i.c.status)).all()
            oldest_event = conn.execute(
                select(func.min(i.c.created_at)).where(i.c.status == "pending")
            ).scalar()
        outbox = GaugeMetricFamily(
            "clusterbot_outbox_rows",
            "Notifications in the outbox, by status (pending, sent, failed, dead) and platform.",
            labels=["status", "platform"],
        )
        counted = {(str(s), str(p)): int(c) for s, p, c in rows}
        for status in ("pending", "sent", "failed", "dead"):
            for name in _platforms(targets=True):
                counted.setdefault((status, name), 0)
        for (status, name), count in sorted(counted.items()):
            outbox.add_metric([status, name], count)
        age = GaugeMetricFamily(
            "clusterbot_outbox_oldest_pending_seconds",
            "How long the oldest pending notification has been due (0: none overdue).",
            labels=["platform"],
        )
        ages = {name: 0.0 for name in _platforms(targets=True)}
        for name, due in overdue:
            if due is not None:
                ages[str(name)] = max((now - _aware(due)).total_seconds(), 0.0)
        for name, seconds in sorted(ages.items()):
            age.add_metric([name], seconds)
        inbox = GaugeMetricFamily(
            "clusterbot_inbox_events",
            "Platform events in the inbox, by status (pending, done, dead).",
            labels=["status"],
        )
        by_status = {"pending": 0, "done": 0, "dead": 0} | {str(s): int(c) for s, c in events}
        for status, count in sorted(by_status.items()):
            inbox.add_metric([status], count)
        waiting = GaugeMetricFamily(
            "clusterbot_inbox_oldest_pending_seconds",
            "How long the oldest unanswered platform event has waited (0: none).",
        )
        waited = 0.0 if oldest_event is None else (now - _aware(oldest_event)).total_seconds()
        waiting.add_metric([], max(waited, 0.0))
        return [outbox, age, inbox, waiting]


# ---- clusterbot doctor --------------------------------------------------------------------------


def doctor(settings: Settings, engine: Engine) -> list[Check]:
    """Every readiness check from the shell, the platforms asked now, and what is set aside."""
    checks = database(engine)

    async def ask_all() -> list[tuple[bool, str]]:
        found = platform_probes(settings)
        return list(await asyncio.gather(*(probe() for probe in found.values())))

    names = list(platform_probes(settings))
    for name, (ok, detail) in zip(names, asyncio.run(ask_all()), strict=True):
        fix = adapters.probe_fixes().get(name, "")
        checks.append(Check(name, "ok" if ok else "fail", detail, fix))
    if not names:
        checks.append(
            Check(
                "platforms",
                "warn",
                "none configured: serve will not start; dispatch can send webhooks only",
                "set " + ", or ".join(adapters.setting_hints()),
            )
        )
    checks.append(_dispatcher_unless(checks, engine, settings.ready_dispatcher_seconds or 60.0))
    if checks[1].state == "ok":
        checks.extend(_set_aside(engine))
    return checks


def _set_aside(engine: Engine) -> list[Check]:
    """Dead notifications and inbox events: not failures of the service, but worth a look."""
    n = Notification.__table__  # type: ignore[attr-defined]
    i = InboxEvent.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        dead = conn.execute(select(func.count()).where(n.c.status == "dead")).scalar() or 0
        gone = conn.execute(select(func.count()).where(i.c.status == "dead")).scalar() or 0
    return [
        Check(
            "outbox",
            "warn" if dead else "ok",
            f"{dead} dead notification(s)",
            "each row's last_error (table notification) says why; re-queue them with "
            "clusterbot outbox retry",
        ),
        Check(
            "inbox",
            "warn" if gone else "ok",
            f"{gone} dead event(s) (answering raised five times; see the log)",
            "the log's 'inbox: ... is dead' lines say why",
        ),
    ]


class _Everything:
    """The process's metrics followed by the database's gauges, as one collector."""

    def __init__(self, engine: Engine) -> None:
        self.database = DatabaseCollector(engine)

    def collect(self) -> Iterator[Metric]:
        yield from metrics.REGISTRY.collect()
        yield from self.database.collect()


def serve_metrics(address: str, engine: Engine, token: str | None = None) -> Callable[[], None]:
    """Serve /metrics at HOST:PORT in a thread (for `clusterbot dispatch`); returns its stop.

    With `token`, only a request bearing it is answered, as `serve`'s /metrics does.
    """
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import CollectorRegistry, make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer

    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"  # "[::1]:9100" or "::1:9100" is IPv6
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Everything(engine))
    exposition = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if not bearer_accepted(token, environ.get("HTTP_AUTHORIZATION", "")):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")],
            )
            return [b"a bearer token is required\n"]
        return exposition(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes are not news: nothing on stderr for each one."""

    class Server(ThreadingWSGIServer):
        # The address's own family, as prometheus_client's start_http_server picks it.
        address_family = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)[0][0]

    server = make_server(host, int(port), app, Server, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    log.info("metrics: serving http://%s:%s/metrics", host, port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
