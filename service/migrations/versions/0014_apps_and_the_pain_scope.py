"""apps (OAuth 2 clients, codes, grants, tokens), app reads in the access log, an app's webhook
endpoints tied to the app, pain:read

Personal tokens made before pain:read existed keep what they could read: each one holding a scope
through which pain was visible (check-ins, notifications, load, the profile's suggested routine)
is given pain:read.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.base

PAIN_READ = "pain:read"
PAIN_VISIBLE_THROUGH = {"checkins:read", "notifications:read", "load:read", "profile:read"}

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oauth_clients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('secret_hint', sa.String(length=16), nullable=True),
    sa.Column('created_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', service.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['accounts.id'], name=op.f('fk_oauth_clients_owner_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_clients_client_id'))
    )
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_clients_owner_id'), ['owner_id'], unique=False)

    op.create_table('oauth_grants',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', service.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', service.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_oauth_grants_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], name=op.f('fk_oauth_grants_client_id_oauth_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_grants'))
    )
    with op.batch_alter_table('oauth_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_grants_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_grants_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_grants_expires_at'), ['expires_at'], unique=False)

    op.create_table('oauth_codes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=False),
    sa.Column('created_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', service.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('grant_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_oauth_codes_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], name=op.f('fk_oauth_codes_client_id_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grant_id'], ['oauth_grants.id'], name=op.f('fk_oauth_codes_grant_id_oauth_grants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_codes_code_hash'))
    )
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_codes_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_codes_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_codes_expires_at'), ['expires_at'], unique=False)

    op.create_table('oauth_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('grant_id', sa.Uuid(), nullable=False),
    sa.Column('access_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('access_expires_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refresh_expires_at', service.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refresh_used_at', service.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', service.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grant_id'], ['oauth_grants.id'], name=op.f('fk_oauth_tokens_grant_id_oauth_grants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_tokens')),
    sa.UniqueConstraint('access_hash', name=op.f('uq_oauth_tokens_access_hash')),
    sa.UniqueConstraint('refresh_hash', name=op.f('uq_oauth_tokens_refresh_hash'))
    )
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_tokens_grant_id'), ['grant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_tokens_refresh_expires_at'), ['refresh_expires_at'], unique=False)

    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_access_log_app_id_oauth_clients'), 'oauth_clients', ['app_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_webhook_endpoints_app_id_oauth_clients'), 'oauth_clients', ['app_id'], ['id'], ondelete='CASCADE')

    tokens = sa.table('personal_access_tokens', sa.column('id', sa.Uuid()),
                      sa.column('scopes', sa.JSON()))
    connection = op.get_bind()
    for token_id, scopes in connection.execute(sa.select(tokens.c.id, tokens.c.scopes)).all():
        if PAIN_READ not in scopes and PAIN_VISIBLE_THROUGH & set(scopes):
            connection.execute(tokens.update().where(tokens.c.id == token_id)
                               .values(scopes=sorted({*scopes, PAIN_READ})))



def downgrade() -> None:
    tokens = sa.table('personal_access_tokens', sa.column('id', sa.Uuid()),
                      sa.column('scopes', sa.JSON()))
    connection = op.get_bind()
    for token_id, scopes in connection.execute(sa.select(tokens.c.id, tokens.c.scopes)).all():
        if PAIN_READ in scopes:
            connection.execute(tokens.update().where(tokens.c.id == token_id)
                               .values(scopes=[s for s in scopes if s != PAIN_READ]))
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_webhook_endpoints_app_id_oauth_clients'), type_='foreignkey')

    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_access_log_app_id_oauth_clients'), type_='foreignkey')
        batch_op.drop_column('app_id')

    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_refresh_expires_at'))
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_grant_id'))

    op.drop_table('oauth_tokens')
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_codes_expires_at'))
        batch_op.drop_index(batch_op.f('ix_oauth_codes_client_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_codes_account_id'))

    op.drop_table('oauth_codes')
    with op.batch_alter_table('oauth_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_grants_expires_at'))
        batch_op.drop_index(batch_op.f('ix_oauth_grants_client_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_grants_account_id'))

    op.drop_table('oauth_grants')
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_clients_owner_id'))

    op.drop_table('oauth_clients')
