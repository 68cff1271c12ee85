"""The moderation queue: pending free text and ideas, masked and without authors.

Each answer or idea has four buttons, each a small form with the CSRF token:
approve, reject, mute the author for 7 days (rejects it too), ban the author.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from outreach.console.pages.common import caller, operations, text_field
from outreach.console.pages.rendering import page_language, redirect, render
from outreach.console.roles import Action
from outreach.console.web_auth import require
from polls.survey import localize

DECISIONS = {"approve": "approved", "reject": "rejected", "mute": "muted", "ban": "banned"}
MUTE_DAYS = 7


@require(Action.MODERATION_READ)
async def moderation_queue(request: web.Request) -> web.StreamResponse:
    """Every survey's pending free text, then the pending ideas."""
    ops, who = operations(request), caller(request)
    language = page_language(request)
    sections: list[dict[str, Any]] = []
    for summary in (await ops.list_surveys(who, limit=500)).items:
        pending = await ops.list_texts(who, summary.id, limit=100)
        if not pending.items:
            continue
        detail = await ops.get_survey(who, summary.id)
        questions = {q.get("id"): q.get("text") for q in detail.definition.get("questions", [])}
        sections.append(
            {
                "survey": summary,
                "answers": pending.items,
                "total": pending.total,
                "questions": {
                    qid: localize(text, language, summary.languages)
                    if isinstance(text, dict)
                    else text
                    for qid, text in questions.items()
                },
            }
        )
    ideas = await ops.list_ideas(who, limit=100)
    return await render(
        request,
        "moderation.html",
        {"sections": sections, "ideas": ideas.items, "ideas_total": ideas.total, "days": MUTE_DAYS},
    )


async def _decide(request: web.Request, kind: str) -> web.StreamResponse:
    form = await request.post()
    decision = text_field(form, "decision", limit=20)
    if decision not in DECISIONS:
        raise web.HTTPBadRequest(text="decision is approve, reject, mute or ban")
    try:
        item = int(request.match_info["item_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    ops, who = operations(request), caller(request)
    if kind == "text":
        if decision in ("approve", "reject"):
            await ops.moderate_texts(who, [item], status=DECISIONS[decision])
        elif decision == "mute":
            await ops.mute_text_author(who, item, days=MUTE_DAYS)
        else:
            await ops.ban_text_author(who, item)
    elif decision in ("approve", "reject"):
        await ops.moderate_ideas(who, [item], status=DECISIONS[decision])
    elif decision == "mute":
        await ops.mute_idea_author(who, item, days=MUTE_DAYS)
    else:
        await ops.ban_idea_author(who, item)
    return redirect("/moderation", done=DECISIONS[decision])


@require(Action.MODERATION_ACT)
async def moderate_text(request: web.Request) -> web.StreamResponse:
    """Approve, reject, mute or ban, for one free-text answer."""
    return await _decide(request, "text")


@require(Action.MODERATION_ACT)
async def moderate_idea(request: web.Request) -> web.StreamResponse:
    """Approve, reject, mute or ban, for one idea."""
    return await _decide(request, "idea")
