"""What the generated-client tests share: a live API, the npm install, the generated Python client.

The clients are built from the spec in the work tree (openapi/openapi.json) in scratch directories,
never in place, so two suites running at once in one tree do not trip over each other's output.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes.procs import answers, free_port, start, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"
TYPESCRIPT = ROOT / "clients" / "typescript"
PYTHON_FLOW = ROOT / "clients" / "python" / "phone_flow.py"
NODE_MAJOR = 20


@contextlib.contextmanager
def live_api(tmp_path: Path) -> Iterator[str]:
    """`backstride serve` on a free port, SQLite in tmp_path; yields its base URL."""
    port = free_port()
    env = {"BACKSTRIDE_DATA_DIR": str(tmp_path / "var"), "BACKSTRIDE_DATABASE_URL": "",
           "BACKSTRIDE_BROKER_URL": "", "BACKSTRIDE_SECRET_KEY": "", "PORT": str(port),
           "BACKSTRIDE_PASSWORD_PROFILE": "cheapest",
           "BACKSTRIDE_RATELIMIT_DEFAULT": "100000 per minute",
           "BACKSTRIDE_RATELIMIT_AUTH": "100000 per minute"}
    log = tmp_path / "serve.log"
    migrated = start(["db", "upgrade"], env, log, cwd=tmp_path)
    assert migrated.wait(60) == 0, log.read_text()
    server = start(["serve", "--workers", "1"], env, log, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{base}/healthz"), 30, "the API", log)
        yield base
    finally:
        stop(server)


def run(args: list[str | Path], cwd: Path, timeout: float, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"$ {' '.join(map(str, result.args))}\n{result.stdout}{result.stderr}"


# --- Node: the toolchain and the pinned packages ----------------------------------------------

def node_tools() -> dict[str, str]:
    """node, npm and node's version, or a failure that says how to get them (never a skip)."""
    tools = {name: shutil.which(name) for name in ("node", "npm")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: the generated TypeScript client needs "
                    f"Node {NODE_MAJOR}+ with npm (Debian: apt-get install nodejs npm)",
                    pytrace=False)
    version = subprocess.run([tools["node"], "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < NODE_MAJOR:
        pytest.fail(f"node {version} is too old: Node {NODE_MAJOR}+ is needed", pytrace=False)
    return {"node": str(tools["node"]), "npm": str(tools["npm"]), "version": version}


def _installed_digest(node_version: str, project: Path = TYPESCRIPT) -> str:
    """What the install was made from (lock, manifest, .npmrc, node) and what npm says it made
    (node_modules/.package-lock.json, which any later `npm install` in place rewrites)."""
    digest = hashlib.sha256(node_version.encode())
    for path in (project / "package.json", project / "package-lock.json",
                 project / ".npmrc", project / "node_modules" / ".package-lock.json"):
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def npm_ci(project: Path = TYPESCRIPT) -> Path:
    """project/node_modules (clients/typescript's by default, or dashboard/'s) as its
    package-lock.json pins it: `npm ci`, unless the last install was made from the same lock and
    nothing changed it since (a stamp says so)."""
    tools = node_tools()
    modules = project / "node_modules"
    stamp = modules / ".backstride-installed"
    lock_name = f"backstride-npm-{hashlib.sha256(str(project).encode()).hexdigest()[:12]}.lock"
    with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another suite in this tree may be installing
        digest = _installed_digest(tools["version"], project)
        if not (stamp.exists() and stamp.read_text() == digest):
            result = run([tools["npm"], "ci", "--no-audit", "--no-fund"], project, 600)
            assert result.returncode == 0, "npm ci failed\n" + output(result)
            stamp.write_text(_installed_digest(tools["version"], project))
    return modules


def scratch_typescript(tmp: Path, modules: Path) -> Path:
    """The client's committed files and the spec in the repo's layout under tmp, node_modules
    linked: the config's own relative paths (../../openapi/openapi.json) hold there."""
    (tmp / "openapi").mkdir(parents=True)
    shutil.copy2(SPEC, tmp / "openapi" / "openapi.json")
    project = tmp / "clients" / "typescript"
    shutil.copytree(TYPESCRIPT, project, ignore=shutil.ignore_patterns(
        "node_modules", "dist", "generated"))
    (project / "node_modules").symlink_to(modules, target_is_directory=True)
    return project


def bin_(project: Path, name: str) -> Path:
    return project / "node_modules" / ".bin" / name


# --- Python: the package openapi-python-client makes -----------------------------------------

def generated_python_client(tmp: Path) -> Path:
    """The spec's client generated and pip-installed into tmp/site, which it returns."""
    config = tmp / "generator.yaml"
    config.write_text("project_name_override: backstride-client\npost_hooks: []\n")
    bin_dir = Path(sys.executable).parent
    result = run([bin_dir / "openapi-python-client", "generate", "--path", SPEC, "--meta",
                  "setup", "--config", config, "--output-path", tmp / "client"], tmp, 120)
    assert result.returncode == 0, output(result)
    site = tmp / "site"
    result = run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                  "--no-build-isolation", "--target", site, tmp / "client"], tmp, 120)
    assert result.returncode == 0, output(result)
    assert (site / "backstride_client" / "py.typed").is_file()
    return site
