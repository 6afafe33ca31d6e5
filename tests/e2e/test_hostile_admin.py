"""Hostile admin requests, generated (hypothesis), over Kafka and over every HTTP path, against
a worker with a database and topics of its own.

Whatever arrives, a command is answered (its reply, or an error reply whose code is never
`internal`), an HTTP path never answers 5xx, and a request that was refused wrote nothing: the
database's documents and the webhooks topic (where a dead-letter replay would publish) are as
they were.
"""

import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import quote

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from hypothesis import HealthCheck, Phase, assume, event, example, given, settings
from hypothesis import strategies as st
from pydantic.alias_generators import to_camel

from contracts import commands as c
from contracts.client import AdminClient
from contracts.replies import REPLY_TYPES, ErrorReply
from service.adapters.mongo.database import INDEXES
from service.bootstrap import Worker, topic_partitions
from service.entrypoints.admin_http.routes import ROUTES
from service.entrypoints.worker.asgi import ADMIN_PREFIX, worker_app
from tests import factories
from tests.conftest import make_settings
from tests.hostile import (
    huge_integers,
    nested,
    not_objects,
    render,
    texts,
    values,
    with_changes,
)
from tests.support import serve, store

pytestmark = pytest.mark.integration

EXAMPLES = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
TOKEN = "hostile-admin-token"
COMMANDS: list[type[c.Command]] = list(get_args(get_args(c.AdminCommand)[0]))


@dataclass
class Admin:
    worker: Worker
    kafka: AdminClient
    http: httpx.AsyncClient
    webhooks: AIOKafkaConsumer
    partitions: list[TopicPartition]
    known_ids: list[str]


@pytest.fixture(scope="module")
async def admin(services: dict[str, str]) -> AsyncIterator[Admin]:
    run = uuid.uuid4().hex[:8]
    settings = make_settings(
        services,
        admin_api_token=TOKEN,
        mongodb_database=f"hostile_{run}",
        kafka_group_id=f"hostile-{run}",
        topic_webhooks=f"test.{run}.webhooks",
        topic_admin_commands=f"test.{run}.commands",
        topic_events=f"test.{run}.events",
        topic_dead_letter=f"test.{run}.dead-letter",
    )
    worker = Worker(settings)
    await worker.start()
    # Something to aim at: a listing and an order of the default shop.
    created: Any = await worker.bus.handle(c.CreateListing(local_product_id="p-1", title="Mug"))
    order = factories.order(settings.default_shop_id)
    await store(worker, order)
    # Asks for end offsets only: a consumer with partitions assigned would long-poll them and
    # make every ask wait behind its fetch.
    webhooks = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await webhooks.start()
    partitions = [
        TopicPartition(settings.topic_webhooks, p)
        for p in range(topic_partitions(settings)[settings.topic_webhooks])
    ]
    try:
        async with (
            AdminClient(
                settings.kafka_bootstrap_servers,
                command_topic=settings.topic_admin_commands,
                timeout=30,
            ) as kafka,
            serve(worker_app(worker, run_worker=False)) as url,
            httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
            ) as http,
        ):
            yield Admin(worker, kafka, http, webhooks, partitions, [created.listing.id, order.id])
    finally:
        await webhooks.stop()
        await worker.db.client.drop_database(settings.mongodb_database)
        await worker.stop()


async def snapshot(admin: Admin) -> tuple[Any, ...]:
    """Every document of every collection, and the webhooks topic's end offsets."""
    documents = []
    for name in sorted(INDEXES):
        found = await admin.worker.db.collection(name).find({}).sort("_id").to_list()
        documents.append((name, [json.dumps(d, sort_keys=True, default=str) for d in found]))
    ends = await admin.webhooks.end_offsets(admin.partitions)
    return (documents, sorted((p.partition, o) for p, o in ends.items()))


# --- commands ---------------------------------------------------------------------------------


def _plausible(name: str, known_ids: list[str]) -> st.SearchStrategy[Any]:
    """A value the field might well be given."""
    words = st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1)
    choices: dict[str, st.SearchStrategy[Any]] = {
        "shopId": st.sampled_from(["default", "shop-2"]),
        "id": st.one_of(st.sampled_from(known_ids), words),
        "localProductId": st.one_of(st.sampled_from(["p-1", "p-2"]), words),
        "externalProductId": st.one_of(st.sampled_from(["1729", ""]), words),
        "page": st.one_of(st.integers(-1, 50), huge_integers),
        "limit": st.one_of(st.integers(-1, 120), huge_integers),
        "price": st.one_of(st.integers(-1, 10**12), huge_integers),
        "quantity": st.one_of(st.integers(-1, 2_000_000_000), huge_integers),
        "currency": st.sampled_from(["USD", "EUR", "JPY", "KWD", "usd", "XXX", "ZZZ"]),
        "imageUrl": st.sampled_from(["https://x.example/a.png", "ftp://x", "javascript:x()"]),
        "trackingUrl": st.sampled_from(["https://t.example/1", "mailto:x", ""]),
        "metadata": st.dictionaries(
            texts, st.one_of(st.none(), st.integers(), huge_integers, texts), max_size=5
        ),
        "ids": st.lists(st.sampled_from(["0:0", "0:1", "99:1", "x"]), max_size=3),
        "status": st.sampled_from(["draft", "active", "pending", "shipped", "delivered", "zzz"]),
        "syncStatus": st.sampled_from(["pending", "synced", "failed", "zzz"]),
        "kind": st.sampled_from(["orders.sync", "products.sync", "x"]),
        "all": st.booleans(),
    }
    return choices.get(name, words)


@st.composite
def commands(draw: st.DrawFn, known_ids: list[str]) -> bytes:
    """One command's JSON. Half of them are sound but for one field at most (so that the
    handlers meet them); the others have any field hostile, keys dropped and added."""
    command_type = draw(st.sampled_from(COMMANDS))
    name = command_type.model_fields["command"].default
    aliases = [to_camel(n) for n in command_type.model_fields if n != "command"]
    document: dict[str, Any] = {"command": name}
    if draw(st.booleans()):
        chosen = draw(st.sets(st.sampled_from(aliases), max_size=len(aliases))) if aliases else ()
        for alias in chosen:
            document[alias] = draw(_plausible(alias, known_ids))
        if aliases and draw(st.booleans()):
            document[draw(st.sampled_from(aliases))] = draw(values)
    else:
        document["command"] = draw(st.one_of(st.just(name), st.just(None), values))
        for alias in aliases:
            document[alias] = draw(st.one_of(_plausible(alias, known_ids), values))
        document = with_changes(draw, document, keep=frozenset({"command"}))
    return render(document).encode("utf-8", "surrogatepass")


@EXAMPLES
@given(data=st.data())
@example(data=None)  # the explicit cases below, once each
async def test_hostile_commands_over_kafka_are_answered_and_a_refusal_writes_nothing(
    admin: Admin, data: st.DataObject | None
) -> None:
    if data is None:
        for raw in EXPLICIT_COMMANDS:
            await _one_command(admin, raw)
        return
    raw = data.draw(st.one_of(commands(admin.known_ids), commands(admin.known_ids), not_objects))
    await _one_command(admin, raw)


EXPLICIT_COMMANDS = [
    b'{"command":"listings.create","localProductId":"\\ud800","title":"x"}',
    b'{"command":"listings.create","localProductId":"p","title":'
    + nested(900, "array").encode()
    + b"}",
    b'{"command":"orders.list","page":1e400}',
    b'{"command":"listings.list","limit":' + b"9" * 5000 + b"}",
    b'{"command":"deadLetters.replay","all":true,"ids":["0:1"]}',
    b'{"command":"deadLetters.get","id":"0:99999999999999999999"}',
    b'{"command":"listings.create","localProductId":"p","title":"x","price":9223372036854775808}',
    b'{"command":"listings.list","page":100000000000000000000}',
    b'{"command":"listings.create","localProductId":"p","title":"x","metadata":{"n":[10000000000000000000]}}',
]


async def _one_command(admin: Admin, raw: bytes) -> None:
    # Kafka's producer takes up to 1 MiB by default; the client could not send more.
    assume(len(raw) < 1_000_000)
    before = await snapshot(admin)
    answer = await admin.kafka.send(raw, key=b"hostile")
    assert answer is not None
    payload = answer.payload
    command = _command_of(raw)
    if "code" in payload and "message" in payload:
        reply = ErrorReply.model_validate(payload)
        event(f"error reply: {reply.code}")
        event(f"{reply.message[:60]}")
        assert reply.code != "internal", reply
        assert await snapshot(admin) == before, f"{reply.code} after writing: {raw[:300]!r}"
    else:
        assert command is not None, payload
        REPLY_TYPES[command].model_validate(payload)
        event(f"reply to {command.__name__}")


def _command_of(raw: bytes) -> type[c.Command] | None:
    try:
        return type(c.ADMIN_COMMAND.validate_json(raw))
    except ValueError:
        return None


# --- HTTP -------------------------------------------------------------------------------------


def _segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="") or "x"


@st.composite
def requests(draw: st.DrawFn, known_ids: list[str]) -> tuple[str, str, dict[str, Any]]:
    """A method, a path under the admin prefix and what httpx sends: one of the routes with
    hostile path parameters, query and body, now and then with another method."""
    methods, path, command_type, _ = draw(st.sampled_from(ROUTES))
    for name in re.findall(r"{(\w+)}", path):
        known = st.sampled_from([*known_ids, "0:1", "p-1"])
        path = path.replace(f"{{{name}}}", _segment(draw(st.one_of(known, known, texts))))
    method = draw(st.sampled_from(methods)) if draw(st.integers(0, 9)) else "DELETE"
    names = [to_camel(n) for n in command_type.model_fields if n != "command"] + ["shopId"]
    query = draw(
        st.dictionaries(
            st.one_of(st.sampled_from(names), st.sampled_from(names), texts),
            st.one_of(
                texts,
                st.integers(-5, 500).map(str),
                huge_integers.map(str),
                st.sampled_from(known_ids),
            ),
            max_size=3,
        )
    )
    body = draw(
        st.one_of(
            st.none(),
            not_objects,
            st.fixed_dictionaries(
                {}, optional={n: st.one_of(_plausible(n, known_ids), values) for n in names}
            ).map(lambda d: render(d).encode("utf-8", "surrogatepass")),
        )
    )
    sent: dict[str, Any] = {"params": {k: v.encode("utf-8", "replace") for k, v in query.items()}}
    if body is not None:
        sent["content"] = body
        sent["headers"] = {"content-type": "application/json"}
    return method, ADMIN_PREFIX + path, sent


@EXAMPLES
@given(data=st.data())
@example(data=None)  # the explicit cases below, once each
async def test_hostile_requests_on_every_admin_path_never_get_a_5xx_and_a_refusal_writes_nothing(
    admin: Admin, data: st.DataObject | None
) -> None:
    if data is None:
        for method, path, sent in EXPLICIT_REQUESTS:
            await _one_request(admin, method, ADMIN_PREFIX + path, sent)
        return
    await _one_request(admin, *data.draw(requests(admin.known_ids)))


EXPLICIT_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/listings/create", {"json": {"localProductId": "p", "title": "x", "price": 10**30}}),
    ("GET", "/listings", {"params": {"page": str(10**20)}}),
    ("GET", "/orders", {"params": {"page": str(10**20)}}),
]


async def _one_request(admin: Admin, method: str, path: str, sent: dict[str, Any]) -> None:
    before = await snapshot(admin)
    answer = await admin.http.request(method, path, **sent)
    event(f"answered {answer.status_code}")
    if answer.status_code == 405:
        event(f"405 {method} {path[:60]}")
    assert answer.status_code < 500, (method, path, sent, answer.text)
    if answer.status_code >= 400:
        assert await snapshot(admin) == before, (method, path, sent, answer.text)
        assert answer.json()["code"], answer.text  # the admin API's error shape, always


HOSTILE_BODIES = [
    nested(5000, "array").encode(),
    nested(900, "obj").encode(),
    b'{"localProductId":"\\ud800","title":"x"}',
    b'{"localProductId":"p","title":"x","price":1e400}',
    b'{"title":"' + b"x" * 3_000_000 + b'"}',
]


@pytest.mark.parametrize(
    "body", HOSTILE_BODIES, ids=["deep array", "deep object", "surrogate", "1e400", "3 MB"]
)
@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r[3] == "body"], ids=lambda r: f"{r[0][0]} {r[1]}"
)
async def test_a_body_the_service_cannot_carry_is_refused_on_every_body_path(
    admin: Admin, route: tuple[list[str], str, type[c.Command], str], body: bytes
) -> None:
    methods, path, _, _ = route
    path = path.replace("{id}", admin.known_ids[0])
    before = await snapshot(admin)
    answer = await admin.http.request(methods[0], ADMIN_PREFIX + path, content=body)
    assert answer.status_code in (400, 413), answer.text
    assert await snapshot(admin) == before


@EXAMPLES
@given(
    token=st.one_of(st.none(), texts, st.just(TOKEN + " "), st.just("Bearer " + TOKEN[:-1])),
    route=st.sampled_from(ROUTES),
)
async def test_a_missing_or_wrong_token_is_refused_and_writes_nothing(
    admin: Admin, token: str | None, route: tuple[list[str], str, type[c.Command], str]
) -> None:
    methods, path, _, _ = route
    path = path.replace("{id}", admin.known_ids[0]).replace("{localProductId}", "p-1")
    headers = {} if token is None else {"Authorization": _header(token)}
    before = await snapshot(admin)
    async with httpx.AsyncClient(base_url=str(admin.http.base_url), timeout=30) as anonymous:
        answer = await anonymous.request(methods[0], ADMIN_PREFIX + path, headers=headers)
    assert answer.status_code == 401, answer.text
    assert await snapshot(admin) == before


def _header(text: str) -> bytes:
    sent = text.encode("utf-8", "replace")
    return bytes(b for b in sent if b >= 0x20 and b != 0x7F).strip() or b"x"


@EXAMPLES
@given(path=st.one_of(texts, st.sampled_from(["..", "../..", "%2e%2e/%2e%2e/pyproject.toml"])))
async def test_the_admin_page_serves_its_own_files_and_nothing_else(
    admin: Admin, path: str
) -> None:
    answer = await admin.http.get(f"{ADMIN_PREFIX}/ui/{_segment(path)}")
    # (a path of dots is resolved by the client: the page's parent, redirected to the page)
    assert answer.status_code in (200, 307, 404, 405), answer.text
    if answer.status_code == 200:
        assert "[project]" not in answer.text  # nothing from outside the page's folder


@EXAMPLES
@given(
    path=st.sampled_from([f"{ADMIN_PREFIX}/vocabulary", "/healthz", "/readyz"]),
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    query=st.dictionaries(texts, texts, max_size=3),
    body=st.one_of(st.none(), not_objects),
)
async def test_the_other_paths_take_hostile_requests_without_a_5xx(
    admin: Admin, path: str, method: str, query: dict[str, str], body: bytes | None
) -> None:
    params = {k: v.encode("utf-8", "replace") for k, v in query.items()}
    answer = await admin.http.request(method, path, params=params, content=body)
    assert answer.status_code == (200 if method == "GET" else 405), answer.text
