"""What schemathesis found (tests/fuzz), each pinned as the story of one request."""

from __future__ import annotations

import uuid

from tests.support.runners import PASSWORD, assert_problem, run, sign_up


def test_a_long_passphrase_registers_instead_of_failing_on_our_side(client):
    passphrase = "my knees and my back both like the soft trail by the river " * 2  # 120 chars
    registered = client.post("/v1/auth/register",
                             json={"email": "long@example.org", "password": passphrase})
    assert registered.status_code == 201, registered.get_json()
    signed_in = client.post("/v1/auth/token",
                            json={"email": "long@example.org", "password": passphrase})
    assert signed_in.status_code == 200


def test_a_common_password_is_still_refused(client):
    refused = client.post("/v1/auth/register",
                          json={"email": "common@example.org", "password": "password123"})
    assert_problem(refused, 422, "password")
    assert PASSWORD  # the suite's own password is not a common one


def test_a_conditional_delete_of_a_deleted_check_in_answers_the_documented_410(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    etag = runner.put(f"/v1/checkins/{checkin_id}", json=run()).headers["ETag"]
    assert runner.delete(f"/v1/checkins/{checkin_id}").status_code == 204

    again = runner.delete(f"/v1/checkins/{checkin_id}", headers={"If-Match": etag})
    assert_problem(again, 410)
    spec = client.get("/openapi.json").get_json()
    assert "410" in spec["paths"]["/v1/checkins/{checkin_id}"]["delete"]["responses"]


def test_a_body_that_is_not_json_answers_the_documented_400(client):
    runner = sign_up(client)
    garbled = runner.client.post("/v1/shoes", data=b"\xbd10",
                                 headers={**runner.headers, "Content-Type": "application/json"})
    assert_problem(garbled, 400)
    spec = client.get("/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}) if isinstance(operation, dict) else {}
            if "application/json" in body.get("content", {}):
                assert "400" in operation["responses"], f"{method.upper()} {path}"
