"""Cards and lists for networks and events: the catalog's facts as German HTML replies."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Final

from bot.views import callbacks
from bot.views.attendance import attend_buttons
from bot.views.calendar import subscribe_button
from bot.views.commands import MEMBER_COMMANDS
from bot.views.common import (
    RenderContext,
    bullets,
    button_rows,
    esc,
    event_button,
    event_date_short,
    event_place,
    fictional_list_note,
    fictional_note,
    fit,
    format_event_when,
    labelled,
    link,
    long_date,
    network_button,
    network_display_name,
    paginate,
    source_line,
    venue_link,
)
from bot.views.panels import FEATURE_SUBSCRIPTIONS
from bot.views.replies import MAX_TEXT, Button, Reply

if TYPE_CHECKING:
    from bot.domain.models import Event, Network


PAGE_SIZE: Final = 6


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
    place = labelled(_("Region:"), esc(network.region, 200))
    if network.city and network.city != network.region:
        place += "\n" + labelled(_("City:"), esc(network.city, 200))
    blocks = [head, place, esc(network.description)]
    people = []
    if network.led_by:
        people.append(labelled(_("Led by:"), esc(network.led_by, 200)))
    if network.supported_by:
        people.append(labelled(_("Supported by:"), esc(network.supported_by, 200)))
    blocks.append("\n".join(people))
    if network.figures:
        blocks.append(
            "<b>{}</b>\n".format(_("Key figures:"))
            + "\n".join(
                f"• {_figure_label(ctx, key)}: {esc(value, 200)}" for key, value in network.figures
            )
        )
    if network.website:
        blocks.append(labelled(_("Website:"), link(network.website, network.website)))
    events = catalog.events_of_network(network.slug)
    if events:
        lines = [f"• {esc(e.title, 150)} – {event_date_short(ctx, e)}" for e in events]  # noqa: RUF001 - typographic mark intended
        blocks.append("<b>{}</b>\n{}".format(_("Meetings:"), "\n".join(lines)))
        if any(e.fictional for e in events):
            blocks.append(fictional_list_note(ctx))
    if network.facts:
        blocks.append("<b>{}</b>\n{}".format(_("Facts:"), bullets(network.facts, 400)))
    if network.membership_basis:
        blocks.append(labelled(_("Member because:"), esc(network.membership_basis, 300)))
    blocks.append(source_line(ctx, catalog.sources_of(network.sources)))
    buttons: list[tuple[Button, ...]] = [(event_button(ctx, e),) for e in events[:6]]
    if network.website:
        buttons.append((Button(_("Website"), url=network.website),))
    if FEATURE_SUBSCRIPTIONS in ctx.features:
        code = callbacks.network_code(network.slug)
        buttons.append((Button(_("🔔 Subscribe"), data=callbacks.subscribe(code)),))
    buttons.append((Button(_("« All networks"), data=callbacks.NETWORK_LIST),))
    return Reply(fit_with_note(blocks, any(e.fictional for e in events), ctx), tuple(buttons))


def fit_with_note(blocks: list[str], fictional: bool, ctx: RenderContext) -> str:
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


def status_text(ctx: RenderContext, event: Event) -> str:
    """Return the word for a meeting's status (took place, announced, planned, cancelled)."""
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
    facts = [labelled(_("When:"), format_event_when(ctx, event))]
    if event.status == "cancelled":
        facts.append("<b>{}</b>".format(_("This event has been cancelled.")))
    else:
        facts.append(labelled(_("Status:"), status_text(ctx, event)))
    place = event_place(ctx, event)
    if place:
        facts.append(labelled(_("Where:"), place))
    if event.venue:
        facts.append(labelled(_("Venue:"), venue_link(event)))
    if event.venue_note:
        label = _("Note on the venue:") if event.venue else _("Venue:")
        facts.append(labelled(label, esc(event.venue_note, 300)))
    if event.hosts:
        facts.append(labelled(_("Hosts:"), ", ".join(esc(h.name, 120) for h in event.hosts)))
    if event.host_note:
        facts.append(labelled(_("Hosts:"), esc(event.host_note, 300)))
    if event.audience:
        facts.append(labelled(_("Audience:"), esc(event.audience, 300)))
    blocks = [head, "\n".join(facts)]
    if event.programme:
        blocks.append(
            "<b>{}</b>\n{}".format(_("Programme:"), "\n".join(_programme_lines(ctx, event)))
        )
    if event.speakers_note:
        blocks.append(labelled(_("Speakers:"), esc(event.speakers_note, 300)))
    if event.outcomes:
        blocks.append("<b>{}</b>\n{}".format(_("Outcomes:"), bullets(event.outcomes, 500)))
    if event.regions_present:
        blocks.append(
            labelled(
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
        if (subscribe := subscribe_button(ctx, event)) is not None:
            rows.append((subscribe,))
    if event.latitude is not None and event.longitude is not None:
        rows.append((Button(_("🗺 On the map"), data=callbacks.event_map(event.id)),))
    upcoming = event.is_upcoming(ctx.now, ctx.tz)
    if attend := attend_buttons(ctx, event):
        rows.append(attend)
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
    return Reply(fit_with_note(blocks, fictional, ctx), tuple(rows))


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
        "<b>{}</b> {}".format(
            _("Groups and sharing:"),
            _(
                "A network's group can follow topics too: its administrators choose them "
                "with /abo in the group, and there I answer questions that mention me. In any "
                "chat, type @ and my name followed by a place or network, for example "
                "“Karlsruhe”, to share a meeting's card."
            ),
        ),
    ]
    buttons = (
        (
            Button(_("Networks"), data=callbacks.NETWORK_LIST),
            Button(_("Meetings"), data=callbacks.events_upcoming(0)),
        ),
    )
    return Reply(fit(blocks), buttons)
