"""Admin checks: who may do what, the admins' own command menu, and the audit log.

Every admin handler starts with ``if not await require_admin(update, context): return``; a
non-admin gets a polite German refusal and nothing else happens.

Whose subscriptions a panel changes (:func:`subscriber_chat`): a private chat its own; a group
its own, changed only by the group's administrators, asked with ``getChatMember`` at every
change (never cached: an admin demoted a minute ago may no longer change anything); a
connected channel's, from an alliance admin's private chat (the callback data names the
channel), by an alliance admin who is also the channel's administrator, checked at every press.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from telegram import BotCommand, BotCommandScopeChat, Chat, ChatMember
from telegram.error import TelegramError

from bot.views import callbacks, panels
from bot.views.commands import ADMIN_COMMANDS, MEMBER_COMMANDS

if TYPE_CHECKING:
    from telegram import Bot, Update

    from bot.context import BotContext
    from bot.i18n import Translator
    from bot.views.common import RenderContext
    from bot.views.replies import Reply

log = logging.getLogger(__name__)

# Who may change a group's or channel's subscriptions.
CHAT_MANAGERS: Final = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})
GROUP_TYPES: Final = frozenset({Chat.GROUP, Chat.SUPERGROUP})


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


async def require_private_admin(update: Update, context: BotContext) -> bool:
    """Return True for an admin in a private chat; otherwise refuse politely, return False.

    Admin commands show personal data (the audit log names Telegram users) or change who may
    do what: in a group the answer would be posted for everyone, so an admin there gets only
    the hint to use a private chat.
    """
    if not await require_admin(update, context):
        return False
    chat = update.effective_chat
    if chat is not None and chat.type == chat.PRIVATE:
        return True
    text = context.gettext("Please use this command in a private chat with me.")
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


async def is_chat_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Ask Telegram now whether a user administers a group or channel (False if unsure)."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        log.warning("Could not ask for a member's status in a group or channel", exc_info=True)
        return False
    return member.status in CHAT_MANAGERS


@dataclass(frozen=True, slots=True)
class SubscriberChat:
    """The chat whose subscriptions a command or button shows or changes."""

    chat_id: int
    kind: Literal["private", "group", "channel"]
    title: str = ""

    def present(self, ctx: RenderContext, reply: Reply) -> Reply:
        """Head a panel for a group or channel; a channel's buttons name the channel."""
        if self.kind == "group":
            return panels.for_group(ctx, reply, self.title)
        if self.kind == "channel":
            return panels.for_channel(ctx, reply, self.chat_id, self.title)
        return reply


async def subscriber_chat(
    update: Update, context: BotContext, *, change: bool
) -> SubscriberChat | None:
    """Return the chat whose subscriptions this update shows or changes, or refuse politely.

    ``change`` says that the update changes something (every button press does); in a group
    only its administrators may do that. None means the update was answered already.
    """
    chat, user = update.effective_chat, update.effective_user
    query = update.callback_query
    _ = context.gettext
    remote = callbacks.split_chat(query.data)[0] if query and query.data else None
    if remote is not None:
        return await _channel_chat(update, context, remote)
    if chat is None:
        return None
    if chat.type == Chat.PRIVATE:
        return SubscriberChat(chat.id, "private")
    if chat.type not in GROUP_TYPES:
        return None  # a command posted in a channel: channels are managed from a private chat
    group = SubscriberChat(chat.id, "group", chat.title or "")
    if not change and query is None:
        return group
    if user is not None and await is_chat_admin(context.bot, chat.id, user.id):
        return group
    log.info("Refused a group subscription change to a non-admin (update %s)", update.update_id)
    await _refuse(update, _("Only the group's administrators can change its subscriptions."))
    return None


async def _channel_chat(
    update: Update, context: BotContext, chat_id: int
) -> SubscriberChat | None:
    """Return a connected channel if the presser may change it, else refuse."""
    _ = context.gettext
    user = update.effective_user
    chat = update.effective_chat
    if chat is None or chat.type != Chat.PRIVATE or user is None:
        # A channel's panel is only ever shown in a private chat: such data is forged.
        await _refuse(update, _("Only the channel's administrators can change its subscriptions."))
        return None
    if not await require_admin(update, context):
        return None
    channel = await context.services.stores.subscriptions.channel(chat_id)
    if channel is None:
        await _refuse(update, _("This channel is not connected (any more)."))
        return None
    if not await is_chat_admin(context.bot, chat_id, user.id):
        await _refuse(update, _("Only the channel's administrators can change its subscriptions."))
        return None
    return SubscriberChat(chat_id, "channel", channel.title)


async def _refuse(update: Update, text: str) -> None:
    """Answer a refusal as an alert on a button, or as a short message."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, do_quote=False)
