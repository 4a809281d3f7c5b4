"""The HTTP layer under PTB: aiohttp instead of httpx.

PTB's default ``HTTPXRequest`` spends a large share of the bot's CPU per reply in pure-Python
connection pooling and HTTP parsing (httpcore, h11, anyio); aiohttp parses HTTP in C and keeps
its pool cheap. ``bench/replies.py`` measures the difference. The contract is PTB's
``BaseRequest``: return the status and body, raise ``TimedOut`` or ``NetworkError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest

if TYPE_CHECKING:
    from telegram.request import RequestData

# PTB marks "no timeout given" with this sentinel; its own HTTPXRequest checks it the same way.
_DefaultType: Final = type(BaseRequest.DEFAULT_NONE)

DEFAULT_TIMEOUT: Final = 5.0
MEDIA_WRITE_TIMEOUT: Final = 20.0


class AiohttpRequest(BaseRequest):
    """A PTB request layer on one ``aiohttp.ClientSession``."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        write_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout (PTB adds it to long polling's timeout)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

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
        """Send one request and return (status code, body)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] = {}
        if files:
            form = aiohttp.FormData()
            for name, value in (request_data.json_parameters if request_data else {}).items():
                form.add_field(name, value)
            for name, field in files.items():
                filename, content = field[0], field[1]
                content_type = field[2] if len(field) > 2 else None
                form.add_field(name, content, filename=filename, content_type=content_type)
            body = form
        elif request_data is not None:
            body = request_data.json_payload
            headers["Content-Type"] = "application/json"

        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        pool = _given(pool_timeout, connect)
        # aiohttp has no write timeout of its own: the whole request may take connect + write
        # + read; reading the answer alone is bounded by sock_read.
        total = (
            None if read is None or connect is None or write is None else read + connect + write
        )
        timeout = aiohttp.ClientTimeout(
            total=total, connect=pool, sock_connect=connect, sock_read=read
        )
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


def _given(value: object, default: float | None) -> float | None:
    """Return a timeout PTB passed, or ``default`` where it passed its "not given" sentinel."""
    if isinstance(value, _DefaultType):
        return default
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    raise TypeError(f"timeout must be a number or None, not {value!r}")
