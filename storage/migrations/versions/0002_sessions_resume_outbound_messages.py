"""sessions resume, outbound messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:09:12.609667
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("encoding", sa.String(length=8), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint(
            "channel", "provider_id", name=op.f("uq_outbound_messages_channel_provider_id")
        ),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_messages_address"), ["address"], unique=False)

    # One session per person and survey: keep the newest where there are several.
    op.execute(
        "DELETE FROM answer_choices WHERE answer_id IN (SELECT a.id FROM answers a "
        "JOIN survey_sessions s ON s.id = a.session_id WHERE EXISTS (SELECT 1 FROM "
        "survey_sessions t WHERE t.respondent_id = s.respondent_id "
        "AND t.survey_id = s.survey_id AND t.id > s.id))"
    )
    op.execute(
        "DELETE FROM answers WHERE session_id IN (SELECT s.id FROM survey_sessions s "
        "WHERE EXISTS (SELECT 1 FROM survey_sessions t WHERE t.respondent_id = s.respondent_id "
        "AND t.survey_id = s.survey_id AND t.id > s.id))"
    )
    op.execute(
        "DELETE FROM survey_sessions WHERE EXISTS (SELECT 1 FROM survey_sessions t "
        "WHERE t.respondent_id = survey_sessions.respondent_id "
        "AND t.survey_id = survey_sessions.survey_id AND t.id > survey_sessions.id)"
    )
    with op.batch_alter_table("survey_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.JSON(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_survey_sessions_respondent_id_survey_id"), ["respondent_id", "survey_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_survey_sessions_respondent_id_survey_id"), type_="unique"
        )
        batch_op.drop_column("state")

    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_messages_address"))

    op.drop_table("outbound_messages")
