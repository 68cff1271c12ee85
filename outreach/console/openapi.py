"""The OpenAPI 3.1 document of the admin API, built from its one route table.

``api.ROUTES`` lists every route once: method, path, the action it needs,
parameters, request body and responses. The server registers its routes from
that table and this module describes the same table, so the document cannot
drift from what is served (a test checks both ways).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from outreach.console.roles import PERMISSIONS, Action
from outreach.console.web_auth import CSRF_HEADER, SECURE_SESSION_COOKIE, SESSION_COOKIE

if TYPE_CHECKING:
    from aiohttp import web

    from outreach.console.operations import Caller, ConsoleOperations

OPENAPI_VERSION = "3.1.0"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PATH_PATTERN = re.compile(r"\{(\w+)(?::[^}]*)?\}")

ApiHandler = Callable[
    ["web.Request", "ConsoleOperations", "Caller"], Awaitable["web.StreamResponse"]
]


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def page_of(items: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "allOf": [
            ref("Page"),
            {"type": "object", "properties": {"items": array(items)}, "description": description},
        ]
    }


@dataclass(frozen=True)
class Param:
    name: str
    location: str
    """path, query or header."""
    schema: dict[str, Any]
    description: str
    required: bool = False

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.location,
            "required": True if self.location == "path" else self.required,
            "description": self.description,
            "schema": self.schema,
        }


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    """As aiohttp takes it; a ``{name:regex}`` part is ``{name}`` in the document."""
    action: Action | None
    """What the caller's role must allow (``roles.PERMISSIONS``); None: public."""
    handler: ApiHandler | Callable[[web.Request], Awaitable[web.StreamResponse]]
    """``(request, operations, caller)``; a public route's takes the request alone."""
    summary: str
    tag: str
    success: int = 200
    response: dict[str, Any] | None = None
    """The success response's JSON schema; None with ``response_media`` for files."""
    response_media: str = "application/json"
    params: tuple[Param, ...] = ()
    body: dict[str, dict[str, Any]] | None = None
    """Request body schemas by media type."""
    errors: tuple[int, ...] = ()
    """Error statuses besides 401 and 403 (400 and 422 come with every parameter or body)."""
    description: str = ""
    also: dict[int, str] = field(default_factory=dict)
    """Other success statuses and what they mean."""

    @property
    def document_path(self) -> str:
        return _PATH_PATTERN.sub(r"{\1}", self.path)

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[{}]", "", self.document_path.removeprefix("/api/")).replace(".", "_")
        parts = [p for p in re.split(r"[/_\-]", words) if p]
        return self.method.lower() + "".join(p[:1].upper() + p[1:] for p in parts)


ERROR_DESCRIPTIONS = {
    400: "The request is malformed.",
    401: "Not signed in: no session cookie and no API token, or they are no longer valid.",
    403: "The role may not do this (or, with the session cookie, the CSRF token is missing).",
    404: "Nothing by that name or number.",
    409: "The request does not fit where things stand (for example, resume a cancelled campaign).",
    413: "The upload is too large.",
    415: "The request body is of a type this route does not take.",
    422: "The request or the file it carries is invalid: every problem is listed.",
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "One thing wrong with a file or request, as the command line prints it.",
        "properties": {
            "file": {"type": "string"},
            "line": {"type": ["integer", "null"]},
            "path": {"type": "string", "description": "The field, e.g. questions[3].text.ru"},
            "message": {"type": "string", "description": "What is wrong and what to do"},
            "text": {"type": "string", "description": "file:line: path: message"},
            "sheet": {"type": ["string", "null"], "description": "XLSForm only"},
            "row": {"type": ["integer", "null"], "description": "XLSForm only, as Excel shows"},
            "column": {"type": ["string", "null"], "description": "XLSForm only"},
        },
        "required": ["file", "path", "message", "text"],
    },
    "Error": {
        "type": "object",
        "properties": {
            "error": {
                "type": "string",
                "description": "unauthorized, forbidden, csrf, not_found, conflict, invalid, "
                "bad_request, unsupported_media_type, too_large, starting",
            },
            "message": {"type": "string"},
            "problems": array(ref("Problem")),
            "notices": array(ref("Problem")),
            "action": {"type": "string", "description": "The action a 403 refused"},
        },
        "required": ["error", "message"],
    },
    "Page": {
        "type": "object",
        "properties": {
            "items": {"type": "array"},
            "total": {"type": ["integer", "null"]},
            "next": {"type": ["string", "null"], "description": "The next page's address"},
        },
        "required": ["items", "next"],
    },
    "Me": {
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "display_name": {"type": ["string", "null"]},
            "role": {"type": "string", "enum": ["admin", "organizer", "analyst", "moderator"]},
            "actions": array({"type": "string"}),
            "via_token": {"type": "boolean"},
        },
    },
    "Survey": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "version": {"type": "integer"},
            "title": {"type": "object", "additionalProperties": {"type": "string"}},
            "languages": array({"type": "string"}),
            "questions": {"type": "integer"},
            "goals": array({"type": "integer"}),
            "opens_at": {"type": ["string", "null"], "format": "date-time"},
            "closes_at": {"type": ["string", "null"], "format": "date-time"},
            "closed_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When staff closed it",
            },
            "status": {"type": "string", "enum": ["open", "closed", "scheduled", "ended"]},
            "show_results": {"type": "boolean"},
        },
    },
    "SurveyVersion": {
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "loaded_at": {"type": "string", "format": "date-time"},
            "source": {"type": ["string", "null"]},
        },
    },
    "SurveyDetail": {
        "type": "object",
        "properties": {
            "survey": ref("Survey"),
            "definition": {"type": "object", "description": "The survey document (as YAML)"},
            "versions": array(ref("SurveyVersion")),
        },
    },
    "SurveyUpload": {
        "type": "object",
        "properties": {
            "survey": {"oneOf": [ref("Survey"), {"type": "null"}]},
            "survey_id": {"type": "string"},
            "version": {"type": ["integer", "null"]},
            "created": {"type": "boolean"},
            "format": {"type": "string", "enum": ["yaml", "xlsform"]},
            "notices": array(ref("Problem")),
        },
    },
    "Campaign": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string"},
            "name": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["draft", "scheduled", "paused", "cancelled", "completed"],
            },
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
    "CampaignDetail": {
        "type": "object",
        "properties": {
            "campaign": ref("Campaign"),
            "definition": {"type": "object", "description": "The campaign document"},
        },
    },
    "CampaignCreated": {
        "type": "object",
        "properties": {"campaign": ref("Campaign"), "created": {"type": "boolean"}},
    },
    "CampaignDocument": {
        "type": "object",
        "description": "A campaign file's fields (see polls/campaign.py): id, kind, name, "
        "languages, text, survey, quiz, event, audience, schedule, window, drip_hours.",
        "additionalProperties": True,
    },
    "Progress": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "total": {"type": "integer"},
            "done": {"type": "integer"},
            "skipped_now": {"type": ["integer", "null"]},
        },
    },
    "Preview": {
        "type": "object",
        "properties": {
            "campaign": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": {"type": "string"},
                },
            },
            "total": {"type": "integer", "description": "People reached, each on one channel"},
            "samples": array(
                {
                    "type": "object",
                    "properties": {
                        "channel": {"type": "string"},
                        "language": {"type": "string"},
                        "recipients": {"type": "integer"},
                        "text": {"type": "string"},
                        "sms": {
                            "type": ["object", "null"],
                            "properties": {
                                "encoding": {"type": "string"},
                                "segments": {"type": "integer"},
                                "units": {"type": "integer"},
                            },
                        },
                    },
                }
            ),
            "sms_segments": {"type": "integer"},
            "estimated_cost": {"type": "number"},
            "currency": {"type": "string"},
        },
    },
    "Figure": {
        "type": "object",
        "description": "A count as published: under k people, count is null and text '<k'.",
        "properties": {"count": {"type": ["integer", "null"]}, "text": {"type": "string"}},
        "required": ["count", "text"],
    },
    "Results": {
        "type": "object",
        "description": "As `outreach results --json`: counts under k people are null.",
        "properties": {
            "survey_id": {"type": "string"},
            "version": {"type": "integer"},
            "title": {"type": "string"},
            "k": {"type": "integer"},
            "dimensions": array({"type": "string"}),
            "started": ref("Figure"),
            "completed": {"type": "object"},
            "funnel": {"type": "array"},
            "questions": {"type": "array"},
            "breakdowns": {"type": "array"},
            "invitations": {"type": "array"},
            "weighting": {"type": ["object", "null"]},
            "notes": array({"type": "string"}),
        },
    },
    "TextResults": {
        "type": "object",
        "properties": {
            "survey_id": {"type": "string"},
            "k": {"type": "integer"},
            "dimensions": array({"type": "string"}),
            "free_text": {"type": "array", "description": "As `outreach results --text --json`"},
        },
    },
    "Export": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "survey_id": {"type": "string"},
            "format": {"type": "string", "enum": ["csv", "xlsx", "parquet", "floip"]},
            "language": {"type": "string"},
            "include_unmoderated_text": {"type": "boolean"},
            "requested_by": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": ["running", "done", "failed"]},
            "planned_rows": {"type": "integer"},
            "rows": {"type": ["integer", "null"]},
            "withheld": {"type": "object", "additionalProperties": {"type": "integer"}},
            "masked": {"type": ["integer", "null"]},
            "file_name": {"type": ["string", "null"]},
            "size": {"type": ["integer", "null"]},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "error": {"type": ["string", "null"]},
            "download": {"type": ["string", "null"], "description": "Where to download it"},
        },
    },
    "PeopleCounts": {
        "type": "object",
        "description": "People who agreed to take part; counts under k people are null.",
        "properties": {
            "k": {"type": "integer"},
            "total": ref("Figure"),
            "by_channel": {"type": "object", "additionalProperties": ref("Figure")},
            "by_region": {"type": "object", "additionalProperties": ref("Figure")},
            "by_language": {"type": "object", "additionalProperties": ref("Figure")},
            "opted_out": ref("Figure"),
        },
    },
    "HeldAbout": {
        "type": "object",
        "description": "What is held about a person: kinds and amounts, addresses masked.",
        "properties": {
            "pseudonymous_id": {"type": "string"},
            "held": {
                "type": "object",
                "properties": {
                    "created_at": {"type": "string", "format": "date-time"},
                    "language": {"type": ["string", "null"]},
                    "region": {"type": ["string", "null"]},
                    "age_band": {"type": ["string", "null"]},
                    "gender": {"type": ["string", "null"]},
                    "consent_at": {"type": ["string", "null"], "format": "date-time"},
                    "erased_at": {"type": ["string", "null"], "format": "date-time"},
                    "identities": array(
                        {
                            "type": "object",
                            "properties": {
                                "channel": {"type": "string"},
                                "masked_address": {"type": "string"},
                                "since": {"type": "string", "format": "date-time"},
                            },
                        }
                    ),
                    "surveys": {"type": "array"},
                    "rows": {"type": "object", "additionalProperties": {"type": "integer"}},
                },
            },
        },
    },
    "Erased": {
        "type": "object",
        "properties": {
            "pseudonymous_id": {"type": "string"},
            "scope": {"type": "string", "enum": ["identity", "everything"]},
            "at": {"type": "string", "format": "date-time"},
        },
    },
    "TextAnswer": {
        "type": "object",
        "properties": {
            "answer_id": {"type": "integer"},
            "question_id": {"type": "string"},
            "answered_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
            "masked_text": {"type": "string"},
        },
    },
    "Idea": {
        "type": "object",
        "properties": {
            "idea_id": {"type": "integer"},
            "challenge_id": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
            "created_at": {"type": "string", "format": "date-time"},
            "votes": {"type": "integer"},
            "masked_text": {"type": "string"},
        },
    },
    "Moderated": {
        "type": "object",
        "properties": {"status": {"type": "string"}, "ids": array({"type": "integer"})},
    },
    "StaffMember": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "display_name": {"type": ["string", "null"]},
            "role": {"type": "string", "enum": ["admin", "organizer", "analyst", "moderator"]},
            "active": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "last_login_at": {"type": ["string", "null"], "format": "date-time"},
            "locked_until": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "ApiToken": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "prefix": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "last_used_at": {"type": ["string", "null"], "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "NewApiToken": {
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "Shown this once only"},
            "info": ref("ApiToken"),
        },
    },
    "AuditEntry": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "account_id": {"type": ["integer", "null"]},
            "username": {"type": "string"},
            "action": {"type": "string"},
            "target_type": {"type": ["string", "null"]},
            "target_id": {"type": ["string", "null"]},
            "details": {"type": ["object", "null"]},
            "ip": {"type": ["string", "null"]},
        },
    },
}


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _operation(route: ApiRoute) -> dict[str, Any]:
    who = (
        "Anyone, signed in or not."
        if route.action is None
        else f"Needs `{route.action.value}`: "
        + ", ".join(sorted(role.value for role in PERMISSIONS[route.action]))
        + "."
    )
    description = f"{route.description}\n\n{who}".strip()
    params = [param.openapi() for param in route.params]
    if route.action is not None and route.method in UNSAFE:
        params.append(
            Param(
                CSRF_HEADER,
                "header",
                {"type": "string"},
                "The session's CSRF token: required with the session cookie, not with a "
                "bearer token.",
            ).openapi()
        )
    success: dict[str, Any] = {"description": route.summary}
    if route.response is not None:
        success["content"] = {route.response_media: {"schema": route.response}}
    elif route.response_media != "application/json":
        success["content"] = {
            route.response_media: {
                "schema": {"type": "string", "contentMediaType": route.response_media}
            }
        }
    responses: dict[str, Any] = {str(route.success): success}
    for status, meaning in route.also.items():
        other: dict[str, Any] = {"description": meaning}
        if route.response is not None:
            other["content"] = success["content"]
        responses[str(status)] = other
    errors = set(route.errors)
    if route.action is not None:
        errors |= {401, 403}
    if route.params or route.body:
        errors |= {400, 422}
    for status in sorted(errors):
        responses[str(status)] = _error_response(status)
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": description,
        "tags": [route.tag],
        "responses": responses,
        "security": [] if route.action is None else [{"bearer": []}, {"cookie": []}],
    }
    if route.action is not None:
        operation["x-action"] = route.action.value
    if params:
        operation["parameters"] = params
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schema} for media, schema in route.body.items()},
        }
    return operation


def openapi_document(
    routes: Sequence[ApiRoute], *, version: str, server_url: str | None = None, secure: bool = False
) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing ``routes``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.document_path, {})[route.method.lower()] = _operation(route)
    cookie = SECURE_SESSION_COOKIE if secure else SESSION_COOKIE
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "sdg-outreach admin API",
            "version": version,
            "description": (
                "Run the service from scripts: surveys, campaigns, results, exports, "
                "respondents, moderation and staff accounts. Send an API token "
                "(`Authorization: Bearer sdg_...`, made with `outreach staff token create`), "
                "or the browser's session cookie with the CSRF token on every change. "
                "Results hide every count under k people (`null`, text `<5`); nothing here "
                "returns who anyone is."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (sdg_...), acting with its account's role.",
                },
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": cookie,
                    "description": f"The console's session; changes also need the {CSRF_HEADER} "
                    "header (or a csrf_token form field).",
                },
            },
        },
        "tags": [{"name": name} for name in dict.fromkeys(route.tag for route in routes)],
    }
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/")}]
    return document
