"""The API and the workers read one table of queues: every hint names a task a worker consumes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import service.api
from service import queues
from service.api.hints import Hints
from service.config import Settings
from workers.app import app

app.loader.import_default_modules()  # what a worker does at start: the task modules


@pytest.mark.parametrize("name", queues.SENT_BY_API)
def test_every_task_the_api_sends_is_registered_on_the_queue_the_api_sends_it_to(name):
    assert name in app.tasks, f"no worker registers {name}"
    routed = app.amqp.router.route({}, name)["queue"].name
    assert routed == queues.queue_of(name), f"{name}: workers route it to {routed}"
    assert routed in queues.QUEUES


def test_every_registered_task_is_routed_to_a_queue_a_worker_consumes():
    consumed = {queue.name for queue in app.conf.task_queues}
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert ours
    for name in ours:
        assert app.amqp.router.route({}, name)["queue"].name in consumed, name


def _sends_a_literal(call: ast.Call) -> bool:
    """`hints.send("x", ...)`, `partial(hints.send, "x", ...)` or `send_task("x", ...)`."""
    def is_send(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr in ("send", "send_task")

    args = call.args
    if args and is_send(args[0]):  # partial(hints.send, name, ...)
        args = args[1:]
    elif not is_send(call.func):
        return False
    return bool(args) and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)


def test_the_api_names_tasks_only_through_the_table():
    """A string literal passed to `hints.send` would bypass the check above."""
    sources = list(Path(service.api.__file__).parent.rglob("*.py"))
    calls = [(path, node) for path in sources for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call)]
    sends = [f"{path.name}:{node.lineno}" for path, node in calls if _sends_a_literal(node)]
    assert sends == []
    named = [node for _, node in calls
             if node.args and isinstance(node.args[0], ast.Attribute)
             and node.args[0].attr == "send"]
    assert len(named) >= len(queues.SENT_BY_API), "the scan must see the hints being sent"


def test_a_hint_for_a_task_outside_the_table_is_refused(tmp_path):
    hints = Hints(Settings.from_env({"BACKSTRIDE_DATA_DIR": str(tmp_path)}))
    with pytest.raises(ValueError, match="not a task the API sends"):
        hints.send("push.sweeep")
