"""The typed context every callback receives: services, texts, the clock, the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from telegram.ext import CallbackContext, ExtBot

from bot.delivery.metrics import Metrics, Pulse
from bot.views.common import RenderContext
from storage.leases import Lease

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from bot.config import Settings
    from bot.delivery.broadcast import Broadcaster
    from bot.delivery.dispatch import Dispatcher
    from bot.delivery.mail import MailWorker
    from bot.domain.account import Keyring
    from bot.domain.clock import Clock
    from bot.i18n import Translator
    from bot.instance import ConflictWatch
    from bot.web.server import Listener
    from storage.admins import AdminStore
    from storage.attendance import AttendanceStore
    from storage.broadcasts import BroadcastStore
    from storage.catalog import CatalogStore
    from storage.codes import AccountStore
    from storage.db import Database
    from storage.drafts import DraftStore
    from storage.members import MemberDirectory
    from storage.outbox import OutboxStore
    from storage.reminders import ReminderStore
    from storage.subscriptions import SubscriptionStore
    from storage.unanswered import UnansweredStore

SERVICES_KEY: Final = "netzwerkbot.services"


class NotReadyError(RuntimeError):
    """A service was used before ``post_init`` opened it."""


@dataclass(frozen=True)
class Stores:
    """One store per aggregate, all on the bot's one database connection."""

    db: Database
    catalog: CatalogStore
    subscriptions: SubscriptionStore
    reminders: ReminderStore
    outbox: OutboxStore
    admins: AdminStore
    members: MemberDirectory
    accounts: AccountStore
    broadcasts: BroadcastStore
    unanswered: UnansweredStore
    attendance: AttendanceStore
    drafts: DraftStore


@dataclass
class Services:
    """What the handlers need, created by ``build_application`` and opened in ``post_init``."""

    settings: Settings
    clock: Clock
    tr: Translator
    features: frozenset[str] = frozenset()
    seed_demo: bool = False
    # The counters for /metrics, and when updates last flowed (for /readyz).
    metrics: Metrics = field(default_factory=Metrics, repr=False)
    pulse: Pulse = field(default_factory=Pulse, repr=False)
    # The HTTP listener, while it runs (NETZWERKBOT_HTTP).
    listener: Listener | None = field(default=None, repr=False)
    # This process's claims on rows in flight (owner id, lease duration, the bot's clock).
    lease: Lease = field(default_factory=Lease)
    # What a 409 Conflict from getUpdates means (set by build_application).
    conflicts: ConflictWatch | None = field(default=None, repr=False)
    # How the process should end, when it stops on its own (e.g. 4 after 409s), and how to
    # stop it (run_polling's stop_running; ``running`` for tests has its own).
    exit_code: int | None = None
    stop_app: Callable[[], None] | None = field(default=None, repr=False)
    # The database while post_init opens it: a stop signal during post_init leaves that task
    # unfinished, and post_shutdown must still close it (an open aiosqlite thread would keep
    # the process from exiting).
    opening: Database | None = field(default=None, repr=False)
    # Set in post_init when SMTP is configured: the HMAC key and the mail queue.
    keyring: Keyring | None = field(default=None, repr=False)
    mail: MailWorker | None = field(default=None, repr=False)
    smtp_check: asyncio.Task[None] | None = field(default=None, repr=False)
    _stores: Stores | None = field(default=None, repr=False)
    _dispatcher: Dispatcher | None = field(default=None, repr=False)
    _broadcaster: Broadcaster | None = field(default=None, repr=False)

    def request_exit(self, code: int) -> None:
        """Stop the bot on its own, ending the process with ``code``."""
        self.exit_code = code
        if self.stop_app is not None:
            self.stop_app()

    @property
    def stores(self) -> Stores:
        """Return the open stores."""
        if self._stores is None:
            raise NotReadyError("the database is not open yet")
        return self._stores

    @property
    def catalog(self) -> CatalogStore:
        """Return the store of the alliance's facts."""
        return self.stores.catalog

    @property
    def dispatcher(self) -> Dispatcher:
        """Return the dispatcher of reminders and notices."""
        if self._dispatcher is None:
            raise NotReadyError("the dispatcher is not running yet")
        return self._dispatcher

    @property
    def broadcaster(self) -> Broadcaster:
        """Return the runner of broadcasts."""
        if self._broadcaster is None:
            raise NotReadyError("the broadcast runner is not running yet")
        return self._broadcaster

    def drafts_if_ready(self) -> DraftStore | None:
        """Return the store of admin dialogs, or None before post_init and after shutdown."""
        return self._stores.drafts if self._stores is not None else None

    def broadcaster_if_ready(self) -> Broadcaster | None:
        """Return the runner of broadcasts, or None before post_init and after shutdown."""
        return self._broadcaster

    async def render_context(self, *, fresh: bool = False) -> RenderContext:
        """Return what rendering needs: the current catalog, texts, zone and time."""
        return RenderContext(
            catalog=await self.catalog.current(fresh=fresh),
            tr=self.tr,
            tz=self.settings.timezone,
            now=self.clock.now(),
            features=self.features,
            public_url=self.settings.public_url,
        )

    def attach(
        self, stores: Stores, dispatcher: Dispatcher, broadcaster: Broadcaster | None = None
    ) -> None:
        """Attach the opened storage, the dispatcher and the broadcast runner (post_init)."""
        self._stores, self._dispatcher = stores, dispatcher
        self._broadcaster = broadcaster

    def detach(self) -> tuple[Stores | None, Dispatcher | None]:
        """Forget the storage, the dispatcher and the runner; return the first two for closing.

        Stop the broadcast runner (``broadcaster.stop()``) before, while the bot can send.
        """
        stores, dispatcher = self._stores, self._dispatcher
        self._stores, self._dispatcher, self._broadcaster = None, None, None
        return stores, dispatcher


class BotContext(CallbackContext[ExtBot[str], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the bot's services."""

    @property
    def services(self) -> Services:
        """Return the bot's services."""
        return cast("Services", self.bot_data[SERVICES_KEY])

    @property
    def tr(self) -> Translator:
        """Return the translator for this update (German)."""
        return self.services.tr

    def gettext(self, message: str) -> str:
        """Translate a message."""
        return self.services.tr.gettext(message)

    async def render_context(self) -> RenderContext:
        """Return what rendering needs: the current catalog, texts, zone and time."""
        return await self.services.render_context()
