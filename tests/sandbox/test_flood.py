"""Flood control buckets, on a fake clock."""

from __future__ import annotations

from bot.sandbox.flood import FloodControl, counts_for_flood


class FakeClock:
    """A clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_private_chat_burst_of_three_then_one_per_second() -> None:
    clock = FakeClock()
    flood = FloodControl(clock=clock)
    assert [flood.acquire(1) for _ in range(3)] == [None, None, None]
    assert flood.acquire(1) == 1
    assert flood.refusals == 1
    clock.now += 0.5
    assert flood.acquire(1) == 1  # half a token: still refused, and nothing consumed
    clock.now += 0.5
    assert flood.acquire(1) is None
    assert flood.acquire(1) == 1
    assert flood.acquire(2) is None  # other chats have their own bucket


def test_global_limit_of_thirty_per_second() -> None:
    clock = FakeClock()
    flood = FloodControl(clock=clock)
    assert all(flood.acquire(chat) is None for chat in range(1, 31))
    assert flood.acquire(31) == 1
    clock.now += 1 / 30
    assert flood.acquire(31) is None


def test_group_twenty_per_minute() -> None:
    clock = FakeClock()
    flood = FloodControl(clock=clock)
    assert all(flood.acquire(-100) is None for _ in range(20))
    assert flood.acquire(-100) == 3  # one token takes three seconds at 20 per minute
    clock.now += 2.5
    assert flood.acquire(-100) == 1
    clock.now += 0.6
    assert flood.acquire(-100) is None


def test_which_methods_count() -> None:
    assert counts_for_flood("sendMessage")
    assert counts_for_flood("copyMessage")
    assert counts_for_flood("forwardMessages")
    assert not counts_for_flood("sendChatAction")
    assert not counts_for_flood("editMessageText")
