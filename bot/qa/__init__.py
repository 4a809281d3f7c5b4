"""Free-text questions in German, answered from the catalog without a language model."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.qa.answer import answer, unknown_reply
from bot.qa.intents import INTENTS, Understanding, classify

if TYPE_CHECKING:
    from bot.render import RenderContext
    from bot.replies import Reply

__all__ = [
    "INTENTS",
    "Understanding",
    "answer_question",
    "answer_question_unguarded",
    "classify",
    "understand",
]

logger = logging.getLogger(__name__)


def answer_question_unguarded(text: str, ctx: RenderContext) -> list[Reply]:
    """Answer a member's message; exceptions propagate (for tests)."""
    understanding = classify(text, ctx.catalog, ctx.now, ctx.tz)
    return answer(understanding, ctx)


def answer_question(text: str, ctx: RenderContext) -> list[Reply]:
    """Answer a member's message with at least one reply; never raises for any text."""
    try:
        return answer_question_unguarded(text, ctx)
    except Exception:
        # A bug must not leave the member without an answer; the log keeps the trace.
        logger.exception("answering a question failed")
        return [unknown_reply(ctx)]


def understand(text: str, ctx: RenderContext) -> Understanding | None:
    """Return what a message asks, or None when understanding it failed (a bug, logged)."""
    try:
        return classify(text, ctx.catalog, ctx.now, ctx.tz)
    except Exception:
        logger.exception("understanding a question failed")
        return None
