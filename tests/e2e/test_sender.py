"""Pushes through SendBudget and the real HTTP layer, against the sandbox's flood control."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest

from bot.delivery.sender import PushOutcome, PushResult, SendBudget, push
from bot.http import AiohttpRequest
from bot.views.replies import Reply

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from telegram import Update
    from telegram.request import RequestData

    from bot.sandbox import Sandbox

PERSON = 1001  # chats with the bot during the push, and is one of the recipients


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let PTB build RetryAfter without its int deprecation warning (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass(slots=True)
class Sent:
    """One request as the bot's HTTP layer saw it."""

    endpoint: str
    started: float
    answered: float
    status: int
    retry_after: int | None


class RecordingRequest(AiohttpRequest):
    """The production request layer, noting when each request left and its answer came."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Sent] = []

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
        """Send, then note the times; PTB raises RetryAfter right after, without yielding."""
        started = time.monotonic()
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        retry_after = json.loads(body).get("parameters", {}).get("retry_after")
        self.log.append(
            Sent(url.rsplit("/", 1)[-1], started, time.monotonic(), status, retry_after)
        )
        return status, body


async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer at once, as any interactive reply (no rate_limit_args)."""
    if update.message and update.message.text:
        await update.message.reply_text(f"Echo: {update.message.text}")


@asynccontextmanager
async def push_app(
    sandbox: Sandbox, budget: SendBudget, request: AiohttpRequest | None = None
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run a minimal PTB application with the budget, polling the sandbox."""
    app = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .rate_limiter(budget)
        .request(request or AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def recipients(sandbox: Sandbox, count: int, first: int = 2001) -> list[int]:
    """Register ``count`` private chats and return their ids."""
    chats = list(range(first, first + count))
    for chat in chats:
        sandbox.add_user(chat)
    return chats


def notice(chat: int) -> Reply:
    """Return the push for one recipient."""
    return Reply(f"<b>Hinweis</b> für Nr. {chat}: das Treffen beginnt um 10 Uhr.")


def push_times(sandbox: Sandbox) -> list[float]:
    """Return when the sandbox accepted each push (by its text)."""
    return [c.time for c in sandbox.accepted_sends if "Hinweis" in str(c.params.get("text"))]


async def test_push_within_budget_while_someone_chats(sandbox: Sandbox) -> None:
    """120 pushes at 30/s: no 429, all delivered, ~4 s; a person chatting is answered first."""
    sandbox.set_flood(True)
    sandbox.add_user(PERSON, first_name="Erika")
    chats = [PERSON, *recipients(sandbox, 119)]
    async with push_app(sandbox, SendBudget(30)) as app:
        started = time.monotonic()
        pushes = asyncio.gather(*(push(app.bot, chat, notice(chat)) for chat in chats))
        said: list[float] = []
        for n in range(3):
            await asyncio.sleep(0.8)  # let the bulk lane fill the budget meanwhile
            said.append(time.monotonic())
            sandbox.send_text(PERSON, f"Frage {n}")
            deadline = time.monotonic() + 10
            while sum("Echo" in (m.text or "") for m in sandbox.messages(PERSON)) <= n:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no answer to question {n}")
                await asyncio.sleep(0.01)  # waiting for the bot's HTTP call
        results = await pushes
        duration = time.monotonic() - started

    assert sandbox.flood_refusals == 0
    assert all(r.outcome is PushOutcome.SENT for r in results), results
    for chat in chats:
        assert sum("Hinweis" in (m.text or "") for m in sandbox.messages(chat)) == 1
    assert duration >= 3.5, "the budget of 30 per second must hold"

    bulk = push_times(sandbox)
    replies = [
        c.time
        for c in sandbox.accepted_sends
        if c.chat_id == PERSON and str(c.params.get("text")).startswith("Echo")
    ]
    assert len(replies) == 3
    for asked, answered in zip(said, replies, strict=True):
        waiting = [t for t in bulk if t > asked]
        overtaken_by = [t for t in waiting if t < answered]
        # A reply queued behind the pushes would come after all of them.
        assert answered < bulk[-1]
        assert len(overtaken_by) < len(waiting) / 2, (len(overtaken_by), len(waiting))


async def test_push_outcomes(sandbox: Sandbox) -> None:
    """Blocked, deactivated and unknown chats are BLOCKED; a server error is for a later try."""
    sandbox.set_flood(True)
    ok, blocked, deactivated, not_found, flaky, broken = recipients(sandbox, 6)
    sandbox.inject_fault(blocked, "blocked")
    sandbox.inject_fault(deactivated, "deactivated")
    sandbox.inject_fault(not_found, "chat_not_found")
    sandbox.inject_fault(flaky, "server_error", count=1)
    sandbox.inject_fault(broken, "server_error")
    unregistered = 999_999
    targets = [ok, blocked, deactivated, not_found, flaky, broken, unregistered]
    async with push_app(sandbox, SendBudget(30)) as app:
        results = await asyncio.gather(*(push(app.bot, chat, notice(chat)) for chat in targets))

    outcome = dict(zip(targets, results, strict=True))
    assert outcome[ok].outcome is PushOutcome.SENT
    assert outcome[ok].message_id is not None
    for chat in (blocked, deactivated, not_found, unregistered):
        assert outcome[chat].outcome is PushOutcome.BLOCKED, outcome[chat]
    host = urlsplit(sandbox.base_url).hostname
    for chat in (flaky, broken):
        assert outcome[chat] == PushResult(PushOutcome.RETRY, error=f"NetworkError at {host}")

    def tries(chat: int) -> int:
        return sum(c.chat_id == chat and c.method == "sendMessage" for c in sandbox.calls)

    assert [tries(chat) for chat in targets[:6]] == [1, 1, 1, 1, 1, 1]
    assert sandbox.flood_refusals == 0


async def test_flood_refusals_are_honoured(sandbox: Sandbox) -> None:
    """A budget faster than Telegram meets 429s: it waits retry_after, then delivers once."""
    sandbox.set_flood(True)
    chats = recipients(sandbox, 90)
    request = RecordingRequest()
    async with push_app(sandbox, SendBudget(100), request) as app:
        results = await asyncio.gather(*(push(app.bot, chat, notice(chat)) for chat in chats))

    assert sandbox.flood_refusals > 0, "the test must provoke flood control"
    assert all(r.outcome is PushOutcome.SENT for r in results), results
    for chat in chats:
        assert len(sandbox.messages(chat)) == 1, "delivered exactly once"

    # Client side: once a 429 arrived, no message left before retry_after had passed.
    sends = [s for s in request.log if s.endpoint == "sendMessage"]
    refusals = [s for s in sends if s.status == 429]
    assert len(refusals) == sandbox.flood_refusals
    for refused in refusals:
        assert refused.retry_after is not None
        resume = refused.answered + refused.retry_after
        early = [s for s in sends if refused.answered < s.started < resume]
        assert not early, (refused, early[:3])

    # Server side: every refused push came back no earlier than it was told to.
    for chat in chats:
        calls = [c for c in sandbox.calls if c.chat_id == chat and c.method == "sendMessage"]
        for refused, retried in itertools.pairwise(calls):
            assert refused.status == 429
            wait = refused.response["parameters"]["retry_after"]
            assert retried.time >= refused.time + wait
