"""The admin API against the real app: every route, who may call it, CSRF, audit, files, JSON.

One service runs for the module (``create_web_app`` behind aiohttp's test server,
SQLite or TEST_DATABASE_URL), with four staff accounts and API tokens; people
answer through the real conversation service. Each test makes what it changes
(its own survey, campaign, answer or account), so the tests do not depend on
each other's order.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import pytest_asyncio
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from outreach.app import Outreach, create_web_app
from outreach.console.api import ROUTES
from outreach.console.openapi import ApiRoute
from outreach.console.operations import Caller, ConsoleOperations
from outreach.console.roles import PERMISSIONS, Role, can
from outreach.console.tokens import csrf_token
from outreach.console.web_auth import CSRF_FORM_FIELD, CSRF_HEADER, SESSION_COOKIE
from outreach.settings import Settings
from polls.challenge import load_challenge_file
from polls.messages import Channel
from polls.pseudonym import pseudonymous_id
from polls.survey_loader import SurveyFileError, load_survey_text
from storage.audit import Actor, AuditLog, AuditRecord
from storage.challenges import ChallengeRepository
from storage.models import Answer, ChannelIdentity, Respondent
from tests.conftest import REPO
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
ANONYMOUS = "anonymous"
SURVEY = "public_services"
CHALLENGE = REPO / "challenges" / "green_school.yaml"
FUTURE = "2030-01-07T10:00:00+04:00"
PHONE = "+994 50 555 12 34"

Client = TestClient[web.Request, web.Application]


def survey_yaml(survey_id: str, *, title: str = "A test survey") -> str:
    return f"""\
id: {survey_id}
title: {{az: "Sorğu", ru: "Опрос", en: "{title}"}}
languages: [az, ru, en]
questions:
  - id: mood
    kind: single_choice
    text: {{az: "Necəsiniz?", ru: "Как дела?", en: "How are you?"}}
    choices:
      - {{value: good, label: {{az: "Yaxşı", ru: "Хорошо", en: "Good"}}}}
      - {{value: bad, label: {{az: "Pis", ru: "Плохо", en: "Bad"}}}}
  - id: why
    kind: text
    text: {{az: "Niyə?", ru: "Почему?", en: "Why?"}}
"""


def campaign_document(campaign_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "kind": "announcement",
        "name": "Town hall in Ganja",
        "languages": ["az", "ru"],
        "text": {"az": "Gəncədə ictimai müzakirə.", "ru": "Общественное обсуждение в Гяндже."},
        "schedule": {"at": FUTURE},
        **overrides,
    }


@dataclass
class Req:
    method: str
    path: str
    json: Any = None
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    client: Client
    outreach: Outreach
    tokens: dict[str, str]
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def ops(self) -> ConsoleOperations:
        assert self.outreach.console is not None
        return self.outreach.console

    @property
    def secret(self) -> str:
        return self.ops.pseudonym_secret

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.numbers)}"

    def bearer(self, role: str) -> dict[str, str]:
        return {} if role == ANONYMOUS else {"Authorization": f"Bearer {self.tokens[role]}"}

    async def caller(self, role: Role = Role.ADMIN) -> Caller:
        staff = await self.outreach.accounts.staff_for_token(self.tokens[role])  # type: ignore[union-attr]
        assert staff is not None
        return Caller(staff, "127.0.0.1")

    async def call(self, role: str, req: Req) -> Any:
        headers = {**self.bearer(role), **req.headers}
        return await self.client.request(
            req.method, req.path, json=req.json, data=req.data, headers=headers
        )

    async def audit(self, action: str | None = None) -> list[AuditRecord]:
        """Audit entries, the newest first."""
        return await self.outreach.db.read(lambda s: AuditLog(s).latest(limit=1000, action=action))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("console_api")
    async with console_app(tmp) as (client, outreach):
        accounts = outreach.accounts
        assert accounts is not None
        tokens = {}
        for role, username in ROLE_USERS.items():
            await accounts.create_account(
                username=username, password=GOOD, role=role, actor=Actor.command_line()
            )
            made = await accounts.create_api_token(
                username=username, name="tests", actor=Actor.command_line()
            )
            tokens[role.value] = made.token
        await accounts.create_account(
            username="spare", password=GOOD, role="analyst", actor=Actor.command_line()
        )
        found = World(client, outreach, tokens)
        await setup_world(found)
        yield found


async def setup_world(world: World) -> None:
    admin = await world.caller()
    ops = world.ops
    await ops.upload_survey(
        admin, filename="closable.yaml", content=survey_yaml("closable").encode()
    )
    world.ids["answer"] = await new_text_answer(world, "More evening buses to the clinic")
    world.ids["pseudonym"] = await new_respondent(world)
    await ops.create_campaign(admin, document=campaign_document("draft_one"))
    challenge = load_challenge_file(CHALLENGE)
    await world.outreach.db.write(lambda s: ChallengeRepository(s).save(challenge))
    world.ids["idea"] = await new_idea(world, "Solar panels on the school roof")
    job = await ops.start_export(admin, survey_id=SURVEY, export_format="csv")
    world.ids["export"] = (await ops.exports.wait(job.id)).id


async def new_text_answer(world: World, text: str) -> int:
    """Someone new takes the public services survey by Telegram and writes ``text``."""
    written = f"{text} ({world.unique('n')})"
    person = Player(world.outreach.conversation, world.unique("7"))
    await take_public_services(person, written)
    answer_id = await world.outreach.db.read(
        lambda s: s.scalar(select(Answer.id).where(Answer.text == written))
    )
    assert answer_id is not None
    return int(answer_id)


async def new_respondent(world: World, region: str = "baku") -> str:
    number = f"+99450{next(world.numbers):07d}"
    ids = await world.outreach.db.write(
        lambda s: people(s, [{"channels": {"sms": number}, "region": region, "language": "ru"}])
    )
    return pseudonymous_id(world.secret, ids[0])


async def new_idea(world: World, text: str) -> int:
    challenge = load_challenge_file(CHALLENGE)
    number = world.unique("9")

    def submit(session: Any) -> int:
        author = people(session, [{"channels": {"telegram": number}}])[0]
        return ChallengeRepository(session).submit(
            challenge=challenge, respondent_id=author, text=text, now=challenge.deadline
        )

    return await world.outreach.db.write(submit)


async def new_staff(world: World, role: str = "analyst") -> str:
    username = world.unique("staff")
    accounts = world.outreach.accounts
    assert accounts is not None
    await accounts.create_account(
        username=username, password=GOOD, role=role, actor=Actor.command_line()
    )
    return username


async def new_draft(world: World, *then: str) -> str:
    """A draft campaign (scheduled far ahead), moved on by ``then`` (schedule, pause)."""
    admin = await world.caller()
    campaign_id = world.unique("campaign_")
    await world.ops.create_campaign(admin, document=campaign_document(campaign_id))
    for verb in then:
        await getattr(world.ops, f"{verb}_campaign")(admin, campaign_id)
    return campaign_id


async def sign_in(world: World, username: str) -> tuple[dict[str, str], str]:
    """A browser session: the cookie header and a CSRF token of the session."""
    accounts = world.outreach.accounts
    assert accounts is not None
    signed_in = await accounts.sign_in(username=username, password=GOOD)
    assert signed_in.staff.session is not None
    cookie = {"Cookie": f"{SESSION_COOKIE}={signed_in.session_id}"}
    return cookie, csrf_token(signed_in.staff.session.csrf_secret)


def upload_form(name: str, content: bytes, **fields: str) -> FormData:
    form = FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", content, filename=name, content_type="application/octet-stream")
    return form


# ---------------------------------------------------------------------------- one request each

Sample = Callable[[World], Awaitable[Req]]
SAMPLES: dict[tuple[str, str], Sample] = {}


def sample(method: str, path: str) -> Callable[[Sample], Sample]:
    def register(make: Sample) -> Sample:
        SAMPLES[(method, path)] = make
        return make

    return register


def plain(method: str, route: str, path: str | None = None, **options: Any) -> None:
    """A request that needs nothing made first: ``path`` fills in the ``route``."""

    async def make(world: World) -> Req:
        return Req(method, path or route, **options)

    SAMPLES[(method, route)] = make


plain("GET", "/api/openapi.json")
plain("GET", "/api/me")
plain("GET", "/api/surveys")
plain("GET", "/api/surveys/{survey_id}", f"/api/surveys/{SURVEY}")
plain("POST", "/api/surveys/{survey_id}/close", "/api/surveys/closable/close")
plain("POST", "/api/surveys/{survey_id}/reopen", "/api/surveys/closable/reopen")
plain("GET", "/api/surveys/{survey_id}/results", f"/api/surveys/{SURVEY}/results?by=region")
plain(
    "POST",
    "/api/surveys/{survey_id}/results",
    f"/api/surveys/{SURVEY}/results",
    json={"by": ["age_band"], "k": 6},
)
plain(
    "GET",
    "/api/surveys/{survey_id}/text-results",
    f"/api/surveys/{SURVEY}/text-results?themes=true",
)
plain("GET", "/api/campaigns")
plain(
    "POST",
    "/api/campaigns/preview",
    data="id: draft\nkind: announcement\nname: Draft\nlanguages: [az]\ntext: {az: Salam}\n",
    headers={"Content-Type": "application/yaml"},
)
plain("GET", "/api/campaigns/{campaign_id}", "/api/campaigns/draft_one")
plain("GET", "/api/campaigns/{campaign_id}/preview", "/api/campaigns/draft_one/preview")
plain("GET", "/api/campaigns/{campaign_id}/progress", "/api/campaigns/draft_one/progress")
plain("GET", "/api/exports")
plain("POST", "/api/exports", json={"survey_id": SURVEY, "format": "xlsx", "language": "az"})
plain("GET", "/api/respondents/counts")
plain("GET", "/api/moderation/texts", f"/api/moderation/texts?survey_id={SURVEY}")
plain("GET", "/api/moderation/ideas")
plain("GET", "/api/staff")
plain("GET", "/api/staff/{username}", "/api/staff/ali")
plain("GET", "/api/staff/{username}/tokens", "/api/staff/ali/tokens")
plain(
    "POST",
    "/api/staff/{username}/password",
    "/api/staff/spare/password",
    json={"password": "another good passphrase"},
)
plain("GET", "/api/audit")


@sample("POST", "/api/surveys")
async def _upload(world: World) -> Req:
    survey_id = world.unique("uploaded-")
    return Req("POST", "/api/surveys", data=upload_form("s.yaml", survey_yaml(survey_id).encode()))


@sample("POST", "/api/campaigns")
async def _create_campaign(world: World) -> Req:
    return Req("POST", "/api/campaigns", json=campaign_document(world.unique("campaign_")))


@sample("POST", "/api/campaigns/{campaign_id}/schedule")
async def _schedule(world: World) -> Req:
    return Req("POST", f"/api/campaigns/{await new_draft(world)}/schedule")


@sample("POST", "/api/campaigns/{campaign_id}/pause")
async def _pause(world: World) -> Req:
    return Req("POST", f"/api/campaigns/{await new_draft(world, 'schedule')}/pause")


@sample("POST", "/api/campaigns/{campaign_id}/resume")
async def _resume(world: World) -> Req:
    return Req("POST", f"/api/campaigns/{await new_draft(world, 'schedule', 'pause')}/resume")


@sample("POST", "/api/campaigns/{campaign_id}/cancel")
async def _cancel(world: World) -> Req:
    return Req("POST", f"/api/campaigns/{await new_draft(world)}/cancel")


@sample("GET", "/api/exports/{export_id}")
async def _export(world: World) -> Req:
    return Req("GET", f"/api/exports/{world.ids['export']}")


@sample("GET", "/api/exports/{export_id}/file")
async def _export_file(world: World) -> Req:
    return Req("GET", f"/api/exports/{world.ids['export']}/file")


@sample("GET", "/api/respondents/{pseudonymous_id}")
async def _find(world: World) -> Req:
    return Req("GET", f"/api/respondents/{world.ids['pseudonym']}")


@sample("POST", "/api/respondents/{pseudonymous_id}/erase")
async def _erase(world: World) -> Req:
    code = await new_respondent(world)
    return Req("POST", f"/api/respondents/{code}/erase", json={"scope": "everything"})


@sample("POST", "/api/moderation/texts/approve")
async def _approve_texts(world: World) -> Req:
    answer = await new_text_answer(world, "Fix the road to the school")
    return Req("POST", "/api/moderation/texts/approve", json={"answer_ids": [answer]})


@sample("POST", "/api/moderation/texts/reject")
async def _reject_texts(world: World) -> Req:
    return Req("POST", "/api/moderation/texts/reject", json={"answer_ids": [world.ids["answer"]]})


@sample("POST", "/api/moderation/texts/{answer_id}/mute")
async def _mute_text(world: World) -> Req:
    return Req("POST", f"/api/moderation/texts/{world.ids['answer']}/mute", json={"days": 3})


@sample("POST", "/api/moderation/texts/{answer_id}/ban")
async def _ban_text(world: World) -> Req:
    answer = await new_text_answer(world, "Something abusive")
    return Req("POST", f"/api/moderation/texts/{answer}/ban")


@sample("POST", "/api/moderation/ideas/approve")
async def _approve_ideas(world: World) -> Req:
    idea = await new_idea(world, "A school garden")
    return Req("POST", "/api/moderation/ideas/approve", json={"idea_ids": [idea]})


@sample("POST", "/api/moderation/ideas/reject")
async def _reject_ideas(world: World) -> Req:
    return Req("POST", "/api/moderation/ideas/reject", json={"idea_ids": [world.ids["idea"]]})


@sample("POST", "/api/moderation/ideas/{idea_id}/mute")
async def _mute_idea(world: World) -> Req:
    return Req("POST", f"/api/moderation/ideas/{world.ids['idea']}/mute")


@sample("POST", "/api/moderation/ideas/{idea_id}/ban")
async def _ban_idea(world: World) -> Req:
    idea = await new_idea(world, "Something hateful")
    return Req("POST", f"/api/moderation/ideas/{idea}/ban")


@sample("POST", "/api/staff")
async def _create_staff(world: World) -> Req:
    body = {"username": world.unique("new"), "password": GOOD, "role": "moderator"}
    return Req("POST", "/api/staff", json=body)


@sample("PATCH", "/api/staff/{username}")
async def _update_staff(world: World) -> Req:
    return Req("PATCH", f"/api/staff/{await new_staff(world)}", json={"role": "organizer"})


@sample("POST", "/api/staff/{username}/tokens")
async def _create_token(world: World) -> Req:
    return Req("POST", "/api/staff/spare/tokens", json={"name": world.unique("script ")})


@sample("DELETE", "/api/staff/{username}/tokens/{name}")
async def _revoke_token(world: World) -> Req:
    name = world.unique("old-")
    accounts = world.outreach.accounts
    assert accounts is not None
    await accounts.create_api_token(username="spare", name=name, actor=Actor.command_line())
    return Req("DELETE", f"/api/staff/spare/tokens/{name}")


def placeholder(route: ApiRoute) -> str:
    """The route's path with made-up values (for requests refused before any work)."""
    return re.sub(
        r"\{(\w+)(:[^}]*)?\}",
        lambda m: "12" if m.group(2) else "made-up",
        route.path,
    )


def who_may(route: ApiRoute) -> list[tuple[ApiRoute, str, int]]:
    cases = []
    for who in (*(role.value for role in Role), ANONYMOUS):
        if route.action is None:
            expected = route.success
        elif who == ANONYMOUS:
            expected = 401
        else:
            expected = route.success if can(who, route.action) else 403
        cases.append((route, who, expected))
    return cases


TABLE = [case for route in ROUTES for case in who_may(route)]


@pytest.mark.parametrize(
    ("route", "who", "expected"),
    TABLE,
    ids=[f"{r.method} {r.document_path} as {who} -> {status}" for r, who, status in TABLE],
)
async def test_who_may_call_each_route(
    world: World, route: ApiRoute, who: str, expected: int
) -> None:
    if expected in (401, 403):
        req = Req(route.method, placeholder(route))
    else:
        req = await SAMPLES[(route.method, route.document_path)](world)
    response = await world.call(who, req)
    assert response.status == expected, await response.text()
    if expected in (401, 403):
        body = await response.json()
        assert body["error"] == ("unauthorized" if expected == 401 else "forbidden")
        if expected == 403:
            assert body["action"] == route.action.value  # type: ignore[union-attr]
    else:
        assert response.headers["Cache-Control"] == "no-store"


async def test_every_route_has_a_request_in_the_table() -> None:
    assert set(SAMPLES) == {(r.method, r.document_path) for r in ROUTES}
    assert {r.action for r in ROUTES if r.action} <= set(PERMISSIONS)


# ---------------------------------------------------------------------------- the document


async def test_the_openapi_document_describes_exactly_the_routes_served(world: World) -> None:
    response = await world.client.get("/api/openapi.json")
    assert response.status == 200 and response.content_type == "application/json"
    document = json.loads(await response.text())
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = {
        (route.method, route.resource.canonical)
        for route in world.client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api")
    }
    assert documented == served
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["cookie"]["in"] == "cookie" and schemes["cookie"]["name"] == SESSION_COOKIE
    erase = document["paths"]["/api/respondents/{pseudonymous_id}/erase"]["post"]
    assert erase["x-action"] == "respondents.erase" and "admin." in erase["description"]
    assert {"401", "403", "404", "422"} <= set(erase["responses"])
    assert erase["requestBody"]["content"]["application/json"]["schema"]["required"] == ["scope"]
    assert any(p["name"] == CSRF_HEADER for p in erase["parameters"])
    assert document["paths"]["/api/openapi.json"]["get"]["security"] == []
    upload = document["paths"]["/api/surveys"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)


# ---------------------------------------------------------------------------- CSRF


async def test_cookie_sessions_need_the_csrf_token_to_change_anything_tokens_do_not(
    world: World,
) -> None:
    cookie, token = await sign_in(world, "orhan")
    close = "/api/surveys/closable/close"
    missing = await world.client.post(close, headers=cookie)
    assert missing.status == 403 and (await missing.json())["error"] == "csrf"
    wrong = await world.client.post(close, headers={**cookie, CSRF_HEADER: "nonsense"})
    assert wrong.status == 403
    good = await world.client.post(close, headers={**cookie, CSRF_HEADER: token})
    assert good.status == 200 and (await good.json())["status"] == "closed"
    reopened = await world.client.post(
        "/api/surveys/closable/reopen", headers={**cookie, CSRF_HEADER: token}
    )
    assert reopened.status == 200 and (await reopened.json())["status"] == "open"
    reads = await world.client.get("/api/surveys", headers=cookie)
    assert reads.status == 200  # reading needs no token

    form = upload_form("csrf.yaml", survey_yaml("csrf-form").encode(), **{CSRF_FORM_FIELD: token})
    uploaded = await world.client.post("/api/surveys", data=form, headers=cookie)
    assert uploaded.status == 201, await uploaded.text()
    no_field = upload_form("csrf.yaml", survey_yaml("csrf-none").encode())
    assert (await world.client.post("/api/surveys", data=no_field, headers=cookie)).status == 403

    bearer = await world.call(Role.ORGANIZER, Req("POST", close))
    assert bearer.status == 200  # scripts send no CSRF token: browsers never send the header
    await world.call(Role.ORGANIZER, Req("POST", "/api/surveys/closable/reopen"))
    cross_site = await world.client.post(
        close, headers={**cookie, CSRF_HEADER: token, "Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status == 403


# ---------------------------------------------------------------------------- surveys


BROKEN = """\
id: Broken Survey
title: {az: "Sorğu", en: "Survey"}
languages: [az, ru, en]
questions:
  - id: topic
    kind: single_choise
    text: {az: "Mövzu?", ru: "Тема?", en: "Topic?"}
  - id: rate
    kind: rating
    text: {az: "Qiymət?", ru: "Оценка?", en: "Rate?"}
    min: 1
    max: 20
"""


async def test_a_broken_survey_file_is_refused_with_every_problem_as_the_cli_prints_it(
    world: World,
) -> None:
    form = upload_form("broken_survey.yaml", BROKEN.encode())
    response = await world.call(Role.ORGANIZER, Req("POST", "/api/surveys", data=form))
    assert response.status == 422
    body = await response.json()
    assert body["error"] == "invalid"
    with pytest.raises(SurveyFileError) as cli:
        load_survey_text(BROKEN, source="broken_survey.yaml")
    assert [p["text"] for p in body["problems"]] == [str(p) for p in cli.value.problems]
    assert len(body["problems"]) >= 3
    assert body["message"] == f"{len(body['problems'])} problems in broken_survey.yaml"
    for problem in body["problems"]:
        assert problem["file"] == "broken_survey.yaml" and problem["line"] is not None
        assert problem["text"].startswith(f"broken_survey.yaml:{problem['line']}: ")
    paths = {p["path"] for p in body["problems"]}
    assert {"id", "title.ru", "questions[0].kind"} <= paths
    assert any("single_choice" in p["message"] for p in body["problems"])  # the fix is named
    surveys = await (await world.call(Role.ORGANIZER, Req("GET", "/api/surveys?limit=500"))).json()
    assert "Broken Survey" not in {s["id"] for s in surveys["items"]}

    not_utf8 = upload_form("latin.yaml", 'id: x\ntitle: {en: "Café"}\n'.encode("latin-1"))
    refused = await world.call(Role.ORGANIZER, Req("POST", "/api/surveys", data=not_utf8))
    problem = (await refused.json())["problems"][0]
    assert refused.status == 422 and "UTF-8" in problem["message"] and problem["line"] == 2


async def test_a_survey_is_uploaded_validated_and_versioned(world: World) -> None:
    organizer = Role.ORGANIZER
    text = survey_yaml("versioned").encode()
    dry = await world.call(
        organizer, Req("POST", "/api/surveys?dry_run=true&filename=v.yaml", data=text,
                       headers={"Content-Type": "application/yaml"}),
    )  # fmt: skip
    assert dry.status == 200 and (await dry.json())["survey"] is None
    assert (await world.call(organizer, Req("GET", "/api/surveys/versioned"))).status == 404

    first = await world.call(
        organizer, Req("POST", "/api/surveys", data=upload_form("v.yaml", text))
    )
    assert first.status == 201
    created = await first.json()
    assert created["version"] == 1 and created["format"] == "yaml" and created["created"]
    assert created["survey"]["status"] == "open" and created["survey"]["questions"] == 2
    again = await world.call(
        organizer, Req("POST", "/api/surveys", data=upload_form("v.yaml", text))
    )
    assert again.status == 200 and (await again.json())["created"] is False
    changed = survey_yaml("versioned", title="A better title").encode()
    second = await world.call(
        organizer, Req("POST", "/api/surveys", data=upload_form("v.yaml", changed))
    )
    assert (await second.json())["version"] == 2
    back = await world.call(
        organizer, Req("POST", "/api/surveys", data=upload_form("v.yaml", text))
    )
    assert back.status == 409 and "version 1" in (await back.json())["message"]

    detail = await (await world.call(Role.ANALYST, Req("GET", "/api/surveys/versioned"))).json()
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    assert detail["versions"][0]["source"] == "upload:v.yaml"
    assert detail["definition"]["title"]["en"] == "A better title"
    entries = [e for e in await world.audit("surveys.upload") if e.target_id == "versioned"]
    assert [e.details["version"] for e in entries] == [2, 1]  # type: ignore[index]
    assert {e.username for e in entries} == {"orhan"}


XLS_AZ, XLS_RU, XLS_EN = "label::Azerbaijani (az)", "label::Russian (ru)", "label::English (en)"


def xlsform(rows: list[dict[str, Any]], choices: list[dict[str, Any]], form_id: str) -> bytes:
    """A KoBoToolbox-style XLSForm made with openpyxl."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    settings = [
        {
            "form_id": form_id,
            "form_title::Azerbaijani (az)": "Gənclərin səsi",
            "form_title::Russian (ru)": "Голос молодежи",
            "form_title::English (en)": "Youth voice",
        }
    ]
    for name, sheet_rows in (("survey", rows), ("choices", choices), ("settings", settings)):
        sheet = book.create_sheet(name)
        header = list(dict.fromkeys(key for row in sheet_rows for key in row))
        sheet.append(header)
        for row in sheet_rows:
            sheet.append([row.get(key) for key in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls_question(kind: str, name: str, en: str, **cells: str) -> dict[str, Any]:
    return {"type": kind, "name": name, XLS_AZ: f"{en} (az)", XLS_RU: f"{en} (ru)", XLS_EN: en,
            **cells}  # fmt: skip


YES_NO = [
    {"list_name": "yn", "name": "yes", XLS_AZ: "Bəli", XLS_RU: "Да", XLS_EN: "Yes"},
    {"list_name": "yn", "name": "no", XLS_AZ: "Xeyr", XLS_RU: "Нет", XLS_EN: "No"},
]


async def test_an_xlsform_made_in_excel_becomes_a_stored_survey(world: World) -> None:
    rows = [
        xls_question("select_one yn", "volunteer", "Would you volunteer?", required="yes"),
        xls_question("integer", "age", "How old are you?", constraint=". >= 14 and . <= 35"),
        xls_question("text", "idea", "Your idea?", relevant="${volunteer} = 'yes'"),
    ]
    content = xlsform(rows, YES_NO, "youth-voice-api")
    form = upload_form("youth.xlsx", content, languages="az,ru,en")
    response = await world.call(Role.ORGANIZER, Req("POST", "/api/surveys", data=form))
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["format"] == "xlsform" and body["survey_id"] == "youth-voice-api"
    assert body["survey"]["languages"] == ["az", "ru", "en"] and body["survey"]["questions"] == 3
    detail = await (
        await world.call(Role.ORGANIZER, Req("GET", "/api/surveys/youth-voice-api"))
    ).json()
    questions = detail["definition"]["questions"]
    assert [q["kind"] for q in questions] == ["yes_no", "number", "text"]
    assert questions[1]["min"] == 14 and questions[2]["ask_if"]["question"] == "volunteer"

    broken = [*rows, xls_question("geopoint", "where", "Where are you?")]
    refused = await world.call(
        Role.ORGANIZER,
        Req("POST", "/api/surveys", data=upload_form("broken.xlsx", xlsform(broken, YES_NO, "b"))),
    )
    assert refused.status == 422
    problem = (await refused.json())["problems"][0]
    assert problem["sheet"] == "survey" and problem["row"] == 5 and problem["column"] == "type"
    assert problem["text"].startswith("broken.xlsx: survey sheet, row 5, column type: ")


async def test_closing_a_survey_stops_people_mid_way_and_reopening_lets_them_go_on(
    world: World,
) -> None:
    admin = await world.caller()
    await world.ops.upload_survey(admin, filename="c.yaml", content=survey_yaml("closing").encode())
    person = Player(world.outreach.conversation, world.unique("7"))
    await take_public_services(person, "Fine")
    assert "How are you?" in await person.command("start", "closing")
    closed = await world.call(Role.ORGANIZER, Req("POST", "/api/surveys/closing/close"))
    assert (await closed.json())["status"] == "closed"
    assert await person.say("1") == "This survey is closed."
    listed = await person.command("surveys")
    assert "A test survey" not in listed
    assert await person.command("start", "closing") == "This survey is closed."
    await world.call(Role.ORGANIZER, Req("POST", "/api/surveys/closing/reopen"))
    resumed = await person.command("start", "closing")
    assert "Let's continue." in resumed and "How are you?" in resumed
    assert "Why?" in await person.say("1")
    entries = [e.action for e in await world.audit("surveys.close") if e.target_id == "closing"]
    assert entries == ["surveys.close"]


# ---------------------------------------------------------------------------- campaigns


async def test_a_campaign_is_composed_previewed_and_run_through_its_states(world: World) -> None:
    await new_respondent(world, region="ganja-dashkasan")
    organizer = Role.ORGANIZER
    document = campaign_document(
        "ganja_talk", audience={"regions": ["ganja-dashkasan"], "channels": ["sms"]}
    )
    preview = await world.call(organizer, Req("POST", "/api/campaigns/preview", json=document))
    body = await preview.json()
    assert preview.status == 200 and body["total"] >= 1
    sample = body["samples"][0]
    assert sample["channel"] == "sms" and sample["sms"]["encoding"] == "UCS-2"
    assert body["sms_segments"] >= 1 and body["estimated_cost"] > 0 and body["currency"] == "USD"
    assert (await world.call(organizer, Req("GET", "/api/campaigns/ganja_talk"))).status == 404

    made = await world.call(organizer, Req("POST", "/api/campaigns", json=document))
    assert made.status == 201 and (await made.json())["campaign"]["status"] == "draft"
    replaced = await world.call(organizer, Req("POST", "/api/campaigns", json=document))
    assert replaced.status == 200 and (await replaced.json())["created"] is False
    stored = await (
        await world.call(organizer, Req("GET", "/api/campaigns/ganja_talk/preview"))
    ).json()
    assert stored["total"] == body["total"]

    for verb, status in (("schedule", "scheduled"), ("pause", "paused"), ("resume", "scheduled")):
        moved = await world.call(organizer, Req("POST", f"/api/campaigns/ganja_talk/{verb}"))
        assert moved.status == 200 and (await moved.json())["status"] == status
    locked = await world.call(organizer, Req("POST", "/api/campaigns", json=document))
    assert locked.status == 409 and "cancel it" in (await locked.json())["message"]
    again = await world.call(organizer, Req("POST", "/api/campaigns/ganja_talk/resume"))
    assert again.status == 409 and "it cannot become scheduled" in (await again.json())["message"]
    cancelled = await world.call(organizer, Req("POST", "/api/campaigns/ganja_talk/cancel"))
    progress = await cancelled.json()
    assert progress["status"] == "cancelled" and progress["skipped_now"] == 0
    shown = await (
        await world.call(organizer, Req("GET", "/api/campaigns/ganja_talk/progress"))
    ).json()
    assert shown["status"] == "cancelled" and set(shown["counts"]) >= {"pending", "sent"}

    actions = [
        e.action
        for e in reversed(await world.audit())
        if e.target_type == "campaign" and e.target_id == "ganja_talk"
    ]
    assert actions == [
        "campaigns.create",
        "campaigns.create",
        "campaigns.schedule",
        "campaigns.pause",
        "campaigns.resume",
        "campaigns.cancel",
    ]


async def test_a_broken_campaign_lists_its_problems(world: World) -> None:
    yaml_text = (
        "id: bad campaign\nkind: survey_invitation\nname: Bad\nlanguages: [az]\n"
        "text: {az: Salam}\nsurvey: no_such_survey\naudience: {channels: [fax]}\n"
    )
    response = await world.call(
        Role.ORGANIZER,
        Req("POST", "/api/campaigns", data=upload_form("bad.yaml", yaml_text.encode())),
    )
    assert response.status == 422
    problems = (await response.json())["problems"]
    assert {p["path"] for p in problems} >= {"id", "audience.channels[0]"}
    assert all(p["text"].startswith("bad.yaml:") for p in problems)
    unknown = campaign_document("invite", kind="survey_invitation", survey="no_such_survey")
    refused = await world.call(Role.ORGANIZER, Req("POST", "/api/campaigns", json=unknown))
    problem = (await refused.json())["problems"][0]
    assert refused.status == 422 and problem["path"] == "survey"
    assert "no survey 'no_such_survey'" in problem["message"]
    wrong_type = await world.call(
        Role.ORGANIZER,
        Req("POST", "/api/campaigns", data="x", headers={"Content-Type": "image/png"}),
    )
    assert wrong_type.status == 415


# ---------------------------------------------------------------------------- results


async def test_results_hide_counts_under_k_people(world: World) -> None:
    admin = await world.caller()
    await world.ops.upload_survey(admin, filename="t.yaml", content=survey_yaml("tiny").encode())
    for _ in range(2):
        person = Player(world.outreach.conversation, world.unique("7"))
        await take_public_services(person, "Fine")
        await person.command("start", "tiny")
        await person.say("1")
        await person.say("Because")
    response = await world.call(Role.ANALYST, Req("GET", "/api/surveys/tiny/results?by=region"))
    assert response.status == 200
    body = await response.json()
    assert body["k"] == 5 and body["dimensions"] == ["region"]
    assert body["started"] == {"count": None, "text": "<5"}
    mood = body["questions"][0]
    assert mood["answered"] == {"count": None, "text": "<5"}
    assert all(choice["count"] is None for choice in mood["choices"])
    cells = body["breakdowns"][0]["segments"]
    assert all(segment["answered"]["count"] is None for segment in cells)
    assert "2" not in json.dumps(body["funnel"])

    too_small = await world.call(Role.ANALYST, Req("GET", "/api/surveys/tiny/results?k=3"))
    assert too_small.status == 422 and "never less than 5" in (await too_small.json())["message"]
    bad_by = await world.call(Role.ANALYST, Req("GET", "/api/surveys/tiny/results?by=name"))
    assert bad_by.status == 422 and "region" in (await bad_by.json())["message"]
    margins = await world.call(
        Role.ANALYST,
        Req("POST", "/api/surveys/tiny/results", json={"margins": "dimension,category,share\n"
                                                                  "region,baku,2\n"}),
    )  # fmt: skip
    assert margins.status == 422 and (await margins.json())["problems"][0]["file"] == "margins"
    weighted = await world.call(
        Role.ANALYST,
        Req("POST", "/api/surveys/tiny/results", json={
            "margins": "dimension,category,share\nregion,baku,1\n", "by": "region"}),
    )  # fmt: skip
    assert weighted.status == 200 and (await weighted.json())["weighting"] is not None
    missing = await world.call(Role.ANALYST, Req("GET", "/api/surveys/nothing/results"))
    assert missing.status == 404 and (await missing.json())["error"] == "not_found"
    text = await world.call(Role.ANALYST, Req("GET", "/api/surveys/tiny/text-results"))
    free = (await text.json())["free_text"]
    assert [t["question_id"] for t in free] == ["why"]
    assert all(not segment["terms"] for segment in free[0]["segments"])  # nothing approved


# ---------------------------------------------------------------------------- exports


async def test_exports_run_in_the_background_and_download_with_pseudonyms_only(
    world: World,
) -> None:
    phone_writer = Player(world.outreach.conversation, "+994501234567", channel=Channel.SMS)
    await take_public_services(phone_writer, f"Call me on {PHONE}")
    started = await world.call(
        Role.ANALYST, Req("POST", "/api/exports", json={"survey_id": SURVEY, "format": "csv"})
    )
    assert started.status == 202
    job = await started.json()
    assert job["status"] == "running" and job["download"] is None
    assert started.headers["Location"] == f"/api/exports/{job['id']}"
    await world.ops.exports.wait(job["id"])
    done = await (await world.call(Role.ANALYST, Req("GET", started.headers["Location"]))).json()
    assert done["status"] == "done" and done["rows"] > 0 and done["requested_by"] == "ali"
    download = await world.call(Role.ANALYST, Req("GET", done["download"]))
    assert download.status == 200 and download.content_type == "text/csv"
    assert f'filename="{job["id"]}.csv"' in download.headers["Content-Disposition"]
    content = (await download.read()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows and all(re.fullmatch(r"[0-9a-f]{16}", row["contact_id"]) for row in rows)
    assert "994501234567" not in content and "555 12 34" not in content
    assert any(row["text_withheld"] == "unmoderated" for row in rows)

    unmoderated = {"survey_id": SURVEY, "format": "csv", "include_unmoderated_text": True}
    refused = await world.call(Role.ANALYST, Req("POST", "/api/exports", json=unmoderated))
    assert refused.status == 403 and (await refused.json())["action"] == "moderation.read"
    floip = await world.call(
        Role.ADMIN, Req("POST", "/api/exports", json={"survey_id": SURVEY, "format": "floip"})
    )
    floip_job = await world.ops.exports.wait((await floip.json())["id"])
    packaged = await world.call(Role.ADMIN, Req("GET", f"/api/exports/{floip_job.id}/file"))
    with zipfile.ZipFile(io.BytesIO(await packaged.read())) as archive:
        assert "datapackage.json" in archive.namelist()
    unknown = await world.call(Role.ANALYST, Req("POST", "/api/exports", json={
        "survey_id": "nothing", "format": "csv"}))  # fmt: skip
    assert unknown.status == 404
    bad_format = await world.call(Role.ANALYST, Req("POST", "/api/exports", json={
        "survey_id": SURVEY, "format": "pdf"}))  # fmt: skip
    assert (
        bad_format.status == 422
        and "csv, xlsx, parquet, floip" in (await bad_format.json())["message"]
    )
    gone = await world.call(Role.ANALYST, Req("GET", "/api/exports/../secret/file"))
    assert gone.status == 404

    created = [e for e in await world.audit("exports.create") if e.target_id == job["id"]]
    assert [(e.username, e.details) for e in created] == [
        ("ali", {"survey": SURVEY, "format": "csv", "rows": job["planned_rows"],
                 "language": "en", "unmoderated_text": False}),
    ]  # fmt: skip
    downloads = [e for e in await world.audit("exports.download") if e.target_id == job["id"]]
    assert [e.username for e in downloads] == ["ali"]


# ---------------------------------------------------------------------------- respondents


def figures_of(counts: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure of a people-counts response."""
    tables = ("by_channel", "by_region", "by_language")
    return [counts["total"], counts["opted_out"], *(f for t in tables for f in counts[t].values())]


async def test_people_counts_hide_groups_under_k(world: World) -> None:
    await world.outreach.db.write(
        lambda s: people(
            s, [{"channels": {"sms": "+994509990001"}, "region": "east-zangezur", "language": "ru"}]
        )
    )
    response = await world.call(Role.ANALYST, Req("GET", "/api/respondents/counts"))
    counts = await response.json()
    assert counts["by_region"]["east-zangezur"] == {"count": None, "text": "<5"}
    for figure in figures_of(counts):
        assert set(figure) == {"count", "text"}
        # Shown: nobody, or at least k people; hidden: no number, only "<5" or "x".
        if figure["count"] is None:
            assert figure["text"] in ("<5", "x")
        else:
            assert figure["count"] == 0 or figure["count"] >= 5
            assert figure["text"] == str(figure["count"])


async def test_a_person_is_found_by_participant_code_and_erased_by_an_admin(world: World) -> None:
    before = await (await world.call(Role.ANALYST, Req("GET", "/api/respondents/counts"))).json()
    person = Player(world.outreach.conversation, "+994557654321", channel=Channel.SMS)
    await take_public_services(person, "Please call me back")
    counts = await (await world.call(Role.ANALYST, Req("GET", "/api/respondents/counts"))).json()
    assert counts["k"] == 5 and "sms" in counts["by_channel"] and "baku" in counts["by_region"]
    if counts["total"]["count"] is not None and before["total"]["count"] is not None:
        assert counts["total"]["count"] == before["total"]["count"] + 1

    respondent_id = await world.outreach.db.read(
        lambda s: s.scalar(
            select(ChannelIdentity.respondent_id).where(ChannelIdentity.address == "+994557654321")
        )
    )
    assert respondent_id is not None
    code = pseudonymous_id(world.secret, respondent_id)
    found = await world.call(Role.ADMIN, Req("GET", f"/api/respondents/{code.upper()}"))
    assert found.status == 200
    held = (await found.json())["held"]
    text = json.dumps(held)
    assert "7654321" not in text and "Please call me back" not in text
    assert held["identities"][0]["masked_address"].startswith("+994")
    assert held["identities"][0]["masked_address"].endswith("21")
    assert held["surveys"][0]["survey_id"] == SURVEY and held["rows"]["answers"] >= 1
    assert (await world.call(Role.ANALYST, Req("GET", f"/api/respondents/{code}"))).status == 403
    nobody = await world.call(Role.ADMIN, Req("GET", "/api/respondents/0123456789abcdef"))
    assert nobody.status == 404
    not_code = await world.call(Role.ADMIN, Req("GET", "/api/respondents/someone"))
    assert not_code.status == 422

    erased = await world.call(
        Role.ADMIN, Req("POST", f"/api/respondents/{code}/erase", json={"scope": "identity"})
    )
    assert erased.status == 200 and (await erased.json())["scope"] == "identity"
    row = await world.outreach.db.read(lambda s: s.get(Respondent, respondent_id))
    assert row is not None and row.erased_at is not None
    left = await world.outreach.db.read(
        lambda s: s.scalars(select(Answer.text).where(Answer.respondent_id == respondent_id)).all()
    )
    assert left and all(t is None for t in left)  # choices stay as statistics, words go
    wrong = await world.call(
        Role.ADMIN, Req("POST", f"/api/respondents/{code}/erase", json={"scope": "some"})
    )
    assert wrong.status == 422
    entries = [e for e in await world.audit("respondents.erase") if e.target_id == code]
    assert [(e.username, e.target_type, e.details) for e in entries] == [
        ("amina", "respondent", {"scope": "identity"})
    ]
    looked_up = [e for e in await world.audit("respondents.find") if e.target_id == code]
    assert [e.username for e in looked_up] == ["amina"]


# ---------------------------------------------------------------------------- moderation


async def test_moderators_read_masked_text_without_authors_and_act_on_it(world: World) -> None:
    answer = await new_text_answer(world, f"The clinic is far, ring me {PHONE}")
    listing = await world.call(
        Role.MODERATOR, Req("GET", f"/api/moderation/texts?survey_id={SURVEY}&limit=500")
    )
    body = await listing.json()
    item = next(a for a in body["items"] if a["answer_id"] == answer)
    assert PHONE not in item["masked_text"] and "clinic is far" in item["masked_text"]
    assert set(item) == {"answer_id", "question_id", "answered_at", "status", "masked_text"}
    assert item["status"] == "pending"

    approved = await world.call(
        Role.MODERATOR, Req("POST", "/api/moderation/texts/approve", json={"answer_ids": [answer]})
    )
    assert approved.status == 200 and (await approved.json())["ids"] == [answer]
    missing = await world.call(
        Role.MODERATOR, Req("POST", "/api/moderation/texts/approve", json={"answer_ids": [99999]})
    )
    assert missing.status == 409 and "99999" in (await missing.json())["message"]
    not_ids = await world.call(
        Role.MODERATOR, Req("POST", "/api/moderation/texts/approve", json={"answer_ids": "1"})
    )
    assert not_ids.status == 422
    banned = await world.call(Role.MODERATOR, Req("POST", f"/api/moderation/texts/{answer}/ban"))
    assert banned.status == 200
    again = await world.call(
        Role.MODERATOR, Req("POST", "/api/moderation/texts/approve", json={"answer_ids": [answer]})
    )
    assert again.status == 409 and "banned" in (await again.json())["message"]

    idea = await new_idea(world, f"Recycling bins in every class, text {PHONE}")
    ideas = await (
        await world.call(Role.MODERATOR, Req("GET", "/api/moderation/ideas?limit=500"))
    ).json()
    shown = next(i for i in ideas["items"] if i["idea_id"] == idea)
    assert PHONE not in shown["masked_text"] and "respondent_id" not in shown
    muted = await world.call(
        Role.MODERATOR, Req("POST", f"/api/moderation/ideas/{idea}/mute", json={"days": 2})
    )
    assert muted.status == 200 and (await muted.json())["status"] == "rejected"
    nothing = await world.call(Role.MODERATOR, Req("POST", "/api/moderation/ideas/99999/ban"))
    assert nothing.status == 404

    acted = {
        (e.action, e.target_id, json.dumps(e.details))
        for action in ("texts.approve", "texts.ban", "ideas.mute")
        for e in await world.audit(action)
        if e.username == "mira"
    }
    assert ("texts.approve", None, json.dumps({"answer_ids": [answer]})) in acted
    assert ("texts.ban", str(answer), "null") in acted
    assert ("ideas.mute", str(idea), json.dumps({"days": 2})) in acted


# ---------------------------------------------------------------------------- staff, audit


async def test_admins_manage_accounts_and_tokens_and_read_the_audit_log(world: World) -> None:
    made = await world.call(
        Role.ADMIN,
        Req("POST", "/api/staff", json={"username": "Leyla@UNDP.org", "password": GOOD,
                                        "role": "analyst", "display_name": "Leyla"}),
    )  # fmt: skip
    assert made.status == 201 and (await made.json())["username"] == "leyla@undp.org"
    twice = await world.call(
        Role.ADMIN,
        Req("POST", "/api/staff", json={"username": "leyla@undp.org", "password": GOOD,
                                        "role": "analyst"}),
    )  # fmt: skip
    assert twice.status == 409
    weak = await world.call(
        Role.ADMIN, Req("POST", "/api/staff", json={"username": "x1y", "password": "short",
                                                    "role": "analyst"}),
    )  # fmt: skip
    assert weak.status == 422 and "12 characters" in (await weak.json())["message"]
    token = await world.call(
        Role.ADMIN, Req("POST", "/api/staff/leyla@undp.org/tokens", json={"name": "nightly"})
    )
    secret = (await token.json())["token"]
    assert token.status == 201 and secret.startswith("sdg_")
    as_leyla = {"Authorization": f"Bearer {secret}"}
    me = await world.client.get("/api/me", headers=as_leyla)
    assert (await me.json())["role"] == "analyst"
    listed = await (
        await world.call(Role.ADMIN, Req("GET", "/api/staff/leyla@undp.org/tokens"))
    ).json()
    assert [t["name"] for t in listed["items"]] == ["nightly"] and "token" not in listed["items"][0]

    promoted = await world.call(
        Role.ADMIN, Req("PATCH", "/api/staff/leyla@undp.org", json={"role": "organizer"})
    )
    assert (await promoted.json())["role"] == "organizer"
    assert (await world.client.post("/api/surveys/closable/reopen", headers=as_leyla)).status == 200
    disabled = await world.call(
        Role.ADMIN, Req("PATCH", "/api/staff/leyla@undp.org", json={"active": False})
    )
    assert (await disabled.json())["active"] is False
    assert (await world.client.get("/api/me", headers=as_leyla)).status == 401
    last = await world.call(Role.ADMIN, Req("PATCH", "/api/staff/amina", json={"role": "analyst"}))
    assert last.status == 409 and "only active admin" in (await last.json())["message"]
    nobody = await world.call(Role.ADMIN, Req("PATCH", "/api/staff/nobody", json={"active": False}))
    assert nobody.status == 404

    page = await (await world.call(Role.ADMIN, Req("GET", "/api/audit?limit=3"))).json()
    assert len(page["items"]) == 3 and page["next"].startswith("/api/audit?")
    older = await (await world.call(Role.ADMIN, Req("GET", page["next"]))).json()
    assert older["items"][0]["id"] < page["items"][-1]["id"]
    mine = await (
        await world.call(
            Role.ADMIN, Req("GET", "/api/audit?target_type=staff_account&target_id=leyla@undp.org")
        )
    ).json()
    assert [e["action"] for e in reversed(mine["items"])] == [
        "staff.create",
        "staff.token_create",
        "staff.role",
        "staff.disable",
    ]
    assert {e["username"] for e in mine["items"]} == {"amina"}
    assert all(e["ip"] == "127.0.0.1" for e in mine["items"])


async def test_lists_come_in_pages_and_errors_are_json(world: World) -> None:
    first = await (await world.call(Role.ADMIN, Req("GET", "/api/surveys?limit=1"))).json()
    assert len(first["items"]) == 1 and first["total"] >= 3
    second = await (await world.call(Role.ADMIN, Req("GET", first["next"]))).json()
    assert second["items"][0]["id"] != first["items"][0]["id"]
    too_many = await world.call(Role.ADMIN, Req("GET", "/api/surveys?limit=100000"))
    assert too_many.status == 422 and "1 to 500" in (await too_many.json())["message"]
    not_number = await world.call(Role.ADMIN, Req("GET", "/api/campaigns?offset=two"))
    assert not_number.status == 422
    unknown = await world.call(Role.ADMIN, Req("GET", "/api/nothing/here"))
    assert unknown.status == 404 and (await unknown.json())["error"] == "not_found"
    wrong_method = await world.call(Role.ADMIN, Req("PUT", "/api/surveys"))
    assert (
        wrong_method.status == 405 and (await wrong_method.json())["error"] == "method_not_allowed"
    )
    not_json = await world.call(
        Role.ADMIN,
        Req("POST", "/api/exports", data="{", headers={"Content-Type": "application/json"}),
    )
    assert not_json.status == 422 and "not valid JSON" in (await not_json.json())["message"]


async def test_the_api_answers_503_until_the_service_has_started(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")  # type: ignore[call-arg]
    app = create_web_app(settings)
    app.on_startup.clear()
    app.on_cleanup.clear()
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert (await client.get("/api/surveys")).status == 503
        assert (await client.get("/api/openapi.json")).status == 200
    finally:
        await client.close()


async def test_a_failure_on_our_side_is_json_and_tells_nothing_inside(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(caller: Caller) -> None:
        raise RuntimeError("disk /var/lib/outreach is on fire")

    monkeypatch.setattr(world.ops, "people_counts", broken)
    response = await world.call(Role.ADMIN, Req("GET", "/api/respondents/counts"))
    assert response.status == 500
    body = await response.json()
    assert body["error"] == "internal" and "disk" not in body["message"]
