"""Which queue each kind of work goes to: the one table the API and the workers both read.

The API sends a few tasks by name as hints after a commit (`service.api.hints`), and the workers
register and route every task (`workers.app`). Both take the names and queues from here, so a
hint can never name a task the workers do not have, or land on a queue no worker consumes.
"""

from __future__ import annotations

# One queue per kind of work, so a slow night never holds up housekeeping (and vice versa).
QUEUES = ("default", "nightly", "reminders", "push", "imports", "webhooks")
# A task's queue follows the first part of its name ("push.deliver" goes to "push").
QUEUE_OF_PREFIX = {
    "push": "push",
    "nightly": "nightly",
    "reminders": "reminders",
    "imports": "imports",
    "webhooks": "webhooks",
    "maintenance": "default",
}
DEFAULT_QUEUE = "default"

# The tasks the API sends by name; each is registered by a module of workers.tasks.
PUSH_DELIVER = "push.deliver"
IMPORTS_PROCESS = "imports.process"
WEBHOOKS_DELIVER = "webhooks.deliver"
SENT_BY_API = (PUSH_DELIVER, IMPORTS_PROCESS, WEBHOOKS_DELIVER)


def queue_of(task_name: str) -> str:
    """The queue a task's messages go to, by the first part of its name."""
    return QUEUE_OF_PREFIX.get(task_name.partition(".")[0], DEFAULT_QUEUE)
