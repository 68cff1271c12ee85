"""answer_choices.respondent_id: counts by profile without reading the answers table

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answer_choices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("respondent_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE answer_choices SET respondent_id = "
        "(SELECT answers.respondent_id FROM answers WHERE answers.id = answer_choices.answer_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("answer_choices", schema=None) as batch_op:
        batch_op.drop_column("respondent_id")
