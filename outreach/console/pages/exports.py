"""Exports: choose a survey and a format, start, download when it is written."""

from __future__ import annotations

from aiohttp import web

from outreach.console.operations import Invalid
from outreach.console.pages.common import caller, operations, text_field
from outreach.console.pages.rendering import config_of, page_language, redirect, render
from outreach.console.roles import Action
from outreach.console.web_auth import require
from outreach.exports import ExportFormat

FORMAT_NAMES = {
    "csv": "CSV",
    "xlsx": "Excel (XLSX)",
    "parquet": "Parquet",
    "floip": "FLOIP (ZIP)",
}


async def _page(
    request: web.Request, *, message: str = "", status: int = 200
) -> web.StreamResponse:
    ops, who = operations(request), caller(request)
    surveys = (await ops.list_surveys(who, limit=500)).items
    jobs = (await ops.list_exports(who, limit=100)).items
    return await render(
        request,
        "exports.html",
        {
            "surveys": surveys,
            "jobs": jobs,
            "formats": [(f.value, FORMAT_NAMES.get(f.value, f.value)) for f in ExportFormat],
            "chosen": request.query.get("survey", ""),
            "export_languages": config_of(request).languages,
            "chosen_language": page_language(request),
            "message": message,
        },
        status=status,
    )


@require(Action.EXPORTS_CREATE)
async def export_page(request: web.Request) -> web.StreamResponse:
    """The form, and every export with its state and a download link once written."""
    return await _page(request)


@require(Action.EXPORTS_CREATE)
async def start_export(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        await operations(request).start_export(
            caller(request),
            survey_id=text_field(form, "survey", limit=60),
            export_format=text_field(form, "format", limit=20),
            language=text_field(form, "language", limit=10) or page_language(request),
            include_unmoderated_text=text_field(form, "unmoderated") == "yes",
        )
    except Invalid as error:
        return await _page(request, message=str(error), status=400)
    return redirect("/exports", done="export_started")


@require(Action.EXPORTS_CREATE)
async def download_export(request: web.Request) -> web.StreamResponse:
    """The file, as an attachment named after the export (the download is audited)."""
    job, path = await operations(request).export_file(
        caller(request), request.match_info["export_id"]
    )
    return web.FileResponse(
        path,
        headers={
            "Content-Type": job.media_type,
            "Content-Disposition": f'attachment; filename="{path.name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
