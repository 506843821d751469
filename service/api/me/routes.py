"""The signed-in athlete's own profile and personal access tokens."""

from __future__ import annotations

import uuid

from flask import Response
from flask.views import MethodView

from service.api.auth.schemas import PasswordChangeSchema
from service.api.conditional import check_if_match, etag_header, etag_of
from service.api.context import commit, db, now, state
from service.api.extension import Blueprint
from service.api.pagination import PageArgsSchema, page_schema, paginate
from service.api.security import current_account, current_principal
from service.domain.accounts import credentials, erasure, scopes, tokens
from service.domain.accounts import registration as accounts
from service.domain.data import export
from service.models import PersonalAccessToken

from .schemas import (
    ErasureSchema,
    ExportArgsSchema,
    ExportSchema,
    PersonalTokenCreatedSchema,
    PersonalTokenCreateSchema,
    PersonalTokenSchema,
    ProfilePatchSchema,
    ProfileSchema,
)

blp = Blueprint("me", __name__, url_prefix="/v1/me", description="Your profile and tokens.")


@blp.route("")
class Profile(MethodView):
    @blp.operation("getProfile")
    @blp.read_only()
    @blp.auth_required(scopes.PROFILE_READ)
    @blp.if_none_match()
    @blp.response(200, ProfileSchema)
    def get(self):
        """Read your profile

        Your email, name, time zone, units and quiet hours, with the ETag to change them by.
        """
        account = current_account()
        return account, 200, etag_header(account.version)

    @blp.operation("updateProfile")
    @blp.auth_required(scopes.PROFILE_WRITE)
    @blp.if_match()
    @blp.arguments(ProfilePatchSchema)
    @blp.response(200, ProfileSchema)
    def patch(self, changes):
        """Change your profile

        Time zone, units and quiet hours decide when and how every message reaches you.
        """
        account = current_account()
        check_if_match(etag_of(account.version))
        accounts.update_profile(account, changes)
        commit()
        return account, 200, etag_header(account.version)

    @blp.operation("deleteAccount")
    @blp.strict_limit()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(ErasureSchema)
    @blp.response(204)
    def delete(self, body):
        """Delete your account and all your data

        Everything Backstride holds about you is erased at once: profile, shoes, check-ins,
        notifications, devices, imports, coach links (both ways) and your access log; every
        sign-in and token stops working. Export first if you want a copy. Needs your password.
        """
        erasure.erase(db(), state().hasher, current_account(), body["password"])
        commit()


@blp.route("/export")
class Export(MethodView):
    @blp.operation("exportAccount")
    @blp.read_only()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(ExportArgsSchema, location="query")
    @blp.response(200, ExportSchema)
    @blp.doc(responses={"200": {
        "description": "One JSON document, or with `format=csv` a zip of CSV files.",
        "content": {"application/json": {"schema": ExportSchema},
                    "application/zip": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {"Content-Disposition": {
            "description": "An attachment named backstride-YYYYMMDD.json (or .zip).",
            "required": True, "schema": {"type": "string"}}}}})
    def get(self, args):
        """Export all your data

        Everything Backstride holds about you, as one JSON document (streamed), or with
        `format=csv` as a zip of one CSV file per section. Secrets (password and token hashes,
        push tokens) are never included; `not_exported` says what is left out and why.
        """
        athlete_id, engine, moment = current_account().id, state().engine, now()
        name = f"backstride-{moment.strftime('%Y%m%d')}"
        if args["format"] == "csv":
            archive = export.csv_zip(engine, athlete_id, moment)
            return Response(_chunks(archive), mimetype="application/zip", headers={
                "Content-Disposition": f'attachment; filename="{name}.zip"'})
        return Response(export.json_chunks(engine, athlete_id, moment),
                        mimetype="application/json", headers={
                            "Content-Disposition": f'attachment; filename="{name}.json"'})


def _chunks(handle, size: int = 64 * 1024):
    """Send a file in pieces, closing it at the end (or when the client goes away)."""
    with handle:
        while piece := handle.read(size):
            yield piece


@blp.route("/tokens")
class PersonalTokens(MethodView):
    @blp.operation("listPersonalTokens")
    @blp.read_only()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(PersonalTokenSchema))
    def get(self, page):
        """List your personal access tokens

        Live tokens only, newest first; the secrets themselves are never shown again.
        """
        statement = tokens.personal_tokens_query(current_account(), now())
        return paginate(db(), statement,
                        order=(PersonalAccessToken.created_at, PersonalAccessToken.id), **page)

    @blp.operation("createPersonalToken")
    @blp.strict_limit()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(PersonalTokenCreateSchema)
    @blp.response(201, PersonalTokenCreatedSchema)
    def post(self, body):
        """Create a personal access token

        For scripts and generated API clients. Copy the `token` now: only its hash is kept.
        """
        issued = tokens.create_personal_token(
            db(), state().token_policy, current_account(), now=now(), **body
        )
        commit()
        return issued


@blp.route("/tokens/<uuid:token_id>")
class PersonalToken(MethodView):
    @blp.operation("revokePersonalToken")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, token_id: uuid.UUID):
        """Revoke a personal access token

        It stops working at once.
        """
        tokens.revoke_personal_token(db(), current_account(), token_id, now())
        commit()


@blp.route("/password")
class Password(MethodView):
    @blp.operation("changePassword")
    @blp.strict_limit()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, body):
        """Change your password

        Needs your current password. Every other sign-in (your other phones, and anyone who had
        your password) is signed out at once; this one stays signed in.
        """
        credentials.change_password(
            db(), state().hasher, current_account(), current_password=body["current_password"],
            new_password=body["new_password"], keep_session=current_principal().session_id,
            now=now())
        commit()
