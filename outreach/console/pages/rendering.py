"""Templates, the reader's language and what every page shares (layout, menu, CSRF token).

Templates live in ``outreach/console/templates`` (Jinja2, autoescaped) and call
``_("...")`` and ``ngettext(...)`` for every word: Babel extracts them into
``polls/locales/messages.pot`` like the Python sources (``babel.cfg``), and
placeholders are ``{name}`` filled with ``.format()``, as everywhere else in
the catalogues. Translations are text, never HTML: they are escaped like any
other value.

The language: ``?lang=`` once (the switcher's links), then the cookie it set,
then the browser's Accept-Language, then DEFAULT_LANGUAGE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

from outreach.console.accounts import SignedInStaff
from outreach.console.roles import Action
from outreach.console.web_auth import csrf_token_for, current_staff
from polls.i18n import N_, Translator, language_name, translator
from polls.results import MIN_GROUP

LANGUAGE_COOKIE = "sdg_console_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
STATIC_PREFIX = "/static/console"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class ConsoleConfig:
    """What pages need from the settings."""

    languages: tuple[str, ...] = ("az", "ru", "en")
    default_language: str = "az"
    timezone: str = "Asia/Baku"
    regions: tuple[str, ...] = ()
    secure_cookies: bool = False


CONSOLE_CONFIG = web.AppKey("console_config", ConsoleConfig)


@dataclass(frozen=True)
class MenuItem:
    path: str
    label: str
    action: Action


MENU: tuple[MenuItem, ...] = (
    MenuItem("/", N_("Dashboard"), Action.DASHBOARD_READ),
    MenuItem("/surveys", N_("Surveys"), Action.SURVEYS_READ),
    MenuItem("/campaigns", N_("Campaigns"), Action.CAMPAIGNS_READ),
    MenuItem("/moderation", N_("Moderation"), Action.MODERATION_READ),
    MenuItem("/exports", N_("Exports"), Action.EXPORTS_CREATE),
    MenuItem("/audit", N_("Audit log"), Action.AUDIT_READ),
    MenuItem("/staff", N_("Staff"), Action.STAFF_MANAGE),
)

DONE_MESSAGES = {
    "signed_out": N_("You are signed out."),
    "closed": N_("The survey is closed: nobody can begin it or go on answering."),
    "reopened": N_("The survey is open again."),
    "saved": N_("The campaign is saved as a draft. Check the preview, then schedule it."),
    "scheduled": N_("The campaign is scheduled."),
    "paused": N_("The campaign is paused."),
    "resumed": N_("The campaign goes on."),
    "cancelled": N_("The campaign is cancelled: messages not yet sent will not be sent."),
    "approved": N_("Approved."),
    "rejected": N_("Rejected."),
    "muted": N_("Rejected, and the author is muted for 7 days."),
    "banned": N_("The author is banned: all their free text and ideas are rejected."),
    "export_started": N_("The export has started. It appears below; download it when it is ready."),
    "staff_created": N_("The account is created."),
    "role_changed": N_("The role is changed. It applies from the account's next request."),
    "disabled": N_("The account is disabled and signed out everywhere."),
    "enabled": N_("The account is enabled."),
}
"""Messages shown once after a form, named by ``?done=`` in the address it leads to."""

ROLE_NAMES = {
    "admin": N_("Admin"),
    "organizer": N_("Organizer"),
    "analyst": N_("Analyst"),
    "moderator": N_("Moderator"),
}


def config_of(request: web.Request) -> ConsoleConfig:
    return request.app.get(CONSOLE_CONFIG) or ConsoleConfig()


def _accepted(header: str, languages: Sequence[str]) -> str | None:
    ranked = []
    for position, part in enumerate(header.split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, code.strip().split("-")[0].lower()))
    for _quality, _position, code in sorted(ranked):
        if code in languages:
            return code
    return None


def page_language(request: web.Request) -> str:
    """The language this page is shown in (see the module's docstring)."""
    config = config_of(request)
    languages = config.languages
    for asked in (request.query.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if asked in languages:
            return str(asked)
    accepted = _accepted(request.headers.get("Accept-Language", ""), languages)
    return accepted or config.default_language


def remember_language(request: web.Request, response: web.StreamResponse) -> None:
    """Keep a language chosen with ``?lang=`` in a cookie (a preference, not a secret)."""
    asked = request.query.get("lang")
    if asked in config_of(request).languages and asked != request.cookies.get(LANGUAGE_COOKIE):
        response.set_cookie(
            LANGUAGE_COOKIE,
            str(asked),
            max_age=LANGUAGE_COOKIE_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=config_of(request).secure_cookies,
        )


# ---------------------------------------------------------------------- template helpers


def _translator(context: jinja2.runtime.Context) -> Translator:
    found = context.get("translator")
    return found if isinstance(found, Translator) else translator("en")


@jinja2.pass_context
def gettext(context: jinja2.runtime.Context, message: str) -> str:
    return _translator(context).gettext(message)


@jinja2.pass_context
def ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return _translator(context).ngettext(singular, plural, n)


def _language(context: jinja2.runtime.Context) -> str:
    return str(context.get("language") or "en")


@jinja2.pass_context
def number(context: jinja2.runtime.Context, value: float | int | Decimal | None) -> str:
    """A number in the reader's digits and separators (``1 234``, ``1,234``)."""
    if value is None:
        return ""
    return str(format_decimal(value, locale=_language(context)))


def percent_text(value: float, language: str) -> str:
    """``42.5%`` (``42,5 %``) as ``language`` writes it; one decimal at most."""
    exact = Decimal(f"{value:.1f}").normalize() / 100
    return str(format_percent(exact, locale=language, decimal_quantization=False))


@jinja2.pass_context
def percent(context: jinja2.runtime.Context, value: float | None) -> str:
    return "" if value is None else percent_text(value, _language(context))


@jinja2.pass_context
def interval(context: jinja2.runtime.Context, share: Any) -> str:
    """A share's 95% interval, ``31.2–48.9%``, or nothing when it has none."""
    low, high = getattr(share, "low", None), getattr(share, "high", None)
    if low is None or high is None:
        return ""
    language = _language(context)
    start = format_decimal(Decimal(f"{low:.1f}").normalize(), locale=language)
    return f"{start}–{percent_text(high, language)}"


@jinja2.pass_context
def when(context: jinja2.runtime.Context, value: datetime | str | None) -> str:
    """A moment in the console's time zone, as the reader's locale writes it."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    zone = ZoneInfo(str(context.get("timezone") or "UTC"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return str(format_datetime(moment, "medium", tzinfo=zone, locale=_language(context)))


@jinja2.pass_context
def localized(context: jinja2.runtime.Context, texts: Mapping[str, str] | str | None) -> str:
    """A text given per language, in the reader's language, else the first one given."""
    if texts is None or isinstance(texts, str):
        return texts or ""
    return texts.get(_language(context)) or next(iter(texts.values()), "")


def iso(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def setup_templates(app: web.Application) -> jinja2.Environment:
    """The Jinja2 environment of the console's pages, installed on ``app``."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("outreach.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        _=gettext,
        gettext=gettext,
        ngettext=ngettext,
        language_name=language_name,
        static=STATIC_PREFIX,
    )
    environment.filters.update(
        number=number,
        percent=percent,
        interval=interval,
        when=when,
        iso=iso,
        localized=localized,
    )
    return environment


@dataclass
class Page:
    """What the layout shows around a page's own content."""

    title: str
    staff: SignedInStaff | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _menu(staff: SignedInStaff | None, path: str) -> list[dict[str, Any]]:
    if staff is None:
        return []
    current = max(
        (item.path for item in MENU if path == item.path or path.startswith(item.path + "/")),
        key=len,
        default="",
    )
    return [
        {"path": item.path, "label": item.label, "current": item.path == current}
        for item in MENU
        if staff.can(item.action)
    ]


def _language_links(request: web.Request, current: str) -> list[dict[str, Any]]:
    query = {key: value for key, value in request.query.items() if key != "lang"}
    links = []
    for code in config_of(request).languages:
        target = request.rel_url.with_query({**query, "lang": code})
        links.append(
            {
                "code": code,
                "name": language_name(code),
                "href": str(target),
                "current": code == current,
            }
        )
    return links


async def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> web.Response:
    """``template`` with the layout's context: language, who is signed in, menu, CSRF token."""
    language = page_language(request)
    staff = await current_staff(request)
    config = config_of(request)
    _ = translator(language)
    done = request.query.get("done", "")
    shared: dict[str, Any] = {
        "language": language,
        "translator": _,
        "timezone": config.timezone,
        "staff": staff,
        "role_name": ROLE_NAMES.get(staff.role, staff.role) if staff else "",
        "csrf_token": csrf_token_for(request) or "",
        "menu": _menu(staff, request.path),
        "languages": _language_links(request, language),
        "path": request.path,
        "path_qs": request.path_qs,
        "can": (lambda action: staff is not None and staff.can(action)),
        "Action": Action,
        "flash_message": _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else "",
        "k_min": MIN_GROUP,
    }
    response = aiohttp_jinja2.render_template(
        template, request, {**shared, **context}, status=status
    )
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = language
    remember_language(request, response)
    return response


def redirect(location: str, *, done: str = "") -> web.Response:
    """A 303 to ``location`` after a form; ``done`` names what happened, for the next page."""
    if done:
        location += ("&" if "?" in location else "?") + "done=" + done
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def svg(markup: str) -> Markup:
    """A chart drawn by ``outreach.monthly_report.charts`` (escaped there), for a template."""
    return Markup(markup)  # noqa: S704 - charts escape every text they draw
