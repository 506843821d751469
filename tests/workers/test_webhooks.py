"""Webhooks in process: written with the change, signed as Standard Webhooks says (verified with
its own library by a local HTTPS receiver), retried on schedule, turned off by a 410 or five days
of failures, sent to an app only while its grant covers the event, never to a private address."""

from __future__ import annotations

import json
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from service.api import create_app
from service.domain.webhooks import events, rules
from service.domain.webhooks.endpoints import url_problem
from service.domain.webhooks.secrets import Sealer
from service.models import Notification
from service.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.conftest import SECRET, make_settings
from tests.support.oauth_apps import authorised, register_app
from tests.support.runners import assert_problem, pain, run, sign_up
from tests.support.webhook_receiver import Receiver
from workers.push.guard import guarded_client
from workers.webhooks.send import post, send_due

RECENT = (datetime.now(UTC) - timedelta(hours=2)).isoformat()


@pytest.fixture
def receiver(tmp_path):
    with Receiver(tmp_path) as receiver:
        yield receiver


@pytest.fixture
def app(database, tmp_path):
    app = create_app(make_settings(database.url, tmp_path, webhook_allow_loopback="true"))
    yield app
    app.extensions["backstride"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sender(receiver):
    with guarded_client(allow_loopback=True, ca_bundle=str(receiver.cert), timeout_s=5) as c:
        yield c


def send(app, sender) -> dict[str, int]:
    with app.extensions["backstride"].session_factory() as session:
        return send_due(session, sender, Sealer(SECRET), concurrency=4)


def query(app, statement):
    with app.extensions["backstride"].session_factory() as session:
        return session.execute(statement).all()


def subscribe(runner, receiver, path="/hooks", types=("checkin.created",)) -> dict:
    response = runner.post("/v1/webhooks", json={"url": receiver.origin + path,
                                                 "event_types": list(types)})
    assert response.status_code == 201, response.get_json()
    endpoint = response.get_json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.expect(path, endpoint["secret"])
    return endpoint


def due_now(app) -> None:
    """As if the retry's wait were over."""
    with app.extensions["backstride"].session_factory() as session:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.status == "pending")
                        .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()


def test_a_check_in_is_sent_once_signed_and_thin(app, client, receiver, sender):
    sam = sign_up(client)
    endpoint = subscribe(sam, receiver)
    checkin_id = str(uuid.uuid4())
    assert sam.put(f"/v1/checkins/{checkin_id}", json=run(RECENT, notes="secret notes")
                   ).status_code == 201

    assert send(app, sender) == {"delivered": 1}
    assert send(app, sender) == {}, "a second sweep finds nothing to send"

    assert receiver.problems == []
    (got,) = receiver.received
    assert got["type"] == "checkin.created" and got["id"].startswith("msg_")
    assert got["data"] == {"athlete_id": sam.profile["id"], "checkin_id": checkin_id,
                           "kind": "run", "url": f"/v1/checkins/{checkin_id}"}
    log = sam.get(f"/v1/webhooks/{endpoint['id']}/deliveries").get_json()["items"]
    assert [(d["event_id"], d["status"], d["last_status_code"], d["attempts"]) for d in log] == [
        (got["id"], "delivered", 200, 1)]
    attempts = sam.get(f"/v1/webhooks/{endpoint['id']}/attempts").get_json()["items"]
    assert [(a["attempt"], a["status"], a["status_code"]) for a in attempts] == [
        (1, "delivered", 200)]

    again = sam.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{got['id']}/redeliver")
    assert again.status_code == 202
    assert send(app, sender) == {"delivered": 1}
    assert receiver.ids() == {got["id"]: 2}, "a redelivery keeps its webhook-id"


def test_nothing_is_written_for_an_athlete_no_one_listens_to(app, client):
    sam = sign_up(client)
    assert sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT)).status_code == 201
    assert query(app, select(func.count()).select_from(WebhookEvent)) == [(0,)]


def test_events_are_only_the_types_asked_for(app, client, receiver, sender):
    sam = sign_up(client)
    subscribe(sam, receiver, types=("checkin.deleted",))
    checkin_id = uuid.uuid4()
    sam.put(f"/v1/checkins/{checkin_id}", json=run(RECENT))
    assert sam.delete(f"/v1/checkins/{checkin_id}").status_code == 204
    send(app, sender)
    assert [item["type"] for item in receiver.received] == ["checkin.deleted"]


def test_a_receiver_down_for_a_while_gets_each_event_once_it_is_back(app, client, receiver,
                                                                    sender):
    sam = sign_up(client)
    endpoint = subscribe(sam, receiver)
    for _ in range(3):
        sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT))
    receiver.answer = 503

    before = datetime.now(UTC)
    assert send(app, sender) == {"pending": 3}
    rows = query(app, select(WebhookDelivery.attempts, WebhookDelivery.next_attempt_at,
                             WebhookDelivery.last_status_code))
    for attempts, next_at, code in rows:  # 5 s (+-20 %): Retry-After: 1 asks for less
        assert attempts == 1 and code == 503
        assert before + timedelta(seconds=3.9) <= next_at <= datetime.now(UTC) + timedelta(
            seconds=6.1)
    assert send(app, sender) == {}, "not due yet"
    failing = sam.get(f"/v1/webhooks/{endpoint['id']}").get_json()
    assert failing["failing_since"] is not None and failing["disabled_at"] is None

    receiver.answer = 200
    due_now(app)
    assert send(app, sender) == {"delivered": 3}
    assert receiver.problems == [] and sorted(receiver.ids().values()) == [1, 1, 1]
    assert sam.get(f"/v1/webhooks/{endpoint['id']}").get_json()["failing_since"] is None
    attempts = [(a.attempt, a.status) for a in
                (row[0] for row in query(app, select(WebhookAttempt)))]
    assert sorted(attempts) == [(1, "failed")] * 3 + [(2, "delivered")] * 3


def test_an_endpoint_that_answers_410_is_turned_off_and_its_owner_told(app, client, receiver,
                                                                      sender):
    sam = sign_up(client)
    endpoint = subscribe(sam, receiver)
    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT))
    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT, distance_m=5000))
    receiver.answer = 410

    counts = send(app, sender)
    assert set(counts) == {"failed"}, counts  # both may be on the wire when the first answers
    after = receiver.requests
    shown = sam.get(f"/v1/webhooks/{endpoint['id']}").get_json()
    assert shown["disabled_reason"] == "gone" and shown["disabled_at"]
    statuses = sorted(row[0] for row in query(app, select(WebhookDelivery.status)))
    assert set(statuses) <= {"cancelled", "failed"}, statuses
    (told,) = query(app, select(Notification.kind, Notification.data))
    assert told[0] == "webhook_disabled" and told[1]["reason"] == "gone"

    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT, distance_m=6000))
    due_now(app)
    send(app, sender)
    assert receiver.requests == after, "nothing more is sent to it"
    replay = sam.post(f"/v1/webhooks/{endpoint['id']}/replay", json={
        "since": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "until": datetime.now(UTC).isoformat()})
    assert_problem(replay, 422, "enabled")


def test_five_days_of_failures_turn_an_endpoint_off(app, client, receiver, sender):
    sam = sign_up(client)
    endpoint = subscribe(sam, receiver)
    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT))
    with app.extensions["backstride"].session_factory() as session:
        session.execute(update(WebhookEndpoint).values(
            failing_since=datetime.now(UTC) - timedelta(days=5, minutes=1)))
        session.commit()
    receiver.answer = 500

    send(app, sender)

    shown = sam.get(f"/v1/webhooks/{endpoint['id']}").get_json()
    assert shown["disabled_reason"] == "failing"
    assert query(app, select(Notification.kind)) == [("webhook_disabled",)]
    turned_on = sam.patch(f"/v1/webhooks/{endpoint['id']}", json={"enabled": True}).get_json()
    assert turned_on["disabled_at"] is None and turned_on["failing_since"] is None
    receiver.answer = 200
    replayed = sam.post(f"/v1/webhooks/{endpoint['id']}/replay", json={
        "since": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "until": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}).get_json()
    assert replayed == {"replayed": 1}
    assert send(app, sender) == {"delivered": 1}


def test_a_rotated_secret_signs_with_both_during_the_overlap(app, client, receiver, sender):
    sam = sign_up(client)
    endpoint = subscribe(sam, receiver)
    rotated = sam.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret").get_json()
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"]
    assert "secret" not in sam.get(f"/v1/webhooks/{endpoint['id']}").get_json()

    receiver.expect("/hooks", endpoint["secret"])  # a receiver that has not switched yet
    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT))
    send(app, sender)
    receiver.expect("/hooks", rotated["secret"])  # and one that has
    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT, distance_m=4000))
    send(app, sender)

    assert receiver.problems == []
    assert [item["signatures"] for item in receiver.received] == [2, 2]


def test_a_triage_warning_is_an_event_and_the_url_rules_hold(app, client, receiver, sender):
    sam = sign_up(client)
    subscribe(sam, receiver, types=("warning.triage", "checkin.created"))
    checkin_id = str(uuid.uuid4())
    sam.put(f"/v1/checkins/{checkin_id}", json=pain(
        (datetime.now(UTC) - timedelta(minutes=5)).isoformat(), severity=5,
        answers={"bladder_bowel_change": True}))
    send(app, sender)
    by_type = {item["type"]: item["data"] for item in receiver.received}
    assert by_type["checkin.created"]["kind"] == "pain"
    assert by_type["warning.triage"]["kind"] == "pain_emergency"
    assert by_type["warning.triage"]["checkin_id"] == checkin_id

    for url, field in [("http://hooks.example.org/x", "url"), ("https://10.0.0.8/x", "url"),
                       ("https://user:pw@hooks.example.org/x", "url"),
                       ("https://169.254.169.254/latest", "url"),
                       ("https://hooks.example.org/x#frag", "url")]:
        assert_problem(sam.post("/v1/webhooks", json={"url": url,
                                                      "event_types": ["checkin.created"]}),
                       422, field)
    assert_problem(sam.post("/v1/webhooks", json={"url": "https://hooks.example.org/x",
                                                  "event_types": ["run.eaten"]}), 422)


def test_a_plan_write_is_one_event_spanning_the_days_it_touched(app, client, receiver, sender):
    """A 16-week plan is one event, not 48; an unchanged re-send none; a coach's write says so."""
    coach, dee = sign_up(client), sign_up(client)
    subscribe(dee, receiver, types=("plan.changed",))
    code = coach.post("/v1/coach/invites").get_json()["code"]
    assert dee.post("/v1/me/coaches", json={"code": code, "scopes": ["plan"]}).status_code == 201
    first = datetime.now(UTC).date() + timedelta(days=2)
    items = [{"id": str(uuid.uuid4()), "date": (first + timedelta(days=n)).isoformat(),
              "distance_m": 8_000 + 100 * n} for n in range(0, 112, 7)]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert dee.post("/v1/plan/batch", json={"items": items}, headers=key).status_code == 200
    assert dee.post("/v1/plan/batch", json={"items": items},
                    headers={"Idempotency-Key": str(uuid.uuid4())}).status_code == 200
    moved = {**items[3], "date": (first + timedelta(days=100)).isoformat()}
    assert dee.put(f"/v1/plan/{moved['id']}", json={k: v for k, v in moved.items()
                                                      if k != "id"}).status_code == 200
    assert coach.delete(f"/v1/coach/athletes/{dee.profile['id']}/plan/{items[0]['id']}"
                        ).status_code == 204
    send(app, sender)

    assert receiver.problems == []
    # Sent four at a time, so in any order: sorted by what each did.
    got = sorted((item["data"] for item in receiver.received),
                 key=lambda d: (d["created"], d["updated"], d["removed"]), reverse=True)
    assert {item["type"] for item in receiver.received} == {"plan.changed"}
    athlete = {"athlete_id": dee.profile["id"]}
    assert got == [
        {**athlete, "first_date": items[0]["date"], "last_date": items[-1]["date"],
         "created": 16, "updated": 0, "removed": 0, "by": "athlete", "coach_id": None,
         "url": f"/v1/plan?from={items[0]['date']}&to={items[-1]['date']}"},
        {**athlete, "first_date": items[3]["date"], "last_date": moved["date"],
         "created": 0, "updated": 1, "removed": 0, "by": "athlete", "coach_id": None,
         "url": f"/v1/plan?from={items[3]['date']}&to={moved['date']}"},
        {**athlete, "first_date": items[0]["date"], "last_date": items[0]["date"],
         "created": 0, "updated": 0, "removed": 1, "by": "coach",
         "coach_id": coach.profile["id"],
         "url": f"/v1/plan?from={items[0]['date']}&to={items[0]['date']}"},
    ], "the unchanged re-send wrote no event"
    assert events.required_scopes(events.PLAN_CHANGED) == ["plan:read"]


# --- The rules, and the address guard ------------------------------------------------------

def test_the_schedule_is_the_standard_one_with_jitter_and_retry_after():
    waits = [rules.next_delay_s(n, jitter=lambda: 0.5) for n in range(1, rules.MAX_ATTEMPTS)]
    assert waits == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert rules.next_delay_s(rules.MAX_ATTEMPTS) is None
    assert rules.next_delay_s(1, jitter=lambda: 0.0) == 4.0
    assert rules.next_delay_s(1, jitter=lambda: 1.0) == pytest.approx(6.0)
    assert rules.next_delay_s(1, retry_after_s=120, jitter=lambda: 0.5) == 120
    assert rules.next_delay_s(1, retry_after_s=10 ** 9, jitter=lambda: 0.5) == 86400
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert rules.retry_after("30", now) == 30
    assert rules.retry_after("Wed, 02 Dec 2026 12:01:00 GMT", now) == 60
    assert rules.retry_after("soon", now) is None
    assert rules.Answer(204).verdict == "delivered" and rules.Answer(410).verdict == "gone"
    assert rules.Answer(307).verdict == "retry" and rules.Answer(None, "x").verdict == "retry"


def test_every_payload_is_thin():
    athlete, other = uuid.uuid4(), uuid.uuid4()
    samples = [events.checkin(events.CHECKIN_CREATED, athlete, other, "pain"),
               events.warning(athlete, other, "pain_emergency", {"checkin_id": str(other)},
                              datetime.now(UTC)),
               events.shoe_status(athlete, other, "replace", "plan"),
               events.import_finished(athlete, other, "done"),
               events.plan_changed(athlete, datetime.now(UTC).date(), datetime.now(UTC).date(),
                                   created=500, updated=0, removed=0, coach_id=other),
               *events.coach_link(events.COACH_LINK_CREATED, athlete, other)]
    for event in samples:
        assert len(json.dumps(events.payload(event.type, event.data, datetime.now(UTC)))) < 2000
    assert samples[0].scopes == ["checkins:read", "pain:read"]
    assert samples[-1].scopes == ["coach:read"] and samples[-2].scopes == ["profile:read"]
    assert events.covered(["checkins:read"], {"checkins:read"})
    assert not events.covered(["checkins:read", "pain:read"], {"checkins:read"})


@pytest.mark.parametrize(("url", "refused"), [
    ("https://hooks.example.org/x", False), ("https://hooks.example.org:8443/x", False),
    ("https://8.8.8.8/x", False), ("http://hooks.example.org/x", True),
    ("https://127.0.0.1/x", True), ("https://[::1]/x", True), ("https://192.168.1.1/x", True),
    ("https://[fe80::1]/x", True), ("https://224.0.0.1/x", True), ("https://localhost/x", True),
    ("https://[::ffff:10.0.0.1]/x", True), ("ftp://hooks.example.org/x", True),
    ("https://a\\@hooks.example.org/x", True), ("https://hooks.example.org:0/x", True),
])
def test_what_an_endpoint_may_be(url, refused):
    assert (url_problem(url) is not None) == refused


def _claimed(url: str):
    from service.domain.webhooks.deliveries import Claimed
    return Claimed(uuid.uuid4(), uuid.uuid4(), "msg_test", url, "{}",
                   ["whsec_" + "A" * 43 + "="], 1)


@pytest.mark.parametrize("address", ["10.1.2.3", "127.0.0.1", "169.254.169.254", "::1",
                                     "fd00::1", "100.64.0.1"])
def test_a_name_that_resolves_to_a_private_address_is_never_reached(monkeypatch, address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    asked, connected = [], []

    def resolve(host, port, *args, **kwargs):
        asked.append(host)
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    def connect(*args, **kwargs):
        connected.append(args)
        raise AssertionError("no connection may be made")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", connect)
    with guarded_client() as client:
        answer = post(client, _claimed("https://hooks.example.org/x"))
    assert asked == ["hooks.example.org"] and connected == []
    assert answer.status_code is None and "not one we send to" in answer.error
    assert address not in answer.error, "the answer says nothing of our network"


def test_loopback_only_with_the_setting_and_redirects_never_followed(receiver):
    receiver.expect("/hooks", "whsec_" + "A" * 43 + "=")
    with guarded_client(ca_bundle=str(receiver.cert)) as strict:
        assert post(strict, _claimed(receiver.origin + "/hooks")).status_code is None
    receiver.answer = 307
    with guarded_client(allow_loopback=True, ca_bundle=str(receiver.cert)) as loose:
        answer = post(loose, _claimed(receiver.origin + "/hooks"))
    assert answer.status_code == 307 and answer.verdict == "retry"
    assert receiver.requests == 1


# --- Apps: an endpoint of an app gets an athlete's events while their grant covers them -----

def app_endpoint(owner, app_id, receiver, path="/app", types=("checkin.created",)) -> dict:
    response = owner.post("/v1/webhooks", json={"url": receiver.origin + path, "app_id": app_id,
                                                "event_types": list(types)})
    assert response.status_code == 201, response.get_json()
    endpoint = response.get_json()
    assert endpoint["app_id"] == app_id
    receiver.expect(path, endpoint["secret"])
    return endpoint


def test_an_app_gets_an_athletes_events_only_while_its_grant_covers_them(
        app, client, receiver, sender):
    developer, sam, ana = sign_up(client), sign_up(client), sign_up(client)
    trail_log = register_app(developer)
    app_endpoint(developer, trail_log.id, receiver, types=("checkin.created",))
    # Sam lets it read his check-ins but unticks pain; Ana never authorises it.
    authorised(client, trail_log, sam, scope="checkins:read pain:read", grant=["checkins:read"])

    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT))
    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(RECENT, severity=3))
    ana.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT))
    send(app, sender)
    assert [(item["data"]["kind"], item["data"]["athlete_id"]) for item in receiver.received] \
        == [("run", sam.profile["id"])], "no pain without pain:read, nothing of Ana's"

    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT, distance_m=3000))
    assert sam.delete(f"/v1/me/apps/{trail_log.id}").status_code == 204  # before it is sent
    send(app, sender)
    assert len(receiver.received) == 1
    statuses = sorted(row[0] for row in query(app, select(WebhookDelivery.status)))
    assert statuses == ["cancelled", "delivered"]
    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT, distance_m=2000))
    assert query(app, select(func.count()).select_from(WebhookEvent)) == [(2,)], \
        "no more events for that athlete"


def test_pain_events_need_pain_read_and_an_app_deleted_stops_its_deliveries(
        app, client, receiver, sender):
    developer, sam = sign_up(client), sign_up(client)
    trail_log = register_app(developer)
    app_endpoint(developer, trail_log.id, receiver, types=("checkin.created",))
    authorised(client, trail_log, sam, scope="checkins:read pain:read")

    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(RECENT, severity=3))
    send(app, sender)
    assert [item["data"]["kind"] for item in receiver.received] == ["pain"]

    sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(RECENT))
    assert developer.delete(f"/v1/developer/apps/{trail_log.id}").status_code == 204
    send(app, sender)
    assert len(receiver.received) == 1, "an app its owner deleted is sent nothing more"


def test_only_an_apps_owner_subscribes_for_it(client, receiver):
    developer, other = sign_up(client), sign_up(client)
    trail_log = register_app(developer)
    refused = other.post("/v1/webhooks", json={"url": receiver.origin + "/x",
                                               "app_id": trail_log.id,
                                               "event_types": ["checkin.created"]})
    assert_problem(refused, 404, "app_id")
    assert other.get("/v1/webhooks").get_json()["items"] == []


@pytest.mark.parametrize(("concurrency", "timeout_s", "stuck_after_s", "size"), [
    (8, 15, 60, 24), (2, 15, 3, 2), (8, 1, 60, 200), (4, 10, 20, 4)])
def test_a_claim_is_no_bigger_than_can_be_sent_before_it_would_be_called_stuck(
        concurrency, timeout_s, stuck_after_s, size):
    """Every request of a claim taking the whole timeout, `concurrency` at a time, the last is
    still sent within the stuck time (at least one round, at most 200)."""
    assert rules.claim_size(concurrency, timeout_s, stuck_after_s) == size
