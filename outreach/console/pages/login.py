"""Signing in and out, and the page a role may not see."""

from __future__ import annotations

from aiohttp import web

from outreach.console.accounts import SignedInStaff, SignInRefused
from outreach.console.pages.rendering import render
from outreach.console.roles import Action
from outreach.console.web_auth import (
    STAFF_WEB_AUTH,
    StaffWebAuth,
    current_staff,
    is_cross_site,
    require,
    safe_next,
)


def _auth(request: web.Request) -> StaffWebAuth:
    auth = request.app.get(STAFF_WEB_AUTH)
    if auth is None:
        raise web.HTTPServiceUnavailable(text="starting")
    return auth


def _lockout(auth: StaffWebAuth) -> dict[str, int]:
    policy = auth.accounts.policy
    return {
        "attempts": policy.max_failed_logins,
        "minutes": int(policy.lockout.total_seconds() // 60),
    }


async def login_page(request: web.Request) -> web.StreamResponse:
    """The login form (signed-in staff go straight on)."""
    auth = _auth(request)
    target = safe_next(request.query.get("next"))
    if await current_staff(request) is not None:
        return web.Response(status=303, headers={"Location": target})
    return await render(
        request,
        "login.html",
        {"next": target, "username": "", "refused": False, **_lockout(auth)},
    )


async def sign_in(request: web.Request) -> web.StreamResponse:
    """Check the password; the same answer for every kind of refusal (see accounts)."""
    auth = _auth(request)
    if is_cross_site(request):
        return web.Response(status=403, text="Sign in from the console's own login page.")
    form = await request.post()
    username = str(form.get("username", ""))[:200]
    password = str(form.get("password", ""))[:1000]
    target = safe_next(str(form.get("next", "")))
    try:
        signed_in = await auth.sign_in(request, username=username, password=password)
    except SignInRefused:
        return await render(
            request,
            "login.html",
            {
                "next": target,
                "username": username,
                "refused": True,
                **_lockout(auth),
            },
            status=401,
        )
    response = web.Response(status=303, headers={"Location": target, "Cache-Control": "no-store"})
    auth.start_session(response, signed_in)
    return response


@require(Action.ACCOUNT_SELF)
async def sign_out(request: web.Request) -> web.StreamResponse:
    """End the session (a POST with the CSRF token, so no other site can sign anyone out)."""
    response = web.Response(
        status=303, headers={"Location": "/login?done=signed_out", "Cache-Control": "no-store"}
    )
    await _auth(request).sign_out(request, response)
    return response


async def forbidden_page(
    request: web.Request, staff: SignedInStaff, action: Action
) -> web.StreamResponse:
    """The 403 page: what the role may not do, and whom to ask."""
    return await render(request, "forbidden.html", {"action": action.value}, status=403)
