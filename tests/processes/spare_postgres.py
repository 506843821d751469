"""A throwaway PostgreSQL server that a test may stop and start at will.

Fault tests need to take the database away from a running API. The suite's PostgreSQL
(`BACKSTRIDE_TEST_DATABASE_URL`) is shared with everything else on the machine, so stopping it
would break other people's work; this starts a second server from a temporary data directory on
a free loopback port instead, and always removes it again.

The server binaries refuse to run as root, so when the tests run as root (as in CI containers)
every server command runs as the `postgres` user through `runuser`, and the directory belongs
to that user. Missing binaries fail loudly: a fault test that quietly skips proves nothing.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.processes.procs import free_port

SERVER_USER = "postgres"
START_TIMEOUT_S = 30


def find_bindir() -> Path:
    """The newest PostgreSQL server bin directory: Debian's /usr/lib/postgresql/N/bin first."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", Path(path).parent.name))

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                check=False)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(result.stdout.strip())
    for candidate in candidates:
        if all((Path(candidate) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    raise RuntimeError(
        "No PostgreSQL server binaries (initdb, pg_ctl, postgres) in /usr/lib/postgresql/*/bin "
        "or `pg_config --bindir`: install the PostgreSQL server package to run this fault test."
    )


class SparePostgres:
    """One private server: its data directory, port and log all live under `root`."""

    def __init__(self, root: Path, bindir: Path, port: int) -> None:
        self.root = root
        self.bindir = bindir
        self.port = port
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.running = False

    @property
    def url(self) -> str:
        """What ops would write in BACKSTRIDE_DATABASE_URL."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def sqlalchemy_url(self) -> str:
        """The same, naming the psycopg 3 driver, for make_engine and migrations in-process."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        """Create the cluster: trust auth, loopback TCP only, a socket of its own, no fsync."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "full_page_writes": "off",
            "logging_collector": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", str(START_TIMEOUT_S))
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session at once, `immediate` is a crash."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w",
                  "-t", str(START_TIMEOUT_S))
        self.running = False

    def kill(self) -> None:
        """Stop the server however it can be stopped: a crash stop, else SIGKILL its postmaster.

        For cleanup, so it never raises; a server left running would outlive its directory.
        """
        pid_file = self.data / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        with suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate")
            return
        if pid is not None:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.running = False

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        # Run from the directory the server user owns: runuser keeps the caller's cwd, which
        # that user may not be allowed to enter.
        result = subprocess.run(command, cwd=self.root, capture_output=True, text=True,
                                check=False, timeout=START_TIMEOUT_S + 30)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}\n{self.log_tail()}")


@contextmanager
def spare_postgres() -> Iterator[SparePostgres]:
    """A running throwaway server; stopped and deleted on exit, whatever happened inside."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="backstride-pg-"))
    try:
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(f"running as root needs a {SERVER_USER!r} user to run the "
                                   "server as; there is none") from None
            if not shutil.which("runuser"):
                raise RuntimeError("running as root needs `runuser` to drop to the server user")
            os.chown(root, owner.pw_uid, owner.pw_gid)
        server = SparePostgres(root, bindir, free_port())
        server.init()
        server.start()
        try:
            yield server
        finally:
            if server.running or (server.data / "postmaster.pid").exists():
                server.kill()
    finally:
        shutil.rmtree(root, ignore_errors=True)
