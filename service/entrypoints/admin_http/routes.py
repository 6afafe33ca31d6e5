"""The seed's admin paths, each turned into its admin command and carried out like on Kafka."""

from collections.abc import Callable
from typing import Any

import structlog
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts import commands as c
from contracts.entities import AUDIT_STATUSES, LISTING_STATUSES, ORDER_STATUSES, SYNC_STATUSES
from service.application.errors import AppError
from service.application.messagebus import MessageBus
from service.domain.money import CURRENCY_EXPONENTS
from service.entrypoints import strict_json
from service.entrypoints.admin_http.errors import error, error_response
from service.entrypoints.body import BadContentLength, BodyTooLarge, read_limited
from service.entrypoints.validation import error_reply_from_validation

log = structlog.get_logger(__name__)

#: (method(s), path under the prefix, command, where its fields come from)
ROUTES: list[tuple[list[str], str, type[c.Command], str]] = [
    (["POST"], "/listings/create", c.CreateListing, "body"),
    (["GET"], "/listings", c.ListListings, "query"),
    (["GET"], "/listings/by-product/{localProductId}", c.GetListingByProduct, "path"),
    (["GET"], "/listings/{id}", c.GetListing, "path"),
    (["POST"], "/listings/{id}/update", c.UpdateListing, "body"),
    (["POST"], "/listings/{id}/delete", c.DeleteListing, "path"),
    (["POST"], "/listings/{id}/push", c.PushListing, "path"),
    (["POST"], "/listings/{id}/stock", c.SetStock, "body"),
    (["POST"], "/listings/{id}/price", c.SetPrice, "body"),
    (["GET"], "/warehouses", c.ListWarehouses, "query"),
    (["GET"], "/categories", c.ListCategories, "query"),
    (["GET"], "/categories/{categoryId}/attributes", c.GetCategoryAttributes, "path"),
    (["POST"], "/sync", c.StartCatalogSync, "body"),
    (["GET"], "/syncs/last", c.GetLastSync, "query"),
    (["GET"], "/syncs", c.ListSyncs, "query"),
    (["POST"], "/products/sync", c.SyncProducts, "body"),
    (["POST"], "/orders/sync", c.SyncOrders, "body"),
    (["GET"], "/orders", c.ListOrders, "query"),
    (["GET"], "/orders/{id}", c.GetOrder, "path"),
    # The seed's README says POST and its code says PUT: both work.
    (["POST", "PUT"], "/orders/{id}/status", c.UpdateOrderStatus, "body"),
    (["GET"], "/jobs", c.ListJobs, "query"),
    (["GET"], "/jobs/{id}", c.GetJob, "path"),
    (["POST"], "/shops/authorize", c.AuthorizeShops, "body"),
    (["GET"], "/stats", c.GetStats, "query"),
    (["GET"], "/settings", c.GetSettings, "query"),
    # order lifecycle
    (["POST"], "/webhooks/register", c.RegisterWebhooks, "body"),
    (["GET"], "/webhooks", c.ListWebhooks, "query"),
    (["POST"], "/orders/reconcile", c.ReconcileOrders, "body"),
    (["GET"], "/reconciliations", c.ListReconciliations, "query"),
    (["POST"], "/orders/{id}/cancellation/approve", c.ApproveCancellation, "body"),
    (["POST"], "/orders/{id}/cancellation/reject", c.RejectCancellation, "body"),
    (["POST"], "/orders/{id}/return/approve", c.ApproveReturn, "body"),
    (["POST"], "/orders/{id}/return/reject", c.RejectReturn, "body"),
    (["GET"], "/orders/{id}/reject-reasons", c.ListRejectReasons, "query"),
    (["POST"], "/orders/{id}/cancel", c.CancelOrder, "body"),
    (["GET"], "/orders/{id}/cancel-reasons", c.ListCancelReasons, "query"),
    (["GET"], "/orders/{id}/shipping-providers", c.ListShippingProviders, "query"),
    (["POST"], "/orders/{id}/ship", c.ShipOrder, "body"),
    (["GET"], "/dead-letters", c.ListDeadLetters, "query"),
    (["POST"], "/dead-letters/replay", c.ReplayDeadLetters, "body"),
    (["GET"], "/dead-letters/{id}", c.GetDeadLetter, "path"),
]


#: The largest request body taken: commands are small (a description is at most 5,000
#: characters), and an endless body must not fill the worker's memory.
MAX_BODY_BYTES = 256 * 1024


async def _fields(request: Request, source: str) -> dict[str, Any] | JSONResponse:
    fields: dict[str, Any] = dict(request.path_params)
    if source == "query":
        fields.update(request.query_params)
    elif source == "body":
        try:
            raw = await read_limited(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            body_too_large = f"The request body is larger than {MAX_BODY_BYTES} bytes"
            return JSONResponse(
                {"error": body_too_large, "code": "validation_failed", "fields": []},
                status_code=413,
            )
        except BadContentLength:
            return error("validation_failed", "Content-Length is not a number")
        if raw.strip():
            try:
                body = strict_json.loads(raw)
            except strict_json.UnfitJson as exc:
                return error("validation_failed", f"The request body is not valid JSON ({exc})")
            if not isinstance(body, dict):
                return error("validation_failed", "The request body must be a JSON object")
            fields.update(body)
        if "shopId" in request.query_params:
            fields.setdefault("shopId", request.query_params["shopId"])
    else:
        if "shopId" in request.query_params:
            fields["shopId"] = request.query_params["shopId"]
    return fields


def _endpoint(
    bus: MessageBus, command_type: type[c.Command], source: str
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        fields = await _fields(request, source)
        if isinstance(fields, JSONResponse):
            return fields
        try:
            command = command_type.model_validate(fields)
        except ValidationError as exc:
            return error_response(error_reply_from_validation(exc))
        try:
            reply = await bus.handle(command)
        except AppError as exc:
            return error_response(exc.reply())
        except Exception:
            # A bug, not the caller's fault: the same `internal` answer as over Kafka.
            log.exception("admin command failed", command=command_type.__name__)
            return error("internal", "The command failed unexpectedly")
        return Response(reply.to_json(), media_type="application/json")

    return endpoint


async def vocabulary(_: Request) -> JSONResponse:
    """The values the admin page offers and how it formats money: each list is the contract's
    own (`contracts.entities`), the exponents ISO 4217's as the service uses them."""
    return JSONResponse(
        {
            "listingStatuses": list(LISTING_STATUSES),
            "syncStatuses": list(SYNC_STATUSES),
            "orderStatuses": list(ORDER_STATUSES),
            "auditStatuses": list(AUDIT_STATUSES),
            "currencyExponents": dict(CURRENCY_EXPONENTS),
        }
    )


def admin_routes(bus: MessageBus) -> list[Route]:
    return [
        Route("/vocabulary", vocabulary, methods=["GET"]),
        *(
            Route(path, _endpoint(bus, command, source), methods=methods)
            for methods, path, command, source in ROUTES
        ),
    ]
