"""Per-account quotas (BACKSTRIDE_QUOTA_*): past one, a 409 problem document that says what to
do, and nobody else is held back by it."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from service.api import create_app
from service.config import Settings
from service.models import Import
from tests.conftest import make_settings
from tests.support.activity_writers import gpx
from tests.support.runners import assert_problem, sign_up

SPRING = datetime(2024, 4, 14, 6, 30, tzinfo=UTC)
QUOTA = "urn:backstride:problem:quota-exceeded"


@pytest.fixture
def quota_app(database, tmp_path):
    apps = []

    def make(**quotas: str):
        app = create_app(make_settings(database.url, tmp_path, **quotas))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["backstride"].engine.dispose()


def expo(n: int) -> dict[str, str]:
    return {"kind": "expo", "token": f"ExponentPushToken[{uuid.uuid4().hex}{n}]"}


def upload(runner, content, name="run.gpx"):
    return runner.post("/v1/imports", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_the_quotas_have_sensible_defaults():
    settings = Settings.from_env({"BACKSTRIDE_SECRET_KEY": "k" * 32,
                                  "BACKSTRIDE_DATA_DIR": "/nonexistent-backstride"})
    assert 1 < settings.quota_push_devices <= 20
    assert 10 <= settings.quota_coach_invites <= 100
    assert 1 < settings.quota_imports_in_flight <= 5
    assert settings.quota_import_bytes_per_day >= 4 * settings.import_max_bytes


def test_push_devices_past_the_quota_are_refused_until_one_is_removed(quota_app):
    app = quota_app(quota_push_devices="3")
    sam, alex = sign_up(app.test_client()), sign_up(app.test_client())
    added = [sam.post("/v1/devices", json=expo(n)) for n in range(3)]
    assert [a.status_code for a in added] == [201, 201, 201]
    refused = assert_problem(sam.post("/v1/devices", json=expo(4)), 409)
    assert refused["type"] == QUOTA and "3" in refused["detail"], refused
    assert alex.post("/v1/devices", json=expo(5)).status_code == 201, "others are not held"
    assert sam.delete(f"/v1/devices/{added[0].get_json()['id']}").status_code == 204
    assert sam.post("/v1/devices", json=expo(6)).status_code == 201
    assert len(sam.get("/v1/devices").get_json()["items"]) == 3


def test_re_registering_a_device_one_has_is_not_a_new_one(quota_app):
    app = quota_app(quota_push_devices="1")
    sam = sign_up(app.test_client())
    device = expo(1)
    assert sam.post("/v1/devices", json=device).status_code == 201
    assert sam.post("/v1/devices", json=device).status_code == 200, "an update is no new device"


def test_open_coach_invites_past_the_quota_are_refused_and_a_used_one_frees_a_place(quota_app):
    app = quota_app(quota_coach_invites="2")
    coach, athlete = sign_up(app.test_client()), sign_up(app.test_client())
    codes = [coach.post("/v1/coach/invites") for _ in range(2)]
    assert [c.status_code for c in codes] == [201, 201]
    refused = assert_problem(coach.post("/v1/coach/invites"), 409)
    assert refused["type"] == QUOTA and "expire" in refused["detail"], refused
    accepted = athlete.post("/v1/me/coaches", json={"code": codes[0].get_json()["code"],
                                                    "scopes": ["runs"]})
    assert accepted.status_code in (200, 201), accepted.get_json()
    assert coach.post("/v1/coach/invites").status_code == 201


def test_imports_in_flight_past_the_quota_are_refused_until_one_ends(quota_app):
    app = quota_app(quota_imports_in_flight="2")
    sam, alex = sign_up(app.test_client()), sign_up(app.test_client())
    sent = [upload(sam, gpx(SPRING + timedelta(days=n))) for n in range(2)]
    assert [s.status_code for s in sent] == [202, 202]
    refused = assert_problem(upload(sam, gpx(SPRING + timedelta(days=3))), 409)
    assert refused["type"] == QUOTA and "2" in refused["detail"], refused
    assert upload(alex, gpx(SPRING)).status_code == 202, "others are not held"
    factory = app.extensions["backstride"].session_factory
    with factory() as session:
        session.execute(update(Import).where(Import.id == uuid.UUID(sent[0].get_json()["id"]))
                        .values(status="done"))
        session.commit()
    assert upload(sam, gpx(SPRING + timedelta(days=3))).status_code == 202


def test_import_bytes_past_the_daily_quota_are_refused_naming_the_file(quota_app):
    one = gpx(SPRING)
    app = quota_app(quota_import_bytes_per_day=str(int(len(one) * 2.5)),
                    quota_imports_in_flight="10")
    sam = sign_up(app.test_client())
    assert [upload(sam, gpx(SPRING + timedelta(days=n))).status_code for n in range(2)] == [
        202, 202]
    refused = assert_problem(upload(sam, gpx(SPRING + timedelta(days=5))), 409, "file")
    assert refused["type"] == QUOTA and "24 hours" in refused["detail"], refused
    factory = app.extensions["backstride"].session_factory
    with factory() as session:  # a day later the first two no longer count
        session.execute(update(Import).values(created_at=datetime.now(UTC) - timedelta(days=2)))
        session.commit()
    assert upload(sam, gpx(SPRING + timedelta(days=5))).status_code == 202
