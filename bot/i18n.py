"""German texts: the gettext catalogs under ``locales/``, loaded from the .po files.

The catalogs ship as package data; the .po files are compiled in memory at start-up, so no
.mo files live in git. Msgids are English source strings; placeholders are named braces
filled after translation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DEFAULT_LOCALE: Final = "de"
CATALOG_DOMAIN: Final = "messages"


class CatalogMissingError(RuntimeError):
    """The default catalog is not installed: fail fast instead of speaking English."""


@dataclass(frozen=True)
class Translator:
    """gettext and ngettext for one locale, plus the Babel locale for dates and numbers."""

    translations: Translations
    locale: Locale

    def gettext(self, message: str) -> str:
        """Translate a message."""
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message with a plural form chosen by ``n``."""
        return self.translations.ngettext(singular, plural, n)


def _po_text(locale: str) -> str:
    path = resources.files("locales").joinpath(locale, "LC_MESSAGES", f"{CATALOG_DOMAIN}.po")
    if not path.is_file():
        raise CatalogMissingError(f"message catalog for {locale!r} is missing: {path}")
    return path.read_text(encoding="utf-8")


@cache
def translator(locale: str = DEFAULT_LOCALE) -> Translator:
    """Return the translator for ``locale``, compiling its catalog once."""
    catalog = read_po(io.StringIO(_po_text(locale)), locale=locale, domain=CATALOG_DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translator(Translations(buffer, domain=CATALOG_DOMAIN), Locale.parse(locale))
