"""Campaign files: valid ones become campaigns, broken ones list every problem."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.triggers.cron import CronTrigger

from polls.campaign import (
    Audience,
    Campaign,
    CampaignFileError,
    CampaignKind,
    Event,
    Schedule,
    load_campaign_file,
    load_campaign_text,
    parse_campaign,
)
from polls.sms_text import sms_cost
from polls.survey_loader import SurveyProblem, load_survey_file

REPO = Path(__file__).resolve().parent.parent
BAKU = timezone(timedelta(hours=4))

VALID_YAML = """\
id: ganja_town_hall
kind: event
name: "  Ganja town hall, December  "
languages: [az, ru, en]
text:
  az: Gəncədə ictimai görüş, 10 dekabr saat 15:00.
  ru: Встреча с жителями Гянджи, 10 декабря в 15:00.
  en: Town hall in Ganja, 10 December at 15:00.
event:
  starts_at: 2026-12-10T15:00:00+04:00
  ends_at: "2026-12-10T17:00:00+04:00"
  location: {az: Gənclər Evi, ru: Дом молодежи, en: Youth House}
  capacity: 120
  reminder_hours: 24
audience:
  channels: [sms]
  languages: [az, ru]
  regions: [ganja-dashkasan, gazakh-tovuz, baku]
  age_bands: [15_17, "18_24", 65_plus]
  genders: [female]
  tags: [youth_club]
  joined_after: 2026-01-01
  joined_before: 2026-11-01T12:00:00+04:00
  answered: [youth_priorities]
  not_answered: [public_services]
schedule:
  at: 2026-12-01T10:00:00+04:00
window:
  start: "09:30"
  end: "19:00"
drip_hours: 6
"""

TEXT = {
    "az": "Gəncədə ictimai görüş, 10 dekabr saat 15:00.",
    "ru": "Встреча с жителями Гянджи, 10 декабря в 15:00.",
    "en": "Town hall in Ganja, 10 December at 15:00.",
}

EXPECTED = Campaign(
    id="ganja_town_hall",
    kind=CampaignKind.EVENT,
    name="Ganja town hall, December",
    languages=("az", "ru", "en"),
    text=TEXT,
    audience=Audience(
        channels=("sms",),
        languages=("az", "ru"),
        regions=("ganja-dashkasan", "gazakh-tovuz", "baku"),
        age_bands=("15_17", "18_24", "65_plus"),
        genders=("female",),
        tags=("youth_club",),
        joined_after=datetime(2026, 1, 1, tzinfo=UTC),
        joined_before=datetime(2026, 11, 1, 12, tzinfo=BAKU),
        answered=("youth_priorities",),
        not_answered=("public_services",),
    ),
    schedule=Schedule(at=datetime(2026, 12, 1, 10, tzinfo=BAKU)),
    window_start=time(9, 30),
    window_end=time(19),
    drip_hours=6.0,
    event=Event(
        starts_at=datetime(2026, 12, 10, 15, tzinfo=BAKU),
        ends_at=datetime(2026, 12, 10, 17, tzinfo=BAKU),
        location={"az": "Gənclər Evi", "ru": "Дом молодежи", "en": "Youth House"},
        capacity=120,
        reminder_hours=24,
    ),
)


def problems_in(text: str, source: str = "campaign.yaml") -> list[SurveyProblem]:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign_text(text, source=source)
    return caught.value.problems


def base() -> dict[str, Any]:
    """The valid document as YAML reads it, to break one thing at a time."""
    doc: dict[str, Any] = yaml.safe_load(VALID_YAML)
    return doc


def minimal(kind: str, **fields: object) -> dict[str, Any]:
    return {
        "id": "c1",
        "kind": kind,
        "name": "Test",
        "languages": ["az", "en"],
        "text": {"az": "Salam", "en": "Hello"},
        **fields,
    }


# --------------------------------------------------------------------------- valid files


def test_valid_event_campaign_parses_to_the_expected_dataclasses() -> None:
    campaign = load_campaign_text(VALID_YAML, source="ganja.yaml")

    assert campaign == EXPECTED
    assert campaign.audience.joined_after is not None
    assert campaign.audience.joined_after.utcoffset() == timedelta(0)
    assert campaign.schedule is not None and not campaign.schedule.recurring
    assert campaign.schedule.timezone == "Asia/Baku"


def test_defaults_apply_when_optional_fields_are_left_out() -> None:
    campaign = parse_campaign(minimal("announcement"))

    assert campaign.audience == Audience()
    assert campaign.audience.channels == ("telegram", "sms")
    assert (campaign.window_start, campaign.window_end) == (time(10), time(20))
    assert campaign.schedule is None
    assert campaign.drip_hours is None
    assert (campaign.survey_id, campaign.quiz_id, campaign.event) == (None, None, None)


def test_an_empty_audience_means_everyone() -> None:
    campaign = parse_campaign(minimal("announcement", audience={}, window={}))

    assert campaign.audience == Audience()
    assert (campaign.window_start, campaign.window_end) == (time(10), time(20))


def test_recurring_schedule() -> None:
    campaign = parse_campaign(
        minimal(
            "announcement",
            schedule={
                "cron": "0  10 * *   MON-FRI",
                "timezone": "Asia/Tashkent",
                "until": "2027-06-01T00:00:00+04:00",
            },
        )
    )

    assert campaign.schedule == Schedule(
        cron="0 10 * * MON-FRI",
        timezone="Asia/Tashkent",
        until=datetime(2027, 6, 1, tzinfo=BAKU),
    )
    assert campaign.schedule.recurring


def test_cron_without_timezone_uses_baku() -> None:
    campaign = parse_campaign(minimal("announcement", schedule={"cron": "30 9 1 * *"}))

    assert campaign.schedule == Schedule(cron="30 9 1 * *", timezone="Asia/Baku")


@pytest.mark.parametrize(
    ("kind", "fields", "attribute", "value"),
    [
        ("announcement", {}, "kind", CampaignKind.ANNOUNCEMENT),
        ("survey_invitation", {"survey": "public_services"}, "survey_id", "public_services"),
        ("quiz_invitation", {"quiz": "sdg_basics"}, "quiz_id", "sdg_basics"),
        (
            "event",
            {"event": {"starts_at": "2026-12-10T15:00:00+04:00"}},
            "event",
            Event(starts_at=datetime(2026, 12, 10, 15, tzinfo=BAKU)),
        ),
    ],
    ids=["announcement", "survey_invitation", "quiz_invitation", "event"],
)
def test_each_kind_with_its_field(
    kind: str, fields: dict[str, object], attribute: str, value: object
) -> None:
    campaign = parse_campaign(minimal(kind, **fields))

    assert campaign.kind == kind
    assert getattr(campaign, attribute) == value


@pytest.mark.parametrize(
    ("kind", "field"),
    [("survey_invitation", "survey"), ("quiz_invitation", "quiz"), ("event", "event")],
)
def test_each_kind_requires_its_field(kind: str, field: str) -> None:
    with pytest.raises(CampaignFileError) as caught:
        parse_campaign(minimal(kind))

    [problem] = caught.value.problems
    assert problem.path == field
    assert problem.message.startswith(f"missing {field}: ")


OTHER_FIELDS = {
    "survey": "public_services",
    "quiz": "sdg_basics",
    "event": {"starts_at": "2026-12-10T15:00:00+04:00"},
}
OWNERS = {"survey": "survey_invitation", "quiz": "quiz_invitation", "event": "event"}


@pytest.mark.parametrize(
    ("kind", "field"),
    [(kind, field) for kind in CampaignKind for field in OWNERS if OWNERS[field] != kind],
    ids=[f"{kind}-{field}" for kind in CampaignKind for field in OWNERS if OWNERS[field] != kind],
)
def test_other_kinds_fields_are_forbidden(kind: CampaignKind, field: str) -> None:
    own = {f: OTHER_FIELDS[f] for f, owner in OWNERS.items() if owner == kind}
    doc = minimal(kind.value, **own, **{field: OTHER_FIELDS[field]})

    with pytest.raises(CampaignFileError) as caught:
        parse_campaign(doc)

    [problem] = caught.value.problems
    assert problem.path == field
    assert f"only for {OWNERS[field]} campaigns, this one is {kind.value}" in problem.message


def test_unquoted_age_bands_read_by_yaml_as_numbers_are_accepted() -> None:
    # YAML 1.1 reads 15_17 as the number 1517.
    assert yaml.safe_load("[15_17, 18_24]") == [1517, 1824]

    campaign = load_campaign_text(VALID_YAML, source="x.yaml")

    assert campaign.audience.age_bands == ("15_17", "18_24", "65_plus")
    assert campaign.raw["audience"]["age_bands"] == ["15_17", "18_24", "65_plus"]


def test_text_for_falls_back_to_the_first_listed_language() -> None:
    campaign = load_campaign_text(VALID_YAML, source="x.yaml")
    russian_first = parse_campaign({**campaign.raw, "languages": ["ru", "az", "en"]})

    assert campaign.text_for("ru") == TEXT["ru"]
    assert campaign.text_for("en") == TEXT["en"]
    assert campaign.text_for("kk") == TEXT["az"]
    assert russian_first.text_for("kk") == TEXT["ru"]


def test_raw_round_trips_to_an_equal_campaign() -> None:
    campaign = load_campaign_text(VALID_YAML, source="x.yaml")

    stored = json.dumps(campaign.raw, ensure_ascii=False)
    again = parse_campaign(json.loads(stored))

    assert again == campaign
    assert again.raw == campaign.raw
    assert campaign.raw["event"]["starts_at"] == "2026-12-10T15:00:00+04:00"
    assert campaign.raw["audience"]["joined_after"] == "2026-01-01"


def test_raw_round_trip_of_a_recurring_survey_invitation() -> None:
    campaign = parse_campaign(
        minimal(
            "survey_invitation",
            survey="youth_priorities",
            schedule={"cron": "0 10 * * SAT", "until": datetime(2027, 1, 1, tzinfo=UTC)},
            audience={"joined_after": datetime(2026, 2, 1, 9, tzinfo=BAKU)},
        )
    )

    again = parse_campaign(json.loads(json.dumps(campaign.raw)))

    assert again == campaign
    assert again.audience.joined_after == datetime(2026, 2, 1, 9, tzinfo=BAKU)


def test_the_campaign_is_immutable() -> None:
    campaign = parse_campaign(minimal("announcement", audience={"regions": ["baku"]}))

    assert isinstance(campaign.audience.regions, tuple)
    with pytest.raises(AttributeError):
        campaign.name = "Other"  # type: ignore[misc]


# --------------------------------------------------------------------------- broken files

Edit = Callable[[dict[str, Any]], object]


def cron(expression: str) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        doc["schedule"] = {"cron": expression}

    return edit


def apscheduler_error(expression: str) -> str:
    try:
        CronTrigger.from_crontab(expression, timezone="Asia/Baku")
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{expression!r} is valid")


BROKEN: list[tuple[str, Edit, str, str]] = [
    (
        "missing-ru-text",
        lambda d: d["text"].pop("ru"),
        "text.ru",
        "missing Russian (ru) text: add a 'ru' entry",
    ),
    (
        "text-in-an-unlisted-language",
        lambda d: d["text"].update(tr="Merhaba"),
        "text.tr",
        "'tr' is not in languages",
    ),
    (
        "text-too-long",
        lambda d: d["text"].update(en="x" * 1001),
        "text.en",
        "too long: 1001 characters, the limit is 1000",
    ),
    (
        "unknown-nested-key-with-suggestion",
        lambda d: d["audience"].update(region=["baku"]),
        "audience.region",
        "unknown field 'region': did you mean 'regions'?",
    ),
    (
        "unknown-top-key-with-suggestion",
        lambda d: d.update(drip_hour=2),
        "drip_hour",
        "did you mean 'drip_hours'?",
    ),
    (
        "unknown-event-key",
        lambda d: d["event"].update(venue="Hall"),
        "event.venue",
        "unknown field 'venue': remove it (fields allowed here: starts_at, ends_at,",
    ),
    (
        "bad-cron-value",
        cron("0 25 * * MON"),
        "schedule.cron",
        apscheduler_error("0 25 * * MON"),
    ),
    (
        "cron-with-four-fields",
        cron("0 10 * *"),
        "schedule.cron",
        apscheduler_error("0 10 * *"),
    ),
    (
        "cron-bad-weekday-name",
        cron("0 10 * * MOON"),
        "schedule.cron",
        "write 5 fields, minute hour day month weekday",
    ),
    (
        "cron-weekday-number",
        cron("0 10 * * 1"),
        "schedule.cron",
        "write names, such as MON",
    ),
    (
        "cron-that-never-fires",
        cron("0 10 30 2 *"),
        "schedule.cron",
        "matches no date at all",
    ),
    (
        "at-and-cron",
        lambda d: d["schedule"].update(cron="0 10 * * MON"),
        "schedule.cron",
        "give either at (send once) or cron (send again and again), not both",
    ),
    (
        "until-without-cron",
        lambda d: d["schedule"].update(until="2027-01-01T00:00:00+04:00"),
        "schedule.until",
        "until ends a recurring schedule, so it needs cron",
    ),
    (
        "timezone-without-cron",
        lambda d: d["schedule"].update(timezone="Asia/Baku"),
        "schedule.timezone",
        "so it needs cron",
    ),
    (
        "schedule-with-neither-at-nor-cron",
        lambda d: d.update(schedule={}),
        "schedule",
        "a schedule needs at (send once, at that time) or cron",
    ),
    (
        "bad-timezone",
        lambda d: d.update(schedule={"cron": "0 10 * * MON", "timezone": "Asia/Bakuu"}),
        "schedule.timezone",
        "unknown time zone 'Asia/Bakuu': did you mean 'Asia/Baku'?",
    ),
    (
        "naive-datetime",
        lambda d: d["event"].update(starts_at=datetime(2026, 12, 10, 15)),
        "event.starts_at",
        "2026-12-10T15:00:00 has no time zone: add a time zone offset",
    ),
    (
        "date-without-time-for-a-moment",
        lambda d: d["schedule"].update(at="2026-12-01"),
        "schedule.at",
        "a date without a time (2026-12-01)",
    ),
    (
        "invitation-after-the-event-starts",
        lambda d: d["schedule"].update(at="2026-12-10T16:00:00+04:00"),
        "schedule.at",
        "when the event has already started",
    ),
    (
        "window-end-before-start",
        lambda d: d["window"].update(start="22:00", end="08:00"),
        "window.end",
        "the window's end (08:00) is before its start (22:00): end must be later the same "
        "day, a window cannot run across midnight",
    ),
    (
        "window-end-equal-to-start",
        lambda d: d["window"].update(start="10:00", end="10:00"),
        "window.end",
        "is the same as its start",
    ),
    (
        "window-end-before-default-start",
        lambda d: d.update(window={"end": "09:00"}),
        "window.end",
        "before its start (10:00, the default)",
    ),
    (
        "window-start-after-default-end",
        lambda d: d.update(window={"start": "21:00"}),
        "window.start",
        "the window's end (20:00, the default) is before its start (21:00)",
    ),
    (
        "window-time-read-as-sexagesimal",
        lambda d: d["window"].update(start=600),
        "window.start",
        'YAML reads an unquoted 10:00 as 600): put the time in quotes, such as "10:00"',
    ),
    (
        "window-time-out-of-range",
        lambda d: d["window"].update(end="24:00"),
        "window.end",
        "invalid time of day '24:00'",
    ),
    (
        "bad-age-band",
        lambda d: d["audience"].update(age_bands=["15_17", "18-24"]),
        "audience.age_bands[1]",
        "unknown age band '18-24': did you mean '18_24'? The age bands are under_15, "
        "15_17, 18_24, 25_34, 35_49, 50_64, 65_plus",
    ),
    (
        "bad-gender-synonym",
        lambda d: d["audience"].update(genders=["women"]),
        "audience.genders[0]",
        "did you mean 'female'? The genders are female, male, other, prefer_not_to_say",
    ),
    (
        "bad-channel",
        lambda d: d["audience"].update(channels=["whatsapp"]),
        "audience.channels[0]",
        "unknown channel 'whatsapp': the channels are telegram, sms",
    ),
    (
        "region-written-as-a-name",
        lambda d: d["audience"].update(regions=["baku", "Ganja-Dashkasan", "x"]),
        "audience.regions[1]",
        "invalid region id 'Ganja-Dashkasan': did you mean 'ganja-dashkasan'?",
    ),
    (
        "empty-list",
        lambda d: d["audience"].update(tags=[]),
        "audience.tags",
        "tags is empty: remove it or list at least one",
    ),
    (
        "repeated-list-item",
        lambda d: d["audience"].update(regions=["baku", "karabakh", "baku"]),
        "audience.regions[2]",
        "'baku' is listed twice (also regions[0]): remove the repeat",
    ),
    (
        "list-that-is-text",
        lambda d: d["audience"].update(languages="az"),
        "audience.languages",
        "expected a list, found 'az'",
    ),
    (
        "survey-both-answered-and-not",
        lambda d: d["audience"].update(not_answered=["youth_priorities"]),
        "audience.not_answered[0]",
        "'youth_priorities' is in both answered and not_answered",
    ),
    (
        "joined-before-not-after-joined-after",
        lambda d: d["audience"].update(joined_before="2025-12-31"),
        "audience.joined_before",
        "nobody could match",
    ),
    (
        "impossible-joined-date",
        lambda d: d["audience"].update(joined_after="2026-02-30"),
        "audience.joined_after",
        "'2026-02-30' is not a valid date",
    ),
    (
        "capacity-zero",
        lambda d: d["event"].update(capacity=0),
        "event.capacity",
        "capacity must be at least 1, found 0",
    ),
    (
        "capacity-not-a-number",
        lambda d: d["event"].update(capacity="many"),
        "event.capacity",
        "expected a whole number, found 'many'",
    ),
    (
        "reminder-too-far-ahead",
        lambda d: d["event"].update(reminder_hours=721),
        "event.reminder_hours",
        "reminder_hours must be 1 to 720, found 721",
    ),
    (
        "event-ends-before-it-starts",
        lambda d: d["event"].update(ends_at="2026-12-10T14:00:00+04:00"),
        "event.ends_at",
        "make the event end after it starts",
    ),
    (
        "location-too-long",
        lambda d: d["event"]["location"].update(en="x" * 201),
        "event.location.en",
        "the limit is 200",
    ),
    (
        "event-missing-start",
        lambda d: d["event"].pop("starts_at"),
        "event.starts_at",
        "missing starts_at: add when the event starts",
    ),
    (
        "drip-zero",
        lambda d: d.update(drip_hours=0),
        "drip_hours",
        "drip_hours must be more than 0 and at most 72, found 0",
    ),
    (
        "drip-too-long",
        lambda d: d.update(drip_hours=72.5),
        "drip_hours",
        "at most 72, found 72.5",
    ),
    (
        "unknown-kind-with-suggestion",
        lambda d: d.update(kind="survey_invite"),
        "kind",
        "unknown kind 'survey_invite': did you mean 'survey_invitation'?",
    ),
    (
        "bad-id",
        lambda d: d.update(id="Ganja Town Hall"),
        "id",
        "invalid campaign id 'Ganja Town Hall'",
    ),
    (
        "bad-survey-id",
        lambda d: d.update(kind="survey_invitation", event=None, survey="Public Services"),
        "survey",
        "invalid survey id 'Public Services'",
    ),
    (
        "name-too-long",
        lambda d: d.update(name="x" * 101),
        "name",
        "too long: 101 characters, the limit is 100",
    ),
    (
        "name-on-two-lines",
        lambda d: d.update(name="Town hall\nin Ganja"),
        "name",
        "keep it on one line",
    ),
    (
        "missing-languages",
        lambda d: d.pop("languages"),
        "languages",
        "missing languages: list the languages",
    ),
]


@pytest.mark.parametrize(
    ("edit", "path", "fragment"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_broken_document_reports_where_and_what(edit: Edit, path: str, fragment: str) -> None:
    doc = base()
    edit(doc)

    with pytest.raises(CampaignFileError) as caught:
        parse_campaign(doc, source="broken.yaml")

    found = [p for p in caught.value.problems if p.path == path]
    assert found, [str(p) for p in caught.value.problems]
    assert any(fragment in p.message for p in found), [p.message for p in found]
    assert all(p.file == "broken.yaml" for p in caught.value.problems)


def test_the_base_document_is_valid() -> None:
    assert parse_campaign(base()) == EXPECTED


def test_every_message_says_what_to_do() -> None:
    for _, edit, _, _ in BROKEN:
        doc = base()
        edit(doc)
        with pytest.raises(CampaignFileError) as caught:
            parse_campaign(doc)
        for problem in caught.value.problems:
            assert ": " in problem.message, problem.message
            assert problem.message[0].islower() or problem.message[0] in "'0123456789", problem


def test_bad_cron_reports_apschedulers_own_words() -> None:
    doc = minimal("announcement", schedule={"cron": "61 10 * * MON"})

    with pytest.raises(CampaignFileError) as caught:
        parse_campaign(doc)

    [problem] = caught.value.problems
    assert problem.path == "schedule.cron"
    assert "the last value (61) is higher than the maximum value (59)" in problem.message


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = VALID_YAML.replace("kind: event", "kind: evnt").replace('end: "19:00"', 'end: "08:00"')
    text = text.replace("capacity: 120", "capacity: -5")

    problems = problems_in(text)

    assert [p.path for p in problems] == ["kind", "event.capacity", "window.end"]
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


@pytest.mark.parametrize(
    "data", [["id: x"], "just text", 42, None], ids=["list", "string", "number", "empty"]
)
def test_root_that_is_not_a_mapping_is_rejected(data: object) -> None:
    with pytest.raises(CampaignFileError) as caught:
        parse_campaign(data)

    [problem] = caught.value.problems
    assert problem.path == ""
    assert "the campaign" in problem.message and "write" in problem.message


def test_the_document_is_not_changed_by_parsing() -> None:
    doc = base()
    before = copy.deepcopy(doc)

    parse_campaign(doc)

    assert doc == before


# --------------------------------------------------------------------------- YAML lines and files


def test_problem_names_the_file_the_path_and_the_line() -> None:
    text = VALID_YAML.replace(
        "regions: [ganja-dashkasan, gazakh-tovuz, baku]",
        "regions:\n    - ganja-dashkasan\n    - gazakh-tovuz\n    - Baku",
    )

    [problem] = problems_in(text, source="campaigns/ganja.yaml")

    line = text.splitlines().index("    - Baku") + 1
    assert (problem.file, problem.path, problem.line) == (
        "campaigns/ganja.yaml",
        "audience.regions[2]",
        line,
    )
    assert str(problem).startswith(f"campaigns/ganja.yaml:{line}: audience.regions[2]: ")
    assert "did you mean 'baku'?" in problem.message


def test_line_of_an_unknown_key() -> None:
    text = VALID_YAML.replace("  reminder_hours: 24", "  reminder_hours: 24\n  capasity: 3")

    [problem] = problems_in(text)

    assert problem.line == text.splitlines().index("  capasity: 3") + 1
    assert problem.message == "unknown field 'capasity': did you mean 'capacity'?"


def test_unquoted_naive_time_in_yaml() -> None:
    text = VALID_YAML.replace(
        "starts_at: 2026-12-10T15:00:00+04:00", "starts_at: 2026-12-10 15:00:00"
    )

    [problem] = problems_in(text)

    assert problem.path == "event.starts_at"
    assert problem.line == text.splitlines().index("  starts_at: 2026-12-10 15:00:00") + 1
    assert "has no time zone" in problem.message


def test_repeated_key_is_reported() -> None:
    text = VALID_YAML + "drip_hours: 3\n"

    [problem] = problems_in(text)

    assert problem.path == "drip_hours"
    assert "given twice" in problem.message


def test_yaml_syntax_error_speaks_of_campaigns() -> None:
    [problem] = problems_in(VALID_YAML + "---\nid: second\n")

    assert problem.line == len(VALID_YAML.splitlines()) + 1
    assert "keep one campaign per file" in problem.message


def test_lines_given_to_parse_campaign_fall_back_to_the_nearest_known_path() -> None:
    doc = base()
    doc["event"]["capacity"] = 0

    with pytest.raises(CampaignFileError) as caught:
        parse_campaign(doc, source="<stored>", lines={"": 1, "event": 9})

    [problem] = caught.value.problems
    assert (problem.file, problem.path, problem.line) == ("<stored>", "event.capacity", 9)


def test_campaign_file_error_survives_pickling() -> None:
    error = CampaignFileError([SurveyProblem("a.yaml", "kind", "bad: fix it", 2)])

    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert again.problems == error.problems
    assert str(again) == "a.yaml:2: kind: bad: fix it"


def test_load_campaign_file_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ganja.yaml"
    path.write_text(VALID_YAML, encoding="utf-8")

    assert load_campaign_file(path) == EXPECTED


@pytest.mark.parametrize("name", ["missing.yaml", "."], ids=["missing", "directory"])
def test_unreadable_file_names_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name

    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(path)

    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert "cannot read the file" in problem.message


def test_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID_YAML.replace("Gəncədə", "Gäncä").encode("latin-1", "replace"))

    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(path)

    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert "not UTF-8" in problem.message


# --------------------------------------------------------------------------- example campaigns


def test_example_town_hall_campaign() -> None:
    campaign = load_campaign_file(REPO / "campaigns" / "ganja_town_hall.yaml")

    assert campaign.kind is CampaignKind.EVENT
    assert campaign.languages == ("az", "ru", "en")
    assert campaign.audience.regions == ("ganja-dashkasan",)
    assert campaign.event is not None
    assert (campaign.event.capacity, campaign.event.reminder_hours) == (120, 24)
    assert campaign.event.location is not None
    assert campaign.schedule is not None and campaign.schedule.at is not None
    assert campaign.schedule.at < campaign.event.starts_at


def test_example_survey_invitation_campaign() -> None:
    campaign = load_campaign_file(REPO / "campaigns" / "youth_survey_invitation.yaml")
    survey = load_survey_file(REPO / "surveys" / "youth_priorities.yaml")

    assert campaign.kind is CampaignKind.SURVEY_INVITATION
    assert campaign.survey_id == survey.id
    assert campaign.audience.age_bands == ("15_17", "18_24")
    assert campaign.drip_hours == 4
    assert set(campaign.languages) <= set(survey.languages)


@pytest.mark.parametrize("name", ["ganja_town_hall", "youth_survey_invitation"])
def test_example_texts_fit_in_two_sms(name: str) -> None:
    campaign = load_campaign_file(REPO / "campaigns" / f"{name}.yaml")

    for language in campaign.languages:
        cost = sms_cost(campaign.text_for(language))
        assert cost.segments <= 2, (language, cost)


@pytest.mark.parametrize(
    ("cron", "refused"),
    [
        ("* * * * *", True),
        ("0 */6 * * *", True),
        ("0 9,18 * * *", True),
        ("0 10 * * *", False),
        ("30 10 * * MON-FRI", False),
        ("0 10 1 * *", False),
    ],
    ids=str,
)
def test_a_recurring_campaign_fires_at_most_once_a_day(cron: str, refused: bool) -> None:
    document = f"""
id: daily
kind: announcement
name: Daily
languages: [en]
text: {{en: "Hello"}}
schedule: {{cron: "{cron}"}}
"""
    if refused:
        with pytest.raises(CampaignFileError, match="more than once a day"):
            load_campaign_text(document, source="daily.yaml")
    else:
        assert load_campaign_text(document, source="daily.yaml").schedule is not None
