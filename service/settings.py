"""Settings from the environment. Secrets are `SecretStr`: they never show in logs or reprs.

The TikTok names are the seed's (`TIKTOK_APP_KEY`, `TIKTOK_APP_SECRET`, `TIKTOK_ACCESS_TOKEN`,
`TIKTOK_SHOP_ID`, `TIKTOK_SANDBOX`), so the instructions of its admin page stay true.
"""

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from contracts import topics
from contracts.kafka_security import KafkaSecurity
from service.domain.stock import parse_warehouse_map

PRODUCTION_API = "https://open-api.tiktokglobalshop.com"
SANDBOX_API = "https://open-api-sandbox.tiktokglobalshop.com"
AUTH_API = "https://auth.tiktok-shops.com"


class Settings(KafkaSecurity):
    """Every setting of the service. Kafka's security settings (`KAFKA_SECURITY_PROTOCOL`,
    `KAFKA_SASL_*`, `KAFKA_SSL_*`) come from `contracts.kafka_security.KafkaSecurity`, which the
    platform's `AdminClient` reads too; `security()` gives FastStream's object for them."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # TikTok Shop app and default shop (the seed's options).
    tiktok_app_key: str = ""
    tiktok_app_secret: SecretStr = SecretStr("")
    tiktok_access_token: SecretStr = SecretStr("")
    tiktok_shop_id: str = ""
    tiktok_sandbox: str = Field(default="true", description='the seed\'s string: "true" or not')
    tiktok_api_base_url: str = ""
    tiktok_auth_base_url: str = AUTH_API
    tiktok_rate_per_second: float = Field(default=50.0, gt=0)
    tiktok_currency: str = "USD"
    # What a pushed product needs that a listing does not carry (a listing's metadata
    # `categoryId` / `inventory` take precedence).
    tiktok_category_id: str = ""
    tiktok_default_inventory: int = Field(default=0, ge=0)
    # The carrier named when an order is marked shipped with a tracking number.
    tiktok_shipping_provider_id: str = ""
    # The platform's warehouse ids and the TikTok warehouses they stand for:
    # "platformId:tiktokId,...". A stock change for a warehouse not named here is refused.
    tiktok_warehouse_map: str = ""
    # Stock and price pushes: a listing goes once its changes have paused this long, or at
    # the latest this long after its first change not pushed.
    stock_push_quiet_seconds: float = Field(default=0.5, ge=0)
    stock_push_max_delay_seconds: float = Field(default=5.0, ge=0)

    # Order lifecycle: webhook registration, reconciliation, carriers.
    public_webhook_url: str = Field(
        default="", description="where TikTok sends webhooks: the ingress's public URL"
    )
    reconcile_interval: float = Field(
        default=900.0, ge=0, description="seconds between a shop's reconciliations; 0: none"
    )
    reconcile_overlap: float = Field(
        default=300.0, ge=0, description="seconds before the watermark a reconciliation reads"
    )
    tiktok_carrier_map: dict[str, str] = Field(
        default_factory=dict,
        description="platform carrier name -> TikTok shipping provider id or name, as JSON",
    )

    # Kafka.
    kafka_bootstrap_servers: str = "127.0.0.1:29092"
    kafka_client_id: str = "tiktok-shop"
    kafka_group_id: str = "tiktok-shop-worker"
    kafka_max_poll_interval_ms: int = Field(
        default=300_000, ge=1_000, description="Kafka's limit between polls; handlers stay below"
    )
    kafka_topic_replication: int = Field(default=1, ge=1, description="3 in production")
    topic_webhooks: str = topics.WEBHOOKS
    topic_admin_commands: str = topics.ADMIN_COMMANDS
    topic_events: str = topics.EVENTS
    topic_dead_letter: str = topics.DEAD_LETTER
    topic_platform_catalog: str = topics.PLATFORM_CATALOG

    # The worker.
    webhook_batch_size: int = Field(
        default=200, ge=1, le=5000, description="webhooks read and applied per unit of work"
    )
    platform_batch_size: int = Field(
        default=1000, ge=1, le=10000, description="stock and price changes per unit of work"
    )
    outbox_sweep_seconds: float = Field(
        default=300.0,
        gt=0,
        description="how often leftover events are looked for after the start-up sweep (what"
        " a worker that stopped for good left; the local database scans for them)",
    )

    # MongoDB (any replica set in production; mongo-java-server locally).
    mongodb_uri: SecretStr = SecretStr("mongodb://127.0.0.1:27027/")
    mongodb_database: str = "tiktok_shop"

    # HTTP.
    ingress_host: str = "127.0.0.1"
    ingress_port: int = 8080
    admin_host: str = "127.0.0.1"
    admin_port: int = 8081
    admin_api_token: SecretStr = SecretStr("")
    webhook_max_bytes: int = 1024 * 1024

    log_level: str = "INFO"
    log_json: bool = False

    # Traces (service/telemetry.py): off unless an OTLP endpoint is set. OpenTelemetry's other
    # standard variables (headers, sampler, resource attributes) are read by its SDK.
    otel_exporter_otlp_endpoint: str = ""
    otel_exporter_otlp_traces_endpoint: str = ""
    otel_service_name: str = ""

    @field_validator("tiktok_warehouse_map")
    @classmethod
    def _warehouse_map(cls, value: str) -> str:
        parse_warehouse_map(value)  # refuse a malformed map at start, not at the first event
        return value

    @property
    def warehouse_map(self) -> dict[str, str]:
        """`TIKTOK_WAREHOUSE_MAP` as {platform warehouse id: TikTok warehouse id}."""
        return parse_warehouse_map(self.tiktok_warehouse_map)

    @field_validator(
        "tiktok_app_key", "tiktok_shop_id", "tiktok_api_base_url", "public_webhook_url"
    )
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def sandbox(self) -> bool:
        return self.tiktok_sandbox.strip().lower() == "true"

    @property
    def api_base_url(self) -> str:
        if self.tiktok_api_base_url:
            return self.tiktok_api_base_url.rstrip("/")
        return SANDBOX_API if self.sandbox else PRODUCTION_API

    @property
    def webhook_verification_ready(self) -> bool:
        """Webhooks need only the app key and secret."""
        return bool(self.tiktok_app_key and self.tiktok_app_secret.get_secret_value())

    @property
    def configured(self) -> bool:
        """The seed's rule: app key, app secret, access token and shop id all set."""
        return bool(
            self.webhook_verification_ready
            and self.tiktok_access_token.get_secret_value()
            and self.tiktok_shop_id
        )

    @property
    def default_shop_id(self) -> str:
        return self.tiktok_shop_id or "default"
