"""``python -m simulator --port 8900``: serve the simulator with uvicorn."""

import argparse
import os

import uvicorn

from simulator.app import create_app
from simulator.config import SimulatorConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SIM_PORT", "8900")))
    parser.add_argument("--log-level", default=os.environ.get("SIM_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    uvicorn.run(
        create_app(SimulatorConfig.from_env()),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
