"""The listener: one aiohttp server inside the bot's process, started and stopped with it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

# Telegram posts one update per request; a few megabytes leave room for long texts.
MAX_BODY: Final = 4 * 1024 * 1024
SHUTDOWN_TIMEOUT: Final = 2.0


class Listener:
    """Serve the given routes on ``host:port`` until stopped."""

    def __init__(self, routes: Iterable[web.RouteDef]) -> None:
        self._routes = list(routes)
        self._runner: web.AppRunner | None = None
        self.host = ""
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        """Bind and serve; port 0 picks a free port (read it back from ``port``)."""
        app = web.Application(client_max_size=MAX_BODY)
        app.add_routes(self._routes)
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.host, self.port = host, int(address[1])
        log.info("HTTP listener on %s:%d", host, self.port)

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
