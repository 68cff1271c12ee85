"""Results as raw numbers (the sandbox's make-believe data) and as the short text a
respondent reads after a survey, which only shows what may be published.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from polls.answer_parsing import format_number
from polls.i18n import Translator
from polls.survey import NO, YES, Question, QuestionKind, Survey, localize

if TYPE_CHECKING:
    from polls.analysis.published import QuestionResults

MIN_GROUP = 5
"""The fewest people a published figure may describe."""


@dataclass(frozen=True)
class ChoiceResult:
    value: str
    label: str
    count: int
    percent: float


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    kind: str
    text: str
    answered: int
    choices: list[ChoiceResult] = field(default_factory=list)
    mean: float | None = None
    median: float | None = None
    minimum: float | None = None
    maximum: float | None = None


def _options(survey: Survey, question: Question, _: Translator) -> list[tuple[str, str]]:
    if question.kind is QuestionKind.YES_NO:
        return [(YES, _("Yes")), (NO, _("No"))]
    if question.kind is QuestionKind.RATING:
        return [(str(v), str(v)) for v in question.rating_values()]
    return [(c.value, localize(c.label, _.language, survey.languages)) for c in question.choices]


def question_results(
    survey: Survey,
    answered: Mapping[str, int],
    picks: Mapping[str, Mapping[str, int]],
    numbers: Mapping[str, list[float]],
    _: Translator,
) -> list[QuestionResult]:
    """Counts and percentages per question, in the survey's order.

    Percentages are of the people who answered the question; for multiple
    choice they add up to more than 100.
    """
    results = []
    for question in survey.questions:
        n = answered.get(question.id, 0)
        text = localize(question.text, _.language, survey.languages)
        result = QuestionResult(question.id, question.kind.value, text, n)
        if question.kind is QuestionKind.NUMBER:
            values = numbers.get(question.id, [])
            if values:
                result = QuestionResult(
                    question.id,
                    question.kind.value,
                    text,
                    n,
                    mean=statistics.fmean(values),
                    median=statistics.median(values),
                    minimum=min(values),
                    maximum=max(values),
                )
        elif question.kind is not QuestionKind.TEXT:
            counts = picks.get(question.id, {})
            result.choices.extend(
                ChoiceResult(
                    value, label, counts.get(value, 0), 100 * counts.get(value, 0) / n if n else 0.0
                )
                for value, label in _options(survey, question, _)
            )
        results.append(result)
    return results


def results_text(results: Sequence[QuestionResults], _: Translator) -> str:
    """The results a respondent sees: percentages of what may be published, never of few people.

    ``results`` come from polls.analysis.published, where counts under k (and
    what would give them away) are hidden; a hidden answer is left out here.
    """
    lines = [_("Results so far:")]
    shown = False
    for result in results:
        shares = [
            (result.shares[value], label)
            for value, label in result.options
            if value in result.shares and result.shares[value].percent is not None
        ]
        if not shares and result.median is None:
            continue
        shown = True
        lines.append("")
        lines.append(result.text)
        if result.median is not None:
            lines.append(
                _("Median: {median}").format(median=format_number(round(result.median, 1)))
            )
        for share, label in sorted(shares, key=lambda item: -item[0].figure.count):
            lines.append(f"• {label}: {round(share.percent or 0)}%")
    if not shown:
        return _("Results will be shown once more people have answered.")
    return "\n".join(lines)
