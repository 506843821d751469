"""A runner brings years of runs in from their watch and other apps: files in, runs out, once."""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import uuid
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from service.api import create_app
from service.config import WEEKLY_JUMP_THRESHOLD
from service.domain.data import imports
from service.domain.stretch import reminders
from service.models import Checkin, Import, ImportedFile, ImportUpload, Notification
from tests.conftest import SECRET, make_settings
from tests.support.activity_writers import (
    Outing,
    Session,
    TcxActivity,
    Track,
    fit,
    fit_chain,
    gpx,
    gpx_of,
    split_track,
    tcx,
    tcx_of,
    track_of,
    zipped,
    zipped_deflated,
)
from tests.support.runners import assert_problem, run, sign_up

SPRING = datetime(2024, 4, 14, 6, 30, tzinfo=UTC)


def upload(runner, name, content):
    return runner.post("/v1/imports", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def work(app, import_id=None, **options):
    """What the `imports.process` task does, for one import or every queued one."""
    factory = app.extensions["backstride"].session_factory
    settings = app.extensions["backstride"].settings
    options = {"max_file_bytes": settings.import_max_bytes,
               "weekly_threshold": settings.weekly_jump_threshold,
               "id_key": settings.secret_key.encode(), "limits": limits(settings), **options}
    with factory() as session:
        ids = [import_id] if import_id else session.scalars(
            select(Import.id).where(Import.status == "queued")).all()
        for ident in ids:
            imports.process(session, uuid.UUID(str(ident)), checkpoint=session.commit, **options)


def limits(settings):
    return imports.Limits(activities_per_file=settings.import_max_activities_per_file,
                          activities_per_import=settings.import_max_activities,
                          attempts=settings.import_max_attempts)


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
    "cut-short.gpx": (gpx(SPRING)[:-40], "cut short"),
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


def test_a_zip_of_too_many_entries_is_refused_whole_and_a_bomb_inside_one_on_its_own(
        app, client):
    sam = sign_up(client)
    many = zipped({f"run-{n}.gpx": gpx(SPRING + timedelta(days=n)) for n in range(101)})
    # 2 MB of blanks in a valid GPX deflates to a few kilobytes: a thousand times, where real
    # activity files reach 44.
    blown = zipped({"big.gpx": gpx(SPRING)[:-6] + b" " * 2_000_000 + b"</gpx>",
                    "run.gpx": gpx(SPRING + timedelta(days=1))},
                   compression=zipfile.ZIP_DEFLATED)

    too_many = imported(app, sam, "many.zip", many)
    too_big = imported(app, sam, "blown.zip", blown)

    assert too_many["status"] == "failed" and "at most 100" in too_many["error"]
    assert too_many["files"][0]["error"] == too_many["error"]
    bomb, fine = too_big["files"]
    assert (too_big["status"], too_big["files_failed"], too_big["runs_created"]) == (
        "done", 1, 1), too_big
    assert bomb["status"] == "failed" and "possible zip bomb" in bomb["error"], bomb
    assert fine["status"] == "imported"
    assert len(runs_of(sam)) == 1


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
                            max_file_bytes=10**6, weekly_threshold=WEEKLY_JUMP_THRESHOLD,
                            id_key=SECRET.encode())
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



# --- One rule for every format (issue A) -------------------------------------------------------

# A 10 km run at 5:30 min/km with a 95 s stop in its first lap and a 40 s one in its last; the
# watch started it at 06:30:27, so Garmin Connect's TCX <Id> says 06:30:00.
PAUSED = Outing(SPRING + timedelta(seconds=27), km=10, pace_s_per_km=330,
                pauses=((120, 95), (3150, 40)))


def close_to(value, expected, percent):
    return abs(value - expected) <= expected * percent / 100


@pytest.mark.parametrize(("name", "content", "moving_s"), [
    ("run.fit", PAUSED.fit(), 3300),
    ("run.gpx", gpx_of(track_of(PAUSED)), None),
    ("strava.gpx", gpx_of(track_of(PAUSED, one_segment=True)), None),
    ("run.tcx", tcx_of(PAUSED), 3300),
])
def test_the_same_run_as_fit_gpx_or_tcx_stores_the_same_start_distance_and_duration(
        app, client, name, content, moving_s):
    sam = sign_up(client)
    done = imported(app, sam, name, content)
    (the_run,) = runs_of(sam)
    started = datetime.fromisoformat(the_run["started_at"])
    assert abs((started - PAUSED.start).total_seconds()) <= 1, the_run["started_at"]
    assert close_to(the_run["distance_m"], PAUSED.distance_m, 1), the_run["distance_m"]
    assert close_to(the_run["duration_s"], PAUSED.elapsed_s, 1), "elapsed, pauses included"
    assert the_run["moving_s"] == moving_s, "moving time only where the file says it"
    assert done["files"][0]["taken"][0]["moving_s"] == moving_s


def polar_tcx(km=21.1, step_s=1, start=SPRING):
    """A Polar-style TCX: a point a second with position, altitude, heart rate, cadence and
    speed, one element a line, indented; 21 km of it is 3.4 MB, and deflates some 22 times."""
    return tcx_of(TcxActivity(Outing(start, km=km, pace_s_per_km=330, step_s=step_s),
                              extras=True), indent=True)


def compression(packed, unpacked):
    return unpacked / len(packed)


def test_real_exports_that_compress_well_are_not_refused_as_zip_bombs(app, client):
    """Issue A.1: TCX and GPX deflate 27 to 44 times; the 20-times guard refused them."""
    sam = sign_up(client)
    one = polar_tcx()
    polar = zipped_deflated({"polar.tcx": one})
    dozen_files = {f"tcx/{n}.tcx": polar_tcx(km=8, step_s=2, start=SPRING + timedelta(days=n))
                   for n in range(1, 13)}
    dozen = zipped_deflated(dozen_files)
    garmin_files = {"activity.fit": Outing(SPRING + timedelta(days=20), 10, 330).fit(),
                    "activity.tcx": polar_tcx(km=15, start=SPRING + timedelta(days=21))}
    garmin = zipped_deflated(garmin_files)
    gzipped = gzip.compress(polar_tcx(km=12, start=SPRING + timedelta(days=30)))
    assert len(one) > 3_300_000
    assert compression(polar, len(one)) > 20
    assert compression(dozen, sum(map(len, dozen_files.values()))) > 20
    assert compression(garmin, sum(map(len, garmin_files.values()))) > 20
    assert compression(gzipped, len(gzip.decompress(gzipped))) > 20

    results = [imported(app, sam, name, content) for name, content in [
        ("polar.zip", polar), ("dozen.zip", dozen), ("garmin-export.zip", garmin),
        ("run.tcx.gz", gzipped)]]

    assert [(r["status"], r["files_failed"], r["runs_created"]) for r in results] == [
        ("done", 0, 1), ("done", 0, 12), ("done", 0, 2), ("done", 0, 1)], \
        [file["error"] for r in results for file in r["files"]]


def test_a_tcx_with_pauses_is_elapsed_time_start_to_finish_and_moving_time_its_laps(
        app, client):
    """Issue A.2: last lap's start + its TotalTimeSeconds lost the pauses of the last lap only."""
    sam = sign_up(client)
    imported(app, sam, "paused.tcx", tcx_of(TcxActivity(PAUSED, id_to_minute=False)))
    (the_run,) = runs_of(sam)
    assert (the_run["duration_s"], the_run["moving_s"]) == (3300 + 95 + 40, 3300)


def test_a_tcx_distance_is_its_trackpoints_when_a_lap_summary_is_wrong(app, client):
    """Issue A.3: a Suunto's last lap says 1,002 m while its trackpoints run from 1,000 m to
    2,919 m; the laps' sum stored 1,999 m."""
    sam = sign_up(client)
    suunto = TcxActivity(Outing(SPRING, km=2.919, pace_s_per_km=330), lap_ends_m=[1000, 2919],
                         lap_metres=[997, 1002])
    imported(app, sam, "suunto.tcx", tcx_of(suunto))
    (the_run,) = runs_of(sam)
    assert the_run["distance_m"] == 2919


def test_a_tcx_without_trackpoint_distances_falls_back_to_its_laps(app, client):
    sam = sign_up(client)
    laps_only = TcxActivity(Outing(SPRING, km=3, pace_s_per_km=330), point_distances=False,
                            lap_metres=[1000, 1000, 1010])
    imported(app, sam, "laps.tcx", tcx_of(laps_only))
    assert runs_of(sam)[0]["distance_m"] == 3010


def test_a_tcx_whose_trackpoints_count_on_from_an_earlier_activity_is_its_own_distance(
        app, client):
    """A Forerunner 310XT's trackpoints ran 42,013.9 to 42,292.9 m in a 299 m lap: stored as
    42,293 m, then refused as faster than 2:00 min/km. The distance counts from the first
    reading, and the laps' sum stands in for what was run before it."""
    sam = sign_up(client)
    carried = TcxActivity(Outing(SPRING, km=3, pace_s_per_km=330), odometer_m=42013.9)
    done = imported(app, sam, "310xt.tcx", tcx_of(carried))
    assert done["runs_created"] == 1, done["files"]
    assert runs_of(sam)[0]["distance_m"] == 3000


def test_a_tcx_whose_points_stop_before_its_laps_takes_time_and_distance_from_the_laps(
        app, client):
    """Trackpoints for the first 10 minutes of an hour's laps (a file trimmed): the time came
    from the laps (3,600 s) and the distance from the points (2,000 m), a 30:00 min/km run."""
    sam = sign_up(client)
    trimmed = TcxActivity(Outing(SPRING, km=10, pace_s_per_km=360), points_until_s=600)
    imported(app, sam, "trimmed.tcx", tcx_of(trimmed))
    (the_run,) = runs_of(sam)
    assert (the_run["duration_s"], the_run["distance_m"]) == (3600, 10000)


def test_a_tcx_of_sport_other_is_judged_by_its_pace(app, client):
    """TCX names only Running, Biking and Other: Other is a sport it has no name for, a trail
    run as much as a swim, so its pace decides."""
    sam = sign_up(client)
    trail = TcxActivity(Outing(SPRING, km=12, pace_s_per_km=390), sport="Other")
    swim = TcxActivity(Outing(SPRING + timedelta(days=1), km=1.5, pace_s_per_km=1200, step_s=20),
                       sport="Other")
    done = imported(app, sam, "other.zip", zipped({"trail.tcx": tcx_of(trail),
                                                   "swim.tcx": tcx_of(swim)}))
    assert done["runs_created"] == 1, done["files"]
    assert runs_of(sam)[0]["distance_m"] == 12000


def test_a_tcx_starts_at_its_first_lap_not_at_an_id_garmin_cut_to_the_minute(app, client):
    """Issue A.4: <Id> 06:30:00 for a run started at 06:30:27 (the FIT twin says 06:30:27)."""
    sam = sign_up(client)
    imported(app, sam, "garmin.tcx", tcx_of(TcxActivity(PAUSED, id_to_minute=True)))
    assert runs_of(sam)[0]["started_at"] == "2024-04-14T06:30:27Z"


def test_a_gpx_without_a_sport_is_a_run_only_at_a_running_pace(app, client):
    """Issue A.5: a 2.5 km swim over 75 minutes and a 21 km ride at 19.8 km/h became runs."""
    sam = sign_up(client)
    swim = Outing(SPRING, km=2.5, pace_s_per_km=1800, step_s=30)
    ride = Outing(SPRING + timedelta(days=1), km=21, pace_s_per_km=3600 / 19.8, step_s=10)
    jog = Outing(SPRING + timedelta(days=2), km=8, pace_s_per_km=400, step_s=10)
    done = imported(app, sam, "no-sport.zip", zipped({
        "swim.gpx": gpx_of(track_of(swim, None)), "ride.gpx": gpx_of(track_of(ride, None)),
        "jog.gpx": gpx_of(track_of(jog, None))}))

    assert (done["runs_created"], done["non_running_skipped"]) == (1, 2), done["files"]
    swum, rode, jogged = done["files"]
    assert swum["skipped"][0]["reason"] == "pace" and "30:00 min/km" in \
        swum["skipped"][0]["detail"]
    assert rode["skipped"][0]["reason"] == "pace" and "19.8 km/h" in rode["skipped"][0]["detail"]
    (taken,) = jogged["taken"]
    assert taken["taken_by"] == "pace" and "6:40 min/km" in taken["detail"], taken
    assert runs_of(sam)[0]["sport"] is None


def test_tracks_of_one_outing_are_one_run_and_fragments_are_not_runs(app, client):
    """Issue A.6: GPSBabel wrote one outing as eight tracks (three under 35 m): seven runs."""
    sam = sign_up(client)
    outing = Outing(SPRING, km=6, pace_s_per_km=330, step_s=5)
    pieces = split_track(track_of(outing, None), [60, 2, 100, 3, 80, 2, 50])
    stray = Track([Outing(SPRING + timedelta(hours=3), km=0.02, pace_s_per_km=400,
                          step_s=4).points()], None)
    assert len(pieces) == 8 and sum(len(p.segments[0]) < 4 for p in pieces) == 3
    done = imported(app, sam, "gpsbabel.gpx", gpx_of(*pieces, stray, creator="GPSBabel"))

    (entry,) = done["files"]
    assert done["runs_created"] == 1, entry
    (the_run,) = runs_of(sam)
    assert the_run["started_at"] == "2024-04-14T06:30:00Z"
    assert close_to(the_run["duration_s"], outing.elapsed_s, 1)
    assert close_to(the_run["distance_m"], outing.distance_m, 2), "the gaps between tracks aside"
    assert [(s["index"], s["reason"]) for s in entry["skipped"]] == [(8, "fragment")]


def test_a_track_without_times_is_skipped_and_the_timed_tracks_are_imported(app, client):
    """Issue A.7: one untimed track failed the whole GPX ("This GPX has no time stamps")."""
    sam = sign_up(client)
    monday, tuesday = (Outing(SPRING + timedelta(days=d), km=5, pace_s_per_km=330)
                       for d in (0, 1))
    done = imported(app, sam, "mixed.gpx", gpx_of(
        track_of(monday), track_of(Outing(SPRING, 3, 330), timed=False), track_of(tuesday)))
    (entry,) = done["files"]
    assert (entry["status"], done["runs_created"]) == ("imported", 2), entry
    assert [(s["index"], s["reason"]) for s in entry["skipped"]] == [(1, "untimed")]


@pytest.mark.parametrize("chain", [
    ("activity", "settings"), ("settings", "activity"), ("monitoring_b", "activity", "activity")])
def test_a_fit_chain_is_judged_by_the_sessions_of_every_file_in_it(app, client, chain):
    """Issue A.8: an activity chained with a settings file was refused as "a settings"."""
    sam = sign_up(client)
    days = iter(range(10))
    files = [Outing(SPRING + timedelta(days=next(days)), 5, 330).fit() if kind == "activity"
             else fit(file_type=kind) for kind in chain]
    done = imported(app, sam, "chained.fit", fit_chain(*files))
    assert (done["files_failed"], done["runs_created"]) == (0, chain.count("activity")), \
        done["files"]


def test_a_tcx_with_blanks_before_its_xml_declaration_is_read(app, client):
    """Issue A.9: a Polar V800 writes a line break and blanks before `<?xml`."""
    sam = sign_up(client)
    done = imported(app, sam, "v800.tcx", tcx_of(PAUSED, before="\r\n   "))
    assert (done["files_failed"], done["runs_created"]) == (0, 1), done["files"]


@pytest.mark.parametrize(("name", "content", "words", "not_words"), [
    ("monitor.fit", fit(file_type="monitoring_b"), "all-day monitoring", "monitoring_b"),
    ("settings.fit", fit(file_type="settings"), "the watch's settings", "is a settings"),
])
def test_a_fit_file_that_is_no_activity_says_so_in_a_runners_words(app, client, name, content,
                                                                   words, not_words):
    """Issue A.10: "This FIT file is a monitoring_b, not a recorded activity"."""
    sam = sign_up(client)
    (entry,) = imported(app, sam, name, content)["files"]
    assert words in entry["error"] and not_words not in entry["error"], entry["error"]
    assert "Activity folder" in entry["error"]


def test_a_gpx_with_stravas_undeclared_gpxdata_prefix_is_read(app, client):
    """Issue A.10: Strava writes `gpxdata:hr` without declaring `gpxdata`; it was reported as
    "not well-formed XML: it may be cut short"."""
    sam = sign_up(client)
    strava = gpx_of(track_of(PAUSED, "9", one_segment=True), extensions="strava", declare=False)
    garmin = gpx_of(track_of(PAUSED, "running"), extensions="garmin")
    done = imported(app, sam, "strava.gpx", strava)
    again = imported(app, sign_up(client), "garmin.gpx", garmin)
    assert (done["files_failed"], done["runs_created"]) == (0, 1), done["files"]
    assert (again["files_failed"], again["runs_created"]) == (0, 1), again["files"]


def test_stravas_type_numbers_are_stored_by_name_and_a_tcx_without_positions_is_a_treadmill(
        app, client):
    """Issue A.11: `sport: "9"` was stored raw, and TCX imports never had a surface."""
    sam = sign_up(client)
    runs = [Outing(SPRING + timedelta(days=d), km=5, pace_s_per_km=330) for d in range(3)]
    done = imported(app, sam, "history.zip", zipped({
        "strava.gpx": gpx_of(track_of(runs[0], "9")),
        "treadmill.tcx": tcx_of(TcxActivity(runs[1], positions=False)),
        "outdoors.tcx": tcx_of(runs[2]),
        "ride.gpx": gpx_of(track_of(Outing(SPRING, km=20, pace_s_per_km=150), "1")),
    }))
    assert done["runs_created"] == 3, done["files"]
    assert [(r["sport"], r["surface"]) for r in runs_of(sam)] == [
        ("running", None), ("Running", "treadmill"), ("Running", None)]
    assert done["files"][3]["skipped"][0]["detail"] == "Recorded as cycling, not a run."


def test_the_result_says_for_each_file_what_was_taken_and_what_was_skipped_and_why(app, client):
    sam = sign_up(client)
    phone = sam.put("/v1/checkins/6f1c1f1e-0000-4000-8000-000000000002",
                    json=run(started_at="2024-04-20T06:30:10+00:00", distance_m=5000,
                             duration_s=1650))
    assert phone.status_code == 201
    fits = fit(Outing(SPRING, 5, 330).session(),
               Outing(SPRING + timedelta(days=1), 20, 150).session(sport="cycling"),
               Session(SPRING + timedelta(days=2), 20, 30),
               Outing(SPRING + timedelta(days=6), 5, 330).session())
    done = imported(app, sam, "history.zip", zipped({
        "watch.fit": fits, "cut.fit": fits[:-9],
        "swim.gpx": gpx_of(track_of(Outing(SPRING + timedelta(days=3), 2.5, 1800, step_s=30),
                                    None))}))

    watch, cut, swim = done["files"]
    assert [(t["index"], t["taken_by"], t["detail"]) for t in watch["taken"]] == [
        (0, "sport", "Recorded as running.")]
    assert watch["taken"][0]["checkin_id"] == watch["checkin_ids"][0]
    assert [(s["index"], s["reason"]) for s in watch["skipped"]] == [
        (1, "not_a_run"), (2, "fragment"), (3, "duplicate")]
    assert "not a run" in watch["skipped"][0]["detail"]
    assert "fragment" in watch["skipped"][1]["detail"]
    assert "stored already" in watch["skipped"][2]["detail"]
    assert watch["skipped"][2]["started_at"] == "2024-04-20T06:30:00Z"
    assert (watch["duplicates_skipped"], watch["non_running_skipped"]) == (1, 2)
    assert cut["status"] == "failed" and "cut short" in cut["error"]
    assert swim["skipped"][0]["reason"] == "pace" and "swim" in swim["skipped"][0]["detail"]
    assert (done["runs_created"], done["duplicates_skipped"], done["non_running_skipped"]) == (
        1, 1, 3)


# --- Bounds, endings and ids (issue B) ---------------------------------------------------------

def year_one_gpx(hour):
    points = "".join(f'<trkpt lat="{51 + n * 0.002:.4f}" lon="0"><time>0001-01-01T{hour:02d}:'
                     f"{n:02d}:00Z</time></trkpt>" for n in range(30))
    return ('<?xml version="1.0"?><gpx version="1.1" creator="a watch whose clock was never set" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>'
            f"{points}</trkseg></trk></gpx>").encode()


@pytest.mark.parametrize(("hour", "timezone"), [(0, "UTC"), (6, "UTC"), (3, "America/New_York")])
def test_a_run_dated_year_1_is_refused_with_its_reason_and_the_import_ends(
        app, client, hour, timezone):
    """Issue B.3: 0001-01-01T00:00:00Z overflowed in the worker (the import stayed `running`,
    sent again every 10 minutes); at 06:00 it stored a run in year 1."""
    sam = sign_up(client, timezone=timezone)
    done = imported(app, sam, "unset-clock.gpx", year_one_gpx(hour))
    (entry,) = done["files"]
    assert (done["status"], done["runs_created"], entry["status"]) == ("done", 0, "failed")
    (skipped,) = entry["skipped"]
    assert skipped["reason"] == "out_of_range" and "clock" in skipped["detail"], skipped
    assert runs_of(sam) == []


@contextmanager
def app_with(database, tmp_path, **settings):
    app = create_app(make_settings(database.url, tmp_path, **settings))
    try:
        yield app, app.test_client()
    finally:
        app.extensions["backstride"].engine.dispose()


def days_of_runs(count, first=SPRING):
    return [Outing(first + timedelta(days=n), 5, 330).session() for n in range(count)]


def test_a_file_with_more_activities_than_a_file_may_hold_is_refused_whole(database, tmp_path):
    """Issue B.4: one TCX of 16,000 activities made 16,000 check-ins."""
    with app_with(database, tmp_path, import_max_activities_per_file="5") as (app, client):
        sam = sign_up(client)
        too_many = imported(app, sam, "six.tcx", tcx_of(
            *(Outing(SPRING + timedelta(days=n), 3, 330, step_s=30) for n in range(6))))
        enough = imported(app, sam, "five.fit", fit(*days_of_runs(5)))
    (entry,) = too_many["files"]
    assert entry["status"] == "failed" and "more than 5 activities" in entry["error"], entry
    assert (too_many["runs_created"], enough["runs_created"]) == (0, 5)


def test_an_import_reads_at_most_its_activities_and_says_which_files_to_send_again(
        database, tmp_path):
    with app_with(database, tmp_path, import_max_activities="4") as (app, client):
        sam = sign_up(client)
        done = imported(app, sam, "history.zip", zipped({
            f"{n}.fit": fit(*days_of_runs(2, SPRING + timedelta(days=10 * n))) for n in range(3)}))
    assert done["runs_created"] == 4
    *read, left = done["files"]
    assert [entry["status"] for entry in read] == ["imported", "imported"]
    assert left["status"] == "failed" and "on its own" in left["error"], left


def test_the_duplicate_check_compares_each_run_only_with_the_stored_runs_near_it(
        app, client, monkeypatch):
    """Issue B.4: every run was compared with every stored run of the file's span."""
    sam = sign_up(client)
    imported(app, sam, "old.fit", fit(*days_of_runs(200)))
    comparisons = []
    same_run = imports._same_run
    monkeypatch.setattr(imports, "_same_run",
                        lambda *args: comparisons.append(1) or same_run(*args))
    done = imported(app, sam, "new.fit", fit(*days_of_runs(200, SPRING + timedelta(hours=5))))
    assert done["runs_created"] == 200
    assert len(comparisons) < 200, f"{len(comparisons)} comparisons for 200 runs"


def test_runs_are_stored_in_batches_of_at_most_500_check_ins(app, client, monkeypatch):
    """Issue B.4: one upsert of every run of a file; over 65,535 ids PostgreSQL's parameter
    limit is exceeded by the id lookup."""
    sam = sign_up(client)
    batches = []
    upsert = imports.checkin_writes.upsert
    monkeypatch.setattr(imports.checkin_writes, "upsert",
                        lambda session, athlete, items, *args, **kwargs:
                        batches.append(len(items)) or upsert(session, athlete, items, *args,
                                                             **kwargs))
    done = imported(app, sam, "two-years.fit", fit(*days_of_runs(600)))
    assert done["runs_created"] == 600 and batches == [500, 100]


def test_an_import_whose_worker_dies_every_time_ends_as_failed_after_its_attempts(app, client):
    """Issue B.4: a poison import was sent again every 10 minutes, forever."""
    sam = sign_up(client)
    queued = upload(sam, "history.zip", zipped({
        "a.fit": fit(*days_of_runs(1)), "b.fit": fit(*days_of_runs(1, SPRING + timedelta(1)))}))
    import_id = uuid.UUID(queued.get_json()["id"])
    factory = app.extensions["backstride"].session_factory

    class Died(Exception):
        pass

    def attempt():
        with factory() as session:
            def commit_unless_b_was_read():  # b.fit kills the worker every time
                job = session.get(Import, import_id)
                if job.files and job.files[-1]["name"] == "b.fit":
                    raise Died
                session.commit()

            with pytest.raises(Died):
                imports.process(session, import_id, checkpoint=commit_unless_b_was_read,
                                max_file_bytes=10**6, weekly_threshold=WEEKLY_JUMP_THRESHOLD,
                                id_key=SECRET.encode(), limits=imports.Limits(attempts=3))
            session.rollback()
            session.execute(update(Import).values(
                updated_at=datetime.now(UTC) - timedelta(hours=1)))
            session.commit()

    for _ in range(3):
        attempt()
    assert sam.get(f"/v1/imports/{import_id}").get_json()["status"] == "running"
    work(app, str(import_id), limits=imports.Limits(attempts=3))

    failed = sam.get(f"/v1/imports/{import_id}").get_json()
    assert failed["status"] == "failed", failed
    assert "started 3 times" in failed["error"] and "file 2 of 2" in failed["error"]
    assert failed["runs_created"] == 1, "the file it finished is kept"
    with factory() as session:
        assert imports.due(session, datetime.now(UTC) + timedelta(hours=1)) == []
        assert session.get(ImportUpload, import_id) is None


def test_an_unforeseen_error_in_one_file_costs_that_file_and_the_import_ends(
        app, client, monkeypatch):
    sam = sign_up(client)
    upsert = imports.checkin_writes.upsert
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OverflowError("date value out of range")
        return upsert(*args, **kwargs)

    monkeypatch.setattr(imports.checkin_writes, "upsert", fails_once)
    done = imported(app, sam, "history.zip", zipped({
        "a.fit": fit(*days_of_runs(1)), "b.fit": fit(*days_of_runs(1, SPRING + timedelta(1)))}))
    first, second = done["files"]
    assert done["status"] == "done" and first["status"] == "failed", done
    assert "on our side" in first["error"] and second["status"] == "imported"
    assert len(runs_of(sam)) == 1


def test_another_account_cannot_take_the_id_of_a_run_i_am_about_to_import(app, client):
    """Issue B.10: ids were uuid5("{athlete}:{sha256}:{index}"); knowing the athlete's id and
    the file, anyone could PUT that id first, and the import reported the run rejected."""
    sam, mallory = sign_up(client), sign_up(client)
    content = fit(*days_of_runs(1))
    sha256 = hashlib.sha256(content).hexdigest()
    guessed = uuid.uuid5(uuid.UUID("5b0f4c1e-6d0a-4f59-9a53-0e4b7a1d2c3f"),
                         f"{sam.profile['id']}:{sha256}:0")
    taken = mallory.put(f"/v1/checkins/{guessed}", json=run(
        started_at="2023-01-01T07:00:00+00:00", distance_m=3000, duration_s=1000))
    assert taken.status_code == 201

    done = imported(app, sam, "run.fit", content)
    (entry,) = done["files"]
    assert (done["runs_created"], entry["rejected"]) == (1, []), entry
    assert entry["checkin_ids"] != [str(guessed)]


def test_a_file_imported_again_names_the_same_check_ins(app, client, monkeypatch):
    sam = sign_up(client)
    content = fit(*days_of_runs(3))
    first = imported(app, sam, "runs.fit", content)
    with app.extensions["backstride"].session_factory() as session:
        # As when the same file is in two imports at once: the file is read again...
        session.execute(delete(ImportedFile))
        session.commit()
    # ... and the check by start and distance is not there to catch it: the ids alone must.
    monkeypatch.setattr(imports._Nearby, "holds", lambda *args: False)
    again = imported(app, sam, "runs.fit", content)
    assert again["runs_created"] == 0, "the same ids: the upsert finds them"
    assert [s["reason"] for s in again["files"][0]["skipped"]] == ["duplicate"] * 3
    assert len(runs_of(sam)) == 3 and len(first["files"][0]["checkin_ids"]) == 3
