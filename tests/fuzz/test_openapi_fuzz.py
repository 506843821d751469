"""Schemathesis against the app, in process, over every operation of openapi/openapi.json.

The contract under test is the committed document (tests/api/test_openapi.py keeps it equal to
the live one). Each operation gets positive and negative cases from schemathesis's examples,
coverage and fuzzing phases, sent with a signed-in runner's token (a linked coach's on `/v1/coach`
paths) against a seeded world (tests/fuzz/world.py), on SQLite and, when configured, PostgreSQL.

A case fails on a 5xx, on a status the operation does not list explicitly (every operation also
has a `default` problem response, which would otherwise accept any status), on a content type or a
body or headers that break the documented response. The last test checks that the run was big
enough to mean something: every operation, and at least MIN_CASES cases per database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.failures import Failure

from service.api import create_app
from tests.conftest import ScratchDatabase, make_settings
from tests.fuzz.world import World, build

pytestmark = pytest.mark.fuzz
SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
MIN_CASES = 1000
EXAMPLES_PER_OPERATION = 12  # fuzzing phase only; examples and coverage phases add their own

schema = schemathesis.openapi.from_path(SPEC)
OPERATIONS = {op.ok().label for op in schema.get_all_operations()}
cases: Counter[tuple[str, str]] = Counter()  # (backend, operation) -> cases sent
_current: dict[str, World] = {}  # the world of the backend being fuzzed, for the hook below


class UndocumentedStatus(Failure):
    code = "ST901"
    kind_title = "Status not listed for this operation"


def status_listed_explicitly(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Like status_code_conformance, but a `default` response does not excuse a missing status.

    Cases that use another method than the operation's (schemathesis probes for 405) are left to
    the built-in checks.
    """
    if case.method.upper() != case.operation.method.upper():
        return
    listed = {int(code) for code in case.operation.definition.raw["responses"] if code.isdigit()}
    if response.status_code not in listed:
        raise UndocumentedStatus(
            operation=case.operation.label,
            message=f"Received: {response.status_code}\nListed: {sorted(listed)}",
        )


CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance,
          checks.response_headers_conformance, status_listed_explicitly]


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Half the time, put ids of the seeded world in the path, so that 200s happen too."""
    world = _current.get("world")
    operation = context.operation
    if world is None or operation is None or not path_parameters:
        return st.just(path_parameters)
    choices = {name: world.ids_for(operation.method, name) for name in path_parameters}
    known = {name: ids for name, ids in choices.items() if ids}
    if not known:
        return st.just(path_parameters)
    real = st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in known.items()})
    return st.one_of(st.just(path_parameters), real.map(lambda ids: {**path_parameters, **ids}))


@pytest.fixture(scope="module")
def world(test_database: ScratchDatabase,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    app = create_app(make_settings(test_database.url, tmp_path_factory.mktemp("fuzz")))
    _current["world"] = built = build(app)
    yield built
    _current.clear()
    app.extensions["backstride"].engine.dispose()
    test_database.truncate()


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case, world: World,
                                            test_database: ScratchDatabase) -> None:
    cases[test_database.backend, case.operation.label] += 1
    runner = world.runner_for(case.operation.path)
    # Called in process, the answer is read as sent: requests' default Accept-Encoding (gzip, br,
    # zstd) would bring compressed bodies that no transport decodes here. Compression has its own
    # tests (tests/api/test_compression.py); the contract is checked on the plain body.
    headers = {**runner.headers, "Accept-Encoding": "identity"}
    case.call_and_validate(app=world.app, base_url="http://localhost", headers=headers,
                           checks=CHECKS)


def test_the_fuzzing_was_big_enough(test_database: ScratchDatabase) -> None:
    backend = test_database.backend
    ran = {operation for (on, operation) in cases if on == backend}
    if not ran:
        pytest.skip("the fuzzing tests were not selected")
    assert ran == OPERATIONS, f"operations never fuzzed: {sorted(OPERATIONS - ran)}"
    total = sum(n for (on, _), n in cases.items() if on == backend)
    print(f"{total} cases over {len(ran)} operations on {backend}")
    assert total >= MIN_CASES, f"only {total} cases on {backend}"
