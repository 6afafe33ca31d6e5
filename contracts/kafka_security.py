"""Kafka's security settings, read from the environment, for every Kafka client of ours.

Managed clusters are rarely open: they want TLS, SASL credentials or client certificates. The
variables, each optional (the default is an open PLAINTEXT cluster):

| variable | values |
| --- | --- |
| `KAFKA_SECURITY_PROTOCOL` | `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT`, `SASL_SSL` |
| `KAFKA_SASL_MECHANISM` | `PLAIN` (default), `SCRAM-SHA-256`, `SCRAM-SHA-512` |
| `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` | the SASL user (both required with `SASL_*`) |
| `KAFKA_SSL_CA_FILE` | PEM file of the CAs to trust (default: the system's) |
| `KAFKA_SSL_CERT_FILE`, `KAFKA_SSL_KEY_FILE` | a client certificate and its key (mutual TLS) |
| `KAFKA_SSL_KEY_PASSWORD` | the key file's password, if it has one |

They become FastStream's security objects (`faststream.security`), which its `KafkaBroker`
takes, and which `client_options` turns into the keyword arguments of aiokafka's clients
(FastStream's own translation), so the broker, the topic creation and the platform's
`AdminClient` are configured alike. The settings of `SSL` or `SASL_SSL` without a CA file trust
the system's CAs, as a cloud provider's public certificates need.

FastStream is imported only when a setting asks for security, so an open cluster's callers of
`contracts.client` do not load it.
"""

import ssl
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSecurity(BaseSettings):
    """The security settings of one Kafka cluster; `KafkaSecurity()` reads the environment.

    Raises pydantic's `ValidationError` at construction when they contradict each other (SASL
    credentials without a SASL protocol, a SASL protocol without credentials, TLS files without
    TLS), so a mistake stops the process at start-up rather than at the first connection.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "PLAIN"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_ca_file: str = ""
    kafka_ssl_cert_file: str = ""
    kafka_ssl_key_file: str = ""
    kafka_ssl_key_password: SecretStr = SecretStr("")

    @property
    def uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        protocol = self.kafka_security_protocol
        has_user = bool(self.kafka_sasl_username or self.kafka_sasl_password.get_secret_value())
        if self.uses_sasl and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and"
                " KAFKA_SASL_PASSWORD"
            )
        if has_user and not self.uses_sasl:
            raise ValueError(
                f"KAFKA_SASL_USERNAME/PASSWORD are set but KAFKA_SECURITY_PROTOCOL={protocol}:"
                " set SASL_SSL or SASL_PLAINTEXT"
            )
        files = (self.kafka_ssl_ca_file, self.kafka_ssl_cert_file, self.kafka_ssl_key_file)
        if any(files) and not self.uses_tls:
            raise ValueError(
                f"KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL={protocol}:"
                " set SSL or SASL_SSL"
            )
        if self.kafka_ssl_key_file and not self.kafka_ssl_cert_file:
            raise ValueError("KAFKA_SSL_KEY_FILE needs KAFKA_SSL_CERT_FILE")
        return self

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of `SSL` and `SASL_SSL` (None otherwise): the CA file's CAs, else the
        system's; the client certificate when one is set. Raises OSError / ssl.SSLError when a
        file cannot be read."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=self.kafka_ssl_ca_file or None)
        if self.kafka_ssl_cert_file:
            context.load_cert_chain(
                self.kafka_ssl_cert_file,
                self.kafka_ssl_key_file or None,
                self.kafka_ssl_key_password.get_secret_value() or None,
            )
        return context

    def security(self) -> "BaseSecurity | None":
        """FastStream's security object for these settings; None for an open cluster."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return None
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        context = self.ssl_context()
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        kinds = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256}
        kind = kinds.get(self.kafka_sasl_mechanism, SASLScram512)
        return kind(
            self.kafka_sasl_username,
            self.kafka_sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=self.uses_tls,
        )


def client_options(security: "BaseSecurity | None") -> dict[str, Any]:
    """aiokafka's keyword arguments (`security_protocol`, `ssl_context`, `sasl_mechanism`,
    `sasl_plain_username`, `sasl_plain_password`) for a FastStream security object, through
    FastStream's own translation; `{}` for None (an open cluster)."""
    if security is None:
        return {}
    from faststream.kafka.security import parse_security

    return parse_security(security)


class CredentialsRefused(ConnectionError):
    """Kafka refused the SASL credentials: retrying will not help until they are fixed."""


async def diagnose(servers: str, security: "BaseSecurity | None", error: Exception) -> Exception:
    """The error to raise for a connection that failed with `error`: `CredentialsRefused` when
    Kafka refused our SASL credentials, else `error` itself.

    aiokafka's KafkaConnectionError says only "Unable to bootstrap" (the broker's answer goes to
    its log), so each bootstrap server is asked once more, directly, for the reason.
    """
    options = client_options(security)
    if "sasl_mechanism" not in options:
        return error
    from aiokafka.conn import collect_hosts, create_conn
    from aiokafka.errors import SaslAuthenticationFailed, UnsupportedSaslMechanismError

    for host, port, _ in collect_hosts(servers):
        try:
            conn = await create_conn(host, port, request_timeout_ms=5_000, **options)
        except (SaslAuthenticationFailed, UnsupportedSaslMechanismError) as refused:
            return refusal(servers, security, refused)
        except Exception:  # noqa: S112 (away, as `error` said: ask the next server)
            continue
        conn.close()
    return error


def refusal(
    servers: str, security: "BaseSecurity | None", exc: BaseException
) -> CredentialsRefused:
    """The error to raise for a refusal (`refused_credentials(exc)`): names the servers, the
    user and the mechanism, never the password."""
    options = client_options(security)
    return CredentialsRefused(
        f"Kafka at {servers} refused the credentials of user"
        f" {options.get('sasl_plain_username')!r} ({options.get('sasl_mechanism')}): check"
        f" KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM. Kafka said: {exc}"
    )
