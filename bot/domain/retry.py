"""When a push that met a transient failure is tried again, and when it gives up.

A transient failure is one that Telegram or the network may not repeat a minute later: an HTTP
5xx, a refused or dropped connection, a timeout before the request was sent, a 429 that outlasted
the send budget's retries. The row goes back with a growing delay (:func:`retry_delay`) and
counts its attempts; it gives up only at its deadline (a reminder when its meeting starts, a
notice or a circular's row 24 hours after its first failure). A timeout after the request was
sent is not transient in this sense: the message may have arrived, so it is never repeated.

:class:`Outage` is the senders' shared view of Telegram's health: after a transient failure
nobody starts a new push until its delay has passed, so an outage of ten minutes costs a few
probing requests, not one failed request per recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

# 5 s, 15 s, 1 min, 5 min, then every 15 min.
RETRY_DELAYS: Final = (
    timedelta(seconds=5),
    timedelta(seconds=15),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
)
# How long a notice (change, cancellation, weekly preview) or a circular's row keeps trying
# after its first failure; a reminder tries until its meeting starts.
PATIENCE: Final = timedelta(hours=24)


def retry_delay(failures: int) -> timedelta:
    """Return the wait after the ``failures``-th transient failure in a row (1 or more)."""
    if failures < 1:
        raise ValueError(f"failures counts from 1, not {failures}")
    return RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]


def next_attempt(
    failures: int,
    now: datetime,
    *,
    deadline: datetime | None,
    retry_after: float | None = None,
) -> datetime | None:
    """Return when to try again after a transient failure, or None to give up.

    Args:
        failures: transient failures of this row so far, this one included.
        now: the time of this failure.
        deadline: the row gives up if the next try would not come before it (None: no try).
        retry_after: seconds Telegram asked to wait (a 429), if longer than the delay.
    """
    delay = retry_delay(failures)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    when = whole_second_up(now + delay)
    if deadline is None or when >= deadline:
        return None
    return when


def whole_second_up(moment: datetime) -> datetime:
    """Return ``moment`` rounded up to a whole second (times are stored to the second)."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


@dataclass
class Outage:
    """The senders' shared memory of transient failures: nobody sends before ``until``.

    A failure while the gate is open closes it for the next delay of the ladder (5 s, 15 s,
    1 min, ...); failures of requests that were already in flight when it closed do not
    lengthen it. A success opens it and starts the ladder again.
    """

    level: int = 0
    until: datetime | None = None

    def failed(self, now: datetime, *, retry_after: float | None = None) -> datetime:
        """Record a transient failure at ``now``; return when the gate opens again."""
        if self.until is None or now >= self.until:
            self.level += 1
            delay = retry_delay(self.level)
            if retry_after is not None:
                delay = max(delay, timedelta(seconds=retry_after))
            self.until = now + delay
        return self.until

    def succeeded(self) -> None:
        """Record that Telegram answered: the gate opens and the ladder starts again."""
        self.level = 0
        self.until = None

    def closed(self, now: datetime) -> bool:
        """Tell whether new pushes must wait at ``now``."""
        return self.until is not None and now < self.until
