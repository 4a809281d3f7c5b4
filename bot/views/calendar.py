"""Calendar feeds as people see them: the feeds' addresses, names and the /kalender reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit, urlunsplit

from bot.views.common import esc
from bot.views.replies import Button, Reply

if TYPE_CHECKING:
    from bot.domain.models import Event, Network
    from bot.views.common import RenderContext

FEED_PREFIX: Final = "/kalender/"
ALL_FEED: Final = "alle"


def feed_path(slug: str | None) -> str:
    """Return the listener's path of the feed of one network (or of all meetings)."""
    return f"{FEED_PREFIX}{slug or ALL_FEED}.ics"


def feed_url(public_url: str, slug: str | None) -> str:
    """Return the feed's public HTTP(S) address."""
    return public_url + feed_path(slug)


def webcal_url(public_url: str, slug: str | None) -> str:
    """Return the feed's ``webcal://`` address, which calendar apps open as a subscription."""
    parts = urlsplit(feed_url(public_url, slug))
    return urlunsplit(("webcal", parts.netloc, parts.path, "", ""))


def feed_name(ctx: RenderContext, network: Network | None) -> str:
    """Return the calendar's name as calendar apps show it."""
    _ = ctx.tr.gettext
    if network is None:
        return _("IT Bündnis BW: all meetings")
    return _("IT Bündnis BW: {network}").format(network=network.short_name or network.name)


def subscribe_button(ctx: RenderContext, event: Event) -> Button | None:
    """Return the card's "Kalender abonnieren" button, or None without public feeds.

    Telegram's URL buttons take HTTP(S) links only, so the button opens the feed's HTTPS
    address (its host network's feed, else all meetings); /kalender gives the webcal:// ones.
    """
    if ctx.public_url is None or event.date is None:
        return None
    hosts = [slug for slug in event.host_networks if ctx.catalog.network(slug) is not None]
    slug = hosts[0] if len(hosts) == 1 else None
    return Button(ctx.tr.gettext("📅 Subscribe to calendar"), url=feed_url(ctx.public_url, slug))


def calendar_reply(ctx: RenderContext) -> Reply:
    """Answer /kalender: the webcal:// links of all meetings and of each network."""
    _ = ctx.tr.gettext
    if ctx.public_url is None:
        return Reply(
            _(
                "Calendar subscriptions are not offered here, sorry. You can still save "
                "single meetings: open a meeting under /termine and press “.ics file”."
            )
        )
    base = ctx.public_url
    lines = [
        "<b>{}</b>".format(_("Subscribe to the meetings in your calendar")),
        _(
            "Open a link in your calendar app (or add it there as a subscribed calendar). "
            "Changes and cancellations then reach your calendar by themselves."
        ),
        "",
        "{}\n<code>{}</code>".format(_("All meetings:"), esc(webcal_url(base, None), 300)),
    ]
    for network in ctx.catalog.networks:
        name = esc(network.short_name or network.name, 100)
        address = esc(webcal_url(base, network.slug), 300)
        lines.append(f"{name}:\n<code>{address}</code>")
    return Reply("\n".join(lines), ((Button(_("All meetings"), url=feed_url(base, None)),),))
