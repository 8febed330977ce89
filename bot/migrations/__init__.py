"""Alembic migrations, numbered 0001, 0002, ...; the newest number is the head revision.

Knowing the head from the file names lets start-up skip importing Alembic when the database is
already current (a test checks that Alembic agrees).
"""

from pathlib import Path

VERSIONS = Path(__file__).parent / "versions"


def head() -> str:
    """The newest revision id, from the numbered file names."""
    return max(p.name[:4] for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def next_revision() -> str:
    """The id a new migration takes."""
    return f"{int(head()) + 1:04d}"
