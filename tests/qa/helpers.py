"""Shared helpers of the question-answering tests: contexts, HTML checks.

The matching rules are product code (``bot.qa_eval``, also behind ``netzwerkbot eval``);
they are re-exported here for the tests.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from bot.i18n import translator
from bot.qa_eval import load_items, problems, rendered
from bot.views.common import RenderContext
from storage.importer import bundled_catalog

if TYPE_CHECKING:
    from bot.domain.models import Catalog

__all__ = ["load_items", "problems", "rendered"]

BERLIN: Final = ZoneInfo("Europe/Berlin")
UTC: Final = ZoneInfo("UTC")
DEV_SET: Final = Path(__file__).resolve().parents[3] / "shared/data/questions-dev.toml"
DEV_SET_2: Final = DEV_SET.with_name("questions-dev-2.toml")
PARAPHRASED_SET: Final = Path(__file__).resolve().parent / "questions_paraphrased.toml"
HELDOUT_SET: Final = PARAPHRASED_SET.with_name("questions_heldout.toml")
# Two clocks inside the sets' window (2026-11-26 … 2027-03-17, Europe/Berlin).
CLOCKS: Final = (
    datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN),
    datetime(2027, 3, 10, 10, 0, tzinfo=BERLIN),
)
ALLOWED_TAGS: Final = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote"})


@cache
def catalog() -> Catalog:
    """Return the bundled catalog with the demo events, loaded once."""
    return bundled_catalog(include_demo=True)


def context(now: datetime = CLOCKS[0], features: frozenset[str] = frozenset()) -> RenderContext:
    """Return a German render context at ``now``."""
    return RenderContext(catalog(), translator(), BERLIN, now.astimezone(UTC), features)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> not allowed")
        if tag == "a" and [k for k, _v in attrs] != ["href"]:
            self.errors.append("<a> needs exactly href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def html_errors(text: str) -> list[str]:
    """Return what makes ``text`` invalid Telegram HTML: unknown or unbalanced tags, stray <."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    errors = checker.errors
    if checker.stack:
        errors.append(f"unclosed {checker.stack}")
    if re.search(r"<(?![a-z/])", text) or re.search(r"&(?![a-z]+;|#\d+;|#x[0-9a-f]+;)", text):
        errors.append("unescaped < or &")
    return errors
