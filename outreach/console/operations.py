"""What a signed-in staff member can do, one method each: the API and the pages call these.

Every operation takes the ``Caller`` (who, and from which address), asks
``roles.can`` for its action before anything else, does the work through the
code the command line uses (survey loader and XLSForm converter, catalogue,
``CampaignManager``, ``survey_results``, ``export_survey``, the moderation and
respondent repositories, ``StaffAccounts``) and writes its audit entry in the
same unit of work as the change. Nothing here knows about HTTP: results are
plain dataclasses, failures are the errors below, each with a message a person
can act on (and, for a broken file, every problem with its file, line and field).

Who may see what (``roles``): identities never leave. Free text is shown masked
and without its author; a person is found only by pseudonymous id, and what is
held about them is listed by kind and amount, addresses masked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from outreach.campaigns.manage import (
    CampaignManager,
    CampaignNotFound,
    CampaignStateError,
    Preview,
)
from outreach.console.accounts import (
    TOKEN_NAME_PATTERN,
    ApiTokenInfo,
    NewApiToken,
    SignedInStaff,
    StaffAccountError,
    StaffAccounts,
    StaffMember,
)
from outreach.console.export_jobs import ExportJob, ExportJobs, ExportNotFound, ExportNotReady
from outreach.console.passwords import WeakPasswordError
from outreach.console.roles import Action, UnknownRoleError, actions_for, can
from outreach.exports import ExportFormat, ExportOptions, UnknownSurveyError, plan_export
from outreach.settings import Settings
from outreach.survey_catalogue import SurveyCatalogue
from outreach.survey_results import (
    SurveyResults,
    TextResults,
    UnknownSurvey,
    survey_results,
    text_results,
)
from polls.analysis import Figure, MarginsFileError, display, parse_margins, suppress_counts
from polls.campaign import Campaign, CampaignFileError, CampaignKind, load_campaign_text
from polls.campaign import parse_campaign as parse_campaign_document
from polls.errors import OutreachError
from polls.pseudonym import pseudonymous_id
from polls.redaction import mask_personal
from polls.results import MIN_GROUP
from polls.survey import Survey
from polls.survey_loader import SurveyFileError, SurveyProblem, load_survey_text
from polls.text_analysis import ThemeFileError, load_themes
from polls.xlsform import XlsFormError, convert_xlsform
from storage.analysis import DIMENSIONS
from storage.audit import AuditLog, AuditRecord
from storage.campaigns import CampaignLocked, StoredCampaign
from storage.challenges import ChallengeError, ChallengeRepository
from storage.database import Database
from storage.moderation import (
    APPROVED,
    PENDING,
    REJECTED,
    ModerationError,
    ModerationRepository,
    TextAnswerRepository,
    TextForModeration,
)
from storage.respondent_overview import (
    HeldAbout,
    PeopleCounts,
    held_about,
    people_counts,
    respondent_ids,
)
from storage.respondents import RespondentRepository
from storage.surveys import StoredSurvey, SurveyRepository, SurveyVersionInfo

T = TypeVar("T")

MAX_PAGE = 500
DEFAULT_PAGE = 50
MAX_IDS = 200
"""Answers or ideas moderated in one request (their ids go into one audit entry)."""
MAX_K = 100
PSEUDONYM = re.compile(r"[0-9a-f]{16}")
SCAN_PAGE = 20_000
XLSFORM_SUFFIXES = (".xlsx", ".xls")
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
ERASE_SCOPES = ("identity", "everything")
MODERATION_STATES = (PENDING, APPROVED, REJECTED)


# --------------------------------------------------------------------------- callers, errors


@dataclass(frozen=True)
class Caller:
    """Who asks (the signed-in staff member) and from where (for the audit log)."""

    staff: SignedInStaff
    ip: str | None = None

    @property
    def account_id(self) -> int:
        return self.staff.account_id

    @property
    def username(self) -> str:
        return self.staff.username


class OperationError(OutreachError):
    """An operation that cannot be done as asked; the message says why and what to do."""


class NotAllowed(OperationError):
    def __init__(self, role: str, action: Action) -> None:
        super().__init__(f"The {role} role may not do this ({action.value}).")
        self.action = action


class NotFound(OperationError):
    pass


class Conflict(OperationError):
    """The request is valid but does not fit where things stand (e.g. resume a cancelled one)."""


class Invalid(OperationError):
    """The request or the file it carries is wrong; ``problems`` lists everything to fix."""

    def __init__(
        self,
        message: str,
        problems: Sequence[SurveyProblem] = (),
        notices: Sequence[SurveyProblem] = (),
    ) -> None:
        super().__init__(message)
        self.problems = list(problems)
        self.notices = list(notices)


@dataclass(frozen=True)
class Page(Generic[T]):
    """Part of a long list; ``next`` holds the query for the next part (None: the last)."""

    items: list[T]
    total: int | None = None
    next: dict[str, str] | None = None


def _window(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit is {limit}: ask for 1 to {MAX_PAGE} items at a time")
    if offset < 0:
        raise Invalid("offset cannot be negative")


def _page(items: Sequence[T], limit: int, offset: int) -> Page[T]:
    _window(limit, offset)
    part = list(items[offset : offset + limit])
    more = offset + limit < len(items)
    following = {"offset": str(offset + limit), "limit": str(limit)} if more else None
    return Page(part, len(items), following)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SurveySummary:
    id: str
    version: int
    title: dict[str, str]
    languages: list[str]
    questions: int
    goals: list[int]
    opens_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    """When staff closed it (None: not closed by staff)."""
    status: str
    """open; closed (by staff); scheduled (opens_at to come); ended (closes_at passed)."""
    show_results: bool


@dataclass(frozen=True)
class SurveyDetail:
    survey: SurveySummary
    definition: dict[str, Any]
    versions: list[SurveyVersionInfo]


@dataclass(frozen=True)
class SurveyUpload:
    survey: SurveySummary | None
    """None when only validated (``dry_run``)."""
    survey_id: str
    version: int | None
    created: bool
    """A new version was stored (False: this content is the latest version already)."""
    format: str
    notices: list[SurveyProblem]
    """What an XLSForm import set aside (the survey works without it)."""


@dataclass(frozen=True)
class CampaignSummary:
    id: str
    kind: str
    name: str
    status: str
    created_at: datetime
    updated_at: datetime
    counts: dict[str, int]
    """Messages by status: pending, sending, sent, delivered, failed, skipped, unknown."""


@dataclass(frozen=True)
class CampaignDetail:
    campaign: CampaignSummary
    definition: dict[str, Any]


@dataclass(frozen=True)
class CampaignCreated:
    campaign: CampaignSummary
    created: bool
    """False: an existing draft was replaced."""


@dataclass(frozen=True)
class CampaignProgress:
    id: str
    status: str
    counts: dict[str, int]
    total: int
    done: int
    """Messages no longer waiting (sent, delivered, failed, skipped, unknown)."""
    skipped_now: int | None = None
    """Cancelling: the messages this cancel kept from leaving."""


@dataclass(frozen=True)
class TextResultsReport:
    survey_id: str
    k: int
    dimensions: tuple[str, ...]
    texts: list[TextResults]


@dataclass(frozen=True)
class PublishedCount:
    """A count as it leaves for staff (as ``outreach results --json`` writes a figure): a count
    under k people, or one hidden so that such a count cannot be worked out, has no number,
    only its text (``<5``, or ``x``)."""

    count: int | None
    text: str

    @property
    def shown(self) -> bool:
        return self.count is not None


@dataclass(frozen=True)
class PeopleFigures:
    """People who consented and did not erase themselves, by channel, region and language,
    with every count that could single someone out hidden (``published_people_counts``)."""

    k: int
    total: PublishedCount
    by_channel: dict[str, PublishedCount]
    """People reachable on each channel: someone on both counts in each."""
    by_region: dict[str, PublishedCount]
    by_language: dict[str, PublishedCount]
    opted_out: PublishedCount
    """People who said STOP on every channel they have."""


def _published(figure: Figure) -> PublishedCount:
    return PublishedCount(figure.count if figure.shown else None, figure.text)


def _hidden(count: int, k: int) -> PublishedCount:
    return PublishedCount(None, display(count, False, k))


def published_people_counts(counts: PeopleCounts, *, k: int = MIN_GROUP) -> PeopleFigures:
    """The people counts as staff may see them, each table through ``suppress_counts``.

    Regions and languages each divide everyone, so both add up to the total: the total is
    shown only where neither table needs it hidden (it would undo the hiding in the other).
    Channels overlap (a person can be on both) and leave out those not reachable, so their
    sum is not a figure anyone sees, yet where most people are on one channel the total
    gives it away: a hidden channel hides them all.
    """
    regions = suppress_counts(counts.by_region, k=k)
    languages = suppress_counts(counts.by_language, k=k)
    total = _published(suppress_counts({"all": counts.total}, k=k).total)
    if total.shown and not (regions.total.shown and languages.total.shown):
        total = _hidden(counts.total, k)
    channels = suppress_counts(counts.by_channel, k=k)
    by_channel = {name: _published(figure) for name, figure in channels.cells.items()}
    if any(not figure.shown for figure in by_channel.values()):
        by_channel = {name: _hidden(counts.by_channel[name], k) for name in by_channel}
    return PeopleFigures(
        k=k,
        total=total,
        by_channel=by_channel,
        by_region={name: _published(figure) for name, figure in regions.cells.items()},
        by_language={name: _published(figure) for name, figure in languages.cells.items()},
        opted_out=_published(suppress_counts({"opted_out": counts.opted_out}, k=k).total),
    )


@dataclass(frozen=True)
class RespondentFound:
    pseudonymous_id: str
    held: HeldAbout


@dataclass(frozen=True)
class Erased:
    pseudonymous_id: str
    scope: str
    at: datetime


@dataclass(frozen=True)
class IdeaForModeration:
    """An idea as moderators read it: by number, contact details masked, no author."""

    idea_id: int
    challenge_id: str
    status: str
    created_at: datetime
    votes: int
    masked_text: str


@dataclass(frozen=True)
class Moderated:
    status: str
    ids: list[int]


@dataclass(frozen=True)
class Me:
    username: str
    display_name: str | None
    role: str
    actions: list[str]
    via_token: bool


@dataclass(frozen=True)
class ErasureTarget:
    respondent_id: int
    pseudonymous_id: str


# --------------------------------------------------------------------------- helpers


def survey_status(survey: Survey, closed_at: datetime | None, now: datetime) -> str:
    if closed_at is not None:
        return "closed"
    if survey.opens_at is not None and now < survey.opens_at:
        return "scheduled"
    if survey.closes_at is not None and now >= survey.closes_at:
        return "ended"
    return "open"


def _summary(stored: StoredSurvey, closed_at: datetime | None, now: datetime) -> SurveySummary:
    survey = stored.survey
    return SurveySummary(
        id=survey.id,
        version=stored.version,
        title=dict(survey.title),
        languages=list(survey.languages),
        questions=len(survey.questions),
        goals=list(survey.goals),
        opens_at=survey.opens_at,
        closes_at=survey.closes_at,
        closed_at=closed_at,
        status=survey_status(survey, closed_at, now),
        show_results=survey.show_results,
    )


def _campaign_summary(stored: StoredCampaign, counts: dict[str, int]) -> CampaignSummary:
    campaign = stored.campaign
    return CampaignSummary(
        id=campaign.id,
        kind=campaign.kind.value,
        name=campaign.name,
        status=stored.status,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        counts=counts,
    )


def _progress(
    campaign_id: str, status: str, counts: dict[str, int], skipped_now: int | None = None
) -> CampaignProgress:
    total = sum(counts.values())
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    return CampaignProgress(campaign_id, status, counts, total, total - waiting, skipped_now)


def _upload_name(filename: str | None, default: str) -> str:
    """The uploaded file's own name (no folders), to name it in problems."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())[:120]
    return name or default


def _decode_text(content: bytes, source: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        byte = content[exc.start]
        problem = SurveyProblem(
            source,
            "",
            f"the file is not UTF-8 text (byte 0x{byte:02x} at offset {exc.start}): "
            "save it with UTF-8 encoding",
            line,
        )
        raise Invalid(f"1 problem in {source}", [problem]) from exc


def _is_xlsform(name: str, content: bytes) -> bool:
    return name.lower().endswith(XLSFORM_SUFFIXES) or content.startswith(_WORKBOOK_MAGIC)


def _ids(values: Sequence[int], noun: str) -> list[int]:
    ids = sorted(set(values))
    if not ids:
        raise Invalid(f"name at least one {noun} by its number")
    if len(ids) > MAX_IDS:
        raise Invalid(f"{len(ids)} {noun}s at once: moderate at most {MAX_IDS} in one request")
    return ids


def _days(days: int) -> int:
    if not 1 <= days <= 365:
        raise Invalid(f"mute for 1 to 365 days, not {days}")
    return days


def _id_page(after: int) -> Callable[[Session], list[int]]:
    return lambda session: respondent_ids(session, after_id=after, limit=SCAN_PAGE)


def _matching(secret: str, ids: Sequence[int], code: str) -> int | None:
    """The respondent id among ``ids`` whose pseudonymous id is ``code``."""
    return next((i for i in ids if pseudonymous_id(secret, i) == code), None)


def _no_survey(survey_id: str) -> NotFound:
    return NotFound(f"no survey {survey_id!r}: upload it first (see the list of surveys)")


def problem_count(problems: Sequence[SurveyProblem], source: str) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {source}"


# --------------------------------------------------------------------------- operations


class ConsoleOperations:
    """The staff console's operations over the running service's parts."""

    def __init__(
        self,
        *,
        db: Database,
        catalogue: SurveyCatalogue,
        accounts: StaffAccounts,
        settings: Settings,
        pseudonym_secret: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.accounts = accounts
        self.settings = settings
        self.pseudonym_secret = pseudonym_secret
        self.clock = clock
        self.campaigns = CampaignManager(
            db,
            zone=settings.timezone,
            segment_price=settings.sms_segment_price,
            currency=settings.sms_price_currency,
            transliterate=settings.sms_transliterate,
        )
        self.exports = ExportJobs(db, settings.exports_dir, secret=pseudonym_secret, clock=clock)

    async def close(self) -> None:
        """Stop what runs in the background (exports)."""
        await self.exports.close()

    @staticmethod
    def allow(caller: Caller, action: Action) -> None:
        """NotAllowed unless the caller's role may do ``action``."""
        if not can(caller.staff.role, action):
            raise NotAllowed(caller.staff.role, action)

    def _audit(
        self,
        session: Session,
        caller: Caller,
        action: str,
        target: tuple[str, str | int] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        AuditLog(session, clock=self.clock).record(
            actor=caller, action=action, target=target, details=details, ip=caller.ip
        )

    # ------------------------------------------------------------------ me

    async def me(self, caller: Caller) -> Me:
        self.allow(caller, Action.ACCOUNT_SELF)
        staff = caller.staff
        return Me(
            staff.username,
            staff.display_name,
            staff.role,
            sorted(action.value for action in actions_for(staff.role)),
            staff.via_token,
        )

    # ------------------------------------------------------------------ surveys

    async def list_surveys(
        self, caller: Caller, *, limit: int = DEFAULT_PAGE, offset: int = 0
    ) -> Page[SurveySummary]:
        self.allow(caller, Action.SURVEYS_READ)
        _window(limit, offset)
        now = self.clock()

        def read(session: Session) -> list[SurveySummary]:
            closed = SurveyRepository(session).closures()
            return [
                _summary(stored, closed.get(stored.survey.id), now)
                for stored in self.catalogue.all_latest(session)
            ]

        return _page(await self.db.read(read), limit, offset)

    async def get_survey(self, caller: Caller, survey_id: str) -> SurveyDetail:
        self.allow(caller, Action.SURVEYS_READ)
        now = self.clock()

        def read(session: Session) -> SurveyDetail:
            stored = self.catalogue.latest(session, survey_id)
            if stored is None:
                raise _no_survey(survey_id)
            repository = SurveyRepository(session)
            closed_at = repository.closures().get(survey_id)
            return SurveyDetail(
                _summary(stored, closed_at, now),
                dict(stored.survey.raw),
                repository.versions(survey_id=survey_id),
            )

        return await self.db.read(read)

    async def upload_survey(
        self,
        caller: Caller,
        *,
        filename: str | None,
        content: bytes,
        survey_id: str | None = None,
        languages: Sequence[str] | None = None,
        dry_run: bool = False,
    ) -> SurveyUpload:
        """Validate a YAML survey file or an XLSForm and store it as the survey's next version.

        ``survey_id`` and ``languages`` are for XLSForms (as ``outreach surveys
        import-xlsform --id --languages``). Invalid lists every problem; Conflict
        if the content is an older version (stored versions never change).
        """
        self.allow(caller, Action.SURVEYS_UPLOAD)
        if not content.strip():
            raise Invalid("the file is empty: upload a survey YAML file or an XLSForm (.xlsx)")
        notices: list[SurveyProblem] = []
        if _is_xlsform(filename or "", content):
            source = _upload_name(filename, "upload.xlsx")
            kind = "xlsform"
            try:
                conversion = await asyncio.to_thread(
                    convert_xlsform,
                    content,
                    survey_id=survey_id or None,
                    languages=list(languages) if languages else None,
                    source=source,
                )
            except XlsFormError as error:
                raise Invalid(
                    problem_count(error.problems, source), error.problems, error.notices
                ) from None
            survey = conversion.survey
            notices = list(conversion.notices)
        else:
            source = _upload_name(filename, "upload.yaml")
            kind = "yaml"
            text = _decode_text(content, source)
            try:
                survey = await asyncio.to_thread(load_survey_text, text, source=source)
            except SurveyFileError as error:
                raise Invalid(problem_count(error.problems, source), error.problems) from None
        if dry_run:
            return SurveyUpload(None, survey.id, None, False, kind, notices)
        now = self.clock()

        def store(session: Session) -> SurveyUpload:
            repository = SurveyRepository(session)
            same = repository.version_of(survey_id=survey.id, content_hash=survey.content_hash)
            latest = self.catalogue.latest(session, survey.id)
            if same is not None and latest is not None and same != latest.version:
                raise Conflict(
                    f"{source} is version {same} of {survey.id}, and version {latest.version} "
                    "is the latest; stored versions never change: to go back to it, upload it "
                    "with a change (a word of its intro, say)"
                )
            version, created = repository.save_version(survey=survey, source=f"upload:{source}")
            if created:
                self._audit(
                    session,
                    caller,
                    "surveys.upload",
                    ("survey", survey.id),
                    {"version": version, "format": kind, "questions": len(survey.questions)},
                )
            stored = self.catalogue.latest(session, survey.id)
            assert stored is not None
            closed_at = repository.closures().get(survey.id)
            return SurveyUpload(
                _summary(stored, closed_at, now), survey.id, version, created, kind, notices
            )

        return await self.db.write(store)

    async def _set_closed(self, caller: Caller, survey_id: str, *, closed: bool) -> SurveySummary:
        self.allow(caller, Action.SURVEYS_CLOSE)
        now = self.clock()

        def change(session: Session) -> SurveySummary:
            stored = self.catalogue.latest(session, survey_id)
            if stored is None:
                raise _no_survey(survey_id)
            repository = SurveyRepository(session)
            if closed:
                changed = repository.close(survey_id=survey_id, now=now)
            else:
                changed = repository.reopen(survey_id=survey_id)
            if changed:
                self._audit(
                    session,
                    caller,
                    "surveys.close" if closed else "surveys.reopen",
                    ("survey", survey_id),
                )
            return _summary(stored, repository.closures().get(survey_id), now)

        return await self.db.write(change)

    async def close_survey(self, caller: Caller, survey_id: str) -> SurveySummary:
        """Nobody may begin the survey or go on answering it (their place is kept)."""
        return await self._set_closed(caller, survey_id, closed=True)

    async def reopen_survey(self, caller: Caller, survey_id: str) -> SurveySummary:
        """Lift a staff closure (the file's own opens_at and closes_at still apply)."""
        return await self._set_closed(caller, survey_id, closed=False)

    # ------------------------------------------------------------------ campaigns

    async def list_campaigns(
        self, caller: Caller, *, limit: int = DEFAULT_PAGE, offset: int = 0
    ) -> Page[CampaignSummary]:
        self.allow(caller, Action.CAMPAIGNS_READ)
        _window(limit, offset)
        rows = await self.campaigns.list()
        return _page([_campaign_summary(stored, counts) for stored, counts in rows], limit, offset)

    async def get_campaign(self, caller: Caller, campaign_id: str) -> CampaignDetail:
        self.allow(caller, Action.CAMPAIGNS_READ)
        stored, counts = await self._campaign_call(self.campaigns.status(campaign_id))
        return CampaignDetail(_campaign_summary(stored, counts), dict(stored.campaign.raw))

    async def campaign_progress(self, caller: Caller, campaign_id: str) -> CampaignProgress:
        self.allow(caller, Action.CAMPAIGNS_READ)
        stored, counts = await self._campaign_call(self.campaigns.status(campaign_id))
        return _progress(campaign_id, stored.status, counts)

    async def _parse_campaign(
        self, *, yaml_text: str | None, document: Mapping[str, Any] | None, source: str
    ) -> Campaign:
        try:
            if yaml_text is not None:
                campaign = load_campaign_text(yaml_text, source=source)
            else:
                campaign = parse_campaign_document(dict(document or {}), source=source)
        except CampaignFileError as error:
            raise Invalid(problem_count(error.problems, source), error.problems) from None
        if campaign.kind is CampaignKind.SURVEY_INVITATION and campaign.survey_id:
            survey_id = campaign.survey_id
            known = await self.db.read(lambda s: self.catalogue.latest(s, survey_id))
            if known is None:
                problem = SurveyProblem(
                    source,
                    "survey",
                    f"there is no survey {survey_id!r}: upload it first, or name one of the "
                    "surveys in the list of surveys",
                )
                raise Invalid(problem_count([problem], source), [problem])
        return campaign

    async def create_campaign(
        self,
        caller: Caller,
        *,
        yaml_text: str | None = None,
        document: Mapping[str, Any] | None = None,
        source: str = "<request>",
    ) -> CampaignCreated:
        """Store a campaign (YAML text, or the same document as JSON) as a draft, or
        replace a draft of the same id."""
        self.allow(caller, Action.CAMPAIGNS_CREATE)
        campaign = await self._parse_campaign(yaml_text=yaml_text, document=document, source=source)
        try:
            created = await self.campaigns.store(campaign, actor=caller, ip=caller.ip)
        except CampaignLocked as error:
            raise Conflict(str(error)) from None
        stored, counts = await self.campaigns.status(campaign.id)
        return CampaignCreated(_campaign_summary(stored, counts), created)

    async def preview_campaign(self, caller: Caller, campaign_id: str) -> Preview:
        """Audience per channel and language, each message as sent, SMS segments and cost."""
        self.allow(caller, Action.CAMPAIGNS_CREATE)
        return await self._campaign_call(self.campaigns.preview(campaign_id))

    async def preview_draft(
        self,
        caller: Caller,
        *,
        yaml_text: str | None = None,
        document: Mapping[str, Any] | None = None,
        source: str = "<request>",
    ) -> Preview:
        """``preview_campaign`` of a campaign being composed, without storing it."""
        self.allow(caller, Action.CAMPAIGNS_CREATE)
        campaign = await self._parse_campaign(yaml_text=yaml_text, document=document, source=source)
        return await self.campaigns.preview_campaign(campaign)

    @staticmethod
    async def _campaign_call(call: Awaitable[T]) -> T:
        try:
            return await call
        except CampaignNotFound as error:
            raise NotFound(str(error)) from None
        except CampaignStateError as error:
            raise Conflict(str(error)) from None

    async def _move(self, caller: Caller, campaign_id: str, verb: str) -> CampaignProgress:
        self.allow(caller, Action.CAMPAIGNS_SCHEDULE)
        method = getattr(self.campaigns, verb)
        skipped = await self._campaign_call(method(campaign_id, actor=caller, ip=caller.ip))
        stored, counts = await self.campaigns.status(campaign_id)
        return _progress(campaign_id, stored.status, counts, skipped if verb == "cancel" else None)

    async def schedule_campaign(self, caller: Caller, campaign_id: str) -> CampaignProgress:
        """Let it go: now, at its time, or on its cron times."""
        return await self._move(caller, campaign_id, "schedule")

    async def pause_campaign(self, caller: Caller, campaign_id: str) -> CampaignProgress:
        return await self._move(caller, campaign_id, "pause")

    async def resume_campaign(self, caller: Caller, campaign_id: str) -> CampaignProgress:
        return await self._move(caller, campaign_id, "resume")

    async def cancel_campaign(self, caller: Caller, campaign_id: str) -> CampaignProgress:
        """Stop it for good; the messages not yet sent are skipped."""
        return await self._move(caller, campaign_id, "cancel")

    # ------------------------------------------------------------------ results

    def _k(self, k: int) -> int:
        if not MIN_GROUP <= k <= MAX_K:
            raise Invalid(
                f"k is {k}: counts under k people are hidden, and k may be "
                f"{MIN_GROUP} to {MAX_K} (never less than {MIN_GROUP})"
            )
        return k

    @staticmethod
    def _dimensions(by: Sequence[str]) -> tuple[str, ...]:
        names = tuple(name.strip() for name in by if name.strip())
        unknown = [name for name in names if name not in DIMENSIONS]
        if unknown or len(names) > 2 or len(set(names)) != len(names):
            raise Invalid(
                f"give one or two of {', '.join(DIMENSIONS)} separated by a comma, "
                "for example by=region,age_band"
            )
        return names

    def _language(self, language: str) -> str:
        if language not in self.settings.languages:
            raise Invalid(
                f"{language!r} is not a language of this service: "
                f"use one of {', '.join(self.settings.languages)}"
            )
        return language

    async def results(
        self,
        caller: Caller,
        survey_id: str,
        *,
        by: Sequence[str] = (),
        k: int = MIN_GROUP,
        language: str = "en",
        margins_csv: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> SurveyResults:
        """Counts, shares with intervals, breakdowns by up to two dimensions, optionally
        weighted to population margins (CSV: dimension,category,share); counts under k hidden."""
        self.allow(caller, Action.RESULTS_READ)
        dimensions = self._dimensions(by)
        margins = None
        if margins_csv is not None:
            try:
                margins = parse_margins(margins_csv, source="margins")
            except MarginsFileError as error:
                raise Invalid(problem_count(error.problems, "margins"), error.problems) from None
        window = None
        if since is not None or until is not None:
            window = (since or datetime(2000, 1, 1, tzinfo=UTC), until or self.clock())
        try:
            return await survey_results(
                self.db,
                survey_id,
                dimensions=dimensions,
                k=self._k(k),
                margins=margins,
                language=self._language(language),
                regions=self.settings.regions,
                window=window,
            )
        except UnknownSurvey as error:
            raise NotFound(str(error)) from None

    async def text_results(
        self,
        caller: Caller,
        survey_id: str,
        *,
        by: Sequence[str] = (),
        k: int = MIN_GROUP,
        language: str = "en",
        themes: bool = False,
    ) -> TextResultsReport:
        """Top terms, phrases (and themes) of approved free text; none that fewer than k
        answers share."""
        self.allow(caller, Action.RESULTS_TEXT)
        dimensions = self._dimensions(by)
        dictionary = None
        if themes:
            path = self.settings.themes_file
            if not await asyncio.to_thread(path.is_file):
                raise Invalid(f"there is no theme dictionary at {path}: set THEMES_FILE")
            try:
                dictionary = await asyncio.to_thread(load_themes, path)
            except ThemeFileError as error:
                raise Invalid(problem_count(error.problems, str(path)), error.problems) from None
        try:
            found = await text_results(
                self.db,
                survey_id,
                dimensions=dimensions,
                themes=dictionary,
                k=self._k(k),
                language=self._language(language),
            )
        except UnknownSurvey as error:
            raise NotFound(str(error)) from None
        return TextResultsReport(survey_id, k, dimensions, found)

    # ------------------------------------------------------------------ exports

    async def start_export(
        self,
        caller: Caller,
        *,
        survey_id: str,
        export_format: str,
        language: str = "en",
        include_unmoderated_text: bool = False,
    ) -> ExportJob:
        """Write every answer of the survey to a file in EXPORTS_DIR, in the background.

        Pseudonymous ids only; free text only once approved, unless the caller may
        also read the moderation queue and asks for unmoderated text (masked).
        """
        self.allow(caller, Action.EXPORTS_CREATE)
        if include_unmoderated_text:
            self.allow(caller, Action.MODERATION_READ)
        try:
            chosen = ExportFormat(export_format)
        except ValueError:
            raise Invalid(
                f"{export_format!r} is not an export format: use one of "
                f"{', '.join(f.value for f in ExportFormat)}"
            ) from None
        options = ExportOptions(
            include_unmoderated_text=include_unmoderated_text, language=self._language(language)
        )
        try:
            plan = await plan_export(self.db, survey_id)
        except UnknownSurveyError as error:
            raise NotFound(str(error)) from None
        export_id = self.exports.new_id(survey_id)

        def record(session: Session) -> None:
            self._audit(
                session,
                caller,
                "exports.create",
                ("export", export_id),
                {
                    "survey": survey_id,
                    "format": chosen.value,
                    "rows": plan[1].count,
                    "language": options.language,
                    "unmoderated_text": include_unmoderated_text,
                },
            )

        await self.db.write(record)
        return await self.exports.start(
            export_id=export_id,
            survey_id=survey_id,
            export_format=chosen,
            options=options,
            requested_by=caller.username,
            plan=plan,
        )

    async def list_exports(
        self, caller: Caller, *, limit: int = DEFAULT_PAGE, offset: int = 0
    ) -> Page[ExportJob]:
        self.allow(caller, Action.EXPORTS_CREATE)
        _window(limit, offset)
        return _page(await self.exports.all(), limit, offset)

    async def get_export(self, caller: Caller, export_id: str) -> ExportJob:
        self.allow(caller, Action.EXPORTS_CREATE)
        try:
            return await self.exports.get(export_id)
        except ExportNotFound as error:
            raise NotFound(str(error)) from None

    async def export_file(self, caller: Caller, export_id: str) -> tuple[ExportJob, Path]:
        """A finished export's file, to download; the download is written to the audit log."""
        self.allow(caller, Action.EXPORTS_CREATE)
        try:
            job, path = await self.exports.file(export_id)
        except ExportNotFound as error:
            raise NotFound(str(error)) from None
        except ExportNotReady as error:
            raise Conflict(str(error)) from None
        await self.db.write(
            lambda s: self._audit(
                s, caller, "exports.download", ("export", export_id), {"survey": job.survey_id}
            )
        )
        return job, path

    # ------------------------------------------------------------------ respondents

    async def people_counts(self, caller: Caller) -> PeopleFigures:
        """People who consented, by channel, region and language: counts only, small ones hidden."""
        self.allow(caller, Action.RESPONDENTS_COUNT)
        return published_people_counts(await self.db.read(people_counts))

    async def _erasure_target(self, pseudonym: str) -> ErasureTarget:
        code = pseudonym.strip().lower()
        if not PSEUDONYM.fullmatch(code):
            raise Invalid(
                f"{pseudonym!r} is not a participant code: it is 16 characters of 0-9 and a-f, "
                "as the person sees it with /mydata"
            )
        after = 0
        while True:
            ids = await self.db.read(_id_page(after))
            if not ids:
                raise NotFound(f"nobody has the participant code {code}")
            found = await asyncio.to_thread(_matching, self.pseudonym_secret, ids, code)
            if found is not None:
                return ErasureTarget(found, code)
            after = ids[-1]

    async def find_respondent(self, caller: Caller, pseudonym: str) -> RespondentFound:
        """What is held about the person with this participant code (for an erasure request)."""
        self.allow(caller, Action.RESPONDENTS_FIND)
        target = await self._erasure_target(pseudonym)

        def read(session: Session) -> HeldAbout:
            held = held_about(session, respondent_id=target.respondent_id)
            if held is None:
                raise NotFound(f"nobody has the participant code {target.pseudonymous_id}")
            self._audit(session, caller, "respondents.find", ("respondent", target.pseudonymous_id))
            return held

        return RespondentFound(target.pseudonymous_id, await self.db.write(read))

    async def erase_respondent(self, caller: Caller, pseudonym: str, *, scope: str) -> Erased:
        """Erase a person as they could themselves with /forget.

        ``identity``: their channel addresses and free text go, their other answers
        stay as anonymous statistics; ``everything``: the person and all they answered.
        """
        self.allow(caller, Action.RESPONDENTS_ERASE)
        if scope not in ERASE_SCOPES:
            raise Invalid(f"erase {' or '.join(ERASE_SCOPES)}, not {scope!r}")
        target = await self._erasure_target(pseudonym)
        now = self.clock()

        def erase(session: Session) -> Erased:
            repository = RespondentRepository(session)
            if repository.get(respondent_id=target.respondent_id) is None:
                raise NotFound(f"nobody has the participant code {target.pseudonymous_id}")
            if scope == "identity":
                repository.erase_identity(respondent_id=target.respondent_id, now=now)
            else:
                repository.delete(respondent_id=target.respondent_id)
            self._audit(
                session,
                caller,
                "respondents.erase",
                ("respondent", target.pseudonymous_id),
                {"scope": scope},
            )
            return Erased(target.pseudonymous_id, scope, now)

        return await self.db.write(erase)

    # ------------------------------------------------------------------ moderation: free text

    async def list_texts(
        self,
        caller: Caller,
        survey_id: str,
        *,
        status: str | None = PENDING,
        question_id: str | None = None,
        limit: int = DEFAULT_PAGE,
        offset: int = 0,
    ) -> Page[TextForModeration]:
        """A survey's free-text answers, oldest first, masked, without their author."""
        self.allow(caller, Action.MODERATION_READ)
        _window(limit, offset)
        if status is not None and status not in MODERATION_STATES:
            raise Invalid(f"status is one of {', '.join(MODERATION_STATES)}, not {status!r}")

        def read(session: Session) -> Page[TextForModeration]:
            repository = TextAnswerRepository(session)
            try:
                if question_id is not None:
                    repository.check_question(survey_id=survey_id, question_id=question_id)
                listing = repository.for_moderation(
                    survey_id=survey_id,
                    status=status,
                    question_id=question_id,
                    limit=limit,
                    offset=offset,
                )
            except ModerationError as error:
                raise NotFound(str(error)) from None
            more = offset + limit < listing.total
            return Page(
                listing.answers,
                listing.total,
                {"offset": str(offset + limit), "limit": str(limit)} if more else None,
            )

        return await self.db.read(read)

    async def moderate_texts(
        self, caller: Caller, answer_ids: Sequence[int], *, status: str
    ) -> Moderated:
        """Approve (the text may then appear, masked, in exports) or reject answers."""
        self.allow(caller, Action.MODERATION_ACT)
        if status not in (APPROVED, REJECTED):
            raise Invalid(f"answers are approved or rejected, not {status!r}")
        ids = _ids(answer_ids, "answer")

        def change(session: Session) -> Moderated:
            try:
                TextAnswerRepository(session).set_status(answer_ids=ids, status=status)
            except ModerationError as error:
                raise Conflict(str(error)) from None
            verb = "approve" if status == APPROVED else "reject"
            self._audit(session, caller, f"texts.{verb}", None, {"answer_ids": ids})
            return Moderated(status, ids)

        return await self.db.write(change)

    async def mute_text_author(self, caller: Caller, answer_id: int, *, days: int = 7) -> Moderated:
        """Reject the answer; its author may send no ideas or nicknames for ``days``."""
        self.allow(caller, Action.MODERATION_ACT)
        until = self.clock() + timedelta(days=_days(days))

        def change(session: Session) -> Moderated:
            answers = TextAnswerRepository(session)
            try:
                author = answers.author_of(answer_id=answer_id)
            except ModerationError as error:
                raise NotFound(str(error)) from None
            answers.set_status(answer_ids=[answer_id], status=REJECTED)
            ModerationRepository(session).mute(respondent_id=author, until=until)
            self._audit(session, caller, "texts.mute", ("answer", answer_id), {"days": days})
            return Moderated(REJECTED, [answer_id])

        return await self.db.write(change)

    async def ban_text_author(self, caller: Caller, answer_id: int) -> Moderated:
        """Ban the answer's author: all their free text and ideas rejected, off leaderboards."""
        self.allow(caller, Action.MODERATION_ACT)
        now = self.clock()

        def change(session: Session) -> Moderated:
            try:
                author = TextAnswerRepository(session).author_of(answer_id=answer_id)
            except ModerationError as error:
                raise NotFound(str(error)) from None
            ModerationRepository(session).ban(respondent_id=author, now=now)
            self._audit(session, caller, "texts.ban", ("answer", answer_id))
            return Moderated(REJECTED, [answer_id])

        return await self.db.write(change)

    # ------------------------------------------------------------------ moderation: ideas

    async def list_ideas(
        self,
        caller: Caller,
        *,
        challenge_id: str | None = None,
        status: str | None = PENDING,
        limit: int = DEFAULT_PAGE,
        offset: int = 0,
    ) -> Page[IdeaForModeration]:
        """Ideas sent to challenges, by number, masked, without their author."""
        self.allow(caller, Action.MODERATION_READ)
        _window(limit, offset)
        if status is not None and status not in MODERATION_STATES:
            raise Invalid(f"status is one of {', '.join(MODERATION_STATES)}, not {status!r}")

        def read(session: Session) -> list[IdeaForModeration]:
            repository = ChallengeRepository(session)
            if challenge_id is not None:
                if repository.get(challenge_id) is None:
                    raise NotFound(f"no challenge {challenge_id!r}: see outreach challenge list")
                challenges = [challenge_id]
            else:
                challenges = [stored.challenge.id for stored in repository.all()]
            return [
                IdeaForModeration(
                    idea.id,
                    idea.challenge_id,
                    idea.status,
                    idea.created_at,
                    idea.votes,
                    mask_personal(idea.text),
                )
                for cid in challenges
                for idea in repository.ideas(cid, status=status)
            ]

        return _page(await self.db.read(read), limit, offset)

    async def moderate_ideas(
        self, caller: Caller, idea_ids: Sequence[int], *, status: str
    ) -> Moderated:
        """Approve ideas (they go to the vote, without their author) or reject them."""
        self.allow(caller, Action.MODERATION_ACT)
        if status not in (APPROVED, REJECTED):
            raise Invalid(f"ideas are approved or rejected, not {status!r}")
        ids = _ids(idea_ids, "idea")
        now = self.clock()

        def change(session: Session) -> Moderated:
            repository = ChallengeRepository(session)
            missing = [idea_id for idea_id in ids if repository.idea(idea_id) is None]
            if missing:
                raise Invalid(
                    f"no idea {', '.join(map(str, missing))}: nothing was changed "
                    "(see the list of ideas)"
                )
            for idea_id in ids:
                repository.moderate(idea_id=idea_id, status=status, now=now)
            verb = "approve" if status == APPROVED else "reject"
            self._audit(session, caller, f"ideas.{verb}", None, {"idea_ids": ids})
            return Moderated(status, ids)

        return await self.db.write(change)

    async def mute_idea_author(self, caller: Caller, idea_id: int, *, days: int = 7) -> Moderated:
        """Reject the idea; its author may send no ideas or nicknames for ``days``."""
        self.allow(caller, Action.MODERATION_ACT)
        now = self.clock()
        until = now + timedelta(days=_days(days))

        def change(session: Session) -> Moderated:
            challenges = ChallengeRepository(session)
            try:
                author = challenges.author_of(idea_id=idea_id)
            except ChallengeError:
                raise NotFound(f"no idea {idea_id} (see the list of ideas)") from None
            challenges.moderate(idea_id=idea_id, status=REJECTED, now=now)
            ModerationRepository(session).mute(respondent_id=author, until=until)
            self._audit(session, caller, "ideas.mute", ("idea", idea_id), {"days": days})
            return Moderated(REJECTED, [idea_id])

        return await self.db.write(change)

    async def ban_idea_author(self, caller: Caller, idea_id: int) -> Moderated:
        """Ban the idea's author: all their ideas and free text rejected, off leaderboards."""
        self.allow(caller, Action.MODERATION_ACT)
        now = self.clock()

        def change(session: Session) -> Moderated:
            try:
                author = ChallengeRepository(session).author_of(idea_id=idea_id)
            except ChallengeError:
                raise NotFound(f"no idea {idea_id} (see the list of ideas)") from None
            ModerationRepository(session).ban(respondent_id=author, now=now)
            self._audit(session, caller, "ideas.ban", ("idea", idea_id))
            return Moderated(REJECTED, [idea_id])

        return await self.db.write(change)

    # ------------------------------------------------------------------ staff accounts

    async def list_staff(
        self, caller: Caller, *, limit: int = DEFAULT_PAGE, offset: int = 0
    ) -> Page[StaffMember]:
        self.allow(caller, Action.STAFF_MANAGE)
        _window(limit, offset)
        return _page(await self.accounts.list_accounts(), limit, offset)

    async def get_staff(self, caller: Caller, username: str) -> StaffMember:
        self.allow(caller, Action.STAFF_MANAGE)
        try:
            return await self.accounts.get_account(username=username)
        except StaffAccountError as error:
            raise NotFound(str(error)) from None

    async def create_staff(
        self,
        caller: Caller,
        *,
        username: str,
        password: str,
        role: str,
        display_name: str | None = None,
    ) -> StaffMember:
        self.allow(caller, Action.STAFF_MANAGE)
        try:
            await self.accounts.get_account(username=username)
        except StaffAccountError:
            pass
        else:
            raise Conflict(f"There is already an account {username.strip().lower()}.")
        try:
            return await self.accounts.create_account(
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                actor=caller,
                ip=caller.ip,
            )
        except (StaffAccountError, WeakPasswordError, UnknownRoleError) as error:
            raise Invalid(str(error)) from None

    async def update_staff(
        self,
        caller: Caller,
        username: str,
        *,
        role: str | None = None,
        active: bool | None = None,
    ) -> StaffMember:
        """Change an account's role (it applies at its next request) or disable/enable it."""
        self.allow(caller, Action.STAFF_MANAGE)
        member = await self.get_staff(caller, username)
        try:
            if role is not None:
                member = await self.accounts.set_role(
                    username=username, role=role, actor=caller, ip=caller.ip
                )
            if active is not None:
                member = await self.accounts.set_active(
                    username=username, active=active, actor=caller, ip=caller.ip
                )
        except UnknownRoleError as error:
            raise Invalid(str(error)) from None
        except StaffAccountError as error:
            raise Conflict(str(error)) from None
        return member

    async def set_staff_password(self, caller: Caller, username: str, *, password: str) -> None:
        """A new password: ends the account's sessions and lifts a lockout."""
        self.allow(caller, Action.STAFF_MANAGE)
        await self.get_staff(caller, username)
        try:
            await self.accounts.set_password(
                username=username, password=password, actor=caller, ip=caller.ip
            )
        except WeakPasswordError as error:
            raise Invalid(str(error)) from None

    async def list_tokens(self, caller: Caller, username: str) -> list[ApiTokenInfo]:
        self.allow(caller, Action.STAFF_MANAGE)
        await self.get_staff(caller, username)
        return await self.accounts.list_api_tokens(username=username)

    async def create_token(self, caller: Caller, username: str, *, name: str) -> NewApiToken:
        """An API token acting as ``username``; its text is in the answer this once only."""
        self.allow(caller, Action.STAFF_MANAGE)
        await self.get_staff(caller, username)
        if not TOKEN_NAME_PATTERN.fullmatch(" ".join(name.split())):
            raise Invalid(
                "Name a token with up to 80 letters, digits, spaces, '.', ':', '_' or '-' "
                "(what script uses it: 'nightly export')."
            )
        try:
            return await self.accounts.create_api_token(
                username=username, name=name, actor=caller, ip=caller.ip
            )
        except StaffAccountError as error:
            raise Conflict(str(error)) from None

    async def revoke_token(self, caller: Caller, username: str, *, name: str) -> ApiTokenInfo:
        self.allow(caller, Action.STAFF_MANAGE)
        await self.get_staff(caller, username)
        try:
            return await self.accounts.revoke_api_token(
                username=username, name=name, actor=caller, ip=caller.ip
            )
        except StaffAccountError as error:
            raise NotFound(str(error)) from None

    async def audit_log(
        self,
        caller: Caller,
        *,
        limit: int = DEFAULT_PAGE,
        before: int | None = None,
        action: str | None = None,
        target: tuple[str, str] | None = None,
    ) -> Page[AuditRecord]:
        """The newest entries first; ``before`` (an entry id) pages further back."""
        self.allow(caller, Action.AUDIT_READ)
        _window(limit, 0)
        entries = await self.db.read(
            lambda s: AuditLog(s).latest(
                limit=limit + 1, action=action, target=target, before_id=before
            )
        )
        more = len(entries) > limit
        entries = entries[:limit]
        following = {"before": str(entries[-1].id), "limit": str(limit)} if more else None
        return Page(entries, None, following)


__all__ = [
    "Caller",
    "Conflict",
    "ConsoleOperations",
    "Invalid",
    "NotAllowed",
    "NotFound",
    "OperationError",
    "Page",
]
