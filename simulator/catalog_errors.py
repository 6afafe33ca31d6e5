"""TikTok's error codes for the catalog calls: images, categories, attributes, SKUs, stock, prices.

TikTok publishes no single list in its OpenAPI description; these are the codes its product API
answers as integrators have recorded them (message texts are TikTok's in spirit, not verbatim).
Each refusal goes out in TikTok's envelope with ``data`` null, or, for inventory updates, as an
entry of ``data.errors`` beside ``code`` 0.
"""

from typing import Final

from simulator import envelope as env

# --- image upload (POST /product/202309/images/upload) ---
IMAGE_FILE_INVALID: Final = 12038002  # no file, or a zero-byte one
IMAGE_UNREADABLE: Final = 12038004  # the bytes claim a format but cannot be decoded
IMAGE_TOO_LARGE: Final = 12038005  # over 10 MB
IMAGE_DIMENSIONS: Final = 12038014  # outside the use case's width/height range
IMAGE_FORMAT: Final = 12038015  # not JPG/JPEG, PNG, WEBP, HEIC or BMP

# --- product create / edit / partial edit ---
MAIN_IMAGE_TOO_SMALL: Final = 12052301  # a main image under 300x300 px
MAIN_IMAGE_COUNT: Final = 12052306  # more than 9 main images
IMAGE_NOT_FOUND: Final = 12052722  # a URI TikTok did not host
CATEGORY_NOT_FOUND: Final = 12052023
CATEGORY_NOT_LEAF: Final = 12052024
CATEGORY_NOT_MAIN: Final = 12052225  # NON_MAIN_CATEGORY for this shop
ATTRIBUTE_REQUIRED: Final = 12052104
ATTRIBUTE_NOT_MULTIPLE: Final = 12052246
ATTRIBUTE_CUSTOM_VALUE: Final = 12052247  # a custom value where the attribute takes none
ATTRIBUTE_VALUE_NOT_FOUND: Final = 12052529  # an attribute or value id the category lacks
SALES_ATTRIBUTES_MISMATCH: Final = 12052550  # SKUs must carry the same sales attributes
SALES_ATTRIBUTE_TYPES: Final = 12052525  # more than 3 kinds of sales attribute
CERTIFICATION_MISSING: Final = 12052105
SIZE_CHART_MISSING: Final = 12052673
SELLER_SKU_TOO_LONG: Final = 12052054
SKU_COUNT: Final = 12052558
SKU_PRICE_MISSING: Final = 12052571
STOCK_OUT_OF_RANGE: Final = 12052055  # a warehouse quantity outside 0..99,999 on create/edit
WAREHOUSE_NOT_FOUND: Final = 12052097
WAREHOUSE_NOT_SALES: Final = 12052532  # a return warehouse given for stock
WAREHOUSE_DUPLICATE: Final = 12052555
DAILY_LISTING_LIMIT: Final = 12019068  # a new shop's ~100 listings a day
PRODUCT_NOT_FOUND: Final = 12052032
PRODUCT_STATUS_FORBIDS: Final = 12052901  # e.g. editing a FREEZE or DELETED product

# --- inventory update (POST /product/202309/products/{id}/inventory/update) ---
CHECK_FAILED: Final = 12052990  # per SKU, with the warehouse problems in extra_errors
SKU_NOT_IN_PRODUCT: Final = 12052557
SKU_DUPLICATE: Final = 12052553
STOCK_COUNT_INVALID: Final = 12019024  # quantity outside 0..99,999
WAREHOUSES_INCOMPLETE: Final = 12052516  # not every warehouse of the SKU was sent

# --- price update (POST /product/202309/products/{id}/prices/update) ---
PRODUCT_STATUS_INVALID: Final = 12019113  # prices change only on ACTIVATE products
PRICE_INVALID: Final = 12052073  # not a positive amount with the currency's decimals
CURRENCY_UNAVAILABLE: Final = 12052084  # not the currency the SKU is sold in


def refused(code: int, message: str, http_status: int = 400) -> env.ApiFailure:
    """A whole-call refusal in TikTok's envelope."""
    return env.ApiFailure(http_status, code, message)
