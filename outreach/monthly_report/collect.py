"""Everything the monthly report shows, read from the database and made safe to publish.

Counts come from ``storage.report_queries`` and ``outreach.survey_results``;
every count of people passes ``polls.analysis`` suppression here, before the
report is drawn, so rendering only ever sees :class:`Figure` objects (a count
with the text to print: the count, ``<k`` or ``x``). Free text is read in
batches straight into the text-analysis tallies and dropped: only counts of
answers per theme, term and phrase (each of at least ``k`` answers) remain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from outreach.monthly_report.month import Period, ReportMonth
from outreach.survey_results import SurveyResults, survey_results
from polls.analysis import (
    Figure,
    HiddenBecause,
    Margins,
    SuppressedCounts,
    SuppressedTable,
    display,
    suppress_counts,
    suppress_table,
)
from polls.onboarding import DEFAULT_REGIONS
from polls.results import MIN_GROUP
from polls.text_analysis import (
    TermCount,
    TermTally,
    Theme,
    ThemeDictionary,
    ThemeTally,
)
from storage.database import Database, Work
from storage.report_queries import (
    CampaignDelivery,
    FirstAnswers,
    PeriodCounts,
    ReportRepository,
)

CHANNELS = ("telegram", "sms")
UNKNOWN_CHANNEL = "unknown"
"""New people whose channel is not known any more (they erased their identity)."""
OTHER_REGIONS = "other"
NOT_SAID = "not_said"
DELIVERY_STATUSES = ("sent", "delivered", "failed", "skipped", "unknown", "waiting")
"""Outbox states as the report shows them; pending and sending are "waiting"."""
TOP_TERMS = 10


@dataclass(frozen=True)
class ReportOptions:
    language: str = "en"
    k: int = MIN_GROUP
    per: str = "day"
    """Periods of the engagement series by channel: day or week."""
    by: tuple[str, ...] = ("region",)
    """One or two dimensions of each survey's breakdown."""
    margins: Margins | None = None
    themes: ThemeDictionary | None = None
    regions: Sequence[str] = DEFAULT_REGIONS
    default_language: str = "az"
    """The language of free text whose author's language is not known."""
    top_regions: int = 5
    segment_price: float = 0.0
    currency: str = "USD"
    to_date: bool = False
    """Survey results from every answer to date, rather than the month's answers."""


@dataclass(frozen=True)
class Series:
    """A periods-by-channels table of people, suppressed as one table.

    Each person is in one cell (the period and channel of their first answer,
    or of their joining), so the row totals are the people of a period, the
    column totals those of a channel, and the grand total the month's people.
    """

    periods: list[Period]
    columns: list[str]
    table: SuppressedTable

    def cell(self, index: int, column: str) -> Figure:
        return self.table.cells[(str(index), column)]

    def row_total(self, index: int) -> Figure:
        return self.table.row_totals[str(index)]


@dataclass(frozen=True)
class Engagement:
    """Who took part in the month, each person counted once.

    ``by_channel`` and ``by_region`` are two sides of one count (people by the
    period, channel and region of their first answer in the month): they share
    their grand total, the month's people, and nothing else.
    """

    by_channel: Series
    """Per period, people whose first answer of the month fell in it, by its channel."""
    new_by_channel: Series
    """Per period, people who agreed to take part in it, by the channel they joined on."""
    regions: list[str]
    """The top regions, then OTHER_REGIONS and NOT_SAID if there are any."""
    by_region: SuppressedCounts

    @property
    def answered(self) -> Figure:
        """People who answered at least one question in the month."""
        return self.by_channel.table.grand_total

    @property
    def new(self) -> Figure:
        """People who agreed to take part in the month."""
        return self.new_by_channel.table.grand_total


@dataclass(frozen=True)
class SurveySection:
    results: SurveyResults
    """Of the month's answers and sessions begun, or of all to date (``to_date``)."""
    people_this_month: Figure
    """People who answered at least one of its questions in the month."""


@dataclass(frozen=True)
class TextSummary:
    moderation: SuppressedCounts
    """Free-text answers of the month: approved, pending, rejected."""
    themes: list[tuple[Theme, int]]
    """Themes at least ``k`` answers mention, most mentioned first."""
    terms: tuple[TermCount, ...] = ()
    phrases: tuple[TermCount, ...] = ()
    unmatched_language: int = 0
    themes_loaded: bool = True


@dataclass(frozen=True)
class CampaignSection:
    name: str
    kind: str
    runs: int
    channels: list[str]
    statuses: list[str]
    table: SuppressedTable
    segments_per_sms: dict[str, float] = field(default_factory=dict)
    """Per SMS encoding, segments per message: a property of the text, not of people."""
    sms_segments: int | None = None
    """All SMS segments of the month's sendings; None when they could reveal a hidden count."""


@dataclass(frozen=True)
class MonthlyReport:
    month: ReportMonth
    options: ReportOptions
    generated_at: datetime
    engagement: Engagement
    surveys: list[SurveySection]
    texts: TextSummary
    campaigns: list[CampaignSection]


def single(count: int, k: int) -> Figure:
    """One published count with nothing beside it: hidden when under ``k``."""
    return suppress_counts({"count": count}, k=k).total


def _hidden(figure: Figure, k: int) -> Figure:
    if not figure.shown:
        return figure
    return Figure(figure.count, HiddenBecause.COMPLEMENTARY, display(figure.count, False, k))


def hide_table(table: SuppressedTable) -> SuppressedTable:
    """The table with every figure hidden (when another table would undo its protection)."""
    k = table.k
    return SuppressedTable(
        k,
        table.rows,
        table.columns,
        {key: _hidden(f, k) for key, f in table.cells.items()},
        {key: _hidden(f, k) for key, f in table.row_totals.items()},
        {key: _hidden(f, k) for key, f in table.column_totals.items()},
        _hidden(table.grand_total, k),
    )


def hide_counts(counts: SuppressedCounts) -> SuppressedCounts:
    k = counts.k
    return SuppressedCounts(
        k, {key: _hidden(f, k) for key, f in counts.cells.items()}, _hidden(counts.total, k)
    )


def _series(
    counts: PeriodCounts,
    periods: list[Period],
    columns: list[str],
    column_of: dict[str, str],
    k: int,
) -> Series:
    rows = {str(i): dict.fromkeys(columns, 0) for i in range(len(periods))}
    for (index, value), count in counts.items():
        column = column_of.get(value or "", column_of.get("*", ""))
        if column:
            rows[str(index)][column] += count
    return Series(periods, columns, suppress_table(rows, columns=columns, k=k))


def _top_regions(per_region: dict[str | None, int], top: int) -> tuple[list[str], dict[str, int]]:
    """The ``top`` regions most people answered from, the others together, then not said."""
    named = sorted(
        ((region, n) for region, n in per_region.items() if region is not None and n > 0),
        key=lambda item: (-item[1], item[0]),
    )
    counts = dict(named[:top])
    if len(named) > top:
        counts[OTHER_REGIONS] = sum(n for _region, n in named[top:])
    if per_region.get(None):
        counts[NOT_SAID] = per_region[None]
    return list(counts), counts


async def collect_engagement(
    db: Database, month: ReportMonth, options: ReportOptions
) -> Engagement:
    periods = month.days() if options.per == "day" else month.weeks()
    edges = month.boundaries(periods)

    def read(session: Session) -> tuple[FirstAnswers, PeriodCounts]:
        repository = ReportRepository(session)
        return (
            repository.first_answers(boundaries=edges),
            repository.new_respondents(boundaries=edges),
        )

    firsts, new = await db.read(read)
    k = options.k
    by_channel: PeriodCounts = {}
    per_region: dict[str | None, int] = {}
    for (index, channel, region), count in firsts.items():
        by_channel[(index, channel)] = by_channel.get((index, channel), 0) + count
        per_region[region] = per_region.get(region, 0) + count
    # Telegram and SMS always, in that order; a channel added later gets a column too.
    answered_columns = [*CHANNELS, *sorted({c for _i, c in by_channel} - set(CHANNELS))]
    answered = _series(by_channel, periods, answered_columns, {c: c for c in answered_columns}, k)
    channels = {c: c for c in CHANNELS}
    new_columns = list(CHANNELS)
    if any(channel not in CHANNELS for (_i, channel) in new):
        new_columns.append(UNKNOWN_CHANNEL)
        channels = {**channels, "": UNKNOWN_CHANNEL, "*": UNKNOWN_CHANNEL}
    regions, region_counts = _top_regions(per_region, options.top_regions)
    by_region = suppress_counts(region_counts, k=k)
    # The two tables share one figure, the month's people: if one had to hide it,
    # the other must not show it (nor anything that adds up to it).
    if not answered.table.grand_total.shown and by_region.total.shown:
        by_region = hide_counts(by_region)
    elif answered.table.grand_total.shown and not by_region.total.shown:
        answered = Series(answered.periods, answered.columns, hide_table(answered.table))
    return Engagement(
        by_channel=answered,
        new_by_channel=_series(new, periods, new_columns, channels, k),
        regions=regions,
        by_region=by_region,
    )


async def collect_surveys(
    db: Database, month: ReportMonth, options: ReportOptions
) -> list[SurveySection]:
    """Each survey answered in the month: its results (the month's, or all to date)."""
    answered = await db.read(
        lambda s: ReportRepository(s).surveys_answered(since=month.since, until=month.until)
    )
    sections = []
    for survey_id in sorted(answered, key=lambda s: (-answered[s], s)):
        results = await survey_results(
            db,
            survey_id,
            dimensions=options.by,
            k=options.k,
            margins=options.margins,
            language=options.language,
            regions=options.regions,
            window=None if options.to_date else (month.since, month.until),
        )
        sections.append(SurveySection(results, single(answered[survey_id], options.k)))
    return sections


def _approved_texts(month: ReportMonth, after: int) -> Work[list[tuple[int, str, str | None]]]:
    def work(session: Session) -> list[tuple[int, str, str | None]]:
        return ReportRepository(session).approved_texts(
            since=month.since, until=month.until, after_id=after
        )

    return work


async def collect_texts(db: Database, month: ReportMonth, options: ReportOptions) -> TextSummary:
    """Themes and top terms of the month's approved free text; never the text itself."""
    moderation = await db.read(
        lambda s: ReportRepository(s).text_answers(since=month.since, until=month.until)
    )
    terms = TermTally()
    themes = ThemeTally(options.themes) if options.themes is not None else None
    after = 0
    while True:
        batch = await db.read(_approved_texts(month, after))
        if not batch:
            break
        for _id, text, language in batch:
            written_in = language or options.default_language
            terms.add(text, written_in)
            if themes is not None:
                themes.add(text, written_in)
        after = batch[-1][0]
        del batch
    k = options.k
    term_results = terms.results(limit=TOP_TERMS, min_answers=k)
    overall = term_results.get(None)
    found: list[tuple[Theme, int]] = []
    unmatched = 0
    if themes is not None and options.themes is not None:
        theme_results = themes.results(min_answers=k).get(None)
        if theme_results is not None:
            by_id = {theme.id: theme for theme in options.themes.themes}
            found = sorted(
                ((by_id[theme_id], n) for theme_id, n in theme_results.themes.items()),
                key=lambda item: -item[1],
            )
            unmatched = theme_results.unmatched_language
    return TextSummary(
        moderation=suppress_counts(
            {status: moderation.get(status, 0) for status in ("approved", "pending", "rejected")},
            k=k,
        ),
        themes=found,
        terms=overall.terms if overall else (),
        phrases=overall.phrases if overall else (),
        unmatched_language=unmatched,
        themes_loaded=options.themes is not None,
    )


def campaign_section(delivery: CampaignDelivery, k: int) -> CampaignSection:
    channels = [c for c in CHANNELS if any(ch == c for ch, _s in delivery.messages)]
    channels += sorted({ch for ch, _s in delivery.messages} - set(channels))
    rows: dict[str, dict[str, int]] = {c: dict.fromkeys(DELIVERY_STATUSES, 0) for c in channels}
    for (channel, status), count in delivery.messages.items():
        shown = "waiting" if status in ("pending", "sending") else status
        if shown not in DELIVERY_STATUSES:
            shown = "unknown"
        rows[channel][shown] += count
    statuses = [s for s in DELIVERY_STATUSES if s != "waiting" or any(r[s] for r in rows.values())]
    for row in rows.values():
        if "waiting" not in statuses:
            row.pop("waiting", None)
    table = suppress_table(rows, columns=statuses, k=k)
    accepted = delivery.sms_segments
    per_message = {e: segments / n for e, (n, segments) in sorted(accepted.items()) if n}
    # Segments count messages (two per UCS-2 message, say): show their total only when
    # every SMS figure it could be set against is shown, and no encoding (a proxy for
    # the language people chose) has fewer than k messages.
    sms_shown = (
        "sms" in rows
        and all(table.cells[("sms", status)].shown for status in statuses)
        and table.row_totals["sms"].shown
    )
    enough = all(n >= k for n, _segments in accepted.values())
    return CampaignSection(
        name=delivery.name,
        kind=delivery.kind,
        runs=delivery.runs,
        channels=channels,
        statuses=statuses,
        table=table,
        segments_per_sms=per_message,
        sms_segments=sum(s for _n, s in accepted.values())
        if accepted and sms_shown and enough
        else None,
    )


async def collect_campaigns(
    db: Database, month: ReportMonth, options: ReportOptions
) -> list[CampaignSection]:
    deliveries = await db.read(
        lambda s: ReportRepository(s).campaign_delivery(since=month.since, until=month.until)
    )
    return [campaign_section(delivery, options.k) for delivery in deliveries]


async def collect_report(
    db: Database, month: ReportMonth, options: ReportOptions, *, now: datetime | None = None
) -> MonthlyReport:
    """Read and suppress everything the report for ``month`` shows."""
    return MonthlyReport(
        month=month,
        options=options,
        generated_at=now or datetime.now(UTC),
        engagement=await collect_engagement(db, month, options),
        surveys=await collect_surveys(db, month, options),
        texts=await collect_texts(db, month, options),
        campaigns=await collect_campaigns(db, month, options),
    )
