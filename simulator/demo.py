"""The configured demo shop, put back after every reset, so ``make run`` works out of the box."""

from simulator import seeding
from simulator.core import Simulator
from simulator.world import Grant, IssuedToken

TEN_YEARS = 10 * 365 * 24 * 3600


def seed_demo(sim: Simulator) -> None:
    config = sim.config
    if not config.demo_shop_id:
        return
    shop = seeding.add_shop(
        sim,
        seeding.ShopSeed(
            id=config.demo_shop_id,
            name="Demo shop",
            cipher=config.demo_shop_cipher,
            webhook_url=config.demo_webhook_url,
        ),
    )
    if config.demo_access_token:
        # The seed's token never refreshes, so the demo one does not expire.
        grant = Grant((shop.id,), open_id="demo-open-id", seller_name="Demo seller")
        token = IssuedToken(config.demo_access_token, grant, sim.now() + TEN_YEARS)
        sim.world.access_tokens[token.value] = token
    if config.demo_products or config.demo_orders:
        seeding.generate(
            sim,
            seeding.Generate(
                shop_id=shop.id, products=config.demo_products, orders=config.demo_orders
            ),
        )
