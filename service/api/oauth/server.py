"""Authlib's authorisation server, on our accounts, apps and scopes (service.domain.accounts.apps).

What Authlib does: parsing and validating authorisation and token requests, client
authentication (HTTP Basic, form, none), the authorization_code and refresh_token grants, PKCE
verification, RFC 7009 revocation, RFC 6749 error bodies and error redirects, the `iss`
parameter (RFC 9207). What this module adds on top, because Authlib leaves it open:

- PKCE for every client, S256 only: Authlib's `CodeChallenge(required=True)` lets an
  authorisation request without a challenge through, accepts `plain` (its default method), and
  asks a confidential client for no verifier (`S256OnlyChallenge`);
- a redirect URI is required, matched exactly (loopback on any port), and an unregistered one is
  never echoed into an error description (`CodeGrant.validate_authorization_redirect_uri`);
- codes and refresh tokens are claimed atomically, and a second use revokes the family
  (`apps.claim_code`, `apps.claim_refresh`), a revocation the view commits although the request
  fails; a scope beyond the grant is refused before the refresh token is used up;
- revoking a token (RFC 7009) ends its whole grant, as logging an app out means;
- opaque tokens with our prefixes, stored as hashes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, g, request

from service.api.context import db, now, state
from service.domain.accounts import apps
from service.domain.accounts import scopes as scope_names
from service.models import Account, OAuthClient, OAuthCode, OAuthToken

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
GRANT_TYPES = ["authorization_code", "refresh_token"]
# The request's session holds a revocation that must be committed whatever the answer.
COMMIT_ALWAYS = "oauth_commit_always"


def issuer() -> str:
    """This server's identifier: `BACKSTRIDE_PUBLIC_URL`, else the request's own base URL (behind
    a proxy, as ProxyFix reports it; a misconfigured proxy would then change it)."""
    return state().settings.public_url or request.url_root.rstrip("/")


def policy() -> apps.AppPolicy:
    settings = state().settings
    return apps.AppPolicy(access_ttl_s=settings.access_token_ttl_s,
                          refresh_ttl_s=settings.refresh_token_ttl_s)


@dataclass(frozen=True)
class Consent:
    """What the athlete approved on the consent page: who, and which of the requested scopes."""

    account: Account
    scopes: frozenset[str]


class Client:
    """An app as Authlib's ClientMixin wants it."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # always required: no guessing which URI a request meant

    def get_allowed_scope(self, scope: str | None) -> str | None:
        allowed = apps.allowed_scopes(scope_to_list(scope) or [])
        return " ".join(allowed) if allowed else None  # None: invalid_scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return apps.redirect_uri_matches(self.row.redirect_uris, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        return apps.check_client_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.confidential:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class Code:
    """A claimed authorisation code, as Authlib's AuthorizationCodeMixin wants it."""

    def __init__(self, row: OAuthCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return " ".join(self.row.scopes)


class Pair:
    """An issued access and refresh token, as Authlib's TokenMixin wants it."""

    def __init__(self, row: OAuthToken) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.grant.client_id == client.row.id

    def get_scope(self) -> str:
        return " ".join(self.row.grant.scopes)  # what the athlete granted, for a refresh

    def get_expires_in(self) -> int:
        return int((self.row.access_expires_at - self.row.created_at).total_seconds())

    def is_expired(self) -> bool:
        return self.row.access_expires_at <= now()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or self.row.grant.revoked_at is not None


class S256OnlyChallenge(CodeChallenge):
    """PKCE on every authorisation request and every exchange, S256 only (RFC 9700 2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 (Authlib's attribute)
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier': PKCE is required.")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: Code) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: Code) -> str:
        return authorization_code.row.code_challenge_method


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(oauth_request: Any, client: Client) -> str:
        redirect_uri = oauth_request.payload.redirect_uri
        if not redirect_uri:
            raise InvalidRequestError("Missing 'redirect_uri'.")
        if not client.check_redirect_uri(redirect_uri):
            # Never the URI itself: it is the attacker's text.
            raise InvalidRequestError("This redirect_uri is not registered for the app.")
        return redirect_uri

    def save_authorization_code(self, code: str, oauth_request: Any) -> None:
        consent: Consent = oauth_request.user
        requested = set(scope_to_list(oauth_request.scope) or [])
        apps.save_code(db(), oauth_request.client.row, consent.account, code=code,
                       redirect_uri=oauth_request.payload.redirect_uri,
                       granted=requested & consent.scopes,
                       challenge=oauth_request.payload.data["code_challenge"], now=now())

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        g.setdefault(COMMIT_ALWAYS, True)
        row = apps.claim_code(db(), client.row, code, now())
        return Code(row) if row is not None else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Nothing: `claim_code` used it up, and the row stays to recognise a second use."""

    def authenticate_user(self, authorization_code: Code) -> Account | None:
        return db().get(Account, authorization_code.row.account_id)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh token works once

    def authenticate_refresh_token(self, refresh_token: str) -> Pair | None:
        scope = self.request.payload.scope
        requested = scope_to_list(scope) if scope else None
        g.setdefault(COMMIT_ALWAYS, True)
        try:
            row = apps.claim_refresh(db(), self.request.client.row, refresh_token, requested,
                                     now())
        except apps.ScopeEscalation as error:
            raise InvalidScopeError("The scope asks for more than the athlete granted.") \
                from error
        return Pair(row) if row is not None else None

    def authenticate_user(self, refresh_token: Pair) -> Account | None:
        return db().get(Account, refresh_token.row.grant.account_id)

    def revoke_old_credential(self, refresh_token: Pair) -> None:
        """Nothing: `claim_refresh` used it up (and its access token with it)."""


class Revocation(RevocationEndpoint):
    """RFC 7009. Either token of a pair ends the whole grant: the app is signed out."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def authenticate_token(self, oauth_request: Any, client: Client) -> Pair | None:
        self.check_params(oauth_request, client)
        row = apps.token_by_secret(db(), client.row, oauth_request.form["token"])
        return Pair(row) if row is not None else None

    def revoke_token(self, token: Pair, oauth_request: Any) -> None:
        apps.revoke_family(db(), token.row, now(), "app_revoked")


class Issuer(IssuerParameter):
    def get_issuer(self) -> str:
        return issuer()


def _query_client(client_id: str) -> Client | None:
    row = apps.client_by_client_id(db(), client_id)
    return Client(row) if row is not None else None


def _save_token(token: dict[str, Any], oauth_request: Any) -> None:
    granted = scope_to_list(token.get("scope")) or []
    if oauth_request.authorization_code is not None:
        code = oauth_request.authorization_code.row
        grant = apps.start_grant(db(), policy(), code, granted, now())
    else:
        grant = oauth_request.refresh_token.row.grant
    apps.save_tokens(db(), policy(), grant, access_token=token["access_token"],
                     refresh_token=token["refresh_token"], granted=granted, now=now())


def _generate_token(grant_type: str, client: Client, user: Any = None, scope: str | None = None,
                    expires_in: int | None = None,
                    include_refresh_token: bool = True) -> dict[str, Any]:
    return {"token_type": "Bearer", "access_token": apps.new_access_token(),
            "refresh_token": apps.new_refresh_token(), "expires_in": policy().access_ttl_s,
            "scope": scope or ""}


def make_server(app: Flask) -> AuthorizationServer:
    server = AuthorizationServer()
    server.init_app(app, query_client=_query_client, save_token=_save_token)
    server.register_token_generator("default", _generate_token)
    server.scopes_supported = list(scope_names.APP_SCOPES)
    server.register_grant(CodeGrant, [S256OnlyChallenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    server.register_extension(Issuer())
    return server


def metadata(urls: dict[str, str]) -> dict[str, Any]:
    """RFC 8414 authorisation server metadata (with RFC 9207's iss parameter)."""
    return {
        "issuer": issuer(),
        "authorization_endpoint": urls["authorize"],
        "token_endpoint": urls["token"],
        "revocation_endpoint": urls["revoke"],
        "scopes_supported": list(scope_names.APP_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": urls["docs"],
    }
