"""The inbox: warnings arrive after quiet hours, can be read, and are nobody else's business."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from jsonschema import Draft202012Validator
from sqlalchemy import select

from service.api.notifications.schemas import DATA_OF_KIND
from service.cli import demo
from service.config import WEEKLY_JUMP_THRESHOLD
from service.domain.checkins import writes as checkin_writes
from service.domain.notify import notifications
from service.domain.pain import messages as pain_messages
from service.domain.pain import rules as triage
from service.domain.stretch import reminders
from service.models import Account, Notification
from tests.support.runners import assert_problem, sign_up


def deliver(app, athlete_id, key, *, after):
    with app.extensions["backstride"].session_factory() as session:
        notifications.write(session, [notifications.Draft(
            uuid.UUID(athlete_id), "run_spike", key, "Big step up", "Keep it under 11 km.",
            after, {"rule": "run_spike"})], datetime.now(UTC))
        session.commit()


def test_the_inbox_shows_delivered_messages_newest_first_and_marks_them_read(app, client):
    sam = sign_up(client)
    past = datetime.now(UTC) - timedelta(hours=1)
    deliver(app, sam.profile["id"], "run_spike:a", after=past)
    deliver(app, sam.profile["id"], "run_spike:b", after=past)
    deliver(app, sam.profile["id"], "run_spike:later", after=past + timedelta(days=1))

    inbox = sam.get("/v1/notifications").get_json()["items"]
    assert len(inbox) == 2, "the one for after quiet hours is not shown yet"
    first = inbox[0]
    read = sam.post(f"/v1/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    again = sam.post(f"/v1/notifications/{first['id']}/read").get_json()
    assert again["read_at"] == read.get_json()["read_at"], "the first read time is kept"

    unread = sam.get("/v1/notifications", query_string={"unread": "true"}).get_json()["items"]
    assert [n["id"] for n in unread] == [inbox[1]["id"]]
    assert sam.get("/v1/notifications", query_string={"unread": "false"}).get_json()["items"][0][
        "id"] == first["id"]


def test_the_same_finding_twice_is_one_notification(app, client):
    sam = sign_up(client)
    past = datetime.now(UTC) - timedelta(minutes=5)
    deliver(app, sam.profile["id"], "run_spike:same", after=past)
    deliver(app, sam.profile["id"], "run_spike:same", after=past)
    assert len(sam.get("/v1/notifications").get_json()["items"]) == 1


def test_another_athletes_notification_is_404(app, client):
    sam, other = sign_up(client), sign_up(client)
    deliver(app, sam.profile["id"], "run_spike:x", after=datetime.now(UTC) - timedelta(hours=1))
    note = sam.get("/v1/notifications").get_json()["items"][0]
    assert_problem(other.post(f"/v1/notifications/{note['id']}/read"), 404)
    assert other.get("/v1/notifications").get_json()["items"] == []
    assert sam.get("/v1/notifications").get_json()["items"][0]["read_at"] is None


def test_every_kind_of_notification_data_has_the_shape_the_spec_documents(app, client):
    """Generated clients validate `data` against its variant; the domain's data must fit."""
    state = app.extensions["backstride"]
    now = datetime.now(UTC)
    with state.session_factory() as session:
        demo.seed(session, state.hasher, now, weekly_threshold=WEEKLY_JUMP_THRESHOLD)
        athlete = session.scalar(select(Account).where(Account.email.like("beginner@%")))
        end = now + timedelta(hours=2)
        checkin_writes.upsert(session, athlete, [{
            "id": uuid.uuid4(), "kind": "run", "started_at": end - timedelta(minutes=30),
            "duration_s": 1800, "distance_m": 5000}], end + timedelta(minutes=1))
        reminders.sweep(session, end + timedelta(minutes=10))
        checkin_writes.upsert(session, athlete, [{
            "id": uuid.uuid4(), "kind": "pain", "recorded_at": now, "location": "lower_back",
            "severity": 6, "answers": {"saddle_numbness": True}}], now)
        written = [(n.kind, n.data) for n in session.scalars(select(Notification))]
        session.rollback()
    assert "pain_emergency" in {kind for kind, _ in written}, "as a pain check-in writes it"
    for tier in triage.TIERS:
        if tier != triage.NONE:
            _, _, data = pain_messages.pain_triage(triage.Triage(tier, ("night_pain",)))
            written.append((data["rule"], {**data, "checkin_id": str(uuid.uuid4())}))

    spec = client.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    union = schemas["Notification"]["properties"]["data"]
    assert union["discriminator"]["propertyName"] == "rule"
    kinds = {kind for kind, _ in written}
    assert {"run_spike", "weekly_jump", "shoe_replace", "stretch_reminder",
            "pain_emergency", "pain_inflammatory_screen"} <= kinds, kinds
    for kind, data in written:
        assert data["rule"] == kind and kind in DATA_OF_KIND
        variant = union["discriminator"]["mapping"][kind].rsplit("/", 1)[-1]
        errors = [e.message for e in Draft202012Validator(schemas[variant]).iter_errors(data)]
        assert errors == [], (kind, errors)
