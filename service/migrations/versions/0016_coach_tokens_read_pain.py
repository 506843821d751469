"""coach tokens keep their pain reads: pain:read for personal tokens holding coach:read

A coach's read of an athlete's pain now needs `pain:read` on the coach's token as well as the
athlete's `pain` grant. Personal tokens made before that held `coach:read` and saw what their
athletes granted, pain included; each is given `pain:read` so that none loses a read. Apps'
grants are not widened: an app asks its user again, on the consent page.

Downgrade leaves the scopes as they are: `pain:read` was already in the vocabulary at 0015, and
which tokens had it before this revision is not recorded.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

PAIN_READ = "pain:read"
COACH_READ = "coach:read"

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tokens = sa.table('personal_access_tokens', sa.column('id', sa.Uuid()),
                      sa.column('scopes', sa.JSON()))
    connection = op.get_bind()
    for token_id, scopes in connection.execute(sa.select(tokens.c.id, tokens.c.scopes)).all():
        if COACH_READ in scopes and PAIN_READ not in scopes:
            connection.execute(tokens.update().where(tokens.c.id == token_id)
                               .values(scopes=sorted({*scopes, PAIN_READ})))


def downgrade() -> None:
    pass
