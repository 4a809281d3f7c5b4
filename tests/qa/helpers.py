"""Shared helpers of the question-answering tests: contexts, the matching rules, HTML checks."""

from __future__ import annotations

import html
import re
import tomllib
from datetime import datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from bot.i18n import translator
from bot.views.common import RenderContext
from storage.importer import bundled_catalog

if TYPE_CHECKING:
    from bot.domain.models import Catalog
    from bot.views.replies import Reply

BERLIN: Final = ZoneInfo("Europe/Berlin")
UTC: Final = ZoneInfo("UTC")
DEV_SET: Final = Path(__file__).resolve().parents[3] / "shared/data/questions-dev.toml"
DEV_SET_2: Final = DEV_SET.with_name("questions-dev-2.toml")
PARAPHRASED_SET: Final = Path(__file__).resolve().parent / "questions_paraphrased.toml"
# Two clocks inside the sets' window (2026-11-26 … 2027-03-17, Europe/Berlin).
CLOCKS: Final = (
    datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN),
    datetime(2027, 3, 10, 10, 0, tzinfo=BERLIN),
)
ALLOWED_TAGS: Final = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote"})
_TAG = re.compile(r"<[^>]+>")


@cache
def catalog() -> Catalog:
    """Return the bundled catalog with the demo events, loaded once."""
    return bundled_catalog(include_demo=True)


def context(now: datetime = CLOCKS[0], features: frozenset[str] = frozenset()) -> RenderContext:
    """Return a German render context at ``now``."""
    return RenderContext(catalog(), translator(), BERLIN, now.astimezone(UTC), features)


def load_items(path: Path) -> list[dict[str, Any]]:
    """Return the [[items]] of a question set."""
    with path.open("rb") as fh:
        items: list[dict[str, Any]] = tomllib.load(fh)["items"]
    return items


def rendered(replies: list[Reply]) -> tuple[str, str]:
    """Return (raw HTML of all texts and labels, normalized text) as the set header defines."""
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts.extend(b.label for row in reply.buttons for b in row)
    raw = "\n".join(parts)
    text = " ".join(html.unescape(_TAG.sub("", raw)).split()).casefold()
    return raw, text


def problems(item: dict[str, Any], replies: list[Reply]) -> list[str]:
    """Return what a reply gets wrong for an item, by the set's matching rules."""
    raw, text = rendered(replies)
    found = []
    for entry in item["must_contain"]:
        options = [entry] if isinstance(entry, str) else entry
        if not any(o.casefold() in text for o in options):
            found.append(f"missing {entry!r}")
    found.extend(
        f"contains {bad!r}" for bad in item.get("must_not_contain", []) if bad.casefold() in text
    )
    found.extend(f"raw {bad!r}" for bad in item.get("must_not_contain_raw", []) if bad in raw)
    return found


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
