"""Flood control like Telegram's, as token buckets.

The Bots FAQ names the limits: about 30 messages per second overall, about one message per
second in a private chat (short bursts are tolerated), 20 messages per minute in a group. A
refused call consumes nothing and learns how many whole seconds to wait (``retry_after``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

Clock = Callable[[], float]

GLOBAL_RATE: Final = 30.0
GLOBAL_BURST: Final = 30.0
PRIVATE_RATE: Final = 1.0
PRIVATE_BURST: Final = 3.0
GROUP_RATE: Final = 20.0 / 60.0
GROUP_BURST: Final = 20.0
_EPSILON: Final = 1e-9


def counts_for_flood(method: str) -> bool:
    """Tell whether a method sends a message and so counts against the limits."""
    name = method.lower()
    if name == "sendchataction":
        return False
    return name.startswith(("send", "copy", "forward"))


@dataclass(slots=True)
class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` tokens per second."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last update."""
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait_time(self, now: float) -> float:
        """Return the seconds until one token is available (0 if one is available now)."""
        self.refill(now)
        if self.tokens >= 1.0 - _EPSILON:  # forgive floating-point dust from refills
            return 0.0
        return (1.0 - self.tokens) / self.rate


class FloodControl:
    """Global, per-private-chat and per-group buckets with an injectable clock."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._global: TokenBucket | None = None
        self._chats: dict[int, TokenBucket] = {}
        self.refusals = 0

    def _bucket(self, chat_id: int, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            # Negative ids are groups, supergroups and channels.
            rate, burst = (
                (PRIVATE_RATE, PRIVATE_BURST) if chat_id > 0 else (GROUP_RATE, GROUP_BURST)
            )
            bucket = self._chats[chat_id] = TokenBucket(rate, burst, burst, now)
        return bucket

    def acquire(self, chat_id: int | None) -> int | None:
        """Take a token for a send to ``chat_id``; return None, or retry_after when refused."""
        now = self._clock()
        if self._global is None:
            self._global = TokenBucket(GLOBAL_RATE, GLOBAL_BURST, GLOBAL_BURST, now)
        buckets = [self._global]
        if chat_id is not None:
            buckets.append(self._bucket(chat_id, now))
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            self.refusals += 1
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1.0
        return None

    def reset(self) -> None:
        """Forget all buckets (full bursts again)."""
        self._global = None
        self._chats.clear()
