"""A local TikTok Shop: the Open API calls the service uses, the token endpoints, and controls.

As strict as TikTok about signatures, timestamps, tokens, shop ciphers and rate limits, so that
the client is tested against the rules rather than against itself; as loose as TikTok in what it
pushes. Calls served: products, orders, fulfillment (packages, shipping providers), return and
refund (cancellations, returns, the after-sales model), finance (statements, transactions,
unsettled orders) and the Event API; ``simulator/README.md`` lists them with the controls.
"""

from simulator.app import create_app
from simulator.config import SimulatorConfig
from simulator.core import Simulator

__all__ = ["Simulator", "SimulatorConfig", "create_app"]
