"""The ops command line: accounts, demo data, and jobs run by hand, on each database."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner
from sqlalchemy import func, select

from service.cli.main import cli
from service.clock import utcnow
from service.config import WEEKLY_JUMP_THRESHOLD
from service.db import make_engine, make_session_factory
from service.domain.coaching import roster
from service.domain.pain import tiers as pain
from service.models import Account, Notification, PersonalAccessToken
from tests.conftest import SECRET


def run_cli(database, tmp_path, *args: str, input: str | None = None, **settings: str):
    env = {"BACKSTRIDE_DATABASE_URL": database.url, "BACKSTRIDE_DATA_DIR": str(tmp_path),
           "BACKSTRIDE_SECRET_KEY": SECRET, "BACKSTRIDE_PASSWORD_PROFILE": "cheapest",
           **{f"BACKSTRIDE_{name.upper()}": value for name, value in settings.items()}}
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


def session_on(database):
    return make_session_factory(make_engine(database.url))()


def test_accounts_create_makes_a_coach_with_a_script_token_and_an_invite(database, tmp_path):
    result = run_cli(database, tmp_path, "accounts", "create", "kim@example.org", "--coach",
                     "--display-name", "Coach Kim",
                     input="long-enough-pass-2026\nlong-enough-pass-2026\n")
    assert result.exit_code == 0, result.output
    assert "bst_pat_" in result.output and "invite code" in result.output
    with session_on(database) as session:
        kim = session.scalar(select(Account).where(Account.email == "kim@example.org"))
        assert kim.display_name == "Coach Kim"
        (token,) = session.scalars(select(PersonalAccessToken))
        assert sorted(token.scopes) == ["coach:read", "coach:write", "pain:read"]
    again = run_cli(database, tmp_path, "accounts", "create", "kim@example.org",
                    "--password", "long-enough-pass-2026")
    assert again.exit_code == 1 and "already exists" in again.output


def test_demo_seed_tells_every_story_once(database, tmp_path):
    result = run_cli(database, tmp_path, "demo", "seed")
    assert result.exit_code == 0, result.output
    assert "run_spike" in result.output and "shoe_replace 1" in result.output
    with session_on(database) as session:
        coach = session.scalar(select(Account).where(Account.email.like("coach@%")))
        entries = {e.email.split("@")[0]: e for e in roster.roster(
            session, coach, utcnow(), weekly_threshold=WEEKLY_JUMP_THRESHOLD,
            token_sees_pain=True)}
        assert set(entries) == {"beginner", "marathoner", "oldshoes", "morning"}
        assert entries["morning"].triage_tier == "inflammatory_screen"
        assert entries["oldshoes"].shoes_needing_attention[0].status == "replace"
        assert entries["marathoner"].latest_spike == "moderate"
        assert entries["marathoner"].risk > entries["beginner"].risk, "the jump needs attention"
        morning = session.scalar(select(Account).where(Account.email.like("morning@%")))
        assert pain.active(session, [morning.id])[morning.id].tier == "inflammatory_screen"
        notes = session.scalar(select(func.count()).select_from(Notification))
    again = run_cli(database, tmp_path, "demo", "seed")
    assert again.exit_code == 1 and "already seeded" in again.output
    with session_on(database) as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == notes


def test_demo_seed_judges_weekly_jumps_by_the_deployment_threshold(database, tmp_path):
    """`demo seed` runs the nightly analysis as beat would, with the deployment's setting."""
    result = run_cli(database, tmp_path, "demo", "seed", weekly_jump_threshold="0.10")
    assert result.exit_code == 0, result.output
    with session_on(database) as session:
        jumps = session.scalars(select(Notification.data).where(
            Notification.kind == "weekly_jump")).all()
    assert jumps and {data["threshold_percent"] for data in jumps} == {10}
    assert len(jumps) > 4, "the 30 % default writes 4 weekly jumps for the demo athletes"


def test_jobs_run_by_hand_report_what_they_did(database, tmp_path):
    env = {**os.environ, "BACKSTRIDE_DATABASE_URL": database.url,
           "BACKSTRIDE_DATA_DIR": str(tmp_path), "BACKSTRIDE_SECRET_KEY": SECRET}
    for job, expected in (("reminders", "reminders sweep: {'reminders': 0"),
                          ("push-sweep", "push sweep: {}")):
        done = subprocess.run([sys.executable, "-m", "service.cli", "jobs", job], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout


def test_jobs_nightly_without_as_of_analyses_whoever_is_due_as_beat_would(database, tmp_path):
    """Each athlete whose local night has ended, for their own yesterday, once; --as-of stays
    for backfills and analyses again."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from service.models import NightlyState

    for email in ("ada@example.org", "bo@example.org"):
        made = run_cli(database, tmp_path, "accounts", "create", email,
                       input="long-enough-pass-2026\nlong-enough-pass-2026\n")
        assert made.exit_code == 0, made.output
    first = run_cli(database, tmp_path, "jobs", "nightly", nightly_hour="0")
    assert first.exit_code == 0, first.output
    assert "analysed 2 athletes" in first.output
    with session_on(database) as session:
        zones = dict(session.execute(select(Account.id, Account.timezone)).all())
        through = dict(session.execute(
            select(NightlyState.athlete_id, NightlyState.analysed_through)).all())
    now = utcnow()
    assert through == {athlete_id: now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
                       for athlete_id, zone in zones.items()}
    again = run_cli(database, tmp_path, "jobs", "nightly", nightly_hour="0")
    assert "analysed 0 athletes" in again.output, "analysed already: nothing is due"
    backfill = run_cli(database, tmp_path, "jobs", "nightly", "--as-of",
                       (now.date() - timedelta(days=1)).isoformat())
    assert "analysed 2 athletes" in backfill.output


def test_the_dashboards_client_is_ensured_once_by_the_seed_and_by_db_upgrade(database, tmp_path):
    from service.domain.accounts import first_party
    from service.models import OAuthClient

    assert run_cli(database, tmp_path, "demo", "seed").exit_code == 0
    with session_on(database) as session:
        (client,) = session.scalars(select(OAuthClient).where(
            OAuthClient.client_id == first_party.DASHBOARD_CLIENT_ID))
        assert client.confidential is False and client.secret_hash is None
        assert client.redirect_uris == ["http://127.0.0.1/coach/"]
        client.redirect_uris = ["http://127.0.0.1/elsewhere"]
        owner = session.get(Account, client.owner_id)
        assert owner.email == first_party.OWNER_EMAIL
        session.commit()
    with session_on(database) as session:
        first_party.ensure_dashboard(session, utcnow())  # again: puts the URIs back, no new row
        session.commit()
        clients = list(session.scalars(select(OAuthClient).where(
            OAuthClient.client_id == first_party.DASHBOARD_CLIENT_ID)))
        assert [c.redirect_uris for c in clients] == [["http://127.0.0.1/coach/"]]
        assert session.scalar(select(func.count()).select_from(Account).where(
            Account.email == first_party.OWNER_EMAIL)) == 1


def test_db_upgrade_registers_the_dashboards_public_address_from_the_public_url(database,
                                                                              tmp_path):
    from service.domain.accounts import first_party
    from service.models import OAuthClient

    upgraded = run_cli(database, tmp_path, "db", "upgrade",
                       public_url="https://coach.backstride.example")
    assert upgraded.exit_code == 0, upgraded.output
    with session_on(database) as session:
        (client,) = session.scalars(select(OAuthClient).where(
            OAuthClient.client_id == first_party.DASHBOARD_CLIENT_ID))
        assert client.redirect_uris == ["http://127.0.0.1/coach/",
                                        "https://coach.backstride.example/coach/"]
