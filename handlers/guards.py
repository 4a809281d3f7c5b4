"""Admin checks: who may do what, the admins' own command menu, and the audit log.

Every admin handler starts with ``if not await require_admin(update, context): return``; a
non-admin gets a polite German refusal and nothing else happens.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.views.commands import ADMIN_COMMANDS, MEMBER_COMMANDS

if TYPE_CHECKING:
    from telegram import Bot, Update

    from bot.context import BotContext
    from bot.i18n import Translator

log = logging.getLogger(__name__)


async def require_admin(update: Update, context: BotContext) -> bool:
    """Return True for an admin; refuse anyone else politely and return False."""
    user = update.effective_user
    if user is not None and await context.services.stores.admins.is_admin(user.id):
        return True
    log.info("Refused an admin action to a non-admin (update %s)", update.update_id)
    text = context.gettext("Sorry, you do not have the rights for that.")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, do_quote=False)
    return False


async def audit(context: BotContext, update: Update, action: str, **detail: Any) -> None:
    """Record an admin action: who, when, what (never message texts or secrets)."""
    user = update.effective_user
    await context.services.stores.admins.audit(
        user.id if user else None, action, detail, now=context.services.clock.now()
    )


def admin_menu(tr: Translator) -> list[BotCommand]:
    """Return an admin's command menu: the member commands, then the admin commands."""
    return [
        BotCommand(c.name, tr.gettext(c.description)) for c in MEMBER_COMMANDS + ADMIN_COMMANDS
    ]


async def set_admin_menu(bot: Bot, tr: Translator, chat_id: int) -> bool:
    """Set an admin's own menu in their private chat; a failure is logged, never fatal."""
    try:
        await bot.set_my_commands(admin_menu(tr), scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        log.warning("Could not set an admin's command menu", exc_info=True)
        return False
    return True


async def delete_admin_menu(bot: Bot, chat_id: int) -> None:
    """Remove a former admin's own menu; a failure is logged, never fatal."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        log.warning("Could not delete a former admin's command menu", exc_info=True)


async def ensure_admin_menu(update: Update, context: BotContext) -> None:
    """Set an admin's menu once they have a private chat with the bot (every update asks)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != chat.PRIVATE:
        return
    admins = context.services.stores.admins
    if not await admins.is_admin(user.id) or await admins.menu_set(user.id):
        return
    if await set_admin_menu(context.bot, context.services.tr, chat.id):
        await admins.record_menu(user.id, now=context.services.clock.now())


async def private_chat(update: Update, context: BotContext) -> int | None:
    """Return the private chat's id, or tell the person that this works only there."""
    chat = update.effective_chat
    if chat is not None and chat.type == chat.PRIVATE:
        return chat.id
    text = context.gettext("Subscriptions are only available in a private chat with me.")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, do_quote=False)
    return None
