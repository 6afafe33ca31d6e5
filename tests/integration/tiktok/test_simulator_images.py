"""The simulator's image upload and the image rules of product create and edit."""

import pytest
from tiktok_shop_api import AsyncTikTokShop
from tiktok_shop_api.generated.models import UploadProductImageRequest

from tests.integration.tiktok.catalog_support import (
    GIF,
    Api,
    create,
    detail,
    jpeg,
    png,
    product,
    webp,
)
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl


@pytest.fixture
def api(sim: SimControl, shop: SeededShop) -> Api:
    return Api(sim, shop)


async def _strict(sim: SimControl) -> None:
    await sim.call("POST", "/catalog/rules", {"require_uploaded_images": True})


async def test_upload_answers_the_uri_url_and_size(api: Api) -> None:
    answer = await api.upload(png(800, 600), "MAIN_IMAGE")
    envelope = answer.json()
    assert envelope["code"] == 0, answer.text
    data = envelope["data"]
    assert data["uri"].startswith("tos-")
    assert data["url"].endswith(data["uri"])
    assert (data["width"], data["height"], data["use_case"]) == (800, 600, "MAIN_IMAGE")


@pytest.mark.parametrize(
    ("image", "use_case", "size"),
    [
        (jpeg(1200, 400), "MAIN_IMAGE", (1200, 1200)),  # beyond 4:3, squared
        (webp(400, 1200), "ATTRIBUTE_IMAGE", (1200, 1200)),
        (jpeg(1200, 400), "DESCRIPTION_IMAGE", (1200, 400)),  # other use cases keep their ratio
        (png(1024, 2048), "SIZE_CHART_IMAGE", (1024, 2048)),
    ],
)
async def test_main_and_attribute_images_outside_3_4_to_4_3_come_back_square(
    api: Api, image: bytes, use_case: str, size: tuple[int, int]
) -> None:
    data = (await api.upload(image, use_case)).json()["data"]
    assert (data["width"], data["height"]) == size


async def test_an_independent_client_uploads_with_the_body_left_out_of_the_signature(
    sim: SimControl, shop: SeededShop
) -> None:
    async with AsyncTikTokShop(APP_KEY, APP_SECRET, shop.access_token, base_url=sim.url) as other:
        answer = await other.products.upload_product_image(
            body=UploadProductImageRequest.from_dict(
                {"data": png(640, 640), "use_case": "MAIN_IMAGE"}
            )
        )
    assert answer is not None
    data = answer.to_dict()["data"]
    assert (data["width"], data["height"]) == (640, 640)
    assert data["uri"]


async def test_a_multipart_signature_over_the_body_is_refused(api: Api) -> None:
    answer = await api.upload(png(800, 800), sign_body=True)
    assert (answer.status_code, answer.json()["code"]) == (401, 106001)


@pytest.mark.parametrize(
    ("image", "use_case", "code"),
    [
        (b"", "MAIN_IMAGE", 12038002),  # zero bytes
        (GIF, "MAIN_IMAGE", 12038015),  # not a format TikTok takes
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "MAIN_IMAGE", 12038004),  # a PNG without a header
        (png(299, 800), "MAIN_IMAGE", 12038014),  # main images: 300..4000 px a side
        (png(4001, 4000), "MAIN_IMAGE", 12038014),
        (png(99, 500), "DESCRIPTION_IMAGE", 12038014),  # any image: 100..20000 px
        (png(20001, 500), "DESCRIPTION_IMAGE", 12038014),
        (png(1023, 1500), "SIZE_CHART_IMAGE", 12038014),  # shorter side at least 1024
        (png(800, 800), "PROFILE_PICTURE", 40006),  # no such use case
    ],
)
async def test_upload_refuses_what_tiktok_refuses(
    api: Api, image: bytes, use_case: str, code: int
) -> None:
    answer = await api.upload(image, use_case)
    envelope = answer.json()
    assert (envelope["code"], envelope["data"]) == (code, None), answer.text


async def test_upload_refuses_more_than_10_mb(api: Api) -> None:
    big = png(1000, 1000) + b"\x00" * (10 * 1024 * 1024)
    assert (await api.upload(big)).json()["code"] == 12038005


async def test_upload_refuses_a_json_body(api: Api) -> None:
    answer = await api.call("POST", "/product/202309/images/upload", {"data": "aGk="})
    assert answer.json()["code"] == 40006


async def test_uploads_count_toward_the_app_s_rate_limit(api: Api, sim: SimControl) -> None:
    await sim.faults(rate_limit_per_second=2, rate_limit_burst=2)
    codes = [(await api.upload(png(800, 800))).json()["code"] for _ in range(3)]
    assert codes == [0, 0, 36009002]


async def test_products_need_uploaded_images_when_the_rules_say_so(
    api: Api, sim: SimControl
) -> None:
    await _strict(sim)
    unknown = product(images=["https://cdn.shop.invalid/tee.jpg"])
    assert await api.refused("POST", "/product/202309/products", unknown) == 12052722

    uploaded = (await api.upload(png(1000, 1000))).json()["data"]
    made = await create(api, product(images=[uploaded["uri"], "tos-sim/main-image"]))
    shown = (await detail(api, made["product_id"]))["main_images"]
    assert shown[0] == {
        "uri": uploaded["uri"],
        "urls": [uploaded["url"]],
        "thumb_urls": [uploaded["url"]],
        "width": 1000,
        "height": 1000,
    }
    assert shown[1]["uri"] == "tos-sim/main-image"  # a seed image every world knows

    edited = product(images=["tos-never-uploaded/abc"])
    path = f"/product/202509/products/{made['product_id']}"
    assert await api.refused("PUT", path, edited) == 12052722


async def test_main_images_must_be_big_enough_and_at_most_nine(api: Api, sim: SimControl) -> None:
    await _strict(sim)
    small = (await api.upload(png(200, 200), "DESCRIPTION_IMAGE")).json()["data"]["uri"]
    assert await api.refused("POST", "/product/202309/products", product(images=[small])) == (
        12052301
    )
    ten = ["tos-sim/main-image"] * 10
    assert await api.refused("POST", "/product/202309/products", product(images=ten)) == 12052306


async def test_by_default_only_uploaded_images_are_accepted_as_tiktok_does(
    sim: SimControl, api: Api
) -> None:
    unknown = product(images=["https://cdn.shop.invalid/tee.jpg"])
    assert await api.refused("POST", "/product/202309/products", unknown) == 12052722
    # A test of other rules may still switch the check off.
    await sim.call("POST", "/catalog/rules", {"require_uploaded_images": False})
    made = await create(api, unknown)
    shown = (await detail(api, made["product_id"]))["main_images"]
    assert shown[0]["uri"] == "https://cdn.shop.invalid/tee.jpg"
