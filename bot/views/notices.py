"""Reminders, change and cancellation notices and the weekly preview."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final

from babel.dates import format_date

from bot.views import callbacks
from bot.views.attendance import reminder_line
from bot.views.catalog import fit_with_note, status_text
from bot.views.common import (
    RenderContext,
    capitalized,
    day_word,
    esc,
    event_button,
    event_day,
    event_place,
    event_start_text,
    fictional_list_note,
    fictional_note,
    fit,
    format_event_when,
    labelled,
    moment_text,
    time_text,
    venue_link,
)
from bot.views.replies import MAX_TEXT, Button, Reply

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bot.domain.models import Event


MAX_PREVIEW_BUTTONS: Final = 10


CHANGE_KINDS: Final = ("date", "time", "place", "status")


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
        lines.append(labelled(_("Venue:"), venue_link(event)))
    if event.venue_note:
        if event.venue:
            lines.append(labelled(_("Note on the venue:"), esc(event.venue_note, 300)))
        else:
            lines.append(esc(event.venue_note, 300))
    return lines


def reminder_reply(ctx: RenderContext, event: Event, *, coming: bool = False) -> Reply:
    """Remind of an event: day word, German date and time, title, place, venue.

    ``coming``: the person said "Ich komme"; the reminder says so.
    """
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
    if coming:
        lines.append(reminder_line(ctx))
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
            return ctx.tr.gettext("{time} o'clock").format(time=time_text(ctx, local.time()))
        return moment_text(ctx, old_start)
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
            labelled(label, _with_old(ctx, when, _old_when(ctx, event, payload, changes)))
        )
    if "place" in changes:
        old_place = _payload_text(payload, "old_place")
        lines.append(
            labelled(
                _("New place:"),
                _with_old(ctx, place or _("not known yet"), esc(old_place or "", 300)),
            )
        )
    if "status" in changes:
        lines.append(labelled(_("New status:"), status_text(ctx, event)))
    if not lines:
        lines.append(_("The details of this meeting have changed."))
    if "date" not in changes and "time" not in changes:
        lines.append(labelled(_("When:"), when))
    if "place" not in changes and place:
        lines.append(labelled(_("Where:"), place))
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
            moment_text(ctx, old_start)
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
    return Reply(fit_with_note(blocks, fictional, ctx), (*rows, manage))
