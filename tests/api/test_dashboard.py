"""/coach/: the built dashboard, served with a strict Content-Security-Policy; the system account
that owns it cannot be signed in to."""

from __future__ import annotations

import re

from service.api.context import EXTENSION_KEY
from service.clock import utcnow
from service.domain.accounts import first_party
from tests.support.oauth_apps import App, authorize_url, csrf_of, pkce, register_app
from tests.support.runners import PASSWORD, sign_up


def test_the_dashboard_page_and_its_assets_are_served_under_a_strict_csp(client):
    page = client.get("/coach/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in html, "no inline script: the CSP would refuse it"
    assets = re.findall(r'(?:src|href)="(/coach/assets/[^"]+)"', html)
    assert {a.rsplit(".", 1)[1] for a in assets} == {"js", "css"}
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and "max-age=31536000" in answer.headers[
            "Cache-Control"]
        assert answer.headers["Content-Security-Policy"] == csp
    assert client.get("/coach/assets/nope.js").status_code == 404
    assert client.get("/coach/assets/../__init__.py").status_code == 404


def test_no_password_signs_in_to_the_first_party_apps_owner(client, app):
    state = app.extensions[EXTENSION_KEY]
    with state.session_factory() as session:
        first_party.ensure_dashboard(session, utcnow())
        session.commit()
    for password in ("!first-party", "", "x" * 12):
        answer = client.post("/v1/auth/token", json={"email": first_party.OWNER_EMAIL,
                                                      "password": password})
        assert answer.status_code in (401, 422), answer.get_json()
        assert "access_token" not in (answer.get_json() or {})


def test_the_consent_page_says_the_dashboard_is_ours_and_other_apps_are_not(client, app):
    """Known by client id: an app merely named like ours is still someone else's."""
    state = app.extensions[EXTENSION_KEY]
    with state.session_factory() as session:
        ours = first_party.ensure_dashboard(session, utcnow())
        session.commit()
        dashboard = App(str(ours.id), ours.client_id, None, first_party.DASHBOARD_REDIRECT_URIS)
    developer, coach = sign_up(client), sign_up(client)
    lookalike = register_app(developer, name=first_party.DASHBOARD_NAME)

    def page_for(app_, redirect_uri):
        _, challenge = pkce()
        url = authorize_url(app_, scope="coach:read", redirect_uri=redirect_uri,
                            challenge=challenge)
        token = csrf_of(client.get(url).get_data(as_text=True))
        return client.post(url, data={"action": "sign_in", "email": coach.email,
                                      "password": PASSWORD, "csrf_token": token}
                           ).get_data(as_text=True)

    own = page_for(dashboard, "http://127.0.0.1:8000/coach/")
    other = page_for(lookalike, "http://127.0.0.1:53682/callback")
    assert "Backstride's own app" in own and "not Backstride itself" not in own
    assert "not Backstride itself" in other and "Backstride's own app" not in other
