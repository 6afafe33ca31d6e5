"""Kafka's security settings: what each combination becomes for FastStream and aiokafka."""

import ssl

import certifi
import pytest
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from contracts.kafka_security import KafkaSecurity, client_options
from service.settings import Settings


def security(**env: str) -> KafkaSecurity:
    return KafkaSecurity.model_validate({k.lower(): v for k, v in env.items()})


def test_an_open_cluster_needs_nothing() -> None:
    assert security().security() is None
    assert client_options(None) == {}


@pytest.mark.parametrize(
    ("mechanism", "kind"),
    [("PLAIN", SASLPlaintext), ("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)],
)
def test_sasl_plaintext_names_the_mechanism_and_the_user(
    mechanism: str, kind: type[BaseSecurity]
) -> None:
    chosen = security(
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM=mechanism,
        KAFKA_SASL_USERNAME="svc",
        KAFKA_SASL_PASSWORD="pw",
    ).security()
    assert isinstance(chosen, kind)
    assert client_options(chosen) == {
        "security_protocol": "SASL_PLAINTEXT",
        "ssl_context": None,
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "svc",
        "sasl_plain_password": "pw",
    }


def test_sasl_ssl_trusts_the_given_ca_file() -> None:
    chosen = security(
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="svc",
        KAFKA_SASL_PASSWORD="pw",
        KAFKA_SSL_CA_FILE=certifi.where(),
    ).security()
    options = client_options(chosen)
    assert options["security_protocol"] == "SASL_SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0


def test_ssl_alone_is_tls_without_sasl() -> None:
    options = client_options(security(KAFKA_SECURITY_PROTOCOL="SSL").security())
    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in options


def test_an_unreadable_client_certificate_fails_at_start_up() -> None:
    settings = security(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CERT_FILE="/nonexistent.pem")
    with pytest.raises(FileNotFoundError):
        settings.security()


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME"),
        ({"KAFKA_SASL_USERNAME": "svc", "KAFKA_SASL_PASSWORD": "pw"}, "set SASL_SSL"),
        ({"KAFKA_SSL_CA_FILE": "/ca.pem"}, "set SSL or SASL_SSL"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI"}, "PLAIN"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "SASL_SSL"),
    ],
)
def test_contradictory_settings_are_refused_with_the_fix(env: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        security(**env)


def test_the_service_reads_the_same_variables_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        "KAFKA_SASL_USERNAME": "svc",
        "KAFKA_SASL_PASSWORD": "pw",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    service = Settings().security()
    platform = KafkaSecurity().security()
    assert client_options(service) == client_options(platform)
    assert "pw" not in repr(Settings())
