"""The monthly report as one self-contained HTML page: inline CSS, inline SVG, no script.

Every word is in the gettext catalogues (az, ru, en); numbers and dates follow
the reader's locale (Babel). The page is built for screen readers and for
paper: one ``h1``, sections with ``h2``, surveys with ``h3`` and their questions
with ``h4``; every table has a caption and headers with ``scope``; every chart
is an image with a title and a description, and its figures are in a table
beside it. Only published figures reach this module (``collect``): a hidden one
prints as its ``.text`` (``<5`` or ``x``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from html import escape

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from outreach.monthly_report import charts
from outreach.monthly_report.collect import (
    NOT_SAID,
    OTHER_REGIONS,
    UNKNOWN_CHANNEL,
    CampaignSection,
    MonthlyReport,
    Series,
    SurveySection,
    TextSummary,
    single,
)
from outreach.monthly_report.month import Period
from outreach.survey_results import REPRESENTATIVENESS
from polls.analysis import Figure
from polls.analysis.published import Breakdown, QuestionResults, Share
from polls.i18n import N_, Translator, translator
from polls.onboarding import region_label
from polls.survey import QuestionKind

CHANNEL_NAMES = {"telegram": "Telegram", "sms": "SMS"}
DIMENSION_NAMES = {
    "region": N_("Region"),
    "age_band": N_("Age band"),
    "gender": N_("Gender"),
    "language": N_("Language"),
    "channel": N_("Channel"),
}
STATUS_NAMES = {
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
    "skipped": N_("Skipped"),
    "unknown": N_("Outcome unknown"),
    "waiting": N_("Waiting to be sent"),
}
KIND_NAMES = {
    "announcement": N_("Announcement"),
    "survey_invitation": N_("Survey invitation"),
    "quiz_invitation": N_("Quiz invitation"),
    "event": N_("Event invitation"),
}
MODERATION_NAMES = {
    "approved": N_("Approved"),
    "pending": N_("Waiting for moderation"),
    "rejected": N_("Rejected"),
}

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial,
  sans-serif; color: #1b1b1b; background: #ffffff; max-width: 62rem; margin: 0 auto;
  padding: 1rem 1.25rem 3rem; }
a { color: #0b4f8c; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: #ffffff; padding: .5rem; z-index: 1; }
header { border-bottom: 4px solid #0b5ea8; padding-bottom: .75rem; margin-bottom: 1rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: .25rem 0 .5rem; }
h2 { font-size: 1.5rem; margin: 2.5rem 0 .75rem; padding-bottom: .25rem;
  border-bottom: 2px solid #0b5ea8; }
h3 { font-size: 1.25rem; margin: 2rem 0 .5rem; }
h4 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.lead { font-size: 1.05rem; color: #333333; margin: 0; }
.meta { color: #4a4a4a; margin: .25rem 0 0; font-size: .95rem; }
nav ol { columns: 2; margin: .25rem 0; }
.summary { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .75rem; }
.summary li { border: 1px solid #b8c7d6; border-radius: 6px; padding: .5rem .85rem;
  background: #f3f7fb; }
.summary strong { display: block; font-size: 1.5rem; }
.note { border-left: 4px solid #b34700; background: #fff6ee; padding: .6rem .85rem;
  margin: 1rem 0; }
.label { display: inline-block; font-size: .85rem; font-weight: 600; color: #ffffff;
  background: #4a4a4a; border-radius: 4px; padding: .05rem .45rem; }
figure { margin: 1rem 0; }
svg.chart { display: block; max-width: 100%; height: auto; }
.table-scroll { overflow-x: auto; }
table.data { border-collapse: collapse; margin: .5rem 0 1.5rem; min-width: min(100%, 36rem);
  font-variant-numeric: tabular-nums; }
table.data caption { caption-side: top; text-align: left; font-weight: 600;
  padding: .25rem 0 .4rem; }
table.data th, table.data td { border: 1px solid #b8b8b8; padding: .3rem .55rem;
  vertical-align: top; }
table.data thead th { background: #e8eff6; text-align: left; }
table.data tfoot th, table.data tfoot td { background: #f4f4f4; font-weight: 600; }
table.data th[scope=row] { text-align: left; font-weight: normal; min-width: 8rem; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
table.data .n { text-align: right; }
table.data td.n { white-space: nowrap; }
table.data .pct { display: block; color: #4a4a4a; font-size: .85em; }
table.wide { font-size: .9rem; }
footer { margin-top: 3rem; border-top: 1px solid #b8b8b8; padding-top: .75rem;
  color: #4a4a4a; font-size: .9rem; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  .skip, nav { display: none; }
  h2, h3, h4 { break-after: avoid; }
  figure, table.data, .summary, .note { break-inside: avoid; }
  .table-scroll { overflow: visible; }
  table.wide { font-size: 7.5pt; }
  table.wide th, table.wide td { padding: .15rem .3rem; }
  table.wide thead th { hyphens: auto; }
  a { color: inherit; text-decoration: none; }
}
"""


class _Page:
    """The report being written: the reader's translator, locale and the parts so far."""

    def __init__(self, report: MonthlyReport) -> None:
        self.report = report
        self.language = report.options.language
        self._: Translator = translator(self.language)
        self.k = report.options.k
        self.parts: list[str] = []
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ words and numbers

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def chart_id(self) -> str:
        return f"chart-{next(self._ids)}"

    def number(self, value: float | Decimal) -> str:
        return str(format_decimal(value, locale=self.language))

    def count(self, figure: Figure) -> str:
        """A published count in the reader's digits, or its hidden text (``<5``, ``x``)."""
        return self.number(figure.count) if figure.shown else figure.text

    def percent(self, value: float) -> str:
        """``42.5%``, ``42,5 %``: one decimal at most, as the locale writes percentages."""
        exact = Decimal(f"{value:.1f}").normalize() / 100
        return str(format_percent(exact, locale=self.language, decimal_quantization=False))

    def interval(self, low: float, high: float) -> str:
        return f"{self.number(Decimal(f'{low:.1f}').normalize())}–{self.percent(high)}"

    def month_name(self) -> str:
        return str(format_date(self.report.month.first_day, "LLLL y", locale=self.language))

    def day(self, day: date) -> str:
        return str(format_date(day, "d MMMM", locale=self.language))

    def period(self, period: Period) -> str:
        if period.first == period.last:
            return self.day(period.first)
        first = format_date(period.first, "d", locale=self.language)
        return f"{first}–{self.day(period.last)}"

    def short_period(self, period: Period) -> str:
        first = str(format_date(period.first, "d", locale=self.language))
        if period.first == period.last:
            return first
        return f"{first}–{format_date(period.last, 'd', locale=self.language)}"

    def region(self, value: str) -> str:
        _ = self._
        if value == OTHER_REGIONS:
            return _("Other regions")
        if value == NOT_SAID:
            return _("Region not given")
        return region_label(value, self.report.options.regions, _)

    def channel(self, value: str) -> str:
        if value == UNKNOWN_CHANNEL:
            return self._("Channel not known")
        return CHANNEL_NAMES.get(value, value)

    def hidden_label(self) -> str:
        return self._("Hidden: fewer than {k}, or x").format(k=self.k)

    # ------------------------------------------------------------------ building blocks

    def summary(self, *items: tuple[str, str]) -> None:
        """Key figures in boxes: the number large, what it counts below."""
        self.add(
            '<ul class="summary">'
            + "".join(
                f"<li><strong>{escape(number)}</strong>{escape(label)}</li>"
                for number, label in items
            )
            + "</ul>"
        )

    def figure(self, svg: str) -> None:
        """A chart with its title shown above it (screen readers read the SVG's own)."""
        found = re.search(r'<title id="[^"]+">(.*?)</title>', svg)
        caption = f'<figcaption aria-hidden="true">{found.group(1)}</figcaption>' if found else ""
        self.add(f"<figure>{caption}{svg}</figure>")

    def table(
        self,
        caption: str,
        head: Sequence[Sequence[tuple[str, str]]],
        rows: Iterable[tuple[str, Sequence[tuple[str, str]]]],
        foot: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
        *,
        wide: bool = False,
    ) -> None:
        """A data table: ``head`` rows of (html, attributes) cells, then rows of a header
        cell (html) and data cells (html, class)."""
        out = [
            '<div class="table-scroll">',
            f'<table class="data{" wide" if wide else ""}"><caption>{caption}</caption><thead>',
        ]
        for line in head:
            out.append(
                "<tr>" + "".join(f"<th{attrs}>{cell}</th>" for cell, attrs in line) + "</tr>"
            )
        out.append("</thead><tbody>")
        for header, cells in rows:
            out.append(self._row(header, cells))
        out.append("</tbody>")
        if foot:
            out.append("<tfoot>" + "".join(self._row(h, c) for h, c in foot) + "</tfoot>")
        out.append("</table></div>")
        self.add("".join(out))

    @staticmethod
    def _row(header: str, cells: Sequence[tuple[str, str]]) -> str:
        data = "".join(
            f'<td class="{css}">{html}</td>' if css else f"<td>{html}</td>" for html, css in cells
        )
        return f'<tr><th scope="row">{header}</th>{data}</tr>'

    @staticmethod
    def col(
        text: str, *, numeric: bool = False, span: int = 1, rowspan: int = 1
    ) -> tuple[str, str]:
        attrs = ' scope="colgroup"' if span > 1 else ' scope="col"'
        if span > 1:
            attrs += f' colspan="{span}"'
        if rowspan > 1:
            attrs += f' rowspan="{rowspan}"'
        if numeric:
            attrs += ' class="n"'
        return escape(text), attrs

    def n(self, figure: Figure) -> tuple[str, str]:
        return escape(self.count(figure)), "n"

    def share_cell(self, share: Share) -> tuple[str, str]:
        """A count with its percentage below it, or the hidden text alone."""
        text = escape(self.count(share.figure))
        if share.shown and share.percent is not None:
            text += f' <span class="pct">{escape(self.percent(share.percent))}</span>'
        return text, "n"


# ---------------------------------------------------------------------- the page


def render_report(report: MonthlyReport) -> str:
    """The whole report as one HTML document."""
    page = _Page(report)
    _ = page._
    month = page.month_name()
    title = _("Monthly report: {month}").format(month=month)
    page.add(
        "<!DOCTYPE html>",
        f'<html lang="{escape(page.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#main">' + escape(_("Skip to the report")) + "</a>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        '<p class="lead">' + escape(_("Surveys and campaigns on Telegram and by SMS.")) + "</p>",
        '<p class="meta">'
        + escape(
            _("From {first} to {last}, {zone} time. Made on {made}.").format(
                first=page.day(report.month.first_day),
                last=page.day(report.month.last_day),
                zone=report.month.zone.key,
                made=format_datetime(
                    report.generated_at,
                    "d MMMM y, HH:mm",
                    tzinfo=report.month.zone,
                    locale=page.language,
                ),
            )
        )
        + "</p>",
        "</header>",
    )
    sections = [
        ("reading", _("How to read this report")),
        ("engagement", _("Who took part")),
        ("surveys", _("Surveys")),
        ("themes", _("What people wrote about")),
        ("campaigns", _("Messages sent")),
    ]
    page.add(
        '<nav aria-labelledby="contents"><h2 id="contents">'
        + escape(_("Contents"))
        + "</h2><ol>"
        + "".join(f'<li><a href="#{anchor}">{escape(name)}</a></li>' for anchor, name in sections)
        + "</ol></nav>",
        '<main id="main">',
    )
    _reading(page, sections[0][1])
    _engagement(page, sections[1][1])
    _surveys(page, sections[2][1])
    _texts(page, sections[3][1], report.texts)
    _campaigns(page, sections[4][1])
    page.add(
        "</main>",
        "<footer><p>"
        + escape(
            _(
                "Made by sdg-outreach from its database. No figure describes fewer than {k} "
                "people; no name, phone number or answer text is shown."
            ).format(k=page.k)
        )
        + "</p></footer>",
        "</body>",
        "</html>",
    )
    return "\n".join(page.parts) + "\n"


def _section(page: _Page, anchor: str, title: str) -> None:
    page.add(f'<section id="{anchor}" aria-labelledby="{anchor}-h">')
    page.add(f'<h2 id="{anchor}-h">{escape(title)}</h2>')


def _reading(page: _Page, title: str) -> None:
    _ = page._
    _section(page, "reading", title)
    k = page.k
    paragraphs = [
        _("Counts are of people, unless a table says it counts messages or answers."),
        _(
            "To protect the people who answered, no figure describes fewer than {k} people: "
            "a count under {k} reads “<{k}”, and “x” marks a figure hidden so that a small "
            "one cannot be worked out from the others."
        ).format(k=k),
        _(
            "Percentages come with a 95% interval: the range the share would most likely "
            "fall in if many more people like these had answered."
        ),
        _(
            "No answer is quoted. Free text appears only as counts of themes, words and "
            "phrases, read from answers staff approved."
        ),
    ]
    page.add(*(f"<p>{escape(text)}</p>" for text in paragraphs))
    page.add(
        '<p class="note"><strong>'
        + escape(_("Who these figures describe:"))
        + "</strong> "
        + escape(_(REPRESENTATIVENESS))
        + "</p>"
    )
    page.add("</section>")


# ---------------------------------------------------------------------- 1. engagement


def _engagement(page: _Page, title: str) -> None:
    _ = page._
    engagement = page.report.engagement
    per_day = page.report.options.per == "day"
    _section(page, "engagement", title)
    page.summary(
        (page.count(engagement.answered), _("people answered at least one question")),
        (page.count(engagement.new), _("new participants agreed to take part")),
    )
    page.add(
        "<p>"
        + escape(
            _(
                "Each person counts once in the month: on the day and channel of their "
                "first answer this month. New participants are people who agreed to take "
                "part this month, on the channel they joined on."
            )
        )
        + "</p>",
    )
    page.add(
        "<h3>"
        + escape(_("By channel, per day") if per_day else _("By channel, per week"))
        + "</h3>"
    )
    answered, new = engagement.by_channel, engagement.new_by_channel
    categories = [page.short_period(p) for p in answered.periods]
    description = (
        _(
            "Bars for each day and channel. Hidden figures are small hatched marks at the "
            "bottom. The table after the charts gives every figure."
        )
        if per_day
        else _(
            "Bars for each week and channel. Hidden figures are small hatched marks at the "
            "bottom. The table after the charts gives every figure."
        )
    )
    for series, chart_title in (
        (
            answered,
            _("People who answered, by the day of their first answer this month and channel")
            if per_day
            else _("People who answered, by the week of their first answer this month and channel"),
        ),
        (
            new,
            _("New participants, per day, by channel")
            if per_day
            else _("New participants, per week, by channel"),
        ),
    ):
        page.figure(
            charts.column_chart(
                page.chart_id(),
                title=chart_title,
                description=description,
                categories=categories,
                series=[
                    charts.Series(
                        page.channel(column),
                        [series.cell(i, column) for i in range(len(series.periods))],
                    )
                    for column in series.columns
                ],
                hidden_label=page.hidden_label(),
                axis_label=page.month_name(),
            )
        )
    both = _("Both channels")
    head = [
        [
            page.col(_("Date") if per_day else _("Week"), rowspan=2),
            page.col(_("People who answered"), span=len(answered.columns) + 1),
            page.col(_("New participants"), span=len(new.columns) + 1),
        ],
        [
            *(page.col(page.channel(c), numeric=True) for c in answered.columns),
            page.col(both if len(answered.columns) == 2 else _("All"), numeric=True),
            *(page.col(page.channel(c), numeric=True) for c in new.columns),
            page.col(both if len(new.columns) == 2 else _("All"), numeric=True),
        ],
    ]

    def cells(index: int) -> list[tuple[str, str]]:
        return [
            *(page.n(answered.cell(index, c)) for c in answered.columns),
            page.n(answered.row_total(index)),
            *(page.n(new.cell(index, c)) for c in new.columns),
            page.n(new.row_total(index)),
        ]

    def totals(series: Series) -> list[tuple[str, str]]:
        return [
            *(page.n(series.table.column_totals[c]) for c in series.columns),
            page.n(series.table.grand_total),
        ]

    page.table(
        escape(
            _(
                "People who answered (on the day of their first answer this month) and new "
                "participants, by channel"
            )
            if per_day
            else _(
                "People who answered (in the week of their first answer this month) and new "
                "participants, by channel"
            )
        ),
        head,
        ((escape(page.period(p)), cells(i)) for i, p in enumerate(answered.periods)),
        [(escape(_("Whole month")), [*totals(answered), *totals(new)])],
    )
    _regions(page)
    page.add("</section>")


def _regions(page: _Page) -> None:
    _ = page._
    engagement = page.report.engagement
    counts = engagement.by_region
    total = counts.total
    names = {region: page.region(region) for region in engagement.regions}

    def share(figure: Figure) -> float | None:
        if figure.shown and total.shown and total.count:
            return 100 * figure.count / total.count
        return None

    page.add("<h3>" + escape(_("By region")) + "</h3>")
    chart_id = page.chart_id()
    page.figure(
        charts.bar_chart(
            chart_id,
            title=_("People who answered this month, by region"),
            description=_(
                "Horizontal bars: the share of this month's people in each region; the "
                "number of people is written beside each bar. The table that follows has "
                "the same figures."
            ),
            bars=[
                charts.Bar(
                    names[region],
                    share(counts.cells[region]),
                    page.count(counts.cells[region])
                    if (s := share(counts.cells[region])) is None
                    else f"{page.percent(s)} ({page.count(counts.cells[region])})",
                )
                for region in engagement.regions
            ],
            legend=[
                (_("Share of this month's people"), charts.PALETTE[0]),
                (page.hidden_label(), charts.HIDDEN_KEY),
            ],
        )
    )
    named = len([r for r in engagement.regions if r not in (OTHER_REGIONS, NOT_SAID)])
    page.table(
        escape(
            _(
                "People who answered this month, by region: the {n} regions most people "
                "answered from, and the rest together"
            ).format(n=named)
        ),
        [
            [
                page.col(_("Region")),
                page.col(_("People"), numeric=True),
                page.col(_("Share"), numeric=True),
            ]
        ],
        (
            (
                escape(names[region]),
                [
                    page.n(counts.cells[region]),
                    (
                        escape(page.percent(s))
                        if (s := share(counts.cells[region])) is not None
                        else "",
                        "n",
                    ),
                ],
            )
            for region in engagement.regions
        ),
        [(escape(_("All regions")), [page.n(total), ("", "n")])],
    )


# ---------------------------------------------------------------------- 2. surveys


def _surveys(page: _Page, title: str) -> None:
    _ = page._
    _section(page, "surveys", title)
    surveys = page.report.surveys
    if not surveys:
        page.add("<p>" + escape(_("No survey had answers this month.")) + "</p></section>")
        return
    if page.report.options.to_date:
        intro = _(
            "Every survey with answers this month. Its results count all answers to "
            "date, not only this month's; the month's own figure is the number of "
            "people who answered it this month."
        )
    else:
        intro = _(
            "Every survey with answers this month, with the results of this month: the "
            "people who began it this month and the answers given this month."
        )
    page.add("<p>" + escape(intro) + "</p>")
    for number, section in enumerate(surveys, 1):
        _survey(page, number, section)
    page.add("</section>")


def _survey(page: _Page, number: int, section: SurveySection) -> None:
    _ = page._
    results = section.results
    page.add(f'<article id="survey-{number}" aria-labelledby="survey-{number}-h">')
    page.add(f'<h3 id="survey-{number}-h">{escape(results.title)}</h3>')
    completed = results.completed
    if page.report.options.to_date:
        page.summary(
            (page.count(section.people_this_month), _("people answered it this month")),
            (page.count(results.started), _("people began it, all answers to date")),
            (page.count(completed.figure), _("people completed it, all answers to date")),
        )
        scope = _("Results: all answers to date")
    else:
        page.summary(
            (page.count(results.started), _("people began it this month")),
            (page.count(completed.figure), _("of them completed it")),
        )
        scope = _("Results: answers given this month")
    if completed.shown and completed.percent is not None:
        rate = _("{percent} of the people who began it completed it.").format(
            percent=page.percent(completed.percent)
        )
    else:
        rate = ""
    page.add(
        '<p><span class="label">'
        + escape(scope)
        + "</span>"
        + (" " + escape(rate) if rate else "")
        + "</p>"
    )
    _weighting(page, section)
    _funnel(page, section)
    breakdowns = {b.question_id: b for b in results.breakdowns}
    for index, question in enumerate(results.questions, 1):
        _question(page, index, question, breakdowns.get(question.question_id), section)
    _invitations(page, section)
    page.add("</article>")


def _weighting(page: _Page, section: SurveySection) -> None:
    _ = page._
    weighting = section.results.weighting
    if weighting is None:
        return
    dimensions = ", ".join(_(DIMENSION_NAMES.get(d, d)).lower() for d in weighting.dimensions)
    text = _("Weighted percentages are raked to the population's shares by {dimensions}.").format(
        dimensions=dimensions
    )
    if section.results.started.shown:
        text += " " + _("The effective sample size is about {n} people.").format(
            n=page.number(round(weighting.effective_sample_size))
        )
    if not weighting.converged:
        text += " " + _(
            "The weights did not settle (raking did not converge): read the weighted "
            "percentages with care."
        )
    page.add(f"<p>{escape(text)}</p>")


def _funnel(page: _Page, section: SurveySection) -> None:
    _ = page._
    results = section.results
    texts = {q.question_id: q.text for q in results.questions}
    started = results.started
    steps: list[tuple[str, Figure]] = [(_("Began the survey"), started)]
    steps += [
        (f"{i}. {texts.get(question_id, question_id)}", figure)
        for i, (question_id, figure) in enumerate(results.funnel, 1)
    ]
    steps.append((_("Completed the survey"), results.completed.figure))

    def share(figure: Figure) -> float | None:
        if figure.shown and started.shown and started.count:
            return 100 * figure.count / started.count
        return None

    page.add("<h4>" + escape(_("How far people got")) + "</h4>")
    chart_id = page.chart_id()
    page.figure(
        charts.bar_chart(
            chart_id,
            title=_("How far people got in “{survey}”").format(survey=results.title),
            description=_(
                "Horizontal bars: of the people who began the survey, the share who answered "
                "each question and who completed it; the number of people is written beside "
                "each bar. The table that follows has the same figures."
            ),
            bars=[
                charts.Bar(
                    label,
                    share(figure),
                    page.count(figure)
                    if share(figure) is None
                    else f"{page.count(figure)} ({page.percent(share(figure) or 0)})",
                )
                for label, figure in steps
            ],
            legend=[
                (_("Share of those who began"), charts.PALETTE[0]),
                (page.hidden_label(), charts.HIDDEN_KEY),
            ],
        )
    )
    page.table(
        escape(_("People who began the survey, answered each question and completed it")),
        [
            [
                page.col(_("Step")),
                page.col(_("People"), numeric=True),
                page.col(_("Share of those who began"), numeric=True),
            ]
        ],
        (
            (
                escape(label),
                [
                    page.n(figure),
                    (escape(page.percent(s)) if (s := share(figure)) is not None else "", "n"),
                ],
            )
            for label, figure in steps
        ),
    )


def _question(
    page: _Page,
    index: int,
    question: QuestionResults,
    breakdown: Breakdown | None,
    section: SurveySection,
) -> None:
    _ = page._
    page.add(f"<h4>{escape(f'{index}. {question.text}')}</h4>")
    kind = question.kind
    notes = [_("Answered: {n}.").format(n=page.count(question.answered))]
    if kind == QuestionKind.MULTIPLE_CHOICE.value:
        notes.append(
            _("People could pick more than one answer, so the percentages add up to more than 100.")
        )
    if kind == QuestionKind.TEXT.value:
        notes.append(
            _(
                "Free-text answers are not quoted here: what people wrote about is counted "
                "under “What people wrote about”."
            )
        )
    page.add(f"<p>{escape(' '.join(notes))}</p>")
    if question.options:
        _choice_results(page, index, question, weighted=section.results.weighting is not None)
    elif kind == QuestionKind.NUMBER.value and question.mean is not None:
        rows = [(_("Mean"), question.mean), (_("Median"), question.median)]
        page.table(
            escape(_("Numbers given in answer to question {n}").format(n=index)),
            [[page.col(_("Figure")), page.col(_("Value"), numeric=True)]],
            (
                (escape(name), [(escape(page.number(round(value, 1))), "n")])
                for name, value in rows
                if value is not None
            ),
        )
    if breakdown is not None and (breakdown.options or breakdown.means):
        _breakdown(page, index, breakdown, section)


def _choice_results(page: _Page, index: int, question: QuestionResults, *, weighted: bool) -> None:
    _ = page._
    bars = []
    for value, label in question.options:
        share = question.shares.get(value, Share(single(0, page.k)))
        shown = share.shown and share.percent is not None
        bars.append(
            charts.Bar(
                label,
                share.percent if shown else None,
                f"{page.percent(share.percent or 0)} ({page.count(share.figure)})"
                if shown
                else page.count(share.figure),
                share.low if shown else None,
                share.high if shown else None,
                share.weighted_percent if shown else None,
            )
        )
    chart_id = page.chart_id()
    legend = [
        (_("Share of people who answered"), charts.PALETTE[0]),
        (_("95% interval"), charts.INTERVAL_KEY),
    ]
    if weighted:
        legend.append((_("Weighted share"), charts.WEIGHTED_KEY))
    legend.append((page.hidden_label(), charts.HIDDEN_KEY))
    page.figure(
        charts.bar_chart(
            chart_id,
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
    )
    head = [
        page.col(_("Answer")),
        page.col(_("People"), numeric=True),
        page.col(_("Percent"), numeric=True),
        page.col(_("95% interval"), numeric=True),
    ]
    if weighted:
        head.append(page.col(_("Weighted percent"), numeric=True))

    def cells(share: Share) -> list[tuple[str, str]]:
        shown = share.shown and share.percent is not None
        row = [
            page.n(share.figure),
            (escape(page.percent(share.percent or 0)) if shown else "", "n"),
            (
                escape(page.interval(share.low, share.high))
                if shown and share.low is not None and share.high is not None
                else "",
                "n",
            ),
        ]
        if weighted:
            row.append(
                (
                    escape(page.percent(share.weighted_percent))
                    if shown and share.weighted_percent is not None
                    else "",
                    "n",
                )
            )
        return row

    page.table(
        escape(_("Answers to question {n}").format(n=index)),
        [head],
        (
            (escape(label), cells(question.shares.get(value, Share(single(0, page.k)))))
            for value, label in question.options
        ),
    )


def _breakdown(page: _Page, index: int, breakdown: Breakdown, section: SurveySection) -> None:
    """Segments by answers; with more answers than segments, answers run down the page."""
    _ = page._
    results = section.results
    by = " · ".join(_(DIMENSION_NAMES.get(d, d)) for d in breakdown.dimensions)
    if breakdown.options:
        caption = _(
            "Question {n} by {dimensions}: people who answered, and how many gave each "
            "answer with their share"
        )
    else:
        caption = _(
            "Question {n} by {dimensions}: people who answered, and the mean of the numbers "
            "they gave"
        )
    caption = escape(caption.format(n=index, dimensions=by.lower()))
    segments = breakdown.segments
    labels = [results.segment_label(segment) for segment in segments]
    if breakdown.options and len(breakdown.options) > len(segments):
        page.table(
            caption,
            [[page.col(_("Answer")), *(page.col(label, numeric=True) for label in labels)]],
            [
                (escape(_("Answered")), [page.n(breakdown.answered[s]) for s in segments]),
                *(
                    (
                        escape(label),
                        [page.share_cell(breakdown.cells[(s, value)]) for s in segments],
                    )
                    for value, label in breakdown.options
                ),
            ],
            wide=len(segments) > 6,
        )
        return
    head = [page.col(by), page.col(_("Answered"), numeric=True)]
    if breakdown.options:
        head += [page.col(label, numeric=True) for _value, label in breakdown.options]
    else:
        head.append(page.col(_("Mean"), numeric=True))

    def cells(segment: tuple[str | None, ...]) -> list[tuple[str, str]]:
        row = [page.n(breakdown.answered[segment])]
        if breakdown.options:
            row += [
                page.share_cell(breakdown.cells[(segment, value)])
                for value, _l in breakdown.options
            ]
        else:
            mean = breakdown.means.get(segment)
            row.append((escape(page.number(round(mean, 1))) if mean is not None else "", "n"))
        return row

    page.table(
        caption,
        [head],
        ((escape(label), cells(s)) for label, s in zip(labels, segments, strict=True)),
        wide=len(head) > 7,
    )


def _invitations(page: _Page, section: SurveySection) -> None:
    _ = page._
    invitations = section.results.invitations
    if not invitations:
        return
    page.add("<h4>" + escape(_("Invitations to this survey")) + "</h4>")
    page.table(
        escape(
            _(
                "People each invitation to this survey reached (all invitations to date), "
                "and of them those who began and who completed the survey afterwards"
            )
        ),
        [
            [
                page.col(_("Campaign")),
                page.col(_("Reached"), numeric=True),
                page.col(_("Began"), numeric=True),
                page.col(_("Completed"), numeric=True),
            ]
        ],
        (
            (
                escape(invitation.name),
                [
                    page.n(invitation.reached),
                    page.share_cell(invitation.responded),
                    page.share_cell(invitation.completed),
                ],
            )
            for invitation in invitations
        ),
    )


# ---------------------------------------------------------------------- 3. free text


def _texts(page: _Page, title: str, texts: TextSummary) -> None:
    _ = page._
    k = page.k
    _section(page, "themes", title)
    page.add(
        "<p>"
        + escape(
            _(
                "Only free-text answers staff approved are read, and none is quoted. A theme, "
                "word or phrase is listed only when at least {k} answers mention it; an "
                "answer may mention several."
            ).format(k=k)
        )
        + "</p>"
    )
    moderation = texts.moderation
    page.table(
        escape(_("Free-text answers given this month, by moderation")),
        [[page.col(_("Moderation")), page.col(_("Answers"), numeric=True)]],
        ((escape(_(MODERATION_NAMES[s])), [page.n(f)]) for s, f in moderation.cells.items()),
        [(escape(_("All")), [page.n(moderation.total)])],
    )
    page.add("<h3>" + escape(_("Themes")) + "</h3>")
    base = texts.moderation.cells["approved"]
    if not texts.themes_loaded:
        page.add("<p>" + escape(_("No theme list was given, so themes are left out.")) + "</p>")
    elif not texts.themes:
        page.add(
            "<p>"
            + escape(_("No theme was mentioned by {k} or more approved answers.").format(k=k))
            + "</p>"
        )
    else:

        def share(n: int) -> float | None:
            return 100 * n / base.count if base.shown and base.count else None

        rows = [
            (theme.name.get(page.language) or theme.name.get("en") or theme.id, theme.goal, n)
            for theme, n in texts.themes
        ]
        if base.shown and base.count:
            bars = [
                charts.Bar(label, share(n), f"{page.percent(share(n) or 0)} ({page.number(n)})")
                for label, _goal, n in rows
            ]
            scale, legend = 100.0, _("Share of approved answers")
        else:  # the share would tell the hidden number of approved answers: counts only
            bars = [charts.Bar(label, n, page.number(n)) for label, _goal, n in rows]
            scale = charts.nice_ceiling(max(n for _l, _g, n in rows))[0]
            legend = _("Approved answers")
        page.figure(
            charts.bar_chart(
                page.chart_id(),
                title=_("Approved answers mentioning each theme"),
                description=_(
                    "Horizontal bars: how many approved answers mention each theme; the number "
                    "is written beside each bar. The table that follows has the same figures."
                ),
                bars=bars,
                scale=scale,
                percent_axis=scale == 100.0 and base.shown,
                legend=[(legend, charts.PALETTE[0])],
            )
        )
        page.table(
            escape(_("Themes of this month's approved answers")),
            [
                [
                    page.col(_("Theme")),
                    page.col(_("Goal"), numeric=True),
                    page.col(_("Answers"), numeric=True),
                    page.col(_("Share of approved answers"), numeric=True),
                ]
            ],
            (
                (
                    escape(label),
                    [
                        (escape(str(goal)) if goal else "", "n"),
                        (escape(page.number(n)), "n"),
                        (escape(page.percent(s)) if (s := share(n)) is not None else "", "n"),
                    ],
                )
                for label, goal, n in rows
            ),
        )
    if texts.unmatched_language:
        page.add(
            "<p>"
            + escape(
                _(
                    "Some answers ({n}) were in a language the theme list has no keywords for."
                ).format(n=page.count(single(texts.unmatched_language, k)))
            )
            + "</p>"
        )
    page.add("<h3>" + escape(_("Words and phrases used most")) + "</h3>")
    if not texts.terms and not texts.phrases:
        page.add(
            "<p>"
            + escape(_("No word was used in {k} or more approved answers.").format(k=k))
            + "</p>"
        )
    for caption, header, found in (
        (_("Words most approved answers use"), _("Word"), texts.terms),
        (_("Two-word phrases most approved answers use"), _("Phrase"), texts.phrases),
    ):
        if not found:
            continue
        page.table(
            escape(caption),
            [
                [
                    page.col(header),
                    page.col(_("Language")),
                    page.col(_("Answers"), numeric=True),
                ]
            ],
            (
                (
                    f'<span lang="{escape(term.language)}">{escape(term.text)}</span>',
                    [(escape(term.language), ""), (escape(page.number(term.answers)), "n")],
                )
                for term in found
            ),
        )
    page.add("</section>")


# ---------------------------------------------------------------------- 4. campaigns


def _campaigns(page: _Page, title: str) -> None:
    _ = page._
    _section(page, "campaigns", title)
    campaigns = page.report.campaigns
    if not campaigns:
        page.add("<p>" + escape(_("No campaign had a sending due this month.")) + "</p></section>")
        return
    page.add(
        "<p>"
        + escape(
            _(
                "Campaigns with a sending due this month, and what became of each message. "
                "These tables count messages: a person gets one message per sending. "
                "Telegram reports no delivery, so its messages stay “sent”; an SMS becomes "
                "“delivered” when the operator confirms it."
            )
        )
        + "</p>"
    )
    for campaign in campaigns:
        _campaign(page, campaign)
    page.add("</section>")


def _campaign(page: _Page, campaign: CampaignSection) -> None:
    _ = page._
    page.add(f"<h3>{escape(campaign.name)}</h3>")
    kind = _(KIND_NAMES[campaign.kind]) if campaign.kind in KIND_NAMES else campaign.kind
    page.add(
        "<p>"
        + escape(
            _("{kind}; sendings due this month: {runs}.").format(
                kind=kind, runs=page.number(campaign.runs)
            )
        )
        + "</p>"
    )
    table = campaign.table
    page.table(
        escape(_("Messages of “{name}” by channel and status").format(name=campaign.name)),
        [
            [
                page.col(_("Channel")),
                *(page.col(_(STATUS_NAMES[s]), numeric=True) for s in campaign.statuses),
                page.col(_("All"), numeric=True),
            ]
        ],
        (
            (
                escape(page.channel(channel)),
                [
                    *(page.n(table.cells[(channel, s)]) for s in campaign.statuses),
                    page.n(table.row_totals[channel]),
                ],
            )
            for channel in campaign.channels
        ),
        [
            (
                escape(_("All")),
                [
                    *(page.n(table.column_totals[s]) for s in campaign.statuses),
                    page.n(table.grand_total),
                ],
            )
        ]
        if len(campaign.channels) > 1
        else [],
    )
    if not campaign.segments_per_sms:
        return
    options = page.report.options
    page.table(
        escape(_("SMS segments of “{name}”").format(name=campaign.name)),
        [[page.col(_("Encoding")), page.col(_("Segments per message"), numeric=True)]],
        (
            (escape(encoding), [(escape(page.number(round(each, 1))), "n")])
            for encoding, each in campaign.segments_per_sms.items()
        ),
    )
    if campaign.sms_segments is None:
        cost = _(
            "The total of segments and its cost are not shown: set against the table above, "
            "they could reveal a figure hidden there."
        )
    elif options.segment_price > 0:
        cost = _("All SMS of these sendings: {segments} segments, about {cost} {currency}.").format(
            segments=page.number(campaign.sms_segments),
            cost=page.number(round(campaign.sms_segments * options.segment_price, 2)),
            currency=options.currency,
        )
    else:
        cost = _("All SMS of these sendings: {segments} segments.").format(
            segments=page.number(campaign.sms_segments)
        )
    page.add(
        "<p>"
        + escape(cost)
        + " "
        + escape(
            _(
                "Each segment is billed as one SMS: in GSM-7 one holds 160 characters, in "
                "UCS-2 (needed for ə, ş and Cyrillic letters) only 70."
            )
        )
        + "</p>"
    )
