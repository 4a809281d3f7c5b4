"""Shared rendering: the render context, escaping, fitting into Telegram's limits, dates.

Every value from the data or from a user is HTML-escaped; dates, times and numbers go
through Babel in the bot's time zone; every text a person reads goes through gettext.
A reply never exceeds Telegram's 4096 characters: long values are shortened before they
are escaped and whole sections are dropped from the end, so tags stay balanced.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import quote

from babel.dates import format_date, format_time
from babel.lists import format_list as babel_format_list

from bot.domain.schedule import (
    day_distance,
)
from bot.views import callbacks
from bot.views.commands import MEMBER_COMMANDS
from bot.views.replies import MAX_TEXT, Button

_T = TypeVar("_T")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from bot.domain.models import Catalog, Event, Network, Source
    from bot.i18n import Translator


MAX_VALUE: Final = 900  # characters of one data value shown in a card


MAX_LABEL: Final = 48  # characters of a button label taken from the data


ELLIPSIS: Final = "…"
_TAG: Final = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs: the facts, the language, the zone, the time and the features."""

    catalog: Catalog
    tr: Translator
    tz: ZoneInfo
    now: datetime
    features: frozenset[str] = field(default_factory=frozenset)
    # The public base URL of the calendar feeds (NETZWERKBOT_PUBLIC_URL); None: not offered.
    public_url: str | None = None


def shorten(text: str, limit: int) -> str:
    """Cut plain text to at most ``limit`` characters, at a word boundary where possible."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + ELLIPSIS


def esc(text: str, limit: int = MAX_VALUE) -> str:
    """Shorten a data or user value and escape it for Telegram's HTML."""
    return html.escape(shorten(" ".join(text.split()), limit))


OSM_SEARCH: Final = "https://www.openstreetmap.org/search?query="


def osm_search_url(event: Event) -> str | None:
    """Return an OpenStreetMap search for the event's venue and city; None without a venue."""
    if not event.venue:
        return None
    query = ", ".join(p for p in (event.venue, event.city or event.region) if p)
    return OSM_SEARCH + quote(" ".join(query.split()), safe="")


def venue_link(event: Event, limit: int = 300) -> str:
    """Return the venue, escaped, as a link to its OpenStreetMap search; empty without one."""
    url = osm_search_url(event)
    if url is None or not event.venue:
        return ""
    return f'<a href="{html.escape(url)}">{esc(event.venue, limit)}</a>'


def link(url: str, label: str) -> str:
    """Return an escaped HTML link."""
    return f'<a href="{html.escape(url)}">{esc(label)}</a>'


def visible_length(text: str) -> int:
    """Return how many characters Telegram counts in an HTML text: tags out, entities as one."""
    return len(html.unescape(_TAG.sub("", text)))


def fit(
    blocks: Iterable[str], limit: int = MAX_TEXT, *, size_of: Callable[[str], int] = len
) -> str:
    """Join HTML blocks with blank lines, dropping trailing blocks that would pass the limit.

    The HTML's length is counted (never less than what Telegram counts); ``size_of=
    visible_length`` counts as Telegram does, for blocks full of escaped user text.
    """
    out: list[str] = []
    size = 0
    for block in blocks:
        if not block:
            continue
        extra = size_of(block) + (2 if out else 0)
        if size + extra > limit - 2:
            if size + 3 <= limit:
                out.append(ELLIPSIS)
            break
        out.append(block)
        size += extra
    return "\n\n".join(out)


def button_label(text: str, limit: int = MAX_LABEL) -> str:
    """Return a button label (plain text, Telegram shows it unescaped)."""
    return shorten(" ".join(text.split()), limit)


def fictional_note(ctx: RenderContext) -> str:
    """Return the marker that every reply showing a fictional event carries."""
    return "<i>{}</i>".format(ctx.tr.gettext("Note: this is an invented demo event."))


def fictional_list_note(ctx: RenderContext) -> str:
    """Return the marker for a list that contains fictional events."""
    return "<i>{}</i>".format(
        ctx.tr.gettext("Note: events marked (Demo) are invented demo events.")
    )


def long_date(ctx: RenderContext, day: date) -> str:
    """Return a day as "18. März 2027"."""
    return format_date(day, format="long", locale=ctx.tr.locale)


def format_event_when(ctx: RenderContext, event: Event) -> str:
    """Return when an event takes place, as German text (escaped for HTML)."""
    _ = ctx.tr.gettext
    if event.date is None or not event.date_known:
        if event.date_text:
            return _("Date not known ({date_text})").format(date_text=esc(event.date_text))
        return _("Date not known")
    if event.start is None:
        return format_date(event.date, format="full", locale=ctx.tr.locale)
    start = event.start.astimezone(ctx.tz)
    day = format_date(start.date(), format="full", locale=ctx.tr.locale)
    start_time = format_time(start.time(), format="short", locale=ctx.tr.locale)
    if event.end is None:
        return _("{date}, {time}").format(date=day, time=start_time)
    end = event.end.astimezone(ctx.tz)
    end_time = format_time(end.time(), format="short", locale=ctx.tr.locale)
    if end.date() != start.date():
        end_day = format_date(end.date(), format="full", locale=ctx.tr.locale)
        return _("{date}, {start} – {end_date}, {end}").format(  # noqa: RUF001 - typographic mark intended
            date=day, start=start_time, end_date=end_day, end=end_time
        )
    return _("{date}, {start} – {end}").format(date=day, start=start_time, end=end_time)  # noqa: RUF001 - typographic mark intended


def event_date_short(ctx: RenderContext, event: Event) -> str:
    """Return an event's day as "18. März 2027", or what is known about it."""
    if event.date is None:
        return format_event_when(ctx, event)
    return long_date(ctx, event.date)


def event_place(ctx: RenderContext, event: Event) -> str:
    """Return an event's city (with region) or region, escaped; empty if unknown."""
    if event.city and event.region:
        return f"{esc(event.city)} ({esc(event.region)})"
    return esc(event.city or event.region or "")


def source_line(ctx: RenderContext, sources: Sequence[Source]) -> str:
    """Return the sources as "Quellen: <a href=…>label</a>, …" (empty without sources)."""
    if not sources:
        return ""
    label = ctx.tr.ngettext("Source:", "Sources:", len(sources))
    return "<i>{}</i> {}".format(label, ", ".join(link(s.url, s.label) for s in sources))


def paginate(items: Sequence[_T], page: int, size: int) -> tuple[Sequence[_T], int, int]:
    """Return one page of items, the page number clamped to the pages there are, and pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


def bullets(items: Iterable[str], limit: int = MAX_VALUE) -> str:
    """Return escaped items as a bulleted list."""
    return "\n".join(f"• {esc(item, limit)}" for item in items)


def labelled(label: str, value: str) -> str:
    """Return a bold label followed by its (already escaped) value."""
    return f"<b>{label}</b> {value}"


def network_display_name(network: Network) -> str:
    """Return the name to show on buttons and in lists (plain text)."""
    return network.short_name if not network.name_is_placeholder else network.name


def event_button(ctx: RenderContext, event: Event) -> Button:
    """Return a button that opens an event's card, labelled with title and day."""
    day = (
        format_date(event.date, format="medium", locale=ctx.tr.locale)
        if event.date is not None
        else ctx.tr.gettext("date unknown")
    )
    title = button_label(event.title, 40)
    if event.fictional:
        title = ctx.tr.gettext("{title} (Demo)").format(title=title)
    return Button(f"{title} · {day}", data=callbacks.event_show(event.id))


def network_button(network: Network) -> Button:
    """Return a button that opens a network's card."""
    return Button(
        button_label(network_display_name(network)), callbacks.network_show(network.slug)
    )


def button_rows(buttons: Sequence[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    """Arrange buttons in rows of ``per_row``."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def command(name: str) -> str:
    """Return "/name" for a member command; only commands that exist are ever mentioned."""
    names = [c.name for c in MEMBER_COMMANDS]
    return "/" + (name if name in names else names[-1])


def capitalized(text: str) -> str:
    """Return ``text`` with an upper-case first letter (a day word opening a sentence)."""
    return text[:1].upper() + text[1:]


def day_word(ctx: RenderContext, day: date) -> str:
    """Return how far ``day`` is from today in words: "heute", "morgen", "in 3 Tagen"."""
    _ = ctx.tr.gettext
    days = day_distance(day, ctx.now, ctx.tz)
    words = {
        -1: _("yesterday"),
        0: _("today"),
        1: _("tomorrow"),
        2: _("the day after tomorrow"),
        7: _("in one week"),
    }
    if days in words:
        return words[days]
    if days < 0:
        return ctx.tr.ngettext("{count} day ago", "{count} days ago", -days).format(count=-days)
    return ctx.tr.ngettext("in {count} day", "in {count} days", days).format(count=days)


def time_text(ctx: RenderContext, wall: time) -> str:
    """Return a wall time in the short local format."""
    return format_time(wall, format="short", locale=ctx.tr.locale)


def moment_text(ctx: RenderContext, moment: datetime) -> str:
    """Return an instant as "Donnerstag, 18. März 2027, 10:00 Uhr" in the bot's zone."""
    local = moment.astimezone(ctx.tz)
    return ctx.tr.gettext("{date}, {time}").format(
        date=format_date(local.date(), format="full", locale=ctx.tr.locale),
        time=time_text(ctx, local.time()),
    )


def event_day(ctx: RenderContext, event: Event) -> date | None:
    """Return the local day an event begins on, or None if it is not known."""
    if event.date is None or not event.date_known:
        return None
    if event.start is not None:
        return event.start.astimezone(ctx.tz).date()
    return event.date


def event_start_text(ctx: RenderContext, event: Event) -> str:
    """Return when an event begins: its day and start time, or only its day."""
    if event.date is None or not event.date_known:
        return format_event_when(ctx, event)
    if event.start is None:
        return format_date(event.date, format="full", locale=ctx.tr.locale)
    return moment_text(ctx, event.start)


def format_list(items: Sequence[str], ctx: RenderContext) -> str:
    """Join items the way the language does: "a, b und c"."""
    return babel_format_list(list(items), locale=ctx.tr.locale)
