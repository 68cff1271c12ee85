"""For admins: the audit log, and staff accounts (create, change role, disable, enable)."""

from __future__ import annotations

import json

from aiohttp import web

from outreach.console.operations import Conflict, Invalid
from outreach.console.pages.common import caller, operations, text_field
from outreach.console.pages.rendering import ROLE_NAMES, redirect, render
from outreach.console.roles import Action, Role
from outreach.console.web_auth import require

AUDIT_PAGE = 100


@require(Action.AUDIT_READ)
async def audit_page(request: web.Request) -> web.StreamResponse:
    """Who did what to what, and when; the newest first, ``?before=`` pages back."""
    action = request.query.get("action", "").strip()[:60] or None
    before_text = request.query.get("before", "")
    before = int(before_text) if before_text.isdigit() else None
    entries = await operations(request).audit_log(
        caller(request), limit=AUDIT_PAGE, before=before, action=action
    )
    return await render(
        request,
        "audit.html",
        {
            "entries": [
                (entry, json.dumps(entry.details, ensure_ascii=False) if entry.details else "")
                for entry in entries.items
            ],
            "older": entries.next["before"] if entries.next else None,
            "action": action or "",
        },
    )


async def _staff_page(
    request: web.Request,
    *,
    message: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    members = (await operations(request).list_staff(caller(request), limit=500)).items
    return await render(
        request,
        "staff.html",
        {
            "members": members,
            "roles": [(role.value, ROLE_NAMES[role.value]) for role in Role],
            "message": message,
            "values": values or {"username": "", "display_name": "", "role": Role.ORGANIZER.value},
        },
        status=status,
    )


@require(Action.STAFF_MANAGE)
async def staff_page(request: web.Request) -> web.StreamResponse:
    return await _staff_page(request)


@require(Action.STAFF_MANAGE)
async def create_staff(request: web.Request) -> web.StreamResponse:
    """A new account; a weak password or a taken name comes back with the reason."""
    form = await request.post()
    values = {
        "username": text_field(form, "username", limit=120),
        "display_name": text_field(form, "display_name", limit=100),
        "role": text_field(form, "role", limit=20),
    }
    password = form.get("password")
    try:
        await operations(request).create_staff(
            caller(request),
            username=values["username"],
            password=password if isinstance(password, str) else "",
            role=values["role"],
            display_name=values["display_name"] or None,
        )
    except (Invalid, Conflict) as error:
        return await _staff_page(request, message=str(error), values=values, status=400)
    return redirect("/staff", done="staff_created")


@require(Action.STAFF_MANAGE)
async def change_role(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        await operations(request).update_staff(
            caller(request), request.match_info["username"], role=text_field(form, "role")
        )
    except (Invalid, Conflict) as error:
        return await _staff_page(request, message=str(error), status=409)
    return redirect("/staff", done="role_changed")


@require(Action.STAFF_MANAGE)
async def change_active(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    active = text_field(form, "active") == "yes"
    try:
        await operations(request).update_staff(
            caller(request), request.match_info["username"], active=active
        )
    except (Invalid, Conflict) as error:
        return await _staff_page(request, message=str(error), status=409)
    return redirect("/staff", done="enabled" if active else "disabled")
