"""Sam takes everything Backstride holds about them out, as JSON or as CSV files."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from jsonschema import Draft202012Validator

from service.domain.data.export import NOT_EXPORTED, SECTIONS
from service.models import Base
from tests.support.full_life import PUSH_TOKEN, live
from tests.support.runners import assert_problem, sign_up


def test_every_table_is_exported_or_said_not_to_be_and_why():
    exported = {section.table.name for section in SECTIONS}
    for table in Base.metadata.sorted_tables:
        names_accounts = any(fk.column.table.name == "accounts" for fk in table.foreign_keys)
        assert table.name in exported or table.name in NOT_EXPORTED, (
            f"{table.name} is neither exported nor listed in NOT_EXPORTED with a reason"
            + (" (and it names an account)" if names_accounts else ""))
        assert not (table.name in exported and table.name in NOT_EXPORTED), table.name
    for name, reason in NOT_EXPORTED.items():
        assert name in Base.metadata.tables and len(reason) > 20, name


def test_the_json_export_holds_every_section_of_a_full_life_and_no_secret(app, client):
    life = live(app, client)
    response = life.sam.get("/v1/me/export")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    document = json.loads(text)
    sections = document["sections"]
    assert document["athlete_id"] == life.sam_id and document["not_exported"] == NOT_EXPORTED
    assert set(sections) == {section.name for section in SECTIONS}
    empty = sorted(name for name, rows in sections.items() if not rows)
    assert empty == [], f"a full life leaves no section empty: {empty}"
    (profile,) = sections["profile"]
    assert profile["email"] == life.sam.email and "password_hash" not in profile
    kinds = sorted(row["kind"] for row in sections["checkins"])
    assert kinds == ["pain", "run", "run"], "the phone's run, the pain report, the imported run"
    assert {row["athlete_id"] for row in sections["coach_links"]} == {
        life.sam_id, life.ana.profile["id"]}, "coached and coaching"
    assert {row["coach_id"] for row in sections["access_log"]} == {
        life.kim.profile["id"], life.sam_id, None}, "None: his own app's read"
    assert {row["app_id"] for row in sections["access_log"]} - {None} == {
        row["id"] for row in sections["apps_registered"]}
    assert {row["client_id"] for row in sections["apps_authorised"]} == {
        row["id"] for row in sections["apps_registered"]}
    (device,) = sections["devices"]
    assert device["hint"] and "address" not in device and device["label"] == "Sam's phone"
    for secret in (PUSH_TOKEN, life.personal_token, life.sam.refresh_token, "argon2"):
        assert secret not in text, f"a secret leaked into the export: {secret[:12]}…"
    assert "token_hash" not in text and "code_hash" not in text
    assert "secret_hash" not in text and "access_hash" not in text and "bst_cs_" not in text


def test_the_csv_export_is_a_zip_of_one_file_per_section_agreeing_with_the_json(app, client):
    life = live(app, client)
    document = life.sam.get("/v1/me/export").get_json()
    response = life.sam.get("/v1/me/export", query_string={"format": "csv"})

    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert set(archive.namelist()) == {f"{s.name}.csv" for s in SECTIONS} | {"README.txt"}
    for section in SECTIONS:
        rows = list(csv.DictReader(io.TextIOWrapper(archive.open(f"{section.name}.csv"),
                                                    encoding="utf-8")))
        assert len(rows) == len(document["sections"][section.name]), section.name
        assert list(rows[0]) == section.columns
    notes = [row["notes"] for row in csv.DictReader(io.TextIOWrapper(
        archive.open("checkins.csv"), encoding="utf-8")) if row["notes"]]
    assert notes == ["'=felt strong"], "a note a spreadsheet would run as a formula is quoted"
    readme = archive.read("README.txt").decode()
    assert all(table in readme for table in NOT_EXPORTED)


def test_only_the_app_can_export_not_a_script_token(client):
    sam = sign_up(client)
    token = sam.post("/v1/me/tokens", json={"name": "script", "scopes": list(
        ["profile:read", "checkins:read"])}).get_json()["token"]
    response = client.get("/v1/me/export", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403)


def test_an_unknown_format_names_the_parameter(client):
    sam = sign_up(client)
    assert_problem(sam.get("/v1/me/export", query_string={"format": "xml"}), 422, "format")


def test_a_new_runner_exports_their_profile_and_empty_sections(client):
    sam = sign_up(client)
    sections = sam.get("/v1/me/export").get_json()["sections"]
    assert len(sections["profile"]) == 1 and sections["checkins"] == []


def test_the_json_export_has_exactly_the_shape_the_spec_documents(app, client):
    """A generated client reads the export's rows as typed objects: every cell must fit."""
    life = live(app, client)
    document = json.loads(life.sam.get("/v1/me/export").get_data())
    spec = client.get("/openapi.json").get_json()
    schema = {"$ref": "#/components/schemas/Export", "components": spec["components"]}
    errors = [f"{list(error.absolute_path)}: {error.message}"
              for error in Draft202012Validator(schema).iter_errors(document)]
    assert errors == []
    rows = sum(len(section) for section in document["sections"].values())
    assert rows > 10, "the life must fill the sections the check reads"
