"""What every page handler shares: the operations, the caller, error pages, form fields."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from outreach.console.api import CONSOLE_OPERATIONS
from outreach.console.operations import (
    Caller,
    Conflict,
    ConsoleOperations,
    NotAllowed,
    NotFound,
    OperationError,
)
from outreach.console.pages.rendering import render
from outreach.console.web_auth import Handler, staff_of
from polls.i18n import N_
from polls.survey_loader import SurveyProblem

logger = logging.getLogger(__name__)

Form = MultiDictProxy[Any]


def operations(request: web.Request) -> ConsoleOperations:
    found = request.app.get(CONSOLE_OPERATIONS)
    if found is None:
        raise web.HTTPServiceUnavailable(text="starting")
    return found


def caller(request: web.Request) -> Caller:
    """The staff member ``require`` let in, and their address (for the audit log)."""
    return Caller(staff_of(request), ip=request.remote)


def text_field(form: Form, name: str, *, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def list_field(form: Form | Any, name: str) -> list[str]:
    return [value.strip() for value in form.getall(name, []) if isinstance(value, str)]


@dataclass(frozen=True)
class ShownProblem:
    """A problem of an uploaded file as the page lists it: where, then what to do."""

    where: dict[str, Any]
    message: str
    field: str


def shown_problems(problems: Sequence[SurveyProblem]) -> list[ShownProblem]:
    """File and line, or sheet, row and column, named apart so the page can translate them."""
    shown = []
    for problem in problems:
        sheet = getattr(problem, "sheet", None)
        row = getattr(problem, "row", None)
        column = getattr(problem, "column", None)
        if sheet is not None or row is not None:
            where: dict[str, Any] = {
                "kind": "cell",
                "file": problem.file,
                "sheet": sheet,
                "row": row,
                "column": column,
            }
        else:
            where = {"kind": "line", "file": problem.file, "line": problem.line}
        shown.append(ShownProblem(where, problem.message, problem.path))
    return shown


ERROR_TITLES = {
    404: N_("Not found"),
    409: N_("Cannot do this now"),
    400: N_("Cannot do this"),
}


async def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return await render(
        request,
        "error.html",
        {"error_title": ERROR_TITLES.get(status, ERROR_TITLES[400]), "message": message},
        status=status,
    )


def with_error_pages(handler: Handler) -> Handler:
    """Operation errors a handler does not deal with itself become a page that says why."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotAllowed as error:
            from outreach.console.pages.login import forbidden_page

            return await forbidden_page(request, staff_of(request), error.action)
        except NotFound as error:
            return await error_page(request, 404, str(error))
        except OperationError as error:
            logger.info("console page %s: %s", request.path, type(error).__name__)
            status = 409 if isinstance(error, Conflict) else 400
            return await error_page(request, status, str(error))

    return wrapped
