"""Survey versions: a file's content, stored once per distinct version; and staff closures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from polls.survey import Survey
from polls.survey_loader import parse_survey
from storage.models import SurveyClosure, SurveyVersion


@dataclass(frozen=True)
class StoredSurvey:
    version_id: int
    version: int
    survey: Survey


@dataclass(frozen=True)
class SurveyVersionInfo:
    """A stored version as listed for staff: when it came and from where."""

    version: int
    loaded_at: datetime
    source: str | None


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

    def version_of(self, *, survey_id: str, content_hash: str) -> int | None:
        """The version holding exactly this content, if one does."""
        return self.session.scalar(
            select(SurveyVersion.version).where(
                SurveyVersion.survey_id == survey_id,
                SurveyVersion.content_hash == content_hash,
            )
        )

    def versions(self, *, survey_id: str) -> list[SurveyVersionInfo]:
        """Every stored version of the survey, the newest first."""
        rows = self.session.execute(
            select(SurveyVersion.version, SurveyVersion.loaded_at, SurveyVersion.source)
            .where(SurveyVersion.survey_id == survey_id)
            .order_by(SurveyVersion.version.desc())
        )
        return [SurveyVersionInfo(row.version, row.loaded_at, row.source) for row in rows]

    # ---------------------------------------------------------- closures

    def latest_and_closure(self, *, survey_id: str) -> tuple[int | None, datetime | None]:
        """The latest version's id and when staff closed the survey (None: not closed)."""
        row = self.session.execute(
            select(
                select(SurveyVersion.id)
                .where(SurveyVersion.survey_id == survey_id)
                .order_by(SurveyVersion.version.desc())
                .limit(1)
                .scalar_subquery(),
                select(SurveyClosure.closed_at)
                .where(SurveyClosure.survey_id == survey_id)
                .scalar_subquery(),
            )
        ).one()
        return row[0], row[1]

    def closures(self) -> dict[str, datetime]:
        """When staff closed each survey they closed."""
        rows = self.session.execute(select(SurveyClosure.survey_id, SurveyClosure.closed_at))
        return {row.survey_id: row.closed_at for row in rows}

    def close(self, *, survey_id: str, now: datetime) -> bool:
        """Close the survey to everyone; False if staff had closed it already."""
        if self.session.get(SurveyClosure, survey_id) is not None:
            return False
        self.session.add(SurveyClosure(survey_id=survey_id, closed_at=now))
        self.session.flush()
        return True

    def reopen(self, *, survey_id: str) -> bool:
        """Lift the staff closure; False if there was none."""
        result = self.session.execute(
            delete(SurveyClosure).where(SurveyClosure.survey_id == survey_id)
        )
        return bool(getattr(result, "rowcount", 0))
