"""One sender for every push (reminders, notices, broadcasts), sharing one budget with replies.

Telegram allows a bot about 30 messages per second overall and about one per second in a
private chat (20 per minute in a group); beyond that it answers 429 with ``retry_after``.
``SendBudget`` is the application's PTB rate limiter and keeps the whole bot inside those
limits with three lanes:

- the bulk lane: requests made with ``rate_limit_args=BULK`` (``push`` does this) wait, first
  come first served, until a token of the global bucket and the chat's slot are free, and on
  429 the whole lane pauses for ``retry_after`` before the same request is tried again;
- everything else that sends a message (a reply to someone chatting) never waits: it takes a
  token at once, possibly driving the bucket into debt that the bulk lane then pays off, and
  marks its chat as just written to. A 429 on a reply is retried once after ``retry_after``
  when that is at most ``REPLY_RETRY_LIMIT`` seconds (a person waits that long for an
  answer); a longer one, or a second 429, is raised.
- the interactive lane (``rate_limit_args=INTERACTIVE``): several messages to a person in a
  row, e.g. an admin's circular preview and its "Jetzt senden" buttons, wait for their chat's
  slot (one per second) and retry a 429, but take their token like a reply: however deep the
  pushes' debt (400 people pressing buttons put the bucket 13 s into debt), a person's own
  steps never queue behind it.

PTB's ``AIORateLimiter`` cannot do this: it throttles replies and pushes alike, first come
first served, has no per-chat limit for private chats and does not retry by default.

``push`` sends one ``Reply`` through the bulk lane and classifies the outcome per recipient;
``push_content`` does the same for a broadcast's stored message (text with entities, or a photo
or document by ``file_id`` with caption entities), with the same classification.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import aiohttp
import httpx
from telegram import LinkPreviewOptions, MessageEntity
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import BaseRateLimiter, ExtBot

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence

    from telegram import Bot, InlineKeyboardMarkup, Message

    from bot.delivery.metrics import Metrics
    from bot.domain.circulars import Content
    from bot.views.replies import Reply

    Result = bool | dict[str, Any] | list[dict[str, Any]]
    Sleep = Callable[[float], Awaitable[None]]

BULK: Final = "bulk"  # rate_limit_args of a push: wait for the budget, retry on 429
# rate_limit_args of an interactive message that is not the direct reply PTB would send at once
# (an admin's preview after a reply, the next step's question): paced for its chat, retried
# on 429, but never queued behind the pushes' global budget.
INTERACTIVE: Final = "interactive"

# The global bucket's burst. Telegram's bucket (as the sandbox emulates it) holds 30 tokens at
# 30 per second. Requests that leave here within a window of T seconds number at most
# BURST + rate * T; network jitter of J seconds can squeeze them into a shorter window at the
# server, which then sees at most BURST + rate * (T + J) <= 30 + 30 * T as long as
# BURST + rate * J <= 30. With 3 that tolerates 0.9 s of jitter at rate 30, and a small push
# (a reminder to three people) still leaves at once. Bulk throughput does not depend on it.
DEFAULT_BURST: Final = 3.0
# One message per second to a private chat; 20 per minute to a group (negative ids, @names).
PRIVATE_INTERVAL: Final = 1.0
GROUP_INTERVAL: Final = 3.0
DEFAULT_MAX_RETRIES: Final = 5  # 429s a bulk request survives before the error is raised
REPLY_RETRY_LIMIT: Final = 5.0  # a reply refused with a longer retry_after is not retried
# 400s that mean the chat cannot be written to until someone there acts: gone, a channel
# that took away the bot's right to post, a group that muted the bot.
_UNREACHABLE: Final = (
    "chat not found",
    "need administrator rights",
    "not enough rights to send",
)
_SENDING_PREFIXES: Final = ("send", "copy", "forward")
_EPSILON: Final = 1e-9  # floating-point dust from refills
_PRUNE_FLOOR: Final = 1024

log = logging.getLogger(__name__)


def sends_message(endpoint: str) -> bool:
    """Tell whether a Bot API method sends a message (and so counts against the limits)."""
    name = endpoint.lower()
    return name != "sendchataction" and name.startswith(_SENDING_PREFIXES)


def retry_after_seconds(error: RetryAfter) -> float:
    """Return the seconds Telegram asked us to wait, without PTB's deprecation warning.

    PTB 22 keeps a timedelta but its public ``retry_after`` warns and returns an int unless
    the environment sets ``PTB_TIMEDELTA``; PTB's own ``AIORateLimiter`` reads the timedelta.
    """
    value = getattr(error, "_retry_after", None)
    if not isinstance(value, timedelta):
        value = error.retry_after  # PTB 23: a timedelta without a warning
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _chat_key(data: dict[str, Any]) -> tuple[int | str | None, float]:
    """Return the chat a request writes to and the minimum interval between its messages."""
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None, 0.0
    try:
        key: int | str = int(chat_id)
    except (TypeError, ValueError):
        key = str(chat_id)  # "@channelname"
    private = isinstance(key, int) and key > 0
    return key, PRIVATE_INTERVAL if private else GROUP_INTERVAL


class SendBudget(BaseRateLimiter[str]):
    """PTB rate limiter: one global budget; pushes wait for it, replies take from it at once.

    Args:
        rate: messages per second for the whole bot; 0 switches waiting off entirely (a bulk
            request is still retried after a 429 once ``retry_after`` has passed).
        burst: how many tokens the global bucket holds (see ``DEFAULT_BURST``).
        max_retries: how many 429s a bulk request survives before ``RetryAfter`` is raised.
        clock: monotonic seconds; tests pass a fake one together with ``sleep``.
        sleep: waits the given seconds.
        metrics: counts replies sent and every 429 received (each attempt).
    """

    __slots__ = (
        "_burst",
        "_chat_free",
        "_chat_locks",
        "_chat_users",
        "_clock",
        "_interactive_locks",
        "_lane",
        "_max_retries",
        "_metrics",
        "_paused_until",
        "_prune_at",
        "_rate",
        "_sleep",
        "_tokens",
        "_updated",
    )

    def __init__(
        self,
        rate: float,
        *,
        burst: float = DEFAULT_BURST,
        max_retries: int = DEFAULT_MAX_RETRIES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        if not math.isfinite(rate) or rate < 0:
            raise ValueError(f"rate must be a finite number >= 0, not {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst!r}")
        self._rate = float(rate)
        self._burst = float(burst)
        self._metrics = metrics
        self._max_retries = max_retries
        self._clock = clock
        self._sleep = sleep
        self._tokens = self._burst
        self._updated: float | None = None
        self._paused_until = -math.inf
        self._lane = asyncio.Lock()  # FIFO: asyncio.Lock wakes its waiters in order
        # chat -> earliest time the next bulk message may go there
        self._chat_free: dict[int | str, float] = {}
        self._prune_at = _PRUNE_FLOOR
        # chat -> lock serialising bulk sends to it, and how many hold or wait for it
        self._chat_locks: dict[int | str, asyncio.Lock] = {}
        self._chat_users: dict[int | str, int] = {}
        # chat -> lock serialising interactive sends to it (not the bulk lock: a push waiting
        # for a global token there must not hold a person's own messages up)
        self._interactive_locks: dict[int | str, tuple[asyncio.Lock, list[int]]] = {}

    @property
    def rate(self) -> float:
        """Return the budget in messages per second (0: no limit in the bot)."""
        return self._rate

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget the per-chat bookkeeping."""
        self._chat_free.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Result:
        """Send a push through the bulk lane; let everything else through at once."""
        if self._metrics is not None:
            return await self._counted(
                callback, args, kwargs, endpoint, data, rate_limit_args, self._metrics
            )
        return await self._route(callback, args, kwargs, endpoint, data, rate_limit_args)

    async def _counted(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
        metrics: Metrics,
    ) -> Result:
        """Route the request with every attempt counted: 429s, and replies that went out."""

        async def attempt(*a: Any, **k: Any) -> Result:
            try:
                return await callback(*a, **k)
            except RetryAfter:
                metrics.flood.inc()
                raise

        result = await self._route(attempt, args, kwargs, endpoint, data, rate_limit_args)
        if rate_limit_args in (None, INTERACTIVE) and sends_message(endpoint):
            metrics.replies.inc()
        return result

    async def _route(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Result:
        if rate_limit_args == BULK:
            return await self._bulk(callback, args, kwargs, data)
        if rate_limit_args == INTERACTIVE and self._rate and sends_message(endpoint):
            return await self._paced(callback, args, kwargs, data)
        if rate_limit_args not in (None, INTERACTIVE):
            raise ValueError(f"unknown rate_limit_args {rate_limit_args!r}, expected {BULK!r}")
        if not sends_message(endpoint):
            return await callback(*args, **kwargs)
        return await self._interactive(callback, args, kwargs, data)

    # ------------------------------------------------------------------ the two lanes

    async def _interactive(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
    ) -> Result:
        """Take a token without waiting (debt is fine) and mark the chat as written to.

        A 429 is retried once after ``retry_after`` if that is short enough for a person to
        wait (``REPLY_RETRY_LIMIT``); otherwise, and on a second 429, the caller sees it.
        """
        chat, interval = _chat_key(data)
        for attempt in range(2):
            if self._rate:
                self._refill(self._clock())
                self._tokens -= 1.0
            self._stamp(chat, interval)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                # Pushes to this chat hold off until retry_after has passed.
                seconds = retry_after_seconds(error)
                self._stamp(chat, seconds)
                if attempt or seconds > REPLY_RETRY_LIMIT:
                    raise
            finally:
                self._stamp(chat, interval)
            log.info("Flood control: a reply waits %.1f s and is tried once more", seconds)
            await self._sleep(seconds)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _paced(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
    ) -> Result:
        """Wait for the chat's slot only, take a token without waiting, retry a 429."""
        chat, interval = _chat_key(data)
        if chat is None:
            return await self._interactive(callback, args, kwargs, data)
        lock, users = self._interactive_locks.setdefault(chat, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                for attempt in range(self._max_retries + 1):
                    await self._wait_for_chat(chat)
                    self._refill(self._clock())
                    self._tokens -= 1.0
                    self._stamp(chat, interval)
                    try:
                        return await callback(*args, **kwargs)
                    except RetryAfter as error:
                        if attempt == self._max_retries:
                            raise
                        self._pause(error, chat)  # Telegram's word holds the pushes too
                    finally:
                        self._stamp(chat, interval)
        finally:
            users[0] -= 1
            if not users[0]:  # forget idle chats, so memory stays flat
                del self._interactive_locks[chat]
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait_for_chat(self, chat: int | str) -> None:
        """Wait until ``chat`` may get its next message (not for the pushes' lane)."""
        while (wait := self._chat_free.get(chat, -math.inf) - self._clock()) > 0:
            await self._sleep(wait)

    async def _bulk(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
    ) -> Result:
        """Wait for the chat and a global token, send, and retry after a 429."""
        chat, interval = _chat_key(data)
        if not self._rate:
            return await self._unlimited(callback, args, kwargs)
        if chat is None:
            return await self._attempts(callback, args, kwargs, None, 0.0)
        # Bulk sends to one chat go one after the other, each a full interval after the
        # previous one was answered, so that jitter cannot bring two closer at the server.
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        self._chat_users[chat] = self._chat_users.get(chat, 0) + 1
        try:
            async with lock:
                return await self._attempts(callback, args, kwargs, chat, interval)
        finally:
            self._chat_users[chat] -= 1
            if not self._chat_users[chat]:  # forget idle chats, so memory stays flat
                del self._chat_users[chat], self._chat_locks[chat]

    async def _attempts(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        chat: int | str | None,
        interval: float,
    ) -> Result:
        for attempt in range(self._max_retries + 1):
            # The chat first (without holding up other chats), then a place in the FIFO lane;
            # a reply to this chat or a 429 may have come meanwhile, so look again.
            await self._wait_until_clear(chat)
            await self._take_token()
            await self._wait_until_clear(chat)
            self._stamp(chat, interval)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == self._max_retries:
                    log.warning("Flood control: giving up a push after %d retries", attempt)
                    raise
                self._pause(error, chat)
            finally:
                self._stamp(chat, interval)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _unlimited(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> Result:
        """Rate 0: no budget in the bot, but Telegram's 429 is still honoured and retried."""
        for attempt in range(self._max_retries + 1):
            await self._wait_until_clear(None)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == self._max_retries:
                    log.warning("Flood control: giving up a push after %d retries", attempt)
                    raise
                self._pause(error, None)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ bookkeeping

    def _refill(self, now: float) -> None:
        if self._updated is None:
            self._updated = now
        elif now > self._updated:
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now

    async def _take_token(self) -> None:
        """Wait, first come first served, until the lane is not paused and a token is free."""
        async with self._lane:
            while True:
                now = self._clock()
                self._refill(now)
                wait = self._paused_until - now
                if self._tokens < 1.0 - _EPSILON:
                    wait = max(wait, (1.0 - self._tokens) / self._rate)
                if wait <= 0:
                    break
                # Replies may deepen the debt or a 429 may pause the lane meanwhile: look again.
                await self._sleep(wait)
            self._tokens -= 1.0

    async def _wait_until_clear(self, chat: int | str | None) -> None:
        """Wait until the lane is not paused and ``chat`` may get its next message."""
        while True:
            free = self._paused_until
            if chat is not None:
                free = max(free, self._chat_free.get(chat, -math.inf))
            if (wait := free - self._clock()) <= 0:
                return
            await self._sleep(wait)

    def _stamp(self, chat: int | str | None, interval: float) -> None:
        """Keep the next bulk message to ``chat`` at least ``interval`` seconds from now."""
        if chat is None:
            return
        now = self._clock()
        free = now + interval
        if free > self._chat_free.get(chat, -math.inf):
            self._chat_free[chat] = free
        if len(self._chat_free) > self._prune_at:
            self._chat_free = {k: t for k, t in self._chat_free.items() if t > now}
            self._prune_at = max(_PRUNE_FLOOR, 2 * len(self._chat_free))

    def _pause(self, error: RetryAfter, chat: int | str | None) -> None:
        """Hold the whole bulk lane (and the chat) until ``retry_after`` has passed."""
        seconds = retry_after_seconds(error)
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
            log.info("Flood control: pushes paused for %.1f s", seconds)
        self._stamp(chat, seconds)


# ---------------------------------------------------------------------- one push


class PushOutcome(StrEnum):
    """What became of one push."""

    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot, is deactivated or unknown: do not retry
    FAILED = "failed"  # Telegram refused the request itself (a 400): the same would fail again
    RETRY = "retry"  # 5xx, network error, timeout before sending, lasting 429: try again later
    UNKNOWN = "unknown"  # the request may have reached Telegram; resending could duplicate it


@dataclass(frozen=True, slots=True)
class PushResult:
    """The outcome of one push, the message id when sent, and the error otherwise.

    ``error`` is redacted (:func:`describe_error`): exception types and the host only, never
    an error's text, which may quote the request URL and with it the bot token.
    """

    outcome: PushOutcome
    message_id: int | None = None
    error: str | None = None
    retry_after: float | None = None  # set for a 429 that outlasted SendBudget's retries


async def push(bot: Bot, chat_id: int, reply: Reply) -> PushResult:
    """Send ``reply`` to ``chat_id`` through the bulk lane, once; never raise for Telegram.

    Returns:
        SENT with the message id; BLOCKED when the recipient cannot be reached (403, "chat not
        found", no right to post in a channel or group); UNKNOWN after a timeout once the
        request had left; RETRY after a server or network error, a timeout before the request
        left, or a 429 that outlasted SendBudget's retries (then with ``retry_after``); FAILED
        when Telegram refused the request itself. Retrying later is the caller's job (a row
        goes back with a delay, see :mod:`bot.domain.retry`), so a push never holds its worker
        through an outage.
    """
    ext = _check_bot(bot)

    def send() -> Awaitable[Message]:
        return ext.send_message(
            chat_id,
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply.markup(),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            rate_limit_args=BULK,
        )

    return await _classified(send, host=api_host(ext))


async def push_content(bot: Bot, chat_id: int, content: Content) -> PushResult:
    """Send a broadcast's stored content through the bulk lane; outcomes as in ``push``."""
    ext = _check_bot(bot)
    return await _classified(
        partial(send_content, ext, chat_id, content, rate_limit_args=BULK), host=api_host(ext)
    )


def send_content(
    bot: ExtBot[Any],
    chat_id: int,
    content: Content,
    *,
    rate_limit_args: str | None = None,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Awaitable[Message]:
    """Send stored content exactly as stored: its own entities, never a parse mode.

    Without ``rate_limit_args`` it is an interactive send (the preview for the admin).
    """
    if content.kind == "text":
        assert content.text is not None  # noqa: S101 - Content checks this
        return bot.send_message(
            chat_id,
            content.text,
            entities=_entities(content.entities),
            parse_mode=None,
            reply_markup=reply_markup,
            rate_limit_args=rate_limit_args,
        )
    assert content.file_id is not None  # noqa: S101 - Content checks this
    if content.kind == "photo":
        return bot.send_photo(
            chat_id,
            content.file_id,
            caption=content.caption,
            caption_entities=_entities(content.caption_entities),
            parse_mode=None,
            reply_markup=reply_markup,
            rate_limit_args=rate_limit_args,
        )
    return bot.send_document(
        chat_id,
        content.file_id,
        caption=content.caption,
        caption_entities=_entities(content.caption_entities),
        parse_mode=None,
        reply_markup=reply_markup,
        rate_limit_args=rate_limit_args,
    )


def _entities(entities: Sequence[Mapping[str, Any]]) -> list[MessageEntity] | None:
    """Return stored entities (Bot API JSON) as PTB objects."""
    return [MessageEntity.de_json(dict(e), None) for e in entities] or None


def _check_bot(bot: Bot) -> ExtBot[Any]:
    """Return the bot as an ExtBot with SendBudget, or raise TypeError."""
    if not isinstance(bot, ExtBot) or not isinstance(bot.rate_limiter, SendBudget):
        raise TypeError("pushes need a bot built with SendBudget as its rate limiter")
    return bot


async def _classified(send: Callable[[], Awaitable[Message]], *, host: str) -> PushResult:
    """Call ``send`` once and classify the outcome; errors are described redacted."""
    try:
        message = await send()
    except Forbidden as forbidden:
        # Blocked, deactivated, never started, kicked: only the person can change that.
        return PushResult(PushOutcome.BLOCKED, error=describe_error(forbidden, host))
    except BadRequest as bad:
        outcome = (
            PushOutcome.BLOCKED
            if any(reason in bad.message.lower() for reason in _UNREACHABLE)
            else PushOutcome.FAILED  # the same request would be refused again
        )
        return PushResult(outcome, error=describe_error(bad, host))
    except TimedOut as timed_out:
        if _may_have_arrived(timed_out):
            return PushResult(PushOutcome.UNKNOWN, error=describe_error(timed_out, host))
        return PushResult(PushOutcome.RETRY, error=describe_error(timed_out, host))
    except RetryAfter as flood:  # 429 after SendBudget's retries: a later try may pass
        return PushResult(
            PushOutcome.RETRY,
            error=describe_error(flood, host),
            retry_after=retry_after_seconds(flood),
        )
    except ChatMigrated as moved:
        return PushResult(PushOutcome.FAILED, error=describe_error(moved, host))
    except NetworkError as network:  # 5xx, connection refused, reset or dropped
        return PushResult(PushOutcome.RETRY, error=describe_error(network, host))
    return PushResult(PushOutcome.SENT, message_id=message.message_id)


def _may_have_arrived(error: TimedOut) -> bool:
    """Tell whether a timed-out request may have reached Telegram (not just the pool/connect)."""
    cause: BaseException | None = error.__cause__
    while cause is not None:
        if isinstance(
            cause, aiohttp.ConnectionTimeoutError | httpx.ConnectTimeout | httpx.PoolTimeout
        ):
            return False
        cause = cause.__cause__
    return not error.message.startswith("Pool timeout")


def api_host(bot: Bot) -> str:
    """Return the host of the Bot API server the bot talks to (never the token)."""
    return urlsplit(bot.base_url).hostname or "?"


def describe_error(error: BaseException, host: str) -> str:
    """Return an error as stored on a row: exception types and the host, nothing else.

    An error's text is left out on purpose: aiohttp's (and httpx's) quote the request URL,
    and a Bot API URL carries the bot token; Telegram's descriptions are not needed to tell
    the outcomes apart. Example: ``NetworkError (aiohttp.ClientConnectorError) at
    api.telegram.org``.
    """
    causes: list[str] = []
    seen = {id(error)}
    cause = error.__cause__
    while cause is not None and id(cause) not in seen and len(causes) < 3:
        seen.add(id(cause))
        module = type(cause).__module__.split(".", 1)[0]
        name = type(cause).__qualname__
        causes.append(name if module == "builtins" else f"{module}.{name}")
        cause = cause.__cause__
    chain = f" ({', '.join(causes)})" if causes else ""
    return f"{type(error).__name__}{chain} at {host}"
