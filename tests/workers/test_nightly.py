"""The nightly analysis on real databases: the right warnings, once, at a sensible hour."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from service.cli.main import cli
from service.config import WEEKLY_JUMP_THRESHOLD
from service.db import make_engine, make_session_factory
from service.domain.training import nightly
from service.domain.training.rules import Run, Spike, assess_run
from service.models import Checkin, NightlyLog, NightlyState, Notification
from tests.conftest import SECRET
from tests.support.nightly_stories import log_runs, log_runs_at, runner, steady_month

DAY = date(2026, 3, 10)  # a Tuesday
# 03:30 in London on the 11th: the night after DAY has passed.
NIGHT = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
analyse = partial(nightly.analyse, weekly_threshold=WEEKLY_JUMP_THRESHOLD)


@pytest.fixture
def session(database):
    engine = make_engine(database.url)
    with make_session_factory(engine)() as session:
        yield session


def notes(session, athlete=None):
    statement = select(Notification).order_by(Notification.kind)
    if athlete is not None:
        statement = statement.where(Notification.athlete_id == athlete.id)
    return session.scalars(statement).all()


def test_a_long_run_after_a_steady_month_is_a_spike_warning_delivered_after_quiet_hours(session):
    sam = runner(session, "sam@example.org")
    log_runs(session, sam, [*steady_month(DAY, 10_000), (DAY, 14_500)])
    session.commit()

    summary = analyse(session, [sam.id], DAY, NIGHT)
    session.commit()

    (warning,) = notes(session)
    assert warning.kind == "run_spike" and summary.notifications == {"run_spike": 1}
    assert warning.data["class"] == "moderate" and warning.data["percent_longer"] == 45
    assert warning.data["longest_advisable_run_m"] == 11_000
    assert "45% longer" in warning.body and "14.5 km" in warning.body and "11.0 km" in warning.body
    assert "Frandsen" in warning.body
    assert warning.deliver_after == datetime(2026, 3, 11, 7, 0, tzinfo=UTC), "07:00 in London"


def test_running_the_night_twice_writes_nothing_more(session):
    sam = runner(session, "sam@example.org")
    log_runs(session, sam, [*steady_month(DAY, 10_000), (DAY, 14_500)])
    session.commit()

    analyse(session, [sam.id], DAY, NIGHT)
    session.commit()
    again = analyse(session, [sam.id], DAY, NIGHT + timedelta(minutes=15))
    forced = analyse(session, [sam.id], DAY, NIGHT + timedelta(minutes=30), force=True)
    session.commit()

    assert again.athletes == 0, "already analysed: skipped"
    assert forced.athletes == 1 and dict(forced.notifications) == {}, "re-analysed, deduplicated"
    assert len(notes(session)) == 1


def test_a_runner_in_miles_reads_miles(session):
    pat = runner(session, "pat@example.org", timezone="America/Los_Angeles", units="mi")
    log_runs(session, pat, [*steady_month(DAY, 8047), (DAY, 16_093)])
    session.commit()
    analyse(session, [pat.id], DAY, datetime(2026, 3, 11, 11, 0, tzinfo=UTC))
    session.commit()
    spike, week = notes(session)  # 20 miles after 15 is a weekly caution too
    assert "10.0 mi" in spike.body and "5.0 mi" in spike.body
    assert "20.0 mi" in week.body and "15.0 mi" in week.body
    assert not any(" km" in n.body for n in (spike, week))


def test_a_big_week_after_a_steady_one_is_a_weekly_caution(session):
    ali = runner(session, "ali@example.org")
    # Two weeks of four 5 km runs, then a week of six 5 km runs: no run longer, 50 % more a week.
    weeks = [(DAY - timedelta(days=d), 5000) for d in (20, 18, 16, 14, 13, 11, 9, 7)]
    weeks += [(DAY - timedelta(days=d), 5000) for d in (6, 5, 4, 3, 1, 0)]
    log_runs(session, ali, weeks)
    session.commit()
    analyse(session, [ali.id], DAY, NIGHT)
    session.commit()
    (warning,) = notes(session)
    assert warning.kind == "weekly_jump"
    assert warning.dedupe_key == "weekly_jump:2026-03-09", "one per calendar week"
    assert warning.data["last_7_days_m"] == 30_000 and warning.data["previous_7_days_m"] == 20_000


def test_no_runs_no_warning_no_error(session):
    new = runner(session, "new@example.org")
    first_run = runner(session, "first@example.org")
    log_runs(session, first_run, [(DAY, 21_000)])
    session.commit()
    summary = analyse(session, [new.id, first_run.id], DAY, NIGHT)
    session.commit()
    assert summary.athletes == 2 and notes(session) == []


def test_due_athletes_are_those_past_their_local_night(session):
    london = runner(session, "london@example.org", "Europe/London")
    la = runner(session, "la@example.org", "America/Los_Angeles")
    auckland = runner(session, "akl@example.org", "Pacific/Auckland")
    session.commit()

    at = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)  # London 03:30, LA 20:30 (10th), AKL 16:30
    due = nightly.due(session, at, nightly_hour=3)
    assert {day: set(ids) for day, ids in due.items()} == {
        date(2026, 3, 10): {london.id, auckland.id},  # 03:30 and 16:30 on the 11th
        date(2026, 3, 9): {la.id},  # 20:30 on the 10th: the 9th is the last night that ended
    }
    analyse(session, [london.id], date(2026, 3, 10), at)
    session.commit()
    assert london.id not in nightly.due(session, at, 3).get(date(2026, 3, 10), [])


def test_the_cli_backfills_a_day_and_says_what_it_wrote(session, database, tmp_path,
                                                       monkeypatch):
    sam = runner(session, "sam@example.org")
    log_runs(session, sam, [*steady_month(DAY, 10_000), (DAY, 25_000)])
    session.commit()
    for name, value in {"DATABASE_URL": database.url, "SECRET_KEY": SECRET,
                        "DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(f"BACKSTRIDE_{name}", value)

    first = CliRunner().invoke(cli, ["jobs", "nightly", "--as-of", DAY.isoformat()])
    second = CliRunner().invoke(cli, ["jobs", "nightly", "--as-of", DAY.isoformat(),
                                      "--athlete", str(sam.id)])

    assert first.exit_code == 0, first.output
    assert "analysed 1 athletes" in first.output
    assert "run_spike 1" in first.output and "weekly_jump 1" in first.output
    assert "notifications written: none" in second.output
    assert session.scalar(select(func.count()).select_from(Notification)) == 2
    assert session.scalar(select(NightlyState.analysed_through)) == DAY
    assert session.scalar(select(func.count()).select_from(NightlyLog)) == 2


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 100), st.integers(0, 23), st.integers(1000, 30_000)),
                max_size=25),
       st.lists(st.tuples(st.just(0), st.integers(0, 23), st.integers(1000, 40_000)),
                min_size=1, max_size=3))
@example(earlier=[(30, 7, 10_000)], today=[(0, 7, 12_000)])  # exactly 30 days: inside
@example(earlier=[(31, 7, 10_000)], today=[(0, 7, 7_000)])  # 31 days: half of it, fallback
def test_the_nightly_sql_agrees_with_the_spike_rule(session, earlier, today):
    """The chunk's SQL windows and load.assess_run classify every run of the day alike."""
    runs = earlier + today
    athlete = runner(session, f"{uuid.uuid4()}@example.org", timezone="Pacific/Auckland")
    zone = ZoneInfo(athlete.timezone)
    starts = [datetime.combine(DAY - timedelta(days=back), time(hour), tzinfo=zone)
              for back, hour, _ in runs]
    ids = log_runs_at(session, athlete, [(start, metres)
                                         for start, (_, _, metres) in zip(starts, runs,
                                                                          strict=True)])
    session.commit()
    analyse(session, [athlete.id], DAY, NIGHT)
    session.commit()

    history = sorted(zip(starts, [m for _, _, m in runs], ids, strict=True))
    expected = set()
    for start, metres, run_id in history:
        # the analysed day, and the week before it for runs that were synced late
        if not DAY - timedelta(days=nightly.LATE_SYNC_DAYS) <= start.astimezone(zone).date() <= DAY:
            continue
        finding = assess_run(Run(start, metres),
                             [Run(s, m) for s, m, _ in history if s < start])
        if finding and finding.spike is not Spike.OK:
            expected.add(f"run_spike:{run_id}")
    found = {n.dedupe_key for n in notes(session, athlete) if n.kind == "run_spike"}
    assert found == expected
    note(f"{len(expected)} spikes expected")


def add_pair(session, athlete, name, first_used_on, **fields):
    from service.models import Shoe

    shoe = Shoe(athlete_id=athlete.id, name=name, first_used_on=first_used_on, **fields)
    session.add(shoe)
    session.flush()
    return shoe


def test_shoe_nudges_come_once_per_pair_and_stage(session):
    sam = runner(session, "sam@example.org")
    old = add_pair(session, sam, "Old trainers", DAY - timedelta(days=400))
    worn = add_pair(session, sam, "Blue trainers", DAY - timedelta(days=200),
                    initial_distance_m=700_000)
    add_pair(session, sam, "Spare pair", DAY - timedelta(days=30), retired_at=NIGHT)
    runs = [(DAY - timedelta(days=d), 7000) for d in range(27, -1, -2)]  # 98 km in 28 days
    for run_id in log_runs(session, sam, runs):
        session.execute(update(Checkin).where(Checkin.id == run_id).values(shoe_id=worn.id))
    session.commit()

    analyse(session, [sam.id], DAY, NIGHT)
    session.commit()
    analyse(session, [sam.id], DAY, NIGHT + timedelta(hours=1), force=True)
    analyse(session, [sam.id], DAY + timedelta(days=1), NIGHT + timedelta(days=1))
    session.commit()

    kinds = sorted((n.kind, n.data.get("shoe_id")) for n in notes(session, sam)
                   if n.kind.startswith("shoe_"))
    assert kinds == sorted([
        ("shoe_replace", str(old.id)),  # over a year old
        ("shoe_plan", str(worn.id)),  # 798 km of 800 at 3.5 km a day: within 14 days (twice)
        ("shoe_rotate", str(worn.id)),  # every run of 8 weeks in one pair, once in 90 days
    ]), kinds
    (replace_old,) = [n for n in notes(session, sam) if n.dedupe_key == f"shoe_replace:{old.id}"]
    assert "Old trainers" in replace_old.body and "400 days old" in replace_old.body


def test_a_pair_at_the_plan_stage_names_its_forecast_date(session):
    pat = runner(session, "pat@example.org", units="mi")
    pair = add_pair(session, pat, "Race flats", DAY - timedelta(days=200),
                    initial_distance_m=700_000)
    other = add_pair(session, pat, "Trail shoes", DAY - timedelta(days=200))
    runs = [(DAY - timedelta(days=d), 5000) for d in range(27, -1, -1)]  # 140 km in 28 days
    ids = log_runs(session, pat, runs)
    for index, run_id in enumerate(ids):
        session.execute(update(Checkin).where(Checkin.id == run_id)
                        .values(shoe_id=pair.id if index % 2 else other.id))
    session.commit()
    analyse(session, [pat.id], DAY, NIGHT)
    session.commit()
    by_kind = {n.kind: n for n in notes(session, pat)}
    plan = by_kind["shoe_plan"]
    # 770 km of 800 at 70 km / 28 days = 2,500 m a day: 12 days, so 22 March.
    assert plan.data["replace_by"] == "2026-03-22" and "Sunday 22 March" in plan.body
    assert "mi" in plan.body and " km" not in plan.body
    assert by_kind["shoe_inspect"].data["shoe_id"] == str(other.id), "200 days old"
    assert "shoe_rotate" not in by_kind, "two pairs half and half"


def test_a_run_synced_after_its_night_was_analysed_is_still_checked(session):
    sam = runner(session, "late@example.org")
    log_runs(session, sam, steady_month(DAY, 10_000))
    session.commit()
    analyse(session, [sam.id], DAY, NIGHT)  # the night passes with no long run yet
    session.commit()
    (late_run,) = log_runs(session, sam, [(DAY, 16_000)])  # the phone syncs it next morning
    session.commit()

    analyse(session, [sam.id], DAY + timedelta(days=1), NIGHT + timedelta(days=1))
    analyse(session, [sam.id], DAY + timedelta(days=2), NIGHT + timedelta(days=2))
    session.commit()

    spikes = [n.dedupe_key for n in notes(session, sam) if n.kind == "run_spike"]
    assert spikes == [f"run_spike:{late_run}"]
