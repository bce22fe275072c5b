"""infra/scripts/compose_check.py (`make compose-check`) refuses a broken container set-up."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("compose_check", ROOT / "infra/scripts/compose_check.py")
assert _spec and _spec.loader
compose_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compose_check)

SECRETS = {"SECRET_KEY": "", "OTP_SECRET": "", "OTP_SERVICE_TOKEN": ""}


def _service(command: list[str], environment: dict | None = None) -> dict:
    build = {"context": ".", "dockerfile": "services/otp/Dockerfile"}
    return {"build": build, "command": command, "environment": environment or dict(SECRETS)}


def _config(**services: dict) -> dict:
    web, worker = ["services/otp/bin/web"], ["services/otp/bin/worker"]
    return {"services": {"otp": _service(web), "otp-worker": _service(worker)} | services}


def test_a_sound_set_up_passes():
    prod = {"services": {"proxy": {"ports": [{"target": 80}, {"target": 443}]}} | _config()["services"]}
    prod["services"]["core"] = {"environment": {"TRUSTED_PROXY_COUNT": "1"}}
    assert compose_check.check_compose(_config(), prod) == []


def test_the_repositorys_env_example_names_every_variable_read():
    assert compose_check.check_env_example(ROOT) == []


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
