"""Describing failures without quoting them: exception messages may carry what people typed."""

from __future__ import annotations

import traceback


def describe_without_messages(error: BaseException | None) -> str:
    """Return the traceback of an exception chain with its frames but without messages."""
    if error is None:
        return "(no exception)"
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"{frames}{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    return "\n-- caused by or during --\n".join(reversed(parts))
