"""The typed context every callback receives: services, texts, the clock, the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from telegram.ext import CallbackContext, ExtBot

from bot.render import RenderContext

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.i18n import Translator
    from storage.catalog import CatalogStore
    from storage.db import Database

SERVICES_KEY: Final = "netzwerkbot.services"


class NotReadyError(RuntimeError):
    """A service was used before ``post_init`` opened it."""


@dataclass
class Services:
    """What the handlers need, created by ``build_application`` and opened in ``post_init``."""

    settings: Settings
    clock: Clock
    tr: Translator
    features: frozenset[str] = frozenset()
    seed_demo: bool = False
    _db: Database | None = field(default=None, repr=False)
    _catalog: CatalogStore | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        """Return the open database."""
        if self._db is None:
            raise NotReadyError("the database is not open yet")
        return self._db

    @property
    def catalog(self) -> CatalogStore:
        """Return the store of the alliance's facts."""
        if self._catalog is None:
            raise NotReadyError("the catalog store is not open yet")
        return self._catalog

    def attach(self, db: Database, catalog: CatalogStore) -> None:
        """Attach the opened storage (called from post_init)."""
        self._db, self._catalog = db, catalog

    def detach(self) -> Database | None:
        """Forget the storage and return the database for closing."""
        db, self._db, self._catalog = self._db, None, None
        return db


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
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
        services = self.services
        return RenderContext(
            catalog=await services.catalog.current(),
            tr=services.tr,
            tz=services.settings.timezone,
            now=services.clock.now(),
            features=services.features,
        )
