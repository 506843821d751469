"""Driving the OAuth 2 flow through the Flask test client, as a browser and an app would.

`register_app` registers an app for a runner; `consent` walks the consent page (sign in, tick,
approve or deny) and returns where it sent the browser; `exchange` and `refresh` are the app's
token requests. PKCE pairs come from `pkce()`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.runners import PASSWORD, Runner

LOOPBACK = "http://127.0.0.1/callback"
ALL_READS = ["profile:read", "shoes:read", "checkins:read", "load:read", "notifications:read",
             "pain:read"]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass
class App:
    id: str
    client_id: str
    client_secret: str | None
    redirect_uris: list[str]


def register_app(owner: Runner, *, redirect_uris: list[str] | None = None,
                 confidential: bool = False, name: str = "Trail Log") -> App:
    response = owner.post("/v1/developer/apps", json={
        "name": name, "redirect_uris": redirect_uris or [LOOPBACK], "confidential": confidential})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return App(body["id"], body["client_id"], body["client_secret"], body["redirect_uris"])


def authorize_url(app: App, *, scope: str = " ".join(ALL_READS),
                  redirect_uri: str = "http://127.0.0.1:53682/callback", state: str = "xyz",
                  challenge: str | None = None, method: str | None = "S256",
                  **extra: str) -> str:
    params: dict[str, str] = {"response_type": "code", "client_id": app.client_id,
                              "redirect_uri": redirect_uri, "scope": scope, "state": state}
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    params.update(extra)
    return "/oauth/authorize?" + urlencode(params)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def consent(client: Any, url: str, runner: Runner, *, grant: list[str] | None = None,
            action: str = "allow", password: str = PASSWORD) -> Any:
    """Sign in on the consent page and answer it; the final response (a redirect, usually)."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    signed_in = client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                       "action": "sign_in", "email": runner.email,
                                       "password": password})
    assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
    html = signed_in.get_data(as_text=True)
    requested = re.findall(r'name="grant" value="([^"]+)"', html)
    chosen = requested if grant is None else grant
    return client.post(url, data={"csrf_token": csrf_of(html), "action": action,
                                  "grant": chosen})


def redirected_params(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def exchange(client: Any, app: App, code: str, verifier: str | None,
             redirect_uri: str = "http://127.0.0.1:53682/callback", **extra: str) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": app.client_id, **extra}
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data, headers=_basic(app))


def refresh(client: Any, app: App, refresh_token: str, **extra: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": app.client_id, **extra}
    return client.post("/oauth/token", data=data, headers=_basic(app))


def _basic(app: App) -> dict[str, str]:
    if not app.client_secret:
        return {}
    pair = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def authorised(client: Any, app: App, runner: Runner, *, scope: str = " ".join(ALL_READS),
               grant: list[str] | None = None) -> dict[str, Any]:
    """The whole dance: consent, then the exchange; the token answer."""
    verifier, challenge = pkce()
    params = redirected_params(consent(client, authorize_url(app, scope=scope,
                                                             challenge=challenge),
                                       runner, grant=grant))
    response = exchange(client, app, params["code"], verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
