"""Headless Chromium for browser tests, and an async service run beside it in a thread.

Browser tests need selenium and Debian's ``chromium`` and ``chromium-driver``
(``apt-get install chromium chromium-driver``; the ``CHROMIUM`` and ``CHROMEDRIVER``
variables point at other copies). Without them the tests are skipped, so a
machine with only Python still runs ``python3 run.py test``. The driver path is
always given, so Selenium Manager never runs (it would download a browser).

Use in a test module::

    from tests.browser import chromium  # noqa: F401  (the fixture)

    def test_page(chromium: WebDriver) -> None: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

T = TypeVar("T")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
WINDOW = (1400, 900)

CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--lang=en-US",
    "--force-device-scale-factor=1",
    # No smooth scrolling or animations: an element is where it will stay when clicked.
    "--force-prefers-reduced-motion",
)


def missing() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "browser tests need selenium (pip install selenium)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.is_file() or not os.access(path, os.X_OK):
            return f"browser tests need {path} (apt-get install {package})"
    return None


def start_chromium(profile: Path, window: tuple[int, int] = WINDOW) -> WebDriver:
    """A headless Chromium with a fresh profile in ``profile``, driven over 127.0.0.1."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={window[0]},{window[1]}")
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    # --window-size sets the outer window; make the page itself this size.
    width, height = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    if (width, height) != window:
        driver.set_window_size(2 * window[0] - width, 2 * window[1] - height)
    return driver


@pytest.fixture(scope="module")
def chromium() -> Iterator[WebDriver]:
    """One headless Chromium for the test module; skipped when it is not installed."""
    reason = missing()
    if reason and os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"REQUIRE_BROWSER is set (as in CI) but {reason}")
    if reason:
        pytest.skip(reason)
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    driver = start_chromium(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def serve_in_thread(
    service: Callable[[], AbstractAsyncContextManager[T]], timeout: float = 60
) -> Iterator[T]:
    """Run ``service()`` in a thread with its own event loop; yield what it yields.

    For synchronous tests (Selenium) of an asyncio service: the block sees the
    value entered, and leaving it exits the async context in its own loop.
    """
    ready = threading.Event()
    entered: list[T] = []
    failure: list[BaseException] = []
    stop: list[Callable[[], None]] = []

    async def main() -> None:
        finished = asyncio.Event()
        loop = asyncio.get_running_loop()
        stop.append(lambda: loop.call_soon_threadsafe(finished.set))
        try:
            async with service() as value:
                entered.append(value)
                ready.set()
                await finished.wait()
        except BaseException as error:  # raised again in the test's thread
            failure.append(error)
        finally:
            ready.set()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="service", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise TimeoutError(f"the service did not start within {timeout} s")
    if failure or not entered:
        thread.join(timeout)
        raise RuntimeError("the service failed to start") from (failure[0] if failure else None)
    try:
        yield entered[0]
    finally:
        with contextlib.suppress(RuntimeError):  # its loop has already ended
            stop[0]()
        thread.join(timeout)
        if failure:
            raise RuntimeError("the service failed while stopping") from failure[0]
