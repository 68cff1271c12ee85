"""Campaign files: one YAML document in, one :class:`Campaign` out.

A campaign is a broadcast staff send to a chosen audience: an announcement, an
invitation to a survey or a quiz, or an event (with a place, a capacity and a
reminder). Files are validated like survey files (``polls.survey_loader``, whose
machinery this module reuses): every problem is collected, each with the file,
a path such as ``audience.regions[2]``, the YAML line and what to do.

The format, briefly::

    id: ganja_town_hall              # [a-z0-9][a-z0-9_-]{0,39}
    kind: event                      # announcement, survey_invitation, quiz_invitation, event
    name: Ganja town hall, December  # for staff: one line, at most 100 characters
    languages: [az, ru, en]          # the text needs exactly these; others get the first
    text: {az: ..., ru: ..., en: ...}  # the message, at most 1000 characters each
    survey: public_services          # survey_invitation only (and required there)
    quiz: sdg_basics                 # quiz_invitation only (and required there)
    event:                           # event only (and required there)
      starts_at: 2026-12-10T15:00:00+04:00   # with a time zone offset
      ends_at: 2026-12-10T17:00:00+04:00     # optional, after starts_at
      location: {az: ..., ru: ..., en: ...}  # optional, at most 200 characters
      capacity: 120                  # optional: beyond it, a waiting list
      reminder_hours: 24             # optional, 1 to 720
    audience:                        # optional, every part too: empty means everyone
      channels: [telegram, sms]      # default both
      languages: [az, ru]
      regions: [ganja-dashkasan]     # region ids: lowercase, '-' between words
      age_bands: [15_17, 18_24]      # polls.onboarding.AGE_BANDS
      genders: [female]              # polls.onboarding.GENDERS
      tags: [youth_club]
      joined_after: 2026-01-01       # a date (midnight UTC) or a date-time with offset
      joined_before: 2026-11-01
      answered: [youth_priorities]   # completed any of these surveys
      not_answered: [public_services]  # completed none of these
    schedule:                        # optional: absent, sent as soon as it is scheduled
      at: 2026-12-01T10:00:00+04:00  # once; or
      cron: "0 10 * * MON"           # recurring: minute hour day month weekday
      timezone: Asia/Baku            # for cron (default Asia/Baku)
      until: 2027-06-01T00:00:00+04:00  # optional end of a cron schedule
    window: {start: "10:00", end: "20:00"}  # recipients' local hours (these are the defaults)
    drip_hours: 6                    # optional: spread the sends over 0 < N <= 72 hours

Two YAML 1.1 surprises are handled: an unquoted age band such as ``15_17`` is read
by YAML as the number 1517 and accepted as the band; an unquoted time such as
``10:00`` is read as the number 600 and reported (quote it). Cron weekdays must be
names (``MON``, ``MON-FRI``): APScheduler 3 counts weekday numbers from Monday = 0,
crontab from Sunday = 0, so a number would silently pick another day.

``Campaign.raw`` is a JSON-serialisable copy of the validated document (dates and
date-times as ISO-8601 strings); ``parse_campaign(campaign.raw)`` gives an equal
campaign.
"""

from __future__ import annotations

import functools
import os
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from polls.errors import OutreachError
from polls.onboarding import AGE_BANDS, GENDERS, region_value
from polls.survey import LocalizedText, localize
from polls.survey_loader import (
    LANGUAGE_CODE,
    LONG_TEXT_LIMIT,
    SURVEY_ID,
    TITLE_LIMIT,
    DocumentChecker,
    SurveyFileError,
    SurveyProblem,
    closest,
    describe,
    join_path,
    jsonable,
    listing,
    read_file_text,
    read_yaml,
)

__all__ = [
    "Audience",
    "Campaign",
    "CampaignFileError",
    "CampaignKind",
    "Event",
    "Schedule",
    "load_campaign_file",
    "load_campaign_text",
    "parse_campaign",
]

CAMPAIGN_ID = SURVEY_ID
REGION_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
TAG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
CHANNELS = ("telegram", "sms")
AGE_BAND_VALUES = tuple(value for value, _ in AGE_BANDS)
GENDER_VALUES = tuple(value for value, _ in GENDERS)
DEFAULT_TIMEZONE = "Asia/Baku"
DEFAULT_WINDOW_START, DEFAULT_WINDOW_END = time(10), time(20)
NAME_LIMIT, TEXT_LIMIT, LOCATION_LIMIT = TITLE_LIMIT, LONG_TEXT_LIMIT, 200
MAX_REMINDER_HOURS, MAX_DRIP_HOURS = 720, 72

_CAMPAIGN_FIELDS = (
    "id",
    "kind",
    "name",
    "languages",
    "text",
    "survey",
    "quiz",
    "event",
    "audience",
    "schedule",
    "window",
    "drip_hours",
)
_EVENT_FIELDS = ("starts_at", "ends_at", "location", "capacity", "reminder_hours")
_AUDIENCE_FIELDS = (
    "channels",
    "languages",
    "regions",
    "age_bands",
    "genders",
    "tags",
    "joined_after",
    "joined_before",
    "answered",
    "not_answered",
)
_SCHEDULE_FIELDS = ("at", "cron", "timezone", "until")
_WINDOW_FIELDS = ("start", "end")

_ID_RULE = (
    "use 1 to 40 lowercase latin letters, digits, '-' or '_', starting with a letter or digit"
)
_TAG_RULE = (
    "use 1 to 40 lowercase latin letters, digits, '-' or '_', starting with a letter or digit"
)
_REGION_RULE = (
    "region ids are the region's name in lowercase latin letters and digits, "
    "with '-' between words, such as 'ganja-dashkasan'"
)
_LANGUAGE_RULE = "use a two- or three-letter lowercase ISO 639 code such as 'az', 'ru' or 'en'"
_CRON_EXAMPLE = '"0 10 * * MON" (10:00 every Monday)'
_CRON_FORMAT = f"write 5 fields, minute hour day month weekday, for example {_CRON_EXAMPLE}"
# Words staff may write for a value, to suggest the value itself.
_SYNONYMS = {
    "woman": "female",
    "women": "female",
    "f": "female",
    "man": "male",
    "men": "male",
    "m": "male",
    "tg": "telegram",
    "text": "sms",
}
_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})")
MIN_RECURRENCE = timedelta(hours=23)
"""The shortest gap between two firings of a recurring campaign (DST days are 23 h)."""

# A cron expression that fires on no date at all (31 February) has no fire time after this.
_CRON_PROBE_START = datetime(2000, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- the model


class CampaignKind(StrEnum):
    ANNOUNCEMENT = "announcement"
    SURVEY_INVITATION = "survey_invitation"
    QUIZ_INVITATION = "quiz_invitation"
    EVENT = "event"


# The field each kind needs, and no other kind may have.
_KIND_REFERENCES: dict[str, CampaignKind] = {
    "survey": CampaignKind.SURVEY_INVITATION,
    "quiz": CampaignKind.QUIZ_INVITATION,
    "event": CampaignKind.EVENT,
}
_REFERENCE_MISSING = {
    "survey": "name the survey this campaign invites to, by its id (for example "
    "survey: public_services)",
    "quiz": "name the quiz this campaign invites to, by its id (for example quiz: sdg_basics)",
    "event": "add the event: starts_at (with a time zone offset) and, if you wish, ends_at, "
    "location, capacity and reminder_hours",
}


@dataclass(frozen=True)
class Audience:
    """Who receives a campaign: people matching every part given (an empty part: anyone).

    Within a part, any listed value matches (regions [a, b]: people in a or b).
    ``answered``: completed any of these surveys; ``not_answered``: completed none.
    Dates given without a time are midnight UTC.
    """

    channels: tuple[str, ...] = CHANNELS
    languages: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    genders: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    joined_after: datetime | None = None
    joined_before: datetime | None = None
    answered: tuple[str, ...] = ()
    not_answered: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """When a campaign goes out: once ``at`` a moment, or on every ``cron`` time until ``until``."""

    at: datetime | None = None
    cron: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    """The time zone ``cron`` times are read in."""
    until: datetime | None = None

    @property
    def recurring(self) -> bool:
        return self.cron is not None


@dataclass(frozen=True)
class Event:
    starts_at: datetime
    ends_at: datetime | None = None
    location: LocalizedText | None = None
    capacity: int | None = None
    """Beyond this many people going, the others go on a waiting list."""
    reminder_hours: int | None = None
    """Remind those going this many hours before ``starts_at``."""


@dataclass(frozen=True)
class Campaign:
    id: str
    kind: CampaignKind
    name: str
    languages: tuple[str, ...]
    text: LocalizedText
    audience: Audience = field(default_factory=Audience)
    schedule: Schedule | None = None
    """None: send as soon as the campaign is scheduled."""
    window_start: time = DEFAULT_WINDOW_START
    window_end: time = DEFAULT_WINDOW_END
    """Recipients are messaged from window_start until (not at) window_end, their local time."""
    drip_hours: float | None = None
    survey_id: str | None = None
    quiz_id: str | None = None
    event: Event | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The validated source document; ``parse_campaign(raw)`` gives an equal campaign."""

    def text_for(self, language: str) -> str:
        """The message in the recipient's language, else in the first listed language."""
        return localize(self.text, language, self.languages)


class CampaignFileError(OutreachError):
    """A campaign file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[SurveyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


# --------------------------------------------------------------------------- public API


def parse_campaign(
    data: object, *, source: str = "<campaign>", lines: Mapping[str, int] | None = None
) -> Campaign:
    """Validate an already-loaded document (a YAML mapping or ``Campaign.raw``).

    ``lines`` maps paths to YAML line numbers; problems at a path without a line
    get the line of the nearest enclosing path that has one.
    Raises :class:`CampaignFileError` listing every problem.
    """
    return _parse(data, source, lines, [])


def load_campaign_text(text: str, *, source: str) -> Campaign:
    """Parse YAML text into a campaign; ``source`` names it in problems."""
    try:
        data, lines, problems = read_yaml(text, source, what="campaign")
    except SurveyFileError as exc:
        raise CampaignFileError(exc.problems) from exc
    return _parse(data, source, lines, problems)


def load_campaign_file(path: str | os.PathLike[str]) -> Campaign:
    """Read and parse a UTF-8 campaign file."""
    source = os.fspath(path)
    try:
        text = read_file_text(source)
    except SurveyFileError as exc:
        raise CampaignFileError(exc.problems) from exc
    return load_campaign_text(text, source=source)


# --------------------------------------------------------------------------- validation


def _parse(
    data: object, source: str, lines: Mapping[str, int] | None, problems: list[SurveyProblem]
) -> Campaign:
    checker = _CampaignChecker(source, lines, problems)
    campaign = checker.campaign(data)
    if checker.problems or campaign is None:
        raise CampaignFileError(sorted(checker.problems, key=lambda p: p.line or 0))
    return campaign


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


class _CampaignChecker(DocumentChecker):
    def campaign(self, data: object) -> Campaign | None:
        if data is None:
            self.problem("", "the campaign is empty: write its id, kind, name, languages and text")
            return None
        if not isinstance(data, Mapping):
            self.problem(
                "",
                f"the campaign must be a mapping of fields, found {describe(data)}: "
                "write 'id:', 'kind:', 'name:', 'languages:' and 'text:' at the top level",
            )
            return None
        doc: Mapping[object, object] = data
        self.keys(doc, "", _CAMPAIGN_FIELDS)
        self.languages = languages = self.survey_languages(doc)
        campaign_id = self.field(
            doc,
            "id",
            "",
            lambda v, p: self.ident(v, p, CAMPAIGN_ID, "campaign id", _ID_RULE),
            f"add an id such as 'ganja_town_hall' ({_ID_RULE[4:]})",
        )
        kind = self.field(
            doc, "kind", "", self.campaign_kind, f"add a kind, one of {listing(CampaignKind)}"
        )
        name = self.field(
            doc, "name", "", self.name, "add a short name staff will recognise the campaign by"
        )
        text = self.field(
            doc,
            "text",
            "",
            lambda v, p: self.localized(v, p, TEXT_LIMIT),
            "add the message, with a text for each language",
        )
        survey_id, quiz_id, event = self.references(doc, kind)
        audience = self.field(doc, "audience", "", self.audience) or Audience()
        schedule = self.field(doc, "schedule", "", self.schedule)
        window = self.window(doc.get("window"))
        drip_hours = self.field(doc, "drip_hours", "", self.drip_hours)
        if (
            event is not None
            and schedule is not None
            and schedule.at is not None
            and schedule.at >= event.starts_at
        ):
            self.problem(
                "schedule.at",
                f"the invitation would go out at {schedule.at.isoformat()}, when the event "
                f"has already started ({event.starts_at.isoformat()}): send it before the event",
            )
        if (
            self.problems
            or campaign_id is None
            or kind is None
            or name is None
            or languages is None
            or text is None
            or window is None
        ):
            return None
        return Campaign(
            id=campaign_id,
            kind=kind,
            name=name,
            languages=languages,
            text=text,
            audience=audience,
            schedule=schedule,
            window_start=window[0],
            window_end=window[1],
            drip_hours=drip_hours,
            survey_id=survey_id,
            quiz_id=quiz_id,
            event=event,
            raw=self.raw(doc, audience),
        )

    @staticmethod
    def raw(doc: Mapping[object, object], audience: Audience) -> dict[str, Any]:
        """The document as JSON; age bands YAML read as numbers (15_17 as 1517) as text."""
        raw: dict[str, Any] = jsonable(doc)
        if audience.age_bands and isinstance(raw.get("audience"), dict):
            raw["audience"]["age_bands"] = list(audience.age_bands)
        return raw

    def campaign_kind(self, value: object, path: str) -> CampaignKind | None:
        given = self.text(value, path)
        if given is None:
            return None
        try:
            return CampaignKind(given)
        except ValueError:
            pass
        suggestion = closest(given, [kind.value for kind in CampaignKind])
        fix = (
            f"did you mean {suggestion!r}?" if suggestion else f"use one of {listing(CampaignKind)}"
        )
        self.problem(path, f"unknown kind {given!r}: {fix}")
        return None

    def name(self, value: object, path: str) -> str | None:
        given = self.text(value, path)
        if given is None:
            return None
        name = given.strip()
        if not name:
            self.problem(path, "the name is empty: write a short name staff will recognise")
        elif "\n" in name or "\r" in name:
            self.problem(path, "the name has a line break: keep it on one line")
        elif len(name) > NAME_LIMIT:
            self.problem(
                path, f"too long: {len(name)} characters, the limit is {NAME_LIMIT}: shorten it"
            )
        else:
            return name
        return None

    def references(
        self, doc: Mapping[object, object], kind: CampaignKind | None
    ) -> tuple[str | None, str | None, Event | None]:
        """``survey``, ``quiz`` and ``event``: each required by one kind, forbidden for others."""
        needed: dict[str, str] = {}
        for key, owner in _KIND_REFERENCES.items():
            if kind is None:
                needed[key] = ""  # checked if given, not required: the kind is unknown
            elif kind is owner:
                needed[key] = _REFERENCE_MISSING[key]
            elif doc.get(key) is not None:
                self.problem(
                    key,
                    f"{key!r} is only for {owner} campaigns, this one is {kind}: "
                    f"remove it or change the kind to {owner}",
                )
        survey_id = quiz_id = None
        event = None
        if "survey" in needed:
            survey_id = self.field(doc, "survey", "", self.reference, needed["survey"])
        if "quiz" in needed:
            quiz_id = self.field(doc, "quiz", "", self.reference, needed["quiz"])
        if "event" in needed:
            event = self.field(doc, "event", "", self.event, needed["event"])
        return survey_id, quiz_id, event

    def reference(self, value: object, path: str) -> str | None:
        """The id of the survey or quiz (``path``) a campaign invites to."""
        return self.ident(value, path, SURVEY_ID, f"{path} id", _ID_RULE)

    # ---- lists

    def listed(
        self,
        m: Mapping[object, object],
        key: str,
        path: str,
        check: Callable[[object, str], str | None],
        example: str,
    ) -> tuple[str, ...] | None:
        """The checked, distinct items of the list at ``key``; None when absent or unusable."""
        value = m.get(key)
        if value is None:
            return None
        key_path = join_path(path, key)
        items = self.items(value, key_path, example)
        if items is None:
            return None
        if not items:
            self.problem(
                key_path, f"{key} is empty: remove it or list at least one, for example {example}"
            )
            return None
        before = len(self.problems)
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            item_path = f"{key_path}[{index}]"
            checked = check(item, item_path)
            if checked is None:
                continue
            if checked in seen:
                self.problem(
                    item_path,
                    f"{checked!r} is listed twice (also {key}[{seen[checked]}]): remove the repeat",
                )
            else:
                seen[checked] = index
        return tuple(seen) if len(self.problems) == before else None

    def one_of(self, value: object, path: str, allowed: tuple[str, ...], what: str) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 15_17 as the number 1517.
            match = [a for a in allowed if a.replace("_", "") == str(value)]
            if match:
                return match[0]
        given = self.text(value, path)
        if given is None:
            return None
        if given in allowed:
            return given
        suggestion = _SYNONYMS.get(given.strip().casefold()) or closest(given, allowed)
        hint = f"did you mean {suggestion!r}? The" if suggestion in allowed else "the"
        self.problem(path, f"unknown {what} {given!r}: {hint} {what}s are {listing(allowed)}")
        return None

    def region(self, value: object, path: str) -> str | None:
        given = self.text(value, path)
        if given is None:
            return None
        if REGION_ID.fullmatch(given):
            return given
        slug = region_value(given)
        hint = f"did you mean {slug!r}? " if slug and REGION_ID.fullmatch(slug) else ""
        self.problem(path, f"invalid region id {given!r}: {hint}({_REGION_RULE})")
        return None

    # ---- audience

    def audience(self, value: object, path: str) -> Audience | None:
        m = self.mapping(
            value,
            path,
            "an audience (who receives the campaign)",
            "{regions: [ganja-dashkasan], age_bands: [18_24]}",
        )
        if m is None:
            return None
        before = len(self.problems)
        self.keys(m, path, _AUDIENCE_FIELDS)
        channels = self.listed(
            m,
            "channels",
            path,
            lambda v, p: self.one_of(v, p, CHANNELS, "channel"),
            "[telegram, sms]",
        )
        languages = self.listed(
            m,
            "languages",
            path,
            lambda v, p: self.ident(v, p, LANGUAGE_CODE, "language code", _LANGUAGE_RULE),
            "[az, ru]",
        )
        regions = self.listed(m, "regions", path, self.region, "[ganja-dashkasan, baku]")
        age_bands = self.listed(
            m,
            "age_bands",
            path,
            lambda v, p: self.one_of(v, p, AGE_BAND_VALUES, "age band"),
            "[15_17, 18_24]",
        )
        genders = self.listed(
            m,
            "genders",
            path,
            lambda v, p: self.one_of(v, p, GENDER_VALUES, "gender"),
            "[female]",
        )
        tags = self.listed(
            m,
            "tags",
            path,
            lambda v, p: self.ident(v, p, TAG, "tag", _TAG_RULE),
            "[youth_club]",
        )
        surveys: dict[str, tuple[str, ...] | None] = {}
        for key in ("answered", "not_answered"):
            surveys[key] = self.listed(
                m,
                key,
                path,
                lambda v, p: self.ident(v, p, SURVEY_ID, "survey id", _ID_RULE),
                "[youth_priorities]",
            )
        both = set(surveys["answered"] or ()) & set(surveys["not_answered"] or ())
        for index, survey_id in enumerate(surveys["not_answered"] or ()):
            if survey_id in both:
                self.problem(
                    f"{join_path(path, 'not_answered')}[{index}]",
                    f"{survey_id!r} is in both answered and not_answered: "
                    "remove it from one of them",
                )
        after = self.field(m, "joined_after", path, self.day_or_moment)
        before_moment = self.field(m, "joined_before", path, self.day_or_moment)
        if after is not None and before_moment is not None and before_moment <= after:
            self.problem(
                join_path(path, "joined_before"),
                f"joined_before ({before_moment.isoformat()}) is not after joined_after "
                f"({after.isoformat()}): nobody could match, correct one of them",
            )
        if len(self.problems) != before:
            return None
        return Audience(
            channels=channels or CHANNELS,
            languages=languages or (),
            regions=regions or (),
            age_bands=age_bands or (),
            genders=genders or (),
            tags=tags or (),
            joined_after=after,
            joined_before=before_moment,
            answered=surveys["answered"] or (),
            not_answered=surveys["not_answered"] or (),
        )

    def day_or_moment(self, value: object, path: str) -> datetime | None:
        """A date (midnight UTC) or a date and time with a time zone offset."""
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(), tzinfo=UTC)
        if isinstance(value, str) and _BARE_DATE.fullmatch(value.strip()):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError as exc:
                self.problem(path, f"{value.strip()!r} is not a valid date ({exc}): correct it")
                return None
            return datetime.combine(day, time(), tzinfo=UTC)
        return self.moment(value, path)

    # ---- schedule and window

    def schedule(self, value: object, path: str) -> Schedule | None:
        m = self.mapping(
            value,
            path,
            "a schedule",
            f"{{at: 2026-12-01T10:00:00+04:00}} or {{cron: {_CRON_EXAMPLE.split(' (')[0]}}}",
        )
        if m is None:
            return None
        before = len(self.problems)
        self.keys(m, path, _SCHEDULE_FIELDS)
        at = self.field(m, "at", path, self.moment)
        cron_text = self.field(m, "cron", path, self.text)
        zone = self.field(m, "timezone", path, self.zone_name)
        until = self.field(m, "until", path, self.moment)
        has_at, has_cron = m.get("at") is not None, m.get("cron") is not None
        if has_at and has_cron:
            self.problem(
                join_path(path, "cron"),
                "give either at (send once) or cron (send again and again), not both: "
                "remove one of them",
            )
        elif not has_at and not has_cron:
            self.problem(
                path,
                "a schedule needs at (send once, at that time) or cron (send on a recurring "
                "schedule): add one, or remove schedule to send as soon as it is scheduled",
            )
        if not has_cron:
            for key in ("until", "timezone"):
                if m.get(key) is not None:
                    why = (
                        "ends a recurring schedule"
                        if key == "until"
                        else "is the zone cron times are read in (at has its own offset)"
                    )
                    self.problem(join_path(path, key), f"{key} {why}, so it needs cron: remove it")
        cron = None
        if cron_text is not None and not has_at:
            cron = self.cron(cron_text, join_path(path, "cron"), zone or DEFAULT_TIMEZONE)
        if len(self.problems) != before:
            return None
        return Schedule(at=at, cron=cron, timezone=zone or DEFAULT_TIMEZONE, until=until)

    def zone_name(self, value: object, path: str) -> str | None:
        given = self.text(value, path)
        if given is None:
            return None
        name = given.strip()
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return name
        suggestion = closest(name, _zone_names())
        hint = f"did you mean {suggestion!r}? " if suggestion else ""
        self.problem(
            path,
            f"unknown time zone {name!r}: {hint}"
            "(use an IANA time zone name such as Asia/Baku or Asia/Tashkent)",
        )
        return None

    def cron(self, given: str, path: str, zone: str) -> str | None:
        expression = " ".join(given.split())
        fields = expression.split(" ")
        if len(fields) == 5 and any(ch.isdigit() for ch in fields[4]):
            self.problem(
                path,
                f"weekday {fields[4]!r} in {expression!r} is a number: cron dialects number "
                "weekdays differently (APScheduler 3 counts Monday as 0, crontab Sunday), "
                "so write names, such as MON, SAT,SUN or MON-FRI",
            )
            return None
        try:
            trigger = CronTrigger.from_crontab(expression, timezone=zone)
        except ValueError as exc:
            self.problem(path, f"invalid cron expression {expression!r} ({exc}): {_CRON_FORMAT}")
            return None
        first = trigger.get_next_fire_time(None, _CRON_PROBE_START)
        if first is None:
            self.problem(
                path,
                f"{expression!r} matches no date at all (such as 31 February): "
                "correct the day and month",
            )
            return None
        # The same people would get it each time: at most once a day, so nobody is flooded.
        moment = first
        for _ in range(60):
            following = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
            if following is None:
                break
            if following - moment < MIN_RECURRENCE:
                self.problem(
                    path,
                    f"{expression!r} fires more than once a day: a recurring campaign reaches "
                    "the same people each time, so choose one time a day at most "
                    "(for example 0 10 * * * for 10:00 daily)",
                )
                return None
            moment = following
        return expression

    def window(self, value: object) -> tuple[time, time] | None:
        if value is None:
            return DEFAULT_WINDOW_START, DEFAULT_WINDOW_END
        m = self.mapping(value, "window", "a sending window", '{start: "10:00", end: "20:00"}')
        if m is None:
            return None
        self.keys(m, "window", _WINDOW_FIELDS)
        start = self.field(m, "start", "window", self.time_of_day)
        end = self.field(m, "end", "window", self.time_of_day)
        if (m.get("start") is not None and start is None) or (
            m.get("end") is not None and end is None
        ):
            return None
        start = DEFAULT_WINDOW_START if start is None else start
        end = DEFAULT_WINDOW_END if end is None else end
        if end <= start:
            relation = "the same as" if end == start else "before"
            given_end = m.get("end") is not None
            start_note = "" if m.get("start") is not None else ", the default"
            end_note = "" if given_end else ", the default"
            self.problem(
                "window.end" if given_end else "window.start",
                f"the window's end ({end:%H:%M}{end_note}) is {relation} its start "
                f"({start:%H:%M}{start_note}): end must be later the same day, a window cannot "
                'run across midnight; use hours such as start: "10:00" and end: "20:00"',
            )
            return None
        return start, end

    def time_of_day(self, value: object, path: str) -> time | None:
        if isinstance(value, int) and not isinstance(value, bool):
            hours, minutes = divmod(value, 60)
            if 60 <= value < 24 * 60:
                # YAML 1.1 reads an unquoted 10:00 as 600 (base 60).
                self.problem(
                    path,
                    f"expected a time of day, found the number {value} (YAML reads an unquoted "
                    f"{hours}:{minutes:02d} as {value}): put the time in quotes, such as "
                    f'"{hours:02d}:{minutes:02d}"',
                )
            else:
                self.problem(
                    path,
                    f"expected a time of day, found the number {value}: "
                    'write hours and minutes in quotes, such as "10:00"',
                )
            return None
        given = self.text(value, path)
        if given is None:
            return None
        match = _TIME_OF_DAY.fullmatch(given.strip())
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2]))
        self.problem(
            path,
            f"invalid time of day {given!r}: write hours and minutes on the 24-hour clock, "
            'from "00:00" to "23:59", such as "10:00" or "20:30"',
        )
        return None

    def drip_hours(self, value: object, path: str) -> float | None:
        hours = self.number(value, path)
        if hours is None:
            return None
        if not 0 < hours <= MAX_DRIP_HOURS:
            self.problem(
                path,
                f"drip_hours must be more than 0 and at most {MAX_DRIP_HOURS}, found {hours}: "
                "use the number of hours to spread the sends over, or remove it to send at once",
            )
            return None
        return float(hours)

    # ---- event

    def event(self, value: object, path: str) -> Event | None:
        m = self.mapping(
            value,
            path,
            "the event's details",
            "{starts_at: 2026-12-10T15:00:00+04:00, location: {az: ..., ru: ..., en: ...}}",
        )
        if m is None:
            return None
        before = len(self.problems)
        self.keys(m, path, _EVENT_FIELDS)
        starts_at = self.field(
            m,
            "starts_at",
            path,
            self.moment,
            "add when the event starts, with a time zone offset, "
            "for example 2026-12-10T15:00:00+04:00",
        )
        ends_at = self.field(m, "ends_at", path, self.moment)
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            self.problem(
                join_path(path, "ends_at"),
                f"ends_at ({ends_at.isoformat()}) is not after starts_at "
                f"({starts_at.isoformat()}): make the event end after it starts",
            )
        location = self.field(
            m, "location", path, lambda v, p: self.localized(v, p, LOCATION_LIMIT)
        )
        capacity = self.field(
            m,
            "capacity",
            path,
            lambda v, p: self.bounded(
                v, p, 1, None, "how many people can come (beyond it, a waiting list)"
            ),
        )
        reminder_hours = self.field(
            m,
            "reminder_hours",
            path,
            lambda v, p: self.bounded(
                v, p, 1, MAX_REMINDER_HOURS, "how many hours before the start to remind people"
            ),
        )
        if len(self.problems) != before or starts_at is None:
            return None
        return Event(
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
            capacity=capacity,
            reminder_hours=reminder_hours,
        )

    def bounded(
        self, value: object, path: str, low: int, high: int | None, meaning: str
    ) -> int | None:
        number = self.whole(value, path)
        if number is None:
            return None
        if number < low or (high is not None and number > high):
            limits = f"at least {low}" if high is None else f"{low} to {high}"
            key = path.rsplit(".", 1)[-1]
            self.problem(
                path, f"{key} must be {limits}, found {number}: it is {meaning}, {_fix(low, high)}"
            )
            return None
        return number


def _fix(low: int, high: int | None) -> str:
    if high is None:
        return f"use {low} or more, or remove it for no limit"
    return f"use a whole number from {low} to {high}, or remove it"
