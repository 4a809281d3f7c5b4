"""Admin management: add and remove admins, read the audit log, keep the admins' menus.

``/unbeantwortet`` shows the admins the latest messages the bot could not answer (text and
time only), in a private chat, audited like every admin action.
"""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING, Any, Final

from babel.dates import format_datetime
from telegram import Update
from telegram.ext import CommandHandler, TypeHandler

from bot.views.common import esc, fit, visible_length
from bot.views.statistics import statistics_text
from handlers.guards import (
    audit,
    delete_admin_menu,
    ensure_admin_menu,
    require_private_admin,
    set_admin_menu,
)
from storage.admins import LastAdminError, PermanentAdminError
from storage.stats import report
from storage.unanswered import KEEP

if TYPE_CHECKING:
    from telegram.ext import BaseHandler

    from bot.context import BotContext

USER_ID: Final = re.compile(r"^\d{1,20}$")
AUDIT_ENTRIES: Final = 20
DETAIL_LIMIT: Final = 120
UNANSWERED_ENTRIES: Final = 20
# In the chat a kept text (up to 500 characters) is shortened so that 20 fit one message;
# ``netzwerkbot unanswered`` prints them in full.
UNANSWERED_LIMIT: Final = 170
KEEP_DAYS: Final = KEEP.days


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("admin_hinzufuegen", add_admin),
        CommandHandler("admin_entfernen", remove_admin),
        CommandHandler("protokoll", show_audit),
        CommandHandler("statistik", show_statistics),
        CommandHandler("unbeantwortet", show_unanswered),
    ]


def menu_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return the handler that sets an admin's menu once they write (runs before features)."""
    return [TypeHandler(Update, ensure_menu, block=False)]


async def ensure_menu(update: Update, context: BotContext) -> None:
    """Set the admin command menu for an admin who has a chat with the bot."""
    await ensure_admin_menu(update, context)


async def _target(update: Update, context: BotContext, usage: str) -> int | None:
    """Return the one user id an admin command names, or show the usage and return None."""
    if not await require_private_admin(update, context) or update.effective_message is None:
        return None
    args = context.args or []
    if len(args) == 1 and USER_ID.match(args[0]):
        return int(args[0])
    await update.effective_message.reply_text(usage, do_quote=False)
    return None


async def add_admin(update: Update, context: BotContext) -> None:
    """Make the Telegram user with the given id an admin."""
    _ = context.gettext
    usage = _("Please give the Telegram user id, for example: /admin_hinzufuegen 123456789")
    if (user_id := await _target(update, context, usage)) is None or not update.effective_message:
        return
    actor = update.effective_user.id if update.effective_user else 0
    services = context.services
    added = await services.stores.admins.add(user_id, by=actor, now=services.clock.now())
    if not added:
        text = _("User {user_id} is already an admin.")
    else:
        text = _("User {user_id} is now an admin.")
        # Works only once they have a chat with the bot; otherwise it is set when they write.
        if await set_admin_menu(context.bot, services.tr, user_id):
            await services.stores.admins.record_menu(user_id, now=services.clock.now())
    await update.effective_message.reply_text(text.format(user_id=user_id), do_quote=False)


async def remove_admin(update: Update, context: BotContext) -> None:
    """Remove an admin added in the chat (never a permanent one, never the last one)."""
    _ = context.gettext
    usage = _("Please give the Telegram user id, for example: /admin_entfernen 123456789")
    if (user_id := await _target(update, context, usage)) is None or not update.effective_message:
        return
    actor = update.effective_user.id if update.effective_user else 0
    services = context.services
    try:
        removed = await services.stores.admins.remove(user_id, by=actor, now=services.clock.now())
    except PermanentAdminError:
        text = _(
            "User {user_id} is an admin through the bot's configuration (NETZWERKBOT_ADMINS) "
            "and can only be removed there."
        )
    except LastAdminError:
        text = _("User {user_id} is the last admin and cannot be removed.")
    else:
        if removed:
            await delete_admin_menu(context.bot, user_id)
            text = _("User {user_id} is no longer an admin.")
        else:
            text = _("User {user_id} is not an admin.")
    await update.effective_message.reply_text(text.format(user_id=user_id), do_quote=False)


async def show_audit(update: Update, context: BotContext) -> None:
    """Show the latest admin actions."""
    if not await require_private_admin(update, context) or update.effective_message is None:
        return
    await audit(context, update, "audit_viewed")
    services = context.services
    tr = services.tr
    entries = await services.stores.admins.latest(AUDIT_ENTRIES)
    title = tr.gettext("Latest admin actions")
    lines = [f"<b>{html.escape(title)}</b>", ""]
    for entry in entries:
        when = format_datetime(
            entry.at, "short", tzinfo=services.settings.timezone, locale=tr.locale
        )
        detail = json.dumps(dict(entry.detail), ensure_ascii=False)
        if len(detail) > DETAIL_LIMIT:
            detail = detail[: DETAIL_LIMIT - 1] + "…"
        lines.append(
            tr.gettext("{when}: {actor} - {action} {detail}").format(
                when=html.escape(when),
                actor=entry.actor if entry.actor is not None else "-",
                action=f"<code>{html.escape(entry.action)}</code>",
                detail=html.escape(detail) if entry.detail else "",
            )
        )
    if not entries:
        lines.append(html.escape(tr.gettext("No admin actions have been recorded yet.")))
    await update.effective_message.reply_text("\n".join(lines), do_quote=False)


async def show_statistics(update: Update, context: BotContext) -> None:
    """Show the numbers: subscribers, circulars, reminders, questions (private chat only)."""
    # The numbers are for the admins, not for everyone in a group.
    if not await require_private_admin(update, context) or update.effective_message is None:
        return
    await audit(context, update, "statistics_viewed")
    services = context.services
    numbers = await report(services.stores.db, services.clock.now())
    ctx = await context.render_context()
    text = statistics_text(numbers, ctx.catalog, services.tr, services.settings.timezone)
    await update.effective_message.reply_text(text, do_quote=False)


async def show_unanswered(update: Update, context: BotContext) -> None:
    """Show the latest 20 messages the bot could not answer, with their German times."""
    if not await require_private_admin(update, context):
        return
    if (message := update.effective_message) is None:
        return
    await audit(context, update, "unanswered_viewed")
    services = context.services
    tr = services.tr
    entries = await services.stores.unanswered.latest(
        now=services.clock.now(), limit=UNANSWERED_ENTRIES
    )
    blocks = ["<b>{}</b>".format(html.escape(tr.gettext("Questions I could not answer")))]
    for entry in entries:
        when = format_datetime(
            entry.at, "short", tzinfo=services.settings.timezone, locale=tr.locale
        )
        blocks.append(f"<i>{html.escape(when)}</i>\n{esc(entry.text, UNANSWERED_LIMIT)}")
    if entries:
        blocks.append(
            html.escape(
                tr.gettext(
                    "The latest {count} of the last 30 days, newest first; older ones are "
                    "deleted. The operator can print them in full with: {command}"
                ).format(count=len(entries), command="netzwerkbot unanswered")
            )
        )
    else:
        blocks.append(
            html.escape(
                tr.ngettext(
                    "No unanswered questions in the last day.",
                    "No unanswered questions in the last {days} days.",
                    KEEP_DAYS,
                ).format(days=KEEP_DAYS)
            )
        )
    # Counted as Telegram counts: a kept "&" or "'" is one character, not the 5 of "&amp;".
    await message.reply_text(fit(blocks, size_of=visible_length), do_quote=False)
