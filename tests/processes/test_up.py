"""`backstride up` (what `make run` starts): the whole product on the embedded default."""

from __future__ import annotations

import re
import signal

import pytest

from tests.processes.procs import alive, answers, free_port, http, start, stop, wait_until

pytestmark = pytest.mark.processes
PASSWORD = "tarmac-and-trails-2026"


def test_one_command_serves_the_api_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "up.log"
    env = {"BACKSTRIDE_DATA_DIR": str(tmp_path / "var"), "PORT": str(port),
           "BACKSTRIDE_DATABASE_URL": "", "BACKSTRIDE_BROKER_URL": "",
           "BACKSTRIDE_SECRET_KEY": ""}
    up = start(["up"], env, log, cwd=tmp_path)
    try:
        wait_until(lambda: answers(f"{base}/healthz"), 30, "/healthz within 30 s", log)
        for path in ("/readyz", "/docs", "/openapi.json"):
            assert answers(base + path), path

        status, _, _ = http("POST", f"{base}/v1/auth/register",
                            {"email": "sam@example.org", "password": PASSWORD})
        assert status == 201
        status, _, pair = http("POST", f"{base}/v1/auth/token",
                               {"email": "sam@example.org", "password": PASSWORD})
        assert status == 200
        status, _, me = http("GET", f"{base}/v1/me", token=pair["access_token"])
        assert (status, me["email"]) == (200, "sam@example.org")
        status, _, rotated = http("POST", f"{base}/v1/auth/refresh",
                                  {"refresh_token": pair["refresh_token"]})
        assert status == 200
        status, _, _ = http("POST", f"{base}/v1/auth/logout",
                            {"refresh_token": rotated["refresh_token"]})
        assert status == 204
        assert http("GET", f"{base}/v1/me", token=rotated["access_token"])[0] == 401

        pids = [int(p) for p in re.findall(r"pid (\d+)", log.read_text())]
        assert len(pids) == 3, log.read_text()
    finally:
        code = stop(up, signal.SIGINT, timeout=30)
    assert code == 0, log.read_text()[-3000:]
    assert not any(alive(pid) for pid in pids), "every child stops with the supervisor"
