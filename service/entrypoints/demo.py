"""`python -m service demo`: send a few signed webhooks to the running ingress and print the
orders they became, read back through the admin API. Run it beside `make run`.

It sends the loose shapes real senders use: a TikTok webhook without `tts_notification_id`
(twice: the second is a duplicate of the first, by its body's hash) and a seed `order.created`
whose items have no fixed shape."""

import asyncio
import json
import time
import uuid
from typing import Any

import httpx

from service.adapters.tiktok.signing import seed_webhook_signature, webhook_signature
from service.settings import Settings

PATH = "/tiktok-shop/webhooks"


async def run_demo(settings: Settings) -> int:
    key = settings.tiktok_app_key
    secret = settings.tiktok_app_secret.get_secret_value()
    token = settings.admin_api_token.get_secret_value()
    if not (key and secret and token):
        print("Set TIKTOK_APP_KEY, TIKTOK_APP_SECRET and ADMIN_API_TOKEN as `make run` does.")
        return 2
    ingress = f"http://{settings.ingress_host}:{settings.ingress_port}"
    admin = f"http://{settings.admin_host}:{settings.admin_port}/admin/tiktok-shop"
    shop = settings.default_shop_id
    order_id = f"demo-{uuid.uuid4().hex[:6]}"
    now = int(time.time())
    async with httpx.AsyncClient(timeout=10) as http:
        for n, status in enumerate(["UNPAID", "UNPAID", "AWAITING_SHIPMENT", "IN_TRANSIT"]):
            body: dict[str, Any] = {
                "type": 1,
                "shop_id": shop,
                "timestamp": now,
                "data": {"order_id": order_id, "order_status": status, "update_time": now + n},
            }
            if n > 1:  # the first two carry no id, as older shops send them
                body["tts_notification_id"] = f"{order_id}-{n}"
            else:
                body["data"]["update_time"] = now
            raw = json.dumps(body).encode()
            answer = await http.post(
                ingress + PATH,
                content=raw,
                headers={"Authorization": webhook_signature(key, secret, raw)},
            )
            print(f"TikTok webhook {status:<18} -> {answer.status_code} {answer.text}")
        seed = json.dumps(
            {
                "type": "order.created",
                "payload": {
                    "externalOrderId": f"{order_id}-86d",
                    "total": 42.5,
                    "customerName": "Ada",
                    "items": [{"sku": "mug", "quantity": 2, "price": 19.5}, "gift wrap"],
                },
            }
        ).encode()
        params = {"ts": str(now)}
        params["sign"] = seed_webhook_signature(secret, PATH, params, seed)
        answer = await http.post(ingress + PATH, params=params, content=seed)
        print(f"seed webhook order.created    -> {answer.status_code} {answer.text}")

        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 20
        orders: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            page = (await http.get(admin + "/orders", params={"limit": 100}, headers=auth)).json()
            orders = [o for o in page["orders"] if o["externalOrderId"].startswith(order_id)]
            done = {o["externalOrderId"]: o["status"] for o in orders}
            if done.get(order_id) == "shipped" and f"{order_id}-86d" in done:
                break
            await asyncio.sleep(0.3)
    print("\norders now stored:")
    for o in orders:
        print(
            f"  {o['externalOrderId']:<16} {o['status']:<10} total {o['total']} {o['currency']}"
            f", {len(o['items'])} item(s)"
        )
    return 0 if len(orders) == 2 else 1
