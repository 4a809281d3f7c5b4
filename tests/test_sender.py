"""SendBudget and push on a fake clock: bucket maths, lanes, 429 handling, outcomes."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import BaseRequest

from bot.app import build_application
from bot.config import Settings
from bot.delivery.sender import (
    BULK,
    DEFAULT_BURST,
    INTERACTIVE,
    PushOutcome,
    PushResult,
    SendBudget,
    push,
    retry_after_seconds,
    sends_message,
)
from bot.sandbox.flood import FloodControl
from bot.views.replies import Button, Reply

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable
    from pathlib import Path

    from telegram.request import RequestData

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let RetryAfter be built without PTB 22's int deprecation warning (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


class FakeTime:
    """Virtual time: ``sleep`` parks the caller; ``run`` jumps to the next wake-up when idle."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        """Return the virtual time."""
        return self.now

    async def sleep(self, delay: float) -> None:
        """Wait ``delay`` virtual seconds."""
        self.sleeps.append(delay)
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(delay, 0.0), next(self._order), future))
        await future

    async def run(self, *awaitables: Awaitable[Any]) -> list[Any]:
        """Run the awaitables to completion, advancing virtual time whenever all are parked."""
        tasks = [asyncio.ensure_future(a) for a in awaitables]
        while True:
            await settle()
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            if not self._timers:
                raise AssertionError("deadlock: tasks wait but no timer is set")
            when, _, future = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            if not future.done():
                future.set_result(None)


async def settle() -> None:
    """Let every runnable task run until it parks (no I/O involved, so a few rounds do)."""
    for _ in range(20):
        await asyncio.sleep(0)


class Recorder:
    """A stand-in for PTB's request callback: records (virtual time, chat) of each call."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.calls: list[tuple[float, str, Any]] = []
        self.refuse: dict[Any, list[float]] = {}  # chat -> retry_after of its next calls

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((self.time.now, endpoint, data.get("chat_id")))
        pending = self.refuse.get(data.get("chat_id"))
        if pending:
            raise RetryAfter(timedelta(seconds=pending.pop(0)))
        return {"message_id": len(self.calls)}

    def times(self, chat: Any = None) -> list[float]:
        """Return the call times, of one chat or of all."""
        return [t for t, _, c in self.calls if chat is None or c == chat]


def send(
    budget: SendBudget,
    recorder: Recorder,
    chat_id: int | str | None,
    *,
    bulk: bool = True,
    endpoint: str = "sendMessage",
) -> Awaitable[Any]:
    """Return the coroutine PTB would run for one request through the budget."""
    data: dict[str, Any] = {} if chat_id is None else {"chat_id": chat_id}
    return budget.process_request(
        recorder,
        (endpoint, data),
        {},
        endpoint,
        data,
        BULK if bulk else None,
    )


@pytest.fixture
def time_() -> FakeTime:
    """Return virtual time starting at 0."""
    return FakeTime()


@pytest.fixture
def recorder(time_: FakeTime) -> Recorder:
    """Return a request callback on virtual time."""
    return Recorder(time_)


def budget_on(time_: FakeTime, rate: float = 30, **kwargs: Any) -> SendBudget:
    """Return a budget on virtual time."""
    return SendBudget(rate, clock=time_.monotonic, sleep=time_.sleep, **kwargs)


# ---------------------------------------------------------------------- bucket maths


async def test_global_rate(time_: FakeTime, recorder: Recorder) -> None:
    """90 pushes to 90 chats at 30/s: the burst at once, then one every 1/30 s (about 3 s)."""
    budget = budget_on(time_)
    await time_.run(*(send(budget, recorder, chat) for chat in range(1, 91)))
    times = recorder.times()
    expected = [max(0.0, (i + 1 - DEFAULT_BURST) / 30) for i in range(90)]
    assert times == pytest.approx(expected)
    assert 2.9 <= times[-1] <= 3.0
    assert [c for _, _, c in recorder.calls] == list(range(1, 91)), "first come, first served"


async def test_per_chat_interval(time_: FakeTime, recorder: Recorder) -> None:
    """Three pushes to one private chat take 2 s; to a group, 20 per minute."""
    budget = budget_on(time_)
    await time_.run(*(send(budget, recorder, 7) for _ in range(3)))
    assert recorder.times(7) == pytest.approx([0.0, 1.0, 2.0])
    await time_.run(*(send(budget, recorder, -100) for _ in range(3)))
    assert recorder.times(-100) == pytest.approx([2.0, 5.0, 8.0])


async def test_groups_and_channels_stay_within_twenty_per_minute(
    time_: FakeTime, recorder: Recorder
) -> None:
    """Pushes to a group and a channel meet Telegram's group limit (the sandbox's buckets)."""
    flood = FloodControl(clock=time_.monotonic)
    budget = budget_on(time_)
    group, channel = -100, -1001234567890
    chats = [group, channel, 7] * 30

    async def checked(chat: int) -> None:
        await send(budget, recorder, chat)
        assert flood.acquire(chat) is None, f"Telegram would refuse a push to {chat}"

    await time_.run(*(checked(chat) for chat in chats))
    assert flood.refusals == 0
    for chat in (group, channel):
        times = recorder.times(chat)
        assert len(times) == 30
        # No window of a minute holds more than 20 of them.
        assert all(sum(1 for t in times if start <= t < start + 60) <= 20 for start in times)


async def test_waiting_chat_does_not_hold_up_others(time_: FakeTime, recorder: Recorder) -> None:
    """A push waiting for its chat lets pushes to other chats pass."""
    budget = budget_on(time_, burst=1)
    await time_.run(
        send(budget, recorder, 1), send(budget, recorder, 1), send(budget, recorder, 2)
    )
    assert [(round(t, 6), c) for t, _, c in recorder.calls] == [(0.0, 1), (0.033333, 2), (1.0, 1)]


async def test_fifo_among_bulk_waiters(time_: FakeTime, recorder: Recorder) -> None:
    """Pushes queued one after the other leave in that order, even when they arrive late."""
    budget = budget_on(time_, rate=10, burst=1)

    async def later(chat: int, delay: float) -> None:
        await time_.sleep(delay)
        await send(budget, recorder, chat)

    # 20 queued at once, and 5 more arriving while the first ones wait.
    await time_.run(
        *(send(budget, recorder, chat) for chat in range(1, 21)),
        *(later(chat, 0.05 * (chat - 20)) for chat in range(21, 26)),
    )
    assert [c for _, _, c in recorder.calls] == list(range(1, 26))
    assert recorder.times() == pytest.approx([i / 10 for i in range(25)])


async def test_non_sending_requests_pass(time_: FakeTime, recorder: Recorder) -> None:
    """Edits, callback answers and chat actions neither wait nor take tokens."""
    budget = budget_on(time_, burst=1)
    for endpoint in ("editMessageText", "answerCallbackQuery", "sendChatAction", "setMyCommands"):
        await asyncio.wait_for(send(budget, recorder, 5, bulk=False, endpoint=endpoint), 1)
    await time_.run(send(budget, recorder, 6), send(budget, recorder, 7))
    assert recorder.times() == pytest.approx([0, 0, 0, 0, 0, 1 / 30])


def test_sends_message() -> None:
    """The methods that count against Telegram's limits."""
    assert all(sends_message(m) for m in ("sendMessage", "sendDocument", "copyMessage"))
    assert sends_message("forwardMessages")
    assert not any(
        sends_message(m) for m in ("sendChatAction", "editMessageText", "answerCallbackQuery")
    )


# ------------------------------------------------------------------- replies vs pushes


async def test_replies_never_wait_and_delay_the_bulk_lane(
    time_: FakeTime, recorder: Recorder
) -> None:
    """With 1,000 pushes queued, replies go at once; the bulk lane pays their tokens."""
    budget = budget_on(time_)
    bulk = [asyncio.ensure_future(send(budget, recorder, chat)) for chat in range(1, 1001)]
    await settle()
    assert len(recorder.calls) == DEFAULT_BURST  # the burst left, the rest waits at t=0
    for _ in range(10):
        await asyncio.wait_for(send(budget, recorder, 5000, bulk=False), 1)
    assert time_.now == 0
    assert recorder.times(5000) == [0.0] * 10
    await time_.run(*bulk)
    bulk_times = [t for t, _, c in recorder.calls if c != 5000]
    # Pushes 4, 5, ... would have left at 1/30, 2/30, ...; ten replies push them 10/30 s back.
    assert bulk_times[int(DEFAULT_BURST)] == pytest.approx(11 / 30)
    assert bulk_times[-1] == pytest.approx((1000 - DEFAULT_BURST + 10) / 30)


async def test_reply_moves_the_next_push_to_its_chat(time_: FakeTime, recorder: Recorder) -> None:
    """A reply to a chat counts as its message for the second: the push to it waits."""
    budget = budget_on(time_)
    await send(budget, recorder, 9, bulk=False)
    time_.now = 0.4
    await time_.run(send(budget, recorder, 9))
    assert recorder.times(9) == pytest.approx([0.0, 1.0])


async def test_reply_429_is_retried_once_after_a_short_retry_after(
    time_: FakeTime, recorder: Recorder
) -> None:
    """A reply refused for 4 s is sent again after exactly 4 s; a push to its chat waits too."""
    budget = budget_on(time_)
    recorder.refuse[9] = [4]
    await time_.run(send(budget, recorder, 9, bulk=False))
    assert recorder.times(9) == pytest.approx([0.0, 4.0])
    await time_.run(send(budget, recorder, 9), send(budget, recorder, 10))
    assert recorder.times(10) == [4.0], "other chats are not held up"
    assert recorder.times(9) == pytest.approx([0.0, 4.0, 5.0])


async def test_reply_429_gives_up_on_a_long_wait_or_a_second_429(
    time_: FakeTime, recorder: Recorder
) -> None:
    """Over 5 s the reply fails at once; a second 429 after the retry is raised, not retried."""
    for rate in (30.0, 0.0):
        budget = budget_on(time_, rate=rate)
        recorder.calls.clear()
        recorder.refuse[9] = [6]
        with pytest.raises(RetryAfter):
            await asyncio.wait_for(send(budget, recorder, 9, bulk=False), 1)
        assert len(recorder.calls) == 1
        recorder.refuse[9] = [2, 3]
        (result,) = await time_.run(
            asyncio.gather(send(budget, recorder, 9, bulk=False), return_exceptions=True)
        )
        assert isinstance(result[0], RetryAfter)
        assert len(recorder.calls) == 3


# -------------------------------------------------------------------------- 429s


async def test_retry_after_pauses_the_lane_and_retries(
    time_: FakeTime, recorder: Recorder
) -> None:
    """A 429 on a push pauses every push for exactly retry_after, then the push is retried."""
    budget = budget_on(time_, burst=1)
    recorder.refuse[2] = [7]
    await time_.run(*(send(budget, recorder, chat) for chat in range(1, 5)))
    assert [(round(t, 6), c) for t, _, c in recorder.calls] == [
        (0.0, 1),
        (0.033333, 2),  # refused: retry after 7 s
        (7.033333, 3),  # nothing earlier
        (7.066667, 4),
        (7.1, 2),  # retried at the back of the lane
    ]


async def test_pause_holds_a_push_that_already_has_its_token(
    time_: FakeTime, recorder: Recorder
) -> None:
    """A push waiting for its chat (token in hand) still waits out a pause that began meanwhile."""
    budget = budget_on(time_, burst=1)
    recorder.refuse[3] = [5]

    async def reply_later() -> None:
        await time_.sleep(0.01)
        await send(budget, recorder, 1, bulk=False)  # chat 1 is busy until 1.01

    await time_.run(
        send(budget, recorder, 2),  # t=0, the burst
        send(budget, recorder, 1),  # token at 2/30 (the reply's debt), then waits for chat 1
        send(budget, recorder, 3),  # token at 3/30, refused: pause until 5 + 3/30
        reply_later(),
    )
    pause_end = 3 / 30 + 5
    assert recorder.times(1) == pytest.approx([0.01, pause_end])
    assert recorder.times(3) == pytest.approx([3 / 30, pause_end])


async def test_retry_after_gives_up_after_max_retries(time_: FakeTime, recorder: Recorder) -> None:
    """After ``max_retries`` 429s the error reaches the caller."""
    budget = budget_on(time_, max_retries=2)
    recorder.refuse[3] = [1, 2, 3]
    (result,) = await time_.run(asyncio.gather(send(budget, recorder, 3), return_exceptions=True))
    assert isinstance(result[0], RetryAfter)
    assert recorder.times(3) == pytest.approx([0.0, 1.0, 3.0])


def test_retry_after_read_without_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading retry_after does not trip PTB 22's deprecation warning (warnings are errors)."""
    error = RetryAfter(timedelta(seconds=3))
    monkeypatch.delenv("PTB_TIMEDELTA")
    assert retry_after_seconds(error) == 3.0


# ------------------------------------------------------------------------ rate 0


async def test_rate_zero_never_waits(time_: FakeTime, recorder: Recorder) -> None:
    """Rate 0: no waiting at all, not even per chat; a 429 is still honoured."""
    budget = budget_on(time_, rate=0)
    await time_.run(*(send(budget, recorder, chat % 5) for chat in range(200)))
    assert recorder.times() == [0.0] * 200
    recorder.refuse[1] = [2]
    await time_.run(send(budget, recorder, 1), send(budget, recorder, 2))
    assert recorder.times()[200:] == pytest.approx([0.0, 2.0, 2.0])  # the lane pauses


@pytest.mark.parametrize(("rate", "expected"), [(12.5, 12.5), (None, 30)])
def test_the_application_budget_follows_the_setting(
    tmp_path: Path, rate: float | None, expected: float
) -> None:
    """The application's rate limiter is a SendBudget at NETZWERKBOT_SEND_RATE."""
    settings = Settings(token="1:x", database=tmp_path / "bot.sqlite3")
    if rate is not None:
        settings = replace(settings, send_rate=rate)
    limiter = build_application(settings).bot.rate_limiter
    assert isinstance(limiter, SendBudget)
    assert limiter.rate == expected


def test_invalid_arguments() -> None:
    """Negative rates, empty buckets and unknown lanes are refused."""
    with pytest.raises(ValueError, match="rate"):
        SendBudget(-1)
    with pytest.raises(ValueError, match="burst"):
        SendBudget(30, burst=0.5)


async def test_unknown_rate_limit_args(time_: FakeTime, recorder: Recorder) -> None:
    """A typo in rate_limit_args fails loudly instead of skipping the budget."""
    budget = budget_on(time_)
    with pytest.raises(ValueError, match="rate_limit_args"):
        await budget.process_request(recorder, ("sendMessage", {}), {}, "sendMessage", {}, "bluk")


# -------------------------------------------------------------------------- push


class FakeTelegram(BaseRequest):
    """PTB's request layer faked: answers getMe, then plays scripted answers per chat."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.script: dict[int, list[tuple[int, dict[str, Any]] | Exception]] = {}

    @property
    def read_timeout(self) -> float | None:
        """Return no default read timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer like Telegram, or as the script says."""
        params = request_data.parameters if request_data else {}
        if url.endswith("/getMe"):
            bot = {"id": 123456, "is_bot": True, "first_name": "Bot", "username": "bot"}
            return 200, json.dumps({"ok": True, "result": bot}).encode()
        self.sent.append(params)
        chat_id = int(params["chat_id"])
        pending = self.script.get(chat_id)
        if pending:
            step = pending.pop(0)
            if isinstance(step, Exception):
                raise step
            status, body = step
            return status, json.dumps({"ok": False, "error_code": status, **body}).encode()
        message = {
            "message_id": len(self.sent),
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "text": params["text"],
        }
        return 200, json.dumps({"ok": True, "result": message}).encode()


def refusal(status: int, description: str) -> tuple[int, dict[str, Any]]:
    """Return a Bot API error answer."""
    return status, {"description": description}


@pytest.fixture
def telegram_() -> FakeTelegram:
    """Return the fake request layer."""
    return FakeTelegram()


@pytest.fixture
async def ext_bot(telegram_: FakeTelegram, time_: FakeTime) -> AsyncIterator[ExtBot[str]]:
    """Return an initialised bot with an unlimited SendBudget on virtual time."""
    bot: ExtBot[str] = ExtBot(
        TOKEN,
        request=telegram_,
        get_updates_request=telegram_,
        rate_limiter=SendBudget(0, clock=time_.monotonic, sleep=time_.sleep, max_retries=1),
    )
    async with bot:
        yield bot


REPLY = Reply("<b>Erinnerung</b>: morgen", ((Button("Abmelden", data="sub:off:1"),),))


async def test_push_sent(ext_bot: ExtBot[str], telegram_: FakeTelegram) -> None:
    """A push is HTML, with its buttons, without link previews."""
    result = await push(ext_bot, 11, REPLY)
    assert result == PushResult(PushOutcome.SENT, message_id=1)
    (params,) = telegram_.sent
    assert params["parse_mode"] == "HTML"
    assert params["text"] == REPLY.text
    assert params["link_preview_options"] == {"is_disabled": True}
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sub:off:1"


@pytest.mark.parametrize(
    "answer",
    [
        refusal(403, "Forbidden: bot was blocked by the user"),
        refusal(403, "Forbidden: user is deactivated"),
        refusal(403, "Forbidden: bot can't initiate conversation with a user"),
        refusal(400, "Bad Request: chat not found"),
        refusal(403, "Forbidden: bot was kicked from the group chat"),
        refusal(403, "Forbidden: bot is not a member of the channel chat"),
        refusal(400, "Bad Request: need administrator rights in the channel chat"),
        refusal(400, "Bad Request: not enough rights to send text messages to the chat"),
    ],
)
async def test_push_blocked(
    ext_bot: ExtBot[str], telegram_: FakeTelegram, answer: tuple[int, dict[str, Any]]
) -> None:
    """Blocked, deactivated, unknown or muted recipients are permanent: one try, BLOCKED."""
    telegram_.script[11] = [answer]
    result = await push(ext_bot, 11, REPLY)
    assert result.outcome is PushOutcome.BLOCKED
    assert result.error is not None
    assert len(telegram_.sent) == 1


async def test_push_bad_request_is_not_retried(
    ext_bot: ExtBot[str], telegram_: FakeTelegram
) -> None:
    """Another 400 would come again: FAILED after one try, the error without its text."""
    telegram_.script[11] = [refusal(400, "Bad Request: can't parse entities")]
    result = await push(ext_bot, 11, REPLY)
    assert result == PushResult(PushOutcome.FAILED, error="BadRequest at api.telegram.org")
    assert len(telegram_.sent) == 1


async def test_push_server_error_is_for_a_later_try(
    ext_bot: ExtBot[str], telegram_: FakeTelegram, time_: FakeTime
) -> None:
    """A 500 is not retried inside the push (no worker waits through an outage): RETRY."""
    telegram_.script[11] = [refusal(500, "Internal Server Error")]
    result = await push(ext_bot, 11, REPLY)
    assert result == PushResult(PushOutcome.RETRY, error="NetworkError at api.telegram.org")
    assert len(telegram_.sent) == 1
    assert time_.now == 0


async def test_push_network_error_is_redacted(
    ext_bot: ExtBot[str], telegram_: FakeTelegram
) -> None:
    """An aiohttp error's text carries the URL with the token; the stored error does not."""
    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    error = NetworkError(f"aiohttp.ClientOSError: Cannot write to {url}")
    error.__cause__ = aiohttp.ClientOSError(104, f"Connection reset by peer ({url})")
    telegram_.script[11] = [error]
    result = await push(ext_bot, 11, REPLY)
    assert result == PushResult(
        PushOutcome.RETRY, error="NetworkError (aiohttp.ClientOSError) at api.telegram.org"
    )
    assert TOKEN.split(":")[1] not in repr(result)


async def test_push_timeout_after_sending_is_unknown(
    ext_bot: ExtBot[str], telegram_: FakeTelegram
) -> None:
    """A read timeout may hide a delivered message: UNKNOWN, never resent."""
    telegram_.script[11] = [TimedOut()]
    result = await push(ext_bot, 11, REPLY)
    assert result.outcome is PushOutcome.UNKNOWN
    assert len(telegram_.sent) == 1


async def test_push_connect_timeout_is_for_a_later_try(
    ext_bot: ExtBot[str], telegram_: FakeTelegram
) -> None:
    """A timeout while connecting means nothing left: RETRY."""
    connect = TimedOut()
    connect.__cause__ = aiohttp.ConnectionTimeoutError("Connection timeout")
    telegram_.script[11] = [connect]
    result = await push(ext_bot, 11, REPLY)
    assert result == PushResult(
        PushOutcome.RETRY, error="TimedOut (aiohttp.ConnectionTimeoutError) at api.telegram.org"
    )
    assert len(telegram_.sent) == 1


async def test_push_flood_after_retries_is_for_a_later_try(
    ext_bot: ExtBot[str], telegram_: FakeTelegram, time_: FakeTime
) -> None:
    """429s beyond SendBudget's retries end as RETRY with retry_after, after honouring each."""
    flood = (429, {"description": "Too Many Requests", "parameters": {"retry_after": 2}})
    telegram_.script[11] = [flood, flood]
    (result,) = await time_.run(push(ext_bot, 11, REPLY))
    assert result.outcome is PushOutcome.RETRY
    assert result.retry_after == 2.0
    assert time_.now == 2.0
    assert len(telegram_.sent) == 2


async def test_push_needs_send_budget(telegram_: FakeTelegram) -> None:
    """A bot without SendBudget cannot push (its pushes would skip the budget)."""
    limited: ExtBot[Any] = ExtBot(TOKEN, request=telegram_, rate_limiter=AIORateLimiter())
    for bot in (limited, ExtBot(TOKEN, request=telegram_), Bot(TOKEN, request=telegram_)):
        with pytest.raises(TypeError, match="SendBudget"):
            await push(bot, 11, REPLY)
    assert not telegram_.sent


# ---------------------------------------------------------------------- the interactive lane


def send_interactive(budget: SendBudget, recorder: Recorder, chat_id: int) -> Awaitable[Any]:
    """Return the coroutine PTB would run for an interactive message to a person."""
    data: dict[str, Any] = {"chat_id": chat_id}
    endpoint = "sendMessage"
    return budget.process_request(recorder, (endpoint, data), {}, endpoint, data, INTERACTIVE)


async def test_admin_steps_do_not_queue_behind_the_push_debt(
    time_: FakeTime, recorder: Recorder
) -> None:
    """400 replies put the budget 13 s into debt; an admin's preview still leaves at once.

    The admin's own prompt went out as a reply at 0 s, so the preview waits for the chat's
    one-per-second slot (1 s) and the question after it for the next (2 s); a push queued
    at the same time waits for the debt to be paid (about 13 s).
    """
    budget = budget_on(time_)
    admin = 1000
    await time_.run(*(send(budget, recorder, chat, bulk=False) for chat in range(1, 401)))
    await time_.run(send(budget, recorder, admin, bulk=False))  # the admin's prompt
    push_to_member = asyncio.ensure_future(send(budget, recorder, 500))

    async def admin_steps() -> None:
        await send_interactive(budget, recorder, admin)  # the preview
        await send_interactive(budget, recorder, admin)  # "Jetzt senden?"

    await time_.run(admin_steps(), push_to_member)
    assert recorder.times(admin) == pytest.approx([0.0, 1.0, 2.0])
    assert recorder.times(500)[0] > 13.0  # the push pays the debt: the admin did not


async def test_interactive_message_retries_a_429(time_: FakeTime, recorder: Recorder) -> None:
    """A 429 on an interactive message is retried after retry_after, and holds the pushes."""
    budget = budget_on(time_)
    recorder.refuse[7] = [3.0]
    await time_.run(send_interactive(budget, recorder, 7), send(budget, recorder, 8))
    assert recorder.times(7) == pytest.approx([0.0, 3.0])
    assert recorder.times(8)[0] >= 3.0 - 1e-9  # the lane paused for Telegram's 3 s too
