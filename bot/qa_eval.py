"""Score the answerer on a question set in the public sets' format (``netzwerkbot eval``).

A question set is a TOML file with one ``[[items]]`` table per message: ``id``, ``text``,
``intent`` (the kind of answer expected; ``unknown`` for facts the data leaves out),
``must_contain`` (every entry required; an entry is a string or a list of alternatives),
optional ``must_not_contain`` (wrong or invented facts, cards that do not answer) and
``must_not_contain_raw`` (user text echoed without escaping). The matching rules are the
public sets': the reply is every text plus every button label, HTML tags removed, entities
unescaped, whitespace collapsed, compared case-insensitively as substrings; the raw check is
case-sensitive on the HTML as sent. The tests score the public sets with the same code.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from bot.domain.text import N_
from bot.views.answers import answer_question_unguarded

if TYPE_CHECKING:
    from pathlib import Path

    from bot.views.common import RenderContext
    from bot.views.replies import Reply

_TAG: Final = re.compile(r"<[^>]+>")
Answerer = Callable[[str, "RenderContext"], "list[Reply]"]


# What is wrong with a question set (placeholders filled from QuestionSetError.params).
PROBLEM_NO_ITEMS: Final = N_("it has no {table} with questions")
PROBLEM_NOT_TABLE: Final = N_("entry {number} of {table} is not a table")
PROBLEM_FIELD: Final = N_("entry {number} of {table} needs the text field {field}")
PROBLEM_LIST: Final = N_(
    "entry {number} ({id}) of {table}: {field} must be a list of texts (or of lists of texts)"
)


class QuestionSetError(ValueError):
    """A question set file is not in the expected format (the message says where)."""

    def __init__(self, problem: str, **params: object) -> None:
        """Keep the English msgid and its values; :meth:`describe` translates them."""
        params = {"table": "[[items]]", **params}
        super().__init__(problem.format(**params))
        self.problem = problem
        self.params = params

    def describe(self, gettext: Callable[[str], str]) -> str:
        """Return the problem in the translator's language."""
        return gettext(self.problem).format(**self.params)


def load_items(path: Path) -> list[dict[str, Any]]:
    """Return the ``[[items]]`` of a question set, checked for the fields scoring needs.

    Raises:
        OSError: the file cannot be read.
        tomllib.TOMLDecodeError: it is not TOML.
        QuestionSetError: an item lacks a field or has one of the wrong type.
    """
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise QuestionSetError(PROBLEM_NO_ITEMS)
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise QuestionSetError(PROBLEM_NOT_TABLE, number=number)
        for key in ("id", "text"):
            if not isinstance(item.get(key), str):
                raise QuestionSetError(PROBLEM_FIELD, number=number, field=key)
        item.setdefault("intent", "")
        item.setdefault("must_contain", [])
        for key in ("must_contain", "must_not_contain", "must_not_contain_raw"):
            entries = item.get(key, [])
            if not isinstance(entries, list) or not all(
                isinstance(e, str) or (isinstance(e, list) and all(isinstance(o, str) for o in e))
                for e in entries
            ):
                raise QuestionSetError(PROBLEM_LIST, number=number, id=item["id"], field=key)
    return items


def rendered(replies: list[Reply]) -> tuple[str, str]:
    """Return (raw HTML of all texts and labels, normalized text) as the sets define them."""
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts.extend(b.label for row in reply.buttons for b in row)
    raw = "\n".join(parts)
    text = " ".join(html.unescape(_TAG.sub("", raw)).split()).casefold()
    return raw, text


def problems(item: dict[str, Any], replies: list[Reply]) -> list[str]:
    """Return what a reply gets wrong for an item, by the sets' matching rules."""
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


@dataclass(frozen=True, slots=True)
class Miss:
    """One item the answerer got wrong."""

    id: str
    text: str
    intent: str
    problems: tuple[str, ...]

    @property
    def invented(self) -> bool:
        """A fact the data leaves out was answered with something forbidden."""
        return self.intent == "unknown" and any(p.startswith("contains") for p in self.problems)

    @property
    def unescaped(self) -> bool:
        """User text was echoed without escaping."""
        return any(p.startswith("raw") for p in self.problems)


@dataclass(frozen=True, slots=True)
class Score:
    """The result of one question set at one moment."""

    total: int
    misses: tuple[Miss, ...] = field(default=())

    @property
    def passed(self) -> int:
        """How many items were answered right."""
        return self.total - len(self.misses)

    @property
    def rate(self) -> float:
        """The share of items answered right (1.0 for an empty set)."""
        return self.passed / self.total if self.total else 1.0

    @property
    def invented(self) -> tuple[str, ...]:
        """The ids of items with an invented fact."""
        return tuple(m.id for m in self.misses if m.invented)

    @property
    def unescaped(self) -> tuple[str, ...]:
        """The ids of items whose reply echoed user text unescaped."""
        return tuple(m.id for m in self.misses if m.unescaped)


def score(
    items: list[dict[str, Any]],
    ctx: RenderContext,
    answerer: Answerer = answer_question_unguarded,
) -> Score:
    """Answer every item's text in ``ctx`` and collect the misses."""
    misses = []
    for item in items:
        found = problems(item, answerer(item["text"], ctx))
        if found:
            misses.append(Miss(item["id"], item["text"], str(item["intent"]), tuple(found)))
    return Score(len(items), tuple(misses))


def plain(replies: list[Reply]) -> str:
    """Return replies as an operator reads them in a terminal: text, then [button] lines."""
    blocks = []
    for reply in replies:
        lines = [html.unescape(_TAG.sub("", reply.text)).strip()]
        lines.extend(f"[{b.label}]" for row in reply.buttons for b in row)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
