"""A PostgreSQL schema of a test's or a benchmark's own, dropped afterwards.

Runs share one database (CI's, a developer's): each works in a schema of its own, named with a
random suffix, so that two runs at once never see each other's tables.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from bot.db import make_engine


@contextmanager
def own_schema(url: str, prefix: str = "cb") -> Iterator[str]:
    """A database URL whose connections work in a new schema of `url`'s database.

    Dispose of the engines made on it before the block ends: the schema is dropped then.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
