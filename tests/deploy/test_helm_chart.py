"""The Helm chart, rendered offline by Helm's engine and checked object by object.

Every rendered object is validated against Kubernetes' published JSON schemas (strict: unknown
fields are errors) for the oldest version the chart supports and the newest the schemas cover;
then the properties an operator relies on are asserted on the parsed objects.
"""

import re
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from contracts import topics
from service.stopping import STOP_SECONDS
from tests.deploy.chart import CHART, PARTS, Rendered, render, value_sets
from tests.deploy.environment import settings_from, settings_variables

VALUE_SETS = value_sets()
KUBERNETES_DEFAULT_GRACE_SECONDS = 30


def oldest_supported_kubernetes() -> str:
    """The minor version in Chart.yaml's `kubeVersion: ">=1.N.0-0"`."""
    constraint = yaml.safe_load((CHART / "Chart.yaml").read_text())["kubeVersion"]
    match = re.fullmatch(r">=\s*(\d+\.\d+)\.\d+(?:-0)?", constraint)
    assert match, f"unexpected kubeVersion constraint {constraint!r}"
    return match[1]


KUBERNETES_VERSIONS = [oldest_supported_kubernetes(), kubernetes_validate.latest_version()]


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render(VALUE_SETS[request.param])


def test_chart_lints_clean_with_every_value_set() -> None:
    for name, values in VALUE_SETS.items():
        report = helm.lint(str(CHART), values, strict=True)
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert not report["errors"], (name, report)
        assert not problems, (name, report)


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
def test_every_object_matches_the_kubernetes_schemas(rendered: Rendered, kubernetes: str) -> None:
    kinds = {o["kind"] for o in rendered.objects}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    errors = []
    for obj in rendered.objects:
        # SchemaNotFoundError (an unknown kind or apiVersion) fails the test as well.
        try:
            kubernetes_validate.validate(obj, kubernetes, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path)
            errors.append(f"{obj['kind']}/{obj['metadata']['name']} {where}: {error.message}")
    assert not errors, "\n".join(errors)


def test_the_schema_check_rejects_a_misspelt_field() -> None:
    deployment = render().for_part("Deployment", "worker")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "readOnlyRootFileSystem"
    ] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("part", PARTS)
def test_pods_run_unprivileged(rendered: Rendered, part: str) -> None:
    pod = rendered.pod(part)["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = rendered.container(part)["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security.get("privileged", False) is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("part", PARTS)
def test_probes_ask_the_health_endpoints_on_the_port_the_part_listens_on(
    rendered: Rendered, part: str
) -> None:
    container = rendered.container(part)
    assert container["args"] == [part]
    [port] = container["ports"]
    env = rendered.env(part)
    prefix = "INGRESS" if part == "ingress" else "ADMIN"
    assert env[f"{prefix}_PORT"]["value"] == str(port["containerPort"])
    # Probes reach the pod's address, not its loopback.
    assert env[f"{prefix}_HOST"]["value"] == "0.0.0.0"  # noqa: S104
    for probe, path in [
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ]:
        check = container[probe]["httpGet"]
        assert check["path"] == path
        assert check["port"] in (port["name"], port["containerPort"])


@pytest.mark.parametrize("part", PARTS)
def test_a_stopping_pod_leaves_routing_first_and_stops_within_the_grace_period(
    rendered: Rendered, part: str
) -> None:
    pod = rendered.pod(part)["spec"]
    grace = pod["terminationGracePeriodSeconds"]
    assert grace < KUBERNETES_DEFAULT_GRACE_SECONDS
    sleep, seconds = rendered.container(part)["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep == "sleep"
    # What is left after the pause covers the service's bound on stopping, with room to spare:
    # the process is gone before the kubelet's SIGKILL.
    assert grace - int(seconds) >= STOP_SECONDS + 3


@pytest.mark.parametrize("part", PARTS)
def test_containers_have_resource_requests_and_limits(rendered: Rendered, part: str) -> None:
    resources = rendered.container(part)["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) >= {"memory"}


def test_ingress_autoscales_and_is_drained_one_pod_at_a_time(rendered: Rendered) -> None:
    deployment = rendered.for_part("Deployment", "ingress")
    # While the HPA owns the replica count, the Deployment must not reset it on upgrades.
    assert "replicas" not in deployment["spec"]
    hpa = rendered.for_part("HorizontalPodAutoscaler", "ingress")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    assert rendered.container("ingress")["resources"]["requests"]["cpu"], "CPU target needs it"
    budget = rendered.for_part("PodDisruptionBudget", "ingress")["spec"]
    assert budget["maxUnavailable"] == 1
    assert selects(budget["selector"]["matchLabels"], rendered, "ingress")


@pytest.mark.parametrize("part", PARTS)
def test_each_service_selects_only_its_part_on_a_declared_port(
    rendered: Rendered, part: str
) -> None:
    service = rendered.for_part("Service", part)["spec"]
    assert selects(service["selector"], rendered, part)
    [port] = service["ports"]
    assert port["targetPort"] in [p["name"] for p in rendered.container(part)["ports"]]


def selects(selector: dict[str, str], rendered: Rendered, part: str) -> bool:
    """True when `selector` matches the pods of `part` and none of the other part."""
    labels = {p: rendered.pod(p)["metadata"]["labels"] for p in PARTS}
    matches = {p: selector.items() <= labels[p].items() for p in PARTS}
    return matches == {p: p == part for p in PARTS}


def chart_defaults() -> dict[str, Any]:
    with helm.Chart.load(str(CHART)) as chart:
        return chart.values


def test_worker_partitions_default_to_those_the_service_creates_its_topics_with() -> None:
    consumed = {topics.PARTITIONS[topics.WEBHOOKS], topics.PARTITIONS[topics.ADMIN_COMMANDS]}
    assert consumed == {chart_defaults()["worker"]["partitions"]}


def test_worker_replicas_above_the_partition_count_fail_the_render() -> None:
    partitions = chart_defaults()["worker"]["partitions"]
    at_most = render({"worker": {"replicas": partitions}})
    assert at_most.for_part("Deployment", "worker")["spec"]["replicas"] == partitions
    with pytest.raises(
        helm.HelmRenderError, match=rf"worker\.replicas \({partitions + 1}\) is above"
    ):
        render({"worker": {"replicas": partitions + 1}})
    # Topics created by hand with more partitions allow more workers.
    more = render({"worker": {"replicas": partitions + 1, "partitions": partitions + 2}})
    assert more.for_part("Deployment", "worker")["spec"]["replicas"] == partitions + 1


# The service's environment, as the chart sets it.

DATABASE_VARIABLES = {name for name in settings_variables() if name.startswith("MONGODB_")}
WORKER_NEEDS = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "MONGODB_URI",
    "ADMIN_API_TOKEN",
    "TIKTOK_APP_KEY",
    "TIKTOK_APP_SECRET",
}
INGRESS_NEEDS = {"KAFKA_BOOTSTRAP_SERVERS", "TIKTOK_APP_KEY", "TIKTOK_APP_SECRET"}


@pytest.mark.parametrize("part", PARTS)
def test_every_variable_the_chart_sets_is_a_setting_of_the_service(
    rendered: Rendered, part: str
) -> None:
    unknown = set(rendered.env(part)) - settings_variables()
    assert not unknown, f"{part}: not fields of service.settings.Settings: {sorted(unknown)}"


def test_worker_gets_what_it_needs_and_ingress_no_database_setting(rendered: Rendered) -> None:
    assert set(rendered.env("worker")) >= WORKER_NEEDS
    ingress = set(rendered.env("ingress"))
    assert ingress >= INGRESS_NEEDS
    assert not ingress & DATABASE_VARIABLES
    # Least privilege: the ingress verifies signatures; it holds no token of the worker's.
    assert not ingress & {"ADMIN_API_TOKEN", "TIKTOK_ACCESS_TOKEN"}


@pytest.mark.parametrize("part", PARTS)
def test_the_service_accepts_the_environment_the_chart_gives_it(
    rendered: Rendered, part: str
) -> None:
    env: dict[str, str] = {}
    for name, entry in rendered.env(part).items():
        if "value" in entry:
            env[name] = entry["value"]
            continue
        ref = entry["valueFrom"]["secretKeyRef"]
        data = rendered.secret_data(ref["name"])
        if data is None:  # a Secret made outside the chart: its content is unknown here
            env[name] = f"from-secret-{ref['name']}"
        elif ref["key"] in data:
            env[name] = data[ref["key"]]
        else:
            assert ref.get("optional"), f"{part}: {name} names a key the chart's Secret lacks"
    settings = settings_from(env)
    if part == "worker":
        # The worker refuses to start without an admin token.
        assert settings.admin_api_token.get_secret_value()


def test_an_empty_admin_token_is_generated_and_a_given_one_kept() -> None:
    generated = render().secret_data("shop-tiktok-shop-channel")
    assert generated is not None
    assert len(generated["ADMIN_API_TOKEN"]) >= 32
    given = render({"secret": {"values": {"ADMIN_API_TOKEN": "a-token-chosen-by-the-operator"}}})
    kept = given.secret_data("shop-tiktok-shop-channel")
    assert kept is not None
    assert kept["ADMIN_API_TOKEN"] == "a-token-chosen-by-the-operator"


def test_settings_slot_in_through_the_env_and_secret_maps() -> None:
    rendered = render(
        {
            "extraEnv": {"TIKTOK_CURRENCY": "EUR"},
            "secretEnv": {"TIKTOK_SHOP_ID": {"name": "shop-ids", "key": "default"}},
            "worker": {"env": {"LOG_LEVEL": "DEBUG"}},
        }
    )
    for part in PARTS:
        env = rendered.env(part)
        assert env["TIKTOK_CURRENCY"]["value"] == "EUR"
        assert env["TIKTOK_SHOP_ID"]["valueFrom"]["secretKeyRef"] == {
            "name": "shop-ids",
            "key": "default",
        }
    assert rendered.env("worker")["LOG_LEVEL"]["value"] == "DEBUG"
    assert rendered.env("ingress")["LOG_LEVEL"]["value"] == "INFO"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"env": {"MONGODB_DATABASE": "shop"}}, "the ingress never touches the database"),
        (
            {"ingress": {"secretEnv": {"MONGODB_URI": {"key": "MONGODB_URI"}}}},
            "the ingress never touches the database",
        ),
        ({"env": {"KAFKA_TOPIC_REPLICATION": 3}}, r"env\.KAFKA_TOPIC_REPLICATION must be a string"),
        ({"secret": {"create": False}}, "secret.existingSecret"),
        ({"worker": {"preStopSleepSeconds": 30}}, "must be below"),
    ],
)
def test_values_that_would_deploy_something_wrong_fail_the_render(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm.HelmRenderError, match=message):
        render(values)


def test_an_existing_secret_replaces_the_charts() -> None:
    rendered = render({"secret": {"create": False, "existingSecret": "shop-credentials"}})
    assert not rendered.of_kind("Secret")
    for part in PARTS:
        refs = {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in rendered.env(part).values()
            if "valueFrom" in e
        }
        assert refs == {"shop-credentials"}


@pytest.mark.parametrize("part", PARTS)
def test_scrape_annotations_point_at_the_metrics_path_on_the_parts_port(part: str) -> None:
    off = render({"metrics": {"scrapeAnnotations": False}})
    assert "prometheus.io/scrape" not in off.pod(part)["metadata"]["annotations"]
    rendered = render()
    annotations = rendered.pod(part)["metadata"]["annotations"]
    [port] = rendered.container(part)["ports"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(port["containerPort"])


def test_the_public_ingress_exposes_only_the_webhook_path() -> None:
    rendered = render(VALUE_SETS["prod-example"])
    [ingress] = rendered.of_kind("Ingress")
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/tiktok-shop/webhooks", "Exact")
    service = rendered.for_part("Service", "ingress")["metadata"]["name"]
    assert path["backend"]["service"]["name"] == service
    assert not render().of_kind("Ingress")


@pytest.mark.parametrize("part", PARTS)
def test_extra_volumes_carry_a_kafka_ca_file_to_both_parts(part: str) -> None:
    rendered = render(VALUE_SETS["prod-example"])
    env = rendered.env(part)
    ca_file = env["KAFKA_SSL_CA_FILE"]["value"]
    mounts = {m["mountPath"]: m for m in rendered.container(part)["volumeMounts"]}
    [directory] = [path for path in mounts if ca_file.startswith(path + "/")]
    assert mounts[directory]["readOnly"] is True
    volumes = {v["name"]: v for v in rendered.pod(part)["spec"]["volumes"]}
    assert "secret" in volumes[mounts[directory]["name"]]
    # The password comes from a Secret, never from a plain value.
    assert "secretKeyRef" in env["KAFKA_SASL_PASSWORD"]["valueFrom"]
