"""Return and refund calls: cancellations, returns, and the after-sales model.

The state machines and their webhooks live in ``simulator.after_sales``; this module checks the
requests as TikTok does and answers in the published shapes. Unknown ids answer 404 (40004), bad
fields 400 (40006), decisions that do not fit the request's state the codes of
``simulator.order_codes`` with HTTP 200.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from starlette.routing import Route

from simulator import after_sales, timeline
from simulator import envelope as env
from simulator import order_codes as codes
from simulator.gate import ApiContext, api
from simulator.order_books import Cancellation, ReturnRequest
from simulator.paging import page_of
from simulator.world import Order

T = TypeVar("T")
_AFTERSALES_FIELDS = frozenset(
    {"LINE_ITEMS", "SKU_RETURN_REQUESTS", "RETURN_MERCHANDISE_AUTHORIZATIONS"}
)
_RMA_FIELDS = frozenset({"LINE_ITEMS", "SKU_RETURN_REQUESTS"})
_RMA_STATUSES = frozenset(
    {
        "INIT",
        "AWAITING_BUYER_RETURN",
        "RETURN_IN_TRANSIT",
        "PENDING_PACKAGE_REVIEW",
        "PACKAGE_REVIEW_COMPLETED",
    }
)
_AFTERSALES_STATUSES = frozenset({"INIT", "PENDING_REQUEST_REVIEW", "REQUEST_REVIEW_COMPLETED"})
_RETURN_STATUSES = frozenset(
    {
        after_sales.R_PENDING,
        after_sales.R_REJECT,
        after_sales.R_AWAITING_SHIP,
        after_sales.R_SHIPPED,
        after_sales.R_REJECT_PACKAGE,
        after_sales.R_SUCCESS,
        after_sales.R_CANCEL,
        after_sales.R_COMPLETE,
        "REPLACEMENT_REQUEST_PENDING",
        "REPLACEMENT_REQUEST_REJECT",
        "REPLACEMENT_REQUEST_REFUND_SUCCESS",
        "REPLACEMENT_REQUEST_CANCEL",
        "REPLACEMENT_REQUEST_COMPLETE",
        "AWAITING_BUYER_RESPONSE",
        "EXCHANGE_REQUEST_PENDING",
        "EXCHANGE_REQUEST_REFUND_SUCCESS",
        "EXCHANGE_REQUEST_CANCEL",
        "EXCHANGE_REQUEST_COMPLETE",
    }
)
_ALL_RETURN_TYPES = frozenset({"REFUND", "RETURN_AND_REFUND", "REPLACEMENT", "EXCHANGE"})
_APPROVE_DECISIONS = frozenset(
    {
        "APPROVE_REFUND",
        "APPROVE_RETURN",
        "APPROVE_RECEIVED_PACKAGE",
        "APPROVE_REPLACEMENT",
        "ISSUE_REPLACEMENT_REFUND",
        "OFFER_PARTIAL_REFUND",
        "DIRECT_REFUND",
    }
)
_REJECT_DECISIONS = frozenset(
    {
        "REJECT_REFUND",
        "REJECT_RETURN",
        "REJECT_RECEIVED_PACKAGE",
        "REJECT_REPLACEMENT",
        "OFFER_PARTIAL_REFUND_AFTER_RECEIVING_PKG",
    }
)
_REVIEW_ACTIONS = frozenset(
    {
        "APPROVE_REQUEST",
        "APPROVE_RETURN_PACKAGE",
        "REJECT_REQUEST",
        "REJECT_RETURN_PACKAGE",
        "REFUND_INSTEAD",
        "OFFER_PARTIAL_REFUND",
        "OFFER_PARTIAL_REFUND_AFTER_RECEIVING_PKG",
    }
)
MAX_COMMENT = 500
MAX_IMAGES = 6


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _not_found(what: str, ident: str) -> env.ApiFailure:
    return env.ApiFailure(404, env.NOT_FOUND, f"{what} {ident} not found")


# --- request checks ---------------------------------------------------------------------------


def _strings(
    body: dict[str, Any], name: str, allowed: frozenset[str] | None = None
) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{name} must be a list of strings")
    if allowed is not None:
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise _bad(f"{name} has unknown values {unknown}")
    return value or None


def _unix(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(f"{name} must be a unix time in seconds")
    return value


def _page_size(raw: object, default: int = 10) -> int:
    if raw is None or raw == "":
        return default
    text = str(raw)
    if isinstance(raw, bool) or not text.isdigit() or not 1 <= int(text) <= 100:
        raise _bad("page_size must be 1..100")
    return int(text)


def _sorted(
    ctx: ApiContext, items: Sequence[T], create: Callable[[T], int], update: Callable[[T], int]
) -> list[T]:
    field = ctx.query.get("sort_field", "create_time")
    if field not in ("create_time", "update_time"):
        raise _bad("sort_field must be create_time or update_time")
    order = ctx.query.get("sort_order", "DESC")
    if order not in ("ASC", "DESC"):
        raise _bad("sort_order must be ASC or DESC")
    key = create if field == "create_time" else update
    return sorted(items, key=lambda item: key(item), reverse=order == "DESC")


def _in_window(value: int, body: dict[str, Any], prefix: str, upper: str = "lt") -> bool:
    low, high = _unix(body, f"{prefix}_ge"), _unix(body, f"{prefix}_{upper}")
    return (low is None or value >= low) and (high is None or value < high)


def _idempotent(ctx: ApiContext, apply: Callable[[], None]) -> dict[str, Any]:
    """Apply a decision once per ``idempotency_key`` (query); a repeat answers success."""
    key = ctx.query.get("idempotency_key")
    books = ctx.sim.world.books
    mark = (ctx.scoped_shop.id, f"{ctx.request.url.path}:{key}")
    if key and mark in books.idempotency_keys:
        return {}
    apply()
    if key:
        books.idempotency_keys.add(mark)
    return {}


def _comment_and_images(body: dict[str, Any]) -> str | None:
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise _bad(f"comment must be text of at most {MAX_COMMENT} characters")
    images = body.get("images")
    if images is not None and (
        not isinstance(images, list)
        or len(images) > MAX_IMAGES
        or not all(isinstance(i, dict) and isinstance(i.get("image_id"), str) for i in images)
    ):
        raise _bad(f"images: at most {MAX_IMAGES}, each with an image_id")
    return comment


def _reason(body: dict[str, Any], name: str = "reject_reason") -> str:
    reason = body.get(name)
    if not isinstance(reason, str) or not reason:
        raise _bad(f"{name} is required")
    return reason


# --- cancellations ----------------------------------------------------------------------------


def _cancellation(ctx: ApiContext) -> Cancellation:
    cancel_id = ctx.request.path_params["cancel_id"]
    c = ctx.sim.world.books.cancellations.get(cancel_id)
    if c is None or c.shop_id != ctx.scoped_shop.id:
        raise _not_found("cancellation", cancel_id)
    return c


def _order(ctx: ApiContext, order_id: object) -> Order:
    if not isinstance(order_id, str) or not order_id:
        raise _bad("order_id is required")
    order = ctx.sim.world.orders.get(order_id)
    if order is None or order.shop_id != ctx.scoped_shop.id:
        raise _not_found("order", order_id)
    return order


@api()
async def search_cancellations(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202602/cancellations/search``; query page_size, page_token,
    sort_field (create_time|update_time), sort_order; body: ``SearchCancellationsRequest``."""
    timeline.run_due(ctx.sim)
    size = _page_size(ctx.query.get("page_size"))
    body = ctx.json()
    ids = _strings(body, "cancel_ids")
    order_ids = _strings(body, "order_ids")
    buyers = _strings(body, "buyer_user_ids")
    types = _strings(body, "cancel_types", frozenset({"CANCEL", "BUYER_CANCEL"}))
    statuses = _strings(body, "cancel_status", after_sales.CANCEL_STATUSES)
    for name in ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt"):
        _unix(body, name)
    orders = ctx.sim.world.orders

    def matches(c: Cancellation) -> bool:
        return (
            c.shop_id == ctx.scoped_shop.id
            and (ids is None or c.id in ids)
            and (order_ids is None or c.order_id in order_ids)
            and (buyers is None or orders[c.order_id].user_id in buyers)
            and (types is None or c.cancel_type in types)
            and (statuses is None or c.status in statuses)
            and _in_window(c.create_time, body, "create_time")
            and _in_window(c.update_time, body, "update_time")
        )

    found = _sorted(
        ctx,
        [c for c in ctx.sim.world.books.cancellations.values() if matches(c)],
        lambda c: c.create_time,
        lambda c: c.update_time,
    )
    page, token = page_of(found, size, ctx.query.get("page_token"))
    return {
        "cancellations": [after_sales.cancellation_api(ctx.sim, c) for c in page],
        "total_count": len(found),
        "next_page_token": token,
    }


@api()
async def approve_cancellation(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202309/cancellations/{cancel_id}/approve``; answers ``{}``."""
    timeline.run_due(ctx.sim)
    c = _cancellation(ctx)
    return _idempotent(ctx, lambda: after_sales.approve_cancellation(ctx.sim, c))


@api()
async def reject_cancellation(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202309/cancellations/{cancel_id}/reject`` body ``{reject_reason,
    comment?, images?}``; answers ``{}``."""
    timeline.run_due(ctx.sim)
    c = _cancellation(ctx)
    body = ctx.json()
    reason = _reason(body)
    comment = _comment_and_images(body)
    return _idempotent(ctx, lambda: after_sales.reject_cancellation(ctx.sim, c, reason, comment))


def _selected_lines(order: Order, body: dict[str, Any]) -> list[str] | None:
    """``order_line_item_ids``, ``order_line_list`` or ``skus`` (not two of them)."""
    ids = _strings(body, "order_line_item_ids")
    line_list = body.get("order_line_list") or None
    skus = body.get("skus") or None
    if sum(x is not None for x in (ids, line_list, skus)) > 1:
        raise _bad("give one of order_line_item_ids, order_line_list and skus")
    if line_list is not None:
        if not isinstance(line_list, list) or not all(
            isinstance(i, dict) and isinstance(i.get("order_line_item_id"), str) for i in line_list
        ):
            raise _bad("order_line_list entries need an order_line_item_id")
        return [i["order_line_item_id"] for i in line_list]
    if skus is not None:
        if not isinstance(skus, list) or not all(
            isinstance(s, dict)
            and isinstance(s.get("sku_id"), str)
            and isinstance(s.get("quantity"), int)
            and s["quantity"] > 0
            for s in skus
        ):
            raise _bad("skus entries need sku_id and a positive quantity")
        chosen: list[str] = []
        for sku in skus:
            lines = [
                i["id"]
                for i in order.line_items
                if i.get("sku_id") == sku["sku_id"] and i.get("display_status") != "CANCELLED"
            ]
            if len(lines) < sku["quantity"]:
                raise _bad(f"order {order.id} has fewer than {sku['quantity']} of {sku['sku_id']}")
            chosen.extend(lines[: sku["quantity"]])
        return chosen
    return ids


@api()
async def cancel_order(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202602/cancellations`` body ``{order_id, cancel_reason,
    order_line_item_ids? | order_line_list? | skus?}``; answers ``{cancel_id, cancel_status}``."""
    timeline.run_due(ctx.sim)
    body = ctx.json()
    order = _order(ctx, body.get("order_id"))
    reason = _reason(body, "cancel_reason")
    lines = _selected_lines(order, body)
    c = after_sales.seller_cancels(ctx.sim, order, reason, lines)
    return {"cancel_id": c.id, "cancel_status": c.status}


@api()
async def reject_reasons(ctx: ApiContext) -> dict[str, Any]:
    """``GET /return_refund/202309/reject_reasons?return_or_cancel_id=``: ``reasons`` [{name,
    text}] fitting the request's current state (none once it is decided)."""
    timeline.run_due(ctx.sim)
    request_id = ctx.query.get("return_or_cancel_id")
    if not request_id:
        raise _bad("return_or_cancel_id is required")
    books = ctx.sim.world.books
    owner = books.cancellations.get(request_id) or books.returns.get(request_id)
    reasons = after_sales.reject_reasons_for(ctx.sim, request_id)
    if owner is None or reasons is None or owner.shop_id != ctx.scoped_shop.id:
        raise _not_found("return or cancellation", request_id)
    return {"reasons": [{"name": name, "text": text} for name, text in reasons.items()]}


@api()
async def aftersale_eligibility(ctx: ApiContext) -> dict[str, Any]:
    """``GET /return_refund/202602/orders/{order_id}/aftersale_eligibility`` query
    ``initiate_aftersale_user`` (BUYER|SELLER, default SELLER), ``request_types`` (CANCEL, REFUND,
    RETURN_AND_REFUND; repeated or comma-separated). Answers ``sku_eligibility`` per SKU."""
    timeline.run_due(ctx.sim)
    order = _order(ctx, ctx.request.path_params["order_id"])
    user = ctx.query.get("initiate_aftersale_user", "SELLER")
    if user not in ("BUYER", "SELLER"):
        raise _bad("initiate_aftersale_user must be BUYER or SELLER")
    raw = [
        part
        for value in ctx.request.query_params.getlist("request_types")
        for part in value.split(",")
        if part
    ]
    kinds = raw or ["CANCEL", "REFUND", "RETURN_AND_REFUND"]
    unknown = [k for k in kinds if k not in ("CANCEL", "REFUND", "RETURN_AND_REFUND")]
    if unknown:
        raise _bad(f"unknown request_types {unknown}")
    reasons = {
        "CANCEL": after_sales.SELLER_CANCEL_REASONS
        if user == "SELLER"
        else after_sales.BUYER_CANCEL_REASONS,
        "REFUND": after_sales.RETURN_REASONS,
        "RETURN_AND_REFUND": after_sales.RETURN_REASONS,
    }
    eligible_by_kind = {
        "CANCEL": set(after_sales.cancellable_line_ids(ctx.sim, order)),
        "REFUND": set(after_sales.returnable_line_ids(ctx.sim, order, "REFUND")),
        "RETURN_AND_REFUND": set(
            after_sales.returnable_line_ids(ctx.sim, order, "RETURN_AND_REFUND")
        ),
    }
    if user == "SELLER":
        # Sellers cancel; refunds and returns are the buyer's to ask for.
        eligible_by_kind["REFUND"] = eligible_by_kind["RETURN_AND_REFUND"] = set()
    skus: dict[str, list[str]] = {}
    for item in order.line_items:
        skus.setdefault(str(item.get("sku_id")), []).append(item["id"])
    answer = []
    for sku_id, lines in skus.items():
        entries = []
        for kind in kinds:
            good = [line for line in lines if line in eligible_by_kind[kind]]
            bad = [line for line in lines if line not in eligible_by_kind[kind]]
            if good:
                entries.append(
                    {
                        "request_type": kind,
                        "eligible": True,
                        "order_line_items_ids": good,
                        "order_line_list": [{"order_line_item_id": line} for line in good],
                        "available_reason_names": list(reasons[kind]),
                    }
                )
            if bad:
                entries.append(
                    {
                        "request_type": kind,
                        "eligible": False,
                        "order_line_items_ids": bad,
                        "order_line_list": [{"order_line_item_id": line} for line in bad],
                        "ineligible_reason": f"not eligible for {kind} while the order is "
                        f"{order.status} (or already requested)",
                    }
                )
        answer.append({"sku_id": sku_id, "line_item_eligibility": entries})
    return {"sku_eligibility": answer}


# --- returns ----------------------------------------------------------------------------------


def _return(ctx: ApiContext) -> ReturnRequest:
    return_id = ctx.request.path_params["return_id"]
    r = ctx.sim.world.books.returns.get(return_id)
    if r is None or r.shop_id != ctx.scoped_shop.id:
        raise _not_found("return", return_id)
    return r


@api()
async def search_returns(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202602/returns/search``; query page_size, page_token, sort_field,
    sort_order; body filters of ``SearchReturnsRequest``. ``return_orders`` is left out of a page
    with no returns, as TikTok does."""
    timeline.run_due(ctx.sim)
    size = _page_size(ctx.query.get("page_size"))
    body = ctx.json()
    ids = _strings(body, "return_ids")
    order_ids = _strings(body, "order_ids")
    buyers = _strings(body, "buyer_user_ids")
    types = _strings(body, "return_types", _ALL_RETURN_TYPES)
    statuses = _strings(body, "return_status", _RETURN_STATUSES)
    _strings(body, "arbitration_status")
    proposed = _strings(body, "seller_proposed_return_type", frozenset({"PARTIAL_REFUND"}))
    for name in ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt"):
        _unix(body, name)
    orders = ctx.sim.world.orders

    def matches(r: ReturnRequest) -> bool:
        return (
            r.shop_id == ctx.scoped_shop.id
            and (ids is None or r.id in ids)
            and (order_ids is None or r.order_id in order_ids)
            and (buyers is None or orders[r.order_id].user_id in buyers)
            and (types is None or r.return_type in types)
            and (statuses is None or r.status in statuses)
            and (proposed is None or r.partial_refund_total is not None)
            and _in_window(r.create_time, body, "create_time")
            and _in_window(r.update_time, body, "update_time")
        )

    found = _sorted(
        ctx,
        [r for r in ctx.sim.world.books.returns.values() if matches(r)],
        lambda r: r.create_time,
        lambda r: r.update_time,
    )
    page, token = page_of(found, size, ctx.query.get("page_token"))
    answer: dict[str, Any] = {"total_count": len(found), "next_page_token": token}
    if page:
        answer["return_orders"] = [after_sales.return_api(ctx.sim, r) for r in page]
    return answer


@api()
async def approve_return(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202309/returns/{return_id}/approve`` body ``{decision,
    buyer_keep_item?}``; answers ``{}``."""
    timeline.run_due(ctx.sim)
    r = _return(ctx)
    body = ctx.json()
    decision = body.get("decision")
    if decision not in _APPROVE_DECISIONS:
        raise _bad(f"decision must be one of {', '.join(sorted(_APPROVE_DECISIONS))}")
    keep = body.get("buyer_keep_item", False)
    if not isinstance(keep, bool):
        raise _bad("buyer_keep_item must be true or false")
    return _idempotent(
        ctx, lambda: after_sales.approve_return(ctx.sim, r, decision, buyer_keep_item=keep)
    )


@api()
async def reject_return(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202606/returns/{return_id}/reject`` body ``{decision, reject_reason,
    comment?, images?, partial_refund_amount?}``; answers ``{}``."""
    timeline.run_due(ctx.sim)
    r = _return(ctx)
    body = ctx.json()
    decision = body.get("decision")
    if decision not in _REJECT_DECISIONS:
        raise _bad(f"decision must be one of {', '.join(sorted(_REJECT_DECISIONS))}")
    reason = _reason(body)
    comment = _comment_and_images(body)
    partial = body.get("partial_refund_amount")
    return _idempotent(
        ctx,
        lambda: after_sales.reject_return(ctx.sim, r, decision, reason, comment, partial),
    )


# --- after-sales model (202603, 202604, 202609) -----------------------------------------------


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise _bad(f"{name} must be an object")
    return value


def _time_window(filters: dict[str, Any], name: str) -> tuple[int | None, int | None]:
    window = _object(_object(filters, "time"), name)
    low = _unix(window, "min_unix_time_inclusive")
    high = _unix(window, "max_unix_time_exclusive")
    return low, high


def _window_holds(value: int, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value < high)


def _paged_model(
    ctx: ApiContext,
    body: dict[str, Any],
    items: list[ReturnRequest],
    created: Callable[[ReturnRequest], int],
) -> tuple[Sequence[ReturnRequest], str]:
    sort = _object(body, "sort")
    field = sort.get("sort_field", "CREATE_TIME")
    direction = sort.get("sort_order", "DESC")
    if field not in ("CREATE_TIME", "UPDATE_TIME") or direction not in ("ASC", "DESC"):
        raise _bad("sort needs sort_field CREATE_TIME|UPDATE_TIME and sort_order ASC|DESC")
    pagination = _object(body, "pagination")
    size = _page_size(pagination.get("page_size"), default=20)
    token = pagination.get("page_token")
    if token is not None and not isinstance(token, str):
        raise _bad("pagination.page_token must be a string")
    ordered = sorted(
        items,
        key=lambda r: created(r) if field == "CREATE_TIME" else r.update_time,
        reverse=direction == "DESC",
    )
    return page_of(ordered, size, token or None)


@api()
async def search_aftersales(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202603/aftersales/search`` body ``{whitelisted_data_fields?,
    filters?, sort?, pagination?}``; ``aftersales_requests`` is left out when none match."""
    timeline.run_due(ctx.sim)
    body = ctx.json()
    fields = set(_strings(body, "whitelisted_data_fields", _AFTERSALES_FIELDS) or [])
    filters = _object(body, "filters")
    ids = _strings(filters, "aftersales_request_ids")
    statuses = _strings(filters, "aftersales_request_statuses", _AFTERSALES_STATUSES)
    types = _strings(filters, "return_types", _ALL_RETURN_TYPES)
    order_ids = _strings(filters, "main_order_ids")
    buyers = _strings(filters, "buyer_ids")
    created, updated = _time_window(filters, "create_time"), _time_window(filters, "update_time")
    orders = ctx.sim.world.orders
    found = [
        r
        for r in ctx.sim.world.books.returns.values()
        if r.shop_id == ctx.scoped_shop.id
        and (ids is None or r.aftersales_id in ids)
        and (statuses is None or r.aftersales_status in statuses)
        and (types is None or r.return_type in types)
        and (order_ids is None or r.order_id in order_ids)
        and (buyers is None or orders[r.order_id].user_id in buyers)
        and _window_holds(r.create_time, created)
        and _window_holds(r.update_time, updated)
    ]
    page, token = _paged_model(ctx, body, found, lambda r: r.create_time)
    answer: dict[str, Any] = {"total_count": len(found), "next_page_token": token}
    if page:
        answer["aftersales_requests"] = [
            after_sales.aftersales_api(ctx.sim, r, fields) for r in page
        ]
    return answer


@api()
async def search_rmas(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202604/rma/search`` body ``{whitelisted_data_fields?, filters?,
    sort?, pagination?}``; ``return_merchandise_authorizations`` left out when none match."""
    timeline.run_due(ctx.sim)
    body = ctx.json()
    fields = set(_strings(body, "whitelisted_data_fields", _RMA_FIELDS) or [])
    filters = _object(body, "filters")
    ids = _strings(filters, "rma_ids")
    packages = _strings(filters, "package_ids")
    statuses = _strings(filters, "statuses", _RMA_STATUSES)
    aftersales_ids = _strings(filters, "aftersales_request_ids")
    order_ids = _strings(filters, "main_order_ids")
    created, updated = _time_window(filters, "create_time"), _time_window(filters, "update_time")
    found = [
        r
        for r in ctx.sim.world.books.returns.values()
        if r.shop_id == ctx.scoped_shop.id
        and r.rma_id is not None
        and (ids is None or r.rma_id in ids)
        and (packages is None or r.rma_package_id in packages)
        and (statuses is None or r.rma_status in statuses)
        and (aftersales_ids is None or r.aftersales_id in aftersales_ids)
        and (order_ids is None or r.order_id in order_ids)
        and _window_holds(r.rma_create_time or 0, created)
        and _window_holds(r.rma_update_time or 0, updated)
    ]
    page, token = _paged_model(ctx, body, found, lambda r: r.rma_create_time or 0)
    answer: dict[str, Any] = {"total_count": len(found), "next_page_token": token}
    if page:
        answer["return_merchandise_authorizations"] = [
            after_sales.rma_api(ctx.sim, r, fields) for r in page
        ]
    return answer


def _review_one(ctx: ApiContext, decision: dict[str, Any]) -> None:
    """Apply one after-sales decision; raises ``ApiFailure`` for the ``errors`` list."""
    books = ctx.sim.world.books
    request_id = decision["request_id"]
    kind = decision.get("request_id_type", "AFTERSALES")
    r = books.return_by_rma(request_id) if kind == "RMA" else books.return_by_aftersales(request_id)
    if r is None or r.shop_id != ctx.scoped_shop.id:
        raise _not_found("RMA" if kind == "RMA" else "aftersales request", request_id)
    [line_decision] = decision["line_item_decisions"]
    named = {i.get("return_line_item_id") for i in line_decision["line_items"]}
    if named != set(r.lines.values()):
        raise env.ApiFailure(
            200,
            codes.AFTERSALES_LINE_ITEMS_MISMATCH,
            f"one decision must name every return line item of {request_id}: "
            f"{sorted(r.lines.values())}",
        )
    action = line_decision["action"]
    reason = _object(line_decision, "reason").get("reason_id")
    pending = r.status == after_sales.R_PENDING
    sim = ctx.sim
    if action == "APPROVE_REQUEST":
        after_sales.approve_return(
            sim, r, "APPROVE_REFUND" if r.return_type == "REFUND" else "APPROVE_RETURN"
        )
    elif action == "REFUND_INSTEAD":
        after_sales.approve_return(sim, r, "DIRECT_REFUND")
    elif action == "APPROVE_RETURN_PACKAGE":
        after_sales.approve_return(sim, r, "APPROVE_RECEIVED_PACKAGE")
    elif action in ("REJECT_REQUEST", "REJECT_RETURN_PACKAGE"):
        if not isinstance(reason, str):
            raise _bad("reason.reason_id is required to reject")
        if action == "REJECT_REQUEST":
            kind_of = "REJECT_REFUND" if r.return_type == "REFUND" else "REJECT_RETURN"
            after_sales.reject_return(
                sim, r, kind_of if pending else "REJECT_REQUEST", reason, None
            )
        else:
            after_sales.reject_return(sim, r, "REJECT_RECEIVED_PACKAGE", reason, None)
    elif action == "OFFER_PARTIAL_REFUND_AFTER_RECEIVING_PKG":
        details = _object(line_decision, "alternative_solution_details")
        after_sales.reject_return(
            sim,
            r,
            action,
            reason if isinstance(reason, str) else next(iter(after_sales.REJECT_PACKAGE_REASONS)),
            None,
            {
                "partial_refund_total": details.get("partial_refund_amount"),
                "currency": details.get("currency"),
            },
        )
    else:
        raise env.ApiFailure(
            200,
            codes.RETURN_DECISION_NOT_ALLOWED,
            f"{action} is not simulated; use the return approve and reject calls",
        )


@api()
async def review_aftersales(ctx: ApiContext) -> dict[str, Any]:
    """``POST /return_refund/202609/aftersales/review`` body ``{aftersales_request_decisions:
    [{request_id, request_id_type?, line_item_decisions: [{line_items, action, reason?,
    alternative_solution_details?}], idempotency_key?}]}``. Answers ``{errors: [{code, message}]}``:
    a decision that cannot apply is listed there while the call still succeeds (code 0)."""
    timeline.run_due(ctx.sim)
    decisions = ctx.json().get("aftersales_request_decisions")
    if not isinstance(decisions, list) or not decisions:
        raise _bad("aftersales_request_decisions needs at least one decision")
    for n, decision in enumerate(decisions):
        where = f"aftersales_request_decisions[{n}]"
        if not isinstance(decision, dict) or not isinstance(decision.get("request_id"), str):
            raise _bad(f"{where}.request_id is required")
        if decision.get("request_id_type", "AFTERSALES") not in ("AFTERSALES", "RMA"):
            raise _bad(f"{where}.request_id_type must be AFTERSALES or RMA")
        line_decisions = decision.get("line_item_decisions")
        if not isinstance(line_decisions, list) or not line_decisions:
            raise _bad(f"{where}.line_item_decisions needs at least one entry")
        for m, line_decision in enumerate(line_decisions):
            inner = f"{where}.line_item_decisions[{m}]"
            if (
                not isinstance(line_decision, dict)
                or line_decision.get("action") not in _REVIEW_ACTIONS
            ):
                raise _bad(f"{inner}.action must be one of {', '.join(sorted(_REVIEW_ACTIONS))}")
            items = line_decision.get("line_items")
            if (
                not isinstance(items, list)
                or not items
                or not all(
                    isinstance(i, dict) and isinstance(i.get("return_line_item_id"), str)
                    for i in items
                )
            ):
                raise _bad(f"{inner}.line_items need a return_line_item_id each")
    errors: list[dict[str, str]] = []
    books = ctx.sim.world.books
    for decision in decisions:
        key = decision.get("idempotency_key")
        mark = (ctx.scoped_shop.id, f"review:{key}")
        if isinstance(key, str) and key and mark in books.idempotency_keys:
            continue
        if len(decision["line_item_decisions"]) > 1:
            errors.append(
                {
                    "code": str(codes.AFTERSALES_LINE_ITEMS_MISMATCH),
                    "message": f"{decision['request_id']}: one decision per request is simulated",
                }
            )
            continue
        try:
            _review_one(ctx, decision)
        except env.ApiFailure as failure:
            errors.append({"code": str(failure.code), "message": failure.message})
            continue
        if isinstance(key, str) and key:
            books.idempotency_keys.add(mark)
    return {"errors": errors}


ROUTES = [
    Route("/return_refund/202602/cancellations/search", search_cancellations, methods=["POST"]),
    Route("/return_refund/202602/cancellations", cancel_order, methods=["POST"]),
    Route(
        "/return_refund/202309/cancellations/{cancel_id}/approve",
        approve_cancellation,
        methods=["POST"],
    ),
    Route(
        "/return_refund/202309/cancellations/{cancel_id}/reject",
        reject_cancellation,
        methods=["POST"],
    ),
    Route("/return_refund/202309/reject_reasons", reject_reasons, methods=["GET"]),
    Route(
        "/return_refund/202602/orders/{order_id}/aftersale_eligibility",
        aftersale_eligibility,
        methods=["GET"],
    ),
    Route("/return_refund/202602/returns/search", search_returns, methods=["POST"]),
    Route("/return_refund/202309/returns/{return_id}/approve", approve_return, methods=["POST"]),
    Route("/return_refund/202606/returns/{return_id}/reject", reject_return, methods=["POST"]),
    Route("/return_refund/202603/aftersales/search", search_aftersales, methods=["POST"]),
    Route("/return_refund/202604/rma/search", search_rmas, methods=["POST"]),
    Route("/return_refund/202609/aftersales/review", review_aftersales, methods=["POST"]),
]
