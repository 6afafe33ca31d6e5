"""The AsyncAPI document and its page on the admin port, behind the admin token."""

import base64
import json

import httpx
import pytest

from service.asyncapi import document
from service.settings import Settings

pytestmark = pytest.mark.integration

DOC, PAGE = "/admin/tiktok-shop/asyncapi.json", "/admin/tiktok-shop/asyncapi"


def basic(password: str, user: str = "operator") -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


async def test_the_document_describes_this_workers_topics_and_wants_the_token(
    admin_url: str, settings: Settings
) -> None:
    token = settings.admin_api_token.get_secret_value()
    async with httpx.AsyncClient(base_url=admin_url) as http:
        refused = await http.get(DOC)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic ")
        assert (await http.get(DOC, headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await http.get(DOC, headers=basic("wrong"))).status_code == 401

        answer = await http.get(DOC, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        served = answer.json()
        # Generated from the code for this worker: its own topic names, not the defaults.
        assert served == json.loads(document(settings))
        addresses = {channel["address"] for channel in served["channels"].values()}
        assert {settings.topic_admin_commands, settings.topic_webhooks} <= addresses
        assert (await http.get(DOC, headers=basic(token))).json() == served


async def test_the_page_renders_the_document_without_try_it_out_and_sandboxed(
    admin_url: str, settings: Settings
) -> None:
    token = settings.admin_api_token.get_secret_value()
    async with httpx.AsyncClient(base_url=admin_url) as http:
        assert (await http.get(PAGE)).status_code == 401
        page = await http.get(PAGE, headers=basic(token))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "AsyncApiStandalone.render" in page.text
    assert settings.topic_admin_commands in page.text
    # No "try it out": it would publish to the topics, the webhook topic included.
    assert "TryItOut" not in page.text
    assert "/try" not in page.text
    policy = page.headers["content-security-policy"]
    assert policy.startswith("sandbox allow-scripts;")  # an origin of its own: no token to read
    assert "connect-src 'none'" in policy
