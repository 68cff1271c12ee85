"""aiohttp glue for the staff console: who is signed in, and what they may do.

Wiring (the composition root, once ``StaffAccounts`` exists)::

    install_staff_auth(app, StaffWebAuth.for_site(accounts, public_base_url=...))

A handler states the action it needs and reads who called it::

    @require(Action.CAMPAIGNS_SCHEDULE)
    async def schedule_campaign(request: web.Request) -> web.StreamResponse:
        staff = staff_of(request)
        ...

``require`` answers, before the handler runs:
- not signed in: 401 JSON under ``/api``; elsewhere a 303 to the login page
  (``?next=`` the page asked for, for GET);
- signed in, but the role may not (``roles.can``): 403 JSON under ``/api``,
  a 403 page elsewhere;
- POST, PUT, PATCH, DELETE with the session cookie: 403 unless the request
  carries the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``) and the browser does not say it comes from another site
  (``Sec-Fetch-Site``). Requests with an API token need no CSRF token: browsers
  never send an ``Authorization`` header on their own. A handler that reads the
  form after ``require`` gets it again from ``await request.post()`` (cached).

Credentials: ``Authorization: Bearer sdg_...`` for scripts (it alone counts when
present, even next to a cookie), else the session cookie.

The cookie: ``__Host-sdg_session`` when PUBLIC_BASE_URL is https (the prefix
makes browsers insist on Secure, Path=/ and no Domain, so no other subdomain can
set or shadow it), ``sdg_session`` on plain-http development setups. Always
HttpOnly (scripts cannot read it) and ``SameSite=Strict``: the browser never sends
it with a request started by another site, not even a link, so no other site can
act, or read a page, as a signed-in staff member. The price: following a link
to the console from an e-mail or a chat shows the login page once (reloading the
page or signing in again works). Max-Age is the session's absolute lifetime;
the server ends sessions earlier when idle.

The login form itself has no session yet: its handler should refuse
``is_cross_site(request)`` and use ``StaffWebAuth.sign_in`` (which rotates the
session id) and ``start_session``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from outreach.console.accounts import SignedInStaff, SignIn, StaffAccounts
from outreach.console.roles import Action, known_action
from outreach.console.tokens import check_csrf, csrf_token

logger = logging.getLogger(__name__)

SESSION_COOKIE = "sdg_session"
SECURE_SESSION_COOKIE = "__Host-sdg_session"
SAME_SITE = "Strict"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ForbiddenPage = Callable[[web.Request, SignedInStaff, Action], Awaitable[web.StreamResponse]]


def session_cookie_name(*, secure: bool) -> str:
    return SECURE_SESSION_COOKIE if secure else SESSION_COOKIE


def set_session_cookie(
    response: web.StreamResponse, session_id: str, *, secure: bool, max_age: int
) -> None:
    """Put the session id in the cookie: HttpOnly, SameSite=Strict, Secure over https."""
    response.set_cookie(
        session_cookie_name(secure=secure),
        session_id,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite=SAME_SITE,
    )


def clear_session_cookie(response: web.StreamResponse, *, secure: bool) -> None:
    """Tell the browser to forget the session cookie."""
    response.del_cookie(
        session_cookie_name(secure=secure),
        path="/",
        secure=secure,
        httponly=True,
        samesite=SAME_SITE,
    )


def is_cross_site(request: web.Request) -> bool:
    """Whether the browser says another site (even a sibling subdomain) started the request."""
    return request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site")


def safe_next(value: str | None, default: str = "/") -> str:
    """A ``next`` address to go to after signing in: a path on this site, or ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\r\n\\"):
        return default
    return value


@dataclass(frozen=True)
class StaffWebAuth:
    """How the web server authenticates staff; installed on the app with install_staff_auth."""

    accounts: StaffAccounts
    secure_cookies: bool
    login_path: str = "/login"
    api_prefix: str = "/api"
    forbidden_page: ForbiddenPage | None = None
    """Renders the 403 page (localized, from a template); a plain text one if None."""

    @classmethod
    def for_site(
        cls,
        accounts: StaffAccounts,
        *,
        public_base_url: str | None,
        login_path: str = "/login",
        forbidden_page: ForbiddenPage | None = None,
    ) -> StaffWebAuth:
        """Secure cookies exactly when the public address is https."""
        secure = bool(public_base_url) and str(public_base_url).lower().startswith("https://")
        return cls(accounts, secure, login_path=login_path, forbidden_page=forbidden_page)

    @property
    def cookie_name(self) -> str:
        return session_cookie_name(secure=self.secure_cookies)

    def is_api(self, request: web.Request) -> bool:
        path = request.path
        return path == self.api_prefix or path.startswith(self.api_prefix + "/")

    async def sign_in(self, request: web.Request, *, username: str, password: str) -> SignIn:
        """Sign in from a login form: the browser's previous session id is deleted.

        Raises ``SignInRefused`` (one message whatever the reason).
        """
        return await self.accounts.sign_in(
            username=username,
            password=password,
            user_agent=request.headers.get("User-Agent"),
            ip=request.remote,
            replacing=request.cookies.get(self.cookie_name),
        )

    def start_session(self, response: web.StreamResponse, signed_in: SignIn) -> None:
        """Set the cookie of a session ``sign_in`` made."""
        lifetime = self.accounts.policy.session_lifetime
        set_session_cookie(
            response,
            signed_in.session_id,
            secure=self.secure_cookies,
            max_age=int(lifetime.total_seconds()),
        )

    async def sign_out(self, request: web.Request, response: web.StreamResponse) -> None:
        """Delete the request's session and clear its cookie on ``response``."""
        await self.accounts.sign_out(request.cookies.get(self.cookie_name), ip=request.remote)
        clear_session_cookie(response, secure=self.secure_cookies)


STAFF_WEB_AUTH = web.AppKey("staff_web_auth", StaffWebAuth)


@dataclass(frozen=True)
class _Caller:
    staff: SignedInStaff | None
    bearer: bool
    """Whether the request presented an API token (valid or not)."""


_CALLER = web.RequestKey("staff_caller", _Caller)


def install_staff_auth(app: web.Application, auth: StaffWebAuth) -> None:
    app[STAFF_WEB_AUTH] = auth


def _auth(request: web.Request) -> StaffWebAuth:
    auth = request.app.get(STAFF_WEB_AUTH)
    if auth is None:  # routes exist before startup has built the accounts
        raise web.HTTPServiceUnavailable(text="starting")
    return auth


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def _caller(request: web.Request) -> _Caller:
    cached: _Caller | None = request.get(_CALLER)
    if cached is not None:
        return cached
    auth = _auth(request)
    token = _bearer(request)
    if token is not None:
        caller = _Caller(await auth.accounts.staff_for_token(token), bearer=True)
    else:
        session_id = request.cookies.get(auth.cookie_name)
        caller = _Caller(await auth.accounts.staff_for_session(session_id), bearer=False)
    request[_CALLER] = caller
    return caller


async def current_staff(request: web.Request) -> SignedInStaff | None:
    """The staff member making the request (API token, else session cookie), or None."""
    return (await _caller(request)).staff


def staff_of(request: web.Request) -> SignedInStaff:
    """The staff member ``require`` let in: for handlers behind ``require``."""
    caller: _Caller | None = request.get(_CALLER)
    if caller is None or caller.staff is None:
        raise RuntimeError("staff_of() needs a handler behind @require(...)")
    return caller.staff


def csrf_token_for(request: web.Request) -> str | None:
    """A CSRF token for the forms of this page (None without a signed-in session)."""
    caller: _Caller | None = request.get(_CALLER)
    if caller is None or caller.staff is None or caller.staff.session is None:
        return None
    return csrf_token(caller.staff.session.csrf_secret)


async def csrf_passes(request: web.Request, staff: SignedInStaff) -> bool:
    """Whether an unsafe request from a browser session carries its CSRF token."""
    if is_cross_site(request):
        return False
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.content_type in _FORMS:
        field = (await request.post()).get(CSRF_FORM_FIELD)
        token = field if isinstance(field, str) else None
    return check_csrf(staff.session, token)


def _json_error(status: int, error: str, message: str, **extra: str) -> web.Response:
    return web.json_response(
        {"error": error, "message": message, **extra},
        status=status,
        headers={"Cache-Control": "no-store"},
        dumps=json.dumps,
    )


async def _refuse_anonymous(
    request: web.Request, auth: StaffWebAuth, caller: _Caller
) -> web.StreamResponse:
    if auth.is_api(request) or caller.bearer:
        response = _json_error(
            401,
            "unauthorized",
            "The API token is not valid (revoked, or its account disabled)."
            if caller.bearer
            else "Sign in, or send an API token: Authorization: Bearer sdg_...",
        )
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="sdg-outreach", error="invalid_token"'
            if caller.bearer
            else 'Bearer realm="sdg-outreach"'
        )
        return response
    location = auth.login_path
    if request.method in ("GET", "HEAD"):
        location += "?next=" + quote(safe_next(request.path_qs), safe="/")
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def _refuse_role(
    request: web.Request, auth: StaffWebAuth, staff: SignedInStaff, action: Action
) -> web.StreamResponse:
    message = f"The {staff.role} role may not do this ({action.value})."
    if auth.is_api(request) or staff.via_token:
        return _json_error(403, "forbidden", message, action=action.value)
    if auth.forbidden_page is not None:
        return await auth.forbidden_page(request, staff, action)
    return web.Response(status=403, text=message, headers={"Cache-Control": "no-store"})


def _refuse_csrf(request: web.Request, auth: StaffWebAuth) -> web.StreamResponse:
    message = "This form has expired or came from another site: reload the page and try again."
    if auth.is_api(request):
        return _json_error(403, "csrf", message)
    return web.Response(status=403, text=message, headers={"Cache-Control": "no-store"})


def require(action: Action | str) -> Callable[[Handler], Handler]:
    """Let a handler run only for signed-in staff whose role may do ``action``.

    An action missing from the permission table fails here, when the route is
    defined, not when the first request comes.
    """
    needed = known_action(action)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            auth = _auth(request)
            caller = await _caller(request)
            staff = caller.staff
            if staff is None:
                return await _refuse_anonymous(request, auth, caller)
            if not staff.can(needed):
                logger.info("staff %s (%s) refused %s", staff.account_id, staff.role, needed)
                return await _refuse_role(request, auth, staff, needed)
            if (
                request.method in UNSAFE_METHODS
                and staff.session is not None
                and not await csrf_passes(request, staff)
            ):
                logger.info("staff %s: CSRF check failed on %s", staff.account_id, request.path)
                return _refuse_csrf(request, auth)
            return await handler(request)

        return guarded

    return decorate
