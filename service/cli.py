"""`python -m service ingress | worker | all | demo`: run the parts, served by granian.

Granian (its HTTP server in Rust, embedded in this process's event loop) answered 1.5 times the
signed webhooks and 3 times the health checks uvicorn did from the same ingress process
(`bench/README.md`, "Ingress").
"""

import argparse
import asyncio
import signal
from typing import Any

import structlog
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server
from starlette.types import ASGIApp

from service import logs
from service.bootstrap import Worker
from service.entrypoints.demo import run_demo
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings

log = structlog.get_logger("service")


# Granian's own lines go through the service's logging (JSON in production), errors only.
_GRANIAN_LOGS: dict[str, Any] = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False},
    },
}


def _server(app: ASGIApp, host: str, port: int) -> Server:
    """One HTTP server on this process's event loop; signals are left to `_serve`, which stops
    all servers together."""
    return Server(
        app,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        backlog=1024,
        log_level=LogLevels.error,
        log_dictconfig=_GRANIAN_LOGS,
    )


async def _serve(servers: list[Server]) -> None:
    def stop() -> None:
        log.info("stopping: finishing the messages in hand, then closing connections")
        for server in servers:
            server.stop()  # type: ignore[no-untyped-call]

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)

    async def run(server: Server) -> bool:
        try:
            await server.serve()
        except (Exception, SystemExit):
            # A failed start-up (the app's lifespan raised) ends here too.
            log.exception("a server failed; stopping the others")
            stop()
            return False
        if server.interrupt_children:  # its worker ended without being asked to
            stop()
            return False
        return True

    if not all(await asyncio.gather(*(run(s) for s in servers))):
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parser.add_argument(
        "part",
        choices=["ingress", "worker", "all", "demo"],
        help="what to run; `demo` sends webhooks to a running service and shows the orders",
    )
    args = parser.parse_args(argv)

    settings = Settings()
    if args.part == "demo":
        raise SystemExit(asyncio.run(run_demo(settings)))
    logs.configure(settings.log_level, json=settings.log_json)
    servers: list[Server] = []
    if args.part in ("ingress", "all"):
        servers.append(_server(ingress_app(settings), settings.ingress_host, settings.ingress_port))
        log.info(
            "ingress listening",
            url=f"http://{settings.ingress_host}:{settings.ingress_port}/tiktok-shop/webhooks",
        )
    if args.part in ("worker", "all"):
        servers.append(
            _server(worker_app(Worker(settings)), settings.admin_host, settings.admin_port)
        )
        log.info(
            "worker and admin API listening",
            url=f"http://{settings.admin_host}:{settings.admin_port}/admin/tiktok-shop",
        )
    asyncio.run(_serve(servers))
