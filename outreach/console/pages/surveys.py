"""Surveys: the list, uploading a YAML file or an XLSForm, closing and reopening."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField

from outreach.console.operations import Invalid
from outreach.console.pages.common import caller, operations, shown_problems, text_field
from outreach.console.pages.rendering import redirect, render
from outreach.console.roles import Action
from outreach.console.web_auth import require

MAX_UPLOAD = 1024 * 1024


@require(Action.SURVEYS_READ)
async def survey_list(request: web.Request) -> web.StreamResponse:
    """Every survey's latest version, its state, and what the role may do with it."""
    surveys = (await operations(request).list_surveys(caller(request), limit=500)).items
    return await render(request, "surveys.html", {"surveys": surveys})


def _upload_context(**values: object) -> dict[str, object]:
    context: dict[str, object] = {
        "problems": [],
        "notices": [],
        "message": "",
        "survey_id": "",
        "form_languages": "",
        "uploaded": None,
        "filename": "",
    }
    context.update(values)
    return context


@require(Action.SURVEYS_UPLOAD)
async def upload_form(request: web.Request) -> web.StreamResponse:
    return await render(request, "survey_upload.html", _upload_context())


@require(Action.SURVEYS_UPLOAD)
async def upload_survey(request: web.Request) -> web.StreamResponse:
    """Store the file as the survey's next version, or list every problem with where it is."""
    form = await request.post()
    survey_id = text_field(form, "survey_id", limit=40)
    languages_text = text_field(form, "languages", limit=100)
    languages = [code.strip().lower() for code in languages_text.split(",") if code.strip()]
    upload = form.get("file")
    if not isinstance(upload, FileField) or not upload.filename:
        return await render(
            request,
            "survey_upload.html",
            _upload_context(message="no_file", survey_id=survey_id, form_languages=languages_text),
            status=400,
        )
    content = upload.file.read(MAX_UPLOAD + 1)
    try:
        uploaded = await operations(request).upload_survey(
            caller(request),
            filename=upload.filename,
            content=content,
            survey_id=survey_id or None,
            languages=languages or None,
        )
    except Invalid as error:
        return await render(
            request,
            "survey_upload.html",
            _upload_context(
                problems=shown_problems(error.problems),
                notices=shown_problems(error.notices),
                message=str(error) if not error.problems else "",
                survey_id=survey_id,
                form_languages=languages_text,
                filename=upload.filename,
            ),
            status=400,
        )
    return await render(
        request,
        "survey_upload.html",
        _upload_context(uploaded=uploaded, notices=shown_problems(uploaded.notices)),
    )


@require(Action.SURVEYS_CLOSE)
async def close_survey(request: web.Request) -> web.StreamResponse:
    await operations(request).close_survey(caller(request), request.match_info["survey_id"])
    return redirect("/surveys", done="closed")


@require(Action.SURVEYS_CLOSE)
async def reopen_survey(request: web.Request) -> web.StreamResponse:
    await operations(request).reopen_survey(caller(request), request.match_info["survey_id"])
    return redirect("/surveys", done="reopened")
