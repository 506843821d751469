"""The phone's life through the Python client generated from openapi/openapi.json.

openapi-python-client makes a package from the spec, pip installs it into a scratch directory, and
clients/python/phone_flow.py (the same story as the TypeScript script) is type-checked with
`mypy --strict` against it and then run, in its own process, against a live server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.processes.clients import (
    PYTHON_FLOW,
    ROOT,
    generated_python_client,
    live_api,
    output,
    run,
)

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_python_client(tmp_path_factory.mktemp("python-client"))


def test_mypy_strict_passes_on_the_phone_flow_against_the_generated_client(site, tmp_path):
    # On PYTHONPATH the generated package is found as an installed one (it ships py.typed): its
    # own code is not what is judged here, the flow written against it is.
    result = run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", tmp_path / "cache",
                  "--no-error-summary", PYTHON_FLOW], ROOT, 180, {"PYTHONPATH": str(site)})
    status = result.returncode
    assert status == 0, (
        "clients/python/phone_flow.py does not type-check against the generated client\n"
        + output(result))


def test_a_phone_lives_its_life_through_the_generated_python_client(site, tmp_path):
    with live_api(tmp_path) as base:
        result = run([sys.executable, PYTHON_FLOW, base], tmp_path, 120,
                     {"PYTHONPATH": str(site)})
    try:
        summary = json.loads(result.stdout)
    except ValueError:
        pytest.fail("the flow printed no JSON summary\n" + output(result))
    status, ok = result.returncode, summary["ok"]
    assert status == 0 and ok, (
        "the phone's life failed against the live server\n"
        + json.dumps(summary["failures"], indent=2) + "\n" + result.stderr)
    assert summary["steps"][-1]["step"] == "roster with a revoked token"
