"""The compose stack names real images and real commands (no Docker engine runs here to try it)."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from service.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
OUR_SERVICES = ("migrate", "api", "worker", "beat")


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_stack_has_every_process_ops_run():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker", "beat", "flower"}
    for name in ("postgres", "redis", "flower"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name} pins its image: {image}"


def test_our_services_are_built_from_the_dockerfile_and_configured():
    services = compose()["services"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in dockerfile and "USER backstride" in dockerfile
    for name in OUR_SERVICES:
        service = services[name]
        assert service["build"] == "."
        env = service["environment"]
        assert env["BACKSTRIDE_DATABASE_URL"].startswith("postgresql://")
        assert env["BACKSTRIDE_BROKER_URL"].startswith("redis://redis:6379")
        assert "BACKSTRIDE_SECRET_KEY" in env


def test_every_command_in_the_stack_is_a_real_backstride_command():
    runner = CliRunner()
    for name in OUR_SERVICES:
        command = compose()["services"][name]["command"]
        assert command[0] == "backstride", name
        words = [w for w in command[1:] if not w.startswith("-")][:2]
        result = runner.invoke(cli, [*words[: 2 if words[0] == "db" else 1], "--help"])
        assert result.exit_code == 0, f"{name}: {' '.join(command)}\n{result.output}"


def test_the_api_runs_under_gunicorn_and_beat_runs_exactly_once():
    services = compose()["services"]
    assert services["api"]["command"][:2] == ["backstride", "serve"]
    help_text = CliRunner().invoke(cli, ["serve", "--help"]).output
    assert "gunicorn" in help_text
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["migrate"]["restart"] == "no"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
