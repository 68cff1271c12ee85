"""Exports of a survey's answers for staff's own tools: CSV, XLSX, Parquet, FLOIP.

Every format carries pseudonymous ids only (never a phone number, a Telegram id
or a name), masks contact details in free text, and leaves out text that was
not approved. See ``common`` for the rules and each format's module for its
shape; ``export_survey`` runs an export.
"""

from outreach.exports.common import (
    COLUMNS,
    ExportError,
    ExportFormat,
    ExportOptions,
    ExportRow,
    UnknownSurveyError,
    Withheld,
    pseudonymous_session_id,
)
from outreach.exports.survey_export import ExportResult, export_survey, plan_export

__all__ = [
    "COLUMNS",
    "ExportError",
    "ExportFormat",
    "ExportOptions",
    "ExportResult",
    "ExportRow",
    "UnknownSurveyError",
    "Withheld",
    "export_survey",
    "plan_export",
    "pseudonymous_session_id",
]
