"""Published results on a real database: the database's figures, never singling anyone out.

People and answers are written through the service's own repositories; the
expected figures are counted here in Python from what was written.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from outreach.cli import main as cli
from outreach.survey_results import survey_results
from polls.analysis import parse_margins, wilson_interval
from polls.survey import Survey
from polls.survey_loader import load_survey_file
from storage.answers import AnswerRepository
from storage.database import Database
from storage.models import Answer, CampaignRecord, OutboxMessage, Respondent, SurveySession
from storage.respondents import RespondentRepository
from storage.surveys import SurveyRepository
from tests.conftest import EXAMPLE_SURVEYS

pytestmark = pytest.mark.storage

YOUTH = load_survey_file(EXAMPLE_SURVEYS / "youth_priorities.yaml")
PEOPLE = {"baku": 60, "ganja-dashkasan": 30, "nakhchivan": 3}
"""Nakhchivan has three people: fewer than 5, so every figure about them is hidden."""


@dataclass
class Written:
    """What the test wrote, to count the expected figures from."""

    people: list[dict[str, Any]]
    """region, age_band, channel, respondent id, and their answers by question id."""

    def counts(self, question_id: str, where: Any = None) -> Counter[str]:
        counter: Counter[str] = Counter()
        for person in self.people:
            if where is not None and not where(person):
                continue
            value = person["answers"].get(question_id)
            if value is None:
                continue
            for picked in value if isinstance(value, list) else [value]:
                counter[str(picked)] += 1
        return counter

    def answered(self, question_id: str, where: Any = None) -> int:
        return sum(
            1 for p in self.people if question_id in p["answers"] and (where is None or where(p))
        )


def answers_for(rng: random.Random, region: str) -> dict[str, Any]:
    goals = [c.value for c in YOUTH.question("top_goals").choices]  # type: ignore[union-attr]
    sources = [c.value for c in YOUTH.question("info_source").choices]  # type: ignore[union-attr]
    answers: dict[str, Any] = {
        "top_goals": sorted(rng.sample(goals[:6], rng.randint(1, 3))),
        "info_source": rng.choice(sources[:3]) if region == "baku" else rng.choice(sources[:4]),
        "voice_heard": rng.randint(1, 5),
        "join_forum": rng.choice(("yes", "no")),
    }
    if answers["join_forum"] == "yes":
        answers["idea"] = "A youth centre in every district"
    return answers


async def write_people(db: Database, survey: Survey = YOUTH) -> Written:
    rng = random.Random(4)
    plan = [
        (region, rng.choice(("15_17", "18_24", "25_34")), rng.choice(("telegram", "sms")))
        for region, count in PEOPLE.items()
        for _ in range(count)
    ]

    def write(session: Session) -> list[dict[str, Any]]:
        version_id = SurveyRepository(session).save_version(survey=survey)[0]
        version_id = SurveyRepository(session).latest_version_id(survey_id=survey.id)
        assert version_id is not None
        people = []
        for index, (region, age_band, channel) in enumerate(plan):
            respondents = RespondentRepository(session)
            record = respondents.create(channel=channel, address=f"a{index}", language="en")
            record.region, record.age_band = region, age_band
            respondents.save(record)
            answers = AnswerRepository(session)
            session_id = answers.start_session(
                respondent_id=record.id,
                survey_id=survey.id,
                survey_version_id=version_id,
                channel=channel,
            )
            given = answers_for(rng, region)
            if index % 10 == 9:  # one in ten stops after the first question
                given = {"top_goals": given["top_goals"]}
            for question_id, value in given.items():
                question = survey.question(question_id)
                assert question is not None
                answers.add(
                    session_id=session_id,
                    respondent_id=record.id,
                    survey_id=survey.id,
                    survey_version_id=version_id,
                    question=question,
                    value=value,
                    channel=channel,
                )
            if len(given) > 1:
                answers.end_session(session_id=session_id, status="completed")
            people.append(
                {
                    "id": record.id,
                    "region": region,
                    "age_band": age_band,
                    "channel": channel,
                    "answers": given,
                }
            )
        return people

    return Written(await db.write(write))


def walk(document: Any) -> Iterator[dict[str, Any]]:
    """Every published count (a dict with "count" and "text") in a results document."""
    if isinstance(document, dict):
        if "count" in document and "text" in document:
            yield document
        for value in document.values():
            yield from walk(value)
    elif isinstance(document, list):
        for value in document:
            yield from walk(value)


def run_cli(database_url: str, *arguments: str) -> Any:
    return CliRunner().invoke(cli, list(arguments), env={"DATABASE_URL": database_url})


async def test_overall_figures_equal_the_database_with_wilson_intervals(db: Database) -> None:
    written = await write_people(db)
    results = await survey_results(db, "youth_priorities")
    assert results.started.count == sum(PEOPLE.values())
    completed = sum(1 for p in written.people if len(p["answers"]) > 1)
    assert results.completed.figure.count == completed
    by_id = {q.question_id: q for q in results.questions}
    for question_id in ("top_goals", "info_source", "voice_heard", "join_forum"):
        expected = written.counts(question_id)
        answered = written.answered(question_id)
        question = by_id[question_id]
        assert question.answered.count == answered
        for value, share in question.shares.items():
            if not share.shown:
                assert 0 < expected[value] < 5 or share.figure.count >= 5
                continue
            assert share.figure.count == expected[value]
            low, high = wilson_interval(expected[value], answered)
            assert share.percent == pytest.approx(100 * expected[value] / answered)
            assert (share.low, share.high) == (pytest.approx(100 * low), pytest.approx(100 * high))
    # The funnel: everyone answered the first question, nine in ten went on.
    funnel = dict(results.funnel)
    assert funnel["top_goals"].count == sum(PEOPLE.values())
    assert funnel["voice_heard"].count == written.answered("voice_heard")


def test_wilson_intervals_are_the_published_ones() -> None:
    # Newcombe (1998), Table II: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    assert wilson_interval(81, 263) == (
        pytest.approx(0.2553, abs=5e-5),
        pytest.approx(0.3662, abs=5e-5),
    )
    assert wilson_interval(15, 148) == (
        pytest.approx(0.0624, abs=5e-5),
        pytest.approx(0.1605, abs=5e-5),
    )


async def test_a_breakdown_hides_the_small_region_and_what_would_give_it_away(
    db: Database, database_url: str
) -> None:
    written = await write_people(db)
    result = await asyncio.to_thread(
        run_cli, database_url, "results", "youth_priorities", "--by", "region", "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    # No published figure describes 1 to 4 people, and a hidden figure carries no number.
    for figure in walk(document):
        assert figure["count"] is None or not 0 < figure["count"] < 5, figure
        assert (figure["count"] is None) == (figure["text"] in ("<5", "x")), figure
    source = next(b for b in document["breakdowns"] if b["question_id"] == "info_source")
    rows = {s["segment"]["region"]: s for s in source["segments"]}
    small = rows["nakhchivan"]
    assert small["answered"] == {"count": None, "text": "<5"}
    assert all(cell["count"] is None for cell in small["cells"] if cell["text"] != "0")
    assert "percent" not in small["answered"]
    # A hidden count of people cannot be worked out from the answer's total (the
    # overall results) less the other regions: in its column, another figure is
    # hidden too. (A hidden zero may be: "nobody there said it" describes no one.)
    overall = next(q for q in document["questions"] if q["question_id"] == "info_source")
    for choice in overall["choices"]:
        column = {
            segment["segment"]["region"]: next(
                c for c in segment["cells"] if c["value"] == choice["value"]
            )
            for segment in source["segments"]
        }
        hidden = [region for region, cell in column.items() if cell["count"] is None]
        true = {
            region: written.counts("info_source", lambda p, r=region: p["region"] == r)[
                choice["value"]
            ]
            for region in hidden
        }
        if choice["count"] is not None and any(true.values()):
            assert len(hidden) >= 2, (choice["value"], column, true)
    # Shown cells are the database's.
    baku = written.counts("info_source", lambda p: p["region"] == "baku")
    for cell in rows["baku"]["cells"]:
        if cell["count"] is not None:
            assert cell["count"] == baku[cell["value"]]
    assert document["notes"][0].startswith("People who answer on Telegram and by SMS chose")
    # The overall figures are the same with or without a breakdown: one publication.
    plain = await asyncio.to_thread(run_cli, database_url, "results", "youth_priorities", "--json")
    assert json.loads(plain.output)["questions"] == document["questions"]


async def test_two_dimensions_and_the_command_line_errors(db: Database, database_url: str) -> None:
    await write_people(db)
    result = await asyncio.to_thread(
        run_cli, database_url, "results", "youth_priorities", "--by", "region,age_band", "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    segments = document["breakdowns"][0]["segments"]
    assert {tuple(s["segment"]) for s in segments} == {("region", "age_band")}
    assert sum(s["answered"]["count"] or 0 for s in segments) <= sum(PEOPLE.values())
    for figure in walk(document):
        assert figure["count"] is None or not 0 < figure["count"] < 5
    wrong = await asyncio.to_thread(
        run_cli, database_url, "results", "youth_priorities", "--by", "religion"
    )
    assert wrong.exit_code != 0 and "for example --by region,age_band" in wrong.output
    missing = await asyncio.to_thread(run_cli, database_url, "results", "no_such_survey")
    assert missing.exit_code != 0 and "outreach surveys load" in missing.output
    text = await asyncio.to_thread(
        run_cli, database_url, "results", "youth_priorities", "--by", "channel"
    )
    assert text.exit_code == 0 and "95% CI" in text.output and "top_goals by channel" in text.output


async def test_weighting_to_population_margins(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    written = await write_people(db)
    # The sample is 60 Baku, 30 Ganja, 3 Nakhchivan; the population 40 / 40 / 20 %.
    margins_text = (
        "dimension,category,share\nregion,baku,0.4\nregion,ganja-dashkasan,0.4\n"
        "region,nakhchivan,0.2\n"
    )
    margins = parse_margins(margins_text, source="margins.csv")
    results = await survey_results(db, "youth_priorities", margins=margins)
    assert results.weighting is not None and results.weighting.converged
    # By hand: with one dimension, raking gives each region's people the weight
    # share / (people / everyone); the weighted share is the mix of regions' shares.
    everyone = sum(PEOPLE.values())
    answered = {r: written.answered("join_forum", lambda p, r=r: p["region"] == r) for r in PEOPLE}
    said_yes = {
        r: written.counts("join_forum", lambda p, r=r: p["region"] == r)["yes"] for r in PEOPLE
    }
    started = dict(PEOPLE)
    weight = {
        r: {"baku": 0.4, "ganja-dashkasan": 0.4, "nakhchivan": 0.2}[r] / (started[r] / everyone)
        for r in PEOPLE
    }
    expected = sum(weight[r] * said_yes[r] for r in PEOPLE) / sum(
        weight[r] * answered[r] for r in PEOPLE
    )
    join = next(q for q in results.questions if q.question_id == "join_forum")
    assert join.shares["yes"].weighted_percent == pytest.approx(100 * expected, abs=1e-3)
    # Kish: (sum w)^2 / sum w^2 over the people who began.
    total = sum(weight[r] * started[r] for r in PEOPLE)
    squares = sum(weight[r] ** 2 * started[r] for r in PEOPLE)
    assert results.weighting.effective_sample_size == pytest.approx(total**2 / squares, rel=1e-4)
    # A broken margins file is refused with the line and the fix.
    broken = tmp_path / "margins.csv"
    broken.write_text("dimension,category,share\nregion,baku,0.4\nregion,ganja,abc\n")
    result = await asyncio.to_thread(
        run_cli, database_url, "results", "youth_priorities", "--margins", str(broken)
    )
    assert result.exit_code != 0 and "margins.csv" in result.output and ":3" in result.output


async def test_a_window_and_an_invitation_s_response_rate(db: Database) -> None:
    written = await write_people(db)
    november = datetime(2026, 11, 10, 12, tzinfo=UTC)
    first_ten = [p["id"] for p in written.people[:10]]

    def backdate(session: Session) -> None:
        # Ten people answered in November; everyone else began today.
        session.execute(
            update(Answer).where(Answer.respondent_id.in_(first_ten)).values(answered_at=november)
        )
        session.execute(
            update(SurveySession)
            .where(SurveySession.respondent_id.in_(first_ten))
            .values(started_at=november)
        )

    await db.write(backdate)
    # Five more began in October and answered in November: they are not the
    # month's newcomers, so the month's funnel leaves them out (it never tops 100%).
    october = datetime(2026, 10, 28, tzinfo=UTC)
    earlier = [p["id"] for p in written.people[10:15]]

    def began_in_october(session: Session) -> None:
        session.execute(
            update(Answer).where(Answer.respondent_id.in_(earlier)).values(answered_at=november)
        )
        session.execute(
            update(SurveySession)
            .where(SurveySession.respondent_id.in_(earlier))
            .values(started_at=october)
        )

    await db.write(began_in_october)
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    results = await survey_results(db, "youth_priorities", window=window)
    assert results.started.count == 10
    assert dict(results.funnel)["top_goals"].count == 10
    # The month's answers are those given in it: fifteen people's.
    goals = next(q for q in results.questions if q.question_id == "top_goals")
    assert goals.answered.count == 15

    # An invitation reached 20 people, sent on 9 November: the ten who began on
    # the 10th answered it, and so did the five who began only today.
    sent_at = november - timedelta(days=1)
    reached = [p["id"] for p in written.people[:20]]

    def invite(session: Session) -> None:
        session.execute(
            insert(CampaignRecord),
            {
                "id": "invite_youth",
                "kind": "survey_invitation",
                "name": "Invitation",
                "definition": {"survey": "youth_priorities"},
                "status": "completed",
            },
        )
        from storage.models import CampaignRun

        run_id = session.execute(
            insert(CampaignRun).returning(CampaignRun.id),
            {"campaign_id": "invite_youth", "due_at": sent_at, "status": "done"},
        ).scalar_one()
        session.execute(
            insert(OutboxMessage),
            [
                {
                    "run_id": run_id,
                    "campaign_id": "invite_youth",
                    "respondent_id": rid,
                    "channel": "telegram",
                    "address": str(rid),
                    "language": "en",
                    "status": "delivered" if i % 2 else "sent",
                    "not_before": sent_at,
                    "updated_at": sent_at,
                }
                for i, rid in enumerate(reached)
            ]
            + [
                {
                    "run_id": run_id,
                    "campaign_id": "invite_youth",
                    "respondent_id": written.people[-1]["id"],
                    "channel": "sms",
                    "address": "x",
                    "language": "en",
                    "status": "failed",
                    "not_before": sent_at,
                    "updated_at": sent_at,
                }
            ],
        )

    await db.write(invite)
    everything = await survey_results(db, "youth_priorities")
    (invitation,) = everything.invitations
    assert invitation.reached.count == 20  # the failed one did not reach anyone
    # The five who began in October, before the invitation, did not answer it.
    assert invitation.responded.figure.count == 15 and invitation.responded.percent == 75
    answered_it = written.people[:10] + written.people[15:20]
    completed = sum(1 for p in answered_it if len(p["answers"]) > 1)
    assert invitation.completed.figure.count == completed
    respondents = await db.read(lambda s: s.query(Respondent).count())
    assert respondents == sum(PEOPLE.values())


async def test_free_text_terms_and_themes_count_approved_text_only(
    db: Database, database_url: str
) -> None:
    written = await write_people(db)
    writers = [p for p in written.people if "idea" in p["answers"]]
    approved = [p["id"] for p in writers if p["region"] != "ganja-dashkasan"]
    pending = [p["id"] for p in writers if p["region"] == "ganja-dashkasan"]
    assert len(approved) >= 10 and len(pending) >= 5

    def moderate(session: Session) -> None:
        session.execute(
            update(Answer)
            .where(Answer.respondent_id.in_(approved), Answer.question_id == "idea")
            .values(text="Clean drinking water for the village school", text_status="approved")
        )
        session.execute(
            update(Answer)
            .where(Answer.respondent_id.in_(pending), Answer.question_id == "idea")
            .values(text="Buses to the district centre, call +994501234567")
        )

    await db.write(moderate)
    result = await asyncio.to_thread(
        run_cli,
        database_url,
        "results",
        "youth_priorities",
        "--by",
        "region",
        "--themes",
        str(Path(__file__).parent.parent / "analysis" / "sdg_themes.yaml"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    (idea,) = document["free_text"]
    everyone = next(s for s in idea["segments"] if s["segment"] is None)
    assert everyone["answers"]["count"] == len(approved)
    terms = {t["term"]: t["answers"] for t in everyone["terms"]}
    assert terms["water"] == len(approved)
    assert {"drinking water": len(approved)}.items() <= {
        p["phrase"]: p["answers"] for p in everyone["phrases"]
    }.items()
    assert everyone["themes"]["water"] == len(approved)
    assert everyone["themes"]["education"] == len(approved)  # "school"
    # Text not yet moderated is never read: no bus, no number.
    assert "bus" not in result.output.lower() and "994" not in result.output
    # Nakhchivan's few answers: their number is hidden and none of their terms listed.
    small = [s for s in idea["segments"] if s["segment"] == {"region": "nakhchivan"}]
    for segment in small:
        assert segment["answers"]["count"] is None and segment["terms"] == []
