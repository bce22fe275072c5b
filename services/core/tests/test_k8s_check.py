"""infra/scripts/validate_k8s.py (`make k8s-check`): the shipped overlays keep every rule, and each
rule refuses the manifest that breaks it (a container that loses a hardening field, a public route
to an internal path, a missing network policy, a console SMS backend, a secret in git)."""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver, reverse

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("validate_k8s", ROOT / "infra/scripts/validate_k8s.py")
assert _spec and _spec.loader
validate_k8s = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(validate_k8s)

OVERLAYS = sorted(p.parent.name for p in (ROOT / "infra/k8s/overlays").glob("*/kustomization.yaml"))
# What only the orchestrator, Prometheus and the admins may reach (services/core/config/urls.py).
INTERNAL = {"healthz", "readyz", "metrics", "admin:index"}
SAMPLE_KWARGS = {"web:invite": {"invite_code": "AB12CD34"}, "schema-json": {"format": "json"}}
HARDENING = [
    ("securityContext.allowPrivilegeEscalation", lambda c, p: c["securityContext"].pop("allowPrivilegeEscalation")),
    ("securityContext.capabilities.drop", lambda c, p: c["securityContext"]["capabilities"].pop("drop")),
    ("securityContext.readOnlyRootFilesystem", lambda c, p: c["securityContext"].pop("readOnlyRootFilesystem")),
    ("securityContext.runAsNonRoot", lambda c, p: p["securityContext"].pop("runAsNonRoot")),
    ("securityContext.seccompProfile.type", lambda c, p: p["securityContext"].pop("seccompProfile")),
    ("resources.limits.cpu", lambda c, p: c["resources"]["limits"].pop("cpu")),
    ("resources.requests.memory", lambda c, p: c["resources"]["requests"].pop("memory")),
]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {overlay: validate_k8s.render(ROOT / "infra/k8s/overlays" / overlay) for overlay in OVERLAYS}


def _objects(rendered: dict[str, list[dict]], overlay: str = "production") -> list[dict]:
    return copy.deepcopy(rendered[overlay])


def _find(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _every_container(objects: list[dict]) -> list[tuple[str, str, str]]:
    """(workload name, containers field, container name) of every container of every workload."""
    return [
        (o["metadata"]["name"], field, c["name"])
        for o in objects
        if (pod := validate_k8s.pod_spec(o)) is not None
        for field in ("containers", "initContainers")
        for c in pod.get(field, [])
    ]


def test_the_overlays_are_production_and_admin():
    assert OVERLAYS == ["production", "production-admin"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_shipped_overlay_keeps_every_rule(rendered, overlay):
    assert validate_k8s.rules(_objects(rendered, overlay)) == []


def test_the_base_names_no_sms_provider():
    assert validate_k8s.check_base_sms_backend(validate_k8s.render(ROOT / "infra/k8s/base")) == []


def test_every_workload_has_its_containers_and_the_core_pods_wait_for_migrations(rendered):
    containers = _every_container(_objects(rendered))
    assert sorted(containers) == [
        ("core", "containers", "core"),
        ("core", "initContainers", "wait-for-migrations"),
        ("core-migrate", "containers", "migrate"),
        ("core-worker", "containers", "worker"),
        ("core-worker", "initContainers", "wait-for-migrations"),
        ("otp", "containers", "otp"),
        ("otp-worker", "containers", "worker"),
    ]
    for workload in ("core", "core-worker"):
        init = validate_k8s.pod_spec(_find(_objects(rendered), "Deployment", workload))["initContainers"][0]
        assert init["command"] == ["python", "services/core/manage.py", "migrate", "--check"]
    job = validate_k8s.pod_spec(_find(_objects(rendered), "Job", "core-migrate"))["containers"][0]
    assert job["command"] == ["python", "services/core/manage.py", "migrate", "--noinput"]


@pytest.mark.parametrize(("field", "remove"), HARDENING, ids=[f for f, _ in HARDENING])
def test_a_container_that_loses_a_hardening_field_is_named(rendered, field, remove):
    """Every container of every workload, one at a time: the problem names it and the field."""
    for workload, containers_field, container_name in _every_container(_objects(rendered)):
        objects = _objects(rendered)
        obj = next(o for o in objects if o["metadata"]["name"] == workload and validate_k8s.pod_spec(o))
        pod = validate_k8s.pod_spec(obj)
        remove(next(c for c in pod[containers_field] if c["name"] == container_name), pod)
        problems = validate_k8s.check_pod_security(objects)
        kind = "init container" if containers_field == "initContainers" else "container"
        assert f"{obj['kind']}/{workload} {kind} {container_name}: {field} must" in " ".join(problems), problems


def test_a_privileged_root_container_with_host_access_is_refused(rendered):
    objects = _objects(rendered)
    pod = validate_k8s.pod_spec(_find(objects, "Deployment", "otp"))
    pod["hostNetwork"] = True
    pod["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    pod["containers"][0]["securityContext"] |= {
        "privileged": True,
        "runAsUser": 0,
        "capabilities": {"add": ["NET_RAW"]},
    }
    problems = validate_k8s.check_pod_security(objects)
    for expected in (
        "Deployment/otp: spec.hostNetwork must not be true",
        "Deployment/otp: volume host is hostPath, not allowed",
        "Deployment/otp container otp: securityContext.privileged must not be true",
        "Deployment/otp container otp: securityContext.runAsUser must not be 0",
        "Deployment/otp container otp: securityContext.capabilities.drop must include ALL",
        "Deployment/otp container otp: securityContext.capabilities.add may only be NET_BIND_SERVICE",
    ):
        assert expected in problems, problems


def test_the_namespace_enforces_pod_security_restricted(rendered):
    objects = _objects(rendered)
    namespace = _find(objects, "Namespace", "referrals")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"
    assert validate_k8s.check_namespace(objects) == [
        "Namespace/referrals: label pod-security.kubernetes.io/enforce must be restricted"
    ]


def _url_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield "admin:index"
                continue
            yield from _url_names(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
        elif pattern.name:
            yield namespace + pattern.name


def _routed(ingress: dict, path: str) -> bool:
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    return any(validate_k8s.routes(p["path"], p["pathType"], path) for p in paths)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_public_ingress_routes_every_public_url_of_the_core_and_no_internal_one(rendered, overlay):
    """Every named URL of the core's URLconf, as the core itself reverses it."""
    ingresses = [o for o in rendered[overlay] if o["kind"] == "Ingress"]
    public = _find(ingresses, "Ingress", "core")
    names = set(_url_names(get_resolver().url_patterns))
    assert names >= INTERNAL and len(names) > 20
    for url_name in sorted(names):
        path = reverse(url_name, kwargs=SAMPLE_KWARGS.get(url_name))
        assert _routed(public, path) is (url_name not in INTERNAL), (url_name, path)
        for other in (i for i in ingresses if i is not public):
            assert _routed(other, path) is (url_name == "admin:index"), (other["metadata"]["name"], path)
    for path in ("/admin", "/admin/login/", "/metrics/", "/readyz/", "/healthz", "/adminx/", "/static/../admin/"):
        assert not _routed(public, path.replace("/static/../", "/")), path


def test_the_admin_ingress_allows_only_its_listed_networks(rendered):
    admin = _find(rendered["production-admin"], "Ingress", "core-admin")
    allowlist = admin["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
    assert allowlist == "203.0.113.0/24"  # a documentation range: nobody until the operator lists theirs
    del admin["metadata"]["annotations"]
    assert validate_k8s.check_ingresses([admin]) == [
        "Ingress/core-admin: path /admin/ (Prefix) routes /admin to the public side",
        "Ingress/core-admin: path /admin/ (Prefix) routes /admin/ to the public side",
        "Ingress/core-admin: path /admin/ (Prefix) routes /admin/login/ to the public side",
    ]


@pytest.mark.parametrize(
    ("path", "path_type", "routed"),
    [("/", "Prefix", "/metrics"), ("/metrics", "Exact", "/metrics"), ("/read", "ImplementationSpecific", None)],
)
def test_a_catch_all_or_an_internal_route_is_refused(rendered, path, path_type, routed):
    objects = _objects(rendered)
    ingress = _find(objects, "Ingress", "core")
    backend = {"service": {"name": "core", "port": {"name": "http"}}}
    ingress["spec"]["rules"][0]["http"]["paths"].append({"path": path, "pathType": path_type, "backend": backend})
    problems = validate_k8s.check_ingresses(objects)
    where = f"Ingress/core: path {path} ({path_type})"
    assert (f"{where} routes {routed} to the public side" if routed else f"{where}: use Exact or Prefix") in " ".join(
        problems
    )
    ingress["spec"]["defaultBackend"] = backend
    assert any("spec.defaultBackend routes every path" in p for p in validate_k8s.check_ingresses(objects))


def _policy(objects: list[dict], name: str) -> dict:
    return _find(objects, "NetworkPolicy", name)


def test_the_network_policies_allow_exactly_the_documented_paths(rendered):
    objects = _objects(rendered)
    core, otp, worker = _policy(objects, "core"), _policy(objects, "otp"), _policy(objects, "otp-worker")
    sources = [peer for rule in core["spec"]["ingress"] for peer in rule["from"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}} in sources
    assert all(rule["ports"] == [{"protocol": "TCP", "port": 8000}] for rule in core["spec"]["ingress"])
    assert otp["spec"]["ingress"][0] == {
        "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "core"}}}],
        "ports": [{"protocol": "TCP", "port": 8001}],
    }
    assert [r["ports"] for r in otp["spec"]["egress"]] == [[{"protocol": "TCP", "port": 6379}]]
    internet = worker["spec"]["egress"][1]
    assert internet["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "169.254.0.0/16" in internet["to"][0]["ipBlock"]["except"]  # the cloud's metadata endpoint
    assert [r["ports"] for r in _policy(objects, "core-migrate")["spec"]["egress"]] == [
        [{"protocol": "TCP", "port": 5432}]
    ]


def test_without_default_deny_or_with_an_open_rule_or_an_unselected_pod_the_check_fails(rendered):
    objects = [o for o in _objects(rendered) if o["metadata"]["name"] != "default-deny"]
    _policy(objects, "otp")["spec"]["ingress"].append({"ports": [{"protocol": "TCP", "port": 8001}]})
    stray = copy.deepcopy(_find(objects, "Deployment", "otp"))
    stray["metadata"]["name"] = "debug"
    stray["spec"]["template"]["metadata"]["labels"] = {"app.kubernetes.io/name": "debug"}
    assert validate_k8s.check_network_policies([*objects, stray]) == [
        "no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)",
        "NetworkPolicy/otp: an ingress rule without `from` admits every source",
        "Deployment/debug: no NetworkPolicy selects its pods (it would reach nothing but DNS)",
    ]


@pytest.mark.parametrize("backend", ["console", "inbox", "twilio,inbox", ""])
def test_an_overlay_with_a_development_sms_backend_fails(rendered, backend):
    objects = _objects(rendered)
    _find(objects, "ConfigMap", "otp-config")["data"]["SMS_BACKEND"] = backend
    problems = validate_k8s.check_settings(objects)
    assert (
        f"Deployment/otp container otp: SMS_BACKEND must name real providers (twilio, smsru), not {backend!r}"
        in problems
    )
    assert any(p.startswith("Deployment/otp-worker container worker: SMS_BACKEND") for p in problems)


def test_the_production_overlay_names_a_real_provider_and_the_countries(rendered):
    otp_config = _find(_objects(rendered), "ConfigMap", "otp-config")["data"]
    assert otp_config["SMS_BACKEND"] == "twilio"
    assert _find(_objects(rendered), "ConfigMap", "referrals-config")["data"]["SMS_ALLOWED_COUNTRIES"] == "RU"


@pytest.mark.parametrize("backend", ["console", "inbox", "twilio", None])
def test_a_base_that_names_an_sms_backend_or_leaves_it_unset_fails(backend):
    """Unset, the OTP service's default would be console: the base sets it empty, which it refuses."""
    base = validate_k8s.render(ROOT / "infra/k8s/base")
    data = _find(base, "ConfigMap", "otp-config")["data"]
    assert data["SMS_BACKEND"] == ""
    if backend is None:
        del data["SMS_BACKEND"]
    else:
        data["SMS_BACKEND"] = backend
    expected = [] if backend is None else [backend]
    assert validate_k8s.check_base_sms_backend(base) == [
        f"base: SMS_BACKEND must be set once, empty (the overlays name the provider), not {expected!r}"
    ]


def test_secrets_come_only_from_an_out_of_band_secret(rendered):
    objects = _objects(rendered)
    assert not [o for o in objects if o["kind"] == "Secret"]
    objects.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "referrals-secrets"}, "stringData": {}})
    _find(objects, "ConfigMap", "core-config")["data"]["REDIS_URL"] = "redis://redis:6379"
    worker = validate_k8s.pod_spec(_find(objects, "Deployment", "otp-worker"))["containers"][0]
    worker["env"][0] = {"name": "SECRET_KEY", "value": "not-so-secret"}
    problems = validate_k8s.check_settings(objects)
    assert "Secret/referrals-secrets: a Secret does not belong in git; create it out of band" in problems
    assert "ConfigMap/core-config: REDIS_URL belongs in the Secret, not a ConfigMap" in problems
    # The init container has no REDIS_URL of its own: the ConfigMap's would be its value.
    init = "Deployment/core init container wait-for-migrations"
    assert f"{init}: REDIS_URL must come from the Secret (secretKeyRef), not a value" in problems
    assert (
        "Deployment/otp-worker container worker: SECRET_KEY must come from the Secret (secretKeyRef), not a value"
        in problems
    )


def test_each_service_has_its_own_redis_key_prefixes(rendered):
    objects = _objects(rendered)
    core, otp = (_find(objects, "ConfigMap", n)["data"] for n in ("core-config", "otp-config"))
    assert (core["CACHE_KEY_PREFIX"], core["CELERY_KEY_PREFIX"]) == ("core-cache", "core-celery:")
    assert (otp["OTP_KEY_PREFIX"], otp["CELERY_KEY_PREFIX"]) == ("otp:", "otp-celery:")
    otp["CELERY_KEY_PREFIX"] = "core-celery:x"
    assert "otp: Redis key prefixes overlap core's (core-celery:x / core-celery:)" in validate_k8s.check_settings(
        objects
    )
    del core["CACHE_KEY_PREFIX"]
    assert any("core: every Redis key prefix must be set" in p for p in validate_k8s.check_settings(objects))


def test_a_core_pod_that_does_not_wait_for_migrations_fails(rendered):
    objects = _objects(rendered)
    del validate_k8s.pod_spec(_find(objects, "Deployment", "core-worker"))["initContainers"]
    assert validate_k8s.check_settings(objects) == [
        "Deployment/core-worker container worker: its pod needs an init container running `manage.py migrate --check`"
    ]


def test_a_checkov_skip_must_give_its_reason(rendered):
    objects = _objects(rendered)
    annotations = _find(objects, "Deployment", "core-worker")["metadata"]["annotations"]
    assert re.fullmatch(r"CKV_K8S_9=[^=]{20,}", annotations["checkov.io/skip1"])
    annotations["checkov.io/skip2"] = "CKV_K8S_11"
    assert validate_k8s.check_checkov_skips(objects) == [
        "Deployment/core-worker: annotation checkov.io/skip2 must be `CKV_...=reason` (a sentence, no '=')"
    ]


def test_the_secret_keys_the_pods_need_are_the_ones_the_docs_create(rendered):
    """docs/kubernetes.md's `kubectl create secret` names every key a pod requires, and no other."""
    required: set[str] = set()
    optional: set[str] = set()
    for obj in _objects(rendered):
        for _, container in validate_k8s.containers(validate_k8s.pod_spec(obj) or {}):
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    (optional if ref.get("optional") else required).add(ref["key"])
    docs = (ROOT / "docs/kubernetes.md").read_text()
    created = set(re.findall(r"--from-literal=([A-Z_]+)=", docs))
    assert required <= created and created <= required | optional, (required, optional, created)


@pytest.mark.parametrize(
    ("deployment", "config_map", "hosts"),
    [("core", "core-config", "referrals.example.com"), ("otp", "otp-config", "otp")],
)
def test_the_web_pods_accept_their_own_ip_as_host_for_the_probes_and_prometheus(
    rendered, deployment, config_map, hosts
):
    """The kubelet's probes and Prometheus send the pod's IP as Host. The kubelet expands $(VAR)
    in an env value from envFrom's and the earlier env entries' values, so ALLOWED_HOSTS becomes
    the ConfigMap's host names plus the pod's IP."""
    objects = _objects(rendered)
    assert _find(objects, "ConfigMap", config_map)["data"]["ALLOWED_HOSTS"] == hosts
    container = validate_k8s.pod_spec(_find(objects, "Deployment", deployment))["containers"][0]
    assert {"configMapRef": {"name": config_map}} in container["envFrom"]
    names = [variable["name"] for variable in container["env"]]
    pod_ip = container["env"][names.index("POD_IP")]
    assert pod_ip["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert container["env"][names.index("ALLOWED_HOSTS")]["value"] == "$(ALLOWED_HOSTS),$(POD_IP)"
    assert names.index("POD_IP") < names.index("ALLOWED_HOSTS")
