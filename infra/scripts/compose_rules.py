"""What `make compose-check` holds the compose files to, read from Docker Compose's resolved
configuration (`compose config --format json`) of production (docker-compose.yml alone, no .env)
and development (with docker-compose.override.yml). Each function returns its problems as
sentences naming the service; docs/trust-zones.md explains the rules."""

from __future__ import annotations

import re

SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|SECRET_KEY|SIGNING_KEY)$")
URL_CREDENTIALS = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?:(?P<user>[^:@/]*)(?::(?P<password>[^@/]*))?@)?")
# What a service may add back after cap_drop: [ALL], because it has shown it needs it.
CAPABILITIES = {"proxy": {"NET_BIND_SERVICE"}}
# The trust zones: the proxy on front only, the core on both, everything else on back only.
NETWORKS = {"proxy": {"front"}, "core": {"front", "back"}}
MIGRATE = ["services/core/bin/migrate"]


def _environment(service: dict) -> dict[str, str]:
    return {name: "" if value is None else str(value) for name, value in (service.get("environment") or {}).items()}


def production_secrets(prod: dict) -> list[str]:
    """No password or secret has a value of its own in production, in a variable or in a URL; every
    Redis URL names its ACL user."""
    problems = []
    for name, service in prod["services"].items():
        for variable, value in _environment(service).items():
            if SECRET_NAME.search(variable) and value:
                problems.append(f"{name}: {variable} must have no default in production (pass it through, empty)")
            url = URL_CREDENTIALS.match(value)
            if url and url["password"]:
                problems.append(f"{name}: {variable} must have no password of its own in production")
            if url and url["scheme"] in {"redis", "rediss"} and not url["user"]:
                problems.append(f"{name}: {variable} must name its Redis user (redis://<user>:<password>@...)")
    return problems


def environments(prod: dict, dev: dict, built_here: set[str]) -> list[str]:
    """docker-compose.yml alone is production; the override makes development."""
    problems = []
    for config, wanted in ((prod, "production"), (dev, "development")):
        for name in sorted(built_here & set(config["services"])):
            if _environment(config["services"][name]).get("APP_ENV") != wanted:
                problems.append(f"{name}: APP_ENV must be {wanted} in {wanted}")
    for name, service in dev["services"].items():
        for port in service.get("ports", []):
            if port.get("host_ip") != "127.0.0.1":
                problems.append(f"{name}: development must publish port {port['target']} on 127.0.0.1 only")
    return problems


def hardening(prod: dict) -> list[str]:
    """Every container: no capability but those it needs, no new privileges, a memory limit, a
    read-only root file system."""
    problems = []
    for name, service in prod["services"].items():
        if "ALL" not in service.get("cap_drop", []):
            problems.append(f"{name}: cap_drop must be [ALL]")
        if extra := set(service.get("cap_add", [])) - CAPABILITIES.get(name, set()):
            problems.append(f"{name}: adds capabilities it has not shown it needs: {sorted(extra)}")
        if "no-new-privileges:true" not in service.get("security_opt", []):
            problems.append(f'{name}: security_opt must hold "no-new-privileges:true"')
        if not service.get("mem_limit"):
            problems.append(f"{name}: mem_limit must be set")
        if service.get("read_only") is not True:
            problems.append(f"{name}: read_only must be true (tmpfs for what it writes)")
    return problems


def networks(prod: dict) -> list[str]:
    """The proxy reaches only the core; both networks isolated from each other under podman too."""
    problems = []
    for name, service in prod["services"].items():
        joined, wanted = set(service.get("networks") or {"default"}), NETWORKS.get(name, {"back"})
        if joined != wanted:
            problems.append(f"{name}: must be on the {sorted(wanted)} network(s), not {sorted(joined)}")
    for network in ("front", "back"):
        if (prod.get("networks", {}).get(network) or {}).get("driver_opts", {}).get("isolate") != "true":
            problems.append(f"network {network}: driver_opts isolate must be true (podman routes between bridges)")
    return problems


def migrations(prod: dict) -> list[str]:
    """One migrate service per deploy, which the core's processes wait for."""
    services = prod["services"]
    if (services.get("migrate") or {}).get("command") != MIGRATE:
        return [f"migrate: a one-shot service must run {MIGRATE[0]}"]
    problems = []
    for name in ("core", "core-worker"):
        condition = ((services[name].get("depends_on") or {}).get("migrate") or {}).get("condition")
        if condition != "service_completed_successfully":
            problems.append(f"{name}: must depend on migrate with condition service_completed_successfully")
    return problems


# Redis' start script names each service's prefixes and control channel (infra/redis/start.sh).
REDIS_USERS = {
    "otp": {"OTP_KEY_PREFIX": "OTP_KEY_PREFIX", "CELERY_KEY_PREFIX": "OTP_CELERY_KEY_PREFIX"},
    "core": {"CACHE_KEY_PREFIX": "CORE_CACHE_KEY_PREFIX", "CELERY_KEY_PREFIX": "CORE_CELERY_KEY_PREFIX"},
}


def redis_users(prod: dict, kinds: dict[str, str]) -> list[str]:
    """Each service's Redis user is allowed exactly the key prefixes it uses, and the control
    channel its worker subscribes to: CELERY_KEY_PREFIX + "/<broker DB>.celery.pidbox" (kombu's
    fanout topic). `kinds`: service name → "otp" or "core" (whose image it runs)."""
    allowed = _environment(prod["services"].get("redis", {}))
    problems = []
    for name, kind in sorted(kinds.items()):
        env = _environment(prod["services"][name])
        for variable, given_to_redis in REDIS_USERS[kind].items():
            if env.get(variable) != allowed.get(given_to_redis):
                problems.append(f"{name}: {variable} must be what Redis' {kind} user may touch ({given_to_redis})")
        broker_db = env.get(f"{kind.upper()}_CELERY_BROKER_URL", "").rpartition("/")[2]
        fanout = f"{env.get('CELERY_KEY_PREFIX', '')}/{broker_db}.celery.pidbox"
        if allowed.get(f"{kind.upper()}_CELERY_FANOUT") != fanout:
            problems.append(f"redis: {kind.upper()}_CELERY_FANOUT must be {fanout!r}, the channel {name} subscribes to")
    return problems
