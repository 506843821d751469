"""The `backstride` command: migrations, the OpenAPI file, the processes, and jobs run by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from service.cli import commands
from service.config import ConfigError, Settings

DEFAULT_OPENAPI_PATH = Path("openapi") / "openapi.json"


@click.group()
def cli() -> None:
    """Backstride: the backend of a running-coach app for runners with back pain."""


def settings() -> Settings:
    return Settings.from_env()


@cli.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (the newest by default)."""
    from service.db import migrate

    url = settings().database_url
    _ensure_sqlite_dir(url)
    migrate.upgrade(url, revision)
    if revision == "head":
        _ensure_first_party_apps(url, settings().public_url)
    click.echo(f"database at {revision}")


def _ensure_first_party_apps(url: str, public_url: str | None) -> None:
    """The coach dashboard's OAuth client, which /coach/ signs in through (no migration)."""
    from service.db import make_engine, make_session_factory
    from service.domain.accounts import first_party
    from service.models.base import utcnow

    with make_session_factory(make_engine(url))() as session:
        first_party.ensure_dashboard(session, utcnow(), public_url)
        session.commit()


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION."""
    from service.db import migrate

    migrate.downgrade(settings().database_url, revision)
    click.echo(f"database at {revision}")


@cli.group()
def openapi() -> None:
    """The OpenAPI document that coach clients are generated from."""


@openapi.command("write")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path),
                default=DEFAULT_OPENAPI_PATH)
def openapi_write(path: Path) -> None:
    """Write the live OpenAPI document to PATH (openapi/openapi.json by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_openapi(settings()))
    click.echo(f"wrote {path}")


def render_openapi(settings_: Settings) -> str:
    from service.api import create_app

    app = create_app(settings_)
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


@cli.command()
@click.option("--bind", default=lambda: f"127.0.0.1:{os.environ.get('PORT', '8000')}",
              show_default="127.0.0.1:$PORT or 8000")
@click.option("--workers", default=2, show_default=True)
def serve(bind: str, workers: int) -> None:
    """Run the API under gunicorn."""
    current = settings()  # fail here, in one line, not in every gunicorn worker
    os.environ.update(_api_metrics_env(current, bind))
    os.execv(sys.executable, _gunicorn_argv(bind, workers))


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker; extra arguments go to `celery worker`.

    With BACKSTRIDE_WORKER_METRICS_PORT set, it serves Prometheus metrics on that port.
    """
    current = settings()
    if current.worker_metrics_port:
        from service import prometheus

        # Before workers.app imports prometheus_client, which reads it once.
        os.environ.update(prometheus.multiprocess_env(prometheus.multiprocess_dir(
            current.data_dir, f"worker-{current.worker_metrics_port}")))
    from workers.app import app

    # No gossip: nothing here uses it (Flower reads events), and after a broker restart its
    # restart can log a spurious ERROR (an AttributeError on a cleared connection).
    app.worker_main(["worker", "--loglevel=INFO", "--without-gossip", *ctx.args])


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run the one beat scheduler; extra arguments go to `celery beat`."""
    current = settings()
    current.data_dir.mkdir(parents=True, exist_ok=True)
    from workers.app import app

    app.start(["beat", "--loglevel=INFO", "-s", str(current.beat_schedule_file), *ctx.args])


@cli.command()
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")),
              show_default="$PORT or 8000", type=int)
def up(port: int) -> None:
    """Migrate, then run the API, one worker and beat together until Ctrl-C.

    The one-command way to run everything on this machine; production runs each process on its
    own (see docker-compose.yml).
    """
    current = settings()
    from service.db import migrate

    _ensure_sqlite_dir(current.database_url)
    migrate.upgrade(current.database_url)
    _ensure_first_party_apps(current.database_url, current.public_url)
    env = {**os.environ, "BACKSTRIDE_DATA_DIR": str(current.data_dir)}
    me = [sys.executable, "-m", "service.cli"]
    bind = f"127.0.0.1:{port}"
    commands = {
        "api": _gunicorn_argv(bind, 2),
        "worker": [*me, "worker", "--concurrency=1"],
        "beat": [*me, "beat"],
    }
    envs = {"api": {**env, **_api_metrics_env(current, bind)}}
    children = {name: subprocess.Popen(argv, env=envs.get(name, env))
                for name, argv in commands.items()}
    pids = ", ".join(f"{name} pid {child.pid}" for name, child in children.items())
    click.echo(f"backstride: http://127.0.0.1:{port} ({pids}); Ctrl-C stops everything",
               err=True)
    sys.exit(_supervise(children))


@cli.group()
def push() -> None:
    """Push notification set-up."""


@push.command("vapid-keys")
def push_vapid_keys() -> None:
    """Make a VAPID key pair for Web Push.

    Set the private key as BACKSTRIDE_VAPID_PRIVATE_KEY; give the public key to the web app as its
    applicationServerKey.
    """
    from workers.push.webpush import generate_keys

    private, public = generate_keys()
    click.echo(f"BACKSTRIDE_VAPID_PRIVATE_KEY={private}")
    click.echo(f"application server public key: {public}")


@cli.group()
def jobs() -> None:
    """Run a worker job now, in this process."""


@jobs.command("nightly")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The local day to analyse, for everyone, again (backfills). Left out: every "
                   "athlete whose local night has ended and who is not yet analysed, as beat "
                   "would.")
@click.option("--athlete", "athlete_id", type=click.UUID, default=None,
              help="Only this athlete (default: every athlete).")
def jobs_nightly(as_of, athlete_id) -> None:
    """Run the nightly analysis now, in this process.

    Without --as-of it does what beat's dispatch does: each athlete whose local night has passed
    and whose last night is not yet analysed, for their own local yesterday. With --as-of (ops,
    backfills, tests) it analyses that day even if it was analysed before, and the
    notifications' dedupe keys keep it from writing anything twice.
    """
    from sqlalchemy import select

    from service.clock import utcnow
    from service.db import make_engine, make_session_factory
    from service.domain.training import nightly
    from service.models import Account

    current = settings()
    engine = make_engine(current.database_url)
    total = nightly.Summary()
    now = utcnow()
    with make_session_factory(engine)() as session:
        if as_of is not None:
            ids = [athlete_id] if athlete_id else list(
                session.scalars(select(Account.id).order_by(Account.id)))
            days = {as_of.date(): ids}
        else:
            days = {day: [i for i in ids if athlete_id is None or i == athlete_id]
                    for day, ids in nightly.due(session, now, current.nightly_hour).items()}
        groups = [(day, chunk) for day, ids in sorted(days.items())
                  for chunk in nightly.chunks(ids, current.nightly_chunk_size)]
        with click.progressbar(groups, label="analysing", file=sys.stderr,
                               show_pos=True) as bar:
            for day, chunk in bar:
                total.add(nightly.analyse(session, chunk, day, now,
                                          weekly_threshold=current.weekly_jump_threshold,
                                          source="cli", force=as_of is not None))
                session.commit()
    click.echo(total.line())


@jobs.command("purge")
def jobs_purge() -> None:
    """Delete expired sessions and tokens, and idempotency records older than a day."""
    from service.clock import utcnow
    from service.db import make_engine, make_session_factory
    from service.domain.accounts import housekeeping

    engine = make_engine(settings().database_url)
    with make_session_factory(engine)() as session:
        result = housekeeping.purge(session, utcnow())
        session.commit()
    click.echo(f"purged {result.sessions} sessions, {result.refresh_tokens} refresh tokens, "
               f"{result.personal_tokens} personal access tokens, "
               f"{result.idempotency_records} idempotency records")


def _gunicorn_argv(bind: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "service.api.wsgi:app", "--bind", bind,
            "--workers", str(workers), "--graceful-timeout", "10",
            "--config", "python:service.api.gunicorn_conf"]


def _api_metrics_env(current: Settings, bind: str) -> dict[str, str]:
    """A fresh multiprocess metrics directory for the gunicorn workers behind `bind`."""
    from service import prometheus

    return prometheus.multiprocess_env(prometheus.multiprocess_dir(current.data_dir,
                                                                   f"api-{bind}"))


def _supervise(children: dict[str, subprocess.Popen[bytes]]) -> int:
    """Wait until a signal or a child's exit, then stop every child; a child's failure is ours."""
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exited = None
    while not stopping and exited is None:
        exited = next((name for name, c in children.items() if c.poll() is not None), None)
        time.sleep(0.2)
    if exited:
        click.echo(f"backstride: {exited} exited with {children[exited].returncode}; "
                   "stopping the others", err=True)
    _terminate(children.values())
    return 0 if exited is None else 1


def _terminate(children: Sequence[subprocess.Popen[bytes]] | object, grace_s: float = 15) -> None:
    alive = [c for c in children if c.poll() is None]  # type: ignore[attr-defined]
    for child in alive:
        child.terminate()
    deadline = time.monotonic() + grace_s
    for child in alive:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


cli.add_command(commands.accounts)
cli.add_command(commands.demo)
jobs.add_command(commands.jobs_reminders)
jobs.add_command(commands.jobs_push_sweep)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="backstride")
    except ConfigError as error:
        click.echo(f"backstride: {error}", err=True)
        sys.exit(2)

