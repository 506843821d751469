"""/coach/: the built dashboard, served with a strict Content-Security-Policy; the system account
that owns it cannot be signed in to."""

from __future__ import annotations

import re

from service.api.context import EXTENSION_KEY
from service.clock import utcnow
from service.domain.accounts import first_party


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
