"""`make k8s-check`: the Kubernetes manifests in infra/k8s, validated without a cluster.

Each overlay in infra/k8s/overlays is rendered (`kubectl kustomize`, else `kustomize build`), and so
is the base; then, for each overlay:
1. schemas: every object validates strictly (no unknown fields) against the Kubernetes API schemas
   of KUBERNETES_VERSION (kubernetes-validate);
2. our rules, each problem naming the object, the container and the field: Pod Security
   "restricted" for every container and init container, plus a read-only root file system and CPU
   and memory requests and limits; a namespace that enforces "restricted"; default-deny network
   policies that select every pod; no Ingress routing /admin/ (but behind a source-range
   allowlist), /metrics, /readyz or /healthz; the production settings (a real SMS provider, never
   console or inbox; secrets and REDIS_URL only from the Secret, never a Secret object in git;
   distinct Redis key prefixes per service; pods that wait for the migration Job);
3. checkov over the rendered output (infra/k8s/checkov.yaml; a skip for one object is a
   `checkov.io/skipN: CKV_...=reason` annotation on it, and must give its reason).
The base must set SMS_BACKEND empty (refused at start-up): each overlay names its provider.
The tools come from infra/k8s/requirements-tools.txt (hash-pinned) in TOOLS; `make k8s-check`
installs them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
TOOLS = ROOT / "var" / "tools" / "k8s"
KUBERNETES_VERSION = "1.33.0"

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
# Never routed to the public side (services/core/config/urls.py); /admin/ only behind an allowlist.
INTERNAL_PATHS = ["/metrics", "/readyz", "/healthz"]
ADMIN_PATHS = ["/admin", "/admin/", "/admin/login/"]
ALLOWLIST_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/whitelist-source-range",
    "nginx.ingress.kubernetes.io/allowlist-source-range",
)
SECRET_VARIABLES = {
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "OTP_SECRET",
    "OTP_SERVICE_TOKEN",
    "DATABASE_URL",
    "REDIS_URL",
    "WEBHOOK_SECRET",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "SMSRU_API_ID",
}
SMS_PROVIDERS = {"twilio", "smsru"}


def render(directory: Path) -> list[dict]:
    """The objects a kustomization renders to. Raises SystemExit when no kustomize is installed or
    the kustomization does not build."""
    if shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(directory)]
    elif shutil.which("kustomize"):
        command = ["kustomize", "build", str(directory)]
    else:
        sys.exit("validate-k8s: needs kubectl (kubectl kustomize) or kustomize on PATH")
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"validate-k8s: {directory.relative_to(ROOT)} does not build:\n{run.stderr}")
    return [doc for doc in yaml.safe_load_all(run.stdout) if doc]


def name(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def pod_spec(obj: dict) -> dict | None:
    """The pod spec of a workload (a CronJob's through its job template), None for anything else."""
    if obj.get("kind") not in WORKLOADS:
        return None
    spec = obj.get("spec", {})
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec", {})


def pod_labels(obj: dict) -> dict:
    if obj["kind"] == "Pod":
        return obj["metadata"].get("labels", {})
    spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
    return spec.get("template", {}).get("metadata", {}).get("labels", {})


def containers(pod: dict) -> list[tuple[str, dict]]:
    """(kind, container) for every container, init container and ephemeral container."""
    kinds = [
        ("container", "containers"),
        ("init container", "initContainers"),
        ("ephemeral container", "ephemeralContainers"),
    ]
    return [(kind, c) for kind, field in kinds for c in pod.get(field, [])]


def check_pod_security(objects: list[dict]) -> list[str]:
    """Pod Security Standards, "restricted" profile
    (https://kubernetes.io/docs/concepts/security/pod-security-standards/), for every container and
    init container, with the pod's securityContext as the default of each container's; plus ours:
    readOnlyRootFilesystem true and requests and limits of cpu and memory.
    Returns one problem per missing or wrong field: '<Kind>/<name> <container kind> <name>: <field> ...'."""
    problems = []
    for obj in objects:
        pod = pod_spec(obj)
        if pod is None:
            continue
        where = name(obj)
        pod_context = pod.get("securityContext", {})
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(field):
                problems.append(f"{where}: spec.{field} must not be true")
        for volume in pod.get("volumes", []):
            kinds = set(volume) - {"name"}
            if not kinds <= RESTRICTED_VOLUMES:
                problems.append(f"{where}: volume {volume['name']} is {', '.join(sorted(kinds))}, not allowed")
        if pod_context.get("sysctls"):
            problems.append(f"{where}: securityContext.sysctls must not be set")
        for kind, container in containers(pod):
            at = f"{where} {kind} {container['name']}"
            context = container.get("securityContext", {})

            effective = {**pod_context, **context}

            if context.get("privileged"):
                problems.append(f"{at}: securityContext.privileged must not be true")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{at}: securityContext.allowPrivilegeEscalation must be false")
            if effective.get("runAsNonRoot") is not True:
                problems.append(f"{at}: securityContext.runAsNonRoot must be true")
            if effective.get("runAsUser") == 0:
                problems.append(f"{at}: securityContext.runAsUser must not be 0")
            if effective.get("seccompProfile", {}).get("type") not in {"RuntimeDefault", "Localhost"}:
                problems.append(f"{at}: securityContext.seccompProfile.type must be RuntimeDefault")
            capabilities = context.get("capabilities", {})
            if "ALL" not in capabilities.get("drop", []):
                problems.append(f"{at}: securityContext.capabilities.drop must include ALL")
            if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
                problems.append(f"{at}: securityContext.capabilities.add may only be NET_BIND_SERVICE")
            if context.get("procMount", "Default") != "Default":
                problems.append(f"{at}: securityContext.procMount must be Default")
            if effective.get("appArmorProfile", {}).get("type") == "Unconfined":
                problems.append(f"{at}: securityContext.appArmorProfile.type must not be Unconfined")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{at}: securityContext.readOnlyRootFilesystem must be true")
            for port in container.get("ports", []):
                if port.get("hostPort"):
                    problems.append(f"{at}: ports.hostPort must not be set")
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(bound, {}):
                        problems.append(f"{at}: resources.{bound}.{resource} must be set")
    return problems


def check_namespace(objects: list[dict]) -> list[str]:
    """The overlay's own Namespace enforces Pod Security "restricted", and holds every object."""
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    if len(namespaces) != 1:
        return [f"renders {len(namespaces)} Namespace objects, not its own one (labelled for Pod Security)"]
    namespace = namespaces[0]
    problems = []
    if namespace["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") != "restricted":
        problems.append(f"{name(namespace)}: label pod-security.kubernetes.io/enforce must be restricted")
    for obj in objects:
        if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != namespace["metadata"]["name"]:
            problems.append(f"{name(obj)}: not in namespace {namespace['metadata']['name']}")
    return problems


def routes(rule_path: str, path_type: str, request: str) -> bool:
    """Whether an Ingress path routes a request path (Kubernetes' Exact and Prefix: a prefix matches
    whole path elements, so /r/ routes /r/x but not /rx)."""
    if path_type == "Exact":
        return rule_path == request
    elements = [e for e in rule_path.split("/") if e]
    return [e for e in request.split("/") if e][: len(elements)] == elements


def check_ingresses(objects: list[dict]) -> list[str]:
    """No Ingress routes the core's internal paths; /admin/ only with a source-range allowlist."""
    problems = []
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        if "defaultBackend" in ingress["spec"]:
            problems.append(f"{name(ingress)}: spec.defaultBackend routes every path; route only the public ones")
        allowlisted = any(ingress["metadata"].get("annotations", {}).get(key) for key in ALLOWLIST_ANNOTATIONS)
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                where = f"{name(ingress)}: path {path['path']} ({path['pathType']})"
                if path["pathType"] not in {"Exact", "Prefix"}:
                    problems.append(f"{where}: use Exact or Prefix, whose routing is defined")
                    continue
                for request in INTERNAL_PATHS + ([] if allowlisted else ADMIN_PATHS):
                    if routes(path["path"], path["pathType"], request):
                        problems.append(f"{where} routes {request} to the public side")
    return problems


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def check_network_policies(objects: list[dict]) -> list[str]:
    """A default-deny policy (every pod, ingress and egress, no rule); a policy of its own for every
    workload; no ingress rule open to every source."""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    problems = []
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not deny:
        problems.append("no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)")
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if not rule.get("from"):
                problems.append(f"{name(policy)}: an ingress rule without `from` admits every source")
    for obj in (o for o in objects if pod_spec(o) is not None):
        labels = pod_labels(obj)
        own = [p for p in policies if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], labels)]
        if not own:
            problems.append(f"{name(obj)}: no NetworkPolicy selects its pods (it would reach nothing but DNS)")
    return problems


def environment(objects: list[dict], container: dict) -> dict[str, str | dict]:
    """A container's variables: ConfigMap and literal values as strings, a Secret reference as
    {"secret": key}, anything else as {"from": ...}."""
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    env: dict[str, str | dict] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= config_maps.get(source["configMapRef"]["name"], {})
    for variable in container.get("env", []):
        value_from = variable.get("valueFrom", {})
        if "secretKeyRef" in value_from:
            env[variable["name"]] = {"secret": value_from["secretKeyRef"]["key"]}
        elif "configMapKeyRef" in value_from:
            ref = value_from["configMapKeyRef"]
            env[variable["name"]] = config_maps.get(ref["name"], {}).get(ref["key"], "")
        elif value_from:
            env[variable["name"]] = {"from": value_from}
        else:
            env[variable["name"]] = variable.get("value", "")
    return env


def service_of(container: dict) -> str | None:
    """'core' or 'otp' for a container running that service's code (by its command), else None."""
    match = re.search(r"services/(core|otp)/", " ".join(container.get("command", [])))
    return match.group(1) if match else None


def check_settings(objects: list[dict]) -> list[str]:
    """The production settings every container of ours must run with."""
    problems = [
        f"{name(o)}: a Secret does not belong in git; create it out of band" for o in objects if o["kind"] == "Secret"
    ]
    for config_map in (o for o in objects if o["kind"] == "ConfigMap"):
        for variable in sorted(SECRET_VARIABLES & set(config_map.get("data", {}))):
            problems.append(f"{name(config_map)}: {variable} belongs in the Secret, not a ConfigMap")
    prefixes: dict[str, set[str]] = {}
    for obj in (o for o in objects if pod_spec(o) is not None):
        pod = pod_spec(obj) or {}
        for kind, container in containers(pod):
            service = service_of(container)
            if service is None:
                continue
            at = f"{name(obj)} {kind} {container['name']}"
            env = environment(objects, container)
            for variable, value in env.items():
                if variable in SECRET_VARIABLES and not (isinstance(value, dict) and "secret" in value):
                    problems.append(f"{at}: {variable} must come from the Secret (secretKeyRef), not a value")
            if env.get("APP_ENV") != "production":
                problems.append(f"{at}: APP_ENV must be production, not {env.get('APP_ENV')!r}")
            if not env.get("SMS_ALLOWED_COUNTRIES"):
                problems.append(f"{at}: SMS_ALLOWED_COUNTRIES must name the countries (ISO 3166 codes, or *)")
            runs = container.get("command", [])[-1]
            if not runs.endswith(("bin/web", "bin/worker")):
                continue
            if "REDIS_URL" not in env:
                problems.append(f"{at}: REDIS_URL must come from the Secret (its Redis user and password)")
            if service == "core":
                if env.get("TRUSTED_PROXY_COUNT") != "1":
                    problems.append(f"{at}: TRUSTED_PROXY_COUNT must be 1 (the ingress controller)")
                cache = f"{env.get('CACHE_KEY_PREFIX', '')}:"  # django-redis: <prefix>:<version>:<key>
                prefixes.setdefault("core", set()).update({cache, str(env.get("CELERY_KEY_PREFIX", ""))})
                waits = any(c.get("command", [])[-2:] == ["migrate", "--check"] for c in pod.get("initContainers", []))
                if not waits:
                    problems.append(f"{at}: its pod needs an init container running `manage.py migrate --check`")
            else:
                backend = str(env.get("SMS_BACKEND", "")).replace(" ", "")
                if not backend or set(backend.split(",")) - SMS_PROVIDERS:
                    problems.append(f"{at}: SMS_BACKEND must name real providers (twilio, smsru), not {backend!r}")
                prefixes.setdefault("otp", set()).update(
                    {str(env.get(k, "")) for k in ("OTP_KEY_PREFIX", "CELERY_KEY_PREFIX")}
                )
    return problems + check_key_prefixes(prefixes)


def check_key_prefixes(prefixes: dict[str, set[str]]) -> list[str]:
    """Each service's Redis key prefixes are set, and none starts another service's, so one ACL
    key pattern (`~<prefix>*`) per prefix confines a service's Redis user to its own keys."""
    problems = []
    for service, own in sorted(prefixes.items()):
        if "" in own or ":" in own:
            problems.append(
                f"{service}: every Redis key prefix must be set (CACHE_KEY_PREFIX/OTP_KEY_PREFIX, CELERY_KEY_PREFIX)"
            )
        for other, theirs in prefixes.items():
            clashes = sorted(f"{a} / {b}" for a in own for b in theirs if other != service and a and a.startswith(b))
            if clashes:
                problems.append(f"{service}: Redis key prefixes overlap {other}'s ({', '.join(clashes)})")
    return problems


def check_base_sms_backend(base: list[dict]) -> list[str]:
    """The base sets SMS_BACKEND empty, which the OTP service refuses at start-up, so a deployment
    that names no provider fails closed (unset, the service's default would be console); each
    overlay names its provider."""
    values = [o["data"]["SMS_BACKEND"] for o in base if o["kind"] == "ConfigMap" and "SMS_BACKEND" in o.get("data", {})]
    if values != [""]:
        return [f"base: SMS_BACKEND must be set once, empty (the overlays name the provider), not {values!r}"]
    return []


def check_checkov_skips(objects: list[dict]) -> list[str]:
    """Every checkov skip annotation is `CKV_...=reason`, with a reason."""
    problems = []
    for obj in objects:
        for key, value in obj["metadata"].get("annotations", {}).items():
            if key.startswith("checkov.io/skip") and not re.fullmatch(r"CKV2?_[A-Z0-9_]+=[^=]{20,}", value):
                problems.append(f"{name(obj)}: annotation {key} must be `CKV_...=reason` (a sentence, no '=')")
    return problems


def rules(objects: list[dict]) -> list[str]:
    """Every rule of ours over one rendered overlay."""
    return (
        check_pod_security(objects)
        + check_namespace(objects)
        + check_ingresses(objects)
        + check_network_policies(objects)
        + check_settings(objects)
        + check_checkov_skips(objects)
    )


def scan(objects: list[dict]) -> list[str]:
    """kubernetes-validate and checkov over the rendered objects; their complaints, if any."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        rendered = Path(tmp) / "rendered.yaml"
        rendered.write_text(yaml.safe_dump_all(objects, sort_keys=False))
        validate = [TOOLS / "bin" / "kubernetes-validate", "--strict", "--quiet", "-k", KUBERNETES_VERSION, rendered]
        checkov = [TOOLS / "bin" / "checkov", "--config-file", K8S / "checkov.yaml", "-f", rendered]
        for tool, command in (("kubernetes-validate", validate), ("checkov", checkov)):
            if not Path(command[0]).exists():
                sys.exit(f"validate-k8s: {command[0]} is missing; `make k8s-check` installs it")
            run = subprocess.run([str(part) for part in command], capture_output=True, text=True)
            if run.returncode != 0 or (tool == "kubernetes-validate" and run.stdout.strip()):
                problems.append(f"{tool}:\n{run.stdout}{run.stderr}")
    return problems


def main() -> int:
    problems = check_base_sms_backend(render(K8S / "base"))
    overlays = sorted(p.parent for p in (K8S / "overlays").glob("*/kustomization.yaml"))
    for overlay in overlays:
        objects = render(overlay)
        label = overlay.relative_to(K8S)
        problems += [f"{label}: {problem}" for problem in rules(objects) + scan(objects)]
    for problem in problems:
        print(f"validate-k8s: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {len(overlays)} overlays: Kubernetes {KUBERNETES_VERSION} schemas, Pod Security restricted, checkov")
    return 0


if __name__ == "__main__":
    sys.exit(main())
