"""Cards and lists for networks and events: the catalog's facts as German HTML replies.

Every value from the data or from a user is HTML-escaped; dates, times and numbers go
through Babel in the bot's time zone; every text a person reads goes through gettext.
A reply never exceeds Telegram's 4096 characters: long values are shortened before they
are escaped and whole sections are dropped from the end, so tags stay balanced.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Final, TypeVar

from babel.dates import format_date, format_time
from babel.lists import format_list as babel_format_list

from bot import callbacks
from bot.commands import MEMBER_COMMANDS
from bot.replies import MAX_CALLBACK_BYTES, MAX_TEXT, Button, Reply
from bot.schedule import (
    DATE_ONLY_REMINDER_TIME,
    QUIET_FALLBACK,
    WEEKLY_PREVIEW_TIME,
    Lead,
    QuietHours,
    day_distance,
    parse_quiet_hours,
)

_T = TypeVar("_T")

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from zoneinfo import ZoneInfo

    from bot.i18n import Translator
    from storage.models import Catalog, Event, Network, Source

FEATURE_SUBSCRIPTIONS: Final = "subscriptions"
PAGE_SIZE: Final = 6
MAX_VALUE: Final = 900  # characters of one data value shown in a card
MAX_LABEL: Final = 48  # characters of a button label taken from the data
ELLIPSIS: Final = "…"


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs: the facts, the language, the zone, the time and the features."""

    catalog: Catalog
    tr: Translator
    tz: ZoneInfo
    now: datetime
    features: frozenset[str] = field(default_factory=frozenset)


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


def link(url: str, label: str) -> str:
    """Return an escaped HTML link."""
    return f'<a href="{html.escape(url)}">{esc(label)}</a>'


def fit(blocks: Iterable[str], limit: int = MAX_TEXT) -> str:
    """Join HTML blocks with blank lines, dropping trailing blocks that would pass the limit."""
    out: list[str] = []
    size = 0
    for block in blocks:
        if not block:
            continue
        extra = len(block) + (2 if out else 0)
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


def _bullets(items: Iterable[str], limit: int = MAX_VALUE) -> str:
    return "\n".join(f"• {esc(item, limit)}" for item in items)


def _labelled(label: str, value: str) -> str:
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


def network_list(ctx: RenderContext) -> Reply:
    """List all known networks as buttons, with the alliance's network count."""
    _ = ctx.tr.gettext
    catalog = ctx.catalog
    known = len(catalog.networks)
    blocks = ["<b>{}</b>".format(_("The regional IT networks"))]
    alliance = catalog.alliance
    if alliance is not None:
        total = alliance.network_count
        blocks.append(
            ctx.tr.ngettext(
                "{total} regional IT network belongs to the {alliance}.",
                "{total} regional IT networks belong to the {alliance}.",
                total,
            ).format(total=total, alliance=esc(alliance.name))
            + " "
            + ctx.tr.ngettext(
                "{known} of them is known here.", "{known} of them are known here.", known
            ).format(known=known)
        )
        if alliance.network_count_note:
            blocks.append(esc(alliance.network_count_note))
    lines = []
    for network in catalog.networks:
        name = esc(network_display_name(network), 120)
        if network.name_is_placeholder:
            name += " ({})".format(_("exact name not known"))
        lines.append(f"• <b>{name}</b> – {esc(network.region, 120)}")  # noqa: RUF001 - typographic mark intended
    blocks.append("\n".join(lines))
    blocks.append(_("Tap a network to see its details."))
    buttons = [network_button(n) for n in catalog.networks]
    return Reply(fit(blocks), button_rows(buttons, 2))


def _figure_label(ctx: RenderContext, key: str) -> str:
    _ = ctx.tr.gettext
    labels = {
        "it_workforce": _("People working in IT"),
        "it_revenue_per_year": _("IT revenue per year"),
        "members": _("Members"),
    }
    return labels.get(key, esc(key.replace("_", " ").capitalize(), 60))


def network_card(ctx: RenderContext, network: Network) -> Reply:
    """Show everything known about one network."""
    _ = ctx.tr.gettext
    catalog = ctx.catalog
    head = f"<b>{esc(network.name, 200)}</b>"
    if network.name_is_placeholder:
        head += "\n<i>{}</i>".format(
            _("Exact name not known: “{name}” is only a neutral label.").format(
                name=esc(network.name, 200)
            )
        )
    place = _labelled(_("Region:"), esc(network.region, 200))
    if network.city and network.city != network.region:
        place += "\n" + _labelled(_("City:"), esc(network.city, 200))
    blocks = [head, place, esc(network.description)]
    people = []
    if network.led_by:
        people.append(_labelled(_("Led by:"), esc(network.led_by, 200)))
    if network.supported_by:
        people.append(_labelled(_("Supported by:"), esc(network.supported_by, 200)))
    blocks.append("\n".join(people))
    if network.figures:
        blocks.append(
            "<b>{}</b>\n".format(_("Key figures:"))
            + "\n".join(
                f"• {_figure_label(ctx, key)}: {esc(value, 200)}" for key, value in network.figures
            )
        )
    if network.website:
        blocks.append(_labelled(_("Website:"), link(network.website, network.website)))
    events = catalog.events_of_network(network.slug)
    if events:
        lines = [f"• {esc(e.title, 150)} – {event_date_short(ctx, e)}" for e in events]  # noqa: RUF001 - typographic mark intended
        blocks.append("<b>{}</b>\n{}".format(_("Meetings:"), "\n".join(lines)))
        if any(e.fictional for e in events):
            blocks.append(fictional_list_note(ctx))
    if network.facts:
        blocks.append("<b>{}</b>\n{}".format(_("Facts:"), _bullets(network.facts, 400)))
    if network.membership_basis:
        blocks.append(_labelled(_("Member because:"), esc(network.membership_basis, 300)))
    blocks.append(source_line(ctx, catalog.sources_of(network.sources)))
    buttons: list[tuple[Button, ...]] = [(event_button(ctx, e),) for e in events[:6]]
    if network.website:
        buttons.append((Button(_("Website"), url=network.website),))
    if FEATURE_SUBSCRIPTIONS in ctx.features:
        code = callbacks.network_code(network.slug)
        buttons.append((Button(_("🔔 Subscribe"), data=callbacks.subscribe(code)),))
    buttons.append((Button(_("« All networks"), data=callbacks.NETWORK_LIST),))
    return Reply(_fit_with_note(blocks, any(e.fictional for e in events), ctx), tuple(buttons))


def _fit_with_note(blocks: list[str], fictional: bool, ctx: RenderContext) -> str:
    """Fit blocks, keeping the fictional marker even when sections must be dropped."""
    if not fictional:
        return fit(blocks)
    note = fictional_list_note(ctx)
    body = fit([b for b in blocks if b != note], MAX_TEXT - len(note) - 2)
    return body + "\n\n" + note


def _programme_lines(ctx: RenderContext, event: Event) -> list[str]:
    lines = []
    for item in event.programme:
        line = "• " + esc(item.title, 300)
        person = ctx.catalog.person(item.speaker) if item.speaker else None
        if person is not None:
            line += f" – {esc(person.name, 100)} ({esc(person.role, 150)})"  # noqa: RUF001 - typographic mark intended
        if item.summary:
            line += f"\n  <i>{esc(item.summary, 400)}</i>"
        lines.append(line)
    return lines


def _status_text(ctx: RenderContext, event: Event) -> str:
    _ = ctx.tr.gettext
    return {
        "held": _("took place"),
        "announced": _("announced"),
        "planned": _("planned"),
        "cancelled": _("cancelled"),
    }[event.status]


def event_blocks(ctx: RenderContext, event: Event) -> list[str]:
    """Return the sections of an event's card, most important first."""
    _ = ctx.tr.gettext
    catalog = ctx.catalog
    head = f"<b>{esc(event.title, 200)}</b>"
    if event.subtitle:
        head += f"\n<i>{esc(event.subtitle, 200)}</i>"
    facts = [_labelled(_("When:"), format_event_when(ctx, event))]
    if event.status == "cancelled":
        facts.append("<b>{}</b>".format(_("This event has been cancelled.")))
    else:
        facts.append(_labelled(_("Status:"), _status_text(ctx, event)))
    place = event_place(ctx, event)
    if place:
        facts.append(_labelled(_("Where:"), place))
    if event.venue:
        facts.append(_labelled(_("Venue:"), esc(event.venue, 300)))
    if event.venue_note:
        label = _("Note on the venue:") if event.venue else _("Venue:")
        facts.append(_labelled(label, esc(event.venue_note, 300)))
    if event.hosts:
        facts.append(_labelled(_("Hosts:"), ", ".join(esc(h.name, 120) for h in event.hosts)))
    if event.host_note:
        facts.append(_labelled(_("Hosts:"), esc(event.host_note, 300)))
    if event.audience:
        facts.append(_labelled(_("Audience:"), esc(event.audience, 300)))
    blocks = [head, "\n".join(facts)]
    if event.programme:
        blocks.append(
            "<b>{}</b>\n{}".format(_("Programme:"), "\n".join(_programme_lines(ctx, event)))
        )
    if event.speakers_note:
        blocks.append(_labelled(_("Speakers:"), esc(event.speakers_note, 300)))
    if event.outcomes:
        blocks.append("<b>{}</b>\n{}".format(_("Outcomes:"), _bullets(event.outcomes, 500)))
    if event.regions_present:
        blocks.append(
            _labelled(
                _("Regions represented:"), ", ".join(esc(r, 80) for r in event.regions_present)
            )
        )
    blocks.append(esc(event.description))
    blocks.append(source_line(ctx, catalog.sources_of(event.sources)))
    blocks.append(provenance_line(ctx, event))
    return blocks


def provenance_line(ctx: RenderContext, event: Event) -> str:
    """Say when an admin entered an event that has no sources; empty otherwise."""
    if event.sources or event.created_at is None:
        return ""
    day = event.created_at.astimezone(ctx.tz).date()
    return "<i>{}</i>".format(
        ctx.tr.gettext("Entered via the bot on {date}.").format(date=long_date(ctx, day))
    )


def event_buttons(ctx: RenderContext, event: Event) -> tuple[tuple[Button, ...], ...]:
    """Return an event card's buttons: calendar file, subscribe, host networks, back."""
    _ = ctx.tr.gettext
    rows: list[tuple[Button, ...]] = []
    if event.date is not None:
        rows.append((Button(_(".ics file"), data=callbacks.event_ics(event.id)),))
    upcoming = event.is_upcoming(ctx.now, ctx.tz)
    if upcoming and FEATURE_SUBSCRIPTIONS in ctx.features:
        code = callbacks.event_code(event.id)
        rows.append((Button(_("🔔 Subscribe to this meeting"), data=callbacks.subscribe(code)),))
    hosts = [n for slug in event.host_networks if (n := ctx.catalog.network(slug)) is not None]
    rows.extend(button_rows([network_button(n) for n in hosts], 2))
    if upcoming:
        rows.append((Button(_("« Upcoming meetings"), data=callbacks.events_upcoming(0)),))
    else:
        rows.append((Button(_("« Past meetings"), data=callbacks.events_past(0)),))
    return tuple(rows)


def event_card(ctx: RenderContext, event: Event, *, intro: str = "") -> Reply:
    """Show everything known about one event; ``intro`` is an escaped line put on top."""
    blocks = [intro, *event_blocks(ctx, event)]
    if event.fictional:
        note = fictional_note(ctx)
        text = note + "\n\n" + fit(blocks, MAX_TEXT - len(note) - 2)
    else:
        text = fit(blocks)
    return Reply(text, event_buttons(ctx, event))


def listed_events(ctx: RenderContext, *, past: bool) -> list[Event]:
    """Return the events of the upcoming or the past list in display order."""
    catalog = ctx.catalog
    if not past:
        return catalog.upcoming_events(ctx.now)
    undated = [e for e in catalog.events if e.date is None]
    return [*catalog.past_events(ctx.now), *undated]


def event_line(ctx: RenderContext, event: Event) -> str:
    """Return one summary line of an event for lists."""
    line = f"• <b>{event_date_short(ctx, event)}</b> – {esc(event.title, 150)}"  # noqa: RUF001 - typographic mark intended
    place = esc(event.city or event.region or "", 80)
    if place:
        line += ", " + place
    if event.status == "cancelled":
        line += " ({})".format(ctx.tr.gettext("cancelled"))
    if event.fictional:
        line += " " + ctx.tr.gettext("(Demo)")
    return line


def event_list(ctx: RenderContext, *, past: bool, page: int) -> Reply:
    """List upcoming (earliest first) or past (latest first) events, one page at a time."""
    _ = ctx.tr.gettext
    events = listed_events(ctx, past=past)
    shown, page, pages = paginate(events, page, PAGE_SIZE)
    title = _("Past meetings") if past else _("Upcoming meetings")
    head = f"<b>{title}</b>"
    if pages > 1:
        head += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    blocks = [head]
    if shown:
        blocks.append("\n".join(event_line(ctx, e) for e in shown))
    elif past:
        blocks.append(_("No past meetings are known."))
    else:
        blocks.append(_("No meeting is announced at the moment."))
    fictional = any(e.fictional for e in shown)
    if fictional:
        blocks.append(fictional_list_note(ctx))
    builder = callbacks.events_past if past else callbacks.events_upcoming
    rows: list[tuple[Button, ...]] = [(event_button(ctx, e),) for e in shown]
    nav = []
    if page > 0:
        nav.append(Button(_("‹ Back"), data=builder(page - 1)))  # noqa: RUF001 - typographic mark intended
    if page < pages - 1:
        nav.append(Button(_("Next ›"), data=builder(page + 1)))  # noqa: RUF001 - typographic mark intended
    if nav:
        rows.append(tuple(nav))
    if past:
        rows.append((Button(_("Upcoming meetings"), data=callbacks.events_upcoming(0)),))
    else:
        rows.append((Button(_("Past meetings"), data=callbacks.events_past(0)),))
    return Reply(_fit_with_note(blocks, fictional, ctx), tuple(rows))


def next_event_reply(ctx: RenderContext) -> Reply:
    """Show the next meeting, or say that none is announced and show the latest one."""
    _ = ctx.tr.gettext
    upcoming = ctx.catalog.next_event(ctx.now)
    if upcoming is not None:
        return event_card(ctx, upcoming, intro="<b>{}</b>".format(_("The next meeting:")))
    latest = ctx.catalog.latest_meeting(ctx.now)
    intro = _("No meeting is announced at the moment.")
    if latest is None:
        return Reply(intro, ((Button(_("Past meetings"), data=callbacks.events_past(0)),),))
    return event_card(
        ctx, latest, intro="{}\n{}".format(intro, _("The latest meeting was this one:"))
    )


def _example_block(ctx: RenderContext) -> str:
    _ = ctx.tr.gettext
    examples = [
        _("When is the next meeting?"),
        _("What does cyberLAGO do?"),
        _("Is there a network in Ulm?"),
        _("Who spoke at the 3rd network meeting?"),
        _("How many networks are there?"),
        _("Who funds smart businessIT?"),
    ]
    return "<b>{}</b>\n{}".format(
        _("You can ask me, for example:"), "\n".join(f"• <i>{e}</i>" for e in examples)
    )


def welcome_reply(ctx: RenderContext, first_name: str | None) -> Reply:
    """Greet a member formally and show what the bot can do."""
    _ = ctx.tr.gettext
    if first_name and first_name.strip():
        hello = _("Hello {name}!").format(name=esc(first_name.strip(), 64))
    else:
        hello = _("Hello!")
    alliance = ctx.catalog.alliance.name if ctx.catalog.alliance else "IT Bündnis BW"
    intro = _(
        "I am the assistant of the {alliance}. I can tell you about the regional IT "
        "networks and their meetings. Simply write your question in your own words "
        "or use the buttons."
    ).format(alliance=esc(alliance, 100))
    blocks = [f"<b>{hello}</b>", intro, _example_block(ctx)]
    next_event = ctx.catalog.next_event(ctx.now)
    next_data = callbacks.event_show(next_event.id) if next_event else callbacks.events_past(0)
    buttons = (
        (
            Button(_("Networks"), data=callbacks.NETWORK_LIST),
            Button(_("Meetings"), data=callbacks.events_upcoming(0)),
        ),
        (
            Button(_("Next meeting"), data=next_data),
            Button(_("Help"), data=callbacks.HELP),
        ),
    )
    return Reply(fit(blocks), buttons)


def help_reply(ctx: RenderContext) -> Reply:
    """Explain what one can ask and list the member commands."""
    _ = ctx.tr.gettext
    commands = "\n".join(f"/{c.name} – {html.escape(_(c.description))}" for c in MEMBER_COMMANDS)  # noqa: RUF001 - typographic mark intended
    blocks = [
        "<b>{}</b>".format(_("How I can help")),
        _(
            "Ask me in your own words about the regional IT networks, their meetings, "
            "the {alliance} and its funding. I answer only from the facts I know, with "
            "their sources."
        ).format(alliance=esc(ctx.catalog.alliance.name if ctx.catalog.alliance else "", 100)),
        _example_block(ctx),
        "<b>{}</b>\n{}".format(_("Commands:"), commands),
    ]
    buttons = (
        (
            Button(_("Networks"), data=callbacks.NETWORK_LIST),
            Button(_("Meetings"), data=callbacks.events_upcoming(0)),
        ),
    )
    return Reply(fit(blocks), buttons)


# Subscriptions and reminders

TICK: Final = "✅"
BOX: Final = "▫️"
MAX_EVENT_TOGGLES: Final = 30  # followed single events shown in /abo, earliest first
MAX_PREVIEW_BUTTONS: Final = 10
# Quiet-hour choices in /erinnerungen: callback code -> quiet hours.
QUIET_CHOICES: Final = {
    "2200-0700": QuietHours(time(22, 0), time(7, 0)),
    "2100-0800": QuietHours(time(21, 0), time(8, 0)),
    "2300-0600": QuietHours(time(23, 0), time(6, 0)),
}
QUIET_NONE: Final = "none"
CHANGE_KINDS: Final = ("date", "time", "place", "status")


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


def _time_text(ctx: RenderContext, wall: time) -> str:
    return format_time(wall, format="short", locale=ctx.tr.locale)


def _moment_text(ctx: RenderContext, moment: datetime) -> str:
    """Return an instant as "Donnerstag, 18. März 2027, 10:00 Uhr" in the bot's zone."""
    local = moment.astimezone(ctx.tz)
    return ctx.tr.gettext("{date}, {time}").format(
        date=format_date(local.date(), format="full", locale=ctx.tr.locale),
        time=_time_text(ctx, local.time()),
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
    return _moment_text(ctx, event.start)


def _notice_buttons(ctx: RenderContext, event: Event) -> tuple[tuple[Button, ...], ...]:
    """Return the buttons under a reminder or change notice: calendar file and card."""
    _ = ctx.tr.gettext
    row = [Button(_("Details"), data=callbacks.event_show(event.id))]
    if event.date is not None and event.status != "cancelled":
        row.insert(0, Button(_(".ics file"), data=callbacks.event_ics(event.id)))
    return (tuple(row),)


def _venue_lines(ctx: RenderContext, event: Event) -> list[str]:
    _ = ctx.tr.gettext
    lines = []
    if event.venue:
        lines.append(_labelled(_("Venue:"), esc(event.venue, 300)))
    if event.venue_note:
        if event.venue:
            lines.append(_labelled(_("Note on the venue:"), esc(event.venue_note, 300)))
        else:
            lines.append(esc(event.venue_note, 300))
    return lines


def reminder_reply(ctx: RenderContext, event: Event) -> Reply:
    """Remind of an event: day word, German date and time, title, place, venue."""
    _ = ctx.tr.gettext
    when = event_start_text(ctx, event)
    day = event_day(ctx, event)
    if day is not None:
        when = _("{day}, {date}").format(day=capitalized(day_word(ctx, day)), date=when)
    title = f"<b>{esc(event.title, 200)}</b>"
    place = event_place(ctx, event)
    if place:
        head = _("Reminder: {when} — {title} in {place}").format(
            when=when, title=title, place=place
        )
    else:
        head = _("Reminder: {when} — {title}").format(when=when, title=title)
    lines = [head, *_venue_lines(ctx, event)]
    if event.status == "cancelled":
        lines.append("<b>{}</b>".format(_("This event has been cancelled.")))
    return Reply(_notice_text(ctx, ["\n".join(lines)], event), _notice_buttons(ctx, event))


def _notice_text(ctx: RenderContext, blocks: list[str], event: Event) -> str:
    """Fit a notice's blocks; a fictional event's marker always stays at the end."""
    if not event.fictional:
        return fit(blocks)
    note = fictional_note(ctx)
    return fit(blocks, MAX_TEXT - len(note) - 2) + "\n\n" + note


def _payload_text(payload: Mapping[str, object], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _payload_changes(payload: Mapping[str, object]) -> list[str]:
    """Return the known kinds of change a payload names, in a fixed order."""
    value = payload.get("changed")
    named: set[object] = set()
    if isinstance(value, str):
        named = {value}
    elif isinstance(value, list | tuple | set | frozenset):
        named = set(value)
    return [kind for kind in CHANGE_KINDS if kind in named]


def _old_start(payload: Mapping[str, object]) -> datetime | None:
    text = _payload_text(payload, "old_start")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    # The storage writes UTC; a value without an offset is read as UTC, not as server time.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _old_date(payload: Mapping[str, object]) -> date | None:
    text = _payload_text(payload, "old_date")
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _old_when(
    ctx: RenderContext, event: Event, payload: Mapping[str, object], changes: list[str]
) -> str:
    """Return the previous date and time from a payload, or "" where it has none."""
    old_start = _old_start(payload)
    if old_start is not None:
        local = old_start.astimezone(ctx.tz)
        if "date" not in changes and local.date() == event_day(ctx, event):
            return ctx.tr.gettext("{time} o'clock").format(time=_time_text(ctx, local.time()))
        return _moment_text(ctx, old_start)
    old_day = _old_date(payload)
    if old_day is not None:
        return format_date(old_day, format="full", locale=ctx.tr.locale)
    return ""


def _with_old(ctx: RenderContext, new: str, old: str) -> str:
    if not old:
        return new
    return ctx.tr.gettext("{new} (previously: {old})").format(new=new, old=old)


def _place_text(ctx: RenderContext, event: Event) -> str:
    """Return an event's place and venue in one escaped line; empty if neither is known."""
    parts = [event_place(ctx, event)]
    if event.venue:
        parts.append(esc(event.venue, 300))
    elif event.venue_note:
        parts.append(esc(event.venue_note, 300))
    return ", ".join(p for p in parts if p)


def change_notice(ctx: RenderContext, event: Event, payload: Mapping[str, object]) -> Reply:
    """Tell a subscriber what changed about an event: the new values and the old ones.

    The payload's keys are read defensively: "kind" ("changed" or "cancelled"), "changed"
    (a list of "date", "time", "place", "status"), "old_start" (ISO, UTC), "old_date" (ISO
    date) and "old_place". Anything missing or unknown leaves a generic sentence.
    """
    _ = ctx.tr.gettext
    if payload.get("kind") == "cancelled" or event.status == "cancelled":
        return cancel_notice(ctx, event, payload)
    changes = _payload_changes(payload)
    head = _("Changed: {title}").format(title=f"<b>{esc(event.title, 200)}</b>")
    when = format_event_when(ctx, event)
    place = _place_text(ctx, event)
    lines = []
    if "date" in changes or "time" in changes:
        label = _("New date:") if "date" in changes else _("New time:")
        lines.append(
            _labelled(label, _with_old(ctx, when, _old_when(ctx, event, payload, changes)))
        )
    if "place" in changes:
        old_place = _payload_text(payload, "old_place")
        lines.append(
            _labelled(
                _("New place:"),
                _with_old(ctx, place or _("not known yet"), esc(old_place or "", 300)),
            )
        )
    if "status" in changes:
        lines.append(_labelled(_("New status:"), _status_text(ctx, event)))
    if not lines:
        lines.append(_("The details of this meeting have changed."))
    if "date" not in changes and "time" not in changes:
        lines.append(_labelled(_("When:"), when))
    if "place" not in changes and place:
        lines.append(_labelled(_("Where:"), place))
    return Reply(_notice_text(ctx, [head, "\n".join(lines)], event), _notice_buttons(ctx, event))


def cancel_notice(ctx: RenderContext, event: Event, payload: Mapping[str, object]) -> Reply:
    """Tell a subscriber that an event was cancelled, naming its day, time and place."""
    _ = ctx.tr.gettext
    title = f"<b>{esc(event.title, 200)}</b>"
    if event.date is not None and event.date_known:
        when = event_start_text(ctx, event)
    else:
        old_start = _old_start(payload)
        old_day = _old_date(payload)
        when = (
            _moment_text(ctx, old_start)
            if old_start is not None
            else format_date(old_day, format="full", locale=ctx.tr.locale)
            if old_day is not None
            else ""
        )
    place = event_place(ctx, event)
    if when and place:
        head = _("Cancelled: {title} on {when} in {place}").format(
            title=title, when=when, place=place
        )
    elif when:
        head = _("Cancelled: {title} on {when}").format(title=title, when=when)
    elif place:
        head = _("Cancelled: {title} in {place}").format(title=title, place=place)
    else:
        head = _("Cancelled: {title}").format(title=title)
    blocks = [head, _("This meeting will not take place; there will be no reminders for it.")]
    buttons = ((Button(_("Details"), data=callbacks.event_show(event.id)),),)
    return Reply(_notice_text(ctx, blocks, event), buttons)


def _preview_line(ctx: RenderContext, event: Event) -> str:
    line = f"• <b>{event_start_text(ctx, event)}</b> – {esc(event.title, 150)}"  # noqa: RUF001 - typographic mark intended
    place = esc(event.city or event.region or "", 80)
    if place:
        line += ", " + place
    if event.fictional:
        line += " " + ctx.tr.gettext("(Demo)")
    return line


def weekly_preview(ctx: RenderContext, events: Sequence[Event]) -> Reply:
    """Show the week's meetings that a person follows, earliest first, with their cards."""
    _ = ctx.tr.gettext
    manage = (Button(_("Manage subscriptions"), data=callbacks.SUB_OPEN),)
    head = "<b>{}</b>".format(_("Your weekly preview"))
    if not events:
        return Reply(fit([head, _("None of the meetings you follow takes place this week.")]))
    ordered = sorted(events, key=lambda e: (e.begins_at(ctx.tz) or ctx.now, e.id))
    intro = ctx.tr.ngettext(
        "This week there is {count} meeting that you follow:",
        "This week there are {count} meetings that you follow:",
        len(ordered),
    ).format(count=len(ordered))
    fictional = any(e.fictional for e in ordered)
    blocks = [head, intro, "\n".join(_preview_line(ctx, e) for e in ordered)]
    if fictional:
        blocks.append(fictional_list_note(ctx))
    rows = [(event_button(ctx, e),) for e in ordered[:MAX_PREVIEW_BUTTONS]]
    return Reply(_fit_with_note(blocks, fictional, ctx), (*rows, manage))


def _toggle(ctx: RenderContext, code: str, label: str, followed: frozenset[str]) -> Button:
    mark = TICK if code in followed else BOX
    return Button(f"{mark} {button_label(label)}", data=callbacks.toggle(code))


def _fits(data: str) -> bool:
    return len(data.encode()) <= MAX_CALLBACK_BYTES


def _event_toggles(ctx: RenderContext, followed: frozenset[str]) -> list[Button]:
    """Return a toggle for each followed single event, known ones earliest first."""
    known: list[tuple[datetime, str, Event]] = []
    unknown: list[str] = []
    for code in followed:
        if not code.startswith(callbacks.CODE_EVENT) or not _fits(callbacks.toggle(code)):
            continue
        event = ctx.catalog.event(code.removeprefix(callbacks.CODE_EVENT))
        if event is None:
            unknown.append(code)
        else:
            known.append(
                (event.begins_at(ctx.tz) or datetime.max.replace(tzinfo=UTC), code, event)
            )
    buttons = []
    for _begins, code, event in sorted(known, key=lambda item: (item[0], item[1])):
        label = event_button(ctx, event).label
        buttons.append(Button(f"{TICK} {label}", data=callbacks.toggle(code)))
    for code in sorted(unknown):
        label = ctx.tr.gettext("Meeting no longer known")
        buttons.append(Button(f"{TICK} {label}", data=callbacks.toggle(code)))
    return buttons[:MAX_EVENT_TOGGLES]


def _network_toggles(ctx: RenderContext, followed: frozenset[str]) -> list[Button]:
    """Return a toggle for every network, then for followed networks no longer known."""
    buttons = [
        _toggle(ctx, callbacks.network_code(n.slug), network_display_name(n), followed)
        for n in ctx.catalog.networks
        if _fits(callbacks.toggle(callbacks.network_code(n.slug)))
    ]
    known = {callbacks.network_code(n.slug) for n in ctx.catalog.networks}
    for code in sorted(followed):
        slug = code.removeprefix(callbacks.CODE_NETWORK)
        if code != slug and slug and code not in known and _fits(callbacks.toggle(code)):
            label = ctx.tr.gettext("Network no longer known")
            buttons.append(Button(f"{TICK} {label}", data=callbacks.toggle(code)))
    return buttons


def subscriptions_panel(
    ctx: RenderContext, followed: frozenset[str], *, blocked: bool = False
) -> Reply:
    """Show /abo: what each choice covers, then every choice as a toggle (✅ = followed).

    ``blocked`` says that the last messages could not be delivered, so nothing is sent until
    the person comes back (/start or unblocking the bot).
    """
    _ = ctx.tr.gettext
    count = len(followed)
    blocks = ["<b>{}</b>".format(_("Your subscriptions"))]
    if blocked:
        blocks.append(
            "<b>{}</b>".format(
                _(
                    "My last messages could not be delivered to you, so I am sending you "
                    "nothing at the moment. Send {command} to receive reminders again."
                ).format(command=command("start"))
            )
        )
    if count:
        blocks.append(
            ctx.tr.ngettext(
                "You follow {count} thing at the moment.",
                "You follow {count} things at the moment.",
                count,
            ).format(count=count)
        )
    else:
        blocks.append(_("You do not follow anything yet."))
    choices = [
        (_("A network:"), _("reminders of the meetings it hosts, and its news.")),
        (
            _("All network meetings:"),
            _("reminders of every network meeting and every alliance-wide event."),
        ),
        (_("News:"), _("circulars of the alliance and its networks.")),
        (
            _("Weekly preview:"),
            _("on Mondays at {time}, the meetings of the week that you follow.").format(
                time=ctx.tr.gettext("{time} o'clock").format(
                    time=_time_text(ctx, WEEKLY_PREVIEW_TIME)
                )
            ),
        ),
        (_("A single meeting:"), _("reminders of that meeting; subscribe on its card.")),
    ]
    blocks.append("\n".join(f"• <b>{label}</b> {text}" for label, text in choices))
    blocks.append(
        _(
            "Tap a button to switch it on (✅) or off (▫️). You choose when reminders arrive "
            "under {command}."
        ).format(command=command("erinnerungen"))
    )
    rows: list[tuple[Button, ...]] = list(button_rows(_network_toggles(ctx, followed), 2))
    rows.append((_toggle(ctx, callbacks.CODE_MEETINGS, _("All network meetings"), followed),))
    rows.append(
        (
            _toggle(ctx, callbacks.CODE_NEWS, _("News"), followed),
            _toggle(ctx, callbacks.CODE_WEEKLY, _("Weekly preview"), followed),
        )
    )
    rows.extend((button,) for button in _event_toggles(ctx, followed))
    rows.append(
        (
            Button(_("Reminder times"), data=callbacks.REM_OPEN),
            Button(_("Unsubscribe from everything"), data=callbacks.SUB_STOP_ASK),
        )
    )
    return Reply(fit(blocks), tuple(rows))


def lead_label(ctx: RenderContext, lead: Lead) -> str:
    """Return a lead time in words: "1 Woche vorher", "1 Tag vorher", "2 Stunden vorher"."""
    ngettext = ctx.tr.ngettext
    match lead:
        case Lead.WEEK:
            return ngettext("{count} week before", "{count} weeks before", 1).format(count=1)
        case Lead.DAY:
            return ngettext("{count} day before", "{count} days before", 1).format(count=1)
        case Lead.HOURS_2:
            return ngettext("{count} hour before", "{count} hours before", 2).format(count=2)


def _quiet_text(ctx: RenderContext, quiet: QuietHours, template: str) -> str:
    """Fill a translated template's {start} and {end} with the quiet hours' times."""
    return template.format(start=_time_text(ctx, quiet.start), end=_time_text(ctx, quiet.end))


def _parse_quiet(quiet: str | None) -> QuietHours | None:
    if quiet is None:
        return None
    try:
        return parse_quiet_hours(quiet)
    except ValueError:
        return None


def reminder_settings_panel(ctx: RenderContext, leads: frozenset[str], quiet: str | None) -> Reply:
    """Show /erinnerungen: lead times and quiet hours as toggles, with how they work.

    ``leads`` holds lead codes ("1w", "1d", "2h"); ``quiet`` is "22:00-07:00" or None.
    """
    _ = ctx.tr.gettext
    chosen = [lead for lead in Lead if lead.value in leads]
    current = _parse_quiet(quiet)
    blocks = ["<b>{}</b>".format(_("Reminder times"))]
    if chosen:
        blocks.append(
            _("I remind you of the meetings you follow: {leads}.").format(
                leads=format_list([lead_label(ctx, lead) for lead in chosen], ctx)
            )
        )
    else:
        blocks.append(_("No reminder time is switched on."))
    if current is not None:
        quiet_line = _quiet_text(ctx, current, _("Quiet hours: from {start} to {end}."))
    elif quiet:
        quiet_line = _("Quiet hours: {quiet}.").format(quiet=esc(quiet, 40))
    else:
        quiet_line = _("No quiet hours: reminders may arrive at any time of day.")
    minutes = int(QUIET_FALLBACK.total_seconds() // 60)
    blocks.append(
        quiet_line
        + " "
        + ctx.tr.ngettext(
            "Reminders that fall into the quiet hours arrive when they end, or {minutes} "
            "minute before they begin if the meeting starts earlier.",
            "Reminders that fall into the quiet hours arrive when they end, or {minutes} "
            "minutes before they begin if the meeting starts earlier.",
            minutes,
        ).format(minutes=minutes)
    )
    blocks.append(
        _(
            "For meetings without a known time, reminders arrive at {time}; the reminder "
            "{hours} is then left out."
        ).format(
            time=_("{time} o'clock").format(time=_time_text(ctx, DATE_ONLY_REMINDER_TIME)),
            hours=lead_label(ctx, Lead.HOURS_2),
        )
    )
    blocks.append(_("Tap a reminder time to switch it on (✅) or off (▫️), or choose quiet hours."))
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                f"{TICK if lead.value in leads else BOX} {lead_label(ctx, lead)}",
                data=callbacks.REM_LEAD + lead.value,
            ),
        )
        for lead in Lead
    ]
    quiet_buttons = [
        Button(
            f"{TICK if choice == current else BOX} "
            + _quiet_text(ctx, choice, _("{start} to {end}")),
            data=callbacks.REM_QUIET + code,
        )
        for code, choice in QUIET_CHOICES.items()
    ]
    none_mark = TICK if current is None and not quiet else BOX
    no_quiet = _("No quiet hours")
    quiet_buttons.append(Button(f"{none_mark} {no_quiet}", data=callbacks.REM_QUIET + QUIET_NONE))
    rows.extend(button_rows(quiet_buttons, 2))
    rows.append((Button(_("« Your subscriptions"), data=callbacks.SUB_OPEN),))
    return Reply(fit(blocks), tuple(rows))


def format_list(items: Sequence[str], ctx: RenderContext) -> str:
    """Join items the way the language does: "a, b und c"."""
    return babel_format_list(list(items), locale=ctx.tr.locale)


def stop_confirm_reply(ctx: RenderContext, count: int) -> Reply:
    """Ask before ending every subscription; with none, say there is nothing to end."""
    _ = ctx.tr.gettext
    if count <= 0:
        return Reply(
            _("You do not follow anything, so there is nothing to unsubscribe from."),
            ((Button(_("Show subscriptions"), data=callbacks.SUB_OPEN),),),
        )
    question = ctx.tr.ngettext(
        "Do you really want to end your {count} subscription?",
        "Do you really want to end all {count} subscriptions?",
        count,
    ).format(count=count)
    text = fit(
        [
            f"<b>{question}</b>",
            _("You will then receive no more reminders, news or weekly previews."),
        ]
    )
    buttons = (
        (
            Button(_("Yes, unsubscribe from everything"), data=callbacks.SUB_STOP_YES),
            Button(_("Cancel"), data=callbacks.SUB_STOP_NO),
        ),
    )
    return Reply(text, buttons)


def stopped_reply(ctx: RenderContext, removed: int) -> Reply:
    """Confirm that everything was unsubscribed, with an undo button."""
    _ = ctx.tr.gettext
    if removed <= 0:
        return Reply(
            _("You did not follow anything. You receive no reminders or news."),
            ((Button(_("Show subscriptions"), data=callbacks.SUB_OPEN),),),
        )
    done = ctx.tr.ngettext(
        "You have unsubscribed from everything ({count} subscription).",
        "You have unsubscribed from everything ({count} subscriptions).",
        removed,
    ).format(count=removed)
    text = fit(
        [
            "{} {}".format(done, _("You will no longer receive reminders or news.")),
            _(
                "Changed your mind? You can undo this right away, or subscribe again at any "
                "time under {command}."
            ).format(command=command("abo")),
        ]
    )
    return Reply(text, ((Button(_("Undo"), data=callbacks.SUB_UNDO),),))


def restored_reply(ctx: RenderContext, restored: int) -> Reply:
    """Confirm that the subscriptions ended by /stopp are active again."""
    _ = ctx.tr.gettext
    if restored <= 0:
        text = _("There was nothing to restore.")
    else:
        text = ctx.tr.ngettext(
            "Restored: your {count} subscription is active again.",
            "Restored: your {count} subscriptions are active again.",
            restored,
        ).format(count=restored)
    return Reply(text, ((Button(_("Show subscriptions"), data=callbacks.SUB_OPEN),),))
