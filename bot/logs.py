"""Log lines a person and a log shipper can read: one line per event, text or JSON.

Each line carries what it is about, from context variables set where the work starts: the
platform and its update or event id (the inbox worker, per event), the notification key and
the proposal id (the dispatcher, per outcome; a proposal move). Nothing here logs message
text; every line passes through `redact`, so a token or secret given to `setup` never reaches
the output, whoever logged it (httpx logs request URLs, and Telegram's carry the bot token).
"""

import contextvars
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

FIELDS = ("platform", "event_id", "notification", "proposal_id")
_context: dict[str, contextvars.ContextVar[str]] = {
    name: contextvars.ContextVar(f"clusterbot_log_{name}", default="") for name in FIELDS
}
REDACTED = "[redacted]"
# Shapes of credentials, whoever's they are: Slack tokens, Telegram bot tokens, and the OAuth
# code and state in a redirect's query string (uvicorn's access log quotes the path).
_PATTERNS = (
    re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{30,}"),
)
_QUERY_SECRET = re.compile(r"([?&](?:code|state|token|client_secret)=)[^&\s\"']+")
_PROPOSAL_KEY = re.compile(r"^[a-z_]+:([0-9]+):")


def context(**fields: str | int | None) -> None:
    """Set fields for the log lines of the current task or thread (and what it starts)."""
    for name, value in fields.items():
        _context[name].set("" if value is None else str(value))


def within(fields: dict[str, str | int | None], fn: Callable[..., T], *args: Any) -> T:
    """Call `fn(*args)` with `fields` set for its log lines only."""

    def run() -> T:
        context(**fields)
        return fn(*args)

    return contextvars.copy_context().run(run)


def notification_fields(key: str, target: str) -> dict[str, str | int | None]:
    """The fields of a notification's log lines: its key, platform and proposal, if any."""
    found = _PROPOSAL_KEY.match(key)
    return {
        "notification": key,
        "platform": target.partition(":")[0],
        "proposal_id": found.group(1) if found else None,
    }


def current() -> dict[str, str]:
    """The fields set for this task or thread (the empty ones left out)."""
    return {name: var.get() for name, var in _context.items() if var.get()}


class Redactor:
    """Replaces given secrets and credential shapes in a finished line."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole. Very short values
        # would blank ordinary words: they are not secrets worth the name.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            line = pattern.sub(REDACTED, line)
        return _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, line)


class Formatter(logging.Formatter):
    """One line per record: `text` (time, level, logger, message, [fields]) or `json`."""

    def __init__(self, style: str = "text", redact: Redactor | None = None) -> None:
        super().__init__()
        self.json = style == "json"
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        """The record as one redacted line (a traceback included, its newlines escaped)."""
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        when = when.replace("+00:00", "Z")
        message = record.getMessage()
        fields = {name: getattr(record, name, "") for name in FIELDS}
        fields = {name: value for name, value in fields.items() if value}
        error = ""
        if record.exc_info:
            error = self.formatException(record.exc_info)
        elif record.exc_text:
            error = record.exc_text
        if self.json:
            line: dict[str, Any] = {
                "ts": when,
                "level": record.levelname,
                "logger": record.name,
                "msg": message,
                **fields,
            }
            if error:
                line["exc"] = error
            return self.redact(json.dumps(line, ensure_ascii=False))
        text = f"{when} {record.levelname} {record.name}: {message}"
        if fields:
            text += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        if error:
            text += " | " + error
        return self.redact(text.replace("\r", "\\r").replace("\n", "\\n"))


class ContextFilter(logging.Filter):
    """Copies the context's fields onto each record (a field given with `extra` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record."""
        for name, var in _context.items():
            if not getattr(record, name, ""):
                setattr(record, name, var.get())
        return True


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `setup` installs (told apart from others')."""


def setup(
    level: str = "WARNING",
    style: str = "text",
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> logging.Handler | None:
    """Send every logger's lines to stderr (or `stream`) in `style`, redacted; the handler.

    As logging.basicConfig, this leaves alone a root logger that has handlers of someone
    else's (a program calling `bot.cli.main`, pytest) and returns None, unless given a
    `stream`; a handler of ours from an earlier call is replaced.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _Handler)]
    if stream is None and len(ours) < len(root.handlers):
        return None
    for old in ours:
        root.removeHandler(old)
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(Formatter(style, Redactor(secrets)))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx says INFO for every request (each poll, each send): the bot's own lines say what
    # happened. Below INFO (DEBUG), they are all kept.
    quiet = logging.DEBUG if root.level < logging.INFO else logging.WARNING
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
    return handler
