"""The single-host compose file: valid by the Compose specification's schema, and consistent.

No container engine runs here, so the file is checked as Compose would read it: against the
specification's JSON schema (the copy check-jsonschema ships), with Compose's interpolation
applied to each container's environment, which `service.settings.Settings` must then accept.
"""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.adapters.kafka.broker import MAX_MESSAGE_BYTES
from simulator.catalog import DEFAULT_SALES_WAREHOUSE
from tests.deploy.chart import ROOT, render
from tests.deploy.environment import interpolate, settings_from, settings_variables

COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
SIMULATOR_ENV = ROOT / "deploy" / "compose" / "simulator.env"
DATABASE_VARIABLES = {name for name in settings_variables() if name.startswith("MONGODB_")}
# Those without a default that fits a cluster of containers.
WORKER_NEEDS = {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "ADMIN_API_TOKEN"}
# Passed from the shell: unset, the service runs unconfigured (webhooks answered 503).
CREDENTIALS = {"TIKTOK_APP_KEY", "TIKTOK_APP_SECRET"}

Service = dict[str, Any]


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and comments skipped."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def service_containers(services: dict[str, Service]) -> dict[str, Service]:
    """The containers built from the repository's Dockerfile: the service's own."""
    return {
        name: service
        for name, service in services.items()
        if "build" in service
        and (COMPOSE.parent / service["build"]["context"]).resolve() == ROOT
        and service["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    }


def container_env(service: Service, shell: dict[str, str]) -> dict[str, str]:
    """The container's environment as Compose builds it from `shell` (and any --env-file).

    A variable listed without a value is passed through when set, and absent otherwise.
    """
    env: dict[str, str] = {}
    for name, value in service.get("environment", {}).items():
        if value is None:
            if name in shell:
                env[name] = shell[name]
        else:
            env[name] = interpolate(str(value), shell)
    return env


def test_compose_file_matches_the_compose_specification() -> None:
    result = check_compose_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_misspelt_key(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("stop_grace_period:", "stop_grace_periods:"))
    result = check_compose_schema(broken)
    assert result.returncode != 0
    assert "stop_grace_periods" in result.stdout


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return subprocess.run([*command, str(path)], capture_output=True, text=True, check=False)


def test_dependencies_and_volumes_name_what_the_file_defines() -> None:
    spec = compose()
    services = spec["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
            # A dependency that only a profile starts would block the default `up`.
            assert "profiles" not in services[dependency] or "profiles" in service
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in spec["volumes"], f"{name} mounts undeclared volume {source}"


def test_the_service_runs_as_one_ingress_and_two_workers_from_the_repository_image() -> None:
    containers = service_containers(compose()["services"])
    assert sorted(c["command"][0] for c in containers.values()) == ["ingress", "worker", "worker"]
    assert (ROOT / "Dockerfile").is_file()
    ports = [interpolate(p, {}) for c in containers.values() for p in c["ports"]]
    host_ports = [p.rsplit(":", 2)[-2] for p in ports]
    assert len(host_ports) == len(set(host_ports)), "two containers publish one host port"
    for name, container in containers.items():
        # Hardened as in the chart: read-only root, no capabilities, no privilege escalation.
        assert container["read_only"] is True, name
        assert container["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in container["security_opt"], name


def test_every_variable_compose_sets_for_the_service_is_a_setting() -> None:
    for name, container in service_containers(compose()["services"]).items():
        unknown = set(container["environment"]) - settings_variables()
        assert not unknown, f"{name}: not fields of service.settings.Settings: {sorted(unknown)}"


def test_workers_get_what_they_need_and_the_ingress_no_database_setting() -> None:
    shell = {"ADMIN_API_TOKEN": "operator-token"}
    for name, container in service_containers(compose()["services"]).items():
        declared = set(container["environment"])
        assert declared >= CREDENTIALS, name
        env = container_env(container, shell)
        if container["command"] == ["worker"]:
            assert all(env.get(v) for v in WORKER_NEEDS), (name, env)
        else:
            assert env["KAFKA_BOOTSTRAP_SERVERS"]
            assert not declared & DATABASE_VARIABLES, name
            assert not declared & {"ADMIN_API_TOKEN", "TIKTOK_ACCESS_TOKEN"}, name


def test_compose_refuses_to_start_workers_without_an_admin_token() -> None:
    worker = compose()["services"]["worker-1"]
    with pytest.raises(KeyError, match="ADMIN_API_TOKEN"):
        container_env(worker, {})


@pytest.mark.parametrize("with_simulator", [False, True], ids=["real-tiktok", "simulator"])
def test_the_service_accepts_the_environment_compose_gives_it(with_simulator: bool) -> None:
    shell = {"ADMIN_API_TOKEN": "operator-token"}
    if with_simulator:
        shell = env_file(SIMULATOR_ENV) | shell
    services = compose()["services"]
    for container in service_containers(services).values():
        settings = settings_from(container_env(container, shell))
        if not with_simulator or container["command"] != ["worker"]:
            continue
        # The workers call the simulator, by its service name and the port it listens on.
        simulator = services["simulator"]
        port = simulator["command"][simulator["command"].index("--port") + 1]
        assert settings.api_base_url == f"http://simulator:{port}"
        assert settings.tiktok_auth_base_url == f"http://simulator:{port}"
        assert settings.configured
        assert simulator["profiles"] == [shell["COMPOSE_PROFILES"]]
        # README's stock example names the platform's `wh-main`: the demo shop's warehouse.
        assert settings.warehouse_map == {"wh-main": DEFAULT_SALES_WAREHOUSE}


def test_the_simulator_is_optional_and_knows_the_apps_credentials() -> None:
    simulator = compose()["services"]["simulator"]
    assert simulator["profiles"] == ["simulator"]
    assert set(simulator["environment"]) >= CREDENTIALS
    webhook_url = simulator["environment"]["SIM_DEMO_WEBHOOK_URL"]
    ingress = compose()["services"]["ingress"]
    port = ingress["ports"][0].rsplit(":", 1)[-1]
    assert webhook_url == f"http://ingress:{port}/tiktok-shop/webhooks"


def test_the_database_is_a_replica_set_initiated_once_under_the_uris_name() -> None:
    services = compose()["services"]
    mongod = services["mongo"]["command"]
    replica_set = mongod[mongod.index("--replSet") + 1]
    uri = container_env(services["worker-1"], {"ADMIN_API_TOKEN": "t"})["MONGODB_URI"]
    assert f"replicaSet={replica_set}" in uri
    host = re.search(r"mongodb://([^/?]+)", uri)
    assert host
    script = services["mongo-init"]["entrypoint"][-1]
    assert f'rs.initiate({{_id: "{replica_set}", members: [{{_id: 0, host: "{host[1]}"}}]}})' in (
        script
    )
    # Only when not initiated yet: restarts leave the replica set alone.
    assert 'e.codeName !== "NotYetInitialized"' in script
    assert services["mongo-init"]["restart"] == "no"
    for name, container in service_containers(services).items():
        if container["command"] == ["worker"]:
            assert container["depends_on"]["mongo-init"] == {
                "condition": "service_completed_successfully"
            }, name


def test_kafka_runs_in_kraft_mode_and_takes_what_the_service_sends() -> None:
    services = compose()["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = {k: str(v) for k, v in kafka["environment"].items()}
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) >= MAX_MESSAGE_BYTES
    # Only the worker creates topics, with their partition counts.
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    advertised = interpolate(env["KAFKA_ADVERTISED_LISTENERS"], {})
    for name, container in service_containers(services).items():
        servers = container["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
        assert f"//{servers}" in advertised, name
        assert container["depends_on"]["kafka"] == {"condition": "service_healthy"}, name


def test_stop_grace_periods_match_the_charts() -> None:
    chart = render()
    for name, container in service_containers(compose()["services"]).items():
        part = container["command"][0]
        grace = chart.pod(part)["spec"]["terminationGracePeriodSeconds"]
        assert container["stop_grace_period"] == f"{grace}s", name
