"""Webhook mode: Telegram posts each update to the listener instead of the bot polling.

``setWebhook`` is called at start with a ``secret_token``; Telegram sends it back in the
``X-Telegram-Bot-Api-Secret-Token`` header of every delivery. A request without the right
header gets 403 and is not processed; a body that is not an update gets 400 and is logged
without its content (it may hold anything). Accepted updates go into PTB's
``update_queue``, exactly where long polling puts them, so everything after is the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError

from bot.domain.account import load_key

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application

    from bot.config import Settings, WebhookSettings
    from bot.delivery.metrics import Metrics, Pulse

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Domain separation: the webhook secret is not the key that signs codes.
SECRET_CONTEXT: Final = b"netzwerkbot webhook secret_token v1"
FRESH: Final = 60.0

log = logging.getLogger(__name__)


def secret_token(settings: Settings, webhook: WebhookSettings) -> str:
    """Return the configured secret, or one derived from the secret key (64 hex digits)."""
    if webhook.secret is not None:
        return webhook.secret
    key = load_key(settings.secret_key, settings.database)
    return hmac.new(key, SECRET_CONTEXT, hashlib.sha256).hexdigest()


async def set_webhook(bot: Bot, webhook: WebhookSettings, secret: str) -> None:
    """Ask Telegram to post every kind of update to our URL with our secret."""
    await bot.set_webhook(webhook.url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
    log.info("Webhook set; updates arrive on the listener at %s", webhook.path)


async def check_webhook(bot: Bot, webhook: WebhookSettings, pulse: Pulse) -> bool:
    """Ask Telegram whether it delivers to us; beat the pulse if so (quiet times)."""
    try:
        info = await bot.get_webhook_info()
    except TelegramError as error:
        log.warning("Could not read the webhook's state (%s)", type(error).__name__)
        return False
    if info.url != webhook.url:
        log.warning("Telegram delivers updates elsewhere (the webhook was changed or removed)")
        return False
    error_at = info.last_error_date
    if error_at is not None and (datetime.now(UTC) - error_at).total_seconds() < FRESH:
        log.warning("Telegram reports a webhook delivery error: %s", info.last_error_message)
        return False
    pulse.beat()
    return True


class WebhookRoutes:
    """The webhook endpoint of one application."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        *,
        path: str,
        secret: str,
        pulse: Pulse,
        metrics: Metrics,
    ) -> None:
        self._app = app
        self._path = path
        self._secret = secret.encode()
        self._pulse = pulse
        self._metrics = metrics

    def routes(self) -> list[web.RouteDef]:
        """Return the route: POST on the webhook URL's path."""
        return [web.post(self._path, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        """Check the secret and the body, then queue the update for processing."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self._metrics.webhook.labels(result="forbidden").inc()
            log.warning("Refused a webhook request without the right secret token")
            return web.Response(status=403, text="Forbidden")
        body = await request.read()
        update = self._parse(body)
        if update is None:
            self._metrics.webhook.labels(result="malformed").inc()
            # Never its content: it may be anything, including personal data.
            log.warning("Refused a malformed webhook body (%d bytes)", len(body))
            return web.Response(status=400, text="Bad Request")
        self._metrics.webhook.labels(result="accepted").inc()
        self._pulse.beat()
        await self._app.update_queue.put(update)
        return web.Response(status=200)

    def _parse(self, body: bytes) -> Update | None:
        """Return the update in ``body``, or None if it is not one."""
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return None
        try:
            return Update.de_json(data, self._app.bot)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
