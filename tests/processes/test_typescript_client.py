"""The phone app's TypeScript SDK, generated from openapi/openapi.json, used as it comes.

clients/typescript pins @hey-api/openapi-ts (fetch client, zod checks on every answer), zod,
TypeScript and the two spec linters. Here: `npm ci` once per session (skipped while node_modules
was installed from the same lock), the SDK generated afresh from the spec, src/phone.ts compiled
under `strict` and run against a live server, and the spec linted by Redocly and Spectral. A spec
that says something the server does not do, or that a normal app cannot be written against
without casts, fails one of these.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.processes.clients import (
    TYPESCRIPT,
    bin_,
    live_api,
    node_tools,
    npm_ci,
    output,
    run,
    scratch_typescript,
)

pytestmark = pytest.mark.processes
QUIET = {"NO_COLOR": "1", "FORCE_COLOR": "0", "REDOCLY_TELEMETRY": "off",
         "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


@pytest.fixture(scope="session")
def node_modules() -> Path:
    return npm_ci()


@pytest.fixture(scope="module")
def built(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The SDK generated from the spec and the script compiled, in a scratch copy of the client.

    One `tsc` both type-checks (strict) and emits dist/: the script still runs when the types
    disagree, so one run shows both kinds of failure.
    """
    project = scratch_typescript(tmp_path_factory.mktemp("typescript"), node_modules)
    generated = run([bin_(project, "openapi-ts")], project, 180, QUIET)
    assert generated.returncode == 0, "openapi-ts failed\n" + output(generated)
    assert (project / "src" / "generated" / "sdk.gen.ts").is_file(), output(generated)
    compiled = run([bin_(project, "tsc"), "-p", "tsconfig.json"], project, 300, QUIET)
    return SimpleNamespace(project=project, compiled=compiled)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    with live_api(tmp_path_factory.mktemp("api")) as base:
        yield base


def test_the_phone_script_type_checks_against_the_generated_sdk(built):
    status = built.compiled.returncode
    assert status == 0, (
        "src/phone.ts does not compile (strict) against the SDK generated from the spec\n"
        + output(built.compiled))


def test_a_phone_lives_its_life_through_the_generated_sdk(built, api):
    script = built.project / "dist" / "phone.js"
    assert script.is_file(), "tsc emitted nothing\n" + output(built.compiled)
    result = run([node_tools()["node"], script, api], built.project, 120, QUIET)
    try:
        summary = json.loads(result.stdout)
    except ValueError:
        pytest.fail("the script printed no JSON summary\n" + output(result))
    status, ok = result.returncode, summary["ok"]
    assert status == 0 and ok, (
        "the phone's life failed against the live server (every answer is checked by the "
        "generated zod schemas)\n" + json.dumps(summary["failures"], indent=2)
        + "\n" + result.stderr)
    assert [step["step"] for step in summary["steps"]][-1] == "roster with a revoked token"


def test_redocly_finds_nothing_in_the_spec(node_modules):
    result = run([node_modules / ".bin" / "redocly", "lint", "../../openapi/openapi.json",
                  "--format=json"], TYPESCRIPT, 120, QUIET)
    report = parsed(result)
    found = [f"{p['severity']} {p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}"
             for p in report["problems"]]
    assert not found, f"Redocly (clients/typescript/redocly.yaml): {report['totals']}\n" + (
        "\n".join(found))
    status = result.returncode
    assert status == 0, output(result)


def test_spectral_finds_nothing_in_the_spec(node_modules):
    result = run([node_modules / ".bin" / "spectral", "lint", "../../openapi/openapi.json",
                  "--fail-severity=warn", "--format=json", "--quiet"], TYPESCRIPT, 120, QUIET)
    severities = ["error", "warning", "info", "hint"]
    found = [f"{severities[r['severity']]} {r['code']} at {'.'.join(map(str, r['path']))}: "
             f"{r['message']}" for r in parsed(result)]
    assert not found, "Spectral (clients/typescript/.spectral.yaml)\n" + "\n".join(found)
    status = result.returncode
    assert status == 0, output(result)


def parsed(result):
    try:
        return json.loads(result.stdout)
    except ValueError:
        pytest.fail("no JSON report\n" + output(result))
