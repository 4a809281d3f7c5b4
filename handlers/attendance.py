"""The "Ich komme" choice on meeting cards, and the admins' /teilnehmer with counts and CSV.

A press of "Ich komme" stores the choice (``storage.attendance``) and, in a private chat,
asks whether the organisers may see the person's name; "Doch nicht" deletes the entry with
any shared name. Only upcoming meetings take new choices. /teilnehmer (admins, private chat,
audited) lists the upcoming meetings with their numbers; a meeting's "Namensliste (CSV)"
sends the names people chose to share: their Telegram first name and, for a linked member,
the member name (looked up in the member directory at that moment).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final

from telegram import InputFile
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.views import attendance as views
from bot.views import callbacks
from bot.views.common import esc
from bot.views.replies import Reply
from handlers.guards import audit, require_private_admin
from handlers.respond import send_replies, show_in_place
from storage.members import DirectoryUnavailable

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

EVENT_ID: Final = r"[a-z0-9]+(?:-[a-z0-9]+)*"
AUDIT_VIEWED: Final = "attendance_viewed"
AUDIT_EXPORTED: Final = "attendance_exported"

log = logging.getLogger(__name__)


def _pattern(prefix: str, argument: str = EVENT_ID) -> str:
    return rf"^{re.escape(prefix)}{argument}$"


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("teilnehmer", list_meetings),
        CallbackQueryHandler(come, pattern=_pattern(callbacks.ATTEND_YES)),
        CallbackQueryHandler(not_come, pattern=_pattern(callbacks.ATTEND_NO)),
        CallbackQueryHandler(choose_name, pattern=_pattern(callbacks.ATTEND_NAME)),
        CallbackQueryHandler(choose_name, pattern=_pattern(callbacks.ATTEND_ANON)),
        CallbackQueryHandler(show_page, pattern=_pattern(callbacks.ATTENDEES_PAGE, r"\d{1,4}")),
        CallbackQueryHandler(show_meeting, pattern=_pattern(callbacks.ATTENDEES_SHOW)),
        CallbackQueryHandler(export_names, pattern=_pattern(callbacks.ATTENDEES_CSV)),
    ]


async def come(update: Update, context: BotContext) -> None:
    """Store "Ich komme"; in a private chat ask whether the name may be shared."""
    if (query := update.callback_query) is None or query.data is None:
        return
    ctx = await context.render_context()
    event = ctx.catalog.event(query.data.removeprefix(callbacks.ATTEND_YES))
    if event is None or not event.is_upcoming(ctx.now, ctx.tz):
        await query.answer(context.gettext("This meeting no longer takes registrations."))
        return
    services = context.services
    await services.stores.attendance.come(event.id, query.from_user.id, now=ctx.now)
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        # A shared card in a group (or an inline message): a short note, nothing public.
        await query.answer(views.coming_reply(ctx, event, ask_name=False).text, show_alert=False)
        return
    await query.answer()
    reply = views.coming_reply(ctx, event, ask_name=True)
    await context.bot.send_message(chat.id, reply.text, reply_markup=reply.markup())


async def not_come(update: Update, context: BotContext) -> None:
    """Delete "Ich komme" (and a shared name)."""
    if (query := update.callback_query) is None or query.data is None:
        return
    ctx = await context.render_context()
    event_id = query.data.removeprefix(callbacks.ATTEND_NO)
    event = ctx.catalog.event(event_id)
    was = await context.services.stores.attendance.not_come(event_id, query.from_user.id)
    if event is None:
        await query.answer(context.gettext("This meeting is no longer in my data."))
        return
    await query.answer(views.not_coming_text(ctx, event, was_coming=was), show_alert=True)


async def choose_name(update: Update, context: BotContext) -> None:
    """Share the first name with the organisers, or count without it."""
    if (query := update.callback_query) is None or query.data is None:
        return
    shared = query.data.startswith(callbacks.ATTEND_NAME)
    prefix = callbacks.ATTEND_NAME if shared else callbacks.ATTEND_ANON
    event_id = query.data.removeprefix(prefix)
    user = query.from_user
    first_name = user.first_name if shared else None
    ctx = await context.render_context()
    store = context.services.stores.attendance
    if not await store.share_name(event_id, user.id, first_name):
        await query.answer(
            context.gettext("You are not on the list for this meeting; press “I'm coming” first.")
        )
        return
    await show_in_place(query, Reply(views.name_choice_text(ctx, shared=shared)))


async def _counts(context: BotContext) -> dict[str, tuple[int, int]]:
    counts = await context.services.stores.attendance.counts()
    return {event_id: (c.coming, c.named) for event_id, c in counts.items()}


async def list_meetings(update: Update, context: BotContext) -> None:
    """Show the upcoming meetings with how many said they come (admins, private chat)."""
    if not await require_private_admin(update, context):
        return
    await audit(context, update, AUDIT_VIEWED)
    ctx = await context.render_context()
    await send_replies(update, [views.attendees_list(ctx, await _counts(context), 0)])


async def show_page(update: Update, context: BotContext) -> None:
    """Show another page of the meeting picker."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if not await require_private_admin(update, context):
        return
    page = int(query.data.removeprefix(callbacks.ATTENDEES_PAGE))
    ctx = await context.render_context()
    await show_in_place(query, views.attendees_list(ctx, await _counts(context), page))


async def show_meeting(update: Update, context: BotContext) -> None:
    """Show one meeting's numbers."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if not await require_private_admin(update, context):
        return
    ctx = await context.render_context()
    event = ctx.catalog.event(query.data.removeprefix(callbacks.ATTENDEES_SHOW))
    if event is None:
        await query.answer(context.gettext("This meeting is no longer in my data."))
        return
    count = await context.services.stores.attendance.count(event.id)
    await audit(context, update, AUDIT_VIEWED, event_id=event.id)
    await show_in_place(query, views.attendees_reply(ctx, event, count.coming, count.named))


async def export_names(update: Update, context: BotContext) -> None:
    """Send the names people chose to share as a CSV document (audited with the count)."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if not await require_private_admin(update, context) or update.effective_chat is None:
        return
    _ = context.gettext
    ctx = await context.render_context()
    event = ctx.catalog.event(query.data.removeprefix(callbacks.ATTENDEES_CSV))
    if event is None:
        await query.answer(_("This meeting is no longer in my data."))
        return
    stores = context.services.stores
    attendees = await stores.attendance.named(event.id)
    rows: list[tuple[str, str | None]] = []
    directory_down = False
    for attendee in attendees:
        member_name = None
        if not directory_down:
            try:
                member = await stores.members.linked_to(attendee.user_id)
            except DirectoryUnavailable:
                directory_down = True  # the first names still go out; said below
            else:
                member_name = None if member is None else member.name
        rows.append((attendee.first_name, member_name))
    await query.answer()
    await audit(context, update, AUDIT_EXPORTED, event_id=event.id, names=len(rows))
    caption = _("Participants who share their name: {title}").format(title=esc(event.title, 200))
    if directory_down:
        caption += "\n" + _("The member directory cannot be reached; member names are missing.")
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(views.attendees_csv(ctx, rows), filename=f"teilnehmer-{event.id}.csv"),
        caption=caption,
    )
