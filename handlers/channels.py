"""/kanal_verbinden and /kanal_trennen: alliance admins connect channels that follow topics.

An admin names the channel (``/kanal_verbinden @kanalname``) or, after a bare
``/kanal_verbinden``, forwards one of its posts. The bot asks Telegram (getChat, then
getChatMember of itself) whether it is an administrator there with the right to post, and
whether the admin administers the channel too; then the channel is connected and its topics
are chosen with the /abo panel, shown in the admin's private chat with buttons that name the
channel (``handlers.guards.subscriber_chat`` checks every press). ``/kanal_trennen`` ends a
channel's subscriptions; so does removing the bot from the channel (``my_chat_member``).

A button under one of the bot's posts in a channel (a reminder's "Details" and ".ics-Datei",
the weekly preview's "Abos verwalten") is pressed by one reader of many: it never changes
the post or posts into the channel, it opens the bot's private chat for that reader
(``answerCallbackQuery`` with a ``t.me`` start link), at the meeting or network it names.
"""

from __future__ import annotations

import html
import logging
import re
import warnings
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from telegram import Chat, ChatMember, ChatMemberAdministrator, MessageOriginChannel, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.views import callbacks
from bot.views.inline import DEEP_LINK_EVENT, DEEP_LINK_NETWORK, deep_link
from bot.views.replies import Button, Reply
from handlers.guards import audit, is_chat_admin, require_admin
from handlers.respond import send_replies

if TYPE_CHECKING:
    from telegram.ext import BaseHandler

    from bot.context import BotContext
    from storage.subscriptions import Channel

WAITING: Final = 0
CONVERSATION_TIMEOUT: Final = timedelta(minutes=10)
# A public channel's @username: 5-32 letters, digits and underscores (or its numeric id).
CHANNEL_NAME: Final = re.compile(r"^(?:@?([A-Za-z][A-Za-z0-9_]{3,31})|(-100\d{1,16}))$")

# The start parameter of a channel post's other buttons: /start then greets the reader.
START_FROM_CHANNEL: Final = "kanal"

log = logging.getLogger(__name__)


class _ChannelPostButton(CallbackQueryHandler["BotContext", None]):
    """Takes every button pressed under a message in a channel, whatever its data."""

    __slots__ = ()

    def check_update(self, update: object) -> bool | object | None:
        """Match a callback query whose message is in a channel."""
        if not isinstance(update, Update) or update.callback_query is None:
            return False
        message = update.callback_query.message
        if message is None or message.chat.type != Chat.CHANNEL:
            return False
        return super().check_update(update)


def post_button_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return the handler for buttons under channel posts (runs before every feature)."""
    return [_ChannelPostButton(open_in_private_chat)]


async def open_in_private_chat(update: Update, context: BotContext) -> None:
    """Open what a channel post's button names in the presser's private chat with the bot."""
    if (query := update.callback_query) is None:
        return
    data = query.data or ""
    parameter = START_FROM_CHANNEL
    for prefix in (callbacks.EVENT_SHOW, callbacks.EVENT_ICS):
        if data.startswith(prefix):
            parameter = f"{DEEP_LINK_EVENT}{data.removeprefix(prefix)}"
    if data.startswith(callbacks.NETWORK_SHOW):
        parameter = f"{DEEP_LINK_NETWORK}{data.removeprefix(callbacks.NETWORK_SHOW)}"
    username = context.bot.username or ""
    url = deep_link(username, parameter) or deep_link(username, START_FROM_CHANNEL)
    await query.answer(url=url)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # One question at a time per admin; the conversation has no buttons of its own.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        conversation: ConversationHandler[BotContext] = ConversationHandler(
            entry_points=[CommandHandler("kanal_verbinden", start_connect, filters=private)],
            states={
                WAITING: [
                    MessageHandler(private & filters.FORWARDED, take_forward),
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, take_name),
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
            },
            fallbacks=[CommandHandler("abbrechen", abort)],
            name="channel-connect",
            conversation_timeout=CONVERSATION_TIMEOUT,
        )
    return [
        conversation,
        CommandHandler("kanal_trennen", ask_disconnect, filters=private),
        CallbackQueryHandler(
            disconnect, pattern=rf"^{re.escape(callbacks.CHANNEL_END)}-\d{{1,20}}$"
        ),
    ]


async def start_connect(update: Update, context: BotContext) -> int:
    """Connect the named channel, or ask for its name or a forwarded post."""
    if not await require_admin(update, context):
        return ConversationHandler.END
    if context.args:
        await connect(update, context, " ".join(context.args))
        return ConversationHandler.END
    await _say(
        update,
        context.gettext(
            "Which channel shall I connect? Send its name (for example @kanalname) or forward "
            "a post from it to me. I must be an administrator of the channel with the right "
            "to post messages. /abbrechen cancels."
        ),
    )
    return WAITING


async def take_name(update: Update, context: BotContext) -> int:
    """Connect the channel whose name the admin sent."""
    if not await require_admin(update, context):
        return ConversationHandler.END
    message = update.effective_message
    await connect(update, context, message.text if message and message.text else "")
    return ConversationHandler.END


async def take_forward(update: Update, context: BotContext) -> int:
    """Connect the channel a forwarded post comes from."""
    if not await require_admin(update, context):
        return ConversationHandler.END
    message = update.effective_message
    origin = message.forward_origin if message is not None else None
    if not isinstance(origin, MessageOriginChannel):
        await _say(
            update,
            context.gettext(
                "This post does not come from a channel (or its origin is hidden). Please "
                "forward a post of the channel itself, or send the channel's name."
            ),
        )
        return WAITING
    await connect(update, context, origin.chat.id)
    return ConversationHandler.END


async def abort(update: Update, context: BotContext) -> int:
    """End the question without connecting anything."""
    await _say(update, context.gettext("Cancelled. No channel was connected."))
    return ConversationHandler.END


async def timed_out(update: Update, context: BotContext) -> None:
    """Say that the question ended after a long silence."""
    if update.effective_chat is None:
        return
    await context.bot.send_message(
        update.effective_chat.id,
        context.gettext(
            "I stopped waiting for the channel. Send /kanal_verbinden to connect one."
        ),
    )


async def connect(update: Update, context: BotContext, ref: str | int) -> None:
    """Check the channel with Telegram, connect it, and offer its topics."""
    _ = context.gettext
    user = update.effective_user
    if user is None:
        return
    chat_id: str | int = ref
    if isinstance(ref, str):
        match = CHANNEL_NAME.fullmatch(ref.strip())
        if match is None:
            await _say(
                update,
                _(
                    "That is not a channel name. Please send it like @kanalname, or forward "
                    "a post from the channel."
                ),
            )
            return
        chat_id = f"@{match.group(1)}" if match.group(1) else int(match.group(2))
    try:
        chat = await context.bot.get_chat(chat_id)
    except (BadRequest, Forbidden):
        await _say(
            update,
            _(
                "I cannot find this channel. Please check the name, and add me to the channel "
                "as an administrator first."
            ),
        )
        return
    if chat.type != Chat.CHANNEL:
        await _say(
            update,
            _(
                "That is not a channel. A group follows topics with /abo in the group itself, "
                "changed by its administrators."
            ),
        )
        return
    title = chat.title or chat.username or str(chat.id)
    if not await _may_post(context, chat.id):
        await _say(
            update,
            _(
                "I am not an administrator of the channel {title} with the right to post "
                "messages. Please add me as an administrator with that right, then try again."
            ).format(title=html.escape(title)),
        )
        return
    if not await is_chat_admin(context.bot, chat.id, user.id):
        await _say(
            update,
            _("Only an administrator of the channel {title} can connect it.").format(
                title=html.escape(title)
            ),
        )
        return
    services = context.services
    new = await services.stores.subscriptions.connect_channel(
        chat.id, title=title, username=chat.username, by=user.id, now=services.clock.now()
    )
    await audit(context, update, "channel_connected", chat_id=chat.id)
    log.info("A channel was connected (update %s)", update.update_id)
    if new:
        text = _(
            "The channel {title} is connected. Choose which topics it follows: reminders, "
            "change notices and circulars on those topics are then posted there."
        )
    else:
        text = _("The channel {title} is already connected. Here you can change its topics.")
    button = Button(_("Choose topics"), data=callbacks.for_chat(chat.id, callbacks.SUB_OPEN))
    await send_replies(update, [Reply(text.format(title=html.escape(title)), ((button,),))])


async def _may_post(context: BotContext, chat_id: int) -> bool:
    """Tell whether the bot administers a channel with the right to post."""
    try:
        member = await context.bot.get_chat_member(chat_id, context.bot.id)
    except TelegramError:
        return False
    if member.status == ChatMember.OWNER:
        return True
    return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)


async def ask_disconnect(update: Update, context: BotContext) -> None:
    """Disconnect the named channel, or list the connected ones to choose from."""
    if not await require_admin(update, context):
        return
    _ = context.gettext
    channels = await context.services.stores.subscriptions.channels()
    if context.args:
        wanted = " ".join(context.args).strip().removeprefix("@").lower()
        found = [
            c
            for c in channels
            if wanted in {(c.username or "").lower(), str(c.chat_id), c.title.lower()}
        ]
        if not found:
            await _say(update, _("No connected channel has that name."))
            return
        await _end(update, context, found[0])
        return
    if not channels:
        await _say(update, _("No channel is connected. /kanal_verbinden connects one."))
        return
    rows = tuple(
        (Button(_channel_label(c), data=callbacks.channel_end(c.chat_id)),) for c in channels
    )
    await send_replies(
        update,
        [Reply(_("Which channel shall I disconnect? It then receives nothing more."), rows)],
    )


async def disconnect(update: Update, context: BotContext) -> None:
    """Disconnect the chosen channel."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if not await require_admin(update, context):
        return
    chat_id = int(query.data.removeprefix(callbacks.CHANNEL_END))
    channel = await context.services.stores.subscriptions.channel(chat_id)
    if channel is None:
        await query.answer(context.gettext("This channel is not connected (any more)."))
        return
    await query.answer()
    await _end(update, context, channel)


async def _end(update: Update, context: BotContext, channel: Channel) -> None:
    """End a channel's subscriptions and say so."""
    await context.services.stores.subscriptions.end_chat(channel.chat_id)
    await audit(context, update, "channel_disconnected", chat_id=channel.chat_id)
    await _say(
        update,
        context.gettext(
            "The channel {title} is disconnected and receives nothing more from me."
        ).format(title=html.escape(channel.title)),
    )


def _channel_label(channel: Channel) -> str:
    """Return a channel's button label: its title and @name."""
    label = channel.title if not channel.username else f"{channel.title} (@{channel.username})"
    return label[:60]


async def _say(update: Update, text: str) -> None:
    """Send a short message in the update's chat (text already escaped)."""
    if update.effective_chat is None:
        return
    await update.get_bot().send_message(update.effective_chat.id, text)
