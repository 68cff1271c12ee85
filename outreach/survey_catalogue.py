"""Surveys for the running service: loaded from files into versions, cached by version.

A version never changes once stored, so parsed surveys are cached by version id
for the life of the process; which version is the latest is always read from
the database, so a ``surveys load`` from another process is seen at once.
Lookups take the caller's session: they run inside units of work.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from polls.survey import Survey
from polls.survey_loader import SurveyFileError, load_survey_file
from storage.database import Database
from storage.surveys import StoredSurvey, SurveyRepository

logger = logging.getLogger(__name__)


class SurveyCatalogue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_version: dict[int, StoredSurvey] = {}

    async def load_files(self, paths: list[Path]) -> list[tuple[str, int, bool]]:
        """Store every survey file as a new version where its content changed.

        All files are validated first; if any is broken nothing is stored and
        SurveyFileError lists every problem.
        """
        surveys: list[tuple[Survey, Path]] = []
        problems = []
        for path in paths:
            try:
                surveys.append((load_survey_file(path), path))
            except SurveyFileError as error:
                problems.extend(error.problems)
        if problems:
            raise SurveyFileError(problems)

        def store(session: Session) -> list[tuple[str, int, bool]]:
            repository = SurveyRepository(session)
            loaded = []
            for survey, path in surveys:
                version, created = repository.save_version(survey=survey, source=path.name)
                loaded.append((survey.id, version, created))
                if created:
                    logger.info("survey %s: stored version %d from %s", survey.id, version, path)
            return loaded

        return await self.db.write(store)

    def by_version_id(self, session: Session, version_id: int) -> StoredSurvey:
        stored = self._by_version.get(version_id)
        if stored is None:
            found = SurveyRepository(session).by_version_id(version_id=version_id)
            if found is None:
                raise LookupError(f"survey version {version_id} is not stored")
            stored = self._by_version[version_id] = found
        return stored

    def latest(self, session: Session, survey_id: str) -> StoredSurvey | None:
        version_id = SurveyRepository(session).latest_version_id(survey_id=survey_id)
        return None if version_id is None else self.by_version_id(session, version_id)

    def all_latest(self, session: Session) -> list[StoredSurvey]:
        ids = SurveyRepository(session).latest_version_ids()
        return [self.by_version_id(session, version_id) for version_id in ids]

    def open_surveys(self, session: Session, now: datetime) -> list[StoredSurvey]:
        closed = SurveyRepository(session).closures()
        latest = self.all_latest(session)
        return [s for s in latest if s.survey.is_open(now) and s.survey.id not in closed]

    def is_open(self, session: Session, survey_id: str, now: datetime) -> bool:
        """Whether people may begin or go on answering: its latest version's dates allow it
        and staff have not closed it."""
        version_id, closed_at = SurveyRepository(session).latest_and_closure(survey_id=survey_id)
        if version_id is None or closed_at is not None:
            return False
        return self.by_version_id(session, version_id).survey.is_open(now)


def survey_files(folder: Path) -> list[Path]:
    """The YAML files of a surveys folder, in name order."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
