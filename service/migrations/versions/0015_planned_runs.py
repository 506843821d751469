"""planned runs; what a coach did in the access log (read or write); how a check-in arrived

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('planned_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('athlete_id', sa.Uuid(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('distance_m', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('notes', sa.String(length=2000), nullable=True),
    sa.Column('coach_id', sa.Uuid(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('distance_m > 0', name=op.f('ck_planned_runs_distance')),
    sa.ForeignKeyConstraint(['athlete_id'], ['accounts.id'], name=op.f('fk_planned_runs_athlete_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['coach_id'], ['accounts.id'], name=op.f('fk_planned_runs_coach_id_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_runs'))
    )
    with op.batch_alter_table('planned_runs', schema=None) as batch_op:
        batch_op.create_index('ix_planned_runs_athlete_day', ['athlete_id', 'local_date'], unique=False)

    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action', sa.String(length=8), server_default='read',
                                      nullable=False))
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrived_via', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_column('arrived_via')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_column('action')
    with op.batch_alter_table('planned_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_planned_runs_athlete_day')

    op.drop_table('planned_runs')
