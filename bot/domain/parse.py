"""Read dates and times the way German admins type them: "18.03.2027 14:00", "16 Uhr".

Pure functions without Telegram or a database. Every function raises ``ValueError`` and
nothing else on input it cannot read; the caller answers with a German hint.

Accepted, with any spacing and letter case:

* a date as ``TT.MM.JJJJ`` (``18.03.2027``, ``18.3.2027``), ``TT.MM.JJ`` (``18.03.27``,
  read as 2027: meetings are planned in this century) or ISO ``2027-03-18``;
* a time as ``14:00``, ``14.00``, ``14 Uhr``, ``14:00 Uhr`` or a bare hour ``14``;
* date and time separated by spaces, a comma or "um": ``18.03.2027, 14:00 Uhr``.

A wall time that does not exist in the zone (the hour skipped when clocks go forward) moves
to the next valid minute; an ambiguous one (the hour repeated in autumn) takes its first
occurrence (:func:`bot.domain.schedule.localize`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Final

from bot.domain.schedule import localize

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

# Anything longer is not a date someone typed; refusing early keeps the regexes cheap.
MAX_INPUT: Final = 64
# Two-digit years are read as 20JJ.
CENTURY: Final = 2000

_DATE: Final = r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{4}|[0-9]{2})"
_ISO_DATE: Final = r"(?P<iso_year>[0-9]{4})-(?P<iso_month>[0-9]{2})-(?P<iso_day>[0-9]{2})"
_TIME: Final = r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?(?:\s*uhr)?"
_SEPARATOR: Final = r"(?:\s*,\s*|\s+)(?:um\s+)?"

DATE_RE: Final = re.compile(rf"(?:{_DATE}|{_ISO_DATE})", re.ASCII)
TIME_RE: Final = re.compile(_TIME, re.ASCII)
DATE_TIME_RE: Final = re.compile(rf"(?:{_DATE}|{_ISO_DATE}){_SEPARATOR}{_TIME}", re.ASCII)


def _normalized(text: str) -> str:
    """Return the text trimmed, lower-cased, with runs of whitespace as one space."""
    if len(text) > MAX_INPUT:
        raise ValueError("input too long")
    return " ".join(text.split()).lower()


def _date_of(match: re.Match[str]) -> date:
    """Build the date of a match of ``DATE_RE`` or ``DATE_TIME_RE``."""
    if match.group("iso_year") is not None:
        year = int(match.group("iso_year"))
        month, day = int(match.group("iso_month")), int(match.group("iso_day"))
    else:
        raw_year = match.group("year")
        year = int(raw_year) + (CENTURY if len(raw_year) == 2 else 0)
        month, day = int(match.group("month")), int(match.group("day"))
    return date(year, month, day)  # raises ValueError for 31.02. and the like


def _time_of(match: re.Match[str]) -> time:
    """Build the time of a match of ``TIME_RE`` or ``DATE_TIME_RE``."""
    minute = match.group("minute")
    return time(int(match.group("hour")), 0 if minute is None else int(minute))


def parse_date(text: str) -> date:
    """Read a day such as "18.03.2027", "18.3.27" or "2027-03-18"."""
    match = DATE_RE.fullmatch(_normalized(text))
    if match is None:
        raise ValueError("not a date")
    return _date_of(match)


def parse_time(text: str) -> time:
    """Read a time of day such as "16:00", "16.00", "16 Uhr" or "16"."""
    match = TIME_RE.fullmatch(_normalized(text))
    if match is None:
        raise ValueError("not a time")
    return _time_of(match)


def parse_date_time(text: str, tz: ZoneInfo) -> datetime:
    """Read a local date and time such as "18.03.2027 14:00" as an aware time in ``tz``."""
    match = DATE_TIME_RE.fullmatch(_normalized(text))
    if match is None:
        raise ValueError("not a date and time")
    wall = datetime.combine(_date_of(match), _time_of(match))
    try:
        return localize(wall, tz)
    except OverflowError as error:  # the first or last hours that datetime can hold
        raise ValueError("date out of range") from error


def format_date_time(moment: datetime, tz: ZoneInfo) -> str:
    """Write an instant the way :func:`parse_date_time` reads it: "18.03.2027 14:00"."""
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """Write an instant's local time of day the way :func:`parse_time` reads it: "16:00"."""
    return moment.astimezone(tz).strftime("%H:%M")


_NUMBER: Final = r"[+-]?[0-9]{1,3}(?:[.,][0-9]{1,10})?"
COORDINATES_RE: Final = re.compile(
    rf"(?P<lat>{_NUMBER})\s*(?:[;/]|,(?=\s)|\s)\s*(?P<lon>{_NUMBER})", re.ASCII
)
LATITUDE_MAX: Final = 90.0
LONGITUDE_MAX: Final = 180.0


def parse_coordinates(text: str) -> tuple[float, float]:
    """Parse latitude and longitude in degrees: "48.7784, 9.18", "48,7784; 9,18", "48.7 9.1".

    A comma between the numbers needs a space after it, so "48,7784 9,18" reads German
    decimal commas. Raises ValueError for anything else or degrees out of range.
    """
    match = COORDINATES_RE.fullmatch(text.strip()[:MAX_INPUT])
    if match is None:
        raise ValueError(text)
    latitude = float(match["lat"].replace(",", "."))
    longitude = float(match["lon"].replace(",", "."))
    if not -LATITUDE_MAX <= latitude <= LATITUDE_MAX or not (
        -LONGITUDE_MAX <= longitude <= LONGITUDE_MAX
    ):
        raise ValueError(text)
    return latitude, longitude
