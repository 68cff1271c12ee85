"""A survey's results as they may be published: counts people cannot be singled out of.

Input is counts of people per question, segment and answer (storage.analysis
groups them in SQL); output is figures with percentages and 95% Wilson
intervals, every count under ``k`` hidden together with whatever would let it
be worked out (polls.analysis.suppression), and, with population margins, raked
percentages beside the raw ones. Nothing here sees a person.

A segment is a tuple of dimension values in the order the dimensions were named
(``("baku", "18_24")`` for region by age band); ``None`` is "not said".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from polls.analysis.intervals import wilson_interval
from polls.analysis.suppression import (
    Figure,
    HiddenBecause,
    SuppressionError,
    display,
    suppress_counts,
    suppress_cube,
    suppress_table,
)
from polls.analysis.weighting import Margins, RakingResult, rake, weighted_shares
from polls.i18n import Translator
from polls.survey import NO, YES, Question, QuestionKind, Survey, localize

Segment = tuple[str | None, ...]
NOT_SAID = "-"
"""A segment value standing for "not said" in suppression tables (keys are strings)."""


@dataclass
class SegmentCounts:
    """One question in one segment: people who answered, picks per value, sum of numbers."""

    answered: int = 0
    picks: dict[str, int] = field(default_factory=dict)
    number_sum: float = 0.0


QuestionCounts = Mapping[str, Mapping[Segment, SegmentCounts]]
"""Per question id, per segment."""


@dataclass(frozen=True)
class Share:
    """A published count with its share of the base, as percentages."""

    figure: Figure
    percent: float | None = None
    """None when the count is hidden."""
    low: float | None = None
    high: float | None = None
    """The 95% Wilson interval of the percentage."""
    weighted_percent: float | None = None

    @property
    def shown(self) -> bool:
        return self.figure.shown


@dataclass(frozen=True)
class QuestionResults:
    question_id: str
    kind: str
    text: str
    answered: Figure
    options: tuple[tuple[str, str], ...] = ()
    """(value, label) of each answer, in the survey's order."""
    shares: dict[str, Share] = field(default_factory=dict)
    mean: float | None = None
    median: float | None = None


@dataclass(frozen=True)
class Breakdown:
    """One question by one or two dimensions: counts and shares per segment and answer."""

    question_id: str
    kind: str
    text: str
    dimensions: tuple[str, ...]
    segments: tuple[Segment, ...]
    options: tuple[tuple[str, str], ...]
    answered: dict[Segment, Figure]
    cells: dict[tuple[Segment, str], Share]
    """Share of the segment's people who answered the question."""
    means: dict[Segment, float | None] = field(default_factory=dict)

    @property
    def hidden(self) -> int:
        """How many published figures (cells and segment totals) are hidden."""
        figures = [share.figure for share in self.cells.values()] + list(self.answered.values())
        return sum(not figure.shown for figure in figures)


@dataclass(frozen=True)
class Weighting:
    dimensions: tuple[str, ...]
    respondents: int
    effective_sample_size: float
    converged: bool
    iterations: int
    unknown_categories: dict[str, dict[str, int]]
    empty_categories: dict[str, list[str]]
    missing_values: dict[str, int]


def options_of(survey: Survey, question: Question, _: Translator) -> tuple[tuple[str, str], ...]:
    """Every answer a choice question can have, as (value, label) in the person's language."""
    if question.kind is QuestionKind.YES_NO:
        return ((YES, _("Yes")), (NO, _("No")))
    if question.kind is QuestionKind.RATING:
        return tuple((str(v), str(v)) for v in question.rating_values())
    if question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        return tuple(
            (c.value, localize(c.label, _.language, survey.languages)) for c in question.choices
        )
    return ()


def sum_counts(parts: Iterable[SegmentCounts]) -> SegmentCounts:
    """Counts of several segments together (segments partition the people who answered)."""
    total = SegmentCounts()
    for part in parts:
        total.answered += part.answered
        total.number_sum += part.number_sum
        for value, count in part.picks.items():
            total.picks[value] = total.picks.get(value, 0) + count
    return total


def regroup(
    counts: Mapping[Segment, SegmentCounts], positions: Sequence[int]
) -> dict[Segment, SegmentCounts]:
    """Counts by fewer dimensions: keep the segment values at ``positions``, add up the rest."""
    grouped: dict[Segment, list[SegmentCounts]] = defaultdict(list)
    for segment, counts_here in counts.items():
        grouped[tuple(segment[i] for i in positions)].append(counts_here)
    return {segment: sum_counts(parts) for segment, parts in grouped.items()}


def _share(figure: Figure, base: int) -> Share:
    if not figure.shown or base <= 0:
        return Share(figure)
    low, high = wilson_interval(figure.count, base)
    return Share(figure, 100 * figure.count / base, 100 * low, 100 * high)


def question_results(
    survey: Survey,
    question: Question,
    counts: SegmentCounts,
    _: Translator,
    *,
    k: int,
    numbers: Sequence[float] = (),
    weighted: Mapping[str, float] | None = None,
) -> QuestionResults:
    """One question for everyone: counts with shares, hidden where small.

    Multiple choice: each answer is a yes-or-no of its own (picked or not), so
    both the pickers and the others must be at least ``k`` to be shown.
    """
    text = localize(question.text, _.language, survey.languages)
    options = options_of(survey, question, _)
    kind = question.kind.value
    answered = suppress_counts({"answered": counts.answered}, k=k).total
    if question.kind is QuestionKind.NUMBER:
        shown = answered.shown and counts.answered >= k
        mean = counts.number_sum / counts.answered if shown and counts.answered else None
        median = statistics.median(numbers) if shown and numbers else None
        return QuestionResults(question.id, kind, text, answered, mean=mean, median=median)
    if not options:
        return QuestionResults(question.id, kind, text, answered)
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        figures = {
            value: _picked_figure(counts.picks.get(value, 0), counts.answered, k)
            for value, _label in options
        }
    else:
        table = suppress_counts({v: counts.picks.get(v, 0) for v, _l in options}, k=k)
        figures = table.cells
        answered = table.total
    shares = {}
    for value, figure in figures.items():
        share = _share(figure, counts.answered)
        if weighted is not None and share.shown:
            share = Share(share.figure, share.percent, share.low, share.high, 100 * weighted[value])
        shares[value] = share
    return QuestionResults(question.id, kind, text, answered, options, shares)


def _picked_figure(picked: int, answered: int, k: int) -> Figure:
    """One answer of a multiple choice: hidden when its pickers or the others are few."""
    table = suppress_counts({"picked": picked, "other": answered - picked}, k=k)
    return table.cells["picked"]


def breakdown(
    survey: Survey,
    question: Question,
    dimensions: tuple[str, ...],
    counts: Mapping[Segment, SegmentCounts],
    overall: QuestionResults,
    _: Translator,
    *,
    k: int,
    order: Mapping[str, Sequence[str]] | None = None,
) -> Breakdown:
    """One question by segments: a segments-by-answers table, suppressed as one.

    Row totals are the people per segment who answered; column totals are the
    question's ``overall`` results, kept exactly as published there, so the two
    cannot be read together to uncover a figure. By two dimensions the table is
    a cube whose one-dimension breakdowns are protected too (suppress_cube).
    """
    text = localize(question.text, _.language, survey.languages)
    options = options_of(survey, question, _)
    positions = [
        {value: i for i, value in enumerate((order or {}).get(dimension, ()))}
        for dimension in dimensions
    ]
    segments = tuple(sorted(counts, key=lambda segment: _segment_order(segment, positions)))
    cells: dict[tuple[Segment, str], Share] = {}
    means: dict[Segment, float | None] = {}
    people = {segment: counts[segment].answered for segment in segments}
    answered = _protected(
        {s: {"n": n} for s, n in people.items()}, {"n": overall.answered}, overall.answered, k
    )
    answered_by = {segment: figures["n"] for segment, figures in answered.items()}
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        # Each answer is its own table: segments by (picked, did not pick).
        for value, _label in options:
            picked = overall.shares[value].figure.count
            everyone = suppress_counts(
                {"picked": picked, "other": overall.answered.count - picked}, k=k
            ).cells
            table = _protected(
                {
                    segment: {
                        "picked": counts[segment].picks.get(value, 0),
                        "other": people[segment] - counts[segment].picks.get(value, 0),
                    }
                    for segment in segments
                },
                everyone,
                overall.answered,
                k,
            )
            for segment in segments:
                figure = table[segment]["picked"]
                if not answered_by[segment].shown and figure.shown:
                    figure = _hidden_with_its_row(figure, k)
                cells[(segment, value)] = _share(figure, people[segment])
    elif options:
        table = _protected(
            {
                segment: {value: counts[segment].picks.get(value, 0) for value, _l in options}
                for segment in segments
            },
            {value: overall.shares[value].figure for value, _label in options},
            overall.answered,
            k,
        )
        for segment in segments:
            for value, _label in options:
                cells[(segment, value)] = _share(table[segment][value], people[segment])
    elif question.kind is QuestionKind.NUMBER:
        for segment in segments:
            n = people[segment]
            shown = answered_by[segment].shown and n >= k
            means[segment] = counts[segment].number_sum / n if shown and n else None
    return Breakdown(
        question.id,
        question.kind.value,
        text,
        dimensions,
        segments,
        options,
        answered_by,
        cells,
        means,
    )


def _protected(
    rows: Mapping[Segment, Mapping[str, int]],
    totals: Mapping[str, Figure],
    grand: Figure,
    k: int,
) -> dict[Segment, dict[str, Figure]]:
    """Segments by columns, suppressed with the column totals and grand total as published.

    One-dimension segments: a two-way table keeping ``totals`` as they are. Two
    dimensions: a cube (its own one-dimension breakdowns protected), used when its
    totals read as ``totals`` do. A table that cannot be protected so has every
    cell hidden: only the published totals remain.
    """
    columns = list(totals)
    keys = {_segment_key(segment): segment for segment in rows}
    try:
        if rows and all(len(segment) == 2 for segment in rows):
            pairs = {segment: _pair(segment) for segment in rows}
            cube = suppress_cube(
                {pairs[segment]: dict(rows[segment]) for segment in rows}, columns=columns, k=k
            )
            if all(cube.column_totals[c].text == totals[c].text for c in columns) and (
                cube.grand_total.text == grand.text
            ):
                return {
                    segment: {c: cube.cells[(*pairs[segment], c)] for c in columns}
                    for segment in rows
                }
        else:
            table = suppress_table(
                {key: dict(rows[segment]) for key, segment in keys.items()},
                columns=columns,
                k=k,
                column_totals=totals,
                grand_total=grand,
            )
            return {
                segment: {c: table.cells[(key, c)] for c in columns}
                for key, segment in keys.items()
            }
    except SuppressionError:
        pass
    return {
        segment: {
            c: Figure(
                n,
                HiddenBecause.SMALL if 0 < n < k else HiddenBecause.COMPLEMENTARY,
                display(n, False, k),
            )
            for c, n in ((c, rows[segment].get(c, 0)) for c in columns)
        }
        for segment in rows
    }


def _hidden_with_its_row(figure: Figure, k: int) -> Figure:
    return Figure(figure.count, HiddenBecause.COMPLEMENTARY, display(figure.count, False, k))


def _pair(segment: Segment) -> tuple[str, str]:
    first, second = (NOT_SAID if value is None else value for value in segment)
    return first, second


def _segment_key(segment: Segment) -> str:
    return "|".join(NOT_SAID if value is None else value for value in segment)


def _segment_order(
    segment: Segment, positions: Sequence[Mapping[str, int]]
) -> tuple[tuple[int, int, str], ...]:
    """Segments in the configured order of each dimension's values, "not said" last."""
    return tuple(
        (2, 0, "") if value is None else (0, known[value], "") if value in known else (1, 0, value)
        for value, known in zip(segment, positions, strict=True)
    )


def weigh(
    cells: Mapping[Segment, int], margins: Margins, dimensions: tuple[str, ...]
) -> tuple[RakingResult, Weighting]:
    """Rake the survey's respondents (counted per cell of ``dimensions``) to the margins."""
    raked = rake(cells, margins, dimensions=dimensions)
    summary = Weighting(
        dimensions,
        sum(cells.values()),
        raked.effective_sample_size,
        raked.converged,
        raked.iterations,
        raked.unknown_categories,
        raked.empty_categories,
        raked.missing_values,
    )
    return raked, summary


def weighted_question_shares(
    question: Question,
    counts: Mapping[Segment, SegmentCounts],
    raked: RakingResult,
    options: Sequence[tuple[str, str]],
) -> dict[str, float]:
    """Raked shares of a choice question's answers (of respondents, for multiple choice)."""
    answers = {cell: dict(c.picks) for cell, c in counts.items()}
    answered = (
        {cell: c.answered for cell, c in counts.items()}
        if question.kind is QuestionKind.MULTIPLE_CHOICE
        else None
    )
    return weighted_shares(
        answers,
        raked.weights,
        categories=[value for value, _label in options],
        answered=answered,
    )
