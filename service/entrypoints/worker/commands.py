"""The admin command subscriber: one handler, one dispatch table, replies to `reply_to`."""

from collections.abc import Callable

from faststream.kafka import KafkaBroker, KafkaRouter

from contracts.commands import AdminCommand
from contracts.wire import WireModel
from service.application.deps import Deps
from service.application.dispatch import execute
from service.entrypoints.worker.command_replies import CommandReplies


def command_router(
    broker: KafkaBroker, deps: Callable[[], Deps], *, topic: str, group_id: str
) -> KafkaRouter:
    router = KafkaRouter(middlewares=[CommandReplies(broker)])

    @router.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        title="admin-commands",
        description="Admin commands; the reply (or an ErrorReply) goes to the request's reply_to.",
    )
    async def on_command(command: AdminCommand) -> WireModel:
        return await execute(deps(), command)

    return router
