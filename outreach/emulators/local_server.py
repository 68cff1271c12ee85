"""What every emulator shares: an aiohttp app served on a local port, with a lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Self, TypeVar

import aiohttp
from aiohttp import web

logger = logging.getLogger(__name__)


class LocalServer:
    """Serves ``self.app``; subclasses add routes and say what to do around start and stop."""

    name = "emulator"

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._url: str | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0: any free port, see :attr:`url`)."""
        if self._runner is not None:
            raise RuntimeError(f"The {self.name} is already running")
        self._before_start()
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        logger.info("%s listening on %s", self.name, self._url)

    async def stop(self) -> None:
        await self._before_stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            logger.info("%s on %s stopped", self.name, self._url)
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._url = None

    def _before_start(self) -> None:
        """Reset what a stop left behind."""

    async def _before_stop(self) -> None:
        """Finish or cancel work in flight."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._url is None:
            raise RuntimeError(f"The {self.name} is not running; call start() first")
        return self._url


@dataclass(slots=True)
class TokenBucket:
    """Flood control as the platforms do it: ``capacity`` at once, refilled at ``rate``/s."""

    capacity: float
    rate: float
    tokens: float
    updated: float

    def wait(self, now: float) -> float:
        """Refill, then the seconds until one token is available (0 when one is)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1.0 - 1e-9 else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> bool:
        """Spend a token if one is available."""
        if self.wait(now) > 0:
            return False
        self.tokens -= 1.0
        return True


T = TypeVar("T")


class Inbox(Generic[T]):
    """What arrived for one person and was not read yet, with a wait for the next."""

    def __init__(self) -> None:
        self._unread: deque[T] = deque()
        self._arrived = asyncio.Event()

    def put(self, item: T) -> None:
        self._unread.append(item)
        self._arrived.set()

    async def next(self, timeout: float, describe: Callable[[], str]) -> T:  # noqa: ASYNC109
        """The next unread item, waiting up to ``timeout`` s.

        ``describe`` words the TimeoutError, so a failing test says what did arrive.
        """
        try:
            async with asyncio.timeout(timeout):
                while not self._unread:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise TimeoutError(describe()) from None
        return self._unread.popleft()
