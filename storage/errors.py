"""Small domain exceptions raised by storage; callers turn them into translated messages.

Every message is an English msgid marked with ``N_`` and filled with named placeholders
after translation, so the CLI can show an operator the German text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from bot.domain.text import N_

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# How a data file error reads, depending on how precisely it can be located.
MSG_AT_ENTRY_FIELD: Final = N_("{file}: entry {entry}, field {field}: {problem}")
MSG_AT_ENTRY: Final = N_("{file}: entry {entry}: {problem}")
MSG_AT_FIELD: Final = N_("{file}: field {field}: {problem}")
MSG_AT_FILE: Final = N_("{file}: {problem}")

# The problems (placeholders filled from DataFileError.params).
PROBLEM_UNREADABLE: Final = N_("the file cannot be read: {detail}")
PROBLEM_SYNTAX: Final = N_("invalid TOML in line {line}, column {column}: {detail}")
PROBLEM_MISSING: Final = N_("required field is missing")
PROBLEM_TYPE: Final = N_("expected TOML type {expected}, found {found}")
PROBLEM_UNKNOWN_FIELD: Final = N_("unknown field (typing error?); allowed are: {allowed}")
PROBLEM_NOT_ALLOWED: Final = N_("value {value} is not allowed; allowed are: {allowed}")
PROBLEM_TIMEZONE: Final = N_("unknown time zone {value}")
PROBLEM_EMPTY: Final = N_("must not be empty")
PROBLEM_BAD_ID: Final = N_(
    "{value} is not a valid id (lower-case letters, digits and single hyphens, "
    "at most {max_length} characters)"
)
PROBLEM_DUPLICATE: Final = N_("the id {value} occurs more than once")
PROBLEM_REFERENCE: Final = N_("{value} is not defined in [[{table}]]")
PROBLEM_REQUIRED_WHEN: Final = N_("required when {condition}")
PROBLEM_ABSENT_WHEN: Final = N_("must be absent when {condition}")
PROBLEM_NOT_ON_DATE: Final = N_("{value} does not fall on the event's date {date}")
PROBLEM_END_BEFORE_START: Final = N_("the end {value} lies before the start {start}")
PROBLEM_LOCAL_TIME: Final = N_(
    "the local time {value} does not exist or is ambiguous in {timezone} "
    "(daylight saving time change)"
)
PROBLEM_FICTIONAL_MIXED: Final = N_(
    "all events of one file must have the same fictional value; the first event has {value}"
)


class StorageError(Exception):
    """Base class of the storage errors."""


class DataFileError(StorageError):
    """A data file is invalid; it is rejected as a whole and nothing is changed.

    Attributes:
        file: the file's name as given to the parser.
        entry: the entry, e.g. ``events[3] (netzwerktreffen-5)``; empty at the top level.
        field: the field, e.g. ``date_text`` or ``hosts[0].network``; empty if none.
        problem: an English msgid with ``{placeholders}``.
        params: the values for the placeholders.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str = "<data>",
        entry: str = "",
        field: str = "",
        params: Mapping[str, str] | None = None,
    ) -> None:
        self.file = file
        self.entry = entry
        self.field = field
        self.problem = problem
        self.params: dict[str, str] = dict(params or {})
        super().__init__(self.describe(lambda message: message))

    def describe(self, gettext: Callable[[str], str]) -> str:
        """Return the one-line message, translated with ``gettext``."""
        problem = gettext(self.problem).format(**self.params)
        if self.entry and self.field:
            template = MSG_AT_ENTRY_FIELD
        elif self.entry:
            template = MSG_AT_ENTRY
        elif self.field:
            template = MSG_AT_FIELD
        else:
            template = MSG_AT_FILE
        return gettext(template).format(
            file=self.file, entry=self.entry, field=self.field, problem=problem
        )


class SchemaError(StorageError):
    """The database cannot be used by this code (e.g. it has a newer schema)."""
