"""python-telegram-bot's HTTP layer on aiohttp instead of httpx.

PTB lets an application bring its own request class. Ours reuses aiohttp, which
the service already runs on, because httpx's pool checks every pooled
connection on each request: at a few hundred replies a second that alone took
most of the service's time (bench/inbound.py). Requests are sent exactly as
PTB's own class sends them: form-encoded fields, multipart when files go up.
"""

from __future__ import annotations

import asyncio

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class RequestNotSent(NetworkError):
    """The request never reached the server (no connection): trying again is safe."""


class OutcomeUnknown(TimedOut):
    """The request left but no answer came back: it may or may not have taken effect."""


def _seconds(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """A pooled aiohttp client session behind PTB's BaseRequest interface."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 100,
        read_timeout: float | None = 10.0,
        write_timeout: float | None = 10.0,
        connect_timeout: float | None = 10.0,
        pool_timeout: float | None = 10.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._read)
        connect = _seconds(connect_timeout, self._connect)
        pool = _seconds(pool_timeout, self._pool)
        write = _seconds(write_timeout, self._write)
        total = None if read is None or write is None else read + write + (connect or 0)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=pool, sock_connect=connect, sock_read=read
        )
        data: aiohttp.FormData | bytes | None = None
        headers = {"User-Agent": self.USER_AGENT}
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (file_name, content, content_type) in files.items():
                    form.add_field(name, content, filename=file_name, content_type=content_type)
                data = form
            else:
                # A JSON body: the Bot API takes it, and it costs far less to build than a
                # form (bench/broadcast.py: form encoding was a fifth of each send).
                data = request_data.json_payload
                headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                timeout=timeout,
                headers=headers,
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            raise RequestNotSent(f"no connection: {type(error).__name__}") from error
        except TimeoutError as error:
            raise OutcomeUnknown("no answer in time: the request may have taken effect") from error
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientError as error:
            raise OutcomeUnknown(f"connection broke: {type(error).__name__}") from error
