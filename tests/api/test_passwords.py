"""Changing a password, and resetting a forgotten one through a real SMTP server on loopback."""

from __future__ import annotations

import re
import threading

import itsdangerous.timed
import pytest

from service.api import create_app
from tests.conftest import make_settings
from tests.support.runners import PASSWORD, Runner, assert_problem, sign_up
from tests.support.smtp import smtp_server

NEW_PASSWORD = "gravel-switchbacks-at-dawn"
LINK = re.compile(r"https://app\.example\.org/reset\?token=(\S+)")


@pytest.fixture
def mail_app(database, tmp_path):
    """An app whose mailer talks to a real SMTP server on loopback; yields (app, inbox)."""
    apps = []

    def make(**overrides: str):
        server = smtp_server()
        inbox, port = server.__enter__()
        app = create_app(make_settings(
            database.url, tmp_path, smtp_host="127.0.0.1", smtp_port=str(port),
            mail_from="Backstride <no-reply@example.org>",
            password_reset_url="https://app.example.org/reset?token={token}", **overrides))
        apps.append((app, server))
        return app, inbox

    yield make
    for app, server in apps:
        app.extensions["backstride"].engine.dispose()
        server.__exit__(None, None, None)


def delivered(app) -> None:
    app.extensions["backstride"].mailer.wait()


def another_phone(app, email: str, password: str = PASSWORD) -> Runner:
    client = app.test_client()
    tokens = client.post("/v1/auth/token", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.get_json()
    body = tokens.get_json()
    return Runner(client, email, body["access_token"], body["refresh_token"])


def ask_reset(client, email):
    return client.post("/v1/auth/password-reset", json={"email": email})


def reset_token_from(inbox, email) -> str:
    (message,) = inbox.to(email)
    match = LINK.search(message.get_content())
    assert match, message.get_content()
    return match[1]


def test_a_change_needs_the_current_password_and_signs_out_every_other_session(app, client):
    phone = sign_up(client)
    laptop = another_phone(app, phone.email)

    wrong = phone.post("/v1/me/password", json={"current_password": "not-my-password-1",
                                                "new_password": NEW_PASSWORD})
    assert_problem(wrong, 422, "current_password")
    weak = phone.post("/v1/me/password", json={"current_password": PASSWORD,
                                               "new_password": "password123"})
    assert_problem(weak, 422, "new_password")
    assert laptop.get("/v1/me").status_code == 200, "a refused change revokes nothing"

    changed = phone.post("/v1/me/password", json={"current_password": PASSWORD,
                                                  "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.get_json()
    assert phone.get("/v1/me").status_code == 200, "the phone that changed it stays signed in"
    assert_problem(laptop.get("/v1/me"), 401)
    assert_problem(client.post("/v1/auth/refresh",
                               json={"refresh_token": laptop.refresh_token}), 401)
    assert client.post("/v1/auth/refresh",
                       json={"refresh_token": phone.refresh_token}).status_code == 200
    assert_problem(client.post("/v1/auth/token",
                               json={"email": phone.email, "password": PASSWORD}), 401)
    another_phone(app, phone.email, NEW_PASSWORD)


def test_a_reset_link_is_emailed_works_once_and_signs_out_everywhere(mail_app):
    app, inbox = mail_app()
    client = app.test_client()
    runner = sign_up(client)

    asked = ask_reset(client, runner.email.upper())
    assert asked.status_code == 202
    delivered(app)
    (message,) = inbox.to(runner.email)
    assert message["From"] == "Backstride <no-reply@example.org>"
    assert "60 minutes" in message.get_content()
    token = reset_token_from(inbox, runner.email)

    done = client.post("/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204, done.get_json()
    assert_problem(runner.get("/v1/me"), 401)
    again = client.post("/v1/auth/password-reset/confirm",
                        json={"token": token, "new_password": "another-long-passphrase"})
    assert_problem(again, 422, "token")
    another_phone(app, runner.email, NEW_PASSWORD)
    assert inbox.refused == []


def test_an_unknown_email_gets_the_same_answer_and_no_email(mail_app):
    app, inbox = mail_app()
    client = app.test_client()
    runner = sign_up(client)
    known, unknown = ask_reset(client, runner.email), ask_reset(client, "nobody@example.org")
    delivered(app)
    assert (known.status_code, known.get_data()) == (unknown.status_code, unknown.get_data())
    assert {k: v for k, v in known.headers if not k.startswith(("X-Request", "RateLimit"))} == \
        {k: v for k, v in unknown.headers if not k.startswith(("X-Request", "RateLimit"))}
    assert len(inbox.to(runner.email)) == 1 and inbox.to("nobody@example.org") == []


def test_the_email_is_sent_off_the_request_so_its_timing_tells_nothing(mail_app):
    app, inbox = mail_app()
    client = app.test_client()
    runner = sign_up(client)
    mailer = app.extensions["backstride"].mailer
    smtp, senders = mailer.mailer, []

    class Recording:
        def send(self, message):
            senders.append(threading.current_thread())
            smtp.send(message)

    mailer.mailer = Recording()
    assert ask_reset(client, runner.email).status_code == 202
    delivered(app)
    assert len(senders) == 1 and senders[0] is not threading.current_thread(), \
        "the request (this thread, in the test client) must not talk to the mail server"
    assert len(inbox.to(runner.email)) == 1


def test_a_link_expires(mail_app, monkeypatch):
    app, inbox = mail_app(password_reset_ttl_s="600")
    client = app.test_client()
    runner = sign_up(client)
    ask_reset(client, runner.email)
    delivered(app)
    token = reset_token_from(inbox, runner.email)
    issued = itsdangerous.timed.time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: issued + 601)
    expired = client.post("/v1/auth/password-reset/confirm",
                          json={"token": token, "new_password": NEW_PASSWORD})
    assert_problem(expired, 422, "token")
    monkeypatch.undo()
    assert client.post("/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204


@pytest.mark.parametrize("token", ["", "x", "not.a.token", "eyJ1IjoiMSJ9.abc.def"])
def test_a_made_up_token_is_refused_naming_it(client, token):
    sign_up(client)
    response = client.post("/v1/auth/password-reset/confirm",
                           json={"token": token, "new_password": NEW_PASSWORD})
    assert_problem(response, 422, "token")


def test_a_token_of_another_account_or_key_does_not_reset(mail_app, database, tmp_path):
    app, inbox = mail_app()
    client = app.test_client()
    sam = sign_up(client)
    ask_reset(client, sam.email)
    delivered(app)
    token = reset_token_from(inbox, sam.email)
    other = create_app(make_settings(database.url, tmp_path, secret_key="z" * 40))
    try:
        refused = other.test_client().post("/v1/auth/password-reset/confirm",
                                           json={"token": token, "new_password": NEW_PASSWORD})
        assert_problem(refused, 422, "token")
    finally:
        other.extensions["backstride"].engine.dispose()


def test_reset_emails_are_limited_per_email_whatever_the_address(mail_app):
    app, inbox = mail_app(ratelimit_password_reset="2 per hour")
    runner = sign_up(app.test_client())

    def from_somewhere(email):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.9.{len(inbox.messages)}.{id(client) % 250}"
        return ask_reset(client, email)

    answers = [from_somewhere(runner.email).status_code for _ in range(3)]
    assert answers == [202, 202, 429], answers
    assert from_somewhere("nobody@example.org").status_code == 202
    delivered(app)
    assert len(inbox.to(runner.email)) == 2
