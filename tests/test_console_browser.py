"""The staff console in a real (headless) Chromium, against the real service and its emulators.

As a staff member would, in the browser only: sign in, upload an XLSForm (made
here with openpyxl), invite one region to it, watch the messages go out, read
the results by age band, export them and download the file, and find every
step in the audit log. People in the region answer on (emulated) Telegram
meanwhile. Then the keyboard alone: skip link, menus and the main actions.
Skipped without Chromium (see tests/browser.py).

``CONSOLE_SCREENSHOTS=/tmp`` (the default) is where the dashboard and results
screenshots go.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import pytest

pytest.importorskip("selenium", reason="browser tests need selenium (pip install selenium)")

from argon2 import PasswordHasher
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from outreach.app import Outreach, running
from outreach.console.passwords import PasswordHashing
from outreach.sandbox.runtime import Sandbox
from outreach.settings import Settings
from storage.audit import Actor
from tests.browser import chromium, serve_in_thread  # noqa: F401  (chromium is a fixture)
from tests.conftest import EXAMPLE_SURVEYS, free_port
from tests.test_campaign_engine import people

pytestmark = pytest.mark.storage

T = TypeVar("T")
WAIT = 20  # seconds; every wait ends as soon as its condition holds
PASSWORD = "correct horse battery"
SURVEY_ID = "ganja_buses"
GANJA = "ganja-dashkasan"
YOUNG = list(range(5001, 5007))  # 18-24, take the bus every day
OLDER = list(range(5007, 5013))  # 25-34, never
ELSEWHERE = list(range(5101, 5106))  # Baku: not invited
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", "/tmp"))
EN, AZ = "label::English (en)", "label::Azerbaijani (az)"


def bus_form(path: Path) -> Path:
    """An XLSForm as KoBoToolbox makes them: two questions in English and Azerbaijani."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets: dict[str, list[dict[str, Any]]] = {
        "survey": [
            {
                "type": "select_one often",
                "name": "often",
                EN: "How often do you take the bus?",
                AZ: "Avtobusa nə qədər tez-tez minirsiniz?",
                "required": "yes",
            },
            {
                "type": "select_one yes_no",
                "name": "on_time",
                EN: "Is the bus on time?",
                AZ: "Avtobus vaxtında gəlir?",
            },
        ],
        "choices": [
            {"list_name": "often", "name": "daily", EN: "Every day", AZ: "Hər gün"},
            {"list_name": "often", "name": "weekly", EN: "Every week", AZ: "Hər həftə"},
            {"list_name": "often", "name": "never", EN: "Never", AZ: "Heç vaxt"},
            {"list_name": "yes_no", "name": "yes", EN: "Yes", AZ: "Bəli"},
            {"list_name": "yes_no", "name": "no", EN: "No", AZ: "Xeyr"},
        ],
        "settings": [
            {
                "form_id": SURVEY_ID,
                "form_title::English (en)": "Buses in Ganja",
                "form_title::Azerbaijani (az)": "Gəncədə avtobuslar",
            }
        ],
    }
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        header = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(key) for key in header])
    book.save(path)
    return path


@dataclass
class Service:
    url: str
    outreach: Outreach
    sandbox: Sandbox
    loop: asyncio.AbstractEventLoop

    def run(self, work: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        """Run ``work`` in the service's own event loop (the emulated people act there)."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    """The whole service with its emulators, in a thread: one admin, people in two regions."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    @asynccontextmanager
    async def serve() -> AsyncIterator[Service]:
        async with Sandbox() as sandbox:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=database_url,
                surveys_dir=EXAMPLE_SURVEYS,
                quizzes_dir=tmp_path / "no-quizzes",
                exports_dir=tmp_path / "exports",
                telegram_chat_rate=30,
                port=port,
            )
            async with running(
                sandbox.settings_for(settings, base), "127.0.0.1", port, sandbox
            ) as o:
                assert o.accounts is not None
                o.accounts.passwords = PasswordHashing(
                    PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
                )
                await o.accounts.create_account(
                    username="leyla",
                    password=PASSWORD,
                    role="admin",
                    display_name="Leyla",
                    actor=Actor.command_line(),
                )
                specs = [
                    {"channels": {"telegram": str(n)}, "region": GANJA, "age_band": band}
                    for band, group in (("18_24", YOUNG), ("25_34", OLDER))
                    for n in group
                ] + [{"channels": {"telegram": str(n)}, "region": "baku"} for n in ELSEWHERE]
                for spec in specs:
                    spec["language"] = "en"
                await o.db.write(lambda s: people(s, specs))
                for n in [*YOUNG, *OLDER, *ELSEWHERE]:
                    sandbox.telegram.user(n)
                yield Service(base, o, sandbox, asyncio.get_running_loop())

    with serve_in_thread(serve) as started:
        yield started


async def answer_invitation(sandbox: Sandbox, user_id: int, often: str) -> None:
    """Someone invited on Telegram starts the survey from the message and answers it."""
    user = sandbox.telegram.user(user_id)

    async def press(label: str) -> None:
        before = len(user.messages)
        await user.press(label)
        async with asyncio.timeout(10):
            while len(user.messages) <= before:  # noqa: ASYNC110 - the emulator's own list
                await asyncio.sleep(0.02)

    await press("Start the survey")
    await press(often)
    await press("Yes")


class Console:
    """What a staff member does in the browser, each step waiting for the page to answer."""

    def __init__(self, driver: WebDriver, base: str) -> None:
        self.driver = driver
        self.base = base
        self.wait = WebDriverWait(
            driver, WAIT, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
        )

    def until(self, condition: Callable[[], Any], message: str = "") -> Any:
        return self.wait.until(lambda _driver: condition(), message)

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)
        self.loaded()

    def loaded(self) -> None:
        self.until(lambda: self.driver.execute_script("return document.readyState") == "complete")

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def heading(self) -> str:
        return self.find("h1").text

    def click_link(self, text: str) -> None:
        self.driver.find_element(By.PARTIAL_LINK_TEXT, text).click()
        self.loaded()

    def press(self, label: str) -> None:
        """Click the button with this text and wait for the next page."""
        button = next(b for b in self.all("button") if b.text.strip() == label)
        old = self.find("html")
        button.click()
        self.until(lambda: self._stale(old), f"pressing {label!r} led nowhere")
        self.loaded()

    @staticmethod
    def _stale(element: WebElement) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        return False

    def type(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def tick(self, name: str, value: str) -> None:
        box = self.find(f'input[name="{name}"][value="{value}"]')
        if not box.is_selected():
            box.click()

    def screenshot(self, name: str) -> Path:
        """The whole page (not only the window) as a PNG."""
        shot = self.driver.execute_cdp_cmd(  # type: ignore[attr-defined]
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        path = SCREENSHOTS / name
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def focused(self) -> WebElement:
        return self.driver.switch_to.active_element

    def tab_to(self, text: str, limit: int = 60) -> WebElement:
        """Press Tab until the focused element reads ``text``."""
        for _ in range(limit):
            self.focused().send_keys(Keys.TAB)
            element = self.focused()
            if element.text.strip() == text or element.get_attribute("value") == text:
                return element
        raise AssertionError(f"Tab never reached {text!r}")


def downloaded(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.endswith((".crdownload", ".tmp"))]


def test_a_staff_member_runs_a_survey_in_one_region_from_the_browser(
    chromium: WebDriver,  # noqa: F811
    service: Service,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    page = Console(chromium, service.url)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    chromium.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )

    # Sign in: the console sends an unknown visitor to its login page, then back.
    page.open("/surveys")
    assert page.heading() == "Sign in"
    assert "locked for 15 minutes" in page.find("main").text
    page.type("#username", "leyla")
    page.type("#password", PASSWORD)
    page.press("Sign in")
    assert page.heading() == "Surveys"
    assert "Signed in as Leyla (Admin)" in page.find("header").text

    # Upload the XLSForm.
    page.click_link("Upload a survey")
    page.find("#file").send_keys(str(bus_form(tmp_path / "buses.xlsx")))
    page.press("Upload")
    stored = page.find("#uploaded").text
    assert "Stored “Buses in Ganja” (ganja_buses) as version 1." in stored
    assert "2 questions" in stored

    # Invite Ganja-Dashkasan to it: the composer starts from the survey.
    page.click_link("Invite people to it")
    assert page.heading() == "Compose a campaign"
    assert Select(page.find("#kind")).first_selected_option.get_attribute("value") == (
        "survey_invitation"
    )
    assert Select(page.find("#survey")).first_selected_option.get_attribute("value") == SURVEY_ID
    page.type("#name", "Buses in Ganja, invitation")
    page.type("#id", "ganja_buses_invite")
    page.type("#text_en", "How are the buses in Ganja? Two questions, one minute.")
    page.type("#text_az", "Gəncədə avtobuslar necədir? İki sual, bir dəqiqə.")
    page.tick("audience_regions", GANJA)
    # Any hour: a time field's typing depends on the browser's locale, so set its value.
    for field, value in (("#window_start", "00:00"), ("#window_end", "23:59")):
        page.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            page.find(field),
            value,
        )
    # The live preview follows the form: twelve people, by Telegram, no SMS to pay.
    page.until(lambda: "Reaches 12 people" in page.find("#preview").text, "no live preview")
    assert "No SMS" in page.find("#sms-cost").text
    page.press("Save as draft")
    assert page.heading() == "Buses in Ganja, invitation"
    assert "saved as a draft" in page.find('[role="status"]').text
    assert "between 00:00 and 23:59" in page.find("main").text

    # Schedule it and watch the progress bar fill without reloading the page.
    page.press("Schedule")
    assert "The campaign is scheduled." in page.find('[role="status"]').text

    def bar() -> tuple[str | None, str | None]:
        bars = page.all("#delivery progress")
        return (
            (bars[0].get_attribute("value"), bars[0].get_attribute("max")) if bars else (None, None)
        )

    page.until(lambda: bar()[1] == "12", "no progress bar of twelve messages")
    page.until(lambda: bar() == ("12", "12"), f"the messages did not all go: {bar()}")
    assert "12 of 12 messages sent or settled" in page.find("#delivery").text
    for n in ELSEWHERE:
        assert service.sandbox.telegram.user(n).messages == []

    # The invited people answer on Telegram.
    async def everyone_answers() -> None:
        await asyncio.gather(
            *(answer_invitation(service.sandbox, n, "Every day") for n in YOUNG),
            *(answer_invitation(service.sandbox, n, "Never") for n in OLDER),
        )

    service.run(everyone_answers())

    # The dashboard: people by channel and region, the survey open.
    page.click_link("Dashboard")
    assert page.heading() == "Dashboard"
    people_panel = page.find('section[aria-labelledby="people-h"]').text
    assert "Ganja-Dashkasan 12" in people_panel and "Baku 5" in people_panel
    assert "Buses in Ganja" in page.find('section[aria-labelledby="surveys-h"]').text
    dashboard_png = page.screenshot("console-dashboard.png")

    # Results by age band.
    page.click_link("Surveys")
    page.click_link("Results")
    assert page.heading() == "Results: Buses in Ganja"
    Select(page.find("#by")).select_by_visible_text("Age band")
    page.press("Show")
    table = page.find('table[data-breakdown="often"]')
    rows = {
        row.find_element(By.CSS_SELECTOR, "th").text: [
            cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")
        ]
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    }
    assert rows["18–24"][0] == "6" and rows["18–24"][1].startswith("6")
    assert rows["25–34"][0] == "6" and rows["25–34"][3].startswith("6")
    assert page.all("svg.chart title")[0].get_attribute("textContent") == "Answers to question 1"
    results_png = page.screenshot("console-results.png")

    # Export them, and download the file.
    page.click_link("Export the answers of this survey")
    assert Select(page.find("#survey")).first_selected_option.get_attribute("value") == SURVEY_ID
    Select(page.find("#format")).select_by_value("csv")
    page.press("Start the export")
    page.until(lambda: page.all('#export-list a[href$="/download"]'), "the export never finished")
    page.find('#export-list a[href$="/download"]').click()
    page.until(lambda: downloaded(downloads), "nothing was downloaded")
    (csv_file,) = downloaded(downloads)
    text = csv_file.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("row_id,") and text.count("\n") == 1 + 12 * 2
    assert "+994" not in text

    # Every step is in the audit log.
    page.click_link("Audit log")
    logged = [code.text for code in page.all("#audit-table tbody th code")]
    for action in (
        "staff.sign_in",
        "surveys.upload",
        "campaigns.create",
        "campaigns.schedule",
        "exports.create",
        "exports.download",
    ):
        assert action in logged, (action, logged)
    assert "leyla" in page.find("#audit-table").text

    assert dashboard_png.stat().st_size > 10_000 and results_png.stat().st_size > 10_000
    assert time.monotonic() - started < 60


def test_the_main_actions_work_with_the_keyboard_alone(
    chromium: WebDriver,  # noqa: F811
    service: Service,
) -> None:
    page = Console(chromium, service.url)
    chromium.delete_all_cookies()
    page.open("/login")
    # The login form: type, Tab, type, Enter.
    username = page.focused()
    assert username.get_attribute("id") == "username"  # the first field has the focus
    username.send_keys("leyla", Keys.TAB)
    page.focused().send_keys(PASSWORD, Keys.ENTER)
    page.until(lambda: page.heading() == "Dashboard", "Enter did not sign in")

    # The first Tab reaches the skip link, visible once focused; Enter goes to the content.
    page.find("body").send_keys(Keys.TAB)
    skip = page.focused()
    assert skip.text == "Skip to main content"
    assert skip.rect["x"] >= 0 and skip.is_displayed()
    skip.send_keys(Keys.ENTER)
    assert page.focused().get_attribute("id") == "main"

    # From there, Tab reaches the main action; the focus ring is there to see.
    action = page.tab_to("Compose a campaign")
    style = chromium.execute_script(
        "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.boxShadow];", action
    )
    assert style[0] != "none" and style[1] != "none"
    action.send_keys(Keys.ENTER)
    page.until(lambda: page.heading() == "Compose a campaign")

    # The menu is reachable too, and marks where one is.
    page.find("body").send_keys(Keys.TAB)
    surveys = page.tab_to("Surveys")
    surveys.send_keys(Keys.ENTER)
    page.until(lambda: page.heading() == "Surveys")
    assert page.find('nav.menu a[aria-current="page"]').text == "Surveys"
    upload = page.tab_to("Upload a survey")
    upload.send_keys(Keys.ENTER)
    page.until(lambda: page.heading() == "Upload a survey")
