"""``/healthz`` (the process and its loops run) and ``/readyz`` (it can do its work).

Ready means three things, each named in the answer when it fails:

- ``database``: the database file takes a write lock within a second (probed on a separate
  short-lived connection, so the bot's own connection is never held up);
- ``updates``: updates are flowing: a ``getUpdates`` call was answered, or a webhook delivery
  arrived, or (webhook mode, quiet times) ``getWebhookInfo`` showed our URL without a recent
  delivery error, within the last 60 seconds;
- ``dispatcher``: no due reminder or notice has waited longer than 60 seconds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from telegram.request import BaseRequest

from bot.context import SERVICES_KEY, Services
from bot.delivery.metrics import Pulse, version
from storage.stats import oldest_due_seconds

if TYPE_CHECKING:
    from telegram.ext import Application
    from telegram.request import RequestData

FRESH: Final = 60.0  # seconds: updates older than this are not "flowing"
BEHIND: Final = 60.0  # seconds: a due push waiting longer means the dispatcher is behind
PROBE_TIMEOUT: Final = 1.0  # seconds the write probe waits for SQLite's lock
HTTP_OK: Final = 200


class PulseRequest(BaseRequest):
    """The ``getUpdates`` request layer: another layer's requests, each good answer a beat."""

    __slots__ = ("_inner", "_pulse")

    def __init__(self, inner: BaseRequest, pulse: Pulse) -> None:
        self._inner = inner
        self._pulse = pulse

    @property
    def read_timeout(self) -> float | None:
        """Return the wrapped layer's read timeout (PTB adds it to long polling's)."""
        return self._inner.read_timeout

    async def initialize(self) -> None:
        """Initialize the wrapped layer."""
        await self._inner.initialize()

    async def shutdown(self) -> None:
        """Shut the wrapped layer down."""
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request; a 200 answer means Telegram talks to us."""
        status, body = await self._inner.do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status == HTTP_OK:
            self._pulse.beat()
        return status, body


def probe_write(path: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Take and release SQLite's write lock on ``path``; return the problem, or None."""
    if path == ":memory:" or path.startswith("file:"):
        return None
    try:
        uri = Path(path).resolve().as_uri() + "?mode=rw"
        connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"{type(error).__name__}: {error}"  # SQLite's messages carry no user data
    return None


class HealthRoutes:
    """The two health endpoints of one application."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], pulse: Pulse) -> None:
        self._app = app
        self._pulse = pulse

    def routes(self) -> list[web.RouteDef]:
        """Return the routes: GET /healthz and GET /readyz."""
        return [web.get("/healthz", self.healthz), web.get("/readyz", self.readyz)]

    @property
    def _services(self) -> Services:
        services = self._app.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)  # noqa: S101 - set by build_application
        return services

    async def healthz(self, request: web.Request) -> web.Response:
        """Answer 200 while the application, its job queue and its update source run."""
        app = self._app
        services = self._services
        scheduler = app.job_queue.scheduler if app.job_queue is not None else None
        checks = {
            "application": app.running,
            "jobs": bool(scheduler is not None and scheduler.running),
            # Webhook mode: this listener is the update source, and it answers.
            "updates": services.settings.webhook is not None
            or bool(app.updater is not None and app.updater.running),
        }
        healthy = all(checks.values())
        body = {
            "status": "ok" if healthy else "failing",
            "version": version(),
            "uptime_seconds": round(time.monotonic() - services.metrics.started, 1),
            "checks": {name: "ok" if good else "failing" for name, good in checks.items()},
        }
        return web.json_response(body, status=200 if healthy else 503)

    async def readyz(self, request: web.Request) -> web.Response:
        """Answer 200 when the database is writable, updates flow and nothing is late."""
        services = self._services
        checks: dict[str, str] = {}
        problem = await asyncio.to_thread(probe_write, str(services.settings.database))
        checks["database"] = "ok" if problem is None else f"not writable ({problem})"
        age = self._pulse.age()
        if age is not None and age <= FRESH:
            checks["updates"] = "ok"
        elif age is None:
            checks["updates"] = "no getUpdates answer or webhook delivery yet"
        else:
            checks["updates"] = f"none for {age:.0f} s"
        try:
            late = await oldest_due_seconds(services.stores.db, services.clock.now())
        except (sqlite3.Error, RuntimeError) as error:  # NotReadyError is a RuntimeError
            checks["dispatcher"] = f"unknown ({type(error).__name__})"
        else:
            checks["dispatcher"] = "ok" if late <= BEHIND else f"oldest due push {late:.0f} s late"
        failing = sorted(name for name, state in checks.items() if state != "ok")
        body = {"status": "ready" if not failing else "not ready", "failing": failing}
        return web.json_response({**body, "checks": checks}, status=503 if failing else 200)
