"""A partner's webhook endpoint on 127.0.0.1: checks the HMAC signature, records what arrives.

Answers 401 to a body whose signature does not match; `script` holds status codes to answer the
next requests with (e.g. 429, 500, 410) before answering 200 again. `/hang/<n>` answers only
once `release` is set: a partner's endpoint that hangs.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import served

SIGNATURE_HEADER = "X-Clusterbot-Signature"


class FakeWebhook:
    """The receiver; start() serves it in a background thread, stop() ends it."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.received: list[dict[str, Any]] = []  # payloads accepted (signature valid)
        self.rejected = 0  # bad signatures
        self.answers: list[int] = []  # status of every request, in order
        self.script: list[int] = []  # statuses to answer next, before 200
        self.retry_after = "1"
        self.lock = threading.Lock()
        self.release = threading.Event()  # lets the hanging endpoints answer
        self.hanging = 0  # requests waiting on a hanging endpoint now
        self.url = ""
        self._running = contextlib.ExitStack()

    def start(self) -> "FakeWebhook":
        app = Starlette(
            routes=[
                Route("/hook", self._endpoint, methods=["POST"]),
                Route("/hang/{n}", self._hang, methods=["POST"]),
            ]
        )
        self.url = self._running.enter_context(served(app)) + "/hook"
        return self

    def stop(self) -> None:
        self.release.set()
        self._running.close()

    async def _hang(self, request: Request) -> JSONResponse:
        with self.lock:
            self.hanging += 1
        try:
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        finally:
            with self.lock:
                self.hanging -= 1
        return JSONResponse({"status": 200})

    async def _endpoint(self, request: Request) -> JSONResponse:
        body = await request.body()
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        given = request.headers.get(SIGNATURE_HEADER, "")
        with self.lock:
            if not hmac.compare_digest(given, expected):
                self.rejected += 1
                self.answers.append(401)
                return JSONResponse({"error": "bad signature"}, status_code=401)
            status = self.script.pop(0) if self.script else 200
            self.answers.append(status)
            if status == 200:
                self.received.append(json.loads(body))
        headers = {"Retry-After": self.retry_after} if status == 429 else None
        return JSONResponse({"status": status}, status_code=status, headers=headers)
