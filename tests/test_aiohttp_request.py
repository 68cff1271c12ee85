"""PTB over aiohttp: the two ways a request can fail, told apart for the dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram.error import NetworkError

from bot.aiohttp_request import AiohttpRequest, OutcomeUnknown, RequestNotSent
from tests.conftest import free_port


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    async def never_answer(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": True})

    async def server_error(request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
        )

    app = web.Application()
    app.router.add_post("/bot1:x/sendMessage", never_answer)
    app.router.add_post("/bot1:x/getMe", server_error)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_no_answer_in_time_is_an_unknown_outcome(slow_server: str) -> None:
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(OutcomeUnknown):
            await request.post(f"{slow_server}/bot1:x/sendMessage")
    finally:
        await request.shutdown()


async def test_no_connection_means_nothing_was_sent() -> None:
    request = AiohttpRequest(connect_timeout=1)
    await request.initialize()
    try:
        with pytest.raises(RequestNotSent):
            await request.post(f"http://127.0.0.1:{free_port()}/bot1:x/sendMessage")
    finally:
        await request.shutdown()


async def test_a_5xx_answer_is_a_plain_network_error(slow_server: str) -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"{slow_server}/bot1:x/getMe")
        assert not isinstance(raised.value, (OutcomeUnknown, RequestNotSent))
    finally:
        await request.shutdown()
