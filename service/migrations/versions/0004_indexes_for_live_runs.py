"""indexes that cover the nightly job's reads of runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_athlete_kind_occurred")
        batch_op.create_index("ix_checkins_athlete_kind_occurred",
                              ["athlete_id", "kind", "occurred_at"], unique=False,
                              postgresql_include=["deleted_at", "distance_m"])
        batch_op.create_index("ix_checkins_athlete_day", ["athlete_id", "local_date"],
                              unique=False,
                              postgresql_include=["kind", "deleted_at", "distance_m"])


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_athlete_day")
        batch_op.drop_index("ix_checkins_athlete_kind_occurred")
        batch_op.create_index("ix_checkins_athlete_kind_occurred",
                              ["athlete_id", "kind", "occurred_at"], unique=False)
