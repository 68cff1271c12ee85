"""The one table of the console's pages, and how they are added to the web application.

Each row: method, path, handler, and the action the handler's ``require`` asks
for (None: the login page and its form, open to anyone). A test reads this
table to try every page as each role.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from outreach.console.pages import admin, campaigns, dashboard, exports, moderation, surveys
from outreach.console.pages.common import with_error_pages
from outreach.console.pages.login import login_page, sign_in, sign_out
from outreach.console.pages.rendering import (
    CONSOLE_CONFIG,
    STATIC_PREFIX,
    ConsoleConfig,
    setup_templates,
)
from outreach.console.pages.results import survey_results_page
from outreach.console.roles import Action
from outreach.console.web_auth import Handler


@dataclass(frozen=True)
class PageRoute:
    method: str
    path: str
    handler: Handler
    action: Action | None


PAGES: tuple[PageRoute, ...] = (
    PageRoute("GET", "/login", login_page, None),
    PageRoute("POST", "/login", sign_in, None),
    PageRoute("POST", "/logout", sign_out, Action.ACCOUNT_SELF),
    PageRoute("GET", "/", dashboard.dashboard, Action.DASHBOARD_READ),
    PageRoute("GET", "/surveys", surveys.survey_list, Action.SURVEYS_READ),
    PageRoute("GET", "/surveys/upload", surveys.upload_form, Action.SURVEYS_UPLOAD),
    PageRoute("POST", "/surveys/upload", surveys.upload_survey, Action.SURVEYS_UPLOAD),
    PageRoute("POST", "/surveys/{survey_id}/close", surveys.close_survey, Action.SURVEYS_CLOSE),
    PageRoute("POST", "/surveys/{survey_id}/reopen", surveys.reopen_survey, Action.SURVEYS_CLOSE),
    PageRoute("GET", "/surveys/{survey_id}/results", survey_results_page, Action.RESULTS_READ),
    PageRoute("GET", "/campaigns", campaigns.campaign_list, Action.CAMPAIGNS_READ),
    PageRoute("GET", "/campaigns/new", campaigns.composer, Action.CAMPAIGNS_CREATE),
    PageRoute("POST", "/campaigns/new", campaigns.compose, Action.CAMPAIGNS_CREATE),
    PageRoute("POST", "/campaigns/preview", campaigns.live_preview, Action.CAMPAIGNS_CREATE),
    PageRoute("GET", "/campaigns/{campaign_id}", campaigns.campaign_page, Action.CAMPAIGNS_READ),
    *(
        PageRoute(
            "POST",
            f"/campaigns/{{campaign_id}}/{verb}",
            getattr(campaigns, f"{verb}_campaign"),
            Action.CAMPAIGNS_SCHEDULE,
        )
        for verb in ("schedule", "pause", "resume", "cancel")
    ),
    PageRoute("GET", "/moderation", moderation.moderation_queue, Action.MODERATION_READ),
    PageRoute(
        "POST", r"/moderation/texts/{item_id:\d+}", moderation.moderate_text, Action.MODERATION_ACT
    ),
    PageRoute(
        "POST", r"/moderation/ideas/{item_id:\d+}", moderation.moderate_idea, Action.MODERATION_ACT
    ),
    PageRoute("GET", "/exports", exports.export_page, Action.EXPORTS_CREATE),
    PageRoute("POST", "/exports", exports.start_export, Action.EXPORTS_CREATE),
    PageRoute(
        "GET", "/exports/{export_id}/download", exports.download_export, Action.EXPORTS_CREATE
    ),
    PageRoute("GET", "/audit", admin.audit_page, Action.AUDIT_READ),
    PageRoute("GET", "/staff", admin.staff_page, Action.STAFF_MANAGE),
    PageRoute("POST", "/staff", admin.create_staff, Action.STAFF_MANAGE),
    PageRoute("POST", "/staff/{username}/role", admin.change_role, Action.STAFF_MANAGE),
    PageRoute("POST", "/staff/{username}/active", admin.change_active, Action.STAFF_MANAGE),
)


def add_console_pages(app: web.Application, config: ConsoleConfig) -> None:
    """Templates, the static files and every page of ``PAGES``, on ``app``."""
    app[CONSOLE_CONFIG] = config
    setup_templates(app)
    static = resources.files("outreach.console") / "static"
    app.router.add_static(STATIC_PREFIX, str(static), append_version=False)
    for page in PAGES:
        app.router.add_route(page.method, page.path, with_error_pages(page.handler))
