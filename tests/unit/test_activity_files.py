"""The pure rules of an import: what is a run, what is the same run, what a file name promises."""

from __future__ import annotations

import gzip
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.data import activity_files, imports
from service.domain.data.activity_files import Activity
from tests.support.activity_writers import (
    Outing,
    Session,
    TcxActivity,
    fit,
    gpx,
    tcx_of,
    zipped,
)

START = datetime(2024, 4, 14, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(("sport", "taken"), [
    ("running", True), ("Running", True), ("trail_running", True), ("TrailRun", True),
    ("cycling", False), ("Biking", False), ("Other", False), ("hiking", False), ("walking", False),
])
def test_an_activity_that_names_its_sport_is_a_run_when_the_sport_says_so(sport, taken):
    verdict = Activity(0, START, 3000, 10_000, sport, None).verdict
    assert (verdict.taken, verdict.reason) == (
        (True, "sport") if taken else (False, "not_a_run")), verdict


@pytest.mark.parametrize(("seconds", "metres", "taken"), [
    (3300, 10_000, True),  # 5:30 min/km
    (2000, 10_000, True),  # 3:20 min/km: the fastest a sportless run may be
    (6000, 10_000, True),  # 10:00 min/km: the slowest
    (1999, 10_000, False),  # faster: a ride
    (3818, 21_000, False),  # 19.8 km/h: a ride
    (6001, 10_000, False),  # slower: a walk
    (4500, 2_500, False),  # 2.5 km in 75 minutes: a swim
])
def test_an_activity_without_a_sport_is_a_run_only_at_a_running_pace(seconds, metres, taken):
    verdict = Activity(0, START, seconds, metres, None, None).verdict
    assert verdict.taken is taken, verdict
    assert verdict.reason == "pace" and "min/km" in verdict.detail


def test_a_sportless_pace_is_judged_on_moving_time_when_it_is_known():
    paused = Activity(0, START, 7200, 10_000, None, None, moving_s=3300)
    guessed = Activity(0, START, 7200, 10_000, None, None, moving_guess_s=3300)
    assert paused.verdict.taken and guessed.verdict.taken
    assert not Activity(0, START, 7200, 10_000, None, None).verdict.taken


@pytest.mark.parametrize(("seconds", "metres"), [(59, 300), (300, 99), (8, 35)])
def test_a_few_seconds_or_a_few_metres_are_a_fragment_not_a_run(seconds, metres):
    verdict = Activity(0, START, seconds, metres, "running", None).verdict
    assert (verdict.taken, verdict.reason) == (False, "fragment"), verdict


@pytest.mark.parametrize(("seconds", "metres", "same"), [
    (0, 10_000, True), (60, 10_000, True), (-60, 10_200, True), (-60, 9_800, True),
    (61, 10_000, False), (0, 10_201, False), (0, 9_799, False),
])
def test_the_same_run_starts_within_60_s_and_is_within_2_percent_of_the_stored_one(
        seconds, metres, same):
    assert imports._same_run(START + timedelta(seconds=seconds), metres, START, 10_000) is same


def test_check_in_ids_are_the_same_for_the_same_file_and_differ_between_athletes():
    key = b"k" * 32
    sam, ana = uuid.uuid4(), uuid.uuid4()
    assert imports.checkin_id(key, sam, "ab" * 32, 0) == imports.checkin_id(key, sam, "ab" * 32, 0)
    assert imports.checkin_id(key, sam, "ab" * 32, 0) != imports.checkin_id(key, ana, "ab" * 32, 0)
    assert imports.checkin_id(key, sam, "ab" * 32, 0) != imports.checkin_id(key, sam, "ab" * 32, 1)
    assert imports.checkin_id(key, sam, "ab" * 32, 0).version == 8


def test_check_in_ids_cannot_be_worked_out_without_the_servers_key():
    """Issue B.10: they were uuid5 of athlete, file hash and index, which anyone who knows the
    athlete's id and has the file can compute, and PUT first."""
    sam = uuid.uuid4()
    guessed = uuid.uuid5(uuid.UUID("5b0f4c1e-6d0a-4f59-9a53-0e4b7a1d2c3f"), f"{sam}:{'ab' * 32}:0")
    ours = imports.checkin_id(b"k" * 32, sam, "ab" * 32, 0)
    assert ours != guessed
    assert ours != imports.checkin_id(b"another server's key " * 2, sam, "ab" * 32, 0)


def test_a_zip_named_otherwise_is_refused_with_a_hint():
    with pytest.raises(activity_files.Unreadable, match=r"name it \.zip"):
        activity_files.open_upload("history.gpx", zipped({"a.gpx": gpx(START)}), 10**6)


def test_a_zips_entries_are_counted_before_any_is_read():
    count, members = activity_files.open_upload(
        "h.zip", zipped({"a.gpx": gpx(START), "b.fit": fit(Session(START, 60, 200)),
                         "folder/": b"", "folder/.DS_Store": b"x"}), 10**6)
    assert count == 2
    assert [member.name for member in members] == ["a.gpx", "b.fit"]


def test_a_file_larger_than_the_limit_unpacked_is_refused_on_its_own():
    _, members = activity_files.open_upload(
        "h.zip", zipped({"big.gpx": gpx(START, points=400), "small.fit":
                         fit(Session(START, 60, 200))}), 20_000)
    big, small = members
    assert "larger than 20000 bytes" in big.error and small.content



def test_what_an_upload_unpacks_to_is_counted_while_it_streams_and_bounded_in_all():
    """Declared sizes are a bound for the zip's own entries; a .gz inside one is counted as it
    unpacks, and once the upload's total is spent the files after it are refused."""
    text = gpx(START, points=2000)  # about 150 KB that gzip packs some 20 times
    upload = zipped({f"{n}.gpx.gz": gzip.compress(text) for n in range(3)})
    _, members = activity_files.open_upload("h.zip", upload, 10**6,
                                            max_total_bytes=2 * len(text) + 50_000)
    first, second, third = members
    assert first.content == text and second.content == text
    assert third.content is None and "in all" in third.error

    with pytest.raises(activity_files.Unreadable, match="in all"):
        activity_files.open_upload("h.zip", zipped({"a.gpx": text, "b.gpx": text}), 10**6,
                                   max_total_bytes=len(text))


def test_a_file_is_refused_as_a_bomb_only_far_above_what_text_formats_reach():
    real = tcx_of(TcxActivity(Outing(START, km=21.1, pace_s_per_km=330, step_s=1), extras=True),
                  indent=True)  # as Polar writes it: 3.4 MB
    blanks = gpx(START)[:-6] + b" " * 5_000_000 + b"</gpx>"
    assert len(real) / len(gzip.compress(real)) > 20
    _, members = activity_files.open_upload(
        "h.zip", zipped({"real.tcx": real, "blanks.gpx": blanks}, zipfile.ZIP_DEFLATED), 10**7)
    fine, bomb = members
    assert fine.content == real and "possible zip bomb" in bomb.error
    assert len(activity_files.read(fine.name, fine.content).activities) == 1
