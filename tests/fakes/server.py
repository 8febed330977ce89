"""Serving an ASGI app over real HTTP on 127.0.0.1 from a background thread.

The app under test and every stand-in (Telegram, Slack, webhook receiver) start the same way.
"""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn


def free_socket() -> socket.socket:
    """A listening-ready socket bound to a free port on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def served(app: Any, lifespan: str = "on", timeout: float = 15.0) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread until the block ends; yields its base URL."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        app, lifespan=lifespan, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive(), "the server failed to start"
        assert time.monotonic() < deadline, f"the server did not start in {timeout:g} s"
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        assert not thread.is_alive(), f"the server did not stop in {timeout:g} s"
