"""Prometheus metrics (``GET /metrics``; README "Operations" lists them).

The metric objects are module-level, as ``prometheus-client`` wants: they
count for the whole process, whatever app or worker records them. Labels are
bounded: a route is its template (``/api/v2/contacts/{uuid}``), never the raw
path; an unknown path is ``unmatched``.

Several processes (``serve --workers N``, ``contacts-api worker``) are summed
through prometheus-client's multiprocess mode: when the environment variable
``PROMETHEUS_MULTIPROC_DIR`` names a directory (``serve --workers N`` sets one
up itself when the operator did not), every process writes its numbers there
and ``/metrics`` of any API process reads them all. The variable must be set
before the process starts (the library picks its storage at import).
"""

import hashlib
import hmac
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from contacts_api.core.appkeys import RESOURCES, SETTINGS
from contacts_api.core.errors import Forbidden, NotAuthenticated
from contacts_api.core.tasks import queue_stream

__all__ = [
    "IMPORT_EXPORT_JOBS",
    "JOB_ROWS",
    "LOGIN_FAILURES",
    "RATE_LIMITED",
    "REDIS_ERRORS",
    "metrics_middleware",
    "metrics_response",
    "multiprocess_dir",
    "record_job",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"

REQUESTS = Counter(
    "contacts_api_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "contacts_api_http_request_duration_seconds",
    "Time to answer an HTTP request (until the handler returns; streams excluded).",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0),
)
IN_PROGRESS = Gauge(
    "contacts_api_http_requests_in_progress",
    "HTTP requests being answered right now.",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "contacts_api_db_pool_connections",
    "Open database connections in the pools of the API processes.",
    multiprocess_mode="livesum",
)
DB_POOL_IN_USE = Gauge(
    "contacts_api_db_pool_connections_in_use",
    "Database connections lent out to requests right now.",
    multiprocess_mode="livesum",
)
DB_POOL_MAX = Gauge(
    "contacts_api_db_pool_max_connections",
    "The pools' configured maximum (database.pool_max_size, summed over processes).",
    multiprocess_mode="livesum",
)
DB_POOL_WAITERS = Gauge(
    "contacts_api_db_pool_waiters",
    "Requests waiting for a free database connection (pool exhausted).",
    multiprocess_mode="livesum",
)
REDIS_ERRORS = Counter(
    "contacts_api_redis_errors",
    "Redis commands that failed and were worked around (budgets fail open).",
    ["operation"],
)
RATE_LIMITED = Counter(
    "contacts_api_rate_limited",
    "Requests refused with 429, by reason (reads, writes, transfers, login, registration).",
    ["reason"],
)
LOGIN_FAILURES = Counter(
    "contacts_api_login_failures",
    "Failed logins (wrong email or password) and wrong current passwords.",
)
IMPORT_EXPORT_JOBS = Counter(
    "contacts_api_jobs",
    "Import and export jobs finished, by kind and outcome.",
    ["kind", "outcome"],
)
JOB_ROWS = Counter(
    "contacts_api_job_rows",
    "Rows processed by finished import and export jobs.",
    ["kind"],
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_POOL_SAMPLE_EVERY_S = 1.0


def multiprocess_dir() -> str | None:
    """The shared directory of multiprocess mode, or None (one process)."""
    return os.environ.get(MULTIPROC_ENV) or None


def record_job(kind: str, outcome: str, rows: int = 0) -> None:
    """A finished import or export job (``kind`` ``import``/``export``;
    ``outcome`` ``completed``/``failed``/``cancelled``) and its rows."""
    IMPORT_EXPORT_JOBS.labels(kind=kind, outcome=outcome).inc()
    if rows:
        JOB_ROWS.labels(kind=kind).inc(rows)


def route_label(request: web.Request) -> str:
    """The route template of a request (bounded cardinality), never its path;
    without its trailing slash: every route answers with and without one, and
    both are one route to an operator."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED
    return resource.canonical.rstrip("/") or "/"


def _sample_pool(request: web.Request) -> None:
    resources = request.app.get(RESOURCES)
    db = getattr(resources, "db", None)
    pool = getattr(db, "pool", None)
    if pool is None:
        return
    size, free = pool.size, pool.freesize
    DB_POOL_SIZE.set(size)
    DB_POOL_IN_USE.set(size - free)
    DB_POOL_MAX.set(pool.maxsize)
    waiters = getattr(getattr(pool, "_cond", None), "_waiters", None)  # aiopg keeps no count
    DB_POOL_WAITERS.set(len(waiters) if waiters is not None else 0)


def metrics_middleware() -> Callable:
    """Counts and times every request by route template and status class, and
    keeps the in-progress and pool gauges current."""
    last_sample = [0.0]
    # The (counter, histogram) children of each label set: ``labels()`` checks
    # and converts its values and takes a lock on every call; the sets are
    # few (routes x methods x 5 status classes).
    children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    @web.middleware
    async def observe_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        IN_PROGRESS.inc()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            IN_PROGRESS.dec()
            labels = (route_label(request), request.method, f"{status // 100}xx")
            pair = children.get(labels)
            if pair is None:
                pair = children[labels] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
            pair[0].inc()
            pair[1].observe(time.perf_counter() - started)
            if started - last_sample[0] >= _POOL_SAMPLE_EVERY_S:
                last_sample[0] = started
                _sample_pool(request)

    return observe_metrics


# -- the /metrics answer ----------------------------------------------------------


def _from_this_machine(request: web.Request) -> bool:
    """The peer is loopback and no proxy speaks for someone else: a request
    relayed by a proxy on this machine carries a forwarding header, and is
    refused (those headers are never believed, only noticed)."""
    if request.remote not in ("127.0.0.1", "::1"):
        return False
    return not any(h in request.headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))


def _token_matches(presented: str, expected: str) -> bool:
    raw = presented.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(
        hashlib.sha256(raw).digest(), hashlib.sha256(expected.encode()).digest()
    )


def check_access(request: web.Request) -> None:
    """``server.metrics_token`` set: the bearer token must match it (401/403).
    Not set: loopback peers only (403)."""
    expected = request.app[SETTINGS].server.metrics_token.reveal()
    if not expected:
        if not _from_this_machine(request):
            raise Forbidden(
                "/metrics answers only local requests unless server.metrics_token is set."
            )
        return
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("/metrics needs the metrics token as a bearer token.")
    if not _token_matches(token.strip(), expected):
        raise Forbidden("Wrong metrics token.")


async def _queue_depths(request: web.Request) -> dict[str, int]:
    """Messages waiting or being worked on, per task queue (Redis streams only):
    per consumer group, the entries not yet delivered (``lag``) plus those
    delivered and not acknowledged (``pending``); the stream's length while no
    worker has made its group yet."""
    resources = request.app[RESOURCES]
    if resources.redis is None or not resources.settings.uses_redis_broker:
        return {}
    queues = sorted({spec.queue for spec in resources.plugins.tasks()} or {"default"})
    depths: dict[str, int] = {}
    for queue in queues:
        stream = queue_stream(resources.settings, queue)
        try:
            if not await resources.redis.exists(stream):
                depths[queue] = 0
                continue
            groups = await resources.redis.xinfo_groups(stream)
            if groups and all(g.get("lag") is not None for g in groups):
                depths[queue] = max(int(g["lag"]) + int(g.get("pending") or 0) for g in groups)
            else:
                depths[queue] = int(await resources.redis.xlen(stream))
        except Exception:  # Redis down: the other metrics still answer
            REDIS_ERRORS.labels(operation="metrics").inc()
    return depths


class _QueueDepths:
    def __init__(self, depths: dict[str, int]):
        self.depths = depths

    def collect(self) -> Any:
        family = GaugeMetricFamily(
            "contacts_api_task_queue_depth",
            "Tasks queued and not yet finished, per task queue (Redis broker).",
            labels=["queue"],
        )
        for queue, depth in self.depths.items():
            family.add_metric([queue], depth)
        yield family


def _registry(depths: dict[str, int]) -> CollectorRegistry:
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = _WithExtra(REGISTRY)
    registry.register(_QueueDepths(depths))
    return registry


class _WithExtra(CollectorRegistry):
    """The process's default registry plus per-scrape collectors."""

    def __init__(self, base: CollectorRegistry):
        super().__init__(auto_describe=False)
        self.base = base

    def collect(self) -> Any:
        yield from self.base.collect()
        yield from super().collect()


async def metrics_response(request: web.Request) -> web.Response:
    """The Prometheus text exposition of this process (or of every process,
    in multiprocess mode)."""
    check_access(request)
    _sample_pool(request)
    depths = await _queue_depths(request)
    body = generate_latest(_registry(depths))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
