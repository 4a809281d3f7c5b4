"""``/kalender/alle.ics`` and ``/kalender/<network>.ics``: the meetings as calendar feeds.

Each feed holds the meetings ahead and those of the last 90 days, cancelled ones with
``STATUS:CANCELLED``; every event keeps its ``UID`` and carries the ``SEQUENCE`` and
``LAST-MODIFIED`` its writes recorded (storage.catalog). The body depends on the data only,
so its hash is a strong ``ETag``: a calendar app that sends it back in ``If-None-Match`` gets
304 until something changed.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from bot.context import SERVICES_KEY, Services
from bot.domain.ics import feed_events, feed_to_ics
from bot.views.calendar import ALL_FEED, FEED_PREFIX, feed_name

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)

CONTENT_TYPE: Final = "text/calendar; charset=utf-8"
# Calendar apps poll; a few minutes of caching in between costs nothing.
CACHE_CONTROL: Final = "public, max-age=300"


def etag_of(body: bytes) -> str:
    """Return the strong ETag of a feed body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Tell whether an If-None-Match header names this ETag (weak forms and * included)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip().removeprefix("W/")
        if tag in ("*", etag):
            return True
    return False


class CalendarRoutes:
    """The calendar feeds of one application."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._app = app

    def routes(self) -> list[web.RouteDef]:
        """Return the route: GET (and HEAD) /kalender/<name>.ics."""
        return [web.get(FEED_PREFIX + "{name:[a-z0-9-]{1,40}}.ics", self.feed)]

    async def feed(self, request: web.Request) -> web.Response:
        """Serve one feed, or 304 when the client has it, or 404 for an unknown network."""
        services = self._app.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)  # noqa: S101 - set by build_application
        name = request.match_info["name"]
        try:
            ctx = await services.render_context()
            versions = await services.catalog.versions()
        except (sqlite3.Error, RuntimeError) as error:
            log.warning("Could not read the calendar feed's data (%s)", type(error).__name__)
            return web.Response(status=503, text="Service unavailable\n")
        slug = None if name == ALL_FEED else name
        network = None if slug is None else ctx.catalog.network(slug)
        if slug is not None and network is None:
            return web.Response(status=404, text="No such calendar\n")
        body = feed_to_ics(
            feed_events(ctx.catalog, now=ctx.now, network=slug, tz=ctx.tz),
            ctx.catalog,
            versions=versions,
            name=feed_name(ctx, network),
            fictional_note=ctx.tr.gettext("Note: this is an invented demo event."),
            tz=ctx.tz,
        )
        etag = etag_of(body)
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        if matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = CONTENT_TYPE
        return web.Response(body=body, headers=headers)
