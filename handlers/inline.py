"""Inline sharing: ``@botname karlsruhe`` in any chat lists matching meetings and networks.

Telegram sends an inline query only when inline mode is on (@BotFather, ``/setinline``).
The answer is the same for everyone (``is_personal`` false), so Telegram may cache it
briefly for all who type the same words; an empty query lists the meetings ahead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import InlineQueryHandler

from bot.domain.search import search
from bot.views.inline import inline_articles

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext
    from bot.views.inline import Article

# Seconds Telegram may serve the same answer again: short, so a changed meeting shows soon.
CACHE_TIME: Final = 60

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [InlineQueryHandler(share)]


async def share(update: Update, context: BotContext) -> None:
    """Answer an inline query with the cards of the meetings and networks it names."""
    if (query := update.inline_query) is None:
        return
    ctx = await context.render_context()
    found = search(ctx.catalog, query.query, ctx.now)
    articles = inline_articles(ctx, found, context.bot.username or "")
    try:
        await query.answer(
            [_result(article) for article in articles], cache_time=CACHE_TIME, is_personal=False
        )
    except BadRequest as error:
        # The person typed on and Telegram dropped this query: nobody waits for the answer.
        if "query is too old" not in error.message.lower():
            raise
        log.info("An inline query expired before it was answered (update %s)", update.update_id)


def _result(article: Article) -> InlineQueryResultArticle:
    """Turn an inline result into PTB's article with the card's HTML and a deep link."""
    markup = None
    if article.button_url is not None:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(article.button_label, url=article.button_url)]]
        )
    return InlineQueryResultArticle(
        id=article.id,
        title=article.title,
        description=article.description,
        input_message_content=InputTextMessageContent(
            article.text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        reply_markup=markup,
    )
