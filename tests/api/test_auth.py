"""A runner signs up, signs in, refreshes on the phone, and signs out; attackers get nowhere."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from tests.conftest import SECRET
from tests.support.runners import PASSWORD, assert_problem, sign_up


def test_a_runner_registers_signs_in_and_reads_their_profile(client):
    runner = sign_up(client, "Sam@Example.org", timezone="Europe/London", units="mi")

    me = runner.get("/v1/me")

    assert me.status_code == 200
    assert me.get_json()["email"] == "sam@example.org", "emails are stored lower-case"
    assert me.get_json()["timezone"] == "Europe/London"
    assert me.get_json()["units"] == "mi"
    assert "password" not in me.get_json() and "password_hash" not in me.get_json()


def test_the_same_email_twice_is_a_conflict_whatever_its_case(client):
    sign_up(client, "twice@example.org")
    again = client.post("/v1/auth/register",
                        json={"email": "TWICE@example.org", "password": PASSWORD})
    assert_problem(again, 409, "email")


def test_short_and_common_passwords_are_refused_naming_the_field(client):
    short = client.post("/v1/auth/register", json={"email": "a@example.org", "password": "short"})
    common = client.post("/v1/auth/register",
                         json={"email": "a@example.org", "password": "password123"})
    assert "10 characters" in assert_problem(short, 422, "password")["errors"]["password"][0]
    assert "common" in assert_problem(common, 422, "password")["errors"]["password"][0]
    assert client.post("/v1/auth/token", json={"email": "a@example.org",
                                               "password": "password123"}).status_code == 401


def test_unknown_fields_and_server_owned_fields_are_refused_by_name(client):
    response = client.post("/v1/auth/register", json={
        "email": "c@example.org", "password": PASSWORD, "id": "x", "is_admin": True,
    })
    assert_problem(response, 422, "id", "is_admin")


def test_bad_email_and_bad_timezone_are_named(client):
    response = client.post("/v1/auth/register", json={
        "email": "not-an-email", "password": PASSWORD, "timezone": "BST",
    })
    assert_problem(response, 422, "email", "timezone")


def test_wrong_password_and_unknown_email_answer_exactly_the_same(client):
    sign_up(client, "known@example.org")
    wrong_password = client.post("/v1/auth/token",
                                 json={"email": "known@example.org", "password": "not-my-password"})
    unknown_email = client.post("/v1/auth/token",
                                json={"email": "nobody@example.org", "password": PASSWORD})
    assert_problem(wrong_password, 401)
    assert wrong_password.get_json() == unknown_email.get_json()


def test_refresh_rotates_and_each_refresh_token_works_once(client):
    runner = sign_up(client)

    first = client.post("/v1/auth/refresh", json={"refresh_token": runner.refresh_token})
    assert first.status_code == 200
    rotated = first.get_json()
    assert rotated["refresh_token"] != runner.refresh_token
    second = client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert second.status_code == 200


def test_a_reused_refresh_token_revokes_its_whole_family(client):
    runner = sign_up(client)
    other_device = sign_up(client, "other-device@example.org")
    stolen = runner.refresh_token
    legit = client.post("/v1/auth/refresh", json={"refresh_token": stolen}).get_json()

    replay = client.post("/v1/auth/refresh", json={"refresh_token": stolen})

    assert_problem(replay, 401)
    assert client.post("/v1/auth/refresh",
                       json={"refresh_token": legit["refresh_token"]}).status_code == 401, \
        "the newest token of a family with a reused member must stop working too"
    assert client.get("/v1/me", headers={
        "Authorization": f"Bearer {legit['access_token']}"}).status_code == 401
    assert other_device.get("/v1/me").status_code == 200, "other sessions are untouched"


def test_logout_revokes_the_session_at_once(client):
    runner = sign_up(client)
    assert runner.get("/v1/me").status_code == 200

    out = client.post("/v1/auth/logout", json={"refresh_token": runner.refresh_token})

    assert out.status_code == 204
    assert_problem(runner.get("/v1/me"), 401)
    assert_problem(client.post("/v1/auth/refresh",
                               json={"refresh_token": runner.refresh_token}), 401)
    assert client.post("/v1/auth/logout",
                       json={"refresh_token": runner.refresh_token}).status_code == 204, \
        "signing out twice is harmless"


def test_garbage_expired_and_foreign_tokens_are_401(client):
    runner = sign_up(client)
    claims = jwt.decode(runner.access_token, options={"verify_signature": False})
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = jwt.encode({**claims, "iat": past - timedelta(minutes=15), "exp": past}, SECRET,
                         algorithm="HS256")
    forged = jwt.encode(claims, "another-secret-of-the-same-length-xxxxxxxxxxxxx",
                        algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")

    for token in ("garbage", expired, forged, unsigned, ""):
        response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        body = assert_problem(response, 401)
        assert "Bearer" in response.headers.get("WWW-Authenticate", ""), body
    assert_problem(client.get("/v1/me"), 401)


def test_an_oversized_body_is_413(client, settings):
    huge = "x" * (settings.max_content_length + 1)
    response = client.post("/v1/auth/register", data=huge, content_type="application/json")
    assert_problem(response, 413)


def test_a_retried_registration_with_its_key_creates_one_account(client):
    body = {"email": "retry@example.org", "password": PASSWORD}
    key = {"Idempotency-Key": "3f1c6f0e-registration"}
    first = client.post("/v1/auth/register", json=body, headers=key)
    again = client.post("/v1/auth/register", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_problem(client.post("/v1/auth/register", json=body), 409, "email")


# Found in review.
def test_two_refreshes_racing_with_one_token_cannot_both_win(app):
    runner = sign_up(app.test_client())
    barrier = threading.Barrier(2)
    answers: list = []

    def refresh():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/v1/auth/refresh",
                                   json={"refresh_token": runner.refresh_token}))

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 401], statuses
    winner = next(a for a in answers if a.status_code == 200).get_json()
    again = app.test_client().post("/v1/auth/refresh",
                                   json={"refresh_token": winner["refresh_token"]})
    assert again.status_code == 401, "the reuse revoked the family the winner is in"


# Found by fuzzing.
def test_a_long_passphrase_registers_instead_of_failing_on_our_side(client):
    passphrase = "my knees and my back both like the soft trail by the river " * 2  # 120 chars
    registered = client.post("/v1/auth/register",
                             json={"email": "long@example.org", "password": passphrase})
    assert registered.status_code == 201, registered.get_json()
    signed_in = client.post("/v1/auth/token",
                            json={"email": "long@example.org", "password": passphrase})
    assert signed_in.status_code == 200


# Found by fuzzing.
def test_a_common_password_is_still_refused(client):
    refused = client.post("/v1/auth/register",
                          json={"email": "common@example.org", "password": "password123"})
    assert_problem(refused, 422, "password")
    assert PASSWORD  # the suite's own password is not a common one


def test_an_unknown_email_costs_what_a_wrong_password_costs(app, client):
    """Each costs one Argon2 verification; the stand-in hash for unknown emails is made once,
    not afresh each time (which took twice as long and told which emails have accounts)."""
    work: list[str] = []

    class Counting(PasswordHasher):
        def hash(self, *args, **kwargs):
            work.append("hash")
            return super().hash(*args, **kwargs)

        def verify(self, *args, **kwargs):
            work.append("verify")
            return super().verify(*args, **kwargs)

    state = app.extensions["backstride"]
    app.extensions["backstride"] = replace(state, hasher=Counting.from_parameters(CHEAPEST))
    runner = sign_up(client)
    for email in ("nobody-1@example.org", runner.email, "nobody-2@example.org"):
        work.clear()
        answer = client.post("/v1/auth/token",
                             json={"email": email, "password": "not-the-password-1"})
        assert answer.status_code == 401
        assert work == ["verify"], (email, work)
