"""podman behind the pinned Docker Compose binary, for `make compose-smoke` (compose_smoke.py):
the engine set up and served as a Docker API socket, the local Debian base images, and a compose
project driven through it with its healthchecks run on demand."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mirakuru import UnixSocketExecutor

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "smoke"
PROJECT = "referrals-smoke"
BASE = "localhost/referrals-smoke"
DEBIAN_IMAGE = f"{BASE}/debian:bookworm"
STAGES = ("python", "postgres", "redis", "caddy")
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
HEALTHY_WITHIN_SECONDS = 300


def log(message: str) -> None:
    print(f"== {message}", flush=True)


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=True, **kwargs)


# podman 4.3 on this kind of host: its default container ulimits are refused, and crun refuses
# cgroups in hybrid mode (v1 controllers plus a v2 mount) where runc runs.
CONTAINERS_SETTINGS = {("containers", "default_ulimits"): "[]", ("engine", "runtime"): '"runc"'}


def ensure_podman() -> None:
    missing = [tool for tool in ("podman", "debootstrap", "runc") if not shutil.which(tool)]
    if missing:
        log(f"apt-get install podman catatonit runc debootstrap (missing: {', '.join(missing)})")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env)
        packages = ("podman", "catatonit", "runc", "debootstrap")
        run("apt-get", "install", "-y", "-qq", *packages, env=env, stdout=subprocess.DEVNULL)
    text = CONTAINERS_CONF.read_text() if CONTAINERS_CONF.exists() else ""
    for (section, key), value in CONTAINERS_SETTINGS.items():
        if re.search(rf"^\s*{key}\s*=", text, re.M):
            continue
        log(f"{CONTAINERS_CONF}: [{section}] {key} = {value}")
        if f"[{section}]" in text:
            text = text.replace(f"[{section}]", f"[{section}]\n{key} = {value}", 1)
        else:
            text += f"\n[{section}]\n{key} = {value}\n"
    CONTAINERS_CONF.parent.mkdir(parents=True, exist_ok=True)
    CONTAINERS_CONF.write_text(text)


@contextmanager
def podman_service() -> Iterator[str]:
    """`podman system service` on a socket of our own: the Docker API the Compose binary talks to."""
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / "podman.sock"
    path.unlink(missing_ok=True)
    service = UnixSocketExecutor(
        ["podman", "system", "service", "--time=0", f"unix://{path}"], socket_name=str(path), timeout=60
    )
    with service:
        yield f"unix://{path}"


def image_exists(name: str) -> bool:
    return subprocess.run(["podman", "image", "exists", name]).returncode == 0


def build_base_images() -> None:
    if not image_exists(DEBIAN_IMAGE):
        rootfs = VAR / "rootfs"
        shutil.rmtree(rootfs, ignore_errors=True)
        log("debootstrap bookworm (cached as an image for the next runs)")
        run(
            "debootstrap",
            "--variant=minbase",
            "bookworm",
            rootfs,
            "http://deb.debian.org/debian",
            stdout=subprocess.DEVNULL,
        )
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        run(
            "podman",
            "import",
            "--change",
            "CMD=/bin/bash",
            "-",
            DEBIAN_IMAGE,
            stdin=tar.stdout,
            stdout=subprocess.DEVNULL,
        )
        assert tar.wait() == 0, "tar of the debootstrap root failed"
        shutil.rmtree(rootfs, ignore_errors=True)
    context = VAR / "context"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "infra/smoke/postgres-entrypoint.sh", context)
    shutil.copy(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"), context / "host-ca-bundle.crt")
    for stage in STAGES:
        log(f"base image {BASE}/{stage}:bookworm")
        run(
            "podman", "build", "--quiet", "--target", stage, "--build-arg", f"DEBIAN_IMAGE={DEBIAN_IMAGE}",
            "-t", f"{BASE}/{stage}:bookworm", "-f", ROOT / "infra/smoke/Containerfile", context,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip


class Stack:
    """One compose project (its files and .env) driven through the podman socket."""

    def __init__(self, compose: Path, docker_host: str, files: list[str], env: dict[str, str]) -> None:
        self.env_file = VAR / f"{'-'.join(Path(f).stem for f in files)}.env"
        # Also the containers' (infra/smoke/compose.smoke.yml), as an operator's .env is both.
        env = {**env, "SMOKE_ENV_FILE": str(self.env_file)}
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        self.command = [str(compose), "-p", PROJECT, "--env-file", str(self.env_file)]
        self.command += [arg for f in files for arg in ("-f", str(ROOT / f))]
        self._healthchecks: dict[str, float | None] = {}
        self._last: dict[str, tuple[float, bool]] = {}
        self.process_env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "DOCKER_HOST": docker_host,
        }

    def compose(
        self, *args: str, check: bool = True, capture: bool = False, stdin: str | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.command, *args],
            env=self.process_env,
            cwd=ROOT,
            check=check,
            capture_output=capture,
            text=True,
            input=stdin,
        )

    def containers(self) -> list[dict]:
        listed = subprocess.run(
            ["podman", "ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}", "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(listed or "[]")

    def service(self, name: str) -> list[dict]:
        """The containers of one compose service, running or not."""
        return [c for c in self.containers() if c["Labels"].get("com.docker.compose.service") == name]

    def address(self, container: dict, network: str) -> str:
        """The container's IP address on one of the project's networks (`back`, `front`)."""
        inspected = subprocess.run(
            ["podman", "inspect", "--format", "{{json .NetworkSettings.Networks}}", container["Id"]],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(inspected)[f"{PROJECT}_{network}"]["IPAddress"]

    def logs(self, container: dict) -> str:
        return subprocess.run(["podman", "logs", container["Id"]], capture_output=True, text=True).stdout

    def memory(self) -> dict[str, tuple[float, float]]:
        """Each running container's memory in MiB: (peak, now), cache included, from its cgroup
        (v1, podman's cgroupfs manager: libpod_parent/libpod-<id>)."""
        found = {}
        for container in self.containers():
            group = Path("/sys/fs/cgroup/memory/libpod_parent") / f"libpod-{container['Id']}"
            if container["State"] == "running" and group.exists():
                peak, now = (
                    int((group / f).read_text()) for f in ("memory.max_usage_in_bytes", "memory.usage_in_bytes")
                )
                found[container["Names"][0]] = (peak / 2**20, now / 2**20)
        return found

    def up(self, *services: str, healthy: bool = True, scale: dict[str, int] | None = None) -> bool:
        """`compose up -d` while driving the healthchecks it waits for (depends_on: service_healthy).
        True when it succeeded and, if `healthy`, every container with a healthcheck passes it.
        `scale` runs that many replicas of those services (`--scale`), keeping the running ones."""
        if not scale:  # scaling out starts more of the images just built
            self.compose("build", *services)
        scaling = [arg for name, n in (scale or {}).items() for arg in ("--scale", f"{name}={n}")]
        scaling += ["--no-recreate"] if scale else []
        command = [*self.command, "up", "-d", *scaling, *services]
        up = subprocess.Popen(command, env=self.process_env, cwd=ROOT)
        deadline = time.monotonic() + HEALTHY_WITHIN_SECONDS
        while time.monotonic() < deadline:
            passing = [self.check(c) for c in self.containers() if c["State"] == "running"]
            if up.poll() is not None and (up.returncode != 0 or not healthy or all(passing)):
                if up.returncode != 0:
                    self.report()
                return up.returncode == 0
            time.sleep(1)
        up.kill()
        self.report()
        raise AssertionError(f"the stack was not healthy within {HEALTHY_WITHIN_SECONDS} s")

    def report(self) -> None:
        self.compose("ps", "-a", check=False)
        self.compose("logs", "--tail", "40", check=False)

    def check(self, container: dict) -> bool:
        """The container's healthcheck, run at most once per its interval as the engine's timer would
        (runs more often would spend its retries early); True when it passes (or it has none)."""
        name = container["Names"][0]
        if name not in self._healthchecks:
            inspected = subprocess.run(
                ["podman", "inspect", "--format", "{{json .Config.Healthcheck}}", name], capture_output=True, text=True
            ).stdout.strip()
            config = json.loads(inspected) if inspected not in {"", "null", "<nil>"} else None
            self._healthchecks[name] = (config or {}).get("Interval", 0) / 1e9 if config else None
        interval = self._healthchecks[name]
        if interval is None:
            return True
        last_run, passed = self._last.get(name, (0.0, False))
        if not passed and time.monotonic() - last_run >= interval:
            passed = subprocess.run(["podman", "healthcheck", "run", name], capture_output=True).returncode == 0
            self._last[name] = (time.monotonic(), passed)
        return passed

    def remove(self, *, images: bool = False) -> None:
        self.compose("down", "--volumes", "--remove-orphans", *(["--rmi", "local"] if images else []), check=False)
