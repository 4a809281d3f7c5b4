"""/erinnerungen: when reminders arrive (lead times) and when never (quiet hours)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.domain.schedule import DEFAULT_LEADS, Lead, parse_quiet_code
from bot.views import callbacks, panels
from handlers.guards import SubscriberChat, subscriber_chat
from handlers.respond import send_replies, show_in_place

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext
    from bot.views.replies import Reply

LEAD_CODES: Final = "|".join(re.escape(lead.value) for lead in Lead)
QUIET_CODE: Final = r"(?:none|[0-2]\d[0-5]\d-[0-2]\d[0-5]\d)"
AT: Final = callbacks.FOR_CHAT_PATTERN  # a channel's panel names the channel first


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("erinnerungen", show_settings),
        CallbackQueryHandler(open_settings, pattern=rf"^{AT}{re.escape(callbacks.REM_OPEN)}$"),
        CallbackQueryHandler(
            toggle_lead, pattern=rf"^{AT}{re.escape(callbacks.REM_LEAD)}(?:{LEAD_CODES})$"
        ),
        CallbackQueryHandler(
            set_quiet, pattern=rf"^{AT}{re.escape(callbacks.REM_QUIET)}{QUIET_CODE}$"
        ),
    ]


async def settings_panel(context: BotContext, target: SubscriberChat) -> Reply:
    """Render the reminder settings of a chat (defaults for someone new)."""
    ctx = await context.render_context()
    subscriber = await context.services.stores.subscriptions.get(
        target.chat_id, now=context.services.clock.now()
    )
    leads: tuple[Lead, ...]
    if subscriber is None:
        leads, quiet = DEFAULT_LEADS, context.services.settings.quiet_hours
    else:
        leads, quiet = subscriber.leads, subscriber.quiet
    reply = panels.reminder_settings_panel(
        ctx,
        frozenset(lead.value for lead in leads),
        quiet,
    )
    return target.present(ctx, reply)


async def show_settings(update: Update, context: BotContext) -> None:
    """Show the reminder settings."""
    if (target := await subscriber_chat(update, context, change=False)) is None:
        return
    await send_replies(update, [await settings_panel(context, target)])


async def open_settings(update: Update, context: BotContext) -> None:
    """Show the reminder settings in place of the pressed message."""
    if (query := update.callback_query) is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    await show_in_place(query, await settings_panel(context, target))


async def toggle_lead(update: Update, context: BotContext) -> None:
    """Switch one lead time on or off (at least one stays on)."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    lead = Lead(callbacks.split_chat(query.data)[1].removeprefix(callbacks.REM_LEAD))
    store = context.services.stores.subscriptions
    subscriber = await store.get(target.chat_id, now=context.services.clock.now())
    current = set(subscriber.leads if subscriber else DEFAULT_LEADS)
    wanted = current ^ {lead}
    if not wanted:
        await query.answer(
            context.gettext(
                "At least one reminder time must stay on. To get no messages at all, use /stopp."
            ),
            show_alert=True,
        )
        return
    ordered = tuple(item for item in Lead if item in wanted)
    await store.set_leads(target.chat_id, ordered, now=context.services.clock.now())
    await show_in_place(query, await settings_panel(context, target))


async def set_quiet(update: Update, context: BotContext) -> None:
    """Choose the quiet hours."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    try:
        quiet = parse_quiet_code(
            callbacks.split_chat(query.data)[1].removeprefix(callbacks.REM_QUIET)
        )
    except ValueError:
        await query.answer(context.gettext("This button is no longer valid. Please send /start."))
        return
    store = context.services.stores.subscriptions
    await store.set_quiet(target.chat_id, quiet, now=context.services.clock.now())
    await show_in_place(query, await settings_panel(context, target))
