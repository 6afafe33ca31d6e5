"""`make bench`: each benchmark prints its figures and its ratio against a baseline run beside it
on the same machine and services. Absolute numbers depend on the machine; the ratios travel."""

import asyncio
import logging
import uuid

from bench import catalog_pushes, ingress_throughput, stats_aggregation
from service.adapters.mongo.database import Database
from service.settings import Settings


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    settings = Settings(mongodb_database=f"bench_{uuid.uuid4().hex[:8]}")
    db = Database(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
    try:
        print(await stats_aggregation.run(db))
        print(await ingress_throughput.run(settings))
        print(await catalog_pushes.run(settings))
    finally:
        await db.client.drop_database(settings.mongodb_database)
        await db.close()


asyncio.run(main())
