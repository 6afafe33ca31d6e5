"""Every status value TikTok publishes for the webhooks and calls the service handles is mapped,
staged or leads to a refresh: none is silently ignored. The values are read from TikTok's
published OpenAPI description as the `tiktok_shop_api` package ships it (its generated models'
docstrings and enums, read as text: importing them all takes many seconds), so a value TikTok
adds shows up here when the package is updated."""

import importlib.util
import re
from pathlib import Path

import pytest

from contracts.webhooks import ProductStatusData
from service.domain.tiktok_status import (
    CANCELLATION_STAGE,
    RETURN_STAGE,
    canonical_order_status,
    map_product_status,
)
from service.domain.webhooks import PRODUCT_STATUS_CHANGED, product_status
from simulator import after_sales as simulator_after_sales
from simulator import fulfillment as simulator_fulfillment
from simulator import routes_products as simulator_products
from simulator import routes_returns as simulator_returns


def _models() -> Path:
    spec = importlib.util.find_spec("tiktok_shop_api")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "generated" / "models"


MODELS = _models()


def enum_values(module: str) -> list[str]:
    """The members of a generated StrEnum (`NAME = "VALUE"`)."""
    text = (MODELS / f"{module}.py").read_text()
    return re.findall(r'^\s+[A-Z0-9_]+ = "([^"]+)"$', text, re.MULTILINE)


def documented(module: str, field: str) -> list[str]:
    """The values a generated model's docstring lists for `field` ("* VALUE" or "- VALUE")."""
    doc = (MODELS / f"{module}.py").read_text()
    start = re.search(rf"^\s*{field} \(", doc, re.MULTILINE)
    assert start is not None, f"{module} documents no {field}"
    values: list[str] = []
    for line in doc[start.end() :].splitlines()[1:]:
        item = re.match(r"^\s*[*-]\s*`?([A-Z][A-Z0-9_]+)`?\s*(:|$)", line)
        if item:
            values.append(item.group(1))
        elif re.match(r"^\s*\w+ \(", line):
            break  # the next attribute
    assert values, f"{module}.{field}: no values found"
    return values


@pytest.mark.parametrize("value", documented("order_status_change_webhook_data", "order_status"))
def test_every_order_status_of_the_order_webhook_is_mapped(value: str) -> None:
    assert canonical_order_status(value) is not None


@pytest.mark.parametrize("value", enum_values("get_order_list_request_order_status"))
def test_every_order_status_of_the_order_api_is_mapped(value: str) -> None:
    assert canonical_order_status(value) is not None


@pytest.mark.parametrize("value", documented("product_status_change_webhook_data", "status"))
def test_every_product_webhook_status_is_mapped_or_asks_tiktok(value: str) -> None:
    stated = product_status(ProductStatusData(product_id="1", status=value))
    assert stated is not None or value == PRODUCT_STATUS_CHANGED


@pytest.mark.parametrize(
    "value",
    sorted(
        {*documented("get_product_response_data", "status")}
        | {*documented("get_product_response_data", "product_status")}
        | {v for v in enum_values("search_products_request_status") if v != "ALL"}
    ),
)
def test_every_product_status_of_the_product_api_is_mapped(value: str) -> None:
    assert map_product_status(value) is not None


@pytest.mark.parametrize(
    "value", documented("cancellation_status_change_webhook_data", "cancel_status")
)
def test_every_cancellation_stage_is_ordered(value: str) -> None:
    assert CANCELLATION_STAGE.get(value, 0) > 0


@pytest.mark.parametrize("value", documented("return_status_change_webhook_data", "return_status"))
def test_every_return_stage_is_ordered(value: str) -> None:
    assert RETURN_STAGE.get(value, 0) > 0


# --- and every value the simulator produces -------------------------------------------------


@pytest.mark.parametrize("value", sorted(simulator_fulfillment.ORDER_STATUSES))
def test_every_simulated_order_status_is_mapped(value: str) -> None:
    assert canonical_order_status(value) is not None


@pytest.mark.parametrize("value", sorted(simulator_products.PRODUCT_STATUSES))
def test_every_simulated_product_status_is_mapped(value: str) -> None:
    assert map_product_status(value) is not None


@pytest.mark.parametrize(
    "value",
    sorted(simulator_after_sales.CANCEL_STATUSES | {"CANCELLATION_REQUEST_CANCELLED"}),
)
def test_every_simulated_cancellation_stage_is_ordered(value: str) -> None:
    assert CANCELLATION_STAGE.get(value, 0) > 0


@pytest.mark.parametrize("value", sorted(simulator_returns._RETURN_STATUSES))
def test_every_simulated_return_stage_is_ordered(value: str) -> None:
    assert RETURN_STAGE.get(value, 0) > 0
