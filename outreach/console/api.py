"""The admin API under ``/api``: JSON over the console's operations, one route table.

``ROUTES`` is the only list of routes: ``add_api_routes`` registers each behind
``require(action)`` and ``openapi.openapi_document`` describes the same list at
``/api/openapi.json``. Handlers only translate: query, JSON, YAML or multipart in;
``operations`` does the work (and checks the role again, and audits); the answer
is JSON. Failures are JSON too: ``{"error": ..., "message": ..., "problems": [...]}``
with every problem of a broken file as the command line prints it (422).

Wiring (the composition root)::

    add_api_routes(app)                       # when the app is made
    app[CONSOLE_OPERATIONS] = operations      # at startup, beside install_staff_auth
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiDictProxy

from outreach.campaigns.manage import Preview
from outreach.console.export_jobs import ExportJob
from outreach.console.openapi import (
    ApiHandler,
    ApiRoute,
    Param,
    array,
    openapi_document,
    page_of,
    ref,
)
from outreach.console.operations import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Caller,
    Conflict,
    ConsoleOperations,
    Invalid,
    NotAllowed,
    NotFound,
    Page,
)
from outreach.console.roles import Action
from outreach.console.web_auth import STAFF_WEB_AUTH, require, staff_of
from outreach.results_cli import results_json, text_json
from polls.errors import OutreachError
from polls.results import MIN_GROUP
from polls.survey_loader import SurveyProblem
from storage.analysis import DIMENSIONS

logger = logging.getLogger(__name__)

API_PREFIX = "/api"
CONSOLE_OPERATIONS = web.AppKey("console_operations", ConsoleOperations)
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/plain"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS_TYPE = "application/vnd.ms-excel"
RAW_FILE_TYPES = YAML_TYPES | {XLSX_TYPE, XLS_TYPE, "application/octet-stream"}
MULTIPART = "multipart/form-data"


class UnsupportedMedia(OutreachError):
    pass


def operations_of(request: web.Request) -> ConsoleOperations:
    """The console's operations, once startup has built them (503 before)."""
    operations = request.app.get(CONSOLE_OPERATIONS)
    if operations is None:
        raise web.HTTPServiceUnavailable(text="starting")
    return operations


def caller_of(request: web.Request) -> Caller:
    """Who makes this request (behind ``require``) and from where."""
    return Caller(staff_of(request), request.remote)


# --------------------------------------------------------------------------- JSON


def jsonable(value: Any) -> Any:
    """Dataclasses, dates, enums and paths as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return value.name
    return value


def respond(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(
        jsonable(data),
        status=status,
        headers={**NO_STORE, **(headers or {})},
        dumps=functools.partial(json.dumps, ensure_ascii=False),
    )


def problem_json(problem: SurveyProblem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file": problem.file,
        "line": problem.line,
        "path": problem.path,
        "message": problem.message,
        "text": str(problem),
    }
    for extra in ("sheet", "row", "column"):
        if hasattr(problem, extra):
            data[extra] = getattr(problem, extra)
    return data


def error_response(status: int, error: str, message: str, **extra: Any) -> web.Response:
    return respond({"error": error, "message": message, **extra}, status)


def page_response(request: web.Request, page: Page[Any], convert: Any = jsonable) -> web.Response:
    following = None
    if page.next is not None:
        following = str(request.rel_url.update_query(page.next))
    return respond(
        {"items": [convert(item) for item in page.items], "total": page.total, "next": following}
    )


# --------------------------------------------------------------------------- reading requests


def _integer(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise Invalid(f"{name} must be a whole number, not {value!r}") from None


def _flag(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return False
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise Invalid(f"{name} is true or false, not {value!r}")


def _paging(request: web.Request) -> tuple[int, int]:
    query = request.query
    return (
        _integer(query.get("limit"), "limit", DEFAULT_PAGE),
        _integer(query.get("offset"), "offset", 0),
    )


def _names(value: object, name: str) -> list[str]:
    """A comma-separated string or a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise Invalid(f"{name} is a list of names, or names separated by commas")


def _moment(value: object, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} is a date or a date-time, e.g. 2026-12-01T00:00:00+04:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"{name} is {value!r}: write a date or a date-time, e.g. 2026-12-01T00:00:00+04:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _json_object(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise UnsupportedMedia("send a JSON object with Content-Type: application/json")
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise Invalid(f"the request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise Invalid("the request body must be a JSON object")
    return data


def _ids_of(data: Mapping[str, Any], key: str) -> list[int]:
    value = data.get(key)
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise Invalid(f'{key} is a list of numbers, e.g. {{"{key}": [12, 13]}}')
    return value


def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(f"{key} is required, as a string")
    return value


async def _form(request: web.Request) -> MultiDictProxy[Any]:
    try:
        return await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise
    except ValueError as error:
        raise Invalid(f"the form could not be read: {error}") from None


async def _upload(request: web.Request) -> tuple[str | None, bytes, Mapping[str, Any]]:
    """The uploaded file's name and content, and the other fields (form, else query)."""
    if request.content_type == MULTIPART:
        form = await _form(request)
        field = form.get("file")
        if field is None or isinstance(field, str):
            raise Invalid("attach the file as the form field 'file'")
        content = await asyncio.to_thread(field.file.read)
        others = {key: value for key, value in form.items() if isinstance(value, str)}
        return field.filename, content, others
    if request.content_type in RAW_FILE_TYPES:
        return request.query.get("filename"), await request.read(), dict(request.query)
    raise UnsupportedMedia(
        "upload the file as multipart/form-data (field 'file'), or send it as the body with "
        f"Content-Type application/yaml or {XLSX_TYPE}"
    )


async def _campaign_body(request: web.Request) -> dict[str, Any]:
    """A campaign as YAML text (body or multipart file) or as a JSON document."""
    if request.content_type == "application/json":
        return {"document": await _json_object(request), "source": "<request body>"}
    name, content, _fields = await _upload(request)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the campaign file is not UTF-8 text: save it with UTF-8 encoding") from None
    return {"yaml_text": text, "source": name or "<request body>"}


# --------------------------------------------------------------------------- handlers: me, docs


async def get_me(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.me(caller))


async def get_openapi(request: web.Request) -> web.StreamResponse:
    """The OpenAPI document: public, like any API's description (it holds no data)."""
    return respond(api_document(request.app))


# --------------------------------------------------------------------------- handlers: surveys


async def list_surveys(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    limit, offset = _paging(request)
    return page_response(request, await ops.list_surveys(caller, limit=limit, offset=offset))


async def upload_survey(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    name, content, options = await _upload(request)
    uploaded = await ops.upload_survey(
        caller,
        filename=name,
        content=content,
        survey_id=options.get("survey_id") or None,
        languages=_names(options.get("languages"), "languages") or None,
        dry_run=_flag(options.get("dry_run"), "dry_run"),
    )
    data = jsonable(uploaded)
    data["notices"] = [problem_json(notice) for notice in uploaded.notices]
    return respond(data, 201 if uploaded.created else 200)


async def get_survey(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.get_survey(caller, request.match_info["survey_id"]))


async def close_survey(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.close_survey(caller, request.match_info["survey_id"]))


async def reopen_survey(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.reopen_survey(caller, request.match_info["survey_id"]))


async def _results(
    ops: ConsoleOperations, caller: Caller, survey_id: str, options: Mapping[str, Any]
) -> web.StreamResponse:
    k = options.get("k", MIN_GROUP)
    if isinstance(k, str):
        k = _integer(k, "k", MIN_GROUP)
    if not isinstance(k, int) or isinstance(k, bool):
        raise Invalid("k must be a whole number")
    margins = options.get("margins")
    if margins is not None and not isinstance(margins, str):
        raise Invalid("margins is CSV text: dimension,category,share on each line")
    language = options.get("language") or "en"
    if not isinstance(language, str):
        raise Invalid("language is a language code, e.g. en")
    found = await ops.results(
        caller,
        survey_id,
        by=_names(options.get("by"), "by"),
        k=k,
        language=language,
        margins_csv=margins,
        since=_moment(options.get("since"), "since"),
        until=_moment(options.get("until"), "until"),
    )
    return respond(results_json(found))


async def get_results(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    options = {
        key: request.query[key]
        for key in ("by", "k", "language", "since", "until")
        if key in request.query
    }
    return await _results(ops, caller, request.match_info["survey_id"], options)


async def post_results(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return await _results(ops, caller, request.match_info["survey_id"], await _json_object(request))


async def get_text_results(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    query = request.query
    report = await ops.text_results(
        caller,
        request.match_info["survey_id"],
        by=_names(query.get("by"), "by"),
        k=_integer(query.get("k"), "k", MIN_GROUP),
        language=query.get("language") or "en",
        themes=_flag(query.get("themes"), "themes"),
    )
    return respond(
        {
            "survey_id": report.survey_id,
            "k": report.k,
            "dimensions": list(report.dimensions),
            "free_text": [text_json(text, report) for text in report.texts],
        }
    )


# --------------------------------------------------------------------------- handlers: campaigns


def preview_json(preview: Preview) -> dict[str, Any]:
    campaign = preview.campaign
    return {
        "campaign": {"id": campaign.id, "name": campaign.name, "kind": campaign.kind.value},
        "total": preview.total,
        "samples": [
            {
                "channel": sample.channel,
                "language": sample.language,
                "recipients": sample.recipients,
                "text": sample.text,
                "sms": None
                if sample.sms is None
                else {
                    "encoding": sample.sms.encoding.value,
                    "segments": sample.sms.segments,
                    "units": sample.sms.units,
                    "characters_left": sample.sms.characters_left,
                    "first_non_gsm": sample.sms.first_non_gsm,
                },
            }
            for sample in preview.samples
        ],
        "sms_segments": preview.sms_segments,
        "estimated_cost": preview.estimated_cost,
        "currency": preview.currency,
    }


async def list_campaigns(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    limit, offset = _paging(request)
    return page_response(request, await ops.list_campaigns(caller, limit=limit, offset=offset))


async def create_campaign(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    created = await ops.create_campaign(caller, **await _campaign_body(request))
    return respond(created, 201 if created.created else 200)


async def preview_draft(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(preview_json(await ops.preview_draft(caller, **await _campaign_body(request))))


async def get_campaign(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.get_campaign(caller, request.match_info["campaign_id"]))


async def preview_campaign(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    preview = await ops.preview_campaign(caller, request.match_info["campaign_id"])
    return respond(preview_json(preview))


async def campaign_progress(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.campaign_progress(caller, request.match_info["campaign_id"]))


def _campaign_move(verb: str) -> ApiHandler:
    async def move(
        request: web.Request, ops: ConsoleOperations, caller: Caller
    ) -> web.StreamResponse:
        operation = getattr(ops, f"{verb}_campaign")
        return respond(await operation(caller, request.match_info["campaign_id"]))

    move.__name__ = f"{verb}_campaign"
    return move


# --------------------------------------------------------------------------- handlers: exports


def export_json(request: web.Request, job: ExportJob) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(job)
    data["download"] = (
        str(request.app.router["api_export_file"].url_for(export_id=job.id))
        if job.status == "done"
        else None
    )
    return data


async def list_exports(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    limit, offset = _paging(request)
    page = await ops.list_exports(caller, limit=limit, offset=offset)
    return page_response(request, page, functools.partial(export_json, request))


async def start_export(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    data = await _json_object(request)
    language = data.get("language", "en")
    if not isinstance(language, str):
        raise Invalid("language is a language code, e.g. en")
    job = await ops.start_export(
        caller,
        survey_id=_text(data, "survey_id") or "",
        export_format=_text(data, "format") or "",
        language=language,
        include_unmoderated_text=_flag(
            data.get("include_unmoderated_text"), "include_unmoderated_text"
        ),
    )
    location = str(request.app.router["api_export"].url_for(export_id=job.id))
    return respond(export_json(request, job), 202, {"Location": location})


async def get_export(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(
        export_json(request, await ops.get_export(caller, request.match_info["export_id"]))
    )


async def download_export(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    job, path = await ops.export_file(caller, request.match_info["export_id"])
    return web.FileResponse(
        path,
        headers={
            **NO_STORE,
            "Content-Type": job.media_type,
            "Content-Disposition": f'attachment; filename="{path.name}"',
        },
    )


# --------------------------------------------------------------------------- handlers: respondents


async def people_counts(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.people_counts(caller))


async def find_respondent(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.find_respondent(caller, request.match_info["pseudonymous_id"]))


async def erase_respondent(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    data = await _json_object(request)
    erased = await ops.erase_respondent(
        caller, request.match_info["pseudonymous_id"], scope=_text(data, "scope") or ""
    )
    return respond(erased)


# --------------------------------------------------------------------------- handlers: moderation


def _status_filter(request: web.Request) -> str | None:
    status = request.query.get("status", "pending")
    return None if status in ("", "all") else status


async def list_texts(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    survey_id = request.query.get("survey_id")
    if not survey_id:
        raise Invalid("name the survey: ?survey_id=...")
    limit, offset = _paging(request)
    page = await ops.list_texts(
        caller,
        survey_id,
        status=_status_filter(request),
        question_id=request.query.get("question_id") or None,
        limit=limit,
        offset=offset,
    )
    return page_response(request, page)


def _moderate_texts(status: str) -> ApiHandler:
    async def moderate(
        request: web.Request, ops: ConsoleOperations, caller: Caller
    ) -> web.StreamResponse:
        data = await _json_object(request)
        return respond(await ops.moderate_texts(caller, _ids_of(data, "answer_ids"), status=status))

    return moderate


def _days_of(data: Mapping[str, Any]) -> int:
    days = data.get("days", 7)
    if not isinstance(days, int) or isinstance(days, bool):
        raise Invalid("days is a whole number of days, 1 to 365")
    return days


async def _optional_json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    return await _json_object(request)


async def mute_text_author(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    days = _days_of(await _optional_json(request))
    answer_id = int(request.match_info["answer_id"])
    return respond(await ops.mute_text_author(caller, answer_id, days=days))


async def ban_text_author(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.ban_text_author(caller, int(request.match_info["answer_id"])))


async def list_ideas(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    limit, offset = _paging(request)
    page = await ops.list_ideas(
        caller,
        challenge_id=request.query.get("challenge_id") or None,
        status=_status_filter(request),
        limit=limit,
        offset=offset,
    )
    return page_response(request, page)


def _moderate_ideas(status: str) -> ApiHandler:
    async def moderate(
        request: web.Request, ops: ConsoleOperations, caller: Caller
    ) -> web.StreamResponse:
        data = await _json_object(request)
        return respond(await ops.moderate_ideas(caller, _ids_of(data, "idea_ids"), status=status))

    return moderate


async def mute_idea_author(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    days = _days_of(await _optional_json(request))
    idea_id = int(request.match_info["idea_id"])
    return respond(await ops.mute_idea_author(caller, idea_id, days=days))


async def ban_idea_author(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.ban_idea_author(caller, int(request.match_info["idea_id"])))


# --------------------------------------------------------------------------- handlers: staff


async def list_staff(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    limit, offset = _paging(request)
    return page_response(request, await ops.list_staff(caller, limit=limit, offset=offset))


async def create_staff(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    data = await _json_object(request)
    member = await ops.create_staff(
        caller,
        username=_text(data, "username") or "",
        password=_text(data, "password") or "",
        role=_text(data, "role") or "",
        display_name=_text(data, "display_name", required=False),
    )
    return respond(member, 201)


async def get_staff(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond(await ops.get_staff(caller, request.match_info["username"]))


async def update_staff(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    data = await _json_object(request)
    active = data.get("active")
    if active is not None and not isinstance(active, bool):
        raise Invalid("active is true or false")
    if data.get("role") is None and active is None:
        raise Invalid('change the role or whether the account is active: {"role": "analyst"}')
    member = await ops.update_staff(
        caller,
        request.match_info["username"],
        role=_text(data, "role", required=False),
        active=active,
    )
    return respond(member)


async def set_staff_password(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    data = await _json_object(request)
    await ops.set_staff_password(
        caller, request.match_info["username"], password=_text(data, "password") or ""
    )
    return web.Response(status=204, headers=NO_STORE)


async def list_tokens(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    return respond({"items": await ops.list_tokens(caller, request.match_info["username"])})


async def create_token(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    data = await _json_object(request)
    made = await ops.create_token(
        caller, request.match_info["username"], name=_text(data, "name") or ""
    )
    return respond(made, 201)


async def revoke_token(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    info = await ops.revoke_token(
        caller, request.match_info["username"], name=request.match_info["name"]
    )
    return respond(info)


async def audit_log(
    request: web.Request, ops: ConsoleOperations, caller: Caller
) -> web.StreamResponse:
    query = request.query
    target = None
    if query.get("target_type") and query.get("target_id"):
        target = (query["target_type"], query["target_id"])
    before = query.get("before")
    page = await ops.audit_log(
        caller,
        limit=_integer(query.get("limit"), "limit", DEFAULT_PAGE),
        before=_integer(before, "before", 0) if before else None,
        action=query.get("action") or None,
        target=target,
    )
    return page_response(request, page)


# --------------------------------------------------------------------------- the route table

LIMIT = Param(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
    "How many items at most.",
)
OFFSET = Param("offset", "query", {"type": "integer", "minimum": 0, "default": 0}, "Items to skip.")
PAGING = (LIMIT, OFFSET)
SURVEY_ID = Param("survey_id", "path", {"type": "string"}, "The survey's id (its file's `id:`).")
CAMPAIGN_ID = Param("campaign_id", "path", {"type": "string"}, "The campaign's id.")
EXPORT_ID = Param("export_id", "path", {"type": "string"}, "The export's id.")
PSEUDONYMOUS_ID = Param(
    "pseudonymous_id",
    "path",
    {"type": "string", "pattern": "^[0-9a-f]{16}$"},
    "The person's participant code, as they see it with /mydata.",
)
ANSWER_ID = Param("answer_id", "path", {"type": "integer"}, "The free-text answer's number.")
IDEA_ID = Param("idea_id", "path", {"type": "integer"}, "The idea's number.")
USERNAME = Param("username", "path", {"type": "string"}, "The staff account's username.")
BY = Param(
    "by",
    "query",
    {"type": "string"},
    f"Break down by one or two of {', '.join(DIMENSIONS)}, separated by a comma.",
)
K = Param(
    "k",
    "query",
    {"type": "integer", "minimum": MIN_GROUP, "maximum": 100, "default": MIN_GROUP},
    "The fewest people a published count may describe (never under 5).",
)
LANGUAGE = Param("language", "query", {"type": "string", "default": "en"}, "Labels' language.")
STATUS = Param(
    "status",
    "query",
    {"type": "string", "enum": ["pending", "approved", "rejected", "all"], "default": "pending"},
    "Only items in this state.",
)
JSON_OBJECT = "application/json"
ERROR = ref("Error")
DAYS_BODY: dict[str, dict[str, Any]] = {
    JSON_OBJECT: {
        "type": "object",
        "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 365, "default": 7}},
    }
}
FILE_FORM: dict[str, dict[str, Any]] = {
    MULTIPART: {
        "type": "object",
        "properties": {
            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
            "survey_id": {"type": "string", "description": "XLSForm: the survey id"},
            "languages": {"type": "string", "description": "XLSForm: e.g. az,ru,en"},
            "dry_run": {"type": "boolean", "description": "Only validate"},
        },
        "required": ["file"],
    },
    "application/yaml": {"type": "string"},
    XLSX_TYPE: {"type": "string", "contentMediaType": XLSX_TYPE},
}
CAMPAIGN_BODY: dict[str, dict[str, Any]] = {
    JSON_OBJECT: ref("CampaignDocument"),
    "application/yaml": {"type": "string", "description": "A campaign file"},
    MULTIPART: {
        "type": "object",
        "properties": {"file": {"type": "string", "contentMediaType": "application/yaml"}},
        "required": ["file"],
    },
}
IDS_BODY: dict[str, dict[str, dict[str, Any]]] = {
    "answer_ids": {
        JSON_OBJECT: {
            "type": "object",
            "properties": {"answer_ids": array({"type": "integer"})},
            "required": ["answer_ids"],
        }
    },
    "idea_ids": {
        JSON_OBJECT: {
            "type": "object",
            "properties": {"idea_ids": array({"type": "integer"})},
            "required": ["idea_ids"],
        }
    },
}

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET",
        "/api/openapi.json",
        None,
        get_openapi,
        "This document",
        "meta",
        response={"type": "object"},
    ),
    ApiRoute(
        "GET",
        "/api/me",
        Action.ACCOUNT_SELF,
        get_me,
        "Who I am and what I may do",
        "meta",
        response=ref("Me"),
    ),
    # surveys
    ApiRoute(
        "GET",
        "/api/surveys",
        Action.SURVEYS_READ,
        list_surveys,
        "The surveys",
        "surveys",
        response=page_of(ref("Survey"), "Surveys, their latest version"),
        params=PAGING,
    ),
    ApiRoute(
        "POST",
        "/api/surveys",
        Action.SURVEYS_UPLOAD,
        upload_survey,
        "Upload a survey (YAML or XLSForm): validate, store the next version",
        "surveys",
        success=201,
        response=ref("SurveyUpload"),
        body=FILE_FORM,
        errors=(409, 413, 415),
        also={200: "Validated only (dry_run), or this content is the latest version"},
        params=(
            Param("dry_run", "query", {"type": "boolean"}, "Only validate"),
            Param(
                "filename",
                "query",
                {"type": "string"},
                "The file's name, when it is sent as the body",
            ),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/surveys/{survey_id}",
        Action.SURVEYS_READ,
        get_survey,
        "A survey: its document and versions",
        "surveys",
        response=ref("SurveyDetail"),
        params=(SURVEY_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "POST",
        "/api/surveys/{survey_id}/close",
        Action.SURVEYS_CLOSE,
        close_survey,
        "Close a survey: nobody may begin it or go on answering",
        "surveys",
        response=ref("Survey"),
        params=(SURVEY_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "POST",
        "/api/surveys/{survey_id}/reopen",
        Action.SURVEYS_CLOSE,
        reopen_survey,
        "Reopen a survey staff closed",
        "surveys",
        response=ref("Survey"),
        params=(SURVEY_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "GET",
        "/api/surveys/{survey_id}/results",
        Action.RESULTS_READ,
        get_results,
        "Results: counts, shares, breakdowns (small counts hidden)",
        "results",
        response=ref("Results"),
        errors=(404,),
        params=(
            SURVEY_ID,
            BY,
            K,
            LANGUAGE,
            Param(
                "since",
                "query",
                {"type": "string", "format": "date-time"},
                "Only answers given from then",
            ),
            Param(
                "until",
                "query",
                {"type": "string", "format": "date-time"},
                "Only answers given before then",
            ),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/surveys/{survey_id}/results",
        Action.RESULTS_READ,
        post_results,
        "Results weighted to population margins",
        "results",
        response=ref("Results"),
        params=(SURVEY_ID,),
        errors=(404, 415),
        body={
            JSON_OBJECT: {
                "type": "object",
                "properties": {
                    "by": {"oneOf": [{"type": "string"}, array({"type": "string"})]},
                    "k": {"type": "integer", "minimum": MIN_GROUP, "maximum": 100},
                    "language": {"type": "string"},
                    "margins": {"type": "string", "description": "CSV: dimension,category,share"},
                    "since": {"type": "string", "format": "date-time"},
                    "until": {"type": "string", "format": "date-time"},
                },
            }
        },
    ),
    ApiRoute(
        "GET",
        "/api/surveys/{survey_id}/text-results",
        Action.RESULTS_TEXT,
        get_text_results,
        "Approved free text: top terms, phrases and themes",
        "results",
        response=ref("TextResults"),
        errors=(404,),
        params=(
            SURVEY_ID,
            BY,
            K,
            LANGUAGE,
            Param("themes", "query", {"type": "boolean"}, "Also count by theme (THEMES_FILE)"),
        ),
    ),
    # campaigns
    ApiRoute(
        "GET",
        "/api/campaigns",
        Action.CAMPAIGNS_READ,
        list_campaigns,
        "The campaigns",
        "campaigns",
        response=page_of(ref("Campaign"), "Campaigns with message counts"),
        params=PAGING,
    ),
    ApiRoute(
        "POST",
        "/api/campaigns",
        Action.CAMPAIGNS_CREATE,
        create_campaign,
        "Create a campaign as a draft (YAML or JSON), or replace a draft",
        "campaigns",
        success=201,
        response=ref("CampaignCreated"),
        body=CAMPAIGN_BODY,
        errors=(409, 413, 415),
        also={200: "An existing draft was replaced"},
    ),
    ApiRoute(
        "POST",
        "/api/campaigns/preview",
        Action.CAMPAIGNS_CREATE,
        preview_draft,
        "Preview a campaign being composed: audience and SMS cost",
        "campaigns",
        response=ref("Preview"),
        body=CAMPAIGN_BODY,
        errors=(413, 415),
    ),
    ApiRoute(
        "GET",
        "/api/campaigns/{campaign_id}",
        Action.CAMPAIGNS_READ,
        get_campaign,
        "A campaign, its document and message counts",
        "campaigns",
        response=ref("CampaignDetail"),
        params=(CAMPAIGN_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "GET",
        "/api/campaigns/{campaign_id}/preview",
        Action.CAMPAIGNS_CREATE,
        preview_campaign,
        "Audience per channel and language, messages, SMS cost",
        "campaigns",
        response=ref("Preview"),
        params=(CAMPAIGN_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "GET",
        "/api/campaigns/{campaign_id}/progress",
        Action.CAMPAIGNS_READ,
        campaign_progress,
        "Delivery progress",
        "campaigns",
        response=ref("Progress"),
        params=(CAMPAIGN_ID,),
        errors=(404,),
    ),
    *(
        ApiRoute(
            "POST",
            f"/api/campaigns/{{campaign_id}}/{verb}",
            Action.CAMPAIGNS_SCHEDULE,
            _campaign_move(verb),
            summary,
            "campaigns",
            response=ref("Progress"),
            params=(CAMPAIGN_ID,),
            errors=(404, 409),
        )
        for verb, summary in (
            ("schedule", "Schedule a draft: now, at its time, or on its cron times"),
            ("pause", "Hold the messages not yet sent"),
            ("resume", "Send the held messages again"),
            ("cancel", "Stop for good; messages not yet sent are skipped"),
        )
    ),
    # exports
    ApiRoute(
        "GET",
        "/api/exports",
        Action.EXPORTS_CREATE,
        list_exports,
        "The exports",
        "exports",
        response=page_of(ref("Export"), "Exports, the newest first"),
        params=PAGING,
    ),
    ApiRoute(
        "POST",
        "/api/exports",
        Action.EXPORTS_CREATE,
        start_export,
        "Start an export of a survey's answers (pseudonymous ids only)",
        "exports",
        success=202,
        response=ref("Export"),
        errors=(404, 415),
        body={
            JSON_OBJECT: {
                "type": "object",
                "properties": {
                    "survey_id": {"type": "string"},
                    "format": {"type": "string", "enum": ["csv", "xlsx", "parquet", "floip"]},
                    "language": {"type": "string", "default": "en"},
                    "include_unmoderated_text": {
                        "type": "boolean",
                        "default": False,
                        "description": "Needs moderation.read as well",
                    },
                },
                "required": ["survey_id", "format"],
            }
        },
    ),
    ApiRoute(
        "GET",
        "/api/exports/{export_id}",
        Action.EXPORTS_CREATE,
        get_export,
        "An export: where it stands",
        "exports",
        response=ref("Export"),
        params=(EXPORT_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "GET",
        "/api/exports/{export_id}/file",
        Action.EXPORTS_CREATE,
        download_export,
        "Download a finished export",
        "exports",
        response_media="application/octet-stream",
        params=(EXPORT_ID,),
        errors=(404, 409),
    ),
    # respondents
    ApiRoute(
        "GET",
        "/api/respondents/counts",
        Action.RESPONDENTS_COUNT,
        people_counts,
        "People by channel, region and language (small counts hidden)",
        "respondents",
        response=ref("PeopleCounts"),
    ),
    ApiRoute(
        "GET",
        "/api/respondents/{pseudonymous_id}",
        Action.RESPONDENTS_FIND,
        find_respondent,
        "What is held about a person (for an erasure request)",
        "respondents",
        response=ref("HeldAbout"),
        params=(PSEUDONYMOUS_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "POST",
        "/api/respondents/{pseudonymous_id}/erase",
        Action.RESPONDENTS_ERASE,
        erase_respondent,
        "Erase a person: their identity, or everything",
        "respondents",
        response=ref("Erased"),
        params=(PSEUDONYMOUS_ID,),
        errors=(404, 415),
        body={
            JSON_OBJECT: {
                "type": "object",
                "properties": {"scope": {"type": "string", "enum": ["identity", "everything"]}},
                "required": ["scope"],
            }
        },
    ),
    # moderation
    ApiRoute(
        "GET",
        "/api/moderation/texts",
        Action.MODERATION_READ,
        list_texts,
        "Free-text answers of a survey, masked, without authors",
        "moderation",
        response=page_of(ref("TextAnswer"), "Answers, oldest first"),
        errors=(404,),
        params=(
            Param("survey_id", "query", {"type": "string"}, "The survey", True),
            STATUS,
            Param("question_id", "query", {"type": "string"}, "One question"),
            *PAGING,
        ),
    ),
    ApiRoute(
        "POST",
        "/api/moderation/texts/approve",
        Action.MODERATION_ACT,
        _moderate_texts("approved"),
        "Approve free-text answers",
        "moderation",
        response=ref("Moderated"),
        body=IDS_BODY["answer_ids"],
        errors=(409, 415),
    ),
    ApiRoute(
        "POST",
        "/api/moderation/texts/reject",
        Action.MODERATION_ACT,
        _moderate_texts("rejected"),
        "Reject free-text answers",
        "moderation",
        response=ref("Moderated"),
        body=IDS_BODY["answer_ids"],
        errors=(409, 415),
    ),
    ApiRoute(
        "POST",
        r"/api/moderation/texts/{answer_id:\d+}/mute",
        Action.MODERATION_ACT,
        mute_text_author,
        "Reject the answer and mute its author",
        "moderation",
        response=ref("Moderated"),
        params=(ANSWER_ID,),
        body=DAYS_BODY,
        errors=(404, 415),
    ),
    ApiRoute(
        "POST",
        r"/api/moderation/texts/{answer_id:\d+}/ban",
        Action.MODERATION_ACT,
        ban_text_author,
        "Ban the answer's author",
        "moderation",
        response=ref("Moderated"),
        params=(ANSWER_ID,),
        errors=(404,),
    ),
    ApiRoute(
        "GET",
        "/api/moderation/ideas",
        Action.MODERATION_READ,
        list_ideas,
        "Ideas sent to challenges, masked, without authors",
        "moderation",
        response=page_of(ref("Idea"), "Ideas, by challenge, oldest first"),
        errors=(404,),
        params=(
            Param("challenge_id", "query", {"type": "string"}, "One challenge"),
            STATUS,
            *PAGING,
        ),
    ),
    ApiRoute(
        "POST",
        "/api/moderation/ideas/approve",
        Action.MODERATION_ACT,
        _moderate_ideas("approved"),
        "Approve ideas: they go to the vote",
        "moderation",
        response=ref("Moderated"),
        body=IDS_BODY["idea_ids"],
        errors=(415,),
    ),
    ApiRoute(
        "POST",
        "/api/moderation/ideas/reject",
        Action.MODERATION_ACT,
        _moderate_ideas("rejected"),
        "Reject ideas",
        "moderation",
        response=ref("Moderated"),
        body=IDS_BODY["idea_ids"],
        errors=(415,),
    ),
    ApiRoute(
        "POST",
        r"/api/moderation/ideas/{idea_id:\d+}/mute",
        Action.MODERATION_ACT,
        mute_idea_author,
        "Reject the idea and mute its author",
        "moderation",
        response=ref("Moderated"),
        params=(IDEA_ID,),
        body=DAYS_BODY,
        errors=(404, 415),
    ),
    ApiRoute(
        "POST",
        r"/api/moderation/ideas/{idea_id:\d+}/ban",
        Action.MODERATION_ACT,
        ban_idea_author,
        "Ban the idea's author",
        "moderation",
        response=ref("Moderated"),
        params=(IDEA_ID,),
        errors=(404,),
    ),
    # staff
    ApiRoute(
        "GET",
        "/api/staff",
        Action.STAFF_MANAGE,
        list_staff,
        "Staff accounts",
        "staff",
        response=page_of(ref("StaffMember"), "Accounts"),
        params=PAGING,
    ),
    ApiRoute(
        "POST",
        "/api/staff",
        Action.STAFF_MANAGE,
        create_staff,
        "Create an account",
        "staff",
        success=201,
        response=ref("StaffMember"),
        errors=(409, 415),
        body={
            JSON_OBJECT: {
                "type": "object",
                "properties": {
                    "username": {"type": "string"},
                    "password": {"type": "string", "minLength": 12},
                    "role": {
                        "type": "string",
                        "enum": ["admin", "organizer", "analyst", "moderator"],
                    },
                    "display_name": {"type": "string"},
                },
                "required": ["username", "password", "role"],
            }
        },
    ),
    ApiRoute(
        "GET",
        "/api/staff/{username}",
        Action.STAFF_MANAGE,
        get_staff,
        "An account",
        "staff",
        response=ref("StaffMember"),
        params=(USERNAME,),
        errors=(404,),
    ),
    ApiRoute(
        "PATCH",
        "/api/staff/{username}",
        Action.STAFF_MANAGE,
        update_staff,
        "Change an account's role, or disable or enable it",
        "staff",
        response=ref("StaffMember"),
        params=(USERNAME,),
        errors=(404, 409, 415),
        body={
            JSON_OBJECT: {
                "type": "object",
                "properties": {
                    "role": {
                        "type": "string",
                        "enum": ["admin", "organizer", "analyst", "moderator"],
                    },
                    "active": {"type": "boolean"},
                },
            }
        },
    ),
    ApiRoute(
        "POST",
        "/api/staff/{username}/password",
        Action.STAFF_MANAGE,
        set_staff_password,
        "Set a new password (ends the account's sessions)",
        "staff",
        success=204,
        params=(USERNAME,),
        errors=(404, 415),
        body={
            JSON_OBJECT: {
                "type": "object",
                "properties": {"password": {"type": "string", "minLength": 12}},
                "required": ["password"],
            }
        },
    ),
    ApiRoute(
        "GET",
        "/api/staff/{username}/tokens",
        Action.STAFF_MANAGE,
        list_tokens,
        "An account's API tokens",
        "staff",
        response={"type": "object", "properties": {"items": array(ref("ApiToken"))}},
        params=(USERNAME,),
        errors=(404,),
    ),
    ApiRoute(
        "POST",
        "/api/staff/{username}/tokens",
        Action.STAFF_MANAGE,
        create_token,
        "Make an API token (its text is shown this once)",
        "staff",
        success=201,
        response=ref("NewApiToken"),
        params=(USERNAME,),
        errors=(404, 409, 415),
        body={
            JSON_OBJECT: {
                "type": "object",
                "properties": {"name": {"type": "string", "maxLength": 80}},
                "required": ["name"],
            }
        },
    ),
    ApiRoute(
        "DELETE",
        "/api/staff/{username}/tokens/{name}",
        Action.STAFF_MANAGE,
        revoke_token,
        "Revoke an API token",
        "staff",
        response=ref("ApiToken"),
        params=(USERNAME, Param("name", "path", {"type": "string"}, "The token's name")),
        errors=(404,),
    ),
    ApiRoute(
        "GET",
        "/api/audit",
        Action.AUDIT_READ,
        audit_log,
        "The audit log: who did what, when (newest first)",
        "staff",
        response=page_of(ref("AuditEntry"), "Entries; next pages further back"),
        params=(
            LIMIT,
            Param("before", "query", {"type": "integer"}, "Entries before this id"),
            Param("action", "query", {"type": "string"}, "Only this action"),
            Param("target_type", "query", {"type": "string"}, "With target_id"),
            Param("target_id", "query", {"type": "string"}, "With target_type"),
        ),
    ),
)

ROUTE_NAMES = {
    ("GET", "/api/exports/{export_id}"): "api_export",
    ("GET", "/api/exports/{export_id}/file"): "api_export_file",
}


# --------------------------------------------------------------------------- serving


def _endpoint(route: ApiRoute) -> Handler:
    if route.action is None:
        return cast(Handler, route.handler)
    handler = cast(ApiHandler, route.handler)

    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request, operations_of(request), caller_of(request))
        except NotAllowed as error:
            return error_response(403, "forbidden", str(error), action=error.action.value)
        except NotFound as error:
            return error_response(404, "not_found", str(error))
        except Conflict as error:
            return error_response(409, "conflict", str(error))
        except Invalid as error:
            return error_response(
                422,
                "invalid",
                str(error),
                problems=[problem_json(p) for p in error.problems],
                notices=[problem_json(p) for p in error.notices],
            )
        except UnsupportedMedia as error:
            return error_response(415, "unsupported_media_type", str(error))
        except OutreachError as error:
            return error_response(400, "bad_request", str(error))

    endpoint.__name__ = handler.__name__
    return require(route.action)(endpoint)


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /api, aiohttp's own refusals (404, 405, 413...) and our mistakes as JSON too."""
    if not (request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        names = {
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            503: "starting",
        }
        message = {
            404: f"There is no {request.path}: see /api/openapi.json",
            413: "The upload is too large (at most 1 MB).",
        }.get(error.status, error.reason)
        response = error_response(error.status, names.get(error.status, "error"), message)
        if error.status == 405 and "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:
        logger.exception("%s %s failed", request.method, request.path)
        return error_response(
            500,
            "internal",
            "Something went wrong on our side; it is in the service's log. Try again, or tell "
            "whoever runs the service.",
        )


def add_api_routes(app: web.Application) -> None:
    """Register every route of ``ROUTES`` (and the JSON error middleware)."""
    app.middlewares.append(api_errors)
    for route in ROUTES:
        name = ROUTE_NAMES.get((route.method, route.document_path))
        app.router.add_route(route.method, route.path, _endpoint(route), name=name)


def api_document(app: web.Application) -> dict[str, Any]:
    auth = app.get(STAFF_WEB_AUTH)
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("sdg-outreach")
    except PackageNotFoundError:
        release = "0"
    return openapi_document(ROUTES, version=release, secure=bool(auth and auth.secure_cookies))


__all__ = [
    "CONSOLE_OPERATIONS",
    "ROUTES",
    "add_api_routes",
    "api_document",
    "caller_of",
    "jsonable",
    "operations_of",
]
