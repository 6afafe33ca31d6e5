"""``POST /product/202309/images/upload``: a product image into TikTok's storage.

``multipart/form-data`` with ``data`` (the file) and ``use_case``; the signature leaves the body
out, as for every multipart call. Not shop-scoped (TikTok's description marks it so): the rate
limit counts per app. Rules from Upload Product Image 202309: JPG/JPEG, PNG, WEBP, HEIC or BMP;
not empty; at most 10 MB; 100..20,000 px a side, 300..4,000 for ``MAIN_IMAGE``, a shorter side of
at least 1,024 for ``SIZE_CHART_IMAGE``. ``MAIN_IMAGE`` and ``ATTRIBUTE_IMAGE`` outside 3:4..4:3
come back squared (the answer's width and height are after that adjustment).
"""

import secrets
from typing import Any, Final

from starlette.routing import Route

from simulator import catalog_errors as err
from simulator import envelope as env
from simulator.catalog import UploadedImage
from simulator.gate import ApiContext, api
from simulator.image_files import UnreadableImage, form_parts, sniff
from simulator.listing_rules import catalog_of

MAX_BYTES: Final = 10 * 1024 * 1024
USE_CASES: Final = frozenset(
    {
        "MAIN_IMAGE",
        "ATTRIBUTE_IMAGE",
        "DESCRIPTION_IMAGE",
        "CERTIFICATION_IMAGE",
        "SIZE_CHART_IMAGE",
        "CUSTOMIZATION_IMAGE",
    }
)
_SQUARED: Final = frozenset({"MAIN_IMAGE", "ATTRIBUTE_IMAGE"})


def _check_dimensions(use_case: str, width: int, height: int) -> None:
    low, high = (300, 4000) if use_case == "MAIN_IMAGE" else (100, 20000)
    if not (low <= width <= high and low <= height <= high):
        raise err.refused(
            err.IMAGE_DIMENSIONS,
            f"a {use_case} must be {low}x{low} to {high}x{high} px, not {width}x{height}",
        )
    if use_case == "SIZE_CHART_IMAGE" and min(width, height) < 1024:
        raise err.refused(
            err.IMAGE_DIMENSIONS, "a SIZE_CHART_IMAGE needs at least 1024 px on its shorter side"
        )


@api(shop_scoped=False)
async def upload_image(ctx: ApiContext) -> dict[str, Any]:
    """Answers ``{uri, url, width, height, use_case}``; the URI is then valid in products."""
    content_type = ctx.request.headers.get("content-type", "")
    try:
        parts = form_parts(ctx.body, content_type)
    except ValueError as exc:
        raise env.ApiFailure(400, env.INVALID_PARAMETER, str(exc)) from None
    use_case = parts.get("use_case", b"MAIN_IMAGE").decode("utf-8", "replace").strip()
    if use_case not in USE_CASES:
        raise env.ApiFailure(400, env.INVALID_PARAMETER, f"unknown use_case {use_case!r}")
    data = parts.get("data")
    if not data:
        raise err.refused(err.IMAGE_FILE_INVALID, "data must be a non-empty image file")
    if len(data) > MAX_BYTES:
        raise err.refused(err.IMAGE_TOO_LARGE, "the image is larger than 10 MB")
    try:
        info = sniff(data)
    except UnreadableImage as exc:
        raise err.refused(err.IMAGE_UNREADABLE, f"the image cannot be read: {exc}") from None
    if info is None:
        raise err.refused(err.IMAGE_FORMAT, "supported formats: JPG, JPEG, PNG, WEBP, HEIC, BMP")
    _check_dimensions(use_case, info.width, info.height)
    width, height = info.width, info.height
    if use_case in _SQUARED and not 3 / 4 <= width / height <= 4 / 3:
        width = height = max(width, height)
    uri = f"tos-maliva-i-o3syd03w52-us/{secrets.token_hex(16)}"
    image = UploadedImage(uri, f"https://sim.invalid/{uri}", width, height, use_case)
    catalog_of(ctx.sim).images[uri] = image
    return image.to_api()


ROUTES = [Route("/product/202309/images/upload", upload_image, methods=["POST"])]
