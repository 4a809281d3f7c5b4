"""Inline sharing: the cards of meetings and networks as results of ``@botname …``.

Each result is the card's text, sent into whatever chat the person is writing in, with one
URL button "Im Bot öffnen" that opens the same card in the bot's private chat through the
``/start`` deep links (``termin_<id>``, ``netzwerk_<slug>``). No callback buttons: the
message lands in chats the bot may not be in, where a press would reach nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from babel.dates import format_date

from bot.views.catalog import event_card, network_card
from bot.views.common import shorten

if TYPE_CHECKING:
    from bot.domain.models import Event, Network
    from bot.domain.search import Found
    from bot.views.common import RenderContext

DEEP_LINK_EVENT: Final = "termin_"
DEEP_LINK_NETWORK: Final = "netzwerk_"
# Telegram's start parameter: 1-64 characters of A-Z, a-z, 0-9, _ and -.
START_PARAMETER: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TITLE: Final = 100
MAX_DESCRIPTION: Final = 120


@dataclass(frozen=True, slots=True)
class Article:
    """One inline result: an id (at most 64 bytes), what the list shows, the message sent."""

    id: str
    title: str  # plain text
    description: str  # plain text
    text: str  # HTML, the card
    button_label: str
    button_url: str | None


def deep_link(username: str, parameter: str) -> str | None:
    """Return the t.me link that starts the bot with ``parameter``, if Telegram accepts it."""
    if not username or not START_PARAMETER.fullmatch(parameter):
        return None
    return f"https://t.me/{username}?start={parameter}"


def event_article(ctx: RenderContext, event: Event, username: str) -> Article:
    """Return a meeting's card as an inline result."""
    _ = ctx.tr.gettext
    day = (
        format_date(event.date, format="full", locale=ctx.tr.locale)
        if event.date is not None
        else _("date unknown")
    )
    place = ", ".join(p for p in (event.venue, event.city) if p)
    title = event.title if not event.fictional else _("{title} (Demo)").format(title=event.title)
    return Article(
        id=f"ev:{event.id}"[:64],
        title=shorten(title, MAX_TITLE),
        description=shorten(" · ".join(p for p in (day, place) if p), MAX_DESCRIPTION),
        text=event_card(ctx, event).text,
        button_label=_("Open in the bot"),
        button_url=deep_link(username, f"{DEEP_LINK_EVENT}{event.id}"),
    )


def network_article(ctx: RenderContext, network: Network, username: str) -> Article:
    """Return a network's card as an inline result."""
    _ = ctx.tr.gettext
    place = network.city if network.city == network.region else f"{network.city}, {network.region}"
    return Article(
        id=f"net:{network.slug}"[:64],
        title=shorten(network.name, MAX_TITLE),
        description=shorten(
            _("Network · {place}").format(place=place.strip(", ")), MAX_DESCRIPTION
        ),
        text=network_card(ctx, network).text,
        button_label=_("Open in the bot"),
        button_url=deep_link(username, f"{DEEP_LINK_NETWORK}{network.slug}"),
    )


def inline_articles(ctx: RenderContext, found: Found, username: str) -> list[Article]:
    """Return the inline results for what a query found: meetings first, then networks."""
    return [
        *(event_article(ctx, e, username) for e in found.events),
        *(network_article(ctx, n, username) for n in found.networks),
    ]
