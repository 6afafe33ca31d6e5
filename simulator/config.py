"""Simulator settings: constructor arguments, or ``SIM_*`` environment variables."""

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

SEVEN_DAYS = 7 * 24 * 3600
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class SimulatorConfig:
    app_key: str = "sim-app-key"
    app_secret: str = field(default="sim-app-secret", repr=False)
    # TikTok accepts a timestamp from 5 minutes before to 30 seconds after its own clock.
    timestamp_past_seconds: int = 300
    timestamp_future_seconds: int = 30
    access_token_ttl: int = SEVEN_DAYS
    refresh_token_ttl: int = ONE_YEAR
    auth_code_ttl: int = 1800
    # Per shop (and per app for the authorized-shops call); None switches throttling off.
    rate_limit_per_second: float | None = 50.0
    rate_limit_burst: int | None = None
    # Seeds the random choices of the fault plan (share of 5xx, dropped connections).
    random_seed: int | None = None
    webhook_timeout_seconds: float = 3.0
    clock: Callable[[], float] = field(default=time.time, repr=False)
    # A ready shop for demos: the seed's static TIKTOK_ACCESS_TOKEN is accepted for it.
    demo_shop_id: str | None = None
    demo_shop_cipher: str | None = None
    demo_access_token: str | None = field(default=None, repr=False)
    demo_webhook_url: str | None = None
    demo_products: int = 0
    demo_orders: int = 0
    # Refuse image URIs not uploaded through the image API, as TikTok does.
    require_uploaded_images: bool = True
    # Seconds (of the simulator's clock) a product waits for TikTok's audit.
    audit_delay_seconds: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "SimulatorConfig":
        values = os.environ if env is None else env
        rate = values.get("SIM_RATE_LIMIT_PER_SECOND", "50")
        burst = values.get("SIM_RATE_LIMIT_BURST")
        seed = values.get("SIM_RANDOM_SEED")
        return cls(
            demo_shop_id=values.get("SIM_DEMO_SHOP_ID") or values.get("TIKTOK_SHOP_ID") or None,
            demo_shop_cipher=values.get("SIM_DEMO_SHOP_CIPHER") or None,
            demo_access_token=(
                values.get("SIM_DEMO_ACCESS_TOKEN") or values.get("TIKTOK_ACCESS_TOKEN") or None
            ),
            demo_webhook_url=values.get("SIM_DEMO_WEBHOOK_URL") or None,
            demo_products=int(values.get("SIM_DEMO_PRODUCTS", "0")),
            demo_orders=int(values.get("SIM_DEMO_ORDERS", "0")),
            app_key=values.get("SIM_APP_KEY", values.get("TIKTOK_APP_KEY", cls.app_key)),
            app_secret=values.get(
                "SIM_APP_SECRET", values.get("TIKTOK_APP_SECRET", cls.app_secret)
            ),
            rate_limit_per_second=float(rate) if rate not in ("", "0", "off") else None,
            rate_limit_burst=int(burst) if burst else None,
            random_seed=int(seed) if seed else None,
            require_uploaded_images=values.get("SIM_REQUIRE_UPLOADED_IMAGES", "1")
            not in ("0", "false", "no"),
            audit_delay_seconds=int(values.get("SIM_AUDIT_DELAY_SECONDS", "300")),
        )
