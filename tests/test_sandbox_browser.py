"""The sandbox page in a real (headless) Chromium, against the real service in sandbox mode.

A person adds a Telegram user and an SMS phone on the page, answers a survey on
each, and watches the live results change. Skipped without Chromium (see
tests/browser.py).

``SANDBOX_SCREENSHOT=docs/sandbox.png pytest tests/test_sandbox_browser.py -k screenshot``
writes the screenshot the README shows.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("selenium", reason="browser tests need selenium (pip install selenium)")

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from outreach.app import running
from outreach.sandbox.api import PAGE_TEXTS
from outreach.sandbox.runtime import Sandbox
from outreach.settings import Settings
from polls.i18n import translator
from tests.browser import chromium, serve_in_thread  # noqa: F401  (chromium is a fixture)
from tests.conftest import EXAMPLE_SURVEYS, REPO, free_port

pytestmark = pytest.mark.storage

WAIT = 15  # seconds; every wait ends as soon as its condition holds
SURVEY = "Public and social services in your region"
FIRST_QUESTION = "Which public service did you use most recently?"
MINUTES_QUESTION = "How many minutes does it usually take you to reach the nearest clinic"

MESSAGES_JS = """
return [...arguments[0].querySelectorAll('.message')].map(m => ({
  from: m.classList.contains('message--me') ? 'me' : 'bot',
  text: m.querySelector('.message__text').textContent,
  meta: m.querySelector('.message__meta')?.textContent ?? '',
  buttons: [...m.querySelectorAll('.keyboard button')].map(b => b.textContent),
}));
"""

RESULTS_JS = """
const body = document.getElementById('results-body');
return {
  title: body.querySelector('.results__title')?.textContent ?? '',
  sessions: body.querySelector('.results__sessions')?.textContent ?? '',
  questions: [...body.querySelectorAll('.question')].map(q => ({
    text: q.querySelector('h4').textContent,
    answered: q.querySelector('.question__answered').textContent,
    median: q.querySelector('.question__median')?.textContent ?? '',
    rows: [...q.querySelectorAll('.bars__row')].map(r => [
      r.querySelector('.bars__label').textContent, r.querySelector('.bars__value').textContent,
    ]),
  })),
};
"""

FIND_BUTTON_JS = """
const [panel, label] = arguments;
const buttons = [...panel.querySelectorAll('.keyboard button')];
return buttons.filter(b => b.textContent === label).at(-1) ?? null;
"""


@pytest.fixture
def sandbox_url(database_url: str) -> Iterator[str]:
    """The service with its emulators, in a thread; the page's address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    @asynccontextmanager
    async def service() -> AsyncIterator[str]:
        async with Sandbox() as sandbox:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=database_url,
                surveys_dir=EXAMPLE_SURVEYS,
                telegram_chat_rate=30,
                port=port,
            )
            async with running(sandbox.settings_for(settings, base), "127.0.0.1", port, sandbox):
                yield f"{base}/sandbox"

    with serve_in_thread(service) as url:
        yield url


class SandboxPage:
    """What a person does on the page, each step waiting for the page to answer."""

    def __init__(self, driver: WebDriver, url: str, lang: str = "en") -> None:
        self.driver = driver
        self.wait = WebDriverWait(
            driver, WAIT, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
        )
        driver.get(f"{url}?lang={lang}")
        self.until(lambda: self.driver.execute_script("return document.readyState") == "complete")
        self.until(lambda: self.element("#add-telegram").text.strip())

    def until(self, condition: Callable[[], Any], message: str = "") -> Any:
        return self.wait.until(lambda _driver: condition(), message)

    def element(self, css: str, within: WebElement | None = None) -> WebElement:
        return (within or self.driver).find_element(By.CSS_SELECTOR, css)

    def panels(self, kind: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, f"section.chat--{kind}")

    def add(self, kind: str) -> WebElement:
        before = len(self.panels(kind))
        self.element(f"#add-{kind}").click()
        self.until(lambda: len(self.panels(kind)) == before + 1, f"no new {kind} panel")
        return self.panels(kind)[-1]

    def messages(self, panel: WebElement) -> list[dict[str, Any]]:
        return self.driver.execute_script(MESSAGES_JS, panel)  # type: ignore[no-any-return]

    def last(self, panel: WebElement) -> dict[str, Any]:
        messages = self.messages(panel)
        return messages[-1] if messages else {"from": "", "text": "", "meta": "", "buttons": []}

    def type(self, panel: WebElement, text: str) -> None:
        box = self.element("input", panel)
        count = len(self.messages(panel))
        box.send_keys(text, Keys.ENTER)
        self.until(
            lambda: any(
                m["from"] == "me" and m["text"] == text for m in self.messages(panel)[count:]
            ),
            f"{text!r} was not sent",
        )
        assert self.driver.switch_to.active_element == box  # focus stays in the input

    def press(self, panel: WebElement, label: str) -> None:
        def find() -> WebElement | None:
            return self.driver.execute_script(FIND_BUTTON_JS, panel, label)  # type: ignore[no-any-return]

        self.until(find, f"no button {label!r} in {self.last(panel)}").click()

    def reply(self, panel: WebElement, fragment: str) -> dict[str, Any]:
        """Wait until the newest message is the service's and contains ``fragment``."""
        self.until(
            lambda: self.last(panel)["from"] == "bot" and fragment in self.last(panel)["text"],
            f"no reply with {fragment!r}; last was {self.last(panel)}",
        )
        return self.last(panel)

    def answer(self, panel: WebElement, text: str, expect: str) -> dict[str, Any]:
        self.type(panel, text)
        return self.reply(panel, expect)

    def choose(self, panel: WebElement, label: str, expect: str) -> dict[str, Any]:
        self.press(panel, label)
        return self.reply(panel, expect)

    def results(self) -> dict[str, Any]:
        return self.driver.execute_script(RESULTS_JS)  # type: ignore[no-any-return]

    def results_when(self, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first results shown (polled every 1.5 s) for which ``condition`` holds."""
        shown: list[dict[str, Any]] = []

        def check() -> bool:
            shown[:] = [self.results()]
            return condition(shown[0])

        self.until(check, f"the results never got there; last shown: {shown}")
        return shown[0]


def question(results: dict[str, Any], start: str) -> dict[str, Any]:
    return next(q for q in results["questions"] if q["text"].startswith(start))


def onboard_on_telegram(page: SandboxPage, panel: WebElement) -> None:
    page.type(panel, "/start")
    page.reply(panel, "Choose your language")
    page.press(panel, "English")
    page.press(panel, "I agree")
    page.press(panel, "Baku")
    page.press(panel, "18–24")
    page.choose(panel, "Prefer not to say", "Open surveys:")


def onboard_by_sms(page: SandboxPage, panel: WebElement) -> None:
    page.answer(panel, "JOIN", "Choose your language")
    page.answer(panel, "3", "Do you agree?")
    page.answer(panel, "1", "region")
    page.answer(panel, "Baku", "How old are you?")
    page.answer(panel, "18-24", "Open surveys:")


def test_a_telegram_user_and_an_sms_phone_answer_and_the_results_follow(
    chromium: WebDriver,  # noqa: F811
    sandbox_url: str,
) -> None:
    page = SandboxPage(chromium, sandbox_url)
    assert page.element("html").get_attribute("lang") == "en"
    current = page.element('#languages a[aria-current="page"]')
    assert current.text == "English"
    assert page.element("#add-telegram").text == "Add a Telegram user"

    # Telegram: onboarding with buttons, then the survey with buttons and typing.
    telegram = page.add("telegram")
    heading = page.element("h2", telegram).text
    assert heading.startswith("Telegram user ") and heading.split()[-1].isdigit()
    log = page.element('[role="log"]', telegram)
    assert log.get_attribute("aria-live") == "polite"
    assert page.element("input", telegram).get_attribute("placeholder") == "/start"
    onboard_on_telegram(page, telegram)
    first = page.choose(telegram, SURVEY, "1/6")
    assert "Clinic or hospital" in first["buttons"]
    page.choose(telegram, "Clinic or hospital", "2/6")
    assert "✔ Clinic or hospital" in page.messages(telegram)[-2]["text"]  # edited in place
    page.choose(telegram, "4", "3/6")
    reprompt = page.answer(telegram, "about an hour", "Please type a number.")
    assert "3/6" in reprompt["text"]
    assert "\n" in reprompt["text"]  # line breaks are kept
    page.answer(telegram, "25", "4/6")
    page.choose(telegram, "Yes", "5/6")
    page.press(telegram, "Shorter waiting times")
    page.until(lambda: "✅ Shorter waiting times" in page.last(telegram)["buttons"])
    assert chromium.switch_to.active_element.text == "✅ Shorter waiting times"  # focus kept
    page.press(telegram, "Closer to home")
    page.until(lambda: "✅ Closer to home" in page.last(telegram)["buttons"])
    page.choose(telegram, "Done", "6/6")
    page.type(telegram, "More evening hours")
    page.until(
        lambda: any(m["text"].startswith("Thank you") for m in page.messages(telegram)[-3:]),
        "no thanks",
    )

    # Live results: the survey being answered, counts as text beside the bars.
    results = page.results_when(lambda r: "1 completed" in r["sessions"])
    assert results["title"] == SURVEY
    first_question = question(results, FIRST_QUESTION)
    assert first_question["answered"] == "1 answered"
    assert ["Clinic or hospital", "1 (100%)"] in first_question["rows"]
    assert ["None of these", "0 (0%)"] in first_question["rows"]
    assert question(results, MINUTES_QUESTION)["median"] == "Median: 25"

    # Sharing a phone number when the bot asks for it.
    page.answer(telegram, "/phone", "Share your phone number")
    share = page.until(lambda: page.element("button.share", telegram).is_displayed() or None)
    assert share
    page.element("button.share", telegram).click()
    prompt = WebDriverWait(chromium, WAIT).until(expected_conditions.alert_is_present())
    assert prompt.text == "Share my phone number"
    prompt.accept()  # the prefilled random Azerbaijani mobile
    page.reply(telegram, "Your phone number is linked")
    assert re.fullmatch(r"📞 \+994(50|55|70)\d{7}", page.messages(telegram)[-2]["text"])
    page.until(lambda: not page.element("button.share", telegram).is_displayed())

    # SMS: everything typed, replies come a moment later and show their cost.
    sms = page.add("sms")
    assert page.element("h2", sms).text.startswith("SMS phone +994")
    assert page.element("input", sms).get_attribute("placeholder") == "JOIN"
    assert len(page.panels("telegram")) == 1  # side by side
    onboard_by_sms(page, sms)
    page.answer(sms, "1", "1/6")
    page.answer(sms, "4", "2/6")
    page.answer(sms, "5", "3/6")
    page.answer(sms, "45", "4/6")
    page.answer(sms, "no", "5/6")
    page.answer(sms, "1,3", "6/6")
    page.answer(sms, "SKIP", "")
    page.until(
        lambda: any(m["text"].startswith("Thank you") for m in page.messages(sms)[-3:]),
        "no thanks by SMS",
    )
    costs = [m["meta"] for m in page.messages(sms) if m["from"] == "bot"]
    assert costs and all("SMS segment(s), " in meta for meta in costs), costs
    assert all("UCS-2" in meta or "GSM-7" in meta for meta in costs), costs
    assert any("UCS-2" in meta for meta in costs)  # the Azerbaijani in the language menu
    page.until(lambda: "delivered" in page.messages(sms)[-1]["meta"], "no delivery status")
    assert all(m["meta"] == "" for m in page.messages(sms) if m["from"] == "me")

    results = page.results_when(lambda r: "2 completed" in r["sessions"])
    first_question = question(results, FIRST_QUESTION)
    assert first_question["answered"] == "2 answered"
    assert ["ASAN service or e-government", "1 (50%)"] in first_question["rows"]
    assert ["Clinic or hospital", "1 (50%)"] in first_question["rows"]
    assert question(results, MINUTES_QUESTION)["median"] == "Median: 35"

    # The other survey, chosen in the selector, has no answers yet.
    select = page.element("#survey-select")
    assert page.element(f"label[for='{select.get_attribute('id')}']").text == "Survey"
    page.element("#survey-select option[value='youth_priorities']").click()
    page.until(lambda: page.results()["title"].startswith("Youth priorities"))
    assert all(q["answered"] == "0 answered" for q in page.results()["questions"])

    # Closing a panel removes it and puts the focus somewhere useful.
    page.element("button.close", telegram).click()
    page.until(lambda: not page.panels("telegram"))
    assert chromium.switch_to.active_element.get_attribute("id") == "add-telegram"


def test_the_page_speaks_azerbaijani(chromium: WebDriver, sandbox_url: str) -> None:  # noqa: F811
    page = SandboxPage(chromium, sandbox_url, lang="az")
    config = json.loads(page.element("#sandbox-config").get_attribute("textContent") or "{}")
    _ = translator("az")
    assert config["language"] == "az"
    assert config["texts"]["add_telegram"] == _(PAGE_TEXTS["add_telegram"])
    assert page.element("html").get_attribute("lang") == "az"
    assert page.element("#add-telegram").text == config["texts"]["add_telegram"]
    assert page.element("#add-sms").text == config["texts"]["add_sms"]
    assert page.element("#results-title").text == config["texts"]["results"]
    assert page.element('#languages a[aria-current="page"]').text == "Azərbaycan"
    assert page.element("h1").text == _(PAGE_TEXTS["title"])


def test_keyboard_only(chromium: WebDriver, sandbox_url: str) -> None:  # noqa: F811
    page = SandboxPage(chromium, sandbox_url)
    keys = ActionChains(chromium)

    def focused() -> WebElement:
        return chromium.switch_to.active_element

    for _ in range(12):
        keys.send_keys(Keys.TAB).perform()
        if focused().get_attribute("id") == "add-telegram":
            break
    else:
        pytest.fail("Tab never reached the add-a-Telegram-user button")
    keys.send_keys(Keys.ENTER).perform()
    page.until(lambda: len(page.panels("telegram")) == 1, "Enter did not add a panel")
    panel = page.panels("telegram")[0]
    assert focused() == page.element("input", panel)  # ready to type /start

    keys.send_keys("/start", Keys.ENTER).perform()
    page.reply(panel, "Choose your language")
    assert focused() == page.element("input", panel)
    keys.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert focused().text == "English"  # the last button, just before the input
    keys.send_keys(Keys.ENTER).perform()
    page.reply(panel, "/forget")  # the consent
    page.until(lambda: focused().text == "I agree", "focus did not move to the next question")
    keys.send_keys(Keys.SPACE).perform()
    page.reply(panel, "region")


def test_screenshot(chromium: WebDriver, sandbox_url: str) -> None:  # noqa: F811
    """Only with SANDBOX_SCREENSHOT=path: both chats mid-survey and the live results."""
    target = os.environ.get("SANDBOX_SCREENSHOT")
    if not target:
        pytest.skip("set SANDBOX_SCREENSHOT=docs/sandbox.png to write the README's screenshot")
    page = SandboxPage(chromium, sandbox_url)
    telegram = page.add("telegram")
    onboard_on_telegram(page, telegram)
    page.choose(telegram, SURVEY, "1/6")
    page.choose(telegram, "ASAN service or e-government", "2/6")
    page.choose(telegram, "4", "3/6")
    page.answer(telegram, "20", "4/6")
    page.choose(telegram, "Yes", "5/6")
    sms = page.add("sms")
    onboard_by_sms(page, sms)
    page.answer(sms, "1", "1/6")
    page.answer(sms, "1", "2/6")
    page.answer(sms, "3", "3/6")
    page.answer(sms, "an hour", "Please type a number.")
    page.results_when(
        lambda r: (
            question(r, FIRST_QUESTION)["answered"] == "2 answered"
            and question(r, "How satisfied")["answered"] == "2 answered"
        )
    )
    page.until(lambda: "delivered" in page.messages(sms)[-1]["meta"])
    chromium.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    path = Path(target) if Path(target).is_absolute() else REPO / target
    path.parent.mkdir(parents=True, exist_ok=True)
    assert chromium.get_screenshot_as_file(str(path))
