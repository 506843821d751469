"""Accounts and sign-in: register, token, refresh, logout, and resetting a forgotten password."""

from __future__ import annotations

from functools import partial

from flask import url_for
from flask.views import MethodView

from service.api.context import commit, db, now, state
from service.api.extension import Blueprint, location
from service.api.me.schemas import ProfileSchema
from service.domain.accounts import credentials, tokens
from service.domain.accounts import registration as accounts

from .schemas import (
    CredentialsSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    RefreshTokenSchema,
    RegisterSchema,
    TokenPairSchema,
)

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Accounts and sign-in.")


@blp.route("/register")
class Register(MethodView):
    @blp.operation("register")
    @blp.strict_limit()
    @blp.idempotent()
    @blp.arguments(RegisterSchema)
    @blp.response(201, ProfileSchema, headers=location("your profile"))
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body):
        """Create an account

        The email must be new; the password at least 10 characters and not a common one.
        """
        account = accounts.register(db(), state().hasher, **body)
        commit()
        return account, 201, {"Location": url_for("me.Profile")}


@blp.route("/token")
class Token(MethodView):
    @blp.operation("createToken")
    @blp.strict_limit()
    @blp.failed_sign_ins_per_email()
    @blp.arguments(CredentialsSchema)
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, body):
        """Sign in

        Returns a 15-minute access token and a single-use refresh token. A wrong password and an
        unknown email get the same answer.
        """
        session = db()
        account = accounts.authenticate(session, state().hasher, **body)
        pair = tokens.sign_in(session, state().token_policy, account, now())
        commit()
        return pair


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.operation("refreshToken")
    @blp.strict_limit()
    @blp.arguments(RefreshTokenSchema)
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, body):
        """Trade a refresh token for a new pair

        Each refresh token works once. Presenting one again signs out that session everywhere.
        """
        session = db()
        try:
            pair = tokens.refresh(session, state().token_policy, body["refresh_token"], now())
        except tokens.RefreshTokenReused:
            commit()  # the family's revocation must stick although this request fails
            raise
        commit()
        return pair


@blp.route("/logout")
class Logout(MethodView):
    @blp.operation("logout")
    @blp.arguments(RefreshTokenSchema)
    @blp.response(204)
    def post(self, body):
        """Sign out

        Revokes the session of this refresh token: its access tokens stop working at once.
        """
        tokens.sign_out(db(), body["refresh_token"], now())
        commit()


@blp.route("/password-reset")
class PasswordResetRequest(MethodView):
    @blp.operation("requestPasswordReset")
    @blp.strict_limit()
    @blp.reset_emails_per_email()
    @blp.arguments(PasswordResetRequestSchema)
    @blp.response(202)
    def post(self, body):
        """Ask for a password reset email

        If an account has this email, a link to choose a new password is sent to it; it works
        once, within the hour. The answer is the same whether or not the email has an account.
        """
        settings = state().settings
        email = credentials.reset_email(db(), settings.secret_key, body["email"],
                                        link=settings.password_reset_url,
                                        valid_for_s=settings.password_reset_ttl_s)
        # Composed and sent in the background; for an unknown email a stand-in is composed and
        # dropped, so the two cost the same work and the timing tells nothing.
        if email is not None:
            state().mailer.send(partial(email.message, settings.mail_from))
        else:
            stand_in = credentials.ResetEmail(to=body["email"], link=credentials.DECOY_LINK,
                                              valid_for_s=settings.password_reset_ttl_s)
            state().mailer.compose_only(partial(stand_in.message, settings.mail_from))


@blp.route("/password-reset/confirm")
class PasswordReset(MethodView):
    @blp.operation("resetPassword")
    @blp.strict_limit()
    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    def post(self, body):
        """Choose a new password with a reset link's token

        Every sign-in of the account is signed out; sign in again with the new password.
        """
        credentials.reset_password(
            db(), state().hasher, state().settings.secret_key, token=body["token"],
            new_password=body["new_password"], max_age_s=state().settings.password_reset_ttl_s,
            now=now())
        commit()
