"""The staff console's pages against the real app: who sees what, CSRF, forms, languages.

One service runs for the module (``create_web_app`` behind aiohttp's test server,
SQLite or TEST_DATABASE_URL) with one account per role, each signed in through
the login form like a browser. ``routes.PAGES`` is the table the role test reads:
every page renders for a role that may open it, sends anonymous people to the
login page and answers 403 to other roles.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import pytest_asyncio
from aiohttp import ClientResponse, FormData, web
from aiohttp.test_utils import TestClient

from outreach.app import Outreach
from outreach.console.operations import Caller, ConsoleOperations
from outreach.console.pages import PAGES
from outreach.console.pages.rendering import LANGUAGE_COOKIE
from outreach.console.roles import Action, Role, can
from outreach.console.web_auth import SESSION_COOKIE
from storage.audit import Actor, AuditLog, AuditRecord
from tests.console_app import console_app
from tests.test_campaign_engine import people
from tests.test_quiz_play import Player
from tests.test_text_moderation import take_public_services

pytestmark = [pytest.mark.storage, pytest.mark.asyncio(loop_scope="module")]

GOOD = "correct horse battery"
ROLE_USERS = {
    Role.ADMIN: "amina",
    Role.ORGANIZER: "orhan",
    Role.ANALYST: "ali",
    Role.MODERATOR: "mira",
}
SURVEY = "public_services"
FUTURE = "2030-01-07T10:00"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
H1 = re.compile(r"<h1>(.*?)</h1>", re.S)

Client = TestClient[web.Request, web.Application]


@dataclass
class Browser:
    """One signed-in person: their session cookie, sent by hand (the server is on 127.0.0.1)."""

    client: Client
    cookie: str = ""
    language: str = "en"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookies = [f"{LANGUAGE_COOKIE}={self.language}"]
        if self.cookie:
            cookies.append(f"{SESSION_COOKIE}={self.cookie}")
        return {"Cookie": "; ".join(cookies), **(extra or {})}

    async def get(self, path: str) -> ClientResponse:
        return await self.client.get(path, headers=self.headers(), allow_redirects=False)

    async def post(self, path: str, data: Any = None, **headers: str) -> ClientResponse:
        return await self.client.post(
            path, data=data, headers=self.headers(headers), allow_redirects=False
        )

    async def csrf(self, path: str = "/") -> str:
        page = await (await self.get(path)).text()
        found = CSRF_FIELD.search(page)
        assert found, page
        return found.group(1)


@dataclass
class World:
    client: Client
    outreach: Outreach
    browsers: dict[str, Browser]
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def ops(self) -> ConsoleOperations:
        assert self.outreach.console is not None
        return self.outreach.console

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.numbers)}"

    async def admin(self) -> Caller:
        accounts = self.outreach.accounts
        assert accounts is not None
        signed_in = await accounts.sign_in(username="amina", password=GOOD)
        return Caller(signed_in.staff, "127.0.0.1")

    async def audit(self, action: str | None = None) -> list[AuditRecord]:
        return await self.outreach.db.read(lambda s: AuditLog(s).latest(limit=500, action=action))


async def sign_in(client: Client, username: str) -> str:
    """Through the login form, as a browser would; the session cookie it set."""
    response = await client.post(
        "/login",
        data={"username": username, "password": GOOD, "next": "/"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/"
    return response.cookies[SESSION_COOKIE].value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("console_pages")
    async with console_app(tmp) as (client, outreach):
        accounts = outreach.accounts
        assert accounts is not None
        browsers = {"anonymous": Browser(client)}
        for role, username in ROLE_USERS.items():
            await accounts.create_account(
                username=username, password=GOOD, role=role, actor=Actor.command_line()
            )
            browsers[role.value] = Browser(client, await sign_in(client, username))
        found = World(client, outreach, browsers)
        admin = await found.admin()
        await found.ops.create_campaign(
            admin,
            document={
                "id": "draft_one",
                "kind": "announcement",
                "name": "Town hall in Ganja",
                "languages": ["az", "ru"],
                "text": {"az": "Gəncədə müzakirə.", "ru": "Обсуждение в Гяндже."},
                "schedule": {"at": "2030-01-07T10:00:00+04:00"},
            },
        )
        person = Player(outreach.conversation, "7001")
        await take_public_services(person, "Call me on +994 50 555 12 34 about the buses")
        yield found


# ---------------------------------------------------------------------------- who sees what

PATH_VALUES = {
    "survey_id": SURVEY,
    "campaign_id": "draft_one",
    "export_id": "public_services-20260101T000000Z-abcdef",
    "item_id": "999999",
    "username": "orhan",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: PATH_VALUES[m.group(1)], path)


GET_PAGES = [page for page in PAGES if page.method == "GET" and page.action is not None]
POST_PAGES = [page for page in PAGES if page.method == "POST" and page.action is not None]


@pytest.mark.parametrize("page", GET_PAGES, ids=[p.path for p in GET_PAGES])
async def test_each_page_opens_for_its_roles_only(world: World, page: Any) -> None:
    path = concrete(page.path)
    anonymous = await world.browsers["anonymous"].get(path)
    assert anonymous.status == 303
    assert anonymous.headers["Location"].startswith("/login?next=")
    for role in Role:
        response = await world.browsers[role.value].get(path)
        body = await response.text()
        if not can(role, page.action):
            assert response.status == 403, (role, path)
            assert "<h1>Not allowed</h1>" in body
        elif page.path.startswith("/exports/"):
            assert response.status == 404, (role, path, body)  # no such export: a page says so
        else:
            assert response.status == 200, (role, path, body[:2000])
            assert '<a class="skip" href="#main">' in body and '<main id="main"' in body
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.parametrize("page", POST_PAGES, ids=[p.path for p in POST_PAGES])
async def test_each_form_needs_its_role_and_the_csrf_token(world: World, page: Any) -> None:
    path = concrete(page.path)
    anonymous = await world.browsers["anonymous"].post(path, data={})
    assert anonymous.status == 303 and anonymous.headers["Location"] == "/login"
    for role in Role:
        browser = world.browsers[role.value]
        response = await browser.post(path, data={"decision": "approve"})
        if not can(role, page.action):
            assert response.status == 403, (role, path)
            assert "Not allowed" in await response.text()
        else:  # allowed, but a form without the session's token is refused
            assert response.status == 403, (role, path)
            assert "expired or came from another site" in await response.text()
    token = await world.browsers["admin"].csrf()
    cross = await world.browsers["admin"].post(
        path, data={"csrf_token": token}, **{"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status == 403


async def test_every_page_states_its_action() -> None:
    paths = {(page.method, page.path) for page in PAGES}
    assert len(paths) == len(PAGES)
    assert {page.path for page in PAGES if page.action is None} == {"/login"}
    menu_actions = {page.action for page in PAGES}
    assert {Action.AUDIT_READ, Action.STAFF_MANAGE, Action.MODERATION_ACT} <= menu_actions


# ---------------------------------------------------------------------------- signing in


async def test_wrong_passwords_say_when_the_account_locks(world: World) -> None:
    client = world.client
    page = await client.get("/login?next=/campaigns", headers={"Cookie": f"{LANGUAGE_COOKIE}=en"})
    text = await page.text()
    assert 'name="next" value="/campaigns"' in text
    assert "After 5 failed attempts an account is locked for 15 minutes." in text
    refused = await client.post(
        "/login",
        data={"username": "ali", "password": "wrong wrong wrong", "next": "/campaigns"},
        headers={"Cookie": f"{LANGUAGE_COOKIE}=en"},
        allow_redirects=False,
    )
    text = await refused.text()
    assert refused.status == 401
    assert "Wrong username or password. After 5 failed attempts" in text
    assert 'value="ali"' in text and 'aria-invalid="true"' in text and 'role="alert"' in text
    az = await client.post(
        "/login",
        data={"username": "nobody", "password": "x"},
        headers={"Cookie": f"{LANGUAGE_COOKIE}=az"},
        allow_redirects=False,
    )
    assert "5 uğursuz cəhddən sonra" in await az.text()
    crossed = await client.post(
        "/login",
        data={"username": "ali", "password": GOOD},
        headers={"Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
    )
    assert crossed.status == 403


async def test_signing_in_goes_to_the_page_asked_for_and_signing_out_ends_it(
    world: World,
) -> None:
    client = world.client
    response = await client.post(
        "/login",
        data={"username": "ali", "password": GOOD, "next": "//evil.example/x"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/"  # never another site
    browser = Browser(client, response.cookies[SESSION_COOKIE].value)
    assert (await browser.get("/surveys")).status == 200
    token = await browser.csrf()
    out = await browser.post("/logout", data={"csrf_token": token})
    assert out.status == 303 and out.headers["Location"] == "/login?done=signed_out"
    assert (await browser.get("/surveys")).status == 303
    assert "You are signed out." in await (await browser.get("/login?done=signed_out")).text()


# ---------------------------------------------------------------------------- languages


AZ_HEADINGS = {
    "/": "İdarə paneli",
    "/surveys": "Sorğular",
    "/campaigns": "Kampaniyalar",
    "/campaigns/new": "Kampaniya yarat",
    "/moderation": "Moderasiya",
    "/exports": "İxrac",
    "/audit": "Audit jurnalı",
    "/staff": "Əməkdaşlar",
}


@pytest.mark.parametrize(("path", "heading"), AZ_HEADINGS.items())
async def test_headings_in_azerbaijani(world: World, path: str, heading: str) -> None:
    browser = Browser(world.client, world.browsers["admin"].cookie, language="az")
    response = await browser.get(path)
    text = await response.text()
    assert response.status == 200
    assert '<html lang="az">' in text
    found = H1.search(text)
    assert found and found.group(1).strip() == heading
    assert response.headers["Content-Language"] == "az"


async def test_the_language_switcher_remembers_the_choice(world: World) -> None:
    browser = world.browsers["analyst"]
    response = await browser.client.get(
        "/surveys?lang=ru",
        headers={"Cookie": f"{SESSION_COOKIE}={browser.cookie}"},
        allow_redirects=False,
    )
    text = await response.text()
    assert '<html lang="ru">' in text and "<h1>Опросы</h1>" in text
    assert response.cookies[LANGUAGE_COOKIE].value == "ru"
    for code, name in (("az", "Azərbaycan"), ("ru", "Русский"), ("en", "English")):
        assert f'lang="{code}" hreflang="{code}"' in text and name in text
    assert 'aria-current="true">Русский' in text


# ---------------------------------------------------------------------------- surveys


def xlsform(path: Path, rows: list[dict[str, Any]], choices: list[dict[str, Any]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {
        "survey": rows,
        "choices": choices,
        "settings": [{"form_id": "bus_times", "form_title::English (en)": "Buses"}],
    }
    for name, sheet_rows in sheets.items():
        sheet = book.create_sheet(name)
        header = list(dict.fromkeys(key for row in sheet_rows for key in row))
        sheet.append(header)
        for row in sheet_rows:
            sheet.append([row.get(key) for key in header])
    book.save(path)
    return path.read_bytes()


def upload(name: str, content: bytes, token: str, **fields: str) -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", content, filename=name, content_type="application/octet-stream")
    return form


async def test_an_xlsform_with_problems_lists_each_by_sheet_row_and_column(
    world: World, tmp_path: Path
) -> None:
    browser = world.browsers["organizer"]
    content = xlsform(
        tmp_path / "bad.xlsx",
        [
            {"type": "select_one often", "name": "often", "label::English (en)": "How often?"},
            {"type": "geopoint", "name": "where", "label::English (en)": "Where?"},
        ],
        [{"list_name": "seldom", "name": "a", "label::English (en)": "A"}],
    )
    token = await browser.csrf("/surveys/upload")
    response = await browser.post("/surveys/upload", upload("bad.xlsx", content, token))
    text = await response.text()
    assert response.status == 400
    assert "problems in bad.xlsx: nothing was stored" in text
    assert "Sheet “survey”, row 2, column “type”" in text
    assert "Sheet “survey”, row 3, column “type”" in text
    assert "geopoint" in text


async def test_an_xlsform_becomes_a_survey_and_the_upload_is_audited(
    world: World, tmp_path: Path
) -> None:
    browser = world.browsers["organizer"]
    content = xlsform(
        tmp_path / "buses.xlsx",
        [
            {
                "type": "select_one often",
                "name": "often",
                "label::English (en)": "How often do you take the bus?",
                "required": "yes",
            },
        ],
        [
            {"list_name": "often", "name": "daily", "label::English (en)": "Every day"},
            {"list_name": "often", "name": "never", "label::English (en)": "Never"},
        ],
    )
    token = await browser.csrf("/surveys/upload")
    response = await browser.post("/surveys/upload", upload("buses.xlsx", content, token))
    text = await response.text()
    assert response.status == 200, text
    assert "Stored “Buses” (bus_times) as version 1." in text
    listing = await (await browser.get("/surveys")).text()
    assert "bus_times" in listing
    uploads = await world.audit("surveys.upload")
    assert uploads[0].target_id == "bus_times" and uploads[0].username == "orhan"


async def test_a_yaml_file_with_problems_names_file_and_line(world: World) -> None:
    browser = world.browsers["admin"]
    token = await browser.csrf("/surveys/upload")
    broken = (
        b"id: broken\ntitle: {en: Broken}\nlanguages: [en]\n"
        b"questions:\n  - id: q\n    kind: guess\n"
    )
    response = await browser.post("/surveys/upload", upload("broken.yaml", broken, token))
    text = await response.text()
    assert response.status == 400
    assert "File broken.yaml, line 6" in text and "field questions[0].kind" in text


async def test_closing_and_reopening_a_survey(world: World) -> None:
    browser = world.browsers["organizer"]
    token = await browser.csrf("/surveys")
    closed = await browser.post("/surveys/youth_priorities/close", {"csrf_token": token})
    assert closed.status == 303 and closed.headers["Location"] == "/surveys?done=closed"
    page = await (await browser.get("/surveys?done=closed")).text()
    assert "The survey is closed" in page
    assert 'action="/surveys/youth_priorities/reopen"' in page
    reopened = await browser.post("/surveys/youth_priorities/reopen", {"csrf_token": token})
    assert reopened.status == 303
    assert [e.action for e in (await world.audit())[:2]] == ["surveys.reopen", "surveys.close"]


# ---------------------------------------------------------------------------- results


async def test_results_by_one_and_two_dimensions_with_charts_and_notes(world: World) -> None:
    browser = world.browsers["analyst"]
    response = await browser.get(f"/surveys/{SURVEY}/results?by=age_band&then=region")
    text = await response.text()
    assert response.status == 200
    assert '<svg role="img" class="chart"' in text
    assert "by Age band · Region" in text
    assert "not a random sample" in text  # the representativeness note
    assert "not weighted" in text
    assert "&lt;5" in text  # one person: every count of them is hidden
    assert f'href="/exports?survey={SURVEY}"' in text
    assert "selected>Age band</option>" in text
    unknown = await browser.get("/surveys/nothing_here/results")
    assert unknown.status == 404


async def test_the_dashboard_shows_people_counts_as_the_api_publishes_them(world: World) -> None:
    await world.outreach.db.write(
        lambda s: people(
            s, [{"channels": {"telegram": "8899"}, "region": "nakhchivan", "language": "az"}]
        )
    )
    text = await (await world.browsers["analyst"].get("/")).text()
    row = re.search(r'<th scope="row">Nakhchivan</th><td class="n">([^<]*)</td>', text)
    assert row is not None and row.group(1) == "&lt;5"  # one person: hidden, never "1"
    counts = await world.ops.people_counts(await world.admin())
    assert counts.by_region["nakhchivan"].count is None
    for name, figure in counts.by_channel.items():
        shown = figure.text.replace("<", "&lt;")
        assert f'<th scope="row">{"SMS" if name == "sms" else "Telegram"}</th>' in text
        assert f'<td class="n">{shown}</td>' in text


# ---------------------------------------------------------------------------- campaigns


def composer_form(token: str, campaign_id: str, intent: str, **fields: Any) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "id": campaign_id,
        "name": "Buses in Ganja",
        "kind": "announcement",
        "text_az": "Gəncədə avtobuslar haqqında görüş.",
        "text_ru": "Встреча об автобусах в Гяндже.",
        "channels": ["telegram", "sms"],
        "audience_regions": ["ganja-dashkasan"],
        "when": "at",
        "schedule_at": FUTURE,
        "window_start": "10:00",
        "window_end": "20:00",
        "intent": intent,
        **fields,
    }


async def test_the_composer_previews_saves_and_the_campaign_is_scheduled(world: World) -> None:
    await world.outreach.db.write(
        lambda s: people(
            s,
            [
                {
                    "channels": {"sms": "+994501110001"},
                    "region": "ganja-dashkasan",
                    "language": "ru",
                },
                {"channels": {"telegram": "8801"}, "region": "ganja-dashkasan", "language": "az"},
                {"channels": {"telegram": "8802"}, "region": "baku", "language": "az"},
            ],
        )
    )
    browser = world.browsers["organizer"]
    token = await browser.csrf("/campaigns/new")
    campaign_id = world.unique("buses_")
    preview = await browser.post("/campaigns/new", composer_form(token, campaign_id, "preview"))
    text = await preview.text()
    assert preview.status == 200
    assert "Reaches 2 people" in text and "USD" in text
    live = await browser.post(
        "/campaigns/preview",
        composer_form(token, campaign_id, "preview", channels=["sms"]),
    )
    live_text = await live.text()
    assert "Reaches 1 person" in live_text and "<html" not in live_text
    saved = await browser.post("/campaigns/new", composer_form(token, campaign_id, "save"))
    assert saved.status == 303
    assert saved.headers["Location"] == f"/campaigns/{campaign_id}?done=saved"
    page = await (await browser.get(f"/campaigns/{campaign_id}")).text()
    assert "Buses in Ganja" in page and 'action="/campaigns/' + campaign_id + '/schedule"' in page
    scheduled = await browser.post(f"/campaigns/{campaign_id}/schedule", {"csrf_token": token})
    assert scheduled.status == 303
    page = await (await browser.get(f"/campaigns/{campaign_id}?done=scheduled")).text()
    assert "The campaign is scheduled." in page and "/pause" in page
    actions = [e.action for e in await world.audit() if e.target_id == campaign_id]
    assert actions == ["campaigns.schedule", "campaigns.create"]


async def test_the_composer_lists_every_problem_by_field(world: World) -> None:
    browser = world.browsers["organizer"]
    token = await browser.csrf("/campaigns/new")
    response = await browser.post(
        "/campaigns/new",
        composer_form(token, "Bad Id!", "save", text_az="", text_ru="", window_start="25:00"),
    )
    text = await response.text()
    assert response.status == 400
    assert 'href="#id"' in text
    assert 'id="id"' in text and 'aria-invalid="true"' in text
    assert "nothing was saved" in text


# ---------------------------------------------------------------------------- moderation


async def test_moderators_see_masked_text_without_author_and_act_with_the_token(
    world: World,
) -> None:
    browser = world.browsers["moderator"]
    page = await (await browser.get("/moderation")).text()
    assert "+994 50 555 12 34" not in page and "about the buses" in page
    found = re.search(r'action="/moderation/texts/(\d+)"', page)
    assert found
    token = await browser.csrf("/moderation")
    approved = await browser.post(
        f"/moderation/texts/{found.group(1)}", {"csrf_token": token, "decision": "approve"}
    )
    assert approved.status == 303 and approved.headers["Location"] == "/moderation?done=approved"
    assert (await world.audit("texts.approve"))[0].username == "mira"


# ---------------------------------------------------------------------------- exports, admin


async def test_an_export_is_started_listed_and_downloaded(world: World) -> None:
    browser = world.browsers["analyst"]
    token = await browser.csrf("/exports")
    started = await browser.post(
        "/exports", {"csrf_token": token, "survey": SURVEY, "format": "csv", "language": "en"}
    )
    assert started.status == 303
    jobs = await world.ops.exports.all()
    await world.ops.exports.wait(jobs[0].id)
    page = await (await browser.get("/exports")).text()
    link = f"/exports/{jobs[0].id}/download"
    assert link in page
    download = await browser.get(link)
    assert download.status == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    header = (await download.read()).decode("utf-8-sig").splitlines()[0]
    assert "contact_id" in header and "phone" not in header
    assert {"exports.create", "exports.download"} <= {e.action for e in await world.audit()}


async def test_admins_manage_accounts_and_read_the_audit_log(world: World) -> None:
    browser = world.browsers["admin"]
    token = await browser.csrf("/staff")
    weak = await browser.post(
        "/staff",
        {"csrf_token": token, "username": "newbie", "password": "short", "role": "analyst"},
    )
    assert weak.status == 400 and 'value="newbie"' in await weak.text()
    made = await browser.post(
        "/staff",
        {
            "csrf_token": token,
            "username": "newbie",
            "display_name": "New Bie",
            "password": "a long enough pass phrase",
            "role": "analyst",
        },
    )
    assert made.status == 303 and made.headers["Location"] == "/staff?done=staff_created"
    role = await browser.post("/staff/newbie/role", {"csrf_token": token, "role": "moderator"})
    assert role.status == 303
    disabled = await browser.post("/staff/newbie/active", {"csrf_token": token, "active": "no"})
    assert disabled.headers["Location"] == "/staff?done=disabled"
    audit = await (await browser.get("/audit")).text()
    for action in ("staff.create", "staff.role", "staff.disable"):
        assert f"<code>{action}</code>" in audit
    only = await (await browser.get("/audit?action=staff.role")).text()
    assert "<code>staff.create</code>" not in only and "<code>staff.role</code>" in only
