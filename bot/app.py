"""Assembly of the bot: the one place where handlers are registered, in order."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, ExtBot, JobQueue

from bot import errors
from bot.clock import Clock, SystemClock
from bot.commands import MEMBER_COMMANDS
from bot.context import SERVICES_KEY, BotContext, Services
from bot.http import AiohttpRequest
from bot.i18n import translator
from bot.logs import protect_secret, quiet_noisy_loggers
from bot.updates import PerChatUpdateProcessor
from handlers import events, fallback, networks, questions, start
from handlers import help as help_
from storage.catalog import CatalogStore
from storage.db import Database
from storage.migrations import migrate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from telegram.request import BaseRequest

    from bot.config import Settings

BotApp: TypeAlias = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[BotContext]
]

# Handler groups: lower numbers run first; in every group the first matching handler runs.
# The fallbacks share the features' group, last, so they only take what no feature took.
GROUP_FEATURES: Final = 0

# Long polling: how long one getUpdates call may wait on the server.
POLL_TIMEOUT: Final = 10

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    seed_demo: bool = False,
    features: frozenset[str] = frozenset(),
) -> BotApp:
    """Build the bot; tests pass a clock, production passes nothing."""
    protect_secret(settings.require_token())
    quiet_noisy_loggers()
    services = Services(
        settings=settings,
        clock=clock or SystemClock(),
        tr=translator(),
        features=features,
        seed_demo=seed_demo,
    )
    builder = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.api_url)
        .context_types(ContextTypes(context=BotContext))
        .job_queue(JobQueue[BotContext]())
        .defaults(Defaults(parse_mode="HTML", tzinfo=settings.timezone))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    builder = builder.request(request or AiohttpRequest())
    builder = builder.get_updates_request(
        get_updates_request or AiohttpRequest(connection_pool_size=1)
    )
    app: BotApp = builder.build()
    app.bot_data[SERVICES_KEY] = services

    # Note: order matters. Commands and buttons first, then free text, then the fallbacks
    # that answer everything no feature took (stickers, unknown commands, forged buttons).
    app.add_handlers(
        [
            *start.handlers(),
            *help_.handlers(),
            *networks.handlers(),
            *events.handlers(),
            *questions.handlers(),
            *fallback.handlers(),
        ],
        group=GROUP_FEATURES,
    )
    app.add_error_handler(errors.handle_error)
    return app


def services_of(app: BotApp) -> Services:
    """Return the services of an application built by ``build_application``."""
    services = app.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)  # noqa: S101 - set by build_application
    return services


async def _post_init(app: BotApp) -> None:
    """Open and migrate the database, load the data on first start, set the menus."""
    services = services_of(app)
    db = await Database.open(services.settings.database)
    try:
        applied = await migrate(db)
        if applied:
            log.info("Applied migrations: %s", ", ".join(applied))
        store = CatalogStore(db)
        if await store.is_empty():
            await store.load_bundled(include_demo=services.seed_demo)
            log.info("Loaded the bundled alliance data into an empty database")
    except BaseException:
        await db.close()
        raise
    services.attach(db, store)
    await set_command_menu(app)


async def _post_shutdown(app: BotApp) -> None:
    """Close what post_init opened."""
    db = services_of(app).detach()
    if db is not None:
        await db.close()


async def set_command_menu(app: BotApp) -> None:
    """Set the German command menu, for all users and for language "de"; never fatal."""
    tr = services_of(app).tr
    commands = [BotCommand(c.name, tr.gettext(c.description)) for c in MEMBER_COMMANDS]
    try:
        await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault())
        await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code="de")
    except TelegramError:
        log.warning("Could not set the command menu", exc_info=True)


@asynccontextmanager
async def running(app: BotApp, *, drop_pending_updates: bool = False) -> AsyncIterator[BotApp]:
    """Run the bot with real long polling until the block ends (demo, tests, benchmarks).

    This is what ``run_polling`` does, minus signal handling and the blocking idle loop.
    """
    async with app:
        await _post_init(app)
        try:
            assert app.updater is not None  # noqa: S101 - built with an updater
            await app.updater.start_polling(
                poll_interval=0.0,
                timeout=POLL_TIMEOUT,
                drop_pending_updates=drop_pending_updates,
                allowed_updates=Update.ALL_TYPES,
            )
            await app.start()
            try:
                yield app
            finally:
                if app.updater.running:
                    await app.updater.stop()
                if app.running:
                    await app.stop()
        finally:
            await _post_shutdown(app)
