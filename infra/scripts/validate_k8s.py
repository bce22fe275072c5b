"""`make k8s-check`: the Kubernetes manifests in infra/k8s, validated without a cluster.

1. Every kustomization lists resources that exist; the base lists every manifest next to it, and
   an overlay's `images` name images the base uses.
2. Every manifest validates, strictly (no unknown fields), against the Kubernetes API schemas of
   KUBERNETES_VERSION with kubernetes-validate (PyPI, pinned, installed once into var/tools).
3. Production safety the manifests must keep: APP_ENV=production, SMS_BACKEND not inbox,
   TRUSTED_PROXY_COUNT=1 (the Ingress controller), no secret with a value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
KUBERNETES_VERSION = "1.33.0"
VALIDATOR = "kubernetes-validate==1.37.0"


def validator() -> Path:
    tools = ROOT / "var" / "tools"
    if not (tools / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
    subprocess.run([str(tools / "bin" / "pip"), "install", "--quiet", VALIDATOR], check=True)
    return tools / "bin" / "kubernetes-validate"


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def check_kustomizations(problems: list[str]) -> list[Path]:
    """The manifests the base's kustomization lists (problems appended for what does not add up)."""
    base = K8S / "base"
    listed = [base / name for name in documents(base / "kustomization.yaml")[0]["resources"]]
    for path in listed:
        if not path.is_file():
            problems.append(f"{path.relative_to(ROOT)}: listed in the base kustomization, missing")
    for path in sorted(base.glob("*.yaml")):
        if path.name != "kustomization.yaml" and path not in listed:
            problems.append(f"{path.relative_to(ROOT)}: not listed in the base kustomization")
    used = {c["image"] for p in listed if p.is_file() for d in documents(p) for c in _containers(d)}
    for overlay in sorted((K8S / "overlays").glob("*/kustomization.yaml")):
        spec = documents(overlay)[0]
        for resource in spec.get("resources", []):
            if not (overlay.parent / resource).exists():
                problems.append(f"{overlay.relative_to(ROOT)}: resource {resource} does not exist")
        for image in spec.get("images", []):
            if image["name"] not in used:
                problems.append(f"{overlay.relative_to(ROOT)}: image {image['name']} is used by no manifest")
    return [p for p in listed if p.is_file()]


def _containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if "template" in spec else {}
    return pod.get("containers", []) + pod.get("initContainers", [])


def check_production_settings(manifests: list[Path], problems: list[str]) -> None:
    docs = [d for p in manifests for d in documents(p)]
    config = next(d["data"] for d in docs if d["kind"] == "ConfigMap")
    expected = {"APP_ENV": "production", "TRUSTED_PROXY_COUNT": "1"}
    for key, value in expected.items():
        if config.get(key) != value:
            problems.append(f"ConfigMap: {key} must be {value!r}, not {config.get(key)!r}")
    if config.get("SMS_BACKEND", "inbox") == "inbox":
        problems.append("ConfigMap: SMS_BACKEND must name a real backend (the OTP service refuses inbox)")
    for secret in (d for d in docs if d["kind"] == "Secret"):
        filled = [k for k, v in {**secret.get("stringData", {}), **secret.get("data", {})}.items() if v]
        if filled:
            problems.append(f"Secret {secret['metadata']['name']}: values do not belong in git ({', '.join(filled)})")


def main() -> int:
    problems: list[str] = []
    manifests = check_kustomizations(problems)
    check_production_settings(manifests, problems)
    result = subprocess.run(
        [str(validator()), "--strict", "--quiet", "-k", KUBERNETES_VERSION, *map(str, manifests)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or result.stdout.strip():
        problems.append(f"kubernetes-validate:\n{result.stdout}{result.stderr}")
    for problem in problems:
        print(f"validate-k8s: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {len(manifests)} manifests valid for Kubernetes {KUBERNETES_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
