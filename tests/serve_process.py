"""`clusterbot serve` as a real process on a free port, for the tests that need one.

Its log goes to a file: an unread stderr pipe fills and blocks the process. A port picked free
can be taken by another process before `serve` binds it (a busy machine runs other suites): a
start that fails on "address already in use" is tried again on another port.
"""

import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fakes.server import free_socket, http_client

ROOT = Path(__file__).parent.parent
START_TIMEOUT = 180.0  # a fresh interpreter loads the knowledge (busy machine)


@dataclass
class Served:
    """A running `serve`: its process, its base URL and its log file."""

    proc: subprocess.Popen[str]
    base: str
    log: Path

    def tail(self, size: int = 3000) -> str:
        return "serve's log ends:\n" + self.log.read_text(errors="replace")[-size:]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=timeout)


def start_serve(env: dict[str, str], log: Path, cwd: Path = ROOT, attempts: int = 3) -> Served:
    """Start `serve` and wait until /healthz answers; its log is appended to `log`."""
    for attempt in range(attempts):
        port = free_socket().getsockname()[1]
        start = log.stat().st_size if log.exists() else 0
        with log.open("a") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
                env=env,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=err,
                text=True,
            )
        served = Served(proc, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if http_client.get(f"{served.base}/healthz", timeout=1).text == "ok":
                    return served
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            raise AssertionError(f"serve did not start\n{served.tail()}")
        said = log.read_text(errors="replace")[start:]
        if "address already in use" not in said or attempt == attempts - 1:
            raise AssertionError(f"serve stopped at start\n{served.tail()}")
    raise AssertionError("unreachable: the last attempt returns or raises")
