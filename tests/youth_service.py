"""A conversation service with quizzes, a survey and an open idea challenge, for youth tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from outreach.conversation import ConversationConfig, ConversationService
from outreach.quiz_catalogue import QuizCatalogue
from outreach.survey_catalogue import SurveyCatalogue
from polls.challenge import parse_challenge
from polls.onboarding import DEFAULT_REGIONS
from storage.challenges import ChallengeRepository
from storage.database import Database
from tests.conftest import EXAMPLE_SURVEYS
from tests.test_quiz_play import Clock

REPO = Path(__file__).resolve().parent.parent


async def youth_service(
    db: Database, clock: Clock, quiz_files: Sequence[Path], *, challenge_deadline: datetime
) -> ConversationService:
    """The quiz files and youth_priorities loaded; green_school open until the deadline."""
    quizzes = QuizCatalogue(db)
    await quizzes.load_files(list(quiz_files))
    surveys = SurveyCatalogue(db)
    await surveys.load_files([EXAMPLE_SURVEYS / "youth_priorities.yaml"])
    document = yaml.safe_load((REPO / "challenges" / "green_school.yaml").read_text("utf-8"))
    document["deadline"] = challenge_deadline.isoformat()
    document["voting_closes_at"] = (challenge_deadline + timedelta(days=30)).isoformat()
    challenge = parse_challenge(document, source="green_school.yaml")
    await db.write(lambda s: ChallengeRepository(s).save(challenge))
    return ConversationService(
        db,
        surveys,
        ConversationConfig(
            languages=("az", "ru", "en"),
            default_language="az",
            regions=DEFAULT_REGIONS,
            pseudonym_secret="x" * 40,
        ),
        clock=clock,
        quizzes=quizzes,
    )
