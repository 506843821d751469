"""Apps against a live server (gunicorn on a free loopback port): a standard client library, and a
real browser on the consent page.

The app is a native one: it listens on a loopback port of its own for the redirect (RFC 8252
section 7.3, registered as http://127.0.0.1/callback without a port) and uses Authlib's own
OAuth2Session with PKCE (S256). The browser is Debian's Chromium driven by Playwright; the test
installs the package when /usr/bin/chromium is missing (Playwright's own browser downloads are
not used).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from tests.processes.clients import live_api
from tests.processes.procs import free_port, http
from tests.support.runners import PASSWORD, pain, run

pytestmark = pytest.mark.processes
CHROMIUM = Path("/usr/bin/chromium")
SCOPES = "profile:read checkins:read load:read pain:read"


class Callback:
    """The native app's loopback listener: it keeps the URL the browser was sent back to."""

    def __init__(self) -> None:
        self.port = free_port()
        self.urls: list[str] = []
        self.got = threading.Event()
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                callback.urls.append(f"http://127.0.0.1:{callback.port}{self.path}")
                body = b"<p>Signed in. You can close this window.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                callback.got.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def __enter__(self) -> Callback:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_api(tmp_path_factory.mktemp("oauth-live")) as base:
        yield base


def runner(base: str) -> tuple[str, str]:
    """A runner with a run and a pain report; their email and a session access token."""
    email = f"live-{uuid.uuid4().hex[:8]}@example.org"
    assert http("POST", f"{base}/v1/auth/register",
                {"email": email, "password": PASSWORD})[0] == 201
    token = http("POST", f"{base}/v1/auth/token",
                 {"email": email, "password": PASSWORD})[2]["access_token"]
    return email, token


def setting_up(base: str) -> tuple[str, str, str, str]:
    """A developer's public app and an athlete: (client_id, athlete email, token, pain id)."""
    _, developer = runner(base)
    status, _, app = http("POST", f"{base}/v1/developer/apps", {
        "name": "Trail Log (native)", "redirect_uris": ["http://127.0.0.1/callback"]},
        developer)
    assert status == 201, app
    email, token = runner(base)
    assert http("PUT", f"{base}/v1/checkins/{uuid.uuid4()}", run(), token)[0] == 201
    pain_id = str(uuid.uuid4())
    assert http("PUT", f"{base}/v1/checkins/{pain_id}", pain(), token)[0] == 201
    return app["client_id"], email, token, pain_id


def app_session(base: str, client_id: str, redirect_uri: str) -> tuple[OAuth2Session, str]:
    session = OAuth2Session(client_id, scope=SCOPES, redirect_uri=redirect_uri,
                            code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = uuid.uuid4().hex + uuid.uuid4().hex
    url, _state = session.create_authorization_url(f"{base}/oauth/authorize",
                                                   code_verifier=verifier)
    return session, url, verifier  # type: ignore[return-value]


def test_authlibs_own_client_completes_the_flow_as_a_native_app(server):
    metadata = requests.get(f"{server}/.well-known/oauth-authorization-server", timeout=10).json()
    client_id, email, _, pain_id = setting_up(server)
    with Callback() as callback:
        session, url, verifier = app_session(server, client_id, callback.redirect_uri)
        assert url.startswith(metadata["authorization_endpoint"])
        browser = requests.Session()  # the athlete's browser, following the consent page
        page = browser.get(url, timeout=10)
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        consent = browser.post(url, data={"csrf_token": csrf, "action": "sign_in",
                                          "email": email, "password": PASSWORD}, timeout=10)
        csrf = consent.text.split('name="csrf_token" value="')[1].split('"')[0]
        browser.post(url, data={"csrf_token": csrf, "action": "allow",
                                "grant": ["profile:read", "checkins:read", "load:read"]},
                     timeout=10)
        assert callback.got.wait(10), "the browser never came back to the app"
        token = session.fetch_token(metadata["token_endpoint"],
                                    authorization_response=callback.urls[0],
                                    code_verifier=verifier)
    assert token["scope"] == "profile:read checkins:read load:read"

    runs = session.get(f"{server}/v1/checkins?kind=run", timeout=10)
    assert runs.status_code == 200 and len(runs.json()["items"]) == 1
    assert session.get(f"{server}/v1/checkins/{pain_id}", timeout=10).status_code == 404

    old_refresh = token["refresh_token"]
    # The library sends the scope it first asked for: more than was granted, so refused, and
    # the refresh token is not used up by the refusal.
    with pytest.raises(OAuthError, match="invalid_scope"):
        session.refresh_token(metadata["token_endpoint"])
    session.scope = token["scope"]
    renewed = session.refresh_token(metadata["token_endpoint"])
    assert renewed["refresh_token"] != old_refresh
    assert session.get(f"{server}/v1/me", timeout=10).status_code == 200
    stale = requests.post(metadata["token_endpoint"], data={
        "grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": client_id},
        timeout=10)
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"
    assert session.get(f"{server}/v1/me", timeout=10).status_code == 401, "family revoked"


def _chromium() -> str:
    """Debian's Chromium, installed by the test when it is missing."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None:
            pytest.fail("/usr/bin/chromium is missing and apt-get is not there to install it")
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, capture_output=True,
                       timeout=900, env={"DEBIAN_FRONTEND": "noninteractive",
                                         "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return str(CHROMIUM)


def test_a_real_browser_signs_in_unticks_pain_and_approves(server, tmp_path):
    from playwright.sync_api import sync_playwright

    client_id, email, _, pain_id = setting_up(server)
    with Callback() as callback, sync_playwright() as playwright:
        session, url, verifier = app_session(server, client_id, callback.redirect_uri)
        browser = playwright.chromium.launch(executable_path=_chromium(),
                                             args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url)
            assert "Trail Log (native)" in page.title()
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("button:has-text('Sign in')")
            page.wait_for_selector("input[value='pain:read']")
            assert page.is_checked("input[value='pain:read']"), "asked for, ticked by default"
            assert "Sensitive" in page.inner_text("fieldset.sensitive")
            page.screenshot(path=str(tmp_path / "consent.png"), full_page=True)
            page.uncheck("input[value='pain:read']")
            page.click("button:has-text('Allow')")
            page.wait_for_url(f"{callback.redirect_uri}*")
            assert "You can close this window" in page.content()
        finally:
            browser.close()
        token = session.fetch_token(f"{server}/oauth/token",
                                    authorization_response=callback.urls[0],
                                    code_verifier=verifier)
    assert "pain:read" not in token["scope"].split()
    runs = session.get(f"{server}/v1/checkins?kind=run", timeout=10)
    assert runs.status_code == 200 and [c["kind"] for c in runs.json()["items"]] == ["run"]
    assert session.get(f"{server}/v1/checkins/{pain_id}", timeout=10).status_code == 404
    assert session.get(f"{server}/v1/checkins?kind=pain", timeout=10).status_code == 404


def test_the_consent_page_refuses_to_be_framed_in_a_real_browser(server, tmp_path):
    """Chromium itself honours frame-ancestors 'none': the page in an iframe never renders."""
    from playwright.sync_api import sync_playwright

    client_id, _, _, _ = setting_up(server)
    _, url, _ = app_session(server, client_id, "http://127.0.0.1:9/callback")
    attacker = tmp_path / "attacker.html"
    with Callback() as control, sync_playwright() as playwright:
        # Beside it, a page that allows framing (the app's listener): it must render, or the
        # consent page's absence would prove nothing.
        attacker.write_text(f'<iframe id="f" src="{url}"></iframe>'
                            f'<iframe id="control" src="{control.redirect_uri}"></iframe>')
        browser = playwright.chromium.launch(executable_path=_chromium(),
                                             args=["--no-sandbox"])
        try:
            page = browser.new_page()
            blocked: list[str] = []
            page.on("console", lambda message: blocked.append(message.text))
            page.goto(attacker.as_uri(), wait_until="domcontentloaded")
            page.frame_locator("#control").locator("text=You can close this window").wait_for(
                timeout=10_000)
            assert page.frame_locator("#f").locator("#email").count() == 0, \
                "the sign-in form rendered in a frame"
            assert any("frame-ancestors" in text for text in blocked), blocked
        finally:
            browser.close()
