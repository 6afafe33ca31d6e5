"""The Grafana dashboard asks only for metrics the service exports, with their labels.

What the service exports is read from its registry (`service.metrics.REGISTRY`) after a broker
of each part was built (which registers FastStream's metrics), offline: no Kafka is touched.
"""

import json
import re
from pathlib import Path

import pytest

from service import metrics
from service.adapters.kafka.broker import make_broker
from service.settings import Settings

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "tiktok-shop-channel.json"

# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"instance", "job"}
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset",
}  # fmt: skip
_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_WORD = re.compile(r"(?<![\w$])([A-Za-z_:][A-Za-z0-9_:]*)\b(\s*\()?")

_SAMPLE_SUFFIXES = {
    "counter": ["_total"],
    "gauge": [""],
    "histogram": ["_bucket", "_sum", "_count"],
    "summary": ["", "_sum", "_count"],
    "info": ["_info"],
}


def exported() -> dict[str, set[str]]:
    """Every sample name the service's registry can serve, with its label names."""
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", admin_api_token="unused")
    for role in ("ingress", "worker"):
        make_broker(settings, role=role)  # registers FastStream's metrics
    collectors = metrics.REGISTRY._names_to_collectors  # label names of metrics without samples
    samples: dict[str, set[str]] = {}
    for family in metrics.REGISTRY.collect():
        labels = {name for sample in family.samples for name in sample.labels}
        collector = collectors.get(family.name)
        labels |= set(getattr(collector, "_labelnames", ()))
        for suffix in _SAMPLE_SUFFIXES.get(family.type, [""]):
            samples[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return samples


def expressions() -> list[tuple[str, str]]:
    """(panel title, PromQL expression) of every target of every panel."""
    dashboard = json.loads(DASHBOARD.read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


def parse(expr: str) -> tuple[dict[str, set[str]], set[str]]:
    """The metric names an expression selects, with the labels it matches on each, and the
    labels it groups by."""
    text = _STRING.sub('""', expr)
    selected: dict[str, set[str]] = {}
    for name, matchers in _SELECTOR.findall(text):
        selected.setdefault(name, set()).update(_MATCHER.findall(matchers))
    grouped = {label.strip() for labels in _GROUPING.findall(text) for label in labels.split(",")}
    bare = re.sub(r"\[[^\]]*\]", "", _GROUPING.sub("", re.sub(r"\{[^}]*\}", "", text)))
    for word, call in _WORD.findall(bare):
        if not call and word not in KEYWORDS:
            selected.setdefault(word, set())
    return selected, grouped - {""}


def test_the_dashboard_is_grafana_json_with_a_prometheus_datasource_choice() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "tiktok-shop-channel"
    assert dashboard["title"]
    [choice] = dashboard["templating"]["list"]
    assert (choice["type"], choice["query"]) == ("datasource", "prometheus")
    graphs = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert graphs
    for panel in graphs:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]


@pytest.mark.parametrize(("panel", "expr"), expressions())
def test_every_expression_names_exported_metrics_and_their_labels(panel: str, expr: str) -> None:
    known = exported()
    selected, grouped = parse(expr)
    assert selected, f"{panel}: no metric in {expr}"
    for name, labels in selected.items():
        assert name in known, f"{panel}: {name} is not exported by the service"
        assert labels <= known[name] | TARGET_LABELS, f"{panel}: {name} has no {labels}"
    available = set().union(*(known[name] for name in selected)) | TARGET_LABELS
    assert grouped <= available, f"{panel}: grouped by {grouped - available}, not a label here"


def test_every_metric_of_the_service_is_on_the_dashboard() -> None:
    shown = {name for _, expr in expressions() for name in parse(expr)[0]}
    ours = {
        family.name for family in metrics.REGISTRY.collect() if family.name.startswith("tiktok_")
    }
    missing = {family for family in ours if not any(n.startswith(family) for n in shown)}
    assert not missing


def test_the_parser_sees_what_a_wrong_expression_gets_wrong() -> None:
    """The checks above can fail: a misspelt metric and a label it lacks are caught."""
    known = exported()
    selected, grouped = parse(
        'sum by (shop) (rate(tiktok_shop_webhook_total{outcom="accepted"}[5m]))'
    )
    assert "tiktok_shop_webhook_total" not in known
    assert selected == {"tiktok_shop_webhook_total": {"outcom"}}
    assert grouped == {"shop"}
    assert "shop" not in known["tiktok_shop_webhooks_total"]
