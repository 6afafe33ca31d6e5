"""The dead-letter commands over an in-memory topic: which letters a listing and a replay
choose, in which order, and what is refused."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from contracts import commands as c
from contracts import replies as r
from contracts.entities import DeadLetterDetail
from service.application.errors import NotFound
from tests.unit.fakes import FakeDeadLetters, Stored, fake_bus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def letter(
    offset: int, reason: str, shop: str | None = "shop-1", origin: str | None = "webhooks"
) -> DeadLetterDetail:
    return DeadLetterDetail(
        id=f"0:{offset}",
        notification_id=f"n-{offset}",
        dead_lettered_at=T0 + timedelta(seconds=offset),
        reason=reason,
        origin_topic=origin,
        shop_id=shop,
        size=2,
        headers={},
        body="{}",
    )


LETTERS = [
    letter(0, "failed: RuntimeError('bug')"),
    letter(1, "rejected: ORDER_STATUS_CHANGE: data.order_id: Field required"),
    letter(2, "failed: RuntimeError('BUG')", shop="shop-2"),
    letter(3, "unreadable: not JSON", shop=None, origin=None),
    letter(4, "failed: KeyError('x')"),
]


async def test_a_listing_is_newest_first_filtered_by_reason_and_shop_and_paged() -> None:
    bus, _ = fake_bus(dead_letters=FakeDeadLetters(LETTERS))
    everything = await bus.handle(c.ListDeadLetters(limit=2))
    assert isinstance(everything, r.DeadLettersReply)
    assert ([x.id for x in everything.dead_letters], everything.total) == (["0:4", "0:3"], 5)
    second_page = await bus.handle(c.ListDeadLetters(limit=2, page=2))
    assert isinstance(second_page, r.DeadLettersReply)
    assert [x.id for x in second_page.dead_letters] == ["0:2", "0:1"]
    bugs = await bus.handle(c.ListDeadLetters(reason="runtimeerror('bug"))
    assert isinstance(bugs, r.DeadLettersReply)
    assert [x.id for x in bugs.dead_letters] == ["0:2", "0:0"]
    one_shop = await bus.handle(c.ListDeadLetters(reason="RuntimeError", shop_id="shop-2"))
    assert isinstance(one_shop, r.DeadLettersReply)
    assert [x.id for x in one_shop.dead_letters] == ["0:2"]


async def test_a_letter_whose_webhook_was_applied_since_is_no_longer_pending() -> None:
    stored = Stored(inbox={"n-0": "order o-1 AWAITING_SHIPMENT", "n-1": "rejected: no order id"})
    bus, _ = fake_bus(stored, dead_letters=FakeDeadLetters(LETTERS))
    listed = await bus.handle(c.ListDeadLetters())
    assert isinstance(listed, r.DeadLettersReply)
    assert (listed.total, listed.pending) == (5, 4)
    assert [x.id for x in listed.dead_letters if x.applied] == ["0:0"]  # a rejection is no fix
    waiting = await bus.handle(c.ListDeadLetters(pending=True))
    assert isinstance(waiting, r.DeadLettersReply)
    assert ([x.id for x in waiting.dead_letters], waiting.total) == (
        ["0:4", "0:3", "0:2", "0:1"],
        4,
    )
    one = await bus.handle(c.GetDeadLetter(id="0:0"))
    assert isinstance(one, r.DeadLetterReply)
    assert one.dead_letter.applied


async def test_a_letter_is_read_whole_or_not_found() -> None:
    bus, _ = fake_bus(dead_letters=FakeDeadLetters(LETTERS))
    found = await bus.handle(c.GetDeadLetter(id="0:1"))
    assert isinstance(found, r.DeadLetterReply)
    assert found.dead_letter.body == "{}"
    with pytest.raises(NotFound):
        await bus.handle(c.GetDeadLetter(id="0:9"))
    with pytest.raises(NotFound):  # another shop's letter
        await bus.handle(c.GetDeadLetter(id="0:2", shop_id="shop-1"))


async def test_a_replay_by_reason_or_all_skips_letters_without_an_origin() -> None:
    archive = FakeDeadLetters(LETTERS)
    bus, _ = fake_bus(dead_letters=archive)
    by_reason = await bus.handle(c.ReplayDeadLetters(reason="RuntimeError"))
    assert by_reason == r.ReplayedReply(replayed=["0:0", "0:2"], skipped=[])
    everything = await bus.handle(c.ReplayDeadLetters(all=True))
    assert isinstance(everything, r.ReplayedReply)
    assert everything.replayed == ["0:0", "0:1", "0:2", "0:4"]
    assert everything.skipped == [r.ReplaySkipped(id="0:3", reason="no origin topic recorded")]
    assert archive.replayed == ["0:0", "0:2", "0:0", "0:1", "0:2", "0:4"]


async def test_a_replay_by_ids_publishes_nothing_when_one_id_names_no_letter() -> None:
    archive = FakeDeadLetters(LETTERS)
    bus, _ = fake_bus(dead_letters=archive)
    with pytest.raises(NotFound, match="0:7"):
        await bus.handle(c.ReplayDeadLetters(ids=["0:1", "0:7"]))
    assert archive.replayed == []
    chosen = await bus.handle(c.ReplayDeadLetters(ids=["0:4", "0:1", "0:4"]))
    assert chosen == r.ReplayedReply(replayed=["0:4", "0:1"], skipped=[])


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"all": True, "reason": "bug"},
        {"ids": ["0:1"], "all": True},
        {"ids": []},
        {"ids": ["1"]},
        {"ids": ["a:1"]},
        {"reason": ""},
    ],
)
def test_a_replay_chooses_its_letters_one_way_only(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        c.ReplayDeadLetters.model_validate(fields)
