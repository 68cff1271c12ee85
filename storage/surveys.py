"""Survey versions: a file's content, stored once per distinct version."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from polls.survey import Survey
from polls.survey_loader import parse_survey
from storage.models import SurveyVersion


@dataclass(frozen=True)
class StoredSurvey:
    version_id: int
    version: int
    survey: Survey


def _stored(row: SurveyVersion) -> StoredSurvey:
    survey = parse_survey(row.definition, source=f"<stored {row.survey_id} v{row.version}>")
    return StoredSurvey(row.id, row.version, survey)


class SurveyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save_version(self, *, survey: Survey, source: str | None = None) -> tuple[int, bool]:
        """Store ``survey`` unless this exact content is stored; returns (version, created)."""
        existing = self.session.scalar(
            select(SurveyVersion.version).where(
                SurveyVersion.survey_id == survey.id,
                SurveyVersion.content_hash == survey.content_hash,
            )
        )
        if existing is not None:
            return existing, False
        latest = self.session.scalar(
            select(func.max(SurveyVersion.version)).where(SurveyVersion.survey_id == survey.id)
        )
        version = (latest or 0) + 1
        self.session.add(
            SurveyVersion(
                survey_id=survey.id,
                version=version,
                content_hash=survey.content_hash,
                definition=dict(survey.raw),
                source=source,
            )
        )
        self.session.flush()
        return version, True

    def latest_version_id(self, *, survey_id: str) -> int | None:
        return self.session.scalar(
            select(SurveyVersion.id)
            .where(SurveyVersion.survey_id == survey_id)
            .order_by(SurveyVersion.version.desc())
            .limit(1)
        )

    def by_version_id(self, *, version_id: int) -> StoredSurvey | None:
        row = self.session.get(SurveyVersion, version_id)
        return _stored(row) if row else None

    def latest_version_ids(self) -> list[int]:
        """The newest version of every survey, ordered by survey id."""
        newest = (
            select(SurveyVersion.survey_id, func.max(SurveyVersion.version).label("version"))
            .group_by(SurveyVersion.survey_id)
            .subquery()
        )
        rows = self.session.scalars(
            select(SurveyVersion.id)
            .join(
                newest,
                (SurveyVersion.survey_id == newest.c.survey_id)
                & (SurveyVersion.version == newest.c.version),
            )
            .order_by(SurveyVersion.survey_id)
        )
        return list(rows)
