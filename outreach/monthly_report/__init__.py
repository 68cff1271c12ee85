"""The monthly report: engagement, survey results, themes of free text, campaign delivery.

``collect`` reads and suppresses the figures, ``rendering`` writes them as one
self-contained HTML page (``charts`` draws its SVG), ``pdf`` prints that page
with headless Chromium when it is installed. The command is ``outreach report``
(``outreach/report_cli.py``).
"""

from outreach.monthly_report.collect import MonthlyReport, ReportOptions, collect_report
from outreach.monthly_report.month import ReportMonth, ReportMonthError
from outreach.monthly_report.rendering import render_report

__all__ = [
    "MonthlyReport",
    "ReportMonth",
    "ReportMonthError",
    "ReportOptions",
    "collect_report",
    "render_report",
]
