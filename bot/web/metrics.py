"""``/metrics``: the Prometheus text format, from the application's own registry.

The counters live in ``bot.delivery.metrics.Metrics``; the gauges that need the database are read
here, asynchronously and with cheap indexed queries (``storage.stats.gauges``), right before
``prometheus_client`` renders the registry, so the event loop never waits on SQL.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.context import SERVICES_KEY, Services
from storage.stats import gauges

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)


class MetricsRoutes:
    """The metrics endpoint of one application."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._app = app

    def routes(self) -> list[web.RouteDef]:
        """Return the route: GET /metrics."""
        return [web.get("/metrics", self.metrics)]

    async def metrics(self, request: web.Request) -> web.Response:
        """Read the database gauges, then render every metric of the registry."""
        services = self._app.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)  # noqa: S101 - set by build_application
        metrics = services.metrics
        try:
            metrics.database.gauges = await gauges(services.stores.db, services.clock.now())
        except (sqlite3.Error, RuntimeError) as error:
            # The counters are still worth having; the gauges are left out.
            log.warning("Could not read the database gauges (%s)", type(error).__name__)
            metrics.database.gauges = None
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
