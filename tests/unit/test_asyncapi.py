"""The committed AsyncAPI document is the one the code generates."""

from service.asyncapi import document
from tests.support import ROOT


def test_committed_asyncapi_document_is_up_to_date() -> None:
    committed = (ROOT / "contracts" / "asyncapi.json").read_text()
    assert committed == document(), "contracts/asyncapi.json is stale: run `make asyncapi`"


def test_the_document_names_every_command_and_event() -> None:
    text = document()
    for name in ("listings.create", "orders.updateStatus", "settings.get", "tiktok.order.shipped"):
        assert name in text
