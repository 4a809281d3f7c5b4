"""The rules for a meeting's values, one check per field, for the chat dialog and the store.

Each check returns ``None`` for a good value or a :class:`Problem` (an English msgid and its
values, translated where it is shown). The admins' dialog checks every answer as it comes;
the store checks the whole meeting again before it writes (``netzwerkbot events add`` and an
import of new meetings go through the store), so both give the same answer to the same value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.domain.text import N_

if TYPE_CHECKING:
    from collections.abc import Callable
    from zoneinfo import ZoneInfo


TITLE_MAX: Final = 200
DESCRIPTION_MAX: Final = 2000
PLACE_MAX: Final = 200
# How far ahead a start may lie: a typo such as "31.12.9999" is not a plan.
YEARS_AHEAD: Final = 5

PROBLEM_TITLE: Final = N_("The title must have between 1 and {limit} characters.")
PROBLEM_DESCRIPTION: Final = N_("The description must have between 1 and {limit} characters.")
PROBLEM_CITY: Final = N_("The place must have between 1 and {limit} characters.")
PROBLEM_VENUE: Final = N_("The venue may have at most {limit} characters.")
PROBLEM_START_MISSING: Final = N_("The date and time of the start are missing.")
PROBLEM_START_PAST: Final = N_("The start must lie in the future.")
PROBLEM_START_FAR: Final = N_("The start may lie at most {limit} years ahead.")
PROBLEM_END: Final = N_("The end must lie after the start, on the same day.")


@dataclass(frozen=True, slots=True)
class Problem:
    """A broken rule: an English msgid with ``{placeholders}`` and their values."""

    msgid: str
    params: tuple[tuple[str, str], ...] = ()

    def describe(self, gettext: Callable[[str], str]) -> str:
        """Return the problem in the translator's language."""
        return gettext(self.msgid).format(**dict(self.params))


def _length(value: str, limit: int, msgid: str) -> Problem | None:
    if not value.strip() or len(value) > limit:
        return Problem(msgid, (("limit", str(limit)),))
    return None


def check_title(title: str) -> Problem | None:
    """Check a title: 1 to TITLE_MAX characters, not only spaces."""
    return _length(title, TITLE_MAX, PROBLEM_TITLE)


def check_description(description: str) -> Problem | None:
    """Check a description: 1 to DESCRIPTION_MAX characters, not only spaces."""
    return _length(description, DESCRIPTION_MAX, PROBLEM_DESCRIPTION)


def check_city(city: str) -> Problem | None:
    """Check a town or city: 1 to PLACE_MAX characters, not only spaces."""
    return _length(city, PLACE_MAX, PROBLEM_CITY)


def check_venue(venue: str) -> Problem | None:
    """Check a venue: 1 to PLACE_MAX characters, not only spaces."""
    return _length(venue, PLACE_MAX, PROBLEM_VENUE)


def latest_start(now: datetime) -> datetime:
    """Return the latest start accepted at ``now``: the same moment YEARS_AHEAD years on."""
    try:
        return now.replace(year=now.year + YEARS_AHEAD)
    except ValueError:  # 29 February: the day before in the target year
        return (now - timedelta(days=1)).replace(year=now.year + YEARS_AHEAD)


def check_start(start: datetime, now: datetime) -> Problem | None:
    """Check a start: after ``now`` and at most YEARS_AHEAD years ahead."""
    if start <= now:
        return Problem(PROBLEM_START_PAST)
    if start > latest_start(now):
        return Problem(PROBLEM_START_FAR, (("limit", str(YEARS_AHEAD)),))
    return None


def check_end(start: datetime, end: datetime, tz: ZoneInfo) -> Problem | None:
    """Check an end: after the start, on the start's local day."""
    if end <= start or end.astimezone(tz).date() != start.astimezone(tz).date():
        return Problem(PROBLEM_END)
    return None
