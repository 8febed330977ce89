"""Prometheus metrics: what happens in this process, counted where it happens.

One registry per process, not prometheus-client's multiprocess mode: `clusterbot serve` is one
process (one event loop, no forked workers), replicas and `clusterbot dispatch` workers are
separate processes, often on separate machines, and each serves its own numbers (`serve` at
`/metrics`, `dispatch` at CLUSTERBOT_METRICS_ADDRESS). Prometheus tells them apart by their
`instance` label; sum the counters over instances. The gauges read from the database (outbox
rows, oldest pending age; bot.health) are the same from every process: take their max.
Multiprocess mode would need every process on one machine sharing a directory that must be
wiped at each start, for no gain here.
"""

from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files of this process
PlatformCollector(registry=REGISTRY)

MESSAGES = Counter(
    "clusterbot_messages",
    "Messages (texts, commands, button presses) answered, by platform and intent.",
    ["platform", "intent"],
    registry=REGISTRY,
)
HANDLER_ERRORS = Counter(
    "clusterbot_handler_errors",
    "Messages whose handling raised, by platform and stage: `handler` (the person got the "
    "error reply) or `answer` (the adapter failed; the inbox retries it, dead after five).",
    ["platform", "stage"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "clusterbot_answer_seconds",
    "From the inbox worker taking an event to its reply sent, by platform.",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "clusterbot_outbox_deliveries",
    "Notifications delivered, by platform.",
    ["platform"],
    registry=REGISTRY,
)
RETRIES = Counter(
    "clusterbot_outbox_retries",
    "Notification sends that failed and will be retried after a backoff, by platform.",
    ["platform"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "clusterbot_outbox_rate_limited",
    "Notification sends a platform answered 429 (held back until Retry-After), by platform.",
    ["platform"],
    registry=REGISTRY,
)
UNDELIVERABLE = Counter(
    "clusterbot_outbox_undeliverable",
    "Notifications whose destination is gone (blocked, deleted; status failed), by platform.",
    ["platform"],
    registry=REGISTRY,
)
DEAD = Counter(
    "clusterbot_outbox_dead",
    "Notifications set aside as dead after the last allowed attempt, by platform.",
    ["platform"],
    registry=REGISTRY,
)
DISPATCH_ROUNDS = Counter(
    "clusterbot_dispatcher_rounds",
    "Dispatcher rounds (claim due rows, send them) run by this process.",
    registry=REGISTRY,
)
REQUESTS_REFUSED = Counter(
    "clusterbot_requests_refused",
    "Platform requests refused with 503 because CLUSTERBOT_MAX_REQUESTS_IN_FLIGHT were in "
    "flight (nothing stored; the platform sends them again).",
    registry=REGISTRY,
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def platform_of(identity_or_target: str) -> str:
    """The platform part of an identity or target ("telegram" of "telegram:42")."""
    return identity_or_target.partition(":")[0] or "unknown"


def render(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of this process's metrics, then of `extra` (read at this moment)."""
    out = generate_latest(REGISTRY)
    more = CollectorRegistry(auto_describe=False)
    for collector in extra:
        more.register(collector)
    return out + generate_latest(more)
