"""Free text: members' questions answered from the alliance's data.

In a private chat every text is a question. In a group only a text addressed to the bot is:
one that mentions it (``@botname …``) or replies to one of its messages; the mention is taken
out before the text is read. Everything else said in a group is the members' conversation.

A clear wish to stop reminders ("Bitte melden Sie mich von allen Erinnerungen ab") is
carried out exactly as /stopp would do it, with one tap to undo; a wish about one network
stops only that network, a wish about one meeting (named by its title) only that meeting. A
question how to unsubscribe is only explained.

A message answered with "I don't know that" is kept for the admins (/unbeantwortet): the
text only, cut to 500 characters, no user or chat id, deleted after 30 days.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from telegram import Message, MessageEntity
from telegram.ext import MessageHandler, filters

from bot.domain.qa.entities import extract
from bot.domain.qa.intents import TOPIC_WISH
from bot.views import callbacks
from bot.views.answers import answer_question, understand
from bot.views.common import esc, network_display_name
from bot.views.panels import FEATURE_SUBSCRIPTIONS
from bot.views.replies import Button, Reply
from handlers.respond import send_replies
from storage.stats import count_question
from storage.subscriptions import Subscription, Topic

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext
    from bot.domain.models import Event
    from bot.domain.qa.intents import Understanding
    from bot.views.common import RenderContext


class _AddressedToBot(filters.MessageFilter):
    """A message that mentions the bot or replies to one of its messages."""

    __slots__ = ()

    def filter(self, message: Message) -> bool:
        return addressed_to_bot(message)


def addressed_to_bot(message: Message) -> bool:
    """Tell whether a group message mentions the bot or replies to one of its messages."""
    bot = message.get_bot()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    return mentions_bot(message)


def mentions_bot(message: Message) -> bool:
    """Tell whether a message mentions the bot by @username or as a text mention."""
    bot = message.get_bot()
    for entity, text in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        if entity.type == MessageEntity.TEXT_MENTION:
            if entity.user is not None and entity.user.id == bot.id:
                return True
        elif text[1:].lower() == (bot.username or "").lower():
            return True
    return False


def without_mention(text: str, username: str) -> str:
    """Take the bot's @mention out of a question."""
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


TEXT = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
QUESTION = TEXT & filters.ChatType.PRIVATE
GROUP_QUESTION = TEXT & filters.ChatType.GROUPS & _AddressedToBot()


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [MessageHandler(QUESTION, answer), MessageHandler(GROUP_QUESTION, answer)]


async def answer(update: Update, context: BotContext) -> None:
    """Answer a question typed in German (counted), or carry out a wish to stop reminders."""
    if (message := update.effective_message) is None or message.text is None:
        return
    text = message.text
    if message.chat.type != message.chat.PRIVATE:
        text = without_mention(text, context.bot.username or "")
        if not text:
            return
    ctx = await context.render_context()
    understanding = understand(text, ctx)
    if (
        understanding is not None
        and understanding.intent == "unsubscribe"
        and understanding.topic == TOPIC_WISH
        and FEATURE_SUBSCRIPTIONS in ctx.features
        and message.chat.type == message.chat.PRIVATE
    ):
        done = await _carry_out_stop(context, ctx, message.chat.id, understanding, text)
        if done is not None:
            await send_replies(update, [done])
            return
    replies = answer_question(text, ctx)
    await send_replies(update, replies)
    await _count(context, replies)
    if any(r.unanswered for r in replies):
        # After the answer: keeping the text must never delay or prevent it.
        store = context.services.stores.unanswered
        await store.add(message.text, now=context.services.clock.now())


async def _count(context: BotContext, replies: list[Reply]) -> None:
    """Count the question as answered or not known (for /statistik; no text, no person)."""
    known = not any(r.unanswered for r in replies)
    services = context.services
    await count_question(
        services.stores.db, "answered" if known else "unknown", now=services.clock.now()
    )


async def _carry_out_stop(
    context: BotContext, ctx: RenderContext, chat_id: int, u: Understanding, text: str
) -> Reply | None:
    """Stop what the wish names, as /stopp does; None when nothing of it is subscribed."""
    _ = ctx.tr.gettext
    store = context.services.stores.subscriptions
    now = context.services.clock.now()
    subscriber = await store.get(chat_id, now=now)
    if subscriber is None or not subscriber.subscriptions:
        return None
    # A meeting named by its title is what the wish is about, even where a city is named
    # too ("das Frühjahrstreffen in Karlsruhe"): never the whole network, never everything.
    named = sorted(extract(text, ctx.catalog).title_events)
    if meetings := [e for event_id in named if (e := ctx.catalog.event(event_id)) is not None]:
        return await _stop_meetings(context, ctx, chat_id, meetings)
    networks = [n for slug in u.entities if (n := ctx.catalog.network(slug)) is not None]
    if not networks:
        if await store.stop_all(chat_id, now=now) <= 0:
            return None
        # The same undo as after /stopp: it restores everything stop_all removed.
        return Reply(
            _("Done: you will no longer receive reminders."),
            ((Button(_("Undo"), data=callbacks.SUB_UNDO),),),
        )
    stopped = [
        n
        for n in networks
        if await store.unsubscribe(chat_id, Subscription(Topic.NETWORK, n.slug), now=now)
    ]
    if not stopped:
        return None
    names = ", ".join(network_display_name(n) for n in stopped)
    # Undoing one network is subscribing to it again: the one-tap button of /abo.
    undo = tuple(
        (Button(_("Undo"), data=callbacks.subscribe(callbacks.network_code(n.slug))),)
        for n in stopped[:1]
    )
    text = _("Done: you will no longer receive reminders about {names}.").format(
        names=esc(names, 300)
    )
    return Reply(text, undo)


async def _stop_meetings(
    context: BotContext, ctx: RenderContext, chat_id: int, meetings: list[Event]
) -> Reply:
    """Stop the single meetings a wish names; say so where they come with a wider topic."""
    _ = ctx.tr.gettext
    store = context.services.stores.subscriptions
    now = context.services.clock.now()
    stopped = [
        e
        for e in meetings
        if await store.unsubscribe(chat_id, Subscription(Topic.EVENT, e.id), now=now)
    ]
    if stopped:
        titles = ", ".join(f"„{e.title}“" for e in stopped)
        return Reply(
            _("Done: you will no longer receive reminders about {names}.").format(
                names=esc(titles, 300)
            ),
            ((Button(_("Undo"), data=callbacks.subscribe(callbacks.event_code(stopped[0].id))),),),
        )
    # Followed through a network or all meetings: stopping one meeting alone is not possible,
    # and stopping the whole topic is more than was asked.
    return Reply(
        _(
            "You do not follow “{title}” on its own: its reminders come with what you follow "
            "under /abo. You can switch that off there, or stop everything with /stopp."
        ).format(title=esc(meetings[0].title, 200)),
        ((Button(_("Manage subscriptions"), data=callbacks.SUB_OPEN),),),
    )
