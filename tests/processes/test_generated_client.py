"""A client generated from openapi/openapi.json, installed on its own, used by a coach's script.

This is how coaches reach Backstride: openapi-python-client turns the committed spec into a
package, pip installs it into a scratch directory, and a separate Python process imports it from
there and talks to a live server with a personal access token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.processes.procs import answers, free_port, http, start, stop, wait_until

pytestmark = pytest.mark.processes
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "tarmac-and-trails-2026"

SCRIPT = textwrap.dedent("""
    import json, sys
    from backstride_client import AuthenticatedClient
    from backstride_client.api.coach import (
        get_coach_athlete_load, list_coach_athlete_shoes, list_coach_athletes)

    base_url, token = sys.argv[1], sys.argv[2]
    with AuthenticatedClient(base_url=base_url, token=token) as client:
        roster = list_coach_athletes.sync(client=client)
        athlete = roster.items[0]
        load = get_coach_athlete_load.sync(athlete.athlete_id, client=client)
        shoes = list_coach_athlete_shoes.sync(athlete.athlete_id, client=client)
        denied = list_coach_athletes.sync_detailed(
            client=AuthenticatedClient(base_url=base_url, token="bst_pat_not-a-token"))
    print(json.dumps({
        "module": list_coach_athletes.__file__,
        "roster": [(a.email, a.scopes, a.last_7_days_m) for a in roster.items],
        "weeks": [w.distance_m for w in load.weeks],
        "latest_run_m": load.latest_run.distance_m,
        "shoes": [(s.name, s.distance_m, s.status) for s in shoes.items],
        "denied": denied.status_code.value,
    }))
""")


def generate_and_install(tmp_path: Path) -> Path:
    config = tmp_path / "generator.yaml"
    config.write_text("project_name_override: backstride-client\npost_hooks: []\n")
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "openapi-python-client"), "generate",
                    "--path", str(ROOT / "openapi" / "openapi.json"), "--meta", "setup",
                    "--config", str(config), "--output-path", str(tmp_path / "client")],
                   check=True, capture_output=True, cwd=tmp_path)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(tmp_path / "client")],
                   check=True, capture_output=True)
    assert (site / "backstride_client" / "api" / "coach").is_dir()
    return site


def seed(base: str) -> str:
    """A coach with a script token, and an athlete who linked them for load and shoes."""
    tokens = {}
    for email in ("kim@example.org", "ana@example.org"):
        assert http("POST", f"{base}/v1/auth/register",
                    {"email": email, "password": PASSWORD})[0] == 201
        tokens[email] = http("POST", f"{base}/v1/auth/token",
                             {"email": email, "password": PASSWORD})[2]["access_token"]
    kim, ana = tokens["kim@example.org"], tokens["ana@example.org"]
    status, _, pat = http("POST", f"{base}/v1/me/tokens", {
        "name": "roster script", "scopes": ["coach:read"], "expires_in_days": 30}, token=kim)
    assert status == 201
    status, _, invite = http("POST", f"{base}/v1/coach/invites", token=kim)
    assert status == 201
    assert http("POST", f"{base}/v1/me/coaches", {"code": invite["code"],
                                                  "scopes": ["load", "shoes"]}, token=ana)[0] == 201
    status, _, shoe = http("POST", f"{base}/v1/shoes", {"name": "Daily trainers",
                                                       "is_default": True}, token=ana)
    assert status == 201, shoe
    assert http("PUT", f"{base}/v1/checkins/8a5f2bb0-6a4e-4f58-9a57-3f1d0f5c2d01", {
        "kind": "run", "started_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "distance_m": 12_000,
        "duration_s": 4000}, token=ana)[0] == 201
    return pat["token"]


def test_a_generated_client_reads_the_roster_load_and_shoes_with_a_personal_token(tmp_path):
    site = generate_and_install(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"BACKSTRIDE_DATA_DIR": str(tmp_path / "var"), "BACKSTRIDE_DATABASE_URL": "",
           "BACKSTRIDE_BROKER_URL": "", "BACKSTRIDE_SECRET_KEY": "", "PORT": str(port)}
    log = tmp_path / "serve.log"
    migrated = start(["db", "upgrade"], env, log, cwd=tmp_path)
    assert migrated.wait(60) == 0, log.read_text()
    server = start(["serve", "--workers", "1"], env, log, cwd=tmp_path)
    try:
        wait_until(lambda: answers(f"{base}/healthz"), 30, "the API", log)
        token = seed(base)
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, base, token], capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(site)}, cwd=tmp_path, timeout=60)
    finally:
        stop(server)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["module"].startswith(str(site)), "the installed client, not a copy in the repo"
    assert seen["roster"] == [["ana@example.org", ["load", "shoes"], 12_000]]
    assert seen["latest_run_m"] == 12_000
    assert seen["shoes"] == [["Daily trainers", 12_000, "ok"]]
    assert seen["denied"] == 401
