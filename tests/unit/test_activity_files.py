"""The pure rules of an import: what is a run, what is the same run, what a file name promises."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.data import activity_files, imports
from service.domain.data.activity_files import Activity
from tests.support.activity_writers import Session, fit, gpx, zipped

START = datetime(2024, 4, 14, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(("sport", "is_run"), [
    (None, True), ("running", True), ("Running", True), ("trail_running", True),
    ("TrailRun", True), ("cycling", False), ("Biking", False), ("Other", False),
    ("hiking", False), ("walking", False),
])
def test_a_file_without_a_sport_is_a_run_and_a_sport_is_a_run_when_it_says_so(sport, is_run):
    assert Activity(0, START, 60, 100, sport, None).is_run is is_run


@pytest.mark.parametrize(("seconds", "metres", "same"), [
    (0, 10_000, True), (60, 10_000, True), (-60, 10_200, True), (-60, 9_800, True),
    (61, 10_000, False), (0, 10_201, False), (0, 9_799, False),
])
def test_the_same_run_starts_within_60_s_and_is_within_2_percent_of_the_stored_one(
        seconds, metres, same):
    assert imports._same_run(START + timedelta(seconds=seconds), metres, START, 10_000) is same


def test_check_in_ids_are_the_same_for_the_same_file_and_differ_between_athletes():


    sam, ana = uuid.uuid4(), uuid.uuid4()
    assert imports.checkin_id(sam, "ab" * 32, 0) == imports.checkin_id(sam, "ab" * 32, 0)
    assert imports.checkin_id(sam, "ab" * 32, 0) != imports.checkin_id(ana, "ab" * 32, 0)
    assert imports.checkin_id(sam, "ab" * 32, 0) != imports.checkin_id(sam, "ab" * 32, 1)


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

