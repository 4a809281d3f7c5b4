"""/termine, /treffen, /kalender: meetings, event cards, .ics files and calendar feeds."""

from __future__ import annotations

import html
import logging
import re
from textwrap import shorten
from typing import TYPE_CHECKING, Any

from telegram import InputFile
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.domain.ics import event_to_ics
from bot.views import catalog
from bot.views.calendar import calendar_reply
from bot.views.callbacks import EVENT_ICS, EVENT_MAP, EVENT_SHOW, EVENTS_PAST, EVENTS_UPCOMING
from handlers.respond import send_replies, show_in_place

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

EVENT_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
PAGE = r"\d{1,4}"
VENUE_TITLE_MAX = 200  # characters of a venue's title and address (shown in one line each)

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("termine", list_upcoming),
        CommandHandler("treffen", show_next_event),
        CommandHandler("kalender", show_calendars),
        CallbackQueryHandler(show_event_page, pattern=rf"^{re.escape(EVENTS_UPCOMING)}{PAGE}$"),
        CallbackQueryHandler(show_event_page, pattern=rf"^{re.escape(EVENTS_PAST)}{PAGE}$"),
        CallbackQueryHandler(show_event, pattern=rf"^{re.escape(EVENT_SHOW)}{EVENT_ID}$"),
        CallbackQueryHandler(send_ics, pattern=rf"^{re.escape(EVENT_ICS)}{EVENT_ID}$"),
        CallbackQueryHandler(send_map, pattern=rf"^{re.escape(EVENT_MAP)}{EVENT_ID}$"),
    ]


async def list_upcoming(update: Update, context: BotContext) -> None:
    """Show the upcoming meetings (first page)."""
    ctx = await context.render_context()
    await send_replies(update, [catalog.event_list(ctx, past=False, page=0)])


async def show_next_event(update: Update, context: BotContext) -> None:
    """Show the next meeting."""
    await send_replies(update, [catalog.next_event_reply(await context.render_context())])


async def show_calendars(update: Update, context: BotContext) -> None:
    """Give the calendar feeds' webcal:// links (or say that there are none here)."""
    await send_replies(update, [calendar_reply(await context.render_context())])


async def show_event_page(update: Update, context: BotContext) -> None:
    """Show a page of upcoming or past meetings in place of the pressed message."""
    if (query := update.callback_query) is None or query.data is None:
        return
    past = query.data.startswith(EVENTS_PAST)
    page = int(query.data.rsplit(":", 1)[1])
    await show_in_place(
        query, catalog.event_list(await context.render_context(), past=past, page=page)
    )


async def show_event(update: Update, context: BotContext) -> None:
    """Show the card of the event whose button was pressed."""
    if (query := update.callback_query) is None or query.data is None:
        return
    ctx = await context.render_context()
    event = ctx.catalog.event(query.data.removeprefix(EVENT_SHOW))
    if event is None:
        await query.answer(context.gettext("This meeting is no longer in my data."))
        return
    await show_in_place(query, catalog.event_card(ctx, event))


async def send_ics(update: Update, context: BotContext) -> None:
    """Send the event as an .ics file for the person's calendar."""
    if (query := update.callback_query) is None or query.data is None:
        return
    _ = context.gettext
    ctx = await context.render_context()
    event = ctx.catalog.event(query.data.removeprefix(EVENT_ICS))
    if event is None or event.date is None:
        await query.answer(
            _("There is no calendar entry for this meeting, as its date is unknown.")
        )
        return
    await query.answer()
    payload = event_to_ics(
        event,
        ctx.catalog,
        now=ctx.now,
        version=await context.services.catalog.version(event.id),
        fictional_note=_("Note: this is an invented demo event."),
        tz=ctx.tz,
    )
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_document(
        chat.id,
        InputFile(payload, filename=f"{event.id}.ics"),
        caption=_("Calendar entry: {title}").format(title=html.escape(shorten(event.title, 900))),
    )


async def send_map(update: Update, context: BotContext) -> None:
    """Send the meeting's venue as a Telegram venue (a map pin with title and address)."""
    if (query := update.callback_query) is None or query.data is None:
        return
    ctx = await context.render_context()
    event = ctx.catalog.event(query.data.removeprefix(EVENT_MAP))
    chat = update.effective_chat
    if event is None or event.latitude is None or event.longitude is None or chat is None:
        await query.answer(context.gettext("There is no map position for this meeting."))
        return
    await query.answer()
    place = ", ".join(p for p in (event.city, event.region) if p)
    title = event.venue or event.title
    await context.bot.send_venue(
        chat.id,
        latitude=event.latitude,
        longitude=event.longitude,
        title=shorten(" ".join(title.split()), VENUE_TITLE_MAX),
        address=shorten(" ".join((place or event.title).split()), VENUE_TITLE_MAX),
    )
