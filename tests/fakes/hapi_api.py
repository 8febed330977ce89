"""A stand-in for HDX HAPI's operational presence endpoint, served on 127.0.0.1 by the tests.

It answers `output_format=csv` pages of the rows it holds, `limit` rows from `offset`, as HAPI
does (the API's CSV has no HXL row), refuses a request without `app_identifier` (400) and
records every request with the moment it arrived.
"""

import csv
import io
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.server import Recording

PATH = "/api/v2/coordination-context/operational-presence"


@dataclass
class Call:
    params: dict[str, str]
    at: float


@dataclass
class HapiStandIn(Recording):
    header: list[str]
    rows: list[list[str]]
    status: int = 200  # answer every request with this status instead (e.g. 401)
    empty_past_end: bool = False  # a page past the last row is an empty body, not a header
    calls: list[Any] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def from_file(cls, path: Path, **options: Any) -> "HapiStandIn":
        with path.open(encoding="utf-8", newline="") as fh:
            table = list(csv.reader(fh))
        # The file's HXL row is not in the API's output.
        return cls(header=table[0], rows=table[2:], **options)

    def app(self) -> Starlette:
        async def presence(request: Request) -> Response:
            params = dict(request.query_params)
            with self.cond:
                self.calls.append(Call(params, time.monotonic()))
                self.cond.notify_all()
            if self.status != 200:
                return PlainTextResponse("refused by the stand-in", status_code=self.status)
            if not params.get("app_identifier"):
                return PlainTextResponse("app_identifier is required", status_code=400)
            rows = self.rows
            if params.get("location_code"):
                at = self.header.index("location_code")
                rows = [r for r in rows if r[at] == params["location_code"]]
            offset, limit = int(params.get("offset", 0)), int(params.get("limit", 10000))
            if self.empty_past_end and offset >= len(rows):
                return PlainTextResponse("", media_type="text/csv")
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(self.header)
            writer.writerows(rows[offset : offset + limit])
            return PlainTextResponse(out.getvalue(), media_type="text/csv")

        return Starlette(routes=[Route(PATH, presence)])
