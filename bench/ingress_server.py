"""The ingress app served by one server or the other, as one process with one event loop:
`python -m bench.ingress_server uvicorn|granian` (settings from the environment, as
`python -m service ingress` reads them). SIGTERM or SIGINT stops it."""

import asyncio
import signal
import sys

import uvicorn
from granian.constants import Interfaces
from granian.server.embed import Server as Granian

from service import logs
from service.entrypoints.ingress.app import ingress_app
from service.settings import Settings


async def serve(kind: str) -> None:
    settings = Settings()
    logs.configure(settings.log_level, json=settings.log_json)
    app = ingress_app(settings)
    host, port = settings.ingress_host, settings.ingress_port
    loop = asyncio.get_running_loop()
    if kind == "uvicorn":
        server = uvicorn.Server(
            # No access log: granian writes none either, and the ingress logs each webhook.
            uvicorn.Config(
                app, host=host, port=port, log_config=None, lifespan="on", access_log=False
            )
        )
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        await server.serve()
    elif kind == "granian":
        embedded = Granian(
            app, address=host, port=port, interface=Interfaces.ASGI, log_enabled=False
        )
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, embedded.stop)
        await embedded.serve()
    else:
        raise SystemExit(f"unknown server {kind!r}: uvicorn or granian")


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
