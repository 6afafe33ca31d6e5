"""`python -m service ingress | worker | all | demo | dead-letters`: run the parts, served by
uvicorn, or act on the dead letters."""

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Iterator

import structlog
import uvicorn
from starlette.types import ASGIApp

from service import logs, stopping, telemetry
from service.bootstrap import Worker
from service.entrypoints import dead_letters
from service.entrypoints.demo import run_demo
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings

log = structlog.get_logger("service")


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to `_serve`, which stops all servers together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=stopping.HTTP_DRAIN_SECONDS,
    )
    return _Server(config)


async def _serve(servers: list[uvicorn.Server]) -> None:
    def stop() -> None:
        log.info(
            "stopping: finishing the messages in hand, then closing connections",
            within_seconds=stopping.STOP_SECONDS,
        )
        # However the stop goes, the process is gone within STOP_SECONDS (a second signal: now).
        stopping.arm_deadline()
        for server in servers:
            server.should_exit = True

    signalled = False

    def on_signal() -> None:
        nonlocal signalled
        if signalled:
            stopping.exit_now("a second stop signal")
        signalled = True
        stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    async def run(server: uvicorn.Server) -> bool:
        try:
            await server.serve()
        except (Exception, SystemExit):
            log.exception("a server failed; stopping the others")
            stop()
            return False
        if not server.started:  # start-up failed: the others must not run on alone
            stop()
        return server.started

    if not all(await asyncio.gather(*(run(s) for s in servers))):
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parts = parser.add_subparsers(dest="part", required=True, metavar="PART")
    parts.add_parser("ingress", help="the webhook ingress")
    parts.add_parser("worker", help="the worker and the admin API")
    parts.add_parser("all", help="the ingress, the worker and the admin API in one process")
    parts.add_parser("demo", help="send webhooks to a running service and show the orders")
    dead_letters.add_parser(parts)
    args = parser.parse_args(argv)

    settings = Settings()
    if args.part == "demo":
        raise SystemExit(asyncio.run(run_demo(settings)))
    logs.configure(settings.log_level, json=settings.log_json)
    if args.part == "dead-letters":
        raise SystemExit(asyncio.run(dead_letters.run(settings, args)))
    # Traces only when an OTLP endpoint is set; before the brokers are built, which then carry
    # the trace context in Kafka headers.
    tracing = telemetry.configure(settings, args.part)
    servers: list[uvicorn.Server] = []
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
    try:
        asyncio.run(_serve(servers))
    finally:
        if tracing is not None:  # send what is buffered, briefly: the stop is bounded
            tracing.force_flush(timeout_millis=2_000)
            tracing.shutdown()
