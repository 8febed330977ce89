"""The database engine, sessions, and schema migrations (Alembic)."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from bot import migrations

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and one shared in-memory database.

    Others (PostgreSQL) get pool_pre_ping: a replica outlives a database restart unnoticed.
    """
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
        if ":memory:" in url or url in {"sqlite://", "sqlite:///"}:
            # Worker threads would each get their own empty database otherwise.
            kwargs["poolclass"] = StaticPool
    else:
        # A pooled connection does not survive a database restart: each is tested (one round
        # trip) as it leaves the pool, so the first request after a restart does not fail.
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # Every commit waits for the disk (FULL, SQLite's own default, said out loud): what
            # was acknowledged survives a power cut. relaxed() lowers it for one transaction.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    return engine


def insert_ignore(session: Session, table: Any, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; True when this call inserted the row.

    One statement, so two transactions creating the same row never fail: the second waits for
    the first and does nothing (a read-then-insert races on the unique key).
    """
    # RETURNING says whether a row went in (rowcount is -1 when the driver returns rows).
    key = next(iter(table.primary_key.columns)).name
    return _insert_ignoring(session, table, values, keys, (key,)) is not None


def insert_new(session: Session, table: Any, values: dict[str, Any], keys: list[str]) -> Any:
    """insert_ignore returning the row as stored (as a read gives it), or None when it was there.

    Whoever inserts need not read the row back: one round trip instead of two.
    """
    return _insert_ignoring(session, table, values, keys, tuple(table.columns.keys()))


def _insert_ignoring(
    session: Session,
    table: Any,
    values: dict[str, Any],
    keys: list[str],
    returning: tuple[str, ...],
) -> Any:
    dialect = session.get_bind().dialect.name
    statement = _insert_statement(dialect, table, tuple(keys), returning)
    return session.connection().execute(statement, values).first()


@functools.cache
def _insert_statement(
    dialect: str, table: Any, keys: tuple[str, ...], returning: tuple[str, ...]
) -> Any:
    """Built once per table: building the statement cost more than running it (inbox, users)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(table).on_conflict_do_nothing(index_elements=list(keys))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(keys))
    else:
        raise NotImplementedError(f"insert_ignore supports SQLite and PostgreSQL, not {dialect}")
    return statement.returning(*(table.c[name] for name in returning))


class _Transaction(Protocol):
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


@contextmanager
def _committed(tx: _Transaction) -> Iterator[None]:
    """Commit `tx` when the block ends; roll it back if the block raises."""
    try:
        yield
        tx.commit()
    except BaseException:
        tx.rollback()
        raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session, _committed(session):
        yield session


@contextmanager
def relaxed(engine: Engine) -> Iterator[Connection]:
    """One transaction (Core) whose commit does not wait for the disk: for state worth little.

    PostgreSQL, `SET LOCAL synchronous_commit = off`: a server crash may lose it (the last few
    hundred milliseconds of such commits), never corrupting anything. SQLite has its own,
    relaxed_driver(). Everything else keeps waiting for the disk.
    """
    if engine.dialect.name == "sqlite":
        raise ValueError("relaxed() is for PostgreSQL; SQLite uses relaxed_driver()")
    with engine.connect() as conn, _committed(conn):
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        yield conn


@contextmanager
def relaxed_driver(engine: Engine) -> Iterator[Any]:
    """relaxed() for SQLite, on a pooled driver connection (sqlite3.Connection) itself.

    WAL mode, synchronous=NORMAL for this transaction only: a power cut or an OS crash may
    lose it (never a process kill, and never corrupting the database). No SQLAlchemy
    Connection around it: its checkout, commit and return were a fifth of a subject's write.
    """
    pooled = engine.raw_connection()
    try:
        raw = pooled.driver_connection
        assert raw is not None
        raw.execute("PRAGMA synchronous=NORMAL")  # outside a transaction: holds for the commit
        try:
            with _committed(raw):
                yield raw
        finally:
            try:
                raw.execute("PRAGMA synchronous=FULL")
            except Exception:
                pooled.invalidate()  # never hand a relaxed connection back to the pool
                raise
    finally:
        pooled.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def alembic_heads() -> list[str]:
    """The head revisions as Alembic sees them (one, unless migrations have branched)."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory(str(MIGRATIONS)).get_heads())


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    # Checking the version first keeps Alembic (slow to import) off the common start-up path.
    if current_revision(engine) == migrations.head():
        return
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")


def new_revision(engine: Engine, message: str) -> str:
    """Write a migration for the difference between the models and an up-to-date database."""
    from alembic import command

    upgrade(engine)
    rev = migrations.next_revision()
    slug = "_".join(message.casefold().split())[:40] or "change"
    cfg = _alembic_config(engine)
    cfg.set_main_option("file_template", f"{rev}_{slug}")
    command.revision(cfg, message, autogenerate=True, rev_id=rev)
    return rev
