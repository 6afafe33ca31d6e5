"""`python -m service dead-letters list | show | replay`: the dead-letter commands for operators.

Each runs its admin command (`deadLetters.list`, `.get`, `.replay`) in this process through the
same message bus as the worker, so it needs Kafka (the dead-letter topic) but no running worker:
a replay is applied by whichever worker consumes the origin topic, now or once one runs.
Prints a table (or the reply's JSON with `--json`); exits 1 when the command is refused.
"""

import argparse
import json
from typing import Any

from pydantic import ValidationError

from contracts import commands as c
from contracts.entities import DeadLetter
from contracts.replies import (
    DeadLetterReply,
    DeadLettersReply,
    ErrorReply,
    ReplayedReply,
)
from contracts.wire import WireModel
from service.application.errors import AppError
from service.bootstrap import Worker
from service.entrypoints.validation import error_reply_from_validation
from service.settings import Settings


def add_parser(parts: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The `dead-letters` sub-command and its own sub-commands."""
    parser = parts.add_parser(
        "dead-letters",
        help="list, show and replay the messages the worker set aside",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the dead letters, newest first")
    listing.add_argument("--reason", help="only letters whose reason contains this text")
    listing.add_argument(
        "--pending", action="store_true", help="only letters whose webhook was not applied since"
    )
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--limit", type=int, default=20, help="rows per page (1-100)")
    show = actions.add_parser("show", help="one letter: headers and the original message")
    show.add_argument("id", help="<partition>:<offset>, as `list` shows it")
    replay = actions.add_parser("replay", help="publish letters again to the topic they came from")
    chosen = replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument("ids", nargs="*", default=[], help="letter ids")
    chosen.add_argument("--reason", help="every letter whose reason contains this text")
    chosen.add_argument("--all", action="store_true", help="every letter")
    for sub in (listing, show, replay):
        sub.add_argument("--shop-id", help="only the letters of this shop")
        sub.add_argument("--json", action="store_true", help="print the reply as JSON")


def command_from(args: argparse.Namespace) -> c.Command:
    """The admin command the arguments ask for; ValidationError when a value breaks a limit."""
    fields: dict[str, Any] = {"shop_id": args.shop_id} if args.shop_id else {}
    if args.action == "list":
        if args.reason is not None:
            fields["reason"] = args.reason
        return c.ListDeadLetters(page=args.page, limit=args.limit, pending=args.pending, **fields)
    if args.action == "show":
        return c.GetDeadLetter(id=args.id, **fields)
    if args.ids:
        fields["ids"] = args.ids
    elif args.reason is not None:
        fields["reason"] = args.reason
    else:
        fields["all"] = args.all
    return c.ReplayDeadLetters(**fields)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Carry out the command, print its answer; the exit status (0 done, 1 refused)."""
    try:
        command = command_from(args)
    except ValidationError as exc:
        return _refused(error_reply_from_validation(exc))
    # The worker's wiring, not started: only the dead-letter topic is read or written.
    worker = Worker(settings)
    try:
        reply = await worker.bus.handle(command)
    except AppError as exc:
        return _refused(exc.reply())
    finally:
        await worker.tiktok.aclose()
        await worker.db.close()
    if args.json:
        print(reply.to_json().decode())
    else:
        print(render(reply))
    return 0


def _refused(reply: ErrorReply) -> int:
    print(f"{reply.code}: {reply.message}")
    for field in reply.fields:
        print(f"  {field.field}: {field.message}")
    return 1


def render(reply: WireModel) -> str:
    """A reply as an operator reads it in a terminal."""
    if isinstance(reply, DeadLettersReply):
        return _table(reply)
    if isinstance(reply, DeadLetterReply):
        return _detail(reply)
    if isinstance(reply, ReplayedReply):
        lines = [f"replayed {len(reply.replayed)}: {' '.join(reply.replayed) or '-'}"]
        lines += [f"skipped {s.id}: {s.reason}" for s in reply.skipped]
        return "\n".join(lines)
    return reply.to_json().decode()


def _origin(letter: DeadLetter) -> str:
    if letter.origin_topic is None:
        return "-"
    return f"{letter.origin_topic}[{letter.origin_partition}]@{letter.origin_offset}"


def _table(reply: DeadLettersReply) -> str:
    lines = [f"{reply.total} dead letter(s) listed, {reply.pending} pending; newest first"]
    if reply.dead_letters:
        lines.append(
            f"{'ID':<12} {'SET ASIDE (UTC)':<19}  {'STATE':<8} {'NOTIFICATION':<24} REASON"
        )
    for letter in reply.dead_letters:
        when = letter.dead_lettered_at.strftime("%Y-%m-%d %H:%M:%S")
        state = "applied" if letter.applied else "pending"
        notification = (letter.notification_id or "-")[:24]
        reason = " ".join(letter.reason.split())[:100]
        lines.append(f"{letter.id:<12} {when:<19}  {state:<8} {notification:<24} {reason}")
    return "\n".join(lines)


def _detail(reply: DeadLetterReply) -> str:
    letter = reply.dead_letter
    lines = [
        f"id:           {letter.id}",
        f"set aside:    {letter.dead_lettered_at.isoformat()}",
        f"reason:       {letter.reason}",
        f"origin:       {_origin(letter)}",
        f"key:          {letter.key}",
        f"notification: {letter.notification_id}",
        f"replay of:    {letter.replay_of or '-'}",
        f"state:        {'applied since' if letter.applied else 'pending'}",
        "headers:",
        *(f"  {name}: {value}" for name, value in sorted(letter.headers.items())),
        f"body ({letter.size} bytes):",
    ]
    if letter.body is None:
        lines.append(f"  (not UTF-8; base64) {letter.body_base64}")
    else:
        try:
            lines.append(json.dumps(json.loads(letter.body), indent=2, ensure_ascii=False))
        except (ValueError, RecursionError):
            lines.append(letter.body)
    return "\n".join(lines)
