"""The dashboard: people by channel and region, open surveys, upcoming and running campaigns.

Each panel appears only for a role that may see it (the page itself is for
everyone). People counts come as the operations publish them (as the API does):
a count under k reads ``<k``, and what would give it away is hidden too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from outreach.console.operations import CampaignSummary
from outreach.console.pages.common import caller, operations
from outreach.console.pages.rendering import config_of, page_language, render
from outreach.console.roles import Action
from outreach.console.web_auth import require, staff_of
from polls.i18n import translator
from polls.onboarding import region_label

CHANNEL_NAMES = {"telegram": "Telegram", "sms": "SMS"}
WAITING = ("pending", "sending")


def progress_of(campaign: CampaignSummary) -> dict[str, int]:
    """Messages in all, and those no longer waiting to leave."""
    total = sum(campaign.counts.values())
    waiting = sum(campaign.counts.get(status, 0) for status in WAITING)
    return {"total": total, "done": total - waiting}


def is_running(campaign: CampaignSummary) -> bool:
    progress = progress_of(campaign)
    return campaign.status in ("scheduled", "paused") and progress["done"] < progress["total"]


@require(Action.DASHBOARD_READ)
async def dashboard(request: web.Request) -> web.StreamResponse:
    """What is going on, in one page."""
    ops, who = operations(request), caller(request)
    staff = staff_of(request)
    _ = translator(page_language(request))
    regions = config_of(request).regions
    context: dict[str, Any] = {"people": None, "surveys": None, "campaigns": None}
    if staff.can(Action.RESPONDENTS_COUNT):
        counts = await ops.people_counts(who)
        context["people"] = {
            "total": counts.total,
            "channels": [
                (CHANNEL_NAMES.get(name, name), figure)
                for name, figure in counts.by_channel.items()
            ],
            "regions": sorted(
                (
                    (
                        _("Region not given")
                        if name == "unknown"
                        else region_label(name, regions, _),
                        figure,
                    )
                    for name, figure in counts.by_region.items()
                ),
                key=lambda row: row[0],
            ),
        }
    if staff.can(Action.SURVEYS_READ):
        surveys = (await ops.list_surveys(who, limit=500)).items
        context["surveys"] = [s for s in surveys if s.status == "open"]
    if staff.can(Action.CAMPAIGNS_READ):
        campaigns = (await ops.list_campaigns(who, limit=500)).items
        context["campaigns"] = {
            "running": [(c, progress_of(c)) for c in campaigns if is_running(c)],
            "upcoming": [
                c
                for c in campaigns
                if c.status in ("draft", "scheduled", "paused") and not is_running(c)
            ],
        }
    return await render(request, "dashboard.html", context)
