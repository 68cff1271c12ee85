"""The whole service's web app on its own database, for the console's API and page tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from outreach.app import OUTREACH_KEY, Outreach, create_web_app
from outreach.console.passwords import PasswordHashing
from outreach.settings import Settings
from tests.conftest import EXAMPLE_SURVEYS, _reset_postgres

Client = TestClient[web.Request, web.Application]


@asynccontextmanager
async def console_app(tmp: Path) -> AsyncIterator[tuple[Client, Outreach]]:
    """The app served on a test server (SQLite in ``tmp``, or TEST_DATABASE_URL afresh),
    with password hashing cheap enough for tests."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        await _reset_postgres(url)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'console.db'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        surveys_dir=EXAMPLE_SURVEYS,
        quizzes_dir=tmp / "no-quizzes",
        exports_dir=tmp / "exports",
    )
    client: Client = TestClient(TestServer(create_web_app(settings)), cookie_jar=DummyCookieJar())
    await client.start_server()
    try:
        outreach = client.app[OUTREACH_KEY]
        assert outreach.accounts is not None
        outreach.accounts.passwords = PasswordHashing(
            PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        )
        yield client, outreach
    finally:
        await client.close()
