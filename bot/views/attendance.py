"""The "Ich komme" buttons on cards, the answers to a choice, the admins' /teilnehmer views.

The card is the same for everyone (it is shared, forwarded, shown in groups), so it offers
both "Ich komme" and "Doch nicht"; the answer to a press says what is now stored.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Final

from bot.views import callbacks
from bot.views.common import esc, event_button, format_event_when, labelled, paginate
from bot.views.replies import Button, Reply

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bot.domain.models import Event
    from bot.views.common import RenderContext

PICK_PAGE_SIZE: Final = 8


def attend_buttons(ctx: RenderContext, event: Event) -> tuple[Button, ...]:
    """Return the card's "Ich komme" / "Doch nicht" row (upcoming meetings only)."""
    if not event.is_upcoming(ctx.now, ctx.tz):
        return ()
    _ = ctx.tr.gettext
    return (
        Button(_("✋ I'm coming"), data=callbacks.attend(callbacks.ATTEND_YES, event.id)),
        Button(_("Not after all"), data=callbacks.attend(callbacks.ATTEND_NO, event.id)),
    )


def coming_reply(ctx: RenderContext, event: Event, *, ask_name: bool) -> Reply:
    """Confirm "Ich komme"; in a private chat ask whether the organisers may see the name."""
    _ = ctx.tr.gettext
    text = _("Noted: you are coming to {title} ({when}).").format(
        title=f"<b>{esc(event.title, 200)}</b>", when=format_event_when(ctx, event)
    )
    if not ask_name:
        return Reply(text)
    text += "\n\n" + _(
        "May the organisers see your name on the list of participants? That is your "
        "Telegram first name and, if this chat is linked to your membership, the name of "
        "your membership. Otherwise you are only counted."
    )
    buttons = (
        (
            Button(_("Share my name"), data=callbacks.attend(callbacks.ATTEND_NAME, event.id)),
            Button(_("Only count me"), data=callbacks.attend(callbacks.ATTEND_ANON, event.id)),
        ),
    )
    return Reply(text, buttons)


def not_coming_text(ctx: RenderContext, event: Event, *, was_coming: bool) -> str:
    """Confirm "Doch nicht" (plain text for the button's answer)."""
    _ = ctx.tr.gettext
    if was_coming:
        return _("Noted: you are no longer on the list for this meeting.")
    return _("You had not said that you are coming to this meeting.")


def name_choice_text(ctx: RenderContext, *, shared: bool) -> str:
    """Confirm the name choice."""
    _ = ctx.tr.gettext
    if shared:
        return _(
            "Thank you. The organisers see your name on the list; “Only count me” or "
            "“Not after all” takes it off again."
        )
    return _("Thank you. You are counted, without your name.")


def reminder_line(ctx: RenderContext) -> str:
    """Return the reminder's line for someone who said they come."""
    return ctx.tr.gettext("You said you are coming. We look forward to seeing you!")


def _count_text(ctx: RenderContext, coming: int, named: int) -> str:
    return ctx.tr.ngettext(
        "{count} person is coming, {named} of them with their name.",
        "{count} people are coming, {named} of them with their name.",
        coming,
    ).format(count=coming, named=named)


def attendees_list(ctx: RenderContext, counts: Mapping[str, tuple[int, int]], page: int) -> Reply:
    """List the upcoming meetings with their numbers, as buttons (an admin's /teilnehmer)."""
    _ = ctx.tr.gettext
    events = ctx.catalog.upcoming_events(ctx.now)
    if not events:
        return Reply(_("There are no upcoming meetings."))
    shown, page, pages = paginate(events, page, PICK_PAGE_SIZE)
    head = "<b>{}</b>".format(_("Who is coming? Choose a meeting."))
    if pages > 1:
        head += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    rows: list[tuple[Button, ...]] = []
    for event in shown:
        coming, _named = counts.get(event.id, (0, 0))
        label = event_button(ctx, event).label
        rows.append((Button(f"{label} · {coming}", data=f"{callbacks.ATTENDEES_SHOW}{event.id}"),))
    nav = []
    if page > 0:
        nav.append(Button(_("‹ Back"), data=f"{callbacks.ATTENDEES_PAGE}{page - 1}"))  # noqa: RUF001 - typographic mark intended
    if page < pages - 1:
        nav.append(Button(_("Next ›"), data=f"{callbacks.ATTENDEES_PAGE}{page + 1}"))  # noqa: RUF001 - typographic mark intended
    if nav:
        rows.append(tuple(nav))
    return Reply(head, tuple(rows))


def attendees_reply(ctx: RenderContext, event: Event, coming: int, named: int) -> Reply:
    """Show one meeting's numbers, with the CSV export when someone shared their name."""
    _ = ctx.tr.gettext
    lines = [
        f"<b>{esc(event.title, 200)}</b>",
        labelled(_("When:"), format_event_when(ctx, event)),
        _count_text(ctx, coming, named),
    ]
    rows: list[tuple[Button, ...]] = []
    if named:
        rows.append(
            (Button(_("List of names (CSV)"), data=f"{callbacks.ATTENDEES_CSV}{event.id}"),)
        )
    rows.append((Button(_("« All meetings"), data=f"{callbacks.ATTENDEES_PAGE}0"),))
    return Reply("\n".join(lines), tuple(rows))


def attendees_csv(ctx: RenderContext, names: Sequence[tuple[str, str | None]]) -> bytes:
    """Return the shared names as CSV (UTF-8 with BOM and ";", as German spreadsheets expect).

    One row per person: the Telegram first name and, for linked members, the member name.
    """
    _ = ctx.tr.gettext
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("First name (Telegram)"), _("Member name")])
    for first_name, member_name in names:
        writer.writerow([_defused(first_name), _defused(member_name or "")])
    return ("\ufeff" + out.getvalue()).encode()


def _defused(value: str) -> str:
    """Keep a spreadsheet from reading a name as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
