"""A runner who has used every part of Backstride, for the export and erasure tests.

Sam registers (with an Idempotency-Key, so an anonymous record holds the answer with their
email), buys shoes, runs, reports pain with a red flag (a notification and its push delivery),
registers a phone, makes a personal token, imports a watch file, is coached by Kim and coaches
Ana (so both sides of links, invites and access logs name Sam), registers an app that he and Ana
authorise and that reads both (OAuth 2), registers a webhook endpoint, and has a night analysed.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.config import WEEKLY_JUMP_THRESHOLD
from service.domain.data import imports
from service.domain.notify import deliveries
from service.domain.training import nightly
from service.models import Import
from tests.support.activity_writers import Session, fit
from tests.support.oauth_apps import authorised, bearer, register_app
from tests.support.runners import PASSWORD, Runner, pain, run, sign_up

PUSH_TOKEN = "ExponentPushToken[sams-secret-phone-token]"


@dataclass
class Life:
    sam: Runner
    kim: Runner  # Sam's coach
    ana: Runner  # Sam coaches her
    personal_token: str
    sam_id: str


def live(app, client) -> Life:
    email = f"sam-{uuid.uuid4().hex[:8]}@example.org"
    registered = client.post("/v1/auth/register", json={"email": email, "password": PASSWORD},
                             headers={"Idempotency-Key": f"register-{email}"})
    assert registered.status_code == 201, registered.get_json()
    tokens = client.post("/v1/auth/token", json={"email": email, "password": PASSWORD}).get_json()
    sam = Runner(client, email, tokens["access_token"], tokens["refresh_token"],
                 registered.get_json())
    kim, ana = sign_up(client), sign_up(client)
    now = datetime.now(UTC)
    hook = sam.post("/v1/webhooks", json={"url": "https://hooks.example.org/sam",
                                          "event_types": ["checkin.created", "warning.triage",
                                                          "coach_link.created"]})
    assert hook.status_code == 201, hook.get_json()

    shoe = sam.post("/v1/shoes", json={"name": "Daily trainers", "is_default": True,
                                       "first_used_on": (now - timedelta(days=60)).date()
                                       .isoformat()},
                    headers={"Idempotency-Key": "shoe-1"})
    assert shoe.status_code == 201
    yesterday = (now - timedelta(days=1)).isoformat()
    batch = sam.post("/v1/checkins/batch", json={"items": [
        {"id": str(uuid.uuid4()), **run(yesterday, notes="=felt strong")},
        {"id": str(uuid.uuid4()), **pain((now - timedelta(hours=2)).isoformat(),
                                         answers={"saddle_numbness": True})},
    ]}, headers={"Idempotency-Key": "batch-1"})
    assert batch.status_code == 200 and all(r["result"] == "created"
                                            for r in batch.get_json()["results"])
    device = sam.post("/v1/devices", json={"kind": "expo", "token": PUSH_TOKEN,
                                           "label": "Sam's phone"})
    assert device.status_code in (200, 201), device.get_json()
    made = sam.post("/v1/me/tokens", json={"name": "my script", "scopes": ["checkins:read"]})
    personal_token = made.get_json()["token"]

    upload = sam.post("/v1/imports", data={"file": (io.BytesIO(fit(Session(
        now - timedelta(days=20), 2400, 7000))), "old.fit")}, content_type="multipart/form-data")
    assert upload.status_code == 202

    code = kim.post("/v1/coach/invites").get_json()["code"]
    assert sam.post("/v1/me/coaches", json={"code": code, "scopes": ["runs", "pain"]}
                    ).status_code == 201
    assert kim.get(f"/v1/coach/athletes/{sam.profile['id']}/checkins").status_code == 200
    code = sam.post("/v1/coach/invites").get_json()["code"]
    assert ana.post("/v1/me/coaches", json={"code": code, "scopes": ["runs"]}).status_code == 201
    assert sam.get(f"/v1/coach/athletes/{ana.profile['id']}/checkins").status_code == 200

    sams_app = register_app(sam, confidential=True, name="Sam's training diary")
    for athlete in (sam, ana):
        app_token = authorised(client, sams_app, athlete)["access_token"]
        assert client.get("/v1/checkins", headers=bearer(app_token)).status_code == 200

    state = app.extensions["backstride"]
    with state.session_factory() as session:
        (import_id,) = session.query(Import.id).filter(
            Import.athlete_id == uuid.UUID(sam.profile["id"])).one()
        imports.process(session, import_id, checkpoint=session.commit, max_file_bytes=10**6,
                        weekly_threshold=WEEKLY_JUMP_THRESHOLD,
                        id_key=state.settings.secret_key.encode())
        nightly.analyse(session, [uuid.UUID(sam.profile["id"])], (now - timedelta(days=1)).date(),
                        now, weekly_threshold=WEEKLY_JUMP_THRESHOLD)
        deliveries.plan(session, now + timedelta(days=1), ["expo"])
        session.commit()
    return Life(sam, kim, ana, personal_token, sam.profile["id"])
