"""Campaigns: the list with progress bars, the composer with its live preview, one campaign.

The composer's form becomes the same document a campaign file holds
(``polls.campaign``), so the operations validate it with the file's rules and
every problem names its field. Without JavaScript, "Preview" sends the form
and the page comes back with the audience and the cost; with it, the preview
follows the form as it changes (``console.js`` posts it to ``/campaigns/preview``
and puts the returned part of the page in place).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from outreach.campaigns.manage import Preview
from outreach.console.operations import Invalid
from outreach.console.pages.common import (
    Form,
    caller,
    list_field,
    operations,
    shown_problems,
    text_field,
)
from outreach.console.pages.dashboard import progress_of
from outreach.console.pages.rendering import (
    ConsoleConfig,
    config_of,
    page_language,
    redirect,
    render,
)
from outreach.console.roles import Action
from outreach.console.web_auth import require
from polls.campaign import CHANNELS, CampaignKind
from polls.i18n import Translator, language_name, translator
from polls.onboarding import AGE_BANDS, GENDERS, region_value

KINDS = tuple(kind.value for kind in CampaignKind)
VERBS = {
    "schedule": "scheduled",
    "pause": "paused",
    "resume": "resumed",
    "cancel": "cancelled",
}
DEFAULT_WINDOW = ("10:00", "20:00")


def _moment(value: str, zone: str) -> str | None:
    """A ``datetime-local`` field's value as an ISO moment in the console's time zone."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the campaign's own rules say what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


def campaign_document(form: Form, *, languages: tuple[str, ...], zone: str) -> dict[str, Any]:
    """The composer's fields as a campaign document (``polls.campaign``'s format)."""
    texts = {code: text_field(form, f"text_{code}") for code in languages}
    written = [code for code in languages if texts[code]]
    document: dict[str, Any] = {
        "id": text_field(form, "id", limit=60),
        "kind": text_field(form, "kind", limit=40),
        "name": text_field(form, "name", limit=200),
        "languages": written or list(languages[:1]),
        "text": {code: texts[code] for code in written},
    }
    kind = document["kind"]
    if kind == CampaignKind.SURVEY_INVITATION:
        document["survey"] = text_field(form, "survey", limit=60)
    elif kind == CampaignKind.QUIZ_INVITATION:
        document["quiz"] = text_field(form, "quiz", limit=60)
    elif kind == CampaignKind.EVENT:
        event: dict[str, Any] = {"starts_at": _moment(text_field(form, "event_starts_at"), zone)}
        locations = {code: text_field(form, f"location_{code}", limit=300) for code in written}
        if any(locations.values()):
            event["location"] = {code: text for code, text in locations.items() if text}
        capacity = text_field(form, "event_capacity", limit=10)
        if capacity:
            event["capacity"] = int(capacity) if capacity.isdigit() else capacity
        document["event"] = event
    audience: dict[str, Any] = {}
    channels = list_field(form, "channels")
    if set(channels) != set(CHANNELS):
        audience["channels"] = channels
    for name in ("regions", "age_bands", "genders", "languages"):
        chosen = list_field(form, f"audience_{name}")
        if chosen:
            audience[name] = chosen
    if audience:
        document["audience"] = audience
    if text_field(form, "when") == "at":
        document["schedule"] = {"at": _moment(text_field(form, "schedule_at"), zone) or ""}
    start = text_field(form, "window_start", limit=5) or DEFAULT_WINDOW[0]
    end = text_field(form, "window_end", limit=5) or DEFAULT_WINDOW[1]
    document["window"] = {"start": start, "end": end}
    return document


def _field_of(path: str, languages: tuple[str, ...]) -> str:
    """The composer's field a problem's path points at (for links and aria-invalid)."""
    head, _, rest = path.partition(".")
    head = head.split("[")[0]
    if head == "text" and rest:
        return f"text_{rest.split('[')[0]}"
    if head == "languages":
        return f"text_{languages[0]}"
    if head == "event":
        return "event_location" if rest.startswith("location") else f"event_{rest or 'starts_at'}"
    if head == "schedule":
        return "schedule_at"
    if head == "window":
        return "window_end" if rest == "end" else "window_start"
    if head == "audience":
        return f"audience_{rest.split('[')[0]}"
    return head or "id"


def field_labels(_: Translator, languages: tuple[str, ...]) -> dict[str, str]:
    """The composer's fields by the names problems point at, as the form labels them."""
    labels = {
        "id": _("Id"),
        "name": _("Name"),
        "kind": _("Kind"),
        "survey": _("Survey"),
        "quiz": _("Quiz id"),
        "event_starts_at": _("Event starts at"),
        "event_capacity": _("Places"),
        "schedule_at": _("Send at"),
        "window_start": _("Not before"),
        "window_end": _("Not after"),
        "channels": _("Channels"),
        "audience_channels": _("Channels"),
        "audience_regions": _("Regions"),
        "audience_age_bands": _("Age bands"),
        "audience_genders": _("Genders"),
        "audience_languages": _("Languages"),
    }
    for code in languages:
        name = language_name(code)
        labels[f"text_{code}"] = _("Message in {language}").format(language=name)
        labels[f"location_{code}"] = _("Place in {language}").format(language=name)
    return labels


def _choices(_: Translator, config: ConsoleConfig) -> dict[str, list[tuple[str, str]]]:
    return {
        "channels": [("telegram", "Telegram"), ("sms", "SMS")],
        "regions": [(region_value(name), _(name)) for name in config.regions],
        "age_bands": [(value, _(label)) for value, label in AGE_BANDS],
        "genders": [(value, _(label)) for value, label in GENDERS],
        "languages": [(code, language_name(code)) for code in config.languages],
    }


def _fields(form: Form | None, query: Any, languages: tuple[str, ...]) -> dict[str, Any]:
    """What the form shows: what was sent, else what the address asked for, else defaults."""
    source = form if form is not None else query
    values: dict[str, Any] = {
        name: text_field(source, name)
        for name in (
            "id",
            "name",
            "kind",
            "survey",
            "quiz",
            "event_starts_at",
            "event_capacity",
            "when",
            "schedule_at",
            "window_start",
            "window_end",
        )
    }
    for code in languages:
        values[f"text_{code}"] = text_field(source, f"text_{code}")
        values[f"location_{code}"] = text_field(source, f"location_{code}", limit=300)
    values["kind"] = values["kind"] or CampaignKind.ANNOUNCEMENT.value
    values["when"] = values["when"] or "now"
    values["window_start"] = values["window_start"] or DEFAULT_WINDOW[0]
    values["window_end"] = values["window_end"] or DEFAULT_WINDOW[1]
    values["channels"] = list_field(source, "channels") if form is not None else list(CHANNELS)
    for name in ("regions", "age_bands", "genders", "languages"):
        values[f"audience_{name}"] = list_field(source, f"audience_{name}")
    return values


async def _composer(
    request: web.Request,
    form: Form | None,
    *,
    preview: Preview | None = None,
    problems: list[Any] | None = None,
    message: str = "",
    status: int = 200,
    template: str = "campaign_new.html",
) -> web.StreamResponse:
    config = config_of(request)
    languages = config.languages
    _ = translator(page_language(request))
    surveys = (await operations(request).list_surveys(caller(request), limit=500)).items
    shown = problems or []
    return await render(
        request,
        template,
        {
            "values": _fields(form, request.query, languages),
            "text_languages": languages,
            "choices": _choices(_, config),
            "surveys": surveys,
            "preview": preview,
            "problems": shown,
            "invalid_fields": {problem.field for problem in shown},
            "field_labels": field_labels(_, languages),
            "message": message,
            "zone": config.timezone,
        },
        status=status,
    )


@require(Action.CAMPAIGNS_READ)
async def campaign_list(request: web.Request) -> web.StreamResponse:
    """Every campaign with where it stands and how far its messages got."""
    campaigns = (await operations(request).list_campaigns(caller(request), limit=500)).items
    newest = sorted(campaigns, key=lambda c: c.created_at, reverse=True)
    rows = [(c, progress_of(c)) for c in newest]
    return await render(request, "campaigns.html", {"campaigns": rows})


@require(Action.CAMPAIGNS_CREATE)
async def composer(request: web.Request) -> web.StreamResponse:
    """An empty composer (``?kind=survey_invitation&survey=...`` fills in the first fields)."""
    return await _composer(request, None)


def _problems(error: Invalid, languages: tuple[str, ...]) -> list[Any]:
    shown = shown_problems(error.problems)
    return [
        type(problem)(problem.where, problem.message, _field_of(problem.field, languages))
        for problem in shown
    ]


@require(Action.CAMPAIGNS_CREATE)
async def compose(request: web.Request) -> web.StreamResponse:
    """Preview the campaign, or save it as a draft (then its page offers to schedule it)."""
    form = await request.post()
    config = config_of(request)
    document = campaign_document(form, languages=config.languages, zone=config.timezone)
    ops, who = operations(request), caller(request)
    try:
        if text_field(form, "intent") == "save":
            created = await ops.create_campaign(who, document=document, source="composer")
            return redirect(f"/campaigns/{created.campaign.id}", done="saved")
        preview = await ops.preview_draft(who, document=document, source="composer")
    except Invalid as error:
        return await _composer(
            request,
            form,
            problems=_problems(error, config.languages),
            message="" if error.problems else str(error),
            status=400,
        )
    return await _composer(request, form, preview=preview)


@require(Action.CAMPAIGNS_CREATE)
async def live_preview(request: web.Request) -> web.StreamResponse:
    """The composer's preview part alone, for the page's script (same form, same rules)."""
    form = await request.post()
    config = config_of(request)
    document = campaign_document(form, languages=config.languages, zone=config.timezone)
    labels = field_labels(translator(page_language(request)), config.languages)
    try:
        preview = await operations(request).preview_draft(
            caller(request), document=document, source="composer"
        )
    except Invalid as error:
        return await render(
            request,
            "campaign_preview.html",
            {
                "preview": None,
                "problems": _problems(error, config.languages),
                "field_labels": labels,
            },
        )
    return await render(
        request,
        "campaign_preview.html",
        {"preview": preview, "problems": [], "field_labels": labels},
    )


@require(Action.CAMPAIGNS_READ)
async def campaign_page(request: web.Request) -> web.StreamResponse:
    """One campaign: what it says, to whom, its preview, its progress and what can be done."""
    campaign_id = request.match_info["campaign_id"]
    ops, who = operations(request), caller(request)
    detail = await ops.get_campaign(who, campaign_id)
    preview = None
    if who.staff.can(Action.CAMPAIGNS_CREATE) and detail.campaign.status in ("draft", "paused"):
        preview = await ops.preview_campaign(who, campaign_id)
    _ = translator(page_language(request))
    config = config_of(request)
    labels = _choices(_, config)
    audience = detail.definition.get("audience") or {}
    named = {
        name: [dict(labels[name]).get(str(value), str(value)) for value in audience.get(name, [])]
        for name in ("regions", "age_bands", "genders", "languages", "channels")
    }
    return await render(
        request,
        "campaign.html",
        {
            "campaign": detail.campaign,
            "definition": detail.definition,
            "audience": named,
            "progress": progress_of(detail.campaign),
            "preview": preview,
            "problems": [],
        },
    )


def _mover(verb: str) -> Any:
    async def move(request: web.Request) -> web.StreamResponse:
        campaign_id = request.match_info["campaign_id"]
        method = getattr(operations(request), f"{verb}_campaign")
        await method(caller(request), campaign_id)
        return redirect(f"/campaigns/{campaign_id}", done=VERBS[verb])

    move.__name__ = f"{verb}_campaign"
    move.__doc__ = f"{verb.capitalize()} the campaign (its page's button)."
    return require(Action.CAMPAIGNS_SCHEDULE)(move)


schedule_campaign = _mover("schedule")
pause_campaign = _mover("pause")
resume_campaign = _mover("resume")
cancel_campaign = _mover("cancel")
