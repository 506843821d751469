"""Phones and browsers register for pushes; hostile endpoints are refused."""

from __future__ import annotations

import pytest

from service.api import create_app
from tests.conftest import make_settings
from tests.support.runners import PASSWORD, assert_problem, sign_up

KEYS = {"p256dh": "B" + "x" * 86, "auth": "a" * 22}


def subscription(endpoint):
    return {"kind": "webpush", "subscription": {"endpoint": endpoint, "keys": KEYS}}


def test_each_kind_of_push_target_registers_and_lists_without_secrets(client):
    runner = sign_up(client)
    for body in (subscription("https://fcm.googleapis.com/fcm/send/abc123"),
                 {"kind": "fcm", "token": "fcm-token-0123456789"},
                 {"kind": "apns", "token": "a" * 64, "label": "Sam's iPhone"},
                 {"kind": "expo", "token": "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"}):
        response = runner.post("/v1/devices", json=body)
        assert response.status_code == 201, response.get_json()
    again = runner.post("/v1/devices", json={"kind": "fcm", "token": "fcm-token-0123456789"})
    assert again.status_code == 200, "registering the same token again updates it"

    listed = runner.get("/v1/devices").get_json()["items"]
    assert sorted(d["kind"] for d in listed) == ["apns", "expo", "fcm", "webpush"]
    text = str(listed)
    assert "fcm-token-0123456789" not in text and KEYS["auth"] not in text
    assert {d["hint"] for d in listed} >= {"fcm.googleapis.com", "…456789"}


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/abc",  # not https
    "https://10.0.0.5/push/abc",  # private
    "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
    "https://127.0.0.1:8443/push",  # loopback, not on the default list
    "https://[::1]/push",
    "https://attacker.example/push",  # not a push service
    "https://127.0.0.1\\@fcm.googleapis.com/fcm/send/abc",  # urllib3 connects to 127.0.0.1
    "https://evil.example\\.push.apple.com/x",  # urllib3 connects to evil.example
    "https://u:p@fcm.googleapis.com/fcm/send/abc",  # user info (py_vapid raised on it)
    "https://fcm.googleapis.com@127.0.0.1/fcm/send/abc",
    "https://fcm.googleapis.com:8443/fcm/send/abc",  # an explicit port
    "https://fcm.googleapis.com:443/fcm/send/abc",
    "https://fcm.googleapis.com./fcm/send/abc",
    "https://fcm.googleapis.com/fcm/send/abc#frag",
    "https://fcm.googleapis.com/fcm/send/a b",
    "https://%66cm.googleapis.com/fcm/send/abc",
])
def test_web_push_endpoints_must_be_https_push_services(client, endpoint):
    runner = sign_up(client)
    assert_problem(runner.post("/v1/devices", json=subscription(endpoint)), 422, "endpoint")
    assert runner.get("/v1/devices").get_json()["items"] == []


def test_the_allow_list_is_a_setting(database, tmp_path):
    app = create_app(make_settings(database.url, tmp_path,
                                   webpush_hosts="127.0.0.1,127.0.0.1:8443"))
    runner = sign_up(app.test_client())
    for endpoint in ("https://127.0.0.1/push/x", "https://127.0.0.1:8443/push/y"):
        response = runner.post("/v1/devices", json=subscription(endpoint))
        assert response.status_code == 201, response.get_json()
    assert_problem(runner.post("/v1/devices", json=subscription("https://127.0.0.1:8444/push/z")),
                   422, "endpoint")


@pytest.mark.parametrize("body", [
    {"kind": "apns", "token": "../../3/device/x?y"},
    {"kind": "apns", "token": "a" * 63},  # 32 bytes or more, in whole bytes
    {"kind": "apns", "token": "g" * 64},
    {"kind": "apns", "token": "a" * 202},
    {"kind": "fcm", "token": "fcm token with spaces"},
    {"kind": "fcm", "token": "fcm/../token"},
    {"kind": "fcm", "token": "x" * 4097},
    {"kind": "expo", "token": "not-an-expo-token"},
    {"kind": "expo", "token": "ExponentPushToken[../x]"},
    {"kind": "expo", "token": "ExponentPushToken[]"},
], ids=lambda body: f"{body['kind']}-{body['token'][:24]}")
def test_push_tokens_must_look_like_their_providers_tokens(client, body):
    runner = sign_up(client)
    assert_problem(runner.post("/v1/devices", json=body), 422, "token")
    assert runner.get("/v1/devices").get_json()["items"] == []


def test_apns_tokens_are_hex_of_32_bytes_or_more_and_kept_in_lower_case(client):
    runner = sign_up(client)
    for token in ("AB" * 32, "0f" * 50, "ExpoPushToken[abc_DEF-123]"):
        kind = "expo" if token.startswith("Expo") else "apns"
        response = runner.post("/v1/devices", json={"kind": kind, "token": token})
        assert response.status_code == 201, response.get_json()
    again = runner.post("/v1/devices", json={"kind": "apns", "token": "ab" * 32})
    assert again.status_code == 200, "the same token in another case is the same device"


@pytest.mark.parametrize(("body", "named"), [
    ({"kind": "fcm"}, "token"),
    ({"kind": "fcm", "token": "t", "subscription": subscription("https://x/y")["subscription"]},
     "subscription"),
    ({"kind": "webpush", "token": "t"}, "subscription"),
    ({"kind": "pager", "token": "t"}, "kind"),
    ({"kind": "webpush", "subscription": {"endpoint": "https://fcm.googleapis.com/x",
                                          "keys": {"p256dh": "short", "auth": "a"}}},
     "subscription"),
])
def test_malformed_registrations_are_named(client, body, named):
    runner = sign_up(client)
    assert_problem(runner.post("/v1/devices", json=body), 422, named)


def test_a_token_belongs_to_whoever_registered_it_last(client):
    old_owner, new_owner = sign_up(client), sign_up(client)
    old_owner.post("/v1/devices", json={"kind": "expo", "token": "ExponentPushToken[shared]"})
    taken = new_owner.post("/v1/devices", json={"kind": "expo",
                                                "token": "ExponentPushToken[shared]"})
    assert taken.status_code == 201
    assert old_owner.get("/v1/devices").get_json()["items"] == []
    assert len(new_owner.get("/v1/devices").get_json()["items"]) == 1


def test_signing_out_removes_that_phones_push_targets(client):
    runner = sign_up(client)
    runner.post("/v1/devices", json={"kind": "fcm", "token": "phone-token"})
    assert len(runner.get("/v1/devices").get_json()["items"]) == 1
    client.post("/v1/auth/logout", json={"refresh_token": runner.refresh_token})

    tokens = client.post("/v1/auth/token", json={"email": runner.email, "password": PASSWORD})
    signed_in_again = {"Authorization": f"Bearer {tokens.get_json()['access_token']}"}
    assert client.get("/v1/devices", headers=signed_in_again).get_json()["items"] == []


def test_other_athletes_devices_are_404_and_tokens_cannot_register(client):
    owner, stranger = sign_up(client), sign_up(client)
    device = owner.post("/v1/devices", json={"kind": "apns", "token": "b" * 64}).get_json()
    assert_problem(stranger.delete(f"/v1/devices/{device['id']}"), 404)
    assert len(owner.get("/v1/devices").get_json()["items"]) == 1
    pat = owner.post("/v1/me/tokens", json={"name": "script",
                                            "scopes": ["profile:read"]}).get_json()["token"]
    assert_problem(client.post("/v1/devices", json={"kind": "fcm", "token": "x"},
                               headers={"Authorization": f"Bearer {pat}"}), 403)
    assert owner.delete(f"/v1/devices/{device['id']}").status_code == 204
