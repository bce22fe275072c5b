"""infra/scripts/compose_check.py (`make compose-check`) refuses a broken container set-up."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("compose_check", ROOT / "infra/scripts/compose_check.py")
assert _spec and _spec.loader
compose_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compose_check)

DOCKERFILE = "FROM python AS build\nRUN pip install x\nFROM python\nUSER 10001:10001\nCMD {cmd}\n"
SECRETS = {"SECRET_KEY": "", "OTP_SECRET": "", "OTP_SERVICE_TOKEN": ""}


def _service(command: list[str], environment: dict | None = None) -> dict:
    build = {"context": ".", "dockerfile": "services/otp/Dockerfile"}
    return {"build": build, "command": command, "environment": environment or dict(SECRETS)}


def _config(**services: dict) -> dict:
    web, worker = ["services/otp/bin/web"], ["services/otp/bin/worker"]
    return {"services": {"otp": _service(web), "otp-worker": _service(worker)} | services}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A service with two bin/ scripts and a Dockerfile whose CMD is the web one."""
    for name in ("web", "worker"):
        script = tmp_path / "services/otp/bin" / name
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text("#!/bin/sh\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "services/otp/Dockerfile").write_text(DOCKERFILE.format(cmd='["services/otp/bin/web"]'))
    return tmp_path


def test_a_sound_set_up_passes(repo):
    assert compose_check.check_processes(repo, _config()) == []
    prod = {"services": {"proxy": {"ports": [{"target": 80}, {"target": 443}]}} | _config()["services"]}
    prod["services"]["core"] = {"environment": {"TRUSTED_PROXY_COUNT": "1"}}
    assert compose_check.check_compose(_config(), prod) == []


def test_the_repositorys_env_example_names_every_variable_read():
    assert compose_check.check_env_example(ROOT) == []


@pytest.mark.parametrize(
    ("dockerfile", "complaint"),
    [
        (DOCKERFILE.format(cmd='["services/otp/bin/worker2"]'), "is the command of none of its services"),
        (DOCKERFILE.format(cmd="services/otp/bin/web"), "(exec form)"),
        (DOCKERFILE.replace("USER 10001:10001", "USER root").format(cmd='["services/otp/bin/web"]'), "non-root"),
        ('FROM python\nUSER 1\nFROM python\nCMD [\\\n  "services/otp/bin/web"]\n', "non-root"),
    ],
    ids=["cmd-of-no-service", "shell-form-cmd", "root-user", "user-of-an-earlier-stage"],
)
def test_a_broken_dockerfile_fails(repo, dockerfile, complaint):
    (repo / "services/otp/Dockerfile").write_text(dockerfile)
    problems = compose_check.check_processes(repo, _config())
    assert any(complaint in p for p in problems), problems


def test_a_command_that_is_not_a_bin_script_or_a_script_nobody_runs_fails(repo):
    problems = compose_check.check_processes(repo, _config(**{"otp-worker": _service(["celery", "worker"])}))
    assert any("command ['celery', 'worker'] is not one of services/otp/bin/*" in p for p in problems), problems
    assert any("services/otp/bin/worker: no compose service runs it" in p for p in problems), problems


def test_a_secret_with_a_default_or_a_published_port_fails():
    dev = _config(otp=_service(["services/otp/bin/web"], environment=SECRETS | {"OTP_SECRET": "dev"}))
    prod = {"services": {"redis": {"ports": [{"target": 6379}]}, "core": {"environment": {}}}}
    problems = compose_check.check_compose(dev, prod)
    assert "otp: OTP_SECRET must be passed through, empty by default" in problems
    assert any(p.startswith("production must publish only the proxy's 80 and 443") for p in problems)
    assert any("TRUSTED_PROXY_COUNT must be 1" in p for p in problems)


def test_an_undocumented_or_unread_variable_fails(tmp_path):
    settings = tmp_path / "services/otp/config/settings.py"
    settings.parent.mkdir(parents=True)
    settings.write_text('import os\nA = env.int("NEW_LIMIT", default=1)\nB = os.environ["DOCUMENTED"]\n')
    (tmp_path / "libs/svckit/svckit").mkdir(parents=True)
    (tmp_path / "libs/svckit/svckit/settings.py").write_text("")
    (tmp_path / ".env.example").write_text("# DOCUMENTED=1\nCOMPOSE_FILE=x\nGONE=1\n")
    assert compose_check.check_env_example(tmp_path) == [
        ".env.example: NEW_LIMIT (read in services/otp/config/settings.py) is not documented",
        ".env.example: GONE is documented but nothing reads it",
    ]
