"""A survey's results: charts and tables, broken down by one or two dimensions.

The figures are ``survey_results`` as published (counts under k hidden, 95%
intervals); the charts are the monthly report's (``monthly_report.charts``):
inline SVG with a title and a description, every figure also in a table.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from outreach.console.pages.common import caller, operations
from outreach.console.pages.rendering import page_language, percent_text, render, svg
from outreach.console.roles import Action
from outreach.console.web_auth import require
from outreach.monthly_report import charts
from outreach.monthly_report.rendering import DIMENSION_NAMES
from outreach.survey_results import REPRESENTATIVENESS, SurveyResults
from polls.analysis.published import QuestionResults
from polls.i18n import Translator, translator
from storage.analysis import DIMENSIONS


def choice_chart(
    results: SurveyResults, index: int, question: QuestionResults, _: Translator
) -> str:
    """The monthly report's bar chart of one choice question: shares, intervals, hidden marks."""
    language = _.language
    bars = []
    for value, label in question.options:
        share = question.shares.get(value)
        shown = share is not None and share.shown and share.percent is not None
        if share is None or not shown:
            text = share.figure.text if share is not None else ""
            bars.append(charts.Bar(label, None, text))
            continue
        assert share.percent is not None
        bars.append(
            charts.Bar(
                label,
                share.percent,
                f"{percent_text(share.percent, language)} ({share.figure.count})",
                share.low,
                share.high,
                share.weighted_percent,
            )
        )
    legend = [
        (_("Share of people who answered"), charts.PALETTE[0]),
        (_("95% interval"), charts.INTERVAL_KEY),
    ]
    if results.weighting is not None:
        legend.append((_("Weighted share"), charts.WEIGHTED_KEY))
    legend.append((_("Hidden: fewer than {k}, or x").format(k=results.k), charts.HIDDEN_KEY))
    return charts.bar_chart(
        f"chart-{index}",
        title=_("Answers to question {n}").format(n=index),
        description=_(
            "Horizontal bars: the share of people who gave each answer, with its 95% "
            "interval drawn as a line across the bar's end; the share and the number of "
            "people are written beside each bar. The table that follows has the same "
            "figures."
        ),
        bars=bars,
        legend=legend,
    )


def _dimension(value: str | None) -> str:
    return value if value in DIMENSIONS else ""


@require(Action.RESULTS_READ)
async def survey_results_page(request: web.Request) -> web.StreamResponse:
    """Results of one survey; ``?by=`` and ``?then=`` choose the breakdown."""
    language = page_language(request)
    _ = translator(language)
    first = _dimension(request.query.get("by"))
    second = _dimension(request.query.get("then"))
    by = tuple(d for d in (first, second) if d)
    if len(by) == 2 and by[0] == by[1]:
        by = by[:1]
    survey_id = request.match_info["survey_id"]
    results = await operations(request).results(
        caller(request), survey_id, by=by, language=language
    )
    breakdowns = {b.question_id: b for b in results.breakdowns}
    questions: list[dict[str, Any]] = []
    for index, question in enumerate(results.questions, 1):
        questions.append(
            {
                "index": index,
                "result": question,
                "chart": svg(choice_chart(results, index, question, _))
                if question.options
                else None,
                "breakdown": breakdowns.get(question.question_id),
                "shares": [
                    (label, question.shares.get(value)) for value, label in question.options
                ],
            }
        )
    texts = {q.question_id: q.text for q in results.questions}
    return await render(
        request,
        "results.html",
        {
            "results": results,
            "questions": questions,
            "funnel": [
                (f"{i}. {texts.get(qid, qid)}", figure)
                for i, (qid, figure) in enumerate(results.funnel, 1)
            ],
            "dimensions": [(d, DIMENSION_NAMES[d]) for d in DIMENSIONS],
            "by": first,
            "then": second if len(by) == 2 else "",
            "by_names": " · ".join(_(DIMENSION_NAMES[d]) for d in by),
            "representativeness": _(REPRESENTATIVENESS),
            "survey_id": survey_id,
            "api_query": ",".join(by),
        },
    )
