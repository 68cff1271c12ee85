"""Tables. Identity (who a person is on a channel) is kept apart from profile and
answers, so erasing a person's identity leaves nothing that points back to them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Respondent(Base):
    """A participant: profile and consent, no contact data (see ChannelIdentity)."""

    __tablename__ = "respondents"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str | None] = mapped_column(String(8))
    region: Mapped[str | None] = mapped_column(String(64))
    age_band: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(24))
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))
    dialogue: Mapped[dict[str, Any] | None]
    """Where the person is in a conversation (onboarding or a survey), as JSON."""
    last_seen_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    """Set when the person erased their identity; the row then only holds statistics."""
    muted_until: Mapped[datetime | None]
    """Code of conduct: until then, the person's ideas and nickname are not accepted."""
    banned_at: Mapped[datetime | None]
    """Code of conduct: excluded from challenges and leaderboards for good."""

    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="respondent", cascade="all, delete-orphan", passive_deletes=True
    )


class ChannelIdentity(Base):
    """How to reach a person on one channel: a Telegram user id or an E.164 number."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opted_out_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]

    respondent: Mapped[Respondent] = relationship(back_populates="identities")


class SurveyVersion(Base):
    """One version of a survey file; editing the file makes the next version."""

    __tablename__ = "survey_versions"
    __table_args__ = (
        UniqueConstraint("survey_id", "version"),
        UniqueConstraint("survey_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]]
    source: Mapped[str | None] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyClosure(Base):
    """A survey staff closed: nobody may begin it or go on answering it until it is reopened.

    Beside the survey file's own ``opens_at``/``closes_at``: closing needs no new version.
    """

    __tablename__ = "survey_closures"

    survey_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveySession(Base):
    """One person taking one survey: the funnel's unit (started, completed).

    A person has at most one session per survey, so nobody is counted twice;
    coming back to a survey resumes its session from ``state``.
    """

    __tablename__ = "survey_sessions"
    __table_args__ = (
        Index("ix_survey_sessions_survey_status", "survey_id", "status"),
        UniqueConstraint("respondent_id", "survey_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[str] = mapped_column(String(40))
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    state: Mapped[dict[str, Any] | None]
    """Progress kept while the person is away in another survey."""


class Answer(Base):
    """One answer to one question; a session answers each question once."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("session_id", "question_id"),
        Index("ix_answers_survey_question", "survey_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id", ondelete="CASCADE"))
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[str] = mapped_column(String(40))
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    question_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[Any] = mapped_column(JSON)
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    text_status: Mapped[str | None] = mapped_column(String(12))
    """Moderation of free text: None (not yet read), approved or rejected. Only approved
    text leaves the database (exports, reports) unless staff ask for it explicitly."""
    channel: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnswerChoice(Base):
    """One picked value of a choice, yes/no or rating answer, for counting in SQL."""

    __tablename__ = "answer_choices"
    __table_args__ = (Index("ix_answer_choices_question_value", "survey_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    respondent_id: Mapped[int | None]
    """The answer's respondent, copied here so counts by profile need not read the
    (wide) answers table: a third less time for a breakdown over a million answers.
    Kept equal to the answer's by AnswerRepository.add and the merge of two people."""
    survey_id: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(40))


class ProcessedInbound(Base):
    """Inbound deliveries already handled (Telegram update_id, Twilio MessageSid)."""

    __tablename__ = "processed_inbound"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundMessage(Base):
    """A message we sent through a provider, for delivery status and cost.

    The text itself is not kept: its encoding and segments are what cost money.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(24), default="reply")
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None]
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstanceSecret(Base):
    """Secrets this deployment generated for itself when none was configured."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignRecord(Base):
    """A broadcast staff defined: its file as JSON, and where it stands."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    """draft, scheduled, paused, cancelled, completed."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignRun(Base):
    """One firing of a campaign (a recurring one fires many times); fires once per due time."""

    __tablename__ = "campaign_runs"
    __table_args__ = (UniqueConstraint("campaign_id", "due_at", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(String(16), default="broadcast")
    """broadcast, or reminder (an event's reminder to those going)."""
    status: Mapped[str] = mapped_column(String(16), default="filling")
    """filling (the outbox is being written), sending, done, cancelled."""
    total: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """One campaign message to one person on one channel: the unit of dispatch.

    pending -> sending (written before the request leaves) -> sent -> delivered,
    or failed, skipped (cancelled, opted out meanwhile), unknown (the process
    died while the request was out: never resent automatically).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("run_id", "respondent_id"),
        Index("ix_outbox_due", "channel", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(40), index=True)
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventRsvp(Base):
    """A person's answer to an event invitation; beyond capacity they wait in line."""

    __tablename__ = "event_rsvps"

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )
    response: Mapped[str] = mapped_column(String(8))
    """going, maybe, no."""
    waitlisted: Mapped[bool] = mapped_column(default=False)
    responded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RespondentTag(Base):
    """A label staff give people (a school, a youth club), for choosing audiences."""

    __tablename__ = "respondent_tags"

    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class QuizVersion(Base):
    """One version of a quiz file, as survey versions are."""

    __tablename__ = "quiz_versions"
    __table_args__ = (
        UniqueConstraint("quiz_id", "version"),
        UniqueConstraint("quiz_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]]
    source: Mapped[str | None] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(Base):
    """One play of a quiz; ``counted`` marks the attempt its replay rule counts."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (Index("ix_quiz_attempts_player_quiz", "respondent_id", "quiz_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(40))
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"))
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondents.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    """active, finished, abandoned."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    score: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)
    counted: Mapped[bool] = mapped_column(default=False)


class QuizAnswer(Base):
    """One answer in an attempt: a question is answered once; late answers score nothing."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    quiz_id: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[str] = mapped_column(String(40))
    goal: Mapped[int]
    chosen: Mapped[str] = mapped_column(String(32))
    """The options picked, counted from 1 as in the quiz file: "2" or "1,3"."""
    correct: Mapped[bool]
    late: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    elapsed_ms: Mapped[int] = mapped_column(default=0)


class Team(Base):
    """A school or youth club: players join with its code."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    region: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Player(Base):
    """How a person appears on leaderboards: a nickname they chose, never who they are."""

    __tablename__ = "players"

    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )
    nickname: Mapped[str | None] = mapped_column(String(24))
    nickname_key: Mapped[str | None] = mapped_column(String(24), unique=True)
    """The nickname folded (case, accents), so two players cannot look alike."""
    hidden: Mapped[bool] = mapped_column(default=False)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlayerScore(Base):
    """A player's points in a period ('all', or an ISO week such as '2026-W48').

    Kept up to date when an attempt ends, with the player's region and team
    beside them, so a leaderboard page or a rank is one indexed query.
    """

    __tablename__ = "player_scores"
    # A board's order straight off an index, after the equalities its queries have:
    # score DESC (mixed with ascending duration, so the direction must be in the
    # index), duration_ms, respondent_id; visible in it and respondent_id last, so
    # pages and ranks read the index alone (LeaderboardRepository, bench/leaderboard.py).
    __table_args__ = (
        Index(
            "ix_player_scores_board",
            "period",
            "visible",
            text("score DESC"),
            "duration_ms",
            "respondent_id",
        ),
        Index(
            "ix_player_scores_region",
            "period",
            "region",
            "visible",
            text("score DESC"),
            "duration_ms",
            "respondent_id",
        ),
        Index(
            "ix_player_scores_team",
            "period",
            "team_id",
            "visible",
            text("score DESC"),
            "duration_ms",
            "respondent_id",
        ),
    )

    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    score: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)
    region: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None]
    visible: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DailyAnswer(Base):
    """The question of the day, answered: the days make the streak."""

    __tablename__ = "daily_answers"

    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    question_id: Mapped[str] = mapped_column(String(40))
    goal: Mapped[int]
    correct: Mapped[bool]


class Badge(Base):
    __tablename__ = "badges"

    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )
    badge: Mapped[str] = mapped_column(String(40), primary_key=True)
    earned_at: Mapped[datetime] = mapped_column(default=utcnow)


class Challenge(Base):
    """An idea challenge staff opened: ideas come in, are moderated, then voted on."""

    __tablename__ = "challenges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    definition: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="open")
    """open (ideas come in), voting (approved ideas are voted on), closed."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Idea(Base):
    __tablename__ = "ideas"
    __table_args__ = (Index("ix_ideas_challenge_status", "challenge_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[str] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondents.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending (awaiting moderation), approved, rejected."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    moderated_at: Mapped[datetime | None]


class IdeaVote(Base):
    """One vote per person and challenge, never for one's own idea."""

    __tablename__ = "idea_votes"

    challenge_id: Mapped[str] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffAccount(Base):
    """A person of the staff console: a UN agency, ministry or NGO worker, never a respondent.

    Accounts are disabled, never deleted, so the audit log keeps pointing at them.
    """

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    """A username or an e-mail address, lowercased."""
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    """Argon2id, in its PHC string form (parameters and salt included)."""
    role: Mapped[str] = mapped_column(String(16))
    """admin, organizer, analyst or moderator (outreach.console.roles)."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    """Failed sign-ins since ``first_failed_at``: too many in the window lock the account."""
    first_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    """The absolute end, whatever the activity; idleness ends it sooner."""
    csrf_secret: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class StaffApiToken(Base):
    """A token for scripts, acting with its account's role. Only its SHA-256 is stored."""

    __tablename__ = "staff_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The token's first characters, to recognise it in a list (``sdg_AbCd``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One staff action: who (account and username at the time), did what, to what, when.

    ``details`` never holds personal data of respondents (storage.audit checks it).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL"), index=True
    )
    username: Mapped[str] = mapped_column(String(120))
    """Who acted, as they were named then (``cli:<user>`` from the command line)."""
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any] | None]
    ip: Mapped[str | None] = mapped_column(String(45))
