"""Assembly of the bot: the one place where handlers are registered, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from contextlib import asynccontextmanager
from datetime import time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    ConversationHandler,
    Defaults,
    ExtBot,
    JobQueue,
)

from bot import errors
from bot.backup_cli import migrate_database
from bot.context import SERVICES_KEY, BotContext, Services, Stores
from bot.delivery.broadcast import Broadcaster
from bot.delivery.dispatch import (
    WAKE_INTERVAL,
    Dispatcher,
    make_weekly_previews,
)
from bot.delivery.mail import MailWorker, SmtpSender, check_smtp
from bot.delivery.sender import SendBudget
from bot.domain.account import FEATURE_ACCOUNT, Keyring, Passwords, load_key
from bot.domain.clock import Clock, SystemClock
from bot.domain.retry import Outage
from bot.domain.schedule import WEEKLY_PREVIEW_TIME
from bot.http import AiohttpRequest
from bot.i18n import translator
from bot.instance import EXIT_CONFLICT, ConflictWatch
from bot.logs import protect_secret, protect_secrets, quiet_noisy_loggers
from bot.persistence import DialogPersistence
from bot.updates import PerChatUpdateProcessor
from bot.views.commands import GROUP_COMMANDS, MEMBER_COMMANDS
from bot.web import webhook
from bot.web.calendar import CalendarRoutes
from bot.web.health import HealthRoutes, PulseRequest
from bot.web.metrics import MetricsRoutes
from bot.web.server import Listener
from handlers import (
    account,
    admin,
    attendance,
    broadcast,
    channels,
    events,
    fallback,
    inline,
    meetings,
    membership,
    networks,
    privacy,
    questions,
    reminders,
    start,
    subscriptions,
)
from handlers import help as help_
from storage.admins import AdminStore
from storage.attendance import AttendanceStore
from storage.broadcasts import BroadcastStore
from storage.catalog import CatalogStore
from storage.codes import AccountStore
from storage.db import Database
from storage.drafts import DraftStore
from storage.ldap_directory import LdapDirectory
from storage.leases import Lease
from storage.mail_jobs import MailJobStore
from storage.members import MemberDirectory, MemberStore
from storage.outbox import OutboxStore
from storage.reminders import ReminderStore
from storage.subscriptions import SubscriptionStore
from storage.unanswered import UnansweredStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from telegram.request import BaseRequest

    from bot.config import Settings
    from bot.views.commands import Command

BotApp: TypeAlias = Application[
    ExtBot[str], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[BotContext]
]

# Handler groups: lower numbers run first; in every group the first matching handler runs.
# The fallbacks share the features' group, last, so they only take what no feature took.
GROUP_BEFORE: Final = -1  # looks at every update (non-blocking), answers nothing
GROUP_FEATURES: Final = 0
# An open account dialog (/konto, /kennwort) takes its chat's messages before anything
# else and stops them there (ApplicationHandlerStop); other chats pass through.
GROUP_DIALOGS: Final = -2
# What the bot can do beyond answering; answers and cards offer only what exists.
FEATURES: Final = frozenset({"subscriptions", FEATURE_ACCOUNT})

# Long polling: how long one getUpdates call may wait on the server.
POLL_TIMEOUT: Final = 10
JOB_DISPATCH: Final = "dispatch"
JOB_WEEKLY: Final = "weekly-preview"
JOB_BROADCASTS: Final = "broadcasts"
JOB_WEBHOOK: Final = "webhook-check"
JOB_PURGE: Final = "purge"
# When what the privacy text promises to delete is deleted (local time): the one purge job.
PURGE_TIME: Final = time(3, 30)
# Webhook mode: how often getWebhookInfo confirms that Telegram delivers to us (quiet times).
WEBHOOK_CHECK_INTERVAL: Final = 30.0
MONDAY: Final = 1  # PTB's run_daily counts days from 0 = Sunday (not Python's 0 = Monday)

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    seed_demo: bool = False,
    features: frozenset[str] = FEATURES,
) -> BotApp:
    """Build the bot; tests pass a clock, production passes nothing."""
    # PTB 22 reads RetryAfter.retry_after as a timedelta only with this set, and warns
    # (deprecated int seconds) whenever a 429 arrives otherwise.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    protect_secret(settings.require_token())
    protect_secrets(
        settings.secret_key,
        settings.smtp.password if settings.smtp else None,
        settings.ldap.bind_password if settings.ldap else None,
    )
    if settings.smtp is None:  # no e-mail, no codes: answers point to the website
        features -= {FEATURE_ACCOUNT}
    quiet_noisy_loggers()
    clock = clock or SystemClock()
    services = Services(
        settings=settings,
        clock=clock,
        tr=translator(),
        features=features,
        seed_demo=seed_demo,
        lease=Lease(clock=clock.now),
    )
    services.conflicts = ConflictWatch(
        clock=clock.now,
        last_success=lambda: services.pulse.last,
        give_up=lambda _reason: services.request_exit(EXIT_CONFLICT),
    )
    # Admin dialogs (/termin_neu, /rundschreiben) survive a restart: PTB's persistence on the
    # bot's database (bot/persistence.py), for the persistent conversations and their drafts.
    persistence = DialogPersistence(
        settings.database,
        clock=clock,
        store=services.drafts_if_ready,
        codecs={**meetings.PERSISTED, **broadcast.PERSISTED},
    )
    builder = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.api_url)
        .context_types(ContextTypes(context=BotContext))
        .job_queue(JobQueue[BotContext]())
        .defaults(Defaults(parse_mode="HTML", tzinfo=settings.timezone))
        .concurrent_updates(
            PerChatUpdateProcessor(tr=services.tr, on_update=services.metrics.updates.inc)
        )
        .rate_limiter(SendBudget(settings.send_rate, metrics=services.metrics))
        .persistence(persistence)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    builder = builder.request(request or AiohttpRequest())
    # Every answered getUpdates call tells /readyz that updates flow.
    builder = builder.get_updates_request(
        PulseRequest(get_updates_request or AiohttpRequest(connection_pool_size=1), services.pulse)
    )
    app: BotApp = builder.build()
    app.bot_data[SERVICES_KEY] = services
    services.stop_app = app.stop_running

    # Note: order matters. Commands and buttons first, then free text, then the fallbacks
    # that answer everything no feature took (stickers, unknown commands, forged buttons).
    app.add_handlers(admin.menu_handlers(), group=GROUP_BEFORE)
    app.add_handlers(account.dialog_handlers(), group=GROUP_DIALOGS)
    app.add_handlers(
        [
            # A button under a channel post opens the private chat, whatever its data says.
            *channels.post_button_handlers(),
            *start.handlers(),
            *help_.handlers(),
            *networks.handlers(),
            *events.handlers(),
            *attendance.handlers(),
            *subscriptions.handlers(),
            *reminders.handlers(),
            *membership.handlers(),
            *admin.handlers(),
            *account.handlers(),
            *privacy.handlers(),
            *channels.handlers(),
            *broadcast.handlers(),
            *meetings.handlers(),
            *inline.handlers(),
            *questions.handlers(),
            *fallback.handlers(),
        ],
        group=GROUP_FEATURES,
    )
    app.add_error_handler(errors.handle_error)
    persistence.timeouts = {
        handler.name: timeout
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, ConversationHandler)
        and handler.persistent
        and handler.name
        and isinstance(timeout := handler.conversation_timeout, timedelta)
    }
    return app


def services_of(app: BotApp) -> Services:
    """Return the services of an application built by ``build_application``."""
    services = app.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)  # noqa: S101 - set by build_application
    return services


async def _post_init(app: BotApp) -> None:
    """Open and migrate the database, load the data on first start, start the jobs."""
    services = services_of(app)
    settings = services.settings
    db = await Database.open(settings.database)
    services.opening = db
    try:
        applied = await migrate_database(db, settings)
        if applied:
            log.info("Applied migrations: %s", ", ".join(applied))
        stores = Stores(
            db=db,
            catalog=CatalogStore(db),
            subscriptions=SubscriptionStore(
                db, tz=settings.timezone, default_quiet=settings.quiet_hours
            ),
            reminders=ReminderStore(db, lease=services.lease),
            outbox=OutboxStore(db, lease=services.lease),
            admins=AdminStore(db, permanent=settings.admins),
            members=_member_directory(settings, db),
            accounts=AccountStore(db),
            broadcasts=BroadcastStore(db, lease=services.lease),
            unanswered=UnansweredStore(db),
            attendance=AttendanceStore(db),
            drafts=DraftStore(db),
        )
        if await stores.catalog.is_empty():
            await stores.catalog.load_bundled(
                include_demo=services.seed_demo, now=services.clock.now(), tz=settings.timezone
            )
            log.info("Loaded the bundled alliance data into an empty database")
        # Rows a crash left claimed were perhaps sent, perhaps not: send them (again). Rows
        # of a process that still runs (a lease) stay its own.
        recovered = await stores.reminders.recover_in_flight()
        recovered += await stores.outbox.recover_in_flight()
        await stores.broadcasts.recover()
        await stores.accounts.load()
        if recovered:
            log.warning("Recovered %d sends that were in flight at the last stop", recovered)
    except BaseException:
        await db.close()
        raise
    outage = Outage()  # one view of Telegram's health for reminders, notices and circulars
    dispatcher = Dispatcher(
        bot=app.bot,
        reminders=stores.reminders,
        outbox=stores.outbox,
        subscriptions=stores.subscriptions,
        render_context=partial(services.render_context, fresh=True),
        metrics=services.metrics,
        clock=services.clock,
        outage=outage,
        attendance=stores.attendance,
    )
    broadcaster = Broadcaster(
        bot=app.bot,
        store=stores.broadcasts,
        outbox=stores.outbox,
        subscriptions=stores.subscriptions,
        clock=services.clock,
        outage=outage,
        tr=services.tr,
        tz=settings.timezone,
        metrics=services.metrics,
    )
    services.attach(stores, dispatcher, broadcaster)
    services.opening = None
    _start_accounts(services)
    schedule_jobs(app)
    await set_command_menu(app)
    await start_listener(app)


async def _post_stop(app: BotApp) -> None:
    """Let the broadcast sends in flight finish while the bot can still send."""
    broadcaster = services_of(app).broadcaster_if_ready()
    if broadcaster is not None:
        await broadcaster.stop()


async def _post_shutdown(app: BotApp) -> None:
    """Stop the listener and the dispatcher and close what post_init opened."""
    await stop_listener(app)
    await _post_stop(app)
    await _stop_accounts(services_of(app))
    stores, dispatcher = services_of(app).detach()
    if dispatcher is not None:
        await dispatcher.stop()
    if stores is not None:
        stores.members.close()
        await stores.db.close()
    elif (opening := services_of(app).opening) is not None:
        # Stopped during post_init (SIGTERM at start-up): close what it had opened.
        services_of(app).opening = None
        await opening.close()


async def start_listener(app: BotApp) -> None:
    """Start the HTTP listener if configured; in webhook mode, point Telegram at it.

    Without a webhook, long polling's start (PTB's ``start_polling``) deletes a webhook left
    from an earlier run, as Telegram refuses ``getUpdates`` while one is set.
    """
    services = services_of(app)
    settings = services.settings
    if settings.http is None:
        return
    routes = [
        *HealthRoutes(app, services.pulse).routes(),
        *MetricsRoutes(app).routes(),
        *CalendarRoutes(app).routes(),
    ]
    secret = None
    if settings.webhook is not None:
        secret = webhook.secret_token(settings, settings.webhook)
        # Configured or derived from the key: like the token, never in any log line.
        protect_secret(secret)
        routes += webhook.WebhookRoutes(
            app,
            path=settings.webhook.path,
            secret=secret,
            pulse=services.pulse,
            metrics=services.metrics,
        ).routes()
    listener = Listener(routes)
    await listener.start(settings.http.host, settings.http.port)
    services.listener = listener
    if settings.webhook is not None and secret is not None:
        await webhook.set_webhook(app.bot, settings.webhook, secret)


async def stop_listener(app: BotApp) -> None:
    """Stop the HTTP listener (first in shutdown: no webhook delivery after this)."""
    services = services_of(app)
    if services.listener is not None:
        listener, services.listener = services.listener, None
        await listener.stop()


def _member_directory(settings: Settings, db: Database) -> MemberDirectory:
    """Return the configured member directory: the embedded one or LDAP."""
    if settings.directory == "ldap" and settings.ldap is not None:
        log.info("The member directory is LDAP")
        return LdapDirectory(db, settings.ldap)
    return MemberStore(db, passwords=Passwords(settings.hash_cost))


def _start_accounts(services: Services) -> None:
    """Load the HMAC key and start the mail queue, if SMTP is configured."""
    settings = services.settings
    if settings.smtp is None:
        return
    services.keyring = Keyring(load_key(settings.secret_key, settings.database))
    services.mail = MailWorker(
        SmtpSender(settings.smtp),
        MailJobStore(services.stores.db),
        partial(account.compose_mail, services),
        clock=services.clock.now,
        metrics=services.metrics,
    )
    services.mail.start()
    # Is the mail server there? A warning if not, never fatal: the mails wait in their table.
    services.smtp_check = asyncio.create_task(check_smtp(settings.smtp), name="smtp-check")


async def _stop_accounts(services: Services) -> None:
    """Send the mails still queued (briefly), then stop the queue; before the database."""
    if services.smtp_check is not None:
        services.smtp_check.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await services.smtp_check
        services.smtp_check = None
    if services.mail is not None:
        await services.mail.stop()
        services.mail = None


def schedule_jobs(app: BotApp) -> None:
    """Wake the dispatcher every few seconds and make the Monday preview.

    The jobs only wake: what is due is in the database. A missed run (misfire) loses nothing,
    so APScheduler may coalesce runs; the weekly preview catches up at start (see
    ``make_weekly_previews``).
    """
    assert app.job_queue is not None  # noqa: S101 - built with a JobQueue
    tz = services_of(app).settings.timezone
    app.job_queue.run_repeating(
        run_dispatcher,
        interval=WAKE_INTERVAL,
        first=0,
        name=JOB_DISPATCH,
        job_kwargs={"coalesce": True, "max_instances": 2, "misfire_grace_time": None},
    )
    # Broadcasts run in their own background task: a wake-up returns at once, so a long
    # broadcast never holds up the dispatcher's reminders; planned ones start on time.
    app.job_queue.run_repeating(
        wake_broadcasts,
        interval=WAKE_INTERVAL,
        first=0,
        name=JOB_BROADCASTS,
        job_kwargs={"coalesce": True, "misfire_grace_time": None},
    )
    # An interval trigger whose start passed while the scheduler was starting fires first one
    # interval later: owed reminders go out and a broadcast a crash interrupted resumes at
    # once.
    app.job_queue.run_once(
        run_dispatcher,
        when=0,
        name=f"{JOB_DISPATCH}:start",
        job_kwargs={"misfire_grace_time": None},
    )
    app.job_queue.run_once(
        wake_broadcasts,
        when=0,
        name=f"{JOB_BROADCASTS}:resume",
        job_kwargs={"misfire_grace_time": None},
    )
    app.job_queue.run_daily(
        send_weekly_previews,
        time=WEEKLY_PREVIEW_TIME.replace(tzinfo=tz),
        days=(MONDAY,),
        name=JOB_WEEKLY,
        job_kwargs={"misfire_grace_time": None},
    )
    app.job_queue.run_once(send_weekly_previews, when=0, name=f"{JOB_WEEKLY}:catch-up")
    app.job_queue.run_daily(
        purge_old_data,
        time=PURGE_TIME.replace(tzinfo=tz),
        name=JOB_PURGE,
        job_kwargs={"coalesce": True, "misfire_grace_time": None},
    )
    if services_of(app).settings.webhook is not None:
        app.job_queue.run_repeating(
            check_webhook,
            interval=WEBHOOK_CHECK_INTERVAL,
            first=WEBHOOK_CHECK_INTERVAL,
            name=JOB_WEBHOOK,
            job_kwargs={"coalesce": True},
        )


async def check_webhook(context: BotContext) -> None:
    """Confirm that Telegram delivers to our webhook (/readyz in quiet times)."""
    services = context.services
    if services.settings.webhook is not None:
        await webhook.check_webhook(context.bot, services.settings.webhook, services.pulse)


async def run_dispatcher(context: BotContext) -> None:
    """Send everything that is due (a job; tests run it directly with ``job.run(app)``).

    The periodic wake comes every ``WAKE_INTERVAL``; a row due before the next one gets a
    wake of its own at its due time, so reminders come on time, not up to 5 s late.
    """
    services = context.services
    # Keep this process's claims alive, and take back those of a process that has died.
    stores = services.stores
    await stores.reminders.renew_leases()
    await stores.outbox.renew_leases()
    recovered = await stores.reminders.recover_in_flight()
    if recovered := recovered + await stores.outbox.recover_in_flight():
        log.warning("Recovered %d sends a stopped process had in flight", recovered)
    await services.dispatcher.run()
    now = services.clock.now()
    upcoming = [
        due
        for due in (
            await services.stores.reminders.next_due(after=now),
            await services.stores.outbox.next_due(after=now),
        )
        if due is not None and due - now < WAKE_INTERVAL
    ]
    job_queue = cast("JobQueue[BotContext] | None", context.job_queue)
    if upcoming and job_queue is not None:
        job_queue.run_once(
            run_dispatcher,
            when=min(upcoming) - now,
            name=f"{JOB_DISPATCH}:due",
            job_kwargs={"misfire_grace_time": None},
        )


async def wake_broadcasts(context: BotContext) -> None:
    """Start planned broadcasts that are due and resume running ones, in the background."""
    context.services.broadcaster.wake()


async def send_weekly_previews(context: BotContext) -> None:
    """Queue this week's preview for every weekly subscriber, once per week, then send."""
    services = context.services
    if await make_weekly_previews(
        services.stores.subscriptions,
        services.stores.outbox,
        services.settings.timezone,
        services.clock.now(),
    ):
        await services.dispatcher.run()


async def purge_old_data(context: BotContext) -> None:
    """Delete what the privacy text promises to keep no longer, one store at a time.

    Unanswered questions after 30 days; sent (or otherwise finished) reminders and pushes,
    and subscribers who follow nothing or blocked the bot, after NETZWERKBOT_RETENTION_DAYS;
    ended account dialogs after an hour, code and wrong-code counts after their windows.
    Each store deletes in a transaction of its own.
    """
    services = context.services
    stores = services.stores
    now = services.clock.now()
    before = now - timedelta(days=services.settings.retention_days)
    counts = {
        "unanswered": await stores.unanswered.purge(now=now),
        "reminders": await stores.reminders.purge(before=before),
        "outbox": await stores.outbox.purge(before=before),
        "subscribers": await stores.subscriptions.purge(before=before),
        "account dialogs": await stores.accounts.purge(now=now),
        # Admin dialogs that timed out a week ago and were never answered again.
        "admin drafts": await stores.drafts.purge(now=now),
    }
    log.info("Purged old data: %s", ", ".join(f"{n} {what}" for what, n in counts.items()))


async def set_command_menu(app: BotApp) -> None:
    """Set the German command menus (everyone, and groups), also for "de"; never fatal."""
    tr = services_of(app).tr
    menus: list[tuple[BotCommandScope, tuple[Command, ...]]] = [
        (BotCommandScopeDefault(), MEMBER_COMMANDS),
        (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
    ]
    try:
        for scope, chosen in menus:
            commands = [BotCommand(c.name, tr.gettext(c.description)) for c in chosen]
            await app.bot.set_my_commands(commands, scope=scope)
            await app.bot.set_my_commands(commands, scope=scope, language_code="de")
    except TelegramError:
        log.warning("Could not set the command menu", exc_info=True)


async def serve_webhook(app: BotApp) -> None:
    """Run the bot in webhook mode until SIGINT or SIGTERM (``netzwerkbot run``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(app):
        await stop.wait()
    log.info("Stopped")


@asynccontextmanager
async def running(app: BotApp, *, drop_pending_updates: bool = False) -> AsyncIterator[BotApp]:
    """Run the bot until the block ends (demo, tests, benchmarks, webhook mode).

    With long polling this is what ``run_polling`` does, minus signal handling and the
    blocking idle loop; in webhook mode the listener takes the updates (see ``post_init``).
    """

    def error_callback(error: TelegramError) -> None:
        # As run_polling does: errors of getUpdates go to the error handler.
        app.create_task(app.process_error(error=error, update=None))

    # stop_running only works under run_polling; here the caller ends the block.
    services_of(app).stop_app = None
    async with app:
        await _post_init(app)
        try:
            assert app.updater is not None  # noqa: S101 - built with an updater
            if services_of(app).settings.webhook is None:
                await app.updater.start_polling(
                    poll_interval=0.0,
                    timeout=POLL_TIMEOUT,
                    drop_pending_updates=drop_pending_updates,
                    allowed_updates=Update.ALL_TYPES,
                    error_callback=error_callback,
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
            # As run_polling does in shutdown, but while the database is still open.
            await app.update_persistence()
            await _post_shutdown(app)
