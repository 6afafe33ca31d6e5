"""`GET /metrics`: the process's Prometheus metrics (`service.metrics.REGISTRY`).

Served on the ingress's port and on the worker's admin port, without the admin token, as
Prometheus scrapes: the metrics carry no secret, no personal data and no id (see the labels in
`service.metrics`). The ingress's port is the public one; only its webhook path should be
exposed to the internet (the chart's Ingress object routes nothing else).
"""

from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import metrics

PATH = "/metrics"


def metrics_routes() -> list[Route]:
    async def serve(request: Request) -> Response:
        # Prometheus' text format, or OpenMetrics when the scraper asks for it.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(metrics.REGISTRY), headers={"Content-Type": content_type})

    return [Route(PATH, serve, methods=["GET"])]
