"""Sam leaves: with their password, everything that names them is gone, and every token dies."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from service.db import make_engine
from service.models import AccessLogEntry, Account, Base, CoachInvite
from tests.support.full_life import live
from tests.support.runners import PASSWORD, assert_problem, sign_up


def mentions(database_url: str, *needles: str) -> list[str]:
    """Every table.column whose value contains one of the needles (any type, any case)."""
    wanted = [needle.lower() for needle in needles]
    found = []
    engine = make_engine(database_url)
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        text = value.decode("latin-1")
                    elif isinstance(value, uuid.UUID):
                        text = f"{value} {value.hex}"
                    else:
                        text = str(value)
                    if any(needle in text.lower() for needle in wanted):
                        found.append(f"{table.name}.{column}")
    engine.dispose()
    return sorted(set(found))


def delete_me(runner, password=PASSWORD):
    return runner.client.delete("/v1/me", json={"password": password}, headers=runner.headers)


def test_after_deletion_no_table_names_the_athlete_and_no_token_works(app, client, database):
    life = live(app, client)
    sam_id = uuid.UUID(life.sam_id)
    before = mentions(database.url, life.sam_id, sam_id.hex, life.sam.email)
    assert {"checkins.athlete_id", "idempotency_records.response_body",
            "idempotency_records.scope", "access_log.coach_id", "coach_invites.used_by",
            "imports.athlete_id", "imported_files.athlete_id", "devices.athlete_id",
            "accounts.email"} <= set(before), "the scan finds Sam before the deletion"

    response = delete_me(life.sam)

    assert response.status_code == 204, response.get_data(as_text=True)
    assert mentions(database.url, life.sam_id, sam_id.hex, life.sam.email) == []
    assert_problem(life.sam.get("/v1/me"), 401)
    assert_problem(client.get("/v1/me", headers={
        "Authorization": f"Bearer {life.personal_token}"}), 401)
    assert_problem(client.post("/v1/auth/refresh",
                               json={"refresh_token": life.sam.refresh_token}), 401)
    assert_problem(client.post("/v1/auth/token",
                               json={"email": life.sam.email, "password": PASSWORD}), 401)


def test_what_belongs_to_others_stays_without_the_athletes_name(app, client, database):
    life = live(app, client)
    assert delete_me(life.sam).status_code == 204

    assert life.kim.get("/v1/coach/athletes").get_json()["items"] == [], "Kim's link is gone"
    assert life.ana.get("/v1/me/coaches").get_json()["items"] == [], "so is Ana's coach"
    ana_log = life.ana.get("/v1/me/access-log").get_json()["items"]
    assert len(ana_log) == 2, "Ana keeps the record that her data was read, by Sam and his app"
    assert [(e["coach_id"], e["app_id"], e["app_name"]) for e in ana_log] == [(None,) * 3] * 2
    assert life.ana.get("/v1/me/apps").get_json()["items"] == [], "Sam's app is gone"
    engine = make_engine(database.url)
    with engine.connect() as connection:
        readers = connection.execute(select(AccessLogEntry.coach_id, AccessLogEntry.app_id).where(
            AccessLogEntry.athlete_id == uuid.UUID(life.ana.profile["id"]))).all()
        kim_invites = connection.execute(select(CoachInvite.used_by).where(
            CoachInvite.coach_id == uuid.UUID(life.kim.profile["id"]))).all()
        others = connection.execute(select(Account.email)).scalars().all()
    engine.dispose()
    assert readers == [(None, None)] * 2, "…by a coach and an app that no longer exist"
    assert kim_invites == [(None,)], "Kim's used invite stays used, by nobody"
    assert sorted(others) == sorted([life.kim.email, life.ana.email])


def test_a_wrong_password_deletes_nothing(client):
    sam = sign_up(client)
    body = assert_problem(delete_me(sam, "not-my-password-at-all"), 403, "password")
    assert "nothing was deleted" in body["detail"]
    assert sam.get("/v1/me").status_code == 200


def test_a_missing_password_names_the_field(client):
    sam = sign_up(client)
    response = client.delete("/v1/me", json={}, headers=sam.headers)
    assert_problem(response, 422, "password")


def test_a_script_token_cannot_delete_the_account(client):
    sam = sign_up(client)
    token = sam.post("/v1/me/tokens", json={"name": "script", "scopes": ["profile:write"]}
                     ).get_json()["token"]
    response = client.delete("/v1/me", json={"password": PASSWORD},
                             headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403)
    assert sam.get("/v1/me").status_code == 200
