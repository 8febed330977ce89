"""A PostgreSQL server of the test's own, in a temporary directory on a free port.

Tests that stop the database (to see the bot notice and recover) cannot stop the shared one.
The binaries come from /usr/lib/postgresql/*/bin; without them the test is skipped, saying so.
As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
"""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.fakes.server import free_socket


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class Throwaway:
    """initdb, start and stop one cluster; `url` is a SQLAlchemy URL to its `postgres` db."""

    def __init__(self) -> None:
        bin_dir = _binaries()
        if bin_dir is None or not (bin_dir / "initdb").exists():
            pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl)")
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="clusterbot-pg-"))
        self.data = self.dir / "data"
        self.port = free_socket().getsockname()[1]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("running as root without runuser: cannot start PostgreSQL")
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        out = subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, f"{tool} failed: {out.stdout[-1000:]} {out.stderr[-1000:]}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.dir, ignore_errors=True)
