"""A survey's results, ready to publish: what the CLI, the monthly report and the console show.

Counts come from the database grouped by question, segment and answer; the
questions are split into a few groups of about equal size read side by side
(SQLite's readers run on threads, each with its own connection; PostgreSQL's
on their own connections), which on two cores halves the time of a breakdown
over a million answers. Everything that leaves passes polls.analysis:
suppression of small cells, intervals, weights.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from outreach.survey_catalogue import SurveyCatalogue
from polls.analysis import Figure, Margins, suppress_counts
from polls.analysis.published import (
    Breakdown,
    QuestionResults,
    Segment,
    SegmentCounts,
    Share,
    Weighting,
    breakdown,
    options_of,
    question_results,
    regroup,
    sum_counts,
    weigh,
    weighted_question_shares,
)
from polls.errors import OutreachError
from polls.i18n import N_, Translator, language_name, translator
from polls.onboarding import AGE_BANDS, DEFAULT_REGIONS, GENDERS, region_label, region_value
from polls.results import MIN_GROUP
from polls.survey import QuestionKind, Survey, localize
from polls.text_analysis import TermCount, TermTally, ThemeDictionary, ThemeTally
from storage.analysis import DIMENSIONS, AnalysisRepository, Funnel, InvitationRate, Window
from storage.database import Database, Work

CountsBySegment = dict[str, dict[Segment, SegmentCounts]]
PARTS = 4
"""Groups of questions read side by side (SQLite has four reader threads)."""
ONE_PICK = (QuestionKind.SINGLE_CHOICE, QuestionKind.YES_NO, QuestionKind.RATING)
REPRESENTATIVENESS = N_(
    "People who answer on Telegram and by SMS chose to answer: they are not a random "
    "sample of the population (younger, more connected, more interested people answer "
    "more), so these figures describe the people who answered. Weighting to population "
    "margins corrects the mix of region, age band and gender, not who chose to answer."
)


class UnknownSurvey(OutreachError):
    pass


@dataclass(frozen=True)
class InvitationResults:
    campaign_id: str
    name: str
    reached: Figure
    responded: Share
    """Of the people reached, those who began the survey after the invitation."""
    completed: Share


@dataclass(frozen=True)
class SurveyResults:
    survey_id: str
    version: int
    title: str
    k: int
    dimensions: tuple[str, ...]
    started: Figure
    completed: Share
    funnel: list[tuple[str, Figure]]
    """Per question, in the survey's order: the people who answered it."""
    questions: list[QuestionResults]
    breakdowns: list[Breakdown]
    invitations: list[InvitationResults]
    weighting: Weighting | None = None
    labels: dict[str, dict[str | None, str]] = field(default_factory=dict)
    """Per dimension, each value's name in the reader's language."""

    def segment_label(self, segment: Segment) -> str:
        return " · ".join(
            self.labels.get(dimension, {}).get(value, value or "—")
            for dimension, value in zip(self.dimensions, segment, strict=True)
        )


async def survey_results(
    db: Database,
    survey_id: str,
    *,
    dimensions: tuple[str, ...] = (),
    k: int = MIN_GROUP,
    margins: Margins | None = None,
    language: str = "en",
    regions: Sequence[str] = DEFAULT_REGIONS,
    window: Window = None,
) -> SurveyResults:
    """The survey's results for everyone, by up to two dimensions, optionally weighted.

    ``window`` (from, until) limits them to the answers given in that time, as a
    monthly report wants; without it, every answer to date counts.
    """
    if len(dimensions) > 2 or len(set(dimensions)) != len(dimensions):
        raise OutreachError("break results down by one or two different dimensions")
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        raise OutreachError(
            f"cannot break results down by {', '.join(unknown)}: use {', '.join(DIMENSIONS)}"
        )
    catalogue = SurveyCatalogue(db)

    def overview(session: Session) -> tuple[Funnel, list[InvitationRate]]:
        repository = AnalysisRepository(session)
        return (
            repository.funnel(survey_id=survey_id, window=window),
            repository.invitation_rates(survey_id=survey_id),
        )

    stored = await db.read(lambda session: catalogue.latest(session, survey_id))
    if stored is None:
        raise UnknownSurvey(f"no survey '{survey_id}': load it with `outreach surveys load` first")
    survey = stored.survey
    weighting_dimensions = margins.dimensions if margins is not None else ()
    query_dimensions = tuple(dict.fromkeys((*dimensions, *weighting_dimensions)))
    (funnel, invitations), (counts, numbers) = await asyncio.gather(
        db.read(overview), _read_counts(db, survey, query_dimensions, window)
    )
    _ = translator(language)

    raked = weighting = None
    if margins is not None:
        cells = await db.read(
            lambda s: AnalysisRepository(s).respondent_cells(
                survey_id=survey_id, dimensions=weighting_dimensions, window=window
            )
        )
        raked, weighting = weigh(cells, margins, weighting_dimensions)
    by_breakdown = [query_dimensions.index(d) for d in dimensions]
    by_weighting = [query_dimensions.index(d) for d in weighting_dimensions]

    labels = dimension_labels(_, regions)
    order = {d: [v for v in values if v is not None] for d, values in labels.items()}
    questions, breakdowns = [], []
    for question in survey.questions:
        per_segment = counts.get(question.id, {})
        everyone = sum_counts(per_segment.values())
        weighted = None
        if raked is not None and question.kind in (*ONE_PICK, QuestionKind.MULTIPLE_CHOICE):
            options = [(v, v) for v in _option_values(survey, question.id, _)]
            weighted = weighted_question_shares(
                question, regroup(per_segment, by_weighting), raked, options
            )
        overall = question_results(
            survey,
            question,
            everyone,
            _,
            k=k,
            numbers=numbers.get(question.id, ()),
            weighted=weighted,
        )
        questions.append(overall)
        if dimensions:
            breakdowns.append(
                breakdown(
                    survey,
                    question,
                    dimensions,
                    regroup(per_segment, by_breakdown),
                    overall,
                    _,
                    k=k,
                    order=order,
                )
            )

    steps = suppress_counts(
        {"started": funnel.started, "completed": funnel.completed}
        | {q.id: funnel.answered.get(q.id, 0) for q in survey.questions},
        k=k,
    ).cells
    return SurveyResults(
        survey_id=survey_id,
        version=stored.version,
        title=localize(survey.title, language, survey.languages),
        k=k,
        dimensions=dimensions,
        started=steps["started"],
        completed=_rate(steps["completed"], funnel.started),
        funnel=[(q.id, steps[q.id]) for q in survey.questions],
        questions=questions,
        breakdowns=breakdowns,
        invitations=[_invitation(rate, k) for rate in invitations],
        weighting=weighting,
        labels=labels,
    )


def _option_values(survey: Survey, question_id: str, _: Translator) -> list[str]:
    question = survey.question(question_id)
    assert question is not None
    return [value for value, _label in options_of(survey, question, _)]


async def _read_counts(
    db: Database, survey: Survey, dimensions: tuple[str, ...], window: Window
) -> tuple[CountsBySegment, dict[str, list[float]]]:
    """The counts of every question, read in PARTS groups of about equal size at once."""
    # About as many people answer each question; a multiple choice is read twice
    # (its people, its picks), with about two picks an answer.
    sizes = {q.id: 3 if q.kind is QuestionKind.MULTIPLE_CHOICE else 1 for q in survey.questions}
    parts: list[list[str]] = [[] for _ in range(PARTS)]
    loads = [0] * PARTS
    for question_id in sorted(sizes, key=lambda q: -sizes[q]):
        lightest = loads.index(min(loads))
        parts[lightest].append(question_id)
        loads[lightest] += sizes[question_id]
    one_pick = {q.id for q in survey.questions if q.kind in ONE_PICK}
    number_questions = {q.id for q in survey.questions if q.kind is QuestionKind.NUMBER}

    def read(part: list[str]) -> Work[tuple[CountsBySegment, dict[str, list[float]]]]:
        def work(session: Session) -> tuple[CountsBySegment, dict[str, list[float]]]:
            repository = AnalysisRepository(session)
            counts = repository.question_counts(
                survey_id=survey.id,
                dimensions=dimensions,
                question_ids=part,
                counted_by_picks=one_pick,
                window=window,
            )
            numbers = {
                q: repository.numbers(survey_id=survey.id, question_id=q, window=window)
                for q in part
                if q in number_questions
            }
            return counts, numbers

        return work

    results = await asyncio.gather(*(db.read(read(part)) for part in parts if part))
    counts: CountsBySegment = {}
    numbers: dict[str, list[float]] = {}
    for part_counts, part_numbers in results:
        counts.update(part_counts)
        numbers.update(part_numbers)
    return counts, numbers


def _rate(figure: Figure, base: int) -> Share:
    if not figure.shown or base <= 0:
        return Share(figure)
    return Share(figure, 100 * figure.count / base)


def _invitation(rate: InvitationRate, k: int) -> InvitationResults:
    figures = suppress_counts(
        {"reached": rate.reached, "responded": rate.responded, "completed": rate.completed}, k=k
    ).cells
    return InvitationResults(
        rate.campaign_id,
        rate.name,
        figures["reached"],
        _rate(figures["responded"], rate.reached),
        _rate(figures["completed"], rate.reached),
    )


def dimension_labels(_: Translator, regions: Sequence[str]) -> dict[str, dict[str | None, str]]:
    """Names of every dimension's values in the reader's language."""
    return {
        "region": {region_value(r): region_label(region_value(r), regions, _) for r in regions},
        "age_band": {value: _(label) for value, label in AGE_BANDS},
        "gender": {value: _(label) for value, label in GENDERS},
        "language": {code: language_name(code) for code in ("az", "ru", "en", "kk", "uz")},
        "channel": {"telegram": "Telegram", "sms": "SMS"},
    }


@dataclass(frozen=True)
class TextSegment:
    """One segment's free text: how many approved answers, top terms, phrases, themes."""

    segment: Segment | None
    """None for everyone."""
    answers: Figure
    terms: tuple[TermCount, ...] = ()
    phrases: tuple[TermCount, ...] = ()
    themes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TextResults:
    question_id: str
    text: str
    segments: list[TextSegment]
    theme_names: dict[str, str] = field(default_factory=dict)


async def text_results(
    db: Database,
    survey_id: str,
    *,
    dimensions: tuple[str, ...] = (),
    themes: ThemeDictionary | None = None,
    k: int = MIN_GROUP,
    language: str = "en",
    window: Window = None,
    limit: int = 10,
) -> list[TextResults]:
    """Top terms, two-word phrases and themes of each free-text question, by segment.

    Only approved text is read. A term, phrase or theme fewer than ``k`` answers
    share is never listed, and a segment's number of answers is hidden like any
    count under ``k``.
    """
    stored = await db.read(lambda s: SurveyCatalogue(db).latest(s, survey_id))
    if stored is None:
        raise UnknownSurvey(f"no survey '{survey_id}': load it with `outreach surveys load` first")
    survey = stored.survey
    found = []
    for question in survey.questions:
        if question.kind is not QuestionKind.TEXT:
            continue
        terms = TermTally()
        tally = ThemeTally(themes) if themes is not None else None
        keys: dict[str, Segment] = {}
        after = 0
        while True:
            batch = await db.read(
                _approved_batch(survey_id, question.id, dimensions, window, after)
            )
            if not batch:
                break
            for answer_id, text, written_in, segment in batch:
                key = "|".join(value or "-" for value in segment) if dimensions else None
                if key is not None:
                    keys[key] = segment
                for where in {None, key}:
                    terms.add(text, written_in or language, where)
                    if tally is not None:
                        tally.add(text, written_in or language, where)
                after = answer_id
        top = terms.results(limit=limit, min_answers=k)
        counted = tally.results(min_answers=k) if tally is not None else {}
        answers = suppress_counts(
            {key or "": found_terms.answers for key, found_terms in top.items()}, k=k
        ).cells
        segments = [
            TextSegment(
                None if key is None else keys[key],
                answers[key or ""],
                found_terms.terms,
                found_terms.phrases,
                dict(counted[key].themes) if key in counted else {},
            )
            for key, found_terms in sorted(top.items(), key=lambda item: item[0] or "")
        ]
        names = (
            {theme.id: localize(theme.name, language, themes.languages) for theme in themes.themes}
            if themes is not None
            else {}
        )
        found.append(
            TextResults(
                question.id, localize(question.text, language, survey.languages), segments, names
            )
        )
    return found


def _approved_batch(
    survey_id: str, question_id: str, dimensions: tuple[str, ...], window: Window, after: int
) -> Work[list[tuple[int, str, str | None, Segment]]]:
    def work(session: Session) -> list[tuple[int, str, str | None, Segment]]:
        return AnalysisRepository(session).approved_texts(
            survey_id=survey_id,
            question_id=question_id,
            dimensions=dimensions,
            window=window,
            after_id=after,
        )

    return work
