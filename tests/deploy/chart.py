"""The Helm chart rendered offline by Helm's own template engine, as parsed objects.

Rendering goes through the Helm SDK (Go, v4) that `helm-python-sdk` ships as a native library:
the same engine as `helm template`, with no binary and no cluster (`lookup` finds nothing).
"""

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "tiktok-shop-channel"
PROD_VALUES = ROOT / "deploy" / "helm" / "values-prod.example.yaml"
PARTS = ("ingress", "worker")

Object = dict[str, Any]


def value_sets() -> dict[str, dict[str, Any]]:
    """The values the chart is checked with: its defaults, and the production-like example."""
    return {"default": {}, "prod-example": yaml.safe_load(PROD_VALUES.read_text())}


@dataclass(frozen=True)
class Rendered:
    """The objects one render produced, with lookups by kind and by part (ingress, worker)."""

    objects: list[Object]

    def of_kind(self, kind: str) -> list[Object]:
        return [o for o in self.objects if o["kind"] == kind]

    def for_part(self, kind: str, part: str) -> Object:
        """The one object of `kind` labelled `app.kubernetes.io/component: <part>`."""
        found = [
            o
            for o in self.of_kind(kind)
            if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == part
        ]
        assert len(found) == 1, f"expected one {kind} for {part}, found {len(found)}"
        return found[0]

    def pod(self, part: str) -> Object:
        return self.for_part("Deployment", part)["spec"]["template"]

    def container(self, part: str) -> Object:
        containers = self.pod(part)["spec"]["containers"]
        assert len(containers) == 1
        return containers[0]

    def env(self, part: str) -> dict[str, Object]:
        """The container's EnvVar entries by name; a name set twice fails here."""
        entries = self.container(part)["env"]
        names = [e["name"] for e in entries]
        assert len(names) == len(set(names)), f"{part}: a variable is set twice: {names}"
        return {e["name"]: e for e in entries}

    def secret_data(self, name: str) -> dict[str, str] | None:
        """The decoded data of the chart's Secret `name`; None when the chart made no such one."""
        for secret in self.of_kind("Secret"):
            if secret["metadata"]["name"] == name:
                return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        return None


def render(
    values: dict[str, Any] | None = None, *, release: str = "shop", namespace: str = "tiktok-shop"
) -> Rendered:
    """Render the chart like `helm template`; raises helm_python.HelmRenderError on a `fail`."""
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values or {}, name=release, namespace=namespace)
    objects: list[Object] = []
    for path, text in sorted(manifests.items()):
        if not path.endswith((".yaml", ".yml")):
            continue  # NOTES.txt
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return Rendered(objects)
