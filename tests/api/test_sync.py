"""A phone that only ever follows `since` cursors ends up with exactly the server's state."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.runners import run, sign_up

SLOTS = 5
put_op = st.tuples(st.just("put"), st.integers(0, SLOTS - 1), st.integers(1, 4))
delete_op = st.tuples(st.just("delete"), st.integers(0, SLOTS - 1))
batch_op = st.tuples(st.just("batch"), st.lists(st.integers(0, SLOTS - 1), min_size=1,
                                                max_size=4), st.integers(1, 4))
sync_op = st.tuples(st.just("sync"))
operations = st.lists(st.one_of(put_op, delete_op, batch_op, sync_op), min_size=1, max_size=14)


class Phone:
    """The app's local copy, kept only from the change feed."""

    def __init__(self, runner):
        self.runner = runner
        self.cursor = "0"
        self.checkins: dict[str, dict] = {}

    def sync(self, page_size: int = 2) -> None:
        while True:
            page = self.runner.get("/v1/checkins", query_string={
                "since": self.cursor, "limit": page_size}).get_json()
            for item in page["items"]:
                if item["deleted"]:
                    self.checkins.pop(item["id"], None)
                else:
                    self.checkins[item["id"]] = item
            assert int(page["next_cursor"]) >= int(self.cursor), "cursors never go back"
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return


def server_state(runner) -> dict[str, dict]:
    items = runner.get("/v1/checkins", query_string={"limit": 500}).get_json()["items"]
    return {item["id"]: item for item in items}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_following_since_cursors_converges_to_the_server(client, ops):
    runner = sign_up(client)  # a new athlete per example: examples cannot see each other
    phone = Phone(runner)
    ids = [str(uuid.uuid4()) for _ in range(SLOTS)]
    for op in ops:
        if op[0] == "put":
            runner.put(f"/v1/checkins/{ids[op[1]]}", json=run(distance_m=1000 * op[2]))
        elif op[0] == "delete":
            runner.delete(f"/v1/checkins/{ids[op[1]]}")
        elif op[0] == "batch":
            items = [{"id": ids[slot], **run(distance_m=1000 * op[2])} for slot in set(op[1])]
            runner.post("/v1/checkins/batch", json={"items": items})
        else:
            phone.sync()
    phone.sync()
    assert phone.checkins == server_state(runner)
    again = runner.get("/v1/checkins", query_string={"since": phone.cursor}).get_json()
    assert again["items"] == [] and again["next_cursor"] == phone.cursor
