"""A runner brings years of runs in from their watch and other apps: files in, runs out, once."""

from __future__ import annotations

import gzip
import io
import math
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from service.api import create_app
from service.config import WEEKLY_JUMP_THRESHOLD
from service.domain.data import imports
from service.domain.stretch import reminders
from service.models import Checkin, Import, ImportedFile, ImportUpload, Notification
from tests.conftest import make_settings
from tests.support.activity_writers import Session, fit, gpx, tcx, zipped
from tests.support.runners import assert_problem, run, sign_up

SPRING = datetime(2024, 4, 14, 6, 30, tzinfo=UTC)


def upload(runner, name, content):
    return runner.post("/v1/imports", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def work(app, import_id=None, **options):
    """What the `imports.process` task does, for one import or every queued one."""
    factory = app.extensions["backstride"].session_factory
    settings = app.extensions["backstride"].settings
    with factory() as session:
        ids = [import_id] if import_id else session.scalars(
            select(Import.id).where(Import.status == "queued")).all()
        for ident in ids:
            imports.process(session, uuid.UUID(str(ident)), checkpoint=session.commit,
                            max_file_bytes=settings.import_max_bytes,
                            weekly_threshold=settings.weekly_jump_threshold, **options)


def imported(app, runner, name, content):
    """Upload, let the worker read it, and return the import as the phone polls it."""
    response = upload(runner, name, content)
    assert response.status_code == 202, response.get_json()
    work(app, response.get_json()["id"])
    polled = runner.get(response.headers["Location"])
    assert polled.status_code == 200, polled.get_json()
    return polled.get_json()


def runs_of(runner):
    items = runner.get("/v1/checkins", query_string={"kind": "run", "limit": 500}).get_json()
    return sorted(items["items"], key=lambda item: item["started_at"])


def haversine_m(lat1, lat2):
    return 6_371_008.8 * math.radians(abs(lat2 - lat1))


def test_a_gpx_from_a_watch_becomes_a_run_with_its_start_duration_and_distance(app, client):
    sam = sign_up(client, timezone="Europe/London")
    response = upload(sam, "morning-run.gpx", gpx(SPRING, points=11, step_s=360))

    assert response.status_code == 202
    queued = response.get_json()
    assert queued["status"] == "queued" and queued["progress"]["files_done"] == 0
    assert response.headers["Location"] == f"/v1/imports/{queued['id']}"
    work(app, queued["id"])
    done = sam.get(f"/v1/imports/{queued['id']}").get_json()

    assert done["status"] == "done" and done["progress"] == {"files_total": 1, "files_done": 1}
    assert done["runs_created"] == 1 and done["files_failed"] == 0
    (the_run,) = runs_of(sam)
    assert done["files"][0]["checkin_ids"] == [the_run["id"]]
    assert the_run["started_at"] == "2024-04-14T06:30:00Z"
    assert the_run["local_date"] == "2024-04-14"
    assert the_run["duration_s"] == 3600, "ten steps of six minutes"
    expected_m = haversine_m(51.0, 51.1)  # 0.1 degree of latitude north, about 11.1 km
    assert abs(the_run["distance_m"] - expected_m) / expected_m < 0.01, the_run["distance_m"]
    assert the_run["sport"] == "running" and the_run["import_id"] == queued["id"]


def test_a_fit_file_gives_the_watchs_own_time_distance_sport_and_surface(app, client):
    sam = sign_up(client)
    done = imported(app, sam, "2024-04-14-trail.fit",
                    fit(Session(SPRING, elapsed_s=3001.4, distance_m=10_012.34,
                                sport="running", sub_sport="trail")))

    assert done["status"] == "done" and done["runs_created"] == 1, done
    (the_run,) = runs_of(sam)
    assert (the_run["started_at"], the_run["duration_s"], the_run["distance_m"]) == (
        "2024-04-14T06:30:00Z", 3001, 10_012)
    assert (the_run["sport"], the_run["surface"]) == ("running", "trail")


def test_a_tcx_run_is_imported_and_the_bike_ride_beside_it_skipped_and_counted(app, client):
    sam = sign_up(client)
    done = imported(app, sam, "week.tcx", tcx(
        ("Running", SPRING, [(600.0, 2000.0), (620.0, 2000.4)]),
        ("Biking", SPRING + timedelta(days=1), [(3600.0, 30_000.0)]),
    ))

    assert (done["runs_created"], done["non_running_skipped"]) == (1, 1), done
    (the_run,) = runs_of(sam)
    assert (the_run["duration_s"], the_run["distance_m"], the_run["sport"]) == (
        1220, 4000, "Running")


def test_a_strava_gpx_names_a_run_by_number_and_a_ride_is_skipped(app, client):
    sam = sign_up(client)
    done = imported(app, sam, "strava.zip", zipped({
        "run.gpx": gpx(SPRING, sport="9"), "ride.gpx": gpx(SPRING + timedelta(days=2), sport="1")}))
    assert (done["runs_created"], done["non_running_skipped"]) == (1, 1), done["files"]


def test_a_fit_ride_or_walk_is_skipped_and_counted(app, client):
    sam = sign_up(client)
    done = imported(app, sam, "ride.fit", fit(Session(SPRING, 3600, 25_000, sport="cycling"),
                                              Session(SPRING, 1800, 2_000, sport="walking")))
    assert (done["runs_created"], done["non_running_skipped"]) == (0, 2)
    assert runs_of(sam) == []


def test_a_zip_of_history_imports_every_file_in_it_with_progress(app, client):
    sam = sign_up(client)
    history = zipped({
        "export/2024-04-14.gpx": gpx(SPRING),
        "export/2024-04-16.fit": fit(Session(SPRING + timedelta(days=2), 2400, 7000)),
        "export/2024-04-18.tcx": tcx(("Running", SPRING + timedelta(days=4), [(1800, 5000)])),
        "export/2024-04-20.fit.gz": gzip.compress(
            fit(Session(SPRING + timedelta(days=6), 3000, 9000))),
        "__MACOSX/export/._2024-04-14.gpx": b"\x00\x05\x16\x07",
    }, compression=zipfile.ZIP_DEFLATED)
    done = imported(app, sam, "history.zip", history)

    assert done["progress"] == {"files_total": 4, "files_done": 4}, "macOS clutter is not a file"
    assert done["runs_created"] == 4 and done["files_failed"] == 0, done["files"]
    assert [the_run["distance_m"] for the_run in runs_of(sam)][1:] == [7000, 5000, 9000]


def test_the_same_file_imported_twice_creates_nothing_the_second_time(app, client):
    sam = sign_up(client)
    history = zipped({"a.gpx": gpx(SPRING), "b.fit": fit(Session(SPRING + timedelta(days=1),
                                                                 2400, 7000))})
    first = imported(app, sam, "history.zip", history)
    second = imported(app, sam, "history.zip", history)
    one_inside = imported(app, sam, "b.fit", fit(Session(SPRING + timedelta(days=1), 2400, 7000)))

    assert first["runs_created"] == 2
    assert (second["runs_created"], second["duplicate_files"]) == (0, 2)
    assert [f["status"] for f in second["files"]] == ["duplicate", "duplicate"]
    assert (one_inside["runs_created"], one_inside["duplicate_files"]) == (0, 1)
    assert len(runs_of(sam)) == 2


def test_a_run_the_phone_already_recorded_is_a_duplicate_within_60_s_and_2_percent(app, client):
    sam = sign_up(client)
    phone = sam.put("/v1/checkins/6f1c1f1e-0000-4000-8000-000000000001",
                    json=run(started_at="2024-04-14T06:30:30+00:00", distance_m=10_000,
                             duration_s=3000))
    assert phone.status_code == 201
    watch = fit(
        Session(SPRING, 3000, 10_150),  # 30 s earlier, 1.5 % longer: the same run
        Session(SPRING - timedelta(seconds=31), 3000, 10_000),  # 61 s before the phone's: not
        Session(SPRING + timedelta(seconds=10), 3000, 10_300),  # 3 % longer: another run
    )
    done = imported(app, sam, "three.fit", watch)

    assert (done["runs_created"], done["duplicates_skipped"]) == (2, 1), done["files"]
    assert len(runs_of(sam)) == 3


@pytest.mark.parametrize(("kind", "content"), [
    ("gpx", gpx(SPRING)), ("tcx", tcx(("Running", SPRING, [(1800, 5000)]))),
    ("fit", fit(Session(SPRING, 3000, 10_000))),
    ("gzipped gpx", gzip.compress(gpx(SPRING))), ("zip", zipped({"a.gpx": gpx(SPRING)})),
])
@pytest.mark.parametrize("name", ["blob", ""])
def test_a_file_sent_as_a_browser_blob_is_known_by_its_content(app, client, kind, content, name):
    """A browser names a Blob "blob", some apps send no name: the first bytes say what it is."""
    sam = sign_up(client)
    done = imported(app, sam, name, content)
    assert (done["status"], done["runs_created"]) == ("done", 1), (kind, done["files"])


def test_a_blob_that_is_no_activity_file_is_refused_at_once_naming_the_field(client):
    sam = sign_up(client)
    refused = upload(sam, "blob", b"10k easy, back felt fine")
    assert "content" in assert_problem(refused, 422, "file")["errors"]["file"][0]


BAD_FILES = {
    "cut-short.fit": (fit(Session(SPRING, 3000, 10_000))[:-9], "cut short"),
    "damaged.fit": (fit(Session(SPRING, 3000, 10_000))[:-2] + b"\x00\x00", "checksum"),
    "not-a-watch-file.fit": (b"\x0e\x10garbage that is not FIT", "header"),
    "cut-short.gpx": (gpx(SPRING)[:-40], "not well-formed"),
    "route-without-times.gpx": (gpx(None), "no time stamps"),
    "actually-fit.gpx": (fit(Session(SPRING, 3000, 10_000)), "rename it to .fit"),
    "actually-gpx.fit": (gpx(SPRING), "holds XML"),
    "actually-gpx.tcx": (gpx(SPRING), "rename it to .gpx"),
    "notes.txt": (b"ran 10k", "Not a GPX, TCX or FIT file"),
    "entities.gpx": (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx>&a;</gpx>',
                     "DOCTYPE"),
    "broken.fit.gz": (b"\x1f\x8b\x08\x00 not really gzip", "damaged"),
    "nested.zip": (zipped({"a.gpx": gpx(SPRING)}), "zip inside a zip"),
    "empty.gpx": (b"", "empty"),
}


def test_every_bad_file_gets_its_own_clear_error_and_writes_nothing(app, client):
    sam = sign_up(client)
    files = {name: content for name, (content, _) in BAD_FILES.items()}
    files["good.gpx"] = gpx(SPRING + timedelta(days=30))
    done = imported(app, sam, "mixed.zip", zipped(files))

    assert done["status"] == "done"
    assert (done["runs_created"], done["files_failed"]) == (1, len(BAD_FILES)), done["files"]
    by_name = {entry["name"]: entry for entry in done["files"]}
    for name, (_, words) in BAD_FILES.items():
        entry = by_name[name]
        assert entry["status"] == "failed" and entry["checkin_ids"] == [], entry
        assert words.lower() in entry["error"].lower(), (name, entry["error"])
    assert by_name["good.gpx"]["status"] == "imported"
    assert len(runs_of(sam)) == 1


@pytest.mark.parametrize(("name", "content"), [(n, c) for n, (c, _) in BAD_FILES.items()
                                               if n.endswith((".fit", ".gpx", ".gz"))
                                               and n != "empty.gpx"])
def test_a_bad_file_on_its_own_is_an_error_not_a_500(app, client, name, content):
    sam = sign_up(client)
    done = imported(app, sam, name, content)
    assert done["status"] == "done" and done["files_failed"] == 1
    assert done["files"][0]["error"] and runs_of(sam) == []


def test_a_file_whose_every_run_is_refused_is_a_failed_file(app, client):
    sam = sign_up(client)
    tomorrow = datetime.now(UTC) + timedelta(days=3)  # a watch whose clock is days ahead
    done = imported(app, sam, "ahead.gpx", gpx(tomorrow))
    (entry,) = done["files"]
    assert (entry["status"], done["files_failed"], done["runs_created"]) == ("failed", 1, 0)
    assert "could be imported" in entry["error"] and entry["rejected"], entry
    assert runs_of(sam) == []


def test_a_run_the_athlete_deleted_is_not_brought_back_and_its_file_is_no_failure(app, client):
    sam = sign_up(client)
    content = gpx(SPRING)
    (run_id,) = imported(app, sam, "a.gpx", content)["files"][0]["checkin_ids"]
    assert sam.delete(f"/v1/checkins/{run_id}").status_code == 204
    with app.extensions["backstride"].session_factory() as session:
        # As when the same file is in two imports at once: the file is read again.
        session.execute(delete(ImportedFile))
        session.commit()

    again = imported(app, sam, "a.gpx", content)
    (entry,) = again["files"]
    assert entry["status"] == "imported" and again["files_failed"] == 0, entry
    assert "You deleted this run" in entry["rejected"][0]["detail"]
    assert runs_of(sam) == []


def test_a_zip_bomb_is_refused_whole(app, client):
    sam = sign_up(client)
    many = zipped({f"run-{n}.gpx": gpx(SPRING + timedelta(days=n)) for n in range(101)})
    # 2 MB of blanks in a valid GPX deflates to a few kilobytes: far over 20 times.
    blown = zipped({"big.gpx": gpx(SPRING)[:-6] + b" " * 2_000_000 + b"</gpx>"},
                   compression=zipfile.ZIP_DEFLATED)

    too_many = imported(app, sam, "many.zip", many)
    too_big = imported(app, sam, "blown.zip", blown)

    assert too_many["status"] == "failed" and "at most 100" in too_many["error"]
    assert too_big["status"] == "failed" and "20 times" in too_big["error"]
    assert too_big["files"][0]["error"] == too_big["error"]
    assert runs_of(sam) == []


def test_a_gzip_bomb_is_refused(app, client):
    sam = sign_up(client)
    done = imported(app, sam, "run.gpx.gz", gzip.compress(gpx(SPRING) + b" " * 3_000_000))
    assert done["files_failed"] == 1 and "bomb" in done["files"][0]["error"]


def test_a_damaged_zip_is_refused_whole(app, client):
    sam = sign_up(client)
    history = zipped({"a.gpx": gpx(SPRING)})
    done = imported(app, sam, "history.zip", history[: len(history) // 2])
    assert done["status"] == "failed" and "not a zip" in done["error"]


@pytest.mark.parametrize(("name", "content", "status"), [
    ("notes.pdf", b"%PDF-1.7", 422),
    ("run.gpx", b"", 422),
])
def test_an_upload_that_cannot_be_activity_files_is_refused_at_once(client, name, content,
                                                                    status):
    sam = sign_up(client)
    assert_problem(upload(sam, name, content), status, "file")


def test_an_upload_without_a_file_names_the_field(client):
    sam = sign_up(client)
    response = sam.post("/v1/imports", data={"other": "x"}, content_type="multipart/form-data")
    assert_problem(response, 422, "file")


def test_an_upload_over_the_import_limit_is_413_and_the_limit_is_its_own(database, tmp_path):
    app = create_app(make_settings(database.url, tmp_path, import_max_bytes="4000000"))
    client = app.test_client()
    sam = sign_up(client)
    try:
        three_mb = gpx(SPRING)[:-6] + b" " * 3_000_000 + b"</gpx>"
        assert upload(sam, "big.gpx", three_mb).status_code == 202, "over the API-wide 2 MB"
        too_big = upload(sam, "huge.gpx", three_mb + b" " * 1_100_000)
        assert_problem(too_big, 413, "file")
    finally:
        app.extensions["backstride"].engine.dispose()


def test_another_runner_cannot_read_my_import(app, client):
    sam, ana = sign_up(client), sign_up(client)
    mine = upload(sam, "run.gpx", gpx(SPRING)).get_json()
    assert_problem(ana.get(f"/v1/imports/{mine['id']}"), 404)
    assert [item["id"] for item in sam.get("/v1/imports").get_json()["items"]] == [mine["id"]]


def test_a_worker_killed_halfway_leaves_whole_files_and_the_rerun_doubles_nothing(app, client):
    sam = sign_up(client)
    history = zipped({f"{n}.fit": fit(Session(SPRING + timedelta(days=n), 2400, 7000 + n))
                      for n in range(3)})
    queued = upload(sam, "history.zip", history).get_json()
    factory = app.extensions["backstride"].session_factory

    class Killed(Exception):
        pass

    with factory() as session:
        commits = []

        def commit_then_die():
            session.commit()
            commits.append(1)
            if len(commits) == 3:  # the claim, then two files
                raise Killed

        with pytest.raises(Killed):
            imports.process(session, uuid.UUID(queued["id"]), checkpoint=commit_then_die,
                            max_file_bytes=10**6, weekly_threshold=WEEKLY_JUMP_THRESHOLD)
    halfway = sam.get(f"/v1/imports/{queued['id']}").get_json()
    assert (halfway["status"], halfway["progress"]["files_done"]) == ("running", 2)

    work(app, queued["id"])  # a duplicate task while the first is "alive": does nothing
    assert sam.get(f"/v1/imports/{queued['id']}").get_json()["status"] == "running"
    with factory() as session:
        session.execute(update(Import).values(updated_at=datetime.now(UTC) - timedelta(hours=1)))
        session.commit()
        assert imports.due(session, datetime.now(UTC)) == [uuid.UUID(queued["id"])]
    work(app, queued["id"])

    done = sam.get(f"/v1/imports/{queued['id']}").get_json()
    assert (done["status"], done["runs_created"], done["duplicates_skipped"]) == ("done", 3, 0)
    assert len(runs_of(sam)) == 3
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(ImportUpload)) == 0, \
            "the upload is deleted once read"


def test_a_queued_import_whose_hint_was_lost_is_found_by_the_sweep(app, client):
    sam = sign_up(client)
    queued = upload(sam, "run.gpx", gpx(SPRING)).get_json()
    factory = app.extensions["backstride"].session_factory
    with factory() as session:
        assert imports.due(session, datetime.now(UTC)) == []
        assert imports.due(session, datetime.now(UTC) + timedelta(minutes=2)) == [
            uuid.UUID(queued["id"])]


def test_imported_history_counts_for_load_and_shoes_but_warns_only_about_the_last_week(
        app, client):
    sam = sign_up(client, timezone="Europe/London")
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    pair = sam.post("/v1/shoes", json={
        "name": "Daily trainers", "is_default": True,
        "first_used_on": (today - timedelta(days=40)).date().isoformat()}).get_json()
    month = [Session(today - timedelta(days=d), 2400, 8000) for d in range(30, 3, -2)]
    old = [Session(datetime(2019, 5, d, 7, tzinfo=UTC), 3600, 21_000) for d in (1, 3)]
    spike = Session(today - timedelta(days=1), 5400, 16_000)  # yesterday: twice the month's

    done = imported(app, sam, "watch.zip", zipped({
        "month.fit": fit(*month), "2019.fit": fit(*old), "yesterday.fit": fit(spike)}))

    assert done["runs_created"] == len(month) + 3
    shoe = sam.get(f"/v1/shoes/{pair['id']}").get_json()
    assert shoe["distance_m"] == 8000 * len(month) + 16_000, "2019 was before this pair"
    weeks = sam.get("/v1/me/load").get_json()
    assert sum(week["distance_m"] for week in weeks["weeks"]) > 0
    factory = app.extensions["backstride"].session_factory
    with factory() as session:
        warnings = session.scalars(select(Notification).where(
            Notification.kind == "run_spike")).all()
        old_runs = session.scalars(select(Checkin.id).where(
            Checkin.occurred_at < datetime(2020, 1, 1, tzinfo=UTC))).all()
    assert [w.data["run_id"] for w in warnings] == [done["files"][2]["checkin_ids"][0]], \
        "yesterday's spike is advice; 2019's long runs are history"
    assert len(old_runs) == 2


def test_a_run_imported_right_after_it_ended_gets_no_stretch_reminder(app, client):
    sam = sign_up(client)
    ended = datetime.now(UTC) - timedelta(minutes=15)
    imported(app, sam, "just-now.fit", fit(Session(ended - timedelta(minutes=40), 2400, 7000)))
    factory = app.extensions["backstride"].session_factory
    with factory() as session:
        result = reminders.sweep(session, datetime.now(UTC))
    assert (result.reminders, result.evening_nudges) == (0, 0)

