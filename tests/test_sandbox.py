"""The sandbox without a browser: `outreach serve` with no credentials, and its API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from outreach.app import Outreach, running
from outreach.sandbox.runtime import Sandbox, wants_sandbox
from outreach.settings import Settings
from tests.conftest import EXAMPLE_SURVEYS, free_port

pytestmark = pytest.mark.storage


def test_credentials_turn_the_sandbox_off() -> None:
    bare = Settings(_env_file=None)  # type: ignore[call-arg]
    with_token = Settings(_env_file=None, telegram_bot_token=SecretStr("1:" + "a" * 30))  # type: ignore[call-arg]
    assert wants_sandbox(bare) and not wants_sandbox(with_token)


def test_serve_without_credentials_prints_the_sandbox_address(tmp_path: Path) -> None:
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL"))
    }
    environment.update(PORT=str(port))
    environment.pop("LOG_LEVEL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "outreach", "serve"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the first and only line it prints
        assert line.strip() == f"Sandbox: http://127.0.0.1:{port}/sandbox"
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox", timeout=10) as page:
            assert page.status == 200 and b"sandbox-config" in page.read()
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert (tmp_path / "sandbox.db").exists()  # its own database, never a real one


@pytest.fixture
async def sandbox_service(database_url: str) -> AsyncIterator[tuple[Outreach, str]]:
    port = free_port()
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        surveys_dir=EXAMPLE_SURVEYS,
        telegram_chat_rate=30,
        port=port,
    )
    async with Sandbox() as sandbox:
        settings = sandbox.settings_for(base, f"http://127.0.0.1:{port}")
        async with running(settings, "127.0.0.1", port, sandbox) as outreach:
            yield outreach, f"http://127.0.0.1:{port}"


async def test_chatting_through_the_api_reaches_the_real_service(
    sandbox_service: tuple[Outreach, str],
) -> None:
    _outreach, url = sandbox_service
    async with aiohttp.ClientSession() as client:
        async with client.post(
            f"{url}/sandbox/api/telegram/123456789/send?lang=en", json={"text": "/start"}
        ) as response:
            chat = await response.json()
        assert [m["from"] for m in chat["messages"]] == ["me", "bot"]
        english = next(
            b for row in chat["messages"][1]["buttons"] for b in row if b["text"] == "English"
        )
        async with client.post(
            f"{url}/sandbox/api/telegram/123456789/press",
            json={"data": english["data"], "message_id": chat["messages"][1]["id"]},
        ) as response:
            chat = await response.json()
        assert "/forget" in chat["messages"][-1]["text"]

        number = "%2B994501234567"
        async with client.post(f"{url}/sandbox/api/sms/{number}/send", json={"text": "JOIN"}):
            pass
        for _ in range(50):
            async with client.get(f"{url}/sandbox/api/sms/{number}") as response:
                sms = await response.json()
            if len(sms["messages"]) > 1:
                break
            await asyncio.sleep(0.05)
        reply = sms["messages"][-1]
        assert reply["from"] == "bot" and "STOP" in reply["text"]
        assert reply["encoding"] == "UCS-2" and reply["segments"] >= 2

        async with client.get(f"{url}/sandbox/api/results?lang=en") as response:
            results = await response.json()
        assert {s["id"] for s in results["surveys"]} == {"public_services", "youth_priorities"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/sandbox/api/telegram/abc", None, 400),
        ("post", "/sandbox/api/telegram/1/send", {"text": ""}, 400),
        ("post", "/sandbox/api/telegram/1/press", {"data": "x", "message_id": 99}, 400),
        ("post", "/sandbox/api/sms/12/send", {"text": "hi"}, 400),
        ("post", "/sandbox/api/telegram/1/contact", {"phone": "nope"}, 400),
        ("get", "/sandbox/static/secrets.py", None, 404),
    ],
    ids=["bad-user", "empty", "no-button", "bad-number", "bad-contact", "no-such-file"],
)
async def test_bad_input_gets_a_clear_4xx(
    sandbox_service: tuple[Outreach, str],
    method: str,
    path: str,
    body: dict[str, object] | None,
    status: int,
) -> None:
    _outreach, url = sandbox_service
    async with (
        aiohttp.ClientSession() as client,
        client.request(method, url + path, json=body) as response,
    ):
        assert response.status == status


async def test_a_real_deployment_has_no_sandbox(database_url: str) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        surveys_dir=EXAMPLE_SURVEYS,
        telegram_chat_rate=30,
        port=port,
    )
    async with (
        running(settings, "127.0.0.1", port),
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/sandbox") as response,
    ):
        assert response.status == 404
