"""A coach's script gets a personal token: shown once, scoped, listed, revoked."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from service.clock import utcnow
from service.db import WRITES
from service.models import PersonalAccessToken
from tests.support.runners import assert_problem, sign_up


def make_token(runner, scopes=("profile:read",), name="roster script", days=30):
    response = runner.post("/v1/me/tokens",
                           json={"name": name, "scopes": list(scopes), "expires_in_days": days})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def with_token(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_and_then_only_by_its_hint(client):
    runner = sign_up(client)
    created = make_token(runner)

    assert created["token"].startswith("bst_pat_")
    assert created["token_hint"] == created["token"][-4:]
    listed = runner.get("/v1/me/tokens").get_json()["items"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]


def test_a_read_only_token_reads_but_cannot_write_or_mint_tokens(client):
    runner = sign_up(client)
    secret = make_token(runner, scopes=["profile:read"])["token"]

    assert client.get("/v1/me", headers=with_token(secret)).status_code == 200
    assert_problem(client.patch("/v1/me", json={"units": "mi"}, headers=with_token(secret)), 403)
    assert_problem(client.post("/v1/me/tokens", json={"name": "x", "scopes": ["profile:read"]},
                               headers=with_token(secret)), 403)
    assert_problem(client.get("/v1/me/tokens", headers=with_token(secret)), 403)


def test_using_a_token_records_when(client, app):
    runner = sign_up(client)
    created = make_token(runner)
    assert created["last_used_at"] is None
    client.get("/v1/me", headers=with_token(created["token"]))
    assert runner.get("/v1/me/tokens").get_json()["items"][0]["last_used_at"] is not None


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/v1/me", None),  # read-only: its own short writing session
    ("PATCH", "/v1/me", {"units": "mi"}),  # writing: the request's session
    ("GET", "/v1/coach/athletes", None),  # a read that writes its access log
])
def test_a_tokens_use_is_recorded_on_a_writing_session_and_committed(client, app, method, path,
                                                                      body):
    runner = sign_up(client)
    created = make_token(runner, scopes=["profile:read", "profile:write", "coach:read"])
    engine = app.extensions["backstride"].engine
    touches, committed = [], []

    def on_execute(connection, _cursor, statement, *_args):
        if statement.startswith("UPDATE personal_access_tokens"):
            touches.append((connection.get_execution_options().get(WRITES, False),
                            connection.get_transaction()))

    def on_commit(connection):
        committed.append(connection.get_transaction())

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        answers = [client.open(path, method=method, json=body,
                               headers=with_token(created["token"])) for _ in range(2)]
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)

    assert [a.status_code for a in answers] == [200, 200], answers[0].get_json()
    ((writes, transaction),) = touches  # the second use, within the minute, writes nothing
    assert writes and transaction in committed
    assert runner.get("/v1/me/tokens").get_json()["items"][0]["last_used_at"] is not None


def test_revoked_and_expired_tokens_stop_working(client, app):
    runner = sign_up(client)
    revoked = make_token(runner, name="old laptop")
    expired = make_token(runner, name="last season")
    with app.extensions["backstride"].session_factory() as session:
        session.execute(update(PersonalAccessToken)
                        .where(PersonalAccessToken.id == uuid.UUID(expired["id"]))
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    assert runner.delete(f"/v1/me/tokens/{revoked['id']}").status_code == 204
    assert_problem(client.get("/v1/me", headers=with_token(revoked["token"])), 401)
    assert_problem(client.get("/v1/me", headers=with_token(expired["token"])), 401)
    assert_problem(runner.delete(f"/v1/me/tokens/{revoked['id']}"), 404)
    assert runner.get("/v1/me/tokens").get_json()["items"] == []


def test_another_runners_token_cannot_be_revoked_and_answers_404(client):
    owner = sign_up(client)
    stranger = sign_up(client)
    token = make_token(owner)
    assert_problem(stranger.delete(f"/v1/me/tokens/{token['id']}"), 404)
    assert client.get("/v1/me", headers=with_token(token["token"])).status_code == 200


def test_bad_token_requests_are_named(client):
    runner = sign_up(client)
    response = runner.post("/v1/me/tokens", json={"name": "", "scopes": ["root"],
                                                  "expires_in_days": 5000})
    assert_problem(response, 422, "name", "scopes", "expires_in_days")


def test_the_token_list_pages_with_a_cursor_without_gaps_or_repeats(client):
    runner = sign_up(client)
    made = {make_token(runner, name=f"script {i}")["id"] for i in range(5)}

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = runner.get("/v1/me/tokens", query_string=query).get_json()
        seen += [t["id"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5 and set(seen) == made

    assert_problem(runner.get("/v1/me/tokens", query_string={"cursor": "not-ours"}), 422,
                   "cursor")
    assert_problem(runner.get("/v1/me/tokens", query_string={"limit": 0}), 422, "limit")
