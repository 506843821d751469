"""Schemathesis's stateful phase: sequences of calls that follow the links between operations.

The links are the ones schemathesis infers from the committed document (a Location header, an
`id` in a 201's body, the same name in a later path), so a sequence creates a shoe, reads it,
retires it, puts a check-in on it, deletes it and reads it again. Each response is held to the
same checks as the single-operation run (tests/fuzz/test_openapi_fuzz.py), plus the stateful
ones: a resource just created is there (`ensure_resource_availability`), one just deleted is gone
(`use_after_free`, but for a pair of shoes with runs, which DELETE retires by design).

Bounded in count (MAX_SEQUENCES sequences of at most MAX_STEPS calls) and in time: once
TIME_BUDGET_S has passed, no further call is made and the remaining sequences end at once. The
last test checks that the run was big enough to mean something.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, settings
from schemathesis import checks

from service.api import create_app
from tests.conftest import ScratchDatabase, make_settings
from tests.fuzz.test_openapi_fuzz import CHECKS, SPEC
from tests.fuzz.world import ALL_GRANTS, link
from tests.support.runners import sign_up

pytestmark = pytest.mark.fuzz
MAX_SEQUENCES = 60
MAX_STEPS = 12
TIME_BUDGET_S = 240
MIN_CALLS = 150  # per database
MIN_LINKED = 20  # calls whose parameters came from an earlier response



def deleted_is_gone(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """`use_after_free`, but for a pair of shoes that DELETE retired: one with runs keeps its
    history and is retired instead (documented as the delete's 200), so it is still there."""
    if response.status_code == 200 and case.path.startswith("/v1/shoes/"):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("retired_at"):
            return None
    return checks.use_after_free(ctx, response, case)


STATEFUL_CHECKS = [*CHECKS, checks.ensure_resource_availability, deleted_is_gone]
calls: Counter[tuple[str, str]] = Counter()  # (backend, "all" | "linked") -> calls made

schema = schemathesis.openapi.from_path(SPEC)


@pytest.fixture(scope="module")
def app(test_database: ScratchDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    built = create_app(make_settings(test_database.url, tmp_path_factory.mktemp("stateful")))
    yield built
    built.extensions["backstride"].engine.dispose()
    test_database.truncate()


def test_sequences_of_linked_calls_keep_the_contract(app: Any,
                                                     test_database: ScratchDatabase) -> None:
    backend = test_database.backend
    started = time.monotonic()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # A runner and a coach of this sequence's own, linked with every grant: what one
            # sequence does (delete a pair, unlink, revoke) does not change what the next one
            # sees, so hypothesis can replay a sequence and get the same answers.
            client = app.test_client()
            self.athlete, self.coach = sign_up(client), sign_up(client)
            link(self.coach, self.athlete, ALL_GRANTS)

        def before_call(self, case: schemathesis.Case) -> None:
            assume(time.monotonic() - started < TIME_BUDGET_S)  # out of time: end the sequence

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            runner = self.coach if case.operation.path.startswith("/v1/coach/") else self.athlete
            # Read uncompressed, as in the single-operation run.
            return {"app": app, "base_url": "http://localhost",
                    "headers": {**runner.headers, "Accept-Encoding": "identity"}}

        def step(self, input: Any) -> Any:
            calls[backend, "all"] += 1
            if input.transition is not None and input.applied_parameters:
                calls[backend, "linked"] += 1  # a value taken from an earlier response
            return super().step(input)

        def validate_response(self, response: Any, case: schemathesis.Case,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs,
                                   recorder=self.recorder)

    Workflow.run(settings=settings(max_examples=MAX_SEQUENCES, stateful_step_count=MAX_STEPS,
                                   deadline=None, database=None,
                                   suppress_health_check=list(HealthCheck)))
    print(f"{calls[backend, 'all']} calls, {calls[backend, 'linked']} linked, on {backend} in "
          f"{time.monotonic() - started:.0f} s")
    assert calls[backend, "all"] >= MIN_CALLS, calls
    assert calls[backend, "linked"] >= MIN_LINKED, "the links were hardly followed"
