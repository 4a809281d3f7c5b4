"""/rundschreiben and /rundschreiben_status: admins compose, send, plan and steer broadcasts.

Composing is a conversation in the admin's private chat (persistent: its state and the
composed message survive a restart, see ``bot.persistence``; the circular itself is stored
as soon as it has an audience): the message itself (a text with Telegram formatting, or one
photo or document with a caption of at most 1,024 characters), the audience (news subscribers,
one network's followers, one meeting's followers), then the recipient count and a preview
sent exactly as recipients will see it, then "Jetzt senden", "Planen" or "Abbrechen".
/abbrechen ends it at any step. Sending is the runner's job (:mod:`bot.delivery.broadcast`).
"""

from __future__ import annotations

import html
import logging
import warnings
from typing import TYPE_CHECKING, Any, Final

from babel.dates import format_datetime
from babel.numbers import format_decimal
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.delivery.sender import INTERACTIVE, send_content
from bot.domain.circulars import MAX_CAPTION, Audience, Content
from bot.domain.parse import parse_date_time
from bot.views import callbacks
from bot.views.circulars import status_text
from bot.views.replies import Button, Reply
from handlers.dialogs import (
    CONVERSATION_TIMEOUT,
    claim_dialog,
    closing_states,
    release_dialog,
    tell_timed_out,
)
from handlers.guards import require_admin
from storage.broadcasts import BroadcastError

if TYPE_CHECKING:
    from telegram import CallbackQuery, Message, Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext
    from bot.domain.circulars import Broadcast, Counts


COMPOSE, AUDIENCE, CONFIRM, WHEN = range(4)
DRAFT_KEY: Final = "broadcast:draft"  # user_data: the composed Content
ID_KEY: Final = "broadcast:id"  # user_data: the stored draft's id
# The user_data this conversation keeps across a restart, and how (see bot.persistence).
PERSISTED: Final = {DRAFT_KEY: (Content.to_json, Content.from_json)}
DIALOG: Final = "broadcast"  # its name in the one-admin-dialog-at-a-time claim
MAX_MEETING_BUTTONS: Final = 10
ACTIVE: Final = ("running", "paused", "planned")

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # Buttons are tracked per chat, not per message, on purpose: each carries the draft's
        # id, and the conversation has one draft at a time.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        conversation: ConversationHandler[BotContext] = ConversationHandler(
            entry_points=[CommandHandler("rundschreiben", start_compose, filters=private)],
            states={
                COMPOSE: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, take_message),
                    MessageHandler(private & (filters.PHOTO | filters.Document.ALL), take_message),
                    MessageHandler(private & ~filters.COMMAND, refuse_message),
                ],
                AUDIENCE: [
                    CallbackQueryHandler(choose_news, pattern=rf"^{callbacks.CIRCULAR_NEWS}$"),
                    CallbackQueryHandler(
                        list_networks, pattern=rf"^{callbacks.CIRCULAR_NETWORKS}$"
                    ),
                    CallbackQueryHandler(list_meetings, pattern=rf"^{callbacks.CIRCULAR_EVENTS}$"),
                    CallbackQueryHandler(
                        choose_network, pattern=rf"^{callbacks.CIRCULAR_NETWORK}[\w-]+$"
                    ),
                    CallbackQueryHandler(
                        choose_meeting, pattern=rf"^{callbacks.CIRCULAR_EVENT}[\w.-]+$"
                    ),
                ],
                CONFIRM: [
                    CallbackQueryHandler(send_now, pattern=rf"^{callbacks.CIRCULAR_SEND}\d+$"),
                    CallbackQueryHandler(ask_time, pattern=rf"^{callbacks.CIRCULAR_PLAN}\d+$"),
                    CallbackQueryHandler(discard, pattern=rf"^{callbacks.CIRCULAR_DISCARD}\d+$"),
                ],
                WHEN: [MessageHandler(private & filters.TEXT & ~filters.COMMAND, plan)],
                **closing_states(timed_out),
            },
            fallbacks=[
                CommandHandler("abbrechen", abort),
                CallbackQueryHandler(
                    abort,
                    pattern=rf"^({callbacks.CIRCULAR_ABORT}|{callbacks.CIRCULAR_DISCARD}\d+)$",
                ),
            ],
            name="broadcast",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
        )
    return [
        conversation,
        CommandHandler("rundschreiben_status", show_status, filters=private),
        CallbackQueryHandler(
            steer,
            pattern=rf"^({callbacks.CIRCULAR_PAUSE}|{callbacks.CIRCULAR_RESUME}|{callbacks.CIRCULAR_CANCEL}|{callbacks.CIRCULAR_CANCEL_YES})\d+$",
        ),
        CallbackQueryHandler(steer, pattern=rf"^{callbacks.CIRCULAR_STATUS}$"),
    ]


# ---------------------------------------------------------------------- composing


async def start_compose(update: Update, context: BotContext) -> int:
    """Ask for the message to broadcast."""
    if not await require_admin(update, context) or update.effective_message is None:
        return ConversationHandler.END
    _forget(context)
    if not await claim_dialog(update, context, DIALOG):
        return ConversationHandler.END
    text = context.gettext(
        "Please send me the message for the circular now: a text (formatting is kept), or one "
        "photo or document with a caption of at most 1,024 characters. /abbrechen cancels."
    )
    await update.effective_message.reply_text(html.escape(text), do_quote=False)
    return COMPOSE


async def take_message(update: Update, context: BotContext) -> int:
    """Store the composed message and ask for the audience."""
    message = update.effective_message
    if not await require_admin(update, context) or message is None:
        return ConversationHandler.END
    if message.caption is not None and len(message.caption) > MAX_CAPTION:
        hint = context.gettext(
            "The caption is too long ({length} characters, at most 1,024). Please shorten it "
            "and send the message again."
        ).format(length=format_decimal(len(message.caption), locale=context.tr.locale))
        await message.reply_text(html.escape(hint), do_quote=False)
        return COMPOSE
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = content_of(message)
    menu = _audience_menu(context)
    await message.reply_text(menu.text, reply_markup=menu.markup(), do_quote=False)
    return AUDIENCE


async def refuse_message(update: Update, context: BotContext) -> int:
    """Refuse other kinds of messages politely."""
    if not await require_admin(update, context) or update.effective_message is None:
        return ConversationHandler.END
    text = context.gettext(
        "I can send a text, a photo or a document as a circular, not this kind of message. "
        "Please send one of those, or /abbrechen."
    )
    await update.effective_message.reply_text(html.escape(text), do_quote=False)
    return COMPOSE


def content_of(message: Message) -> Content:
    """Return what to broadcast from the admin's message: text or file, with its entities."""
    if message.photo:
        return Content(
            "photo",
            file_id=message.photo[-1].file_id,  # the largest size
            caption=message.caption,
            caption_entities=tuple(e.to_dict() for e in message.caption_entities),
        )
    if message.document is not None:
        return Content(
            "document",
            file_id=message.document.file_id,
            caption=message.caption,
            caption_entities=tuple(e.to_dict() for e in message.caption_entities),
        )
    return Content(
        "text", text=message.text, entities=tuple(e.to_dict() for e in message.entities)
    )


def _audience_menu(context: BotContext) -> Reply:
    _ = context.gettext
    return Reply(
        html.escape(_("Who should receive the circular?")),
        (
            (Button(_("All news subscribers"), data=callbacks.CIRCULAR_NEWS),),
            (Button(_("The followers of a network"), data=callbacks.CIRCULAR_NETWORKS),),
            (Button(_("The followers of a meeting"), data=callbacks.CIRCULAR_EVENTS),),
            (Button(_("Cancel"), data=callbacks.CIRCULAR_ABORT),),
        ),
    )


async def list_networks(update: Update, context: BotContext) -> int:
    """Offer the networks as buttons."""
    query = update.callback_query
    if not await require_admin(update, context) or query is None:
        return ConversationHandler.END
    await query.answer()
    catalog = await context.services.catalog.current()
    rows = [
        (Button(network.name, data=f"{callbacks.CIRCULAR_NETWORK}{network.slug}"),)
        for network in catalog.networks
        if len(f"{callbacks.CIRCULAR_NETWORK}{network.slug}".encode()) <= 64
    ]
    rows.append((Button(context.gettext("Cancel"), data=callbacks.CIRCULAR_ABORT),))
    text = html.escape(context.gettext("Which network's followers?"))
    await query.edit_message_text(text, reply_markup=Reply(text, tuple(rows)).markup())
    return AUDIENCE


async def list_meetings(update: Update, context: BotContext) -> int:
    """Offer the upcoming meetings as buttons."""
    query = update.callback_query
    if not await require_admin(update, context) or query is None:
        return ConversationHandler.END
    await query.answer()
    ctx = await context.render_context()
    rows = []
    for event in ctx.catalog.upcoming_events(ctx.now)[:MAX_MEETING_BUTTONS]:
        data = f"{callbacks.CIRCULAR_EVENT}{event.id}"
        if len(data.encode()) > 64:
            continue
        begins = event.begins_at(ctx.tz)
        day = (
            format_datetime(begins, "dd.MM.yyyy", tzinfo=ctx.tz, locale=context.tr.locale)
            if begins is not None
            else event.date_text or ""
        )
        rows.append((Button(f"{day} {event.title}".strip(), data=data),))
    if rows:
        text = context.gettext("Which meeting's followers?")
        rows.append((Button(context.gettext("Cancel"), data=callbacks.CIRCULAR_ABORT),))
        markup = Reply(text, tuple(rows)).markup()
    else:
        text = context.gettext("There are no upcoming meetings. Whom else?")
        markup = _audience_menu(context).markup()
    await query.edit_message_text(html.escape(text), reply_markup=markup)
    return AUDIENCE


async def choose_news(update: Update, context: BotContext) -> int:
    """Address all news subscribers."""
    return await _preview(update, context, Audience("news"))


async def choose_network(update: Update, context: BotContext) -> int:
    """Address one network's followers."""
    data = update.callback_query.data if update.callback_query else None
    slug = (data or "").removeprefix(callbacks.CIRCULAR_NETWORK)
    return await _preview(update, context, Audience("network", slug))


async def choose_meeting(update: Update, context: BotContext) -> int:
    """Address one meeting's followers."""
    data = update.callback_query.data if update.callback_query else None
    event_id = (data or "").removeprefix(callbacks.CIRCULAR_EVENT)
    return await _preview(update, context, Audience("event", event_id))


async def _audience_label(context: BotContext, audience: Audience) -> str:
    """Return the audience in words (not escaped)."""
    catalog = await context.services.catalog.current()
    if audience.kind == "network":
        network = catalog.network(audience.target)
        name = network.name if network else audience.target
        return context.gettext("the followers of {network}").format(network=name)
    if audience.kind == "event":
        event = catalog.event(audience.target)
        title = event.title if event else audience.target
        return context.gettext("the followers of the meeting {title}").format(title=title)
    return context.gettext("all news subscribers")


async def _preview(update: Update, context: BotContext, audience: Audience) -> int:
    """Store the draft, show the recipient count and the preview, offer send/plan/cancel."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if not await require_admin(update, context) or query is None or chat is None or user is None:
        return ConversationHandler.END
    await query.answer()
    draft = (context.user_data or {}).get(DRAFT_KEY)
    if not isinstance(draft, Content):
        return await abort(update, context)
    services = context.services
    store = services.stores.broadcasts
    count = await store.count_audience(audience)
    broadcast = await store.create(
        draft, audience, by=user.id, chat_id=chat.id, now=services.clock.now()
    )
    if context.user_data is not None:
        context.user_data[ID_KEY] = broadcast.id
    label = await _audience_label(context, audience)
    _ = context.gettext
    summary = context.tr.ngettext(
        "Circular #{id} to {audience}: {count} recipient. This is how it will look:",
        "Circular #{id} to {audience}: {count} recipients. This is how it will look:",
        count,
    ).format(
        id=broadcast.id,
        audience=html.escape(label),
        count=format_decimal(count, locale=context.tr.locale),
    )
    await query.edit_message_text(summary)
    try:
        # The interactive lane: it waits for the chat's one-message-per-second slot (the
        # prompt and the menu went out a moment ago) instead of running into a 429, but not
        # for the pushes' budget, however many replies put it into debt.
        await send_content(context.bot, chat.id, draft, rate_limit_args=INTERACTIVE)
    except BadRequest as error:
        log.warning("Could not send a broadcast preview: %s", error.message)
        await services.stores.broadcasts.cancel(broadcast.id, by=user.id, now=services.clock.now())
        text = _("The preview could not be sent, so the circular was discarded.")
        await context.bot.send_message(chat.id, html.escape(text))
        _forget(context)
        return ConversationHandler.END
    buttons = (
        (Button(_("Send now"), data=f"{callbacks.CIRCULAR_SEND}{broadcast.id}"),),
        (Button(_("Plan"), data=f"{callbacks.CIRCULAR_PLAN}{broadcast.id}"),),
        (Button(_("Cancel"), data=f"{callbacks.CIRCULAR_DISCARD}{broadcast.id}"),),
    )
    reply = Reply(html.escape(_("Send it?")), buttons)
    await context.bot.send_message(
        chat.id, reply.text, reply_markup=reply.markup(), rate_limit_args=INTERACTIVE
    )
    return CONFIRM


def _broadcast_id(update: Update, prefix: str) -> int | None:
    data = update.callback_query.data if update.callback_query else None
    if data is None or not data.startswith(prefix):
        return None
    return int(data.removeprefix(prefix))


async def send_now(update: Update, context: BotContext) -> int:
    """Start the broadcast now."""
    query, user = update.callback_query, update.effective_user
    if not await require_admin(update, context) or query is None or user is None:
        return ConversationHandler.END
    await query.answer()
    broadcast_id = _broadcast_id(update, callbacks.CIRCULAR_SEND)
    if broadcast_id is None:
        return ConversationHandler.END
    services = context.services
    recipients = await services.stores.broadcasts.start(
        broadcast_id, by=user.id, now=services.clock.now()
    )
    if recipients is None:
        text = context.gettext("This circular cannot be started any more.")
    else:
        text = context.tr.ngettext(
            "Circular #{id} is going out to {count} recipient now.",
            "Circular #{id} is going out to {count} recipients now.",
            recipients,
        ).format(id=broadcast_id, count=format_decimal(recipients, locale=context.tr.locale))
        services.broadcaster.wake()
    await query.edit_message_text(html.escape(text))
    _forget(context)
    return ConversationHandler.END


async def ask_time(update: Update, context: BotContext) -> int:
    """Ask when to send the broadcast."""
    query = update.callback_query
    if not await require_admin(update, context) or query is None:
        return ConversationHandler.END
    await query.answer()
    text = context.gettext(
        "When should it go out? Please send the date and time as DD.MM.YYYY HH:MM, "
        "for example 18.03.2027 14:00."
    )
    await query.edit_message_text(html.escape(text))
    return WHEN


async def plan(update: Update, context: BotContext) -> int:
    """Plan the broadcast for the time the admin typed."""
    message, user = update.effective_message, update.effective_user
    if not await require_admin(update, context) or message is None or user is None:
        return ConversationHandler.END
    broadcast_id = (context.user_data or {}).get(ID_KEY)
    if not isinstance(broadcast_id, int):
        return await abort(update, context)
    services = context.services
    tz = services.settings.timezone
    now = services.clock.now()
    _ = context.gettext
    try:
        when = parse_date_time(message.text or "", tz)
    except ValueError:
        hint = _(
            "Please send the date and time as DD.MM.YYYY HH:MM, for example 18.03.2027 14:00."
        )
        await message.reply_text(html.escape(hint), do_quote=False)
        return WHEN
    try:
        planned = await services.stores.broadcasts.plan(broadcast_id, when, by=user.id, now=now)
    except BroadcastError:
        hint = _("That time has passed. Please send a time in the future.")
        await message.reply_text(html.escape(hint), do_quote=False)
        return WHEN
    if planned:
        shown = format_datetime(when, "short", tzinfo=tz, locale=context.tr.locale)
        text = _("Circular #{id} is planned for {when}. /rundschreiben_status shows it.").format(
            id=broadcast_id, when=shown
        )
    else:
        text = _("This circular cannot be planned any more.")
    await message.reply_text(html.escape(text), do_quote=False)
    _forget(context)
    return ConversationHandler.END


async def discard(update: Update, context: BotContext) -> int:
    """Discard the stored draft."""
    return await abort(update, context)


async def abort(update: Update, context: BotContext) -> int:
    """End the conversation; a stored draft is cancelled."""
    if not await require_admin(update, context):
        return ConversationHandler.END
    broadcast_id = (context.user_data or {}).get(ID_KEY)
    if isinstance(broadcast_id, int) and update.effective_user is not None:
        services = context.services
        await services.stores.broadcasts.cancel(
            broadcast_id, by=update.effective_user.id, now=services.clock.now()
        )
    _forget(context)
    text = html.escape(context.gettext("Cancelled. Nothing was sent."))
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, do_quote=False)
    return ConversationHandler.END


async def timed_out(update: Update, context: BotContext) -> int:
    """End a composition after a long silence; a stored draft is cancelled, nothing sent.

    PTB calls it from its timeout job (with the last update, whose button was answered);
    after a restart, the ``EXPIRED`` state of :func:`handlers.dialogs.closing_states` does.
    """
    broadcast_id = (context.user_data or {}).get(ID_KEY)
    if isinstance(broadcast_id, int) and update.effective_user is not None:
        services = context.services
        await services.stores.broadcasts.cancel(
            broadcast_id, by=update.effective_user.id, now=services.clock.now()
        )
    _forget(context)
    return await tell_timed_out(
        update,
        context,
        context.gettext(
            "The circular was discarded after {minutes} minutes without an answer. Nothing was "
            "sent."
        ),
    )


def _forget(context: BotContext) -> None:
    """Forget the draft and end this dialog's claim on the chat."""
    release_dialog(context, DIALOG)
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
        context.user_data.pop(ID_KEY, None)


# ---------------------------------------------------------------------- status and steering


async def _status_reply(context: BotContext) -> Reply:
    """Return the list of running, paused and planned broadcasts with their buttons."""
    services = context.services
    store = services.stores.broadcasts
    broadcasts = await store.with_status(*ACTIVE)
    _ = context.gettext
    if not broadcasts:
        return Reply(html.escape(_("No circular is running or planned.")))
    title = _("Circulars")
    lines = [f"<b>{html.escape(title)}</b>"]
    rows: list[tuple[Button, ...]] = []
    for broadcast in broadcasts:
        counts = await store.counts(broadcast.id)
        label = await _audience_label(context, broadcast.audience)
        lines.append(_line(context, broadcast, counts, label))
        rows.append(_steering(context, broadcast))
    return Reply("\n".join(lines), tuple(rows))


def _line(context: BotContext, broadcast: Broadcast, counts: Counts, label: str) -> str:
    state = status_text(context.tr, context.services.settings.timezone, broadcast, counts)
    return f"• {html.escape(state)} ({html.escape(label)})"


def _steering(context: BotContext, broadcast: Broadcast) -> tuple[Button, ...]:
    _ = context.gettext
    number = broadcast.id
    if broadcast.status == "paused":
        first = Button(
            _("Resume #{id}").format(id=number), data=f"{callbacks.CIRCULAR_RESUME}{number}"
        )
    else:
        first = Button(
            _("Pause #{id}").format(id=number), data=f"{callbacks.CIRCULAR_PAUSE}{number}"
        )
    cancel = Button(
        _("Cancel #{id}").format(id=number), data=f"{callbacks.CIRCULAR_CANCEL}{number}"
    )
    return (first, cancel)


async def show_status(update: Update, context: BotContext) -> None:
    """List running and planned broadcasts with buttons to pause, resume or cancel them."""
    if not await require_admin(update, context) or update.effective_message is None:
        return
    reply = await _status_reply(context)
    await update.effective_message.reply_text(
        reply.text, reply_markup=reply.markup(), do_quote=False
    )


async def _ask_cancel(query: CallbackQuery, context: BotContext, broadcast_id: int) -> None:
    """Ask before cancelling: what is not sent yet will never be sent."""
    _ = context.gettext
    reply = Reply(
        html.escape(
            _(
                "Really cancel circular #{id}? Recipients who have not received it yet will "
                "not get it."
            ).format(id=broadcast_id)
        ),
        (
            (
                Button(_("Yes, cancel it"), data=f"{callbacks.CIRCULAR_CANCEL_YES}{broadcast_id}"),
                Button(_("Back"), data=callbacks.CIRCULAR_STATUS),
            ),
        ),
    )
    await query.edit_message_text(reply.text, reply_markup=reply.markup())


async def steer(update: Update, context: BotContext) -> None:
    """Pause, resume or cancel a broadcast, then show the list again."""
    query, user = update.callback_query, update.effective_user
    if not await require_admin(update, context) or query is None or user is None:
        return
    data = query.data or ""
    services = context.services
    store = services.stores.broadcasts
    now = services.clock.now()
    _ = context.gettext
    if data.startswith(callbacks.CIRCULAR_CANCEL):
        await query.answer()
        await _ask_cancel(query, context, int(data.removeprefix(callbacks.CIRCULAR_CANCEL)))
        return
    if data == callbacks.CIRCULAR_STATUS:
        await query.answer()
        changed, done, broadcast_id = False, "", 0
    elif data.startswith(callbacks.CIRCULAR_PAUSE):
        broadcast_id = int(data.removeprefix(callbacks.CIRCULAR_PAUSE))
        changed = await store.pause(broadcast_id, by=user.id, now=now)
        done = _("Circular #{id} is paused.")
    elif data.startswith(callbacks.CIRCULAR_RESUME):
        broadcast_id = int(data.removeprefix(callbacks.CIRCULAR_RESUME))
        changed = await store.resume(broadcast_id, by=user.id, now=now)
        done = _("Circular #{id} continues.")
    else:
        broadcast_id = int(data.removeprefix(callbacks.CIRCULAR_CANCEL_YES))
        changed = await store.cancel(broadcast_id, by=user.id, now=now)
        done = _("Circular #{id} is cancelled.")
    if data == callbacks.CIRCULAR_STATUS:
        pass
    elif not changed:
        await query.answer(_("That is no longer possible."), show_alert=True)
    else:
        await query.answer(done.format(id=broadcast_id))
        await services.broadcaster.refresh(broadcast_id)
        services.broadcaster.wake()
    reply = await _status_reply(context)
    try:
        await query.edit_message_text(reply.text, reply_markup=reply.markup())
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise
