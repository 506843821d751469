"""Apps by the athlete's consent (OAuth 2): the flow, and a test for each attack it must refuse.

The browser and the app are both the Flask test client here; tests/processes/test_oauth_live.py
runs Authlib's own client and a real Chromium against a live server.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from service.api import create_app
from tests.conftest import make_settings
from tests.support.oauth_apps import (
    ALL_READS,
    authorised,
    authorize_url,
    bearer,
    consent,
    csrf_of,
    exchange,
    pkce,
    redirected_params,
    refresh,
    register_app,
)
from tests.support.runners import PASSWORD, assert_problem, pain, run, sign_up

PORT_URI = "http://127.0.0.1:53682/callback"


@pytest.fixture
def cast(client):
    developer, athlete = sign_up(client), sign_up(client)
    assert athlete.put(f"/v1/checkins/{uuid.uuid4()}", json=run()).status_code == 201
    pain_id = str(uuid.uuid4())
    assert athlete.put(f"/v1/checkins/{pain_id}", json=pain()).status_code == 201
    return developer, athlete, pain_id


def code_for(client, app, athlete, **url):
    verifier, challenge = pkce()
    response = consent(client, authorize_url(app, challenge=challenge, **url), athlete)
    return redirected_params(response)["code"], verifier


def oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error, body
    assert response.headers["Cache-Control"] == "no-store"
    return body


def error_page(response) -> str:
    """Our own page: a 400, no redirect anywhere."""
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# --- The flow

def test_a_native_app_gets_what_the_athlete_ticked_and_pain_stays_hidden(client, cast):
    developer, athlete, pain_id = cast
    app = register_app(developer)
    granted = [scope for scope in ALL_READS if scope != "pain:read"]
    tokens = authorised(client, app, athlete, grant=granted)
    assert tokens["token_type"] == "Bearer" and tokens["scope"].split() == granted
    assert tokens["access_token"].startswith("bst_oat_") and tokens["expires_in"] == 900
    headers = bearer(tokens["access_token"])

    runs = client.get("/v1/checkins?kind=run", headers=headers)
    assert runs.status_code == 200 and len(runs.get_json()["items"]) == 1
    everything = client.get("/v1/checkins", headers=headers).get_json()["items"]
    assert [c["kind"] for c in everything] == ["run"], "pain is left out of the history"
    assert_problem(client.get(f"/v1/checkins/{pain_id}", headers=headers), 404)
    assert_problem(client.get("/v1/checkins?kind=pain", headers=headers), 404)
    feed = client.get("/v1/checkins?since=0", headers=headers).get_json()["items"]
    assert [c["kind"] for c in feed] == ["run"], "and out of the change feed"
    assert_problem(client.get("/v1/me/insights", headers=headers), 403)
    assert client.get("/v1/me/load", headers=headers).status_code == 200

    listed = athlete.get("/v1/me/apps").get_json()["items"]
    assert [(a["name"], a["scopes"]) for a in listed] == [("Trail Log", granted)]
    assert listed[0]["last_used_at"] is not None
    log = athlete.get("/v1/me/access-log").get_json()["items"]
    assert {(e["app_name"], e["resource"]) for e in log} == {("Trail Log", "checkins"),
                                                              ("Trail Log", "load")}
    assert all(e["coach_id"] is None and e["app_id"] == app.id for e in log)


def test_with_pain_granted_the_app_reads_pain_too(client, cast):
    developer, athlete, pain_id = cast
    tokens = authorised(client, register_app(developer), athlete)
    headers = bearer(tokens["access_token"])
    assert client.get(f"/v1/checkins/{pain_id}", headers=headers).status_code == 200
    assert client.get("/v1/me/insights", headers=headers).status_code == 200


def test_an_app_token_holds_its_scopes_and_never_a_sessions(client, cast):
    developer, athlete, _ = cast
    tokens = authorised(client, register_app(developer), athlete, scope="checkins:read")
    headers = bearer(tokens["access_token"])
    assert_problem(client.get("/v1/shoes", headers=headers), 403)
    assert_problem(client.put(f"/v1/checkins/{uuid.uuid4()}", json=run(), headers=headers), 403)
    for path in ("/v1/me/tokens", "/v1/me/apps", "/v1/developer/apps", "/v1/me/export"):
        assert_problem(client.get(path, headers=headers), 403)


def test_a_confidential_app_authenticates_and_uses_pkce_too(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer, confidential=True)
    assert app.client_secret.startswith("bst_cs_")
    code, verifier = code_for(client, app, athlete)
    wrong = type(app)(app.id, app.client_id, "bst_cs_not-the-secret", app.redirect_uris)
    oauth_error(exchange(client, wrong, code, verifier), 401, "invalid_client")
    code, verifier = code_for(client, app, athlete)
    oauth_error(exchange(client, app, code, None), 400, "invalid_request")
    code, verifier = code_for(client, app, athlete)
    assert exchange(client, app, code, verifier).status_code == 200
    listed = developer.get("/v1/developer/apps").get_json()["items"]
    assert listed[0]["secret_hint"] == app.client_secret[-4:] and "client_secret" not in listed[0]


# --- PKCE

@pytest.mark.parametrize("challenge, method", [(None, None), (None, "S256"), ("plain", "plain"),
                                               ("plain", None)])
def test_an_authorisation_request_without_s256_pkce_is_refused_to_the_app(client, cast,
                                                                          challenge, method):
    developer, _, _ = cast
    app = register_app(developer)
    _, s256 = pkce()
    url = authorize_url(app, challenge=s256 if challenge == "plain" else None, method=method)
    params = redirected_params(client.get(url))
    assert params["error"] == "invalid_request" and params["state"] == "xyz"
    assert params["iss"] == "http://localhost", "RFC 9207: the answer names its server"
    assert urlsplit(client.get(url).headers["Location"]).netloc == "127.0.0.1:53682"


def test_a_verifier_that_does_not_match_is_refused_and_burns_the_code(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    code, verifier = code_for(client, app, athlete)
    other_verifier, _ = pkce()
    oauth_error(exchange(client, app, code, other_verifier), 400, "invalid_grant")
    oauth_error(exchange(client, app, code, verifier), 400, "invalid_grant")
    code, _ = code_for(client, app, athlete)
    oauth_error(exchange(client, app, code, None), 400, "invalid_request")


# --- Codes

def test_a_code_used_twice_is_refused_and_revokes_what_it_issued(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    code, verifier = code_for(client, app, athlete)
    first = exchange(client, app, code, verifier)
    assert first.status_code == 200
    tokens = first.get_json()
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200

    oauth_error(exchange(client, app, code, verifier), 400, "invalid_grant")

    assert_problem(client.get("/v1/me", headers=bearer(tokens["access_token"])), 401)
    oauth_error(refresh(client, app, tokens["refresh_token"]), 400, "invalid_grant")
    assert athlete.get("/v1/me/apps").get_json()["items"] == []


def test_a_code_is_only_for_the_app_it_was_given_to(client, cast):
    developer, athlete, _ = cast
    app, other = register_app(developer), register_app(developer, name="Other")
    code, verifier = code_for(client, app, athlete)
    oauth_error(exchange(client, other, code, verifier), 400, "invalid_grant")


# --- Redirect URIs

@pytest.mark.parametrize("redirect_uri", [
    "http://127.0.0.1:53682/callback/extra",  # a path
    "http://127.0.0.1:53682/callbac",
    "http://127.0.0.1:53682/callback?next=https://evil.example",  # a query
    "http://127.0.0.1:53682/callback/",  # a trailing slash
    "http://localhost:53682/callback",
    "http://127.0.0.1.evil.example:53682/callback",
    "https://127.0.0.1/callback",
    "http://user@127.0.0.1:53682/callback",
])
def test_a_redirect_uri_that_differs_gets_our_error_page_never_a_redirect(client, cast,
                                                                          redirect_uri):
    developer, _, _ = cast
    app = register_app(developer)
    _, challenge = pkce()
    html = error_page(client.get(authorize_url(app, redirect_uri=redirect_uri,
                                               challenge=challenge)))
    assert "evil" not in html and "not registered" in html


def test_the_exchange_must_name_the_same_redirect_uri(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    code, verifier = code_for(client, app, athlete)
    oauth_error(exchange(client, app, code, verifier, redirect_uri="http://127.0.0.1:9/callback"),
                400, "invalid_grant")


def test_a_loopback_redirect_may_come_back_on_any_port_and_other_uris_exactly(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer, redirect_uris=[
        "http://127.0.0.1/callback", "com.example.traillog:/oauth", "https://trail.example/cb"])
    for uri in ("http://127.0.0.1:1/callback", "http://127.0.0.1:65535/callback",
                "http://127.0.0.1/callback", "com.example.traillog:/oauth",
                "https://trail.example/cb"):
        code, verifier = code_for(client, app, athlete, redirect_uri=uri)
        assert exchange(client, app, code, verifier, redirect_uri=uri).status_code == 200, uri
    _, challenge = pkce()
    for uri in ("https://trail.example:8443/cb", "com.example.traillog:/oauth/"):
        error_page(client.get(authorize_url(app, redirect_uri=uri, challenge=challenge)))


@pytest.mark.parametrize("uri", [
    "http://localhost/callback", "http://app.example/callback", "https://app.example/cb#x",
    "https://*.example/cb", "javascript:alert(1)", "myapp:/callback", "data:text/html,hi",
    "https://user:pw@app.example/cb", "not a uri",
])
def test_only_safe_redirect_uris_can_be_registered(client, uri):
    developer = sign_up(client)
    response = developer.post("/v1/developer/apps", json={"name": "X", "redirect_uris": [uri]})
    assert_problem(response, 422, "redirect_uris")


def test_an_unknown_app_gets_our_error_page(client):
    _, challenge = pkce()
    url = authorize_url(type("App", (), {"client_id": "bst_app_nobody"})(), challenge=challenge)
    assert "does not know" in error_page(client.get(url))


# --- Refresh tokens

def test_refresh_tokens_rotate_and_a_reused_one_revokes_its_family(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    first = authorised(client, app, athlete)
    second = refresh(client, app, first["refresh_token"])
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert_problem(client.get("/v1/me", headers=bearer(first["access_token"])), 401)
    assert client.get("/v1/me", headers=bearer(second["access_token"])).status_code == 200

    oauth_error(refresh(client, app, first["refresh_token"]), 400, "invalid_grant")

    assert_problem(client.get("/v1/me", headers=bearer(second["access_token"])), 401)
    oauth_error(refresh(client, app, second["refresh_token"]), 400, "invalid_grant")


def test_a_refresh_cannot_widen_the_scopes_but_may_narrow_them(client, cast):
    developer, athlete, pain_id = cast
    app = register_app(developer)
    first = authorised(client, app, athlete, scope="checkins:read pain:read",
                       grant=["checkins:read"])
    oauth_error(refresh(client, app, first["refresh_token"], scope="checkins:read pain:read"),
                400, "invalid_scope")
    oauth_error(refresh(client, app, first["refresh_token"], scope="coach:write"),
                400, "invalid_scope")
    narrowed = refresh(client, app, first["refresh_token"], scope="checkins:read")
    assert narrowed.status_code == 200, "the refused escalations did not use the token up"
    headers = bearer(narrowed.get_json()["access_token"])
    assert_problem(client.get(f"/v1/checkins/{pain_id}", headers=headers), 404)


def test_refresh_tokens_belong_to_their_app(client, cast):
    developer, athlete, _ = cast
    app, other = register_app(developer), register_app(developer, name="Other")
    tokens = authorised(client, app, athlete)
    oauth_error(refresh(client, other, tokens["refresh_token"]), 400, "invalid_grant")
    assert refresh(client, app, tokens["refresh_token"]).status_code == 200, "not used up"


# --- Revocation, the athlete's control, deletion

def test_the_athlete_revokes_an_app_and_its_tokens_end_at_once(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    tokens = authorised(client, app, athlete)
    assert athlete.delete(f"/v1/me/apps/{app.id}").status_code == 204
    assert_problem(client.get("/v1/me", headers=bearer(tokens["access_token"])), 401)
    oauth_error(refresh(client, app, tokens["refresh_token"]), 400, "invalid_grant")
    assert_problem(athlete.delete(f"/v1/me/apps/{app.id}"), 404)
    assert athlete.get("/v1/me/apps").get_json()["items"] == []


def test_a_deleted_app_stops_working_for_everyone(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    tokens = authorised(client, app, athlete)
    assert developer.delete(f"/v1/developer/apps/{app.id}").status_code == 204
    assert_problem(client.get("/v1/me", headers=bearer(tokens["access_token"])), 401)
    oauth_error(refresh(client, app, tokens["refresh_token"]), 400, "invalid_client")
    assert_problem(developer.get(f"/v1/developer/apps/{app.id}"), 404)
    assert_problem(athlete.delete(f"/v1/developer/apps/{app.id}"), 404)


def test_rfc7009_revocation_ends_the_grant_and_says_nothing_of_unknown_tokens(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    tokens = authorised(client, app, athlete)
    unknown = client.post("/oauth/revoke", data={"token": "bst_ort_nothing",
                                                 "client_id": app.client_id})
    assert unknown.status_code == 200
    revoked = client.post("/oauth/revoke", data={"token": tokens["refresh_token"],
                                                 "token_type_hint": "refresh_token",
                                                 "client_id": app.client_id})
    assert revoked.status_code == 200
    assert_problem(client.get("/v1/me", headers=bearer(tokens["access_token"])), 401)


def test_a_token_stops_working_when_the_athlete_deletes_their_account(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    tokens = authorised(client, app, athlete)
    assert athlete.delete("/v1/me", json={"password": PASSWORD}).status_code == 204
    assert_problem(client.get("/v1/me", headers=bearer(tokens["access_token"])), 401)
    assert_problem(client.get("/v1/checkins", headers=bearer(tokens["access_token"])), 401)
    oauth_error(refresh(client, app, tokens["refresh_token"]), 400, "invalid_grant")


# --- The consent page

def test_the_consent_page_cannot_be_framed_and_loads_only_its_own_css(client, cast):
    developer, _, _ = cast
    _, challenge = pkce()
    page = client.get(authorize_url(register_app(developer), challenge=challenge))
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "script-src 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert re.findall(r'(?:href|src)="([^"]+)"', html) == ["/oauth/static/consent.css"]
    assert "<script" not in html and "<iframe" not in html
    assert client.get("/oauth/static/consent.css").status_code == 200
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/oauth" in cookie


def test_a_form_without_the_sessions_csrf_token_is_refused(client, cast):
    developer, athlete, _ = cast
    _, challenge = pkce()
    url = authorize_url(register_app(developer), challenge=challenge)
    page = client.get(url)
    token = csrf_of(page.get_data(as_text=True))
    for data in ({"action": "sign_in", "email": athlete.email, "password": PASSWORD},
                 {"action": "sign_in", "email": athlete.email, "password": PASSWORD,
                  "csrf_token": token + "x"}):
        assert "expired" in error_page(client.post(url, data=data))
    other_origin = client.post(url, data={"action": "sign_in", "email": athlete.email,
                                          "password": PASSWORD, "csrf_token": token},
                               headers={"Origin": "https://evil.example"})
    error_page(other_origin)
    signed_in = client.post(url, data={"action": "sign_in", "email": athlete.email,
                                       "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 200
    fresh = csrf_of(signed_in.get_data(as_text=True))
    assert fresh != token, "signing in starts a new session with a new token"
    stale = client.post(url, data={"action": "allow", "grant": ["profile:read"],
                                   "csrf_token": token})
    error_page(stale)


def test_a_wrong_password_shows_the_form_again_and_shares_nothing(client, cast):
    developer, athlete, _ = cast
    _, challenge = pkce()
    url = authorize_url(register_app(developer), challenge=challenge)
    token = csrf_of(client.get(url).get_data(as_text=True))
    wrong = client.post(url, data={"action": "sign_in", "email": athlete.email,
                                   "password": "not-the-password-1", "csrf_token": token})
    assert wrong.status_code == 400 and "Location" not in wrong.headers
    assert "not right" in wrong.get_data(as_text=True)
    allowed = client.post(url, data={"action": "allow", "grant": ["profile:read"],
                                     "csrf_token": token})
    assert allowed.status_code == 200 and 'name="password"' in allowed.get_data(as_text=True)


def test_denying_sends_access_denied_back_to_the_app(client, cast):
    developer, athlete, _ = cast
    _, challenge = pkce()
    app = register_app(developer)
    params = redirected_params(consent(client, authorize_url(app, challenge=challenge),
                                       athlete, action="deny"))
    assert params.pop("error_description")
    assert params == {"error": "access_denied", "state": "xyz", "iss": "http://localhost"}
    assert athlete.get("/v1/me/apps").get_json()["items"] == []


def test_unticking_everything_grants_nothing(client, cast):
    developer, athlete, _ = cast
    _, challenge = pkce()
    answer = consent(client, authorize_url(register_app(developer), challenge=challenge),
                     athlete, grant=[])
    assert answer.status_code == 400 and "at least one" in answer.get_data(as_text=True)


def test_the_page_words_each_scope_and_shows_pain_apart(client, cast):
    developer, athlete, _ = cast
    _, challenge = pkce()
    url = authorize_url(register_app(developer), challenge=challenge)
    token = csrf_of(client.get(url).get_data(as_text=True))
    html = client.post(url, data={"action": "sign_in", "email": athlete.email,
                                  "password": PASSWORD, "csrf_token": token}
                       ).get_data(as_text=True)
    assert "Trail Log" in html and "Read your runs, pain reports" in html
    sensitive = html[html.index('class="sensitive"'):]
    assert 'value="pain:read"' in sensitive and "Sensitive" in sensitive


@pytest.mark.parametrize("scope, error", [("", "invalid_scope"), ("root", "invalid_scope"),
                                          ("session", "invalid_scope")])
def test_an_app_may_only_ask_for_our_scopes(client, cast, scope, error):
    developer, _, _ = cast
    _, challenge = pkce()
    url = authorize_url(register_app(developer), scope=scope, challenge=challenge)
    assert redirected_params(client.get(url))["error"] == error


def test_implicit_and_password_grants_do_not_exist(client, cast):
    developer, athlete, _ = cast
    app = register_app(developer)
    _, challenge = pkce()
    params = redirected_params(client.get(authorize_url(app, challenge=challenge,
                                                        response_type="token")))
    assert params["error"] == "unsupported_response_type"
    oauth_error(client.post("/oauth/token", data={"grant_type": "password",
                                                  "username": athlete.email,
                                                  "password": PASSWORD,
                                                  "client_id": app.client_id}),
                400, "unsupported_grant_type")
    oauth_error(client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                  "client_id": app.client_id}),
                400, "unsupported_grant_type")


def test_the_token_endpoint_takes_no_parameters_in_the_url(client, cast):
    developer, _, _ = cast
    app = register_app(developer)
    oauth_error(client.post(f"/oauth/token?client_id={app.client_id}",
                            data={"grant_type": "refresh_token", "refresh_token": "x"}),
                400, "invalid_request")


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
def test_errors_outside_authlib_are_rfc6749_bodies_at_the_token_endpoints(client, path):
    """The router's and the server's own refusals too: a client library reads `error`."""
    wrong_method = client.get(path)
    oauth_error(wrong_method, 405, "invalid_request")
    assert wrong_method.mimetype == "application/json", "not a problem document"
    assert "POST" in wrong_method.headers["Allow"]
    oauth_error(client.post(path, data="x=" + "y" * (3 * 1024 * 1024),
                            content_type="application/x-www-form-urlencoded"),
                413, "invalid_request")


def test_the_metadata_document_describes_the_server(client):
    response = client.get("/.well-known/oauth-authorization-server",
                          base_url="https://backstride.example")
    metadata = response.get_json()
    AuthorizationServerMetadata(metadata).validate()
    assert metadata["issuer"] == "https://backstride.example"
    assert metadata["authorization_endpoint"] == "https://backstride.example/oauth/authorize"
    assert metadata["token_endpoint"] == "https://backstride.example/oauth/token"
    assert metadata["revocation_endpoint"] == "https://backstride.example/oauth/revoke"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["response_types_supported"] == ["code"]
    assert "pain:read" in metadata["scopes_supported"]
    assert "session" not in metadata["scopes_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_a_personal_token_without_pain_read_sees_no_pain(client, cast):
    _, athlete, pain_id = cast
    made = athlete.post("/v1/me/tokens", json={"name": "s", "scopes": ["checkins:read",
                                                                      "notifications:read"]})
    headers = bearer(made.get_json()["token"])
    assert_problem(client.get(f"/v1/checkins/{pain_id}", headers=headers), 404)
    notes = client.get("/v1/notifications", headers=headers).get_json()["items"]
    assert not [n for n in notes if n["kind"].startswith("pain_")]


def test_a_token_without_pain_read_cannot_write_pain(client, cast):
    developer, athlete, pain_id = cast
    tokens = authorised(client, register_app(developer), athlete,
                        scope="checkins:read checkins:write")
    headers = bearer(tokens["access_token"])
    assert_problem(client.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(), headers=headers), 403)
    assert_problem(client.delete(f"/v1/checkins/{pain_id}", headers=headers), 404)
    batch = client.post("/v1/checkins/batch", headers=headers, json={"items": [
        {"id": str(uuid.uuid4()), **pain()}, {"id": str(uuid.uuid4()), **run()}]})
    results = batch.get_json()["results"]
    assert [r["result"] for r in results] == ["error", "created"]
    assert results[0]["problem"]["status"] == 403


def test_with_a_public_url_the_issuer_and_endpoints_are_there_whatever_the_request_says(
        database, tmp_path):
    """Behind a proxy that mislabels the host, the issuer stays the one apps were told."""
    app = create_app(make_settings(database.url, tmp_path,
                                   public_url="https://api.backstride.example/"))
    try:
        metadata = app.test_client().get("/.well-known/oauth-authorization-server",
                                         base_url="http://10.0.0.7:8000").get_json()
    finally:
        app.extensions["backstride"].engine.dispose()
    assert metadata["issuer"] == "https://api.backstride.example"
    assert metadata["token_endpoint"] == "https://api.backstride.example/oauth/token"
    assert metadata["authorization_endpoint"].startswith("https://api.backstride.example/")
