"""Rate limits: a runner who hammers the API is slowed, a password guesser more so, and nobody
else notices; with Redis down the phone's check-ins still go through.

Every test here sets tight limits of its own and talks from an address of its own, so it neither
sees the suite's generous limits nor another test's counters in a shared Redis. Counts, not
clocks: fixed windows start at the first request, so N requests in a row always pass and the
next one never does.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
import redis

from service.api import BLUEPRINTS, create_app, limits
from service.api.context import view_function
from tests.conftest import REDIS_URL, make_settings
from tests.support.runners import PASSWORD, assert_problem, run, sign_up

STORAGES = ["memory", pytest.param("redis", marks=pytest.mark.skipif(
    not REDIS_URL, reason="BACKSTRIDE_TEST_REDIS_URL is not set"))]
CLOSED_PORT_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing listens on loopback
_hosts = itertools.count(1)


def an_address() -> str:
    """A client address no other test (or earlier run against the same Redis) has used."""
    return f"10.{uuid.uuid4().int % 250}.{next(_hosts) % 250}.{uuid.uuid4().int % 250 + 1}"


def an_email() -> str:
    return f"runner-{uuid.uuid4().hex[:12]}@example.org"


@pytest.fixture
def limited_app(database, tmp_path):
    """An app factory with tight limits, on in-memory counters unless told otherwise."""
    apps = []

    def make(default="3 per minute", auth="100 per minute", storage="memory", **overrides):
        url = {"memory": "memory://", "redis": REDIS_URL}.get(storage, storage)
        settings = make_settings(database.url, tmp_path, ratelimit_default=default,
                                 ratelimit_auth=auth, ratelimit_storage_url=url, **overrides)
        app = create_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["backstride"].engine.dispose()


def client_of(app, address=None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address or an_address()
    return client


def sign_in(client, email, password=PASSWORD):
    return client.post("/v1/auth/token", json={"email": email, "password": password})


@pytest.mark.parametrize("storage", STORAGES)
def test_the_request_after_the_limit_is_a_429_problem_with_retry_after(limited_app, storage):
    client = client_of(limited_app(default="3 per minute", storage=storage))
    runner = sign_up(client)  # counted against the address: the runner's own budget is whole

    answers = [runner.get("/v1/me") for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
    assert "Retry-After" not in answers[0].headers, "Retry-After belongs to the 429 only"
    refused = answers[3]
    body = assert_problem(refused, 429)
    assert body["type"] == "urn:backstride:problem:rate-limited"
    assert "3 per 1 minute" in body["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert 0 <= int(refused.headers["RateLimit-Reset"]) <= 60, "seconds, not a Unix time"
    assert refused.headers["RateLimit-Remaining"] == "0"


def test_sign_in_and_sign_up_are_stricter_than_the_rest(limited_app):
    app = limited_app(default="50 per minute", auth="2 per minute")
    client = client_of(app)
    runner = sign_up(client)  # one register, one sign-in: each endpoint has its own budget

    assert sign_in(client, an_email()).status_code == 401
    assert_problem(sign_in(client, an_email()), 429)  # a different email each time: the address
    registered = client.post("/v1/auth/register", json={"email": an_email(), "password": PASSWORD})
    assert registered.status_code == 201
    assert_problem(client.post("/v1/auth/register",
                               json={"email": an_email(), "password": PASSWORD}), 429)
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": runner.refresh_token})
    assert refreshed.headers["RateLimit-Limit"] == "2"

    profile = runner.get("/v1/me")
    assert profile.status_code == 200, "the rest of the API is not held up by sign-in limits"
    assert profile.headers["RateLimit-Limit"] == "50"
    elsewhere = client_of(app)
    assert sign_in(elsewhere, runner.email).status_code == 200, "another address is not affected"


# Every write that tests a secret or mints one, with a request for it (the runner is signed in).
STRICT = {
    ("POST", "/v1/auth/register"): lambda r: r.client.post(
        "/v1/auth/register", json={"email": an_email(), "password": PASSWORD}),
    ("POST", "/v1/auth/token"): lambda r: sign_in(r.client, r.email, "wrong-password-123"),
    ("POST", "/v1/auth/refresh"): lambda r: r.client.post(
        "/v1/auth/refresh", json={"refresh_token": "not-a-refresh-token"}),
    ("POST", "/v1/me/coaches"): lambda r: r.post(
        "/v1/me/coaches", json={"code": "ABCDE-FGHJK", "scopes": ["runs"]}),
    ("POST", "/v1/me/tokens"): lambda r: r.post(
        "/v1/me/tokens", json={"name": "script", "scopes": ["profile:read"]}),
    ("DELETE", "/v1/me"): lambda r: r.delete("/v1/me", json={"password": "wrong-password-123"}),
    ("POST", "/v1/developer/apps"): lambda r: r.post("/v1/developer/apps", json={
        "name": "Trail Log", "redirect_uris": ["http://127.0.0.1/callback"]}),
}


@pytest.mark.parametrize("operation", STRICT, ids=" ".join)
def test_every_strict_operation_is_refused_once_the_sign_in_limit_is_spent(limited_app,
                                                                           operation):
    app = limited_app(default="50 per minute", auth="2 per minute")
    runner = sign_up(client_of(app))
    runner.client = client_of(app)  # an address of its own, with nothing spent yet

    answers = [STRICT[operation](runner) for _ in range(3)]

    assert [a.status_code == 429 for a in answers] == [False, False, True], [
        (a.status_code, a.get_json()) for a in answers]
    assert answers[0].headers["RateLimit-Limit"] == "2", "the strict budget, not the default"
    assert_problem(answers[2], 429)
    assert runner.get("/v1/me").status_code == 200, "the rest of the API is not held up"


def test_the_strict_limits_are_on_exactly_these_operations(app):
    """A marker removed (or a view renamed without it) drops a limit: this says so."""
    ours = {blueprint.name for blueprint in BLUEPRINTS}
    marked: dict[str, set[tuple[str, str]]] = {limits.STRICT: set(),
                                               limits.FAILED_SIGN_INS_PER_EMAIL: set()}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.partition(".")[0] not in ours:
                continue
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                view = view_function(rule.endpoint, method)
                for marker, operations in marked.items():
                    if limits.marked(view, marker):
                        operations.add((method, rule.rule))

    assert marked[limits.STRICT] == set(STRICT)
    assert marked[limits.FAILED_SIGN_INS_PER_EMAIL] == {("POST", "/v1/auth/token")}


def test_guessing_invite_codes_is_held_to_the_sign_in_limit(limited_app):
    app = limited_app(default="50 per minute", auth="2 per minute")
    guesser = sign_up(client_of(app))
    for _ in range(2):
        assert_problem(guesser.post("/v1/me/coaches", json={"code": "ABCDE-FGHJK",
                                                            "scopes": ["runs"]}), 422, "code")
    assert_problem(guesser.post("/v1/me/coaches", json={"code": "ABCDE-FGHJM",
                                                        "scopes": ["runs"]}), 429)
    assert guesser.get("/v1/me/coaches").status_code == 200, "reading one's coaches is not held"


def test_failed_sign_ins_are_counted_per_email_whatever_the_address(limited_app):
    app = limited_app(default="50 per minute", auth="2 per minute")
    target = sign_up(client_of(app))

    guesses = [sign_in(client_of(app), target.email, "wrong-password-123") for _ in range(3)]

    assert [g.status_code for g in guesses[:2]] == [401, 401]
    assert_problem(guesses[2], 429)
    other = sign_up(client_of(app))
    successes = [sign_in(client_of(app), other.email).status_code for _ in range(3)]
    assert successes == [200, 200, 200], "signing in on several phones is not a failure"


@pytest.mark.parametrize("storage", STORAGES)
def test_two_runners_have_separate_buckets(limited_app, storage):
    app = limited_app(default="3 per minute", storage=storage)
    sam, alex = sign_up(client_of(app)), sign_up(client_of(app))
    sam.client = alex.client = client_of(app)  # one address, as behind the same home router

    sams = [sam.get("/v1/me").status_code for _ in range(4)]
    alexs = alex.get("/v1/me")

    assert sams == [200, 200, 200, 429]
    assert alexs.status_code == 200
    assert alexs.headers["RateLimit-Remaining"] == "2"


def test_a_personal_token_spends_its_owners_budget_and_made_up_tokens_their_address(
        limited_app):
    client = client_of(limited_app(default="4 per minute"))
    runner = sign_up(client)
    created = runner.post("/v1/me/tokens", json={"name": "coach script",
                                                 "scopes": ["profile:read"]})
    token = {"Authorization": f"Bearer {created.get_json()['token']}"}

    assert client.get("/v1/me", headers=token).status_code == 200
    assert runner.get("/v1/me").status_code == 200
    assert client.get("/v1/me", headers=token).status_code == 200
    assert_problem(client.get("/v1/me", headers=token), 429)  # token and session: one account

    guesser = client_of(limited_app(default="2 per minute"))
    made_up = [guesser.get("/v1/me", headers={"Authorization": f"Bearer {secret}"})
               for secret in ("bst_pat_nope", "not.a.jwt", "bst_pat_again")]
    assert [r.status_code for r in made_up] == [401, 401, 429], "no fresh bucket per fake token"


def test_probes_and_docs_are_never_limited(limited_app):
    client = client_of(limited_app(default="1 per minute", auth="1 per minute"))
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        answers = [client.get(path) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200], path
        assert "RateLimit-Limit" not in answers[-1].headers, path


@pytest.mark.skipif(not REDIS_URL, reason="BACKSTRIDE_TEST_REDIS_URL is not set")
def test_api_processes_share_their_counters_in_redis(limited_app):
    # Two apps stand for two gunicorn workers: a runner cannot double the limit by luck.
    first, second = (limited_app(default="3 per minute", storage="redis") for _ in range(2))
    address = an_address()
    runner = sign_up(client_of(first, address))
    other_process = client_of(second, address)

    assert runner.get("/v1/me").status_code == 200
    assert other_process.get("/v1/me", headers=runner.headers).status_code == 200
    assert runner.get("/v1/me").status_code == 200
    assert_problem(other_process.get("/v1/me", headers=runner.headers), 429)
    keys = redis.Redis.from_url(REDIS_URL).keys("LIMITS:LIMITER/backstride/*")
    assert any(str(runner.profile["id"]).encode() in key for key in keys), keys


def test_the_embedded_default_counts_in_memory(tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path,
                             broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    assert settings.ratelimit_storage_url == "memory://"
    limiter = next(iter(create_app(settings).extensions["limiter"]))
    assert type(limiter.storage).__name__ == "MemoryStorage"


def test_with_redis_unreachable_check_ins_are_still_accepted(limited_app, caplog):
    client = client_of(limited_app(default="3 per minute", storage=CLOSED_PORT_REDIS))

    runner = sign_up(client)
    uploaded = runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run())

    assert uploaded.status_code == 201, uploaded.get_json()
    assert "falling back to in-memory storage" in caplog.text
    # The policy is "count in this process's memory", not "no limits": a flood still stops.
    assert [runner.get("/v1/me").status_code for _ in range(3)] == [200, 200, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(limited_app):
    def attempt(client, forwarded_for):
        # A new email each time, so only the address is counted.
        return client.post("/v1/auth/token", json={"email": an_email(), "password": "x" * 12},
                           headers={"X-Forwarded-For": forwarded_for}).status_code

    proxied = client_of(limited_app(auth="1 per minute", proxy_hops="1"))
    first, second = an_address(), an_address()
    assert [attempt(proxied, first), attempt(proxied, first)] == [401, 429]
    assert attempt(proxied, second) == 401, "another client behind the same proxy"

    direct = client_of(limited_app(auth="1 per minute"))
    assert [attempt(direct, first), attempt(direct, second)] == [401, 429], (
        "without ProxyFix a client cannot pick its own address with X-Forwarded-For")


def test_an_ipv6_client_is_counted_by_its_64(limited_app):
    app = limited_app(auth="1 per minute")
    prefix = f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:{uuid.uuid4().int % 0xFFFF:x}"
    assert sign_in(client_of(app, f"{prefix}::1"), an_email()).status_code == 401
    assert_problem(sign_in(client_of(app, f"{prefix}::2"), an_email()), 429)
    assert sign_in(client_of(app, "2001:db8:ffff:ffff::1"), an_email()).status_code == 401


def test_the_429_is_in_the_spec_for_limited_operations_only(client):
    spec = client.get("/openapi.json").get_json()
    assert "429" in spec["paths"]["/v1/checkins/{checkin_id}"]["put"]["responses"]
    assert "429" in spec["paths"]["/v1/auth/token"]["post"]["responses"]
    assert "429" not in spec["paths"]["/healthz"]["get"]["responses"]
    headers = spec["components"]["responses"]["TOO_MANY_REQUESTS"]["headers"]
    assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
        headers)


def _token_request(client, client_id):
    return client.post("/oauth/token", data={"grant_type": "authorization_code",
                                             "client_id": client_id, "code": "not-a-code"})


def test_token_requests_are_counted_per_app_whatever_the_address(limited_app):
    """An app's token endpoint budget is its own: spreading requests over addresses does not
    buy more, and another app is not held up. The 429 is an RFC 6749 error body."""
    app = limited_app(default="50 per minute", auth="3 per minute")
    answers = [_token_request(client_of(app), "bst_app_busy") for _ in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429], [
        (a.status_code, a.get_json()) for a in answers]
    assert answers[3].mimetype == "application/json"
    assert answers[3].get_json()["error"] == "slow_down"
    assert int(answers[3].headers["Retry-After"]) > 0
    assert answers[3].headers["Cache-Control"] == "no-store"
    assert _token_request(client_of(app), "bst_app_other").status_code == 400


def test_the_consent_pages_sign_in_is_held_to_the_failed_sign_in_limit_per_email(limited_app):
    """Guessing a password through the consent page's form counts like a failed API sign-in."""
    from tests.support.oauth_apps import register_app

    app = limited_app(default="50 per minute", auth="2 per minute")
    victim = sign_up(client_of(app))
    oauth_app = register_app(sign_up(client_of(app)))
    url = ("/oauth/authorize?response_type=code&client_id=" + oauth_app.client_id
           + "&redirect_uri=http://127.0.0.1:5000/callback&scope=profile:read"
           + "&code_challenge=" + "a" * 43 + "&code_challenge_method=S256")
    statuses = []
    for _ in range(3):
        browser = client_of(app)
        page = browser.get(url).get_data(as_text=True)
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        answer = browser.post(url, data={"csrf_token": csrf, "action": "sign_in",
                                         "email": victim.email, "password": "wrong-password-123"})
        statuses.append((answer.status_code, answer.mimetype))
    assert [status for status, _ in statuses] == [400, 400, 429]
    assert statuses[2][1] == "text/html", "a page for a person, not a problem document"
