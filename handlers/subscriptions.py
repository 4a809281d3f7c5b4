"""/abo and /stopp: what a chat follows, toggled in one panel; everything off in one step.

Subscribing is always an explicit action: a toggle in /abo or a one-tap "Abonnieren" on a
card or an answer. A private chat follows for the person; a group follows for its members,
changed only by its administrators (``handlers.guards.subscriber_chat``); a connected channel's
panel is shown in an alliance admin's private chat, its buttons naming the channel.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.views import callbacks, panels
from handlers.guards import SubscriberChat, audit, subscriber_chat
from handlers.respond import send_replies, show_in_place
from storage.subscriptions import Subscription, Topic, UnknownTarget

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext
    from bot.views.replies import Reply
    from storage.subscriptions import Subscriber

AT: Final = callbacks.FOR_CHAT_PATTERN  # a channel's panel names the channel first

SLUG: Final = r"[a-z0-9]+(?:-[a-z0-9]+)*"
CODE: Final = (
    rf"(?:{callbacks.CODE_MEETINGS}|{callbacks.CODE_NEWS}|{callbacks.CODE_WEEKLY}"
    rf"|{callbacks.CODE_NETWORK}{SLUG}|{callbacks.CODE_EVENT}{SLUG})"
)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("abo", show_subscriptions),
        CommandHandler("stopp", ask_stop),
        CallbackQueryHandler(open_panel, pattern=rf"^{AT}{re.escape(callbacks.SUB_OPEN)}$"),
        CallbackQueryHandler(toggle, pattern=rf"^{AT}{re.escape(callbacks.SUB_TOGGLE)}{CODE}$"),
        CallbackQueryHandler(subscribe, pattern=rf"^{re.escape(callbacks.SUB_ADD)}{CODE}$"),
        CallbackQueryHandler(ask_stop_in_place, pattern=rf"^{AT}{callbacks.SUB_STOP_ASK}$"),
        CallbackQueryHandler(stop_all, pattern=rf"^{AT}{callbacks.SUB_STOP_YES}$"),
        CallbackQueryHandler(open_panel, pattern=rf"^{AT}{callbacks.SUB_STOP_NO}$"),
        CallbackQueryHandler(undo_stop, pattern=rf"^{AT}{callbacks.SUB_UNDO}$"),
    ]


def parse_code(code: str) -> Subscription:
    """Turn a subscription code from callback data into a subscription."""
    if code == callbacks.CODE_MEETINGS:
        return Subscription(Topic.MEETINGS)
    if code == callbacks.CODE_NEWS:
        return Subscription(Topic.NEWS)
    if code == callbacks.CODE_WEEKLY:
        return Subscription(Topic.WEEKLY)
    if code.startswith(callbacks.CODE_NETWORK):
        return Subscription(Topic.NETWORK, code.removeprefix(callbacks.CODE_NETWORK))
    if code.startswith(callbacks.CODE_EVENT):
        return Subscription(Topic.EVENT, code.removeprefix(callbacks.CODE_EVENT))
    raise ValueError(code)


def code_of(subscription: Subscription) -> str:
    """Turn a subscription into its code in callback data."""
    match subscription.topic:
        case Topic.MEETINGS:
            return callbacks.CODE_MEETINGS
        case Topic.NEWS:
            return callbacks.CODE_NEWS
        case Topic.WEEKLY:
            return callbacks.CODE_WEEKLY
        case Topic.NETWORK:
            return callbacks.network_code(subscription.target)
        case Topic.EVENT:
            return callbacks.event_code(subscription.target)
    raise ValueError(subscription)


def followed_codes(subscriber: Subscriber | None) -> frozenset[str]:
    """Return the codes of everything a subscriber follows."""
    if subscriber is None:
        return frozenset()
    return frozenset(code_of(s) for s in subscriber.subscriptions)


async def subscriber_of(context: BotContext, chat_id: int) -> Subscriber | None:
    """Return what the chat follows now (single events that are over no longer count)."""
    return await context.services.stores.subscriptions.get(
        chat_id, now=context.services.clock.now()
    )


async def panel(context: BotContext, target: SubscriberChat) -> Reply:
    """Render the /abo panel for a chat (headed for a group or channel)."""
    ctx = await context.render_context()
    subscriber = await subscriber_of(context, target.chat_id)
    reply = panels.subscriptions_panel(
        ctx,
        followed_codes(subscriber),
        blocked=subscriber is not None and subscriber.status == "blocked",
        shared=target.kind != "private",
    )
    return target.present(ctx, reply)


def own_data(data: str | None) -> str:
    """Return a button's data without the chat a channel's panel puts in front."""
    return callbacks.split_chat(data or "")[1]


async def show_subscriptions(update: Update, context: BotContext) -> None:
    """Show what the chat follows, as toggles."""
    if (target := await subscriber_chat(update, context, change=False)) is None:
        return
    await send_replies(update, [await panel(context, target)])


async def open_panel(update: Update, context: BotContext) -> None:
    """Show the /abo panel in place of the pressed message."""
    if (query := update.callback_query) is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    await show_in_place(query, await panel(context, target))


async def toggle(update: Update, context: BotContext) -> None:
    """Follow or unfollow what the pressed toggle names, and update the panel."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    subscription = parse_code(own_data(query.data).removeprefix(callbacks.SUB_TOGGLE))
    store = context.services.stores.subscriptions
    try:
        await store.toggle(target.chat_id, subscription, now=context.services.clock.now())
    except UnknownTarget:
        await query.answer(context.gettext("I no longer know this network or meeting."))
        return
    await _audit_channel(context, update, target, "toggled", code_of(subscription))
    await show_in_place(query, await panel(context, target))


async def _audit_channel(
    context: BotContext, update: Update, target: SubscriberChat, change: str, code: str = ""
) -> None:
    """Record an alliance admin's change of a channel's topics (a group's are its own)."""
    if target.kind != "channel":
        return
    detail: dict[str, Any] = {"chat_id": target.chat_id, "change": change}
    if code:
        detail["topic"] = code
    await audit(context, update, "channel_topics_changed", **detail)


async def subscribe(update: Update, context: BotContext) -> None:
    """Follow what a one-tap "Abonnieren" button names; the pressed message stays."""
    if (query := update.callback_query) is None or query.data is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    _ = context.gettext
    subscription = parse_code(query.data.removeprefix(callbacks.SUB_ADD))
    store = context.services.stores.subscriptions
    try:
        added = await store.subscribe(
            target.chat_id, subscription, now=context.services.clock.now()
        )
    except UnknownTarget:
        await query.answer(_("I no longer know this network or meeting."), show_alert=True)
        return
    if added:
        text = _("Subscribed. You can manage your subscriptions with /abo.")
    else:
        text = _("You already follow this. Manage your subscriptions with /abo.")
    await query.answer(text, show_alert=True)


async def _stop_question(context: BotContext, target: SubscriberChat) -> Reply:
    """Render /stopp's question for a chat."""
    subscriber = await subscriber_of(context, target.chat_id)
    count = len(subscriber.subscriptions) if subscriber else 0
    ctx = await context.render_context()
    return target.present(ctx, panels.stop_confirm_reply(ctx, count))


async def ask_stop(update: Update, context: BotContext) -> None:
    """Ask before unsubscribing from everything."""
    if (target := await subscriber_chat(update, context, change=False)) is None:
        return
    await send_replies(update, [await _stop_question(context, target)])


async def ask_stop_in_place(update: Update, context: BotContext) -> None:
    """Ask before unsubscribing from everything, in place of the pressed message."""
    if (query := update.callback_query) is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    await show_in_place(query, await _stop_question(context, target))


async def stop_all(update: Update, context: BotContext) -> None:
    """Unsubscribe from everything, keeping an undo."""
    if (query := update.callback_query) is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    store = context.services.stores.subscriptions
    removed = await store.stop_all(target.chat_id, now=context.services.clock.now())
    await _audit_channel(context, update, target, "stopped")
    ctx = await context.render_context()
    await show_in_place(query, target.present(ctx, panels.stopped_reply(ctx, removed)))


async def undo_stop(update: Update, context: BotContext) -> None:
    """Restore what /stopp removed."""
    if (query := update.callback_query) is None:
        return
    if (target := await subscriber_chat(update, context, change=True)) is None:
        return
    store = context.services.stores.subscriptions
    restored = await store.undo_stop(target.chat_id, now=context.services.clock.now())
    await _audit_channel(context, update, target, "restored")
    ctx = await context.render_context()
    await show_in_place(query, target.present(ctx, panels.restored_reply(ctx, restored)))
