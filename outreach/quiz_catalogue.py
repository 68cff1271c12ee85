"""Quizzes for the running service: loaded from files into versions, cached by version."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from polls.quiz import Quiz, QuizFileError, load_quiz_file
from storage.database import Database
from storage.quizzes import QuizRepository, StoredQuiz

logger = logging.getLogger(__name__)


class QuizCatalogue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_version: dict[int, StoredQuiz] = {}

    async def load_files(self, paths: list[Path]) -> list[tuple[str, int, bool]]:
        """Store every quiz file whose content changed; all or nothing."""
        quizzes: list[tuple[Quiz, Path]] = []
        problems = []
        for path in paths:
            try:
                quizzes.append((load_quiz_file(path), path))
            except QuizFileError as error:
                problems.extend(error.problems)
        if problems:
            raise QuizFileError(problems)

        def store(session: Session) -> list[tuple[str, int, bool]]:
            repository = QuizRepository(session)
            loaded = []
            for quiz, path in quizzes:
                version, created = repository.save_version(quiz=quiz, source=path.name)
                loaded.append((quiz.id, version, created))
            return loaded

        return await self.db.write(store)

    def by_version_id(self, session: Session, version_id: int) -> StoredQuiz:
        stored = self._by_version.get(version_id)
        if stored is None:
            found = QuizRepository(session).by_version_id(version_id=version_id)
            if found is None:
                raise LookupError(f"quiz version {version_id} is not stored")
            stored = self._by_version[version_id] = found
        return stored

    def all_latest(self, session: Session) -> list[StoredQuiz]:
        ids = QuizRepository(session).latest_version_ids()
        return [self.by_version_id(session, version_id) for version_id in ids]

    def latest(self, session: Session, quiz_id: str) -> StoredQuiz | None:
        return next((q for q in self.all_latest(session) if q.quiz.id == quiz_id), None)

    def open_quizzes(self, session: Session, now: datetime) -> list[StoredQuiz]:
        return [q for q in self.all_latest(session) if q.quiz.is_open(now) and not q.quiz.daily]

    def daily(self, session: Session, now: datetime) -> StoredQuiz | None:
        return next(
            (q for q in self.all_latest(session) if q.quiz.daily and q.quiz.is_open(now)), None
        )
