"""Quizzes in the database: versions, attempts, scores, players, teams, leaderboards, streaks.

Leaderboards read ``player_scores``: one row per player and period ('all', and
each ISO week), recomputed from the player's counted attempts when one ends,
with their region, team and visibility beside the score. A page or a player's
rank is then one indexed query, whatever the number of answers behind it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from polls.badges import earned_badges
from polls.errors import OutreachError
from polls.quiz import Quiz, Replay, parse_quiz
from storage.models import (
    Badge,
    DailyAnswer,
    Player,
    PlayerScore,
    QuizAnswer,
    QuizAttempt,
    QuizVersion,
    Respondent,
    Team,
    utcnow,
)

VERSIONS = cast(Table, QuizVersion.__table__)
ATTEMPTS = cast(Table, QuizAttempt.__table__)
ANSWERS = cast(Table, QuizAnswer.__table__)
PLAYERS = cast(Table, Player.__table__)
SCORES = cast(Table, PlayerScore.__table__)
TEAMS = cast(Table, Team.__table__)
DAILY = cast(Table, DailyAnswer.__table__)
BADGES = cast(Table, Badge.__table__)
RESPONDENTS = cast(Table, Respondent.__table__)

ALL_TIME = "all"
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Team codes: no 0/O or 1/I, which people mistype."""


class NicknameTaken(OutreachError):
    pass


class UnknownTeamCode(OutreachError):
    pass


@dataclass(frozen=True)
class StoredQuiz:
    version_id: int
    version: int
    quiz: Quiz


@dataclass(frozen=True)
class ActiveAttempt:
    attempt_id: int
    version_id: int
    answered: int
    correct: int


@dataclass(frozen=True)
class BoardRow:
    rank: int
    respondent_id: int
    nickname: str
    score: int
    duration_ms: int


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def week_bounds(period: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of an ISO week key such as '2026-W48', in ``zone``."""
    year, week = period.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    return start, start + timedelta(days=7)


class QuizRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    # ---------------------------------------------------------- versions

    def save_version(self, *, quiz: Quiz, source: str | None = None) -> tuple[int, bool]:
        existing = self._connection.execute(
            select(VERSIONS.c.version).where(
                VERSIONS.c.quiz_id == quiz.id, VERSIONS.c.content_hash == quiz.content_hash
            )
        ).scalar()
        if existing is not None:
            return int(existing), False
        latest = self._connection.execute(
            select(func.max(VERSIONS.c.version)).where(VERSIONS.c.quiz_id == quiz.id)
        ).scalar()
        version = (latest or 0) + 1
        self._connection.execute(
            insert(VERSIONS),
            {
                "quiz_id": quiz.id,
                "version": version,
                "content_hash": quiz.content_hash,
                "definition": dict(quiz.raw),
                "source": source,
                "loaded_at": utcnow(),
            },
        )
        return version, True

    def by_version_id(self, *, version_id: int) -> StoredQuiz | None:
        row = (
            self._connection.execute(select(VERSIONS).where(VERSIONS.c.id == version_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        quiz = parse_quiz(row["definition"], source=f"<stored quiz {row['quiz_id']}>")
        return StoredQuiz(row["id"], row["version"], quiz)

    def latest_version_ids(self) -> list[int]:
        newest = (
            select(VERSIONS.c.quiz_id, func.max(VERSIONS.c.version).label("version"))
            .group_by(VERSIONS.c.quiz_id)
            .subquery()
        )
        return list(
            self._connection.execute(
                select(VERSIONS.c.id)
                .join(
                    newest,
                    and_(
                        VERSIONS.c.quiz_id == newest.c.quiz_id,
                        VERSIONS.c.version == newest.c.version,
                    ),
                )
                .order_by(VERSIONS.c.quiz_id)
            ).scalars()
        )

    # ---------------------------------------------------------- attempts

    def start_attempt(
        self, *, quiz_id: str, version_id: int, respondent_id: int, channel: str, now: datetime
    ) -> int:
        self._connection.execute(
            update(ATTEMPTS)
            .where(
                ATTEMPTS.c.respondent_id == respondent_id,
                ATTEMPTS.c.quiz_id == quiz_id,
                ATTEMPTS.c.status == "active",
            )
            .values(status="abandoned")
        )
        return int(
            self._connection.execute(
                insert(ATTEMPTS).returning(ATTEMPTS.c.id),
                {
                    "quiz_id": quiz_id,
                    "quiz_version_id": version_id,
                    "respondent_id": respondent_id,
                    "channel": channel,
                    "status": "active",
                    "started_at": now,
                    "score": 0,
                    "duration_ms": 0,
                    "counted": False,
                },
            ).scalar_one()
        )

    def active_attempt(self, *, respondent_id: int, quiz_id: str) -> ActiveAttempt | None:
        """The person's unfinished play of this quiz, with how far they got."""
        attempt = self._connection.execute(
            select(ATTEMPTS.c.id, ATTEMPTS.c.quiz_version_id)
            .where(
                ATTEMPTS.c.respondent_id == respondent_id,
                ATTEMPTS.c.quiz_id == quiz_id,
                ATTEMPTS.c.status == "active",
            )
            .order_by(ATTEMPTS.c.id.desc())
            .limit(1)
        ).first()
        if attempt is None:
            return None
        answered, correct = self._connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((ANSWERS.c.correct.is_(True), 1), else_=0)), 0),
            ).where(ANSWERS.c.attempt_id == attempt.id)
        ).one()
        return ActiveAttempt(attempt.id, attempt.quiz_version_id, int(answered), int(correct))

    def has_played(self, *, respondent_id: int, quiz_id: str) -> bool:
        return (
            self._connection.execute(
                select(ATTEMPTS.c.id).where(
                    ATTEMPTS.c.respondent_id == respondent_id,
                    ATTEMPTS.c.quiz_id == quiz_id,
                    ATTEMPTS.c.status == "finished",
                )
            ).first()
            is not None
        )

    def missed_questions(self, *, attempt_id: int) -> list[str]:
        """Questions of the attempt answered wrongly or late."""
        return list(
            self._connection.execute(
                select(ANSWERS.c.question_id).where(
                    ANSWERS.c.attempt_id == attempt_id, ANSWERS.c.correct.is_(False)
                )
            ).scalars()
        )

    def record_answer(self, **values: Any) -> bool:
        """Record one answer; False if this question was answered in the attempt already."""
        statement = _insert(self._connection.dialect.name)(ANSWERS).on_conflict_do_nothing(
            index_elements=["attempt_id", "question_id"]
        )
        return bool(self._connection.execute(statement, values).rowcount)

    def finish_attempt(
        self, *, attempt_id: int, replay: Replay, now: datetime, zone: ZoneInfo
    ) -> tuple[int, int, bool]:
        """Close the attempt; apply the replay rule; update the player's scores.

        Returns (score, duration in ms, whether this attempt counts).
        """
        attempt = (
            self._connection.execute(select(ATTEMPTS).where(ATTEMPTS.c.id == attempt_id))
            .mappings()
            .one()
        )
        score, duration = self._connection.execute(
            select(
                func.coalesce(func.sum(case((ANSWERS.c.correct.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(ANSWERS.c.elapsed_ms), 0),
            ).where(ANSWERS.c.attempt_id == attempt_id)
        ).one()
        score, duration = int(score), int(duration)
        previous = self._connection.execute(
            select(ATTEMPTS.c.id, ATTEMPTS.c.score, ATTEMPTS.c.duration_ms).where(
                ATTEMPTS.c.respondent_id == attempt["respondent_id"],
                ATTEMPTS.c.quiz_id == attempt["quiz_id"],
                ATTEMPTS.c.counted.is_(True),
            )
        ).first()
        if previous is None:
            counted = True
        elif replay is Replay.BEST and (score, -duration) > (previous.score, -previous.duration_ms):
            counted = True
            self._connection.execute(
                update(ATTEMPTS).where(ATTEMPTS.c.id == previous.id).values(counted=False)
            )
        else:
            counted = False
        self._connection.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id == attempt_id)
            .values(
                status="finished",
                finished_at=now,
                score=score,
                duration_ms=duration,
                counted=counted,
            )
        )
        weeks = {_week(now, zone)}
        if previous is not None and counted:
            finished = self._connection.execute(
                select(ATTEMPTS.c.finished_at).where(ATTEMPTS.c.id == previous.id)
            ).scalar()
            if finished is not None:
                weeks.add(_week(finished, zone))
        self.recompute_scores(respondent_id=attempt["respondent_id"], weeks=weeks, zone=zone)
        return score, duration, counted

    def recompute_scores(self, *, respondent_id: int, weeks: Iterable[str], zone: ZoneInfo) -> None:
        """The player's score rows for all time and the given weeks, from counted attempts."""
        placement = self._connection.execute(
            select(
                RESPONDENTS.c.region,
                RESPONDENTS.c.banned_at,
                PLAYERS.c.team_id,
                PLAYERS.c.hidden,
                PLAYERS.c.nickname,
            )
            .select_from(RESPONDENTS)
            .outerjoin(PLAYERS, PLAYERS.c.respondent_id == RESPONDENTS.c.id)
            .where(RESPONDENTS.c.id == respondent_id)
        ).one()
        visible = bool(placement.nickname) and not placement.hidden and not placement.banned_at
        periods: list[tuple[str, Any]] = [(ALL_TIME, None)]
        periods += [(week, week_bounds(week, zone)) for week in weeks]
        for period, bounds in periods:
            query = select(
                func.coalesce(func.sum(ATTEMPTS.c.score), 0),
                func.coalesce(func.sum(ATTEMPTS.c.duration_ms), 0),
            ).where(ATTEMPTS.c.respondent_id == respondent_id, ATTEMPTS.c.counted.is_(True))
            if bounds is not None:
                query = query.where(
                    ATTEMPTS.c.finished_at >= bounds[0], ATTEMPTS.c.finished_at < bounds[1]
                )
            score, duration = self._connection.execute(query).one()
            statement = _insert(self._connection.dialect.name)(SCORES).values(
                respondent_id=respondent_id,
                period=period,
                score=int(score),
                duration_ms=int(duration),
                region=placement.region,
                team_id=placement.team_id,
                visible=visible,
                updated_at=utcnow(),
            )
            self._connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["respondent_id", "period"],
                    set_={
                        "score": statement.excluded.score,
                        "duration_ms": statement.excluded.duration_ms,
                        "region": statement.excluded.region,
                        "team_id": statement.excluded.team_id,
                        "visible": statement.excluded.visible,
                        "updated_at": statement.excluded.updated_at,
                    },
                )
            )

    def goals_answered_correctly(self, *, respondent_id: int) -> set[int]:
        quiz_goals = self._connection.execute(
            select(ANSWERS.c.goal)
            .where(ANSWERS.c.respondent_id == respondent_id, ANSWERS.c.correct.is_(True))
            .distinct()
        ).scalars()
        daily_goals = self._connection.execute(
            select(DAILY.c.goal)
            .where(DAILY.c.respondent_id == respondent_id, DAILY.c.correct.is_(True))
            .distinct()
        ).scalars()
        return set(quiz_goals) | set(daily_goals)

    def finished_attempts(self, *, respondent_id: int) -> int:
        return int(
            self._connection.execute(
                select(func.count()).where(
                    ATTEMPTS.c.respondent_id == respondent_id, ATTEMPTS.c.status == "finished"
                )
            ).scalar()
            or 0
        )

    # ---------------------------------------------------------- daily question

    def record_daily(
        self, *, respondent_id: int, day: date, question_id: str, goal: int, correct: bool
    ) -> bool:
        """The question of the day, answered; False if it was already answered today."""
        statement = _insert(self._connection.dialect.name)(DAILY).on_conflict_do_nothing(
            index_elements=["respondent_id", "day"]
        )
        result = self._connection.execute(
            statement,
            {
                "respondent_id": respondent_id,
                "day": day,
                "question_id": question_id,
                "goal": goal,
                "correct": correct,
            },
        )
        return bool(result.rowcount)

    def streak(self, *, respondent_id: int, today: date) -> int:
        """Days in a row with the question of the day answered, ending today or yesterday."""
        days = set(
            self._connection.execute(
                select(DAILY.c.day).where(
                    DAILY.c.respondent_id == respondent_id,
                    DAILY.c.day >= today - timedelta(days=400),
                )
            ).scalars()
        )
        cursor = today if today in days else today - timedelta(days=1)
        count = 0
        while cursor in days:
            count += 1
            cursor -= timedelta(days=1)
        return count

    def answered_daily(self, *, respondent_id: int, day: date) -> bool:
        return bool(
            self._connection.execute(
                select(DAILY.c.day).where(
                    DAILY.c.respondent_id == respondent_id, DAILY.c.day == day
                )
            ).first()
        )

    # ---------------------------------------------------------- badges

    def award(self, *, respondent_id: int, badges: Iterable[str]) -> list[str]:
        """Give badges not held yet; returns the new ones."""
        held = self.badges(respondent_id=respondent_id)
        new = [b for b in badges if b not in held]
        if new:
            self._connection.execute(
                insert(BADGES),
                [{"respondent_id": respondent_id, "badge": b, "earned_at": utcnow()} for b in new],
            )
        return new

    def badges(self, *, respondent_id: int) -> list[str]:
        return list(
            self._connection.execute(
                select(BADGES.c.badge)
                .where(BADGES.c.respondent_id == respondent_id)
                .order_by(BADGES.c.earned_at, BADGES.c.badge)
            ).scalars()
        )

    # ---------------------------------------------------------- linking two people

    def merge_player(self, *, into: int, other: int, zone: ZoneInfo) -> None:
        """Carry ``other``'s quizzes over to ``into``: the same person, known twice until now.

        Called by ``RespondentRepository.link_identity`` before ``other`` is deleted.
        Nothing the person did is lost, and nothing counts twice:

        - player: one row. The survivor's nickname if they chose one, else the
          other's; the survivor's team, else the other's; hidden if either was.
        - attempts and their answers move. Where both have an unfinished play of
          the same quiz, the survivor's goes on and the other's is abandoned (one
          play in progress per quiz, as ``start_attempt`` keeps it). Where both have
          a counted attempt of the same quiz, the quiz's replay rule (its newest
          version) picks the one that keeps counting: the earlier finished for
          ``first``, the better (more right, then faster, then earlier) for ``best``;
          the other stays as practice.
        - the question of the day: one answer per day. The table keeps no time of
          day, so the earlier cannot be told: where both answered the same day, the
          survivor's answer stands. The streak then counts each day once.
        - badges: both sets, each dated when it was first earned; what the joined
          record earns and neither held (all 17 goals, between the two) is awarded
          now. A badge that depends on the day (a streak joined up) comes with the
          next answer, as any streak badge does.
        - leaderboards: the other's rows go; the survivor's are recomputed (all time
          and every week with a counted attempt or a row), under their placement.
        """
        connection = self._connection
        self._merge_players(into, other)
        mine = ATTEMPTS.alias("mine")  # not correlated with the UPDATE's own table
        connection.execute(
            update(ATTEMPTS)
            .where(
                ATTEMPTS.c.respondent_id == other,
                ATTEMPTS.c.status == "active",
                ATTEMPTS.c.quiz_id.in_(
                    select(mine.c.quiz_id).where(
                        mine.c.respondent_id == into, mine.c.status == "active"
                    )
                ),
            )
            .values(status="abandoned")
        )
        counted = connection.execute(
            select(
                ATTEMPTS.c.id,
                ATTEMPTS.c.quiz_id,
                ATTEMPTS.c.score,
                ATTEMPTS.c.duration_ms,
                ATTEMPTS.c.finished_at,
            ).where(ATTEMPTS.c.respondent_id.in_((into, other)), ATTEMPTS.c.counted.is_(True))
        ).all()
        by_quiz: dict[str, list[Any]] = {}
        for row in counted:
            by_quiz.setdefault(row.quiz_id, []).append(row)
        practice: list[int] = []
        for quiz_id, rows in by_quiz.items():
            if len(rows) < 2:
                continue
            if self._replay(quiz_id) is Replay.BEST:
                rows.sort(key=lambda r: (-r.score, r.duration_ms, _finished(r), r.id))
            else:
                rows.sort(key=lambda r: (_finished(r), r.id))
            practice.extend(r.id for r in rows[1:])
        if practice:
            connection.execute(
                update(ATTEMPTS).where(ATTEMPTS.c.id.in_(practice)).values(counted=False)
            )
        for table in (ATTEMPTS, ANSWERS):
            connection.execute(
                update(table).where(table.c.respondent_id == other).values(respondent_id=into)
            )
        self._merge_daily(into, other)
        self._merge_badges(into, other)
        self.award(
            respondent_id=into,
            badges=earned_badges(
                goals=self.goals_answered_correctly(respondent_id=into),
                quizzes_finished=self.finished_attempts(respondent_id=into),
                perfect=False,
                streak=0,
            ),
        )
        periods = set(
            connection.execute(
                select(SCORES.c.period).where(SCORES.c.respondent_id.in_((into, other))).distinct()
            ).scalars()
        )
        weeks = periods - {ALL_TIME}
        finished = connection.execute(
            select(ATTEMPTS.c.finished_at).where(
                ATTEMPTS.c.respondent_id == into,
                ATTEMPTS.c.counted.is_(True),
                ATTEMPTS.c.finished_at.is_not(None),
            )
        ).scalars()
        weeks.update(_week(moment, zone) for moment in finished)
        connection.execute(delete(SCORES).where(SCORES.c.respondent_id == other))
        if periods or weeks:
            self.recompute_scores(respondent_id=into, weeks=sorted(weeks), zone=zone)

    def _replay(self, quiz_id: str) -> Replay:
        """The replay rule of the quiz's newest version (first if it is not stored)."""
        version_id = self._connection.execute(
            select(VERSIONS.c.id)
            .where(VERSIONS.c.quiz_id == quiz_id)
            .order_by(VERSIONS.c.version.desc())
            .limit(1)
        ).scalar()
        stored = None if version_id is None else self.by_version_id(version_id=version_id)
        return stored.quiz.replay if stored is not None else Replay.FIRST

    def _merge_players(self, into: int, other: int) -> None:
        connection = self._connection
        rows = {
            row.respondent_id: row
            for row in connection.execute(
                select(PLAYERS).where(PLAYERS.c.respondent_id.in_((into, other)))
            )
        }
        theirs, mine = rows.get(other), rows.get(into)
        if theirs is None:
            return
        if mine is None:
            connection.execute(
                update(PLAYERS).where(PLAYERS.c.respondent_id == other).values(respondent_id=into)
            )
            return
        # Their row goes first: its nickname key is unique and may come over.
        connection.execute(delete(PLAYERS).where(PLAYERS.c.respondent_id == other))
        values: dict[str, Any] = {
            "hidden": bool(mine.hidden or theirs.hidden),
            "created_at": min(mine.created_at, theirs.created_at),
        }
        if not mine.nickname and theirs.nickname:
            values.update(nickname=theirs.nickname, nickname_key=theirs.nickname_key)
        if mine.team_id is None and theirs.team_id is not None:
            values["team_id"] = theirs.team_id
        connection.execute(update(PLAYERS).where(PLAYERS.c.respondent_id == into).values(values))

    def _merge_daily(self, into: int, other: int) -> None:
        connection = self._connection
        mine = DAILY.alias("mine")
        connection.execute(
            delete(DAILY).where(
                DAILY.c.respondent_id == other,
                DAILY.c.day.in_(select(mine.c.day).where(mine.c.respondent_id == into)),
            )
        )
        connection.execute(
            update(DAILY).where(DAILY.c.respondent_id == other).values(respondent_id=into)
        )

    def _merge_badges(self, into: int, other: int) -> None:
        connection = self._connection
        held = dict(
            connection.execute(
                select(BADGES.c.badge, BADGES.c.earned_at).where(BADGES.c.respondent_id == into)
            ).all()
        )
        theirs = connection.execute(
            select(BADGES.c.badge, BADGES.c.earned_at).where(BADGES.c.respondent_id == other)
        ).all()
        for badge, earned_at in theirs:
            if badge in held and earned_at < held[badge]:
                connection.execute(
                    update(BADGES)
                    .where(BADGES.c.respondent_id == into, BADGES.c.badge == badge)
                    .values(earned_at=earned_at)
                )
        connection.execute(
            delete(BADGES).where(BADGES.c.respondent_id == other, BADGES.c.badge.in_(list(held)))
        )
        connection.execute(
            update(BADGES).where(BADGES.c.respondent_id == other).values(respondent_id=into)
        )


class PlayerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    def get(self, *, respondent_id: int) -> Any:
        return (
            self._connection.execute(
                select(PLAYERS).where(PLAYERS.c.respondent_id == respondent_id)
            )
            .mappings()
            .first()
        )

    def _ensure(self, respondent_id: int) -> None:
        statement = _insert(self._connection.dialect.name)(PLAYERS).on_conflict_do_nothing(
            index_elements=["respondent_id"]
        )
        self._connection.execute(
            statement,
            {"respondent_id": respondent_id, "hidden": False, "created_at": utcnow()},
        )

    def set_nickname(self, *, respondent_id: int, nickname: str, key: str) -> None:
        self._ensure(respondent_id)
        taken = self._connection.execute(
            select(PLAYERS.c.respondent_id).where(
                PLAYERS.c.nickname_key == key, PLAYERS.c.respondent_id != respondent_id
            )
        ).first()
        if taken is not None:
            raise NicknameTaken(nickname)
        self._connection.execute(
            update(PLAYERS)
            .where(PLAYERS.c.respondent_id == respondent_id)
            .values(nickname=nickname, nickname_key=key)
        )
        self._refresh_boards(respondent_id)

    def set_hidden(self, *, respondent_id: int, hidden: bool) -> None:
        self._ensure(respondent_id)
        self._connection.execute(
            update(PLAYERS).where(PLAYERS.c.respondent_id == respondent_id).values(hidden=hidden)
        )
        self._refresh_boards(respondent_id)

    def join_team(self, *, respondent_id: int, code: str) -> Any:
        team = TeamRepository(self.session).by_code(code)
        if team is None:
            raise UnknownTeamCode(code)
        self._ensure(respondent_id)
        self._connection.execute(
            update(PLAYERS)
            .where(PLAYERS.c.respondent_id == respondent_id)
            .values(team_id=team["id"])
        )
        self._refresh_boards(respondent_id)
        return team

    def _refresh_boards(self, respondent_id: int) -> None:
        """Carry the player's team and visibility onto their leaderboard rows."""
        player = self.get(respondent_id=respondent_id)
        region = self._connection.execute(
            select(RESPONDENTS.c.region).where(RESPONDENTS.c.id == respondent_id)
        ).scalar()
        visible = bool(player and player["nickname"]) and not bool(player and player["hidden"])
        banned = self._connection.execute(
            select(RESPONDENTS.c.banned_at).where(RESPONDENTS.c.id == respondent_id)
        ).scalar()
        self._connection.execute(
            update(SCORES)
            .where(SCORES.c.respondent_id == respondent_id)
            .values(
                team_id=player["team_id"] if player else None,
                region=region,
                visible=visible and banned is None,
            )
        )


class TeamRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, name: str, region: str | None) -> str:
        connection = self.session.connection()
        while True:
            code = "".join(secrets.choice(CODE_LETTERS) for _ in range(6))
            if not connection.execute(select(TEAMS.c.id).where(TEAMS.c.code == code)).first():
                break
        connection.execute(
            insert(TEAMS), {"code": code, "name": name, "region": region, "created_at": utcnow()}
        )
        return code

    def by_code(self, code: str) -> Any:
        return (
            self.session.connection()
            .execute(select(TEAMS).where(TEAMS.c.code == code.strip().upper().replace("-", "")))
            .mappings()
            .first()
        )

    def by_id(self, team_id: int) -> Any:
        return (
            self.session.connection()
            .execute(select(TEAMS).where(TEAMS.c.id == team_id))
            .mappings()
            .first()
        )

    def all(self) -> list[Any]:
        return list(
            self.session.connection().execute(select(TEAMS).order_by(TEAMS.c.name)).mappings()
        )


class LeaderboardRepository:
    """Pages and ranks over ``player_scores``: score first, then less time, then who came first.

    Each board (a period, overall or within a region or a team) is a range of one
    index whose order is the board's -- (period, [region | team_id,] visible, score
    DESC, duration_ms, respondent_id) -- so no query sorts and none reads the table:
    a page is a run of index entries (the nickname is looked up for its rows only),
    a rank is the size of a few index ranges. bench/leaderboard.py measures them.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def _where(
        self, period: str, region: str | None, team_id: int | None, *, ranked: bool = True
    ) -> list[Any]:
        """The board's rows; ``ranked=False`` leaves out ``score > 0`` for a caller with a
        narrower condition on the score: SQLite (without ANALYZE) may take whichever score
        condition comes first for its index range, and ``score > 0`` is the whole board."""
        conditions = [SCORES.c.period == period, SCORES.c.visible.is_(True)]
        if ranked:
            conditions.append(SCORES.c.score > 0)
        if region is not None:
            conditions.append(SCORES.c.region == region)
        if team_id is not None:
            conditions.append(SCORES.c.team_id == team_id)
        return conditions

    def page(
        self,
        *,
        period: str,
        region: str | None = None,
        team_id: int | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> list[BoardRow]:
        # The page's rows from the index alone first, then their nicknames: joined
        # before the LIMIT, every row skipped by the OFFSET would be joined as well.
        board = (
            select(SCORES.c.respondent_id, SCORES.c.score, SCORES.c.duration_ms)
            .where(*self._where(period, region, team_id))
            .order_by(SCORES.c.score.desc(), SCORES.c.duration_ms, SCORES.c.respondent_id)
            .offset(offset)
            .limit(limit)
            .subquery("board")
        )
        rows = (
            self.session.connection()
            .execute(
                select(
                    board.c.respondent_id, PLAYERS.c.nickname, board.c.score, board.c.duration_ms
                )
                .select_from(board)
                .outerjoin(PLAYERS, PLAYERS.c.respondent_id == board.c.respondent_id)
                .order_by(board.c.score.desc(), board.c.duration_ms, board.c.respondent_id)
            )
            .all()
        )
        return [
            BoardRow(offset + i + 1, row[0], row[1] or "", row[2], row[3])
            for i, row in enumerate(rows)
        ]

    def rank(
        self,
        *,
        respondent_id: int,
        period: str,
        region: str | None = None,
        team_id: int | None = None,
    ) -> tuple[int, int] | None:
        """(the player's rank, how many are ranked); None if they are not on this board."""
        connection = self.session.connection()
        mine = connection.execute(
            select(SCORES.c.score, SCORES.c.duration_ms).where(
                SCORES.c.respondent_id == respondent_id, *self._where(period, region, team_id)
            )
        ).first()
        if mine is None:
            return None
        score, duration = mine  # score > 0: each condition below implies it
        board = self._where(period, region, team_id, ranked=False)

        def count(*more: Any) -> Any:
            return select(func.count()).where(*board, *more).correlate(None).scalar_subquery()

        # Ranges of the board's index, counted (an OR of them would scan the whole
        # board): ahead are those with a higher score, the same score in less time, or
        # the same score and time and a lower id; the board is those above, level and
        # below. Each entry is counted about once, wherever the player stands.
        above, faster, earlier, level, below = connection.execute(
            select(
                count(SCORES.c.score > score),
                count(SCORES.c.score == score, SCORES.c.duration_ms < duration),
                count(
                    SCORES.c.score == score,
                    SCORES.c.duration_ms == duration,
                    SCORES.c.respondent_id < respondent_id,
                ),
                count(SCORES.c.score == score),
                count(SCORES.c.score > 0, SCORES.c.score < score),
            )
        ).one()
        return above + faster + earlier + 1, above + level + below

    def around(
        self,
        *,
        respondent_id: int,
        period: str,
        region: str | None = None,
        team_id: int | None = None,
        spread: int = 2,
    ) -> list[BoardRow]:
        """The player with those just above and below them."""
        placed = self.rank(
            respondent_id=respondent_id, period=period, region=region, team_id=team_id
        )
        if placed is None:
            return self.page(period=period, region=region, team_id=team_id, limit=2 * spread + 1)
        rank, _total = placed
        start = max(0, rank - 1 - spread)
        return self.page(
            period=period, region=region, team_id=team_id, offset=start, limit=2 * spread + 1
        )


def _finished(attempt: Any) -> datetime:
    """When an attempt ended; one that never did sorts last."""
    return attempt.finished_at or datetime.max.replace(tzinfo=UTC)


def _week(moment: datetime, zone: ZoneInfo) -> str:
    year, week, _day = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"
