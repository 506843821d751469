"""The dashboard's committed build (service/api/dashboard/static, which `make run` serves with no
Node step) is what its sources build to: `npm ci` from the lock, the client generated from the
committed spec, tsc, and `vite build` into a scratch directory, compared file by file."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from tests.processes.clients import ROOT, SPEC, node_tools, npm_ci, output, run

pytestmark = pytest.mark.processes
DASHBOARD = ROOT / "dashboard"
COMMITTED = ROOT / "service" / "api" / "dashboard" / "static"


def files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_committed_assets_are_what_the_sources_build_to(tmp_path):
    node_tools()
    modules = npm_ci(DASHBOARD)
    (tmp_path / "openapi").mkdir()
    shutil.copy2(SPEC, tmp_path / "openapi" / "openapi.json")
    project = tmp_path / "dashboard"
    shutil.copytree(DASHBOARD, project, ignore=shutil.ignore_patterns("node_modules",
                                                                      "generated"))
    (project / "node_modules").symlink_to(modules, target_is_directory=True)
    out = tmp_path / "built"
    bins = project / "node_modules" / ".bin"
    for argv in ([bins / "openapi-ts"], [bins / "tsc", "--noEmit"],
                 [bins / "vite", "build", "--outDir", out, "--emptyOutDir"]):
        result = run(argv, project, 300)
        assert result.returncode == 0, output(result)
    built, committed = files(out), files(COMMITTED)
    assert sorted(built) == sorted(committed), (
        "rebuild the dashboard: cd dashboard && npm ci && npm run build")
    differ = [name for name in built if not filecmp.cmp(built[name], committed[name],
                                                        shallow=False)]
    assert differ == [], f"{differ} differ: cd dashboard && npm ci && npm run build"
