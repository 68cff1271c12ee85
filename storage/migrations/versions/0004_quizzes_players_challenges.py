"""quizzes, players, teams, scores, daily, badges, challenges

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 12:57:26.460946
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
    )
    op.create_table(
        "quiz_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_versions")),
        sa.UniqueConstraint(
            "quiz_id", "content_hash", name=op.f("uq_quiz_versions_quiz_id_content_hash")
        ),
        sa.UniqueConstraint("quiz_id", "version", name=op.f("uq_quiz_versions_quiz_id_version")),
    )
    with op.batch_alter_table("quiz_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_versions_quiz_id"), ["quiz_id"], unique=False)

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("code", name=op.f("uq_teams_code")),
    )
    op.create_table(
        "badges",
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=40), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_badges_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("respondent_id", "badge", name=op.f("pk_badges")),
    )
    op.create_table(
        "daily_answers",
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("goal", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_daily_answers_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("respondent_id", "day", name=op.f("pk_daily_answers")),
    )
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.String(length=40), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_ideas_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_ideas_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
    )
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.create_index("ix_ideas_challenge_status", ["challenge_id", "status"], unique=False)

    op.create_table(
        "player_scores",
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_player_scores_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("respondent_id", "period", name=op.f("pk_player_scores")),
    )
    with op.batch_alter_table("player_scores", schema=None) as batch_op:
        # Each board's order (score DESC, duration_ms, respondent_id) after its equalities,
        # with visible: pages and ranks read these indexes alone (see storage/models.py).
        batch_op.create_index(
            "ix_player_scores_board",
            ["period", "visible", sa.text("score DESC"), "duration_ms", "respondent_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_player_scores_region",
            ["period", "region", "visible", sa.text("score DESC"), "duration_ms", "respondent_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_player_scores_team",
            ["period", "team_id", "visible", sa.text("score DESC"), "duration_ms", "respondent_id"],
            unique=False,
        )

    op.create_table(
        "players",
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("nickname", sa.String(length=24), nullable=True),
        sa.Column("nickname_key", sa.String(length=24), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_players_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_players_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("respondent_id", name=op.f("pk_players")),
        sa.UniqueConstraint("nickname_key", name=op.f("uq_players_nickname_key")),
    )
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=40), nullable=False),
        sa.Column("quiz_version_id", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_version_id"],
            ["quiz_versions.id"],
            name=op.f("fk_quiz_attempts_quiz_version_id_quiz_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_quiz_attempts_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quiz_attempts_player_quiz", ["respondent_id", "quiz_id"], unique=False
        )

    op.create_table(
        "idea_votes",
        sa.Column("challenge_id", sa.String(length=40), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_idea_votes_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_votes_idea_id_ideas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_idea_votes_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "respondent_id", name=op.f("pk_idea_votes")),
    )
    with op.batch_alter_table("idea_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_votes_idea_id"), ["idea_id"], unique=False)

    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=40), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("goal", sa.Integer(), nullable=False),
        sa.Column("chosen", sa.String(length=32), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempts.id"],
            name=op.f("fk_quiz_answers_attempt_id_quiz_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_quiz_answers_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answers")),
        sa.UniqueConstraint(
            "attempt_id", "question_id", name=op.f("uq_quiz_answers_attempt_id_question_id")
        ),
    )
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_answers_respondent_id"), ["respondent_id"], unique=False
        )

    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("banned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.drop_column("banned_at")
        batch_op.drop_column("muted_until")

    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_answers_respondent_id"))

    op.drop_table("quiz_answers")
    with op.batch_alter_table("idea_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_votes_idea_id"))

    op.drop_table("idea_votes")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_player_quiz")

    op.drop_table("quiz_attempts")
    op.drop_table("players")
    with op.batch_alter_table("player_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_player_scores_team")
        batch_op.drop_index("ix_player_scores_region")
        batch_op.drop_index("ix_player_scores_board")

    op.drop_table("player_scores")
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_index("ix_ideas_challenge_status")

    op.drop_table("ideas")
    op.drop_table("daily_answers")
    op.drop_table("badges")
    op.drop_table("teams")
    with op.batch_alter_table("quiz_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_versions_quiz_id"))

    op.drop_table("quiz_versions")
    op.drop_table("challenges")
