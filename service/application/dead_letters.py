"""Dead letters an operator can act on: list them, read one, publish them again.

The dead-letter topic is the record (`DeadLetterArchive`); nothing about letters is kept in
the database. A replay puts the original message back on the topic it came from, so the
worker applies it through the same idempotent path as any delivery: a webhook that was applied
meanwhile (or by an earlier replay) is skipped as a duplicate, and replaying twice changes
nothing.
"""

import structlog

from contracts import commands as c
from contracts import replies as r
from contracts.entities import DeadLetter
from service.application.context import Context
from service.application.errors import NotFound

log = structlog.get_logger(__name__)


async def _with_outcomes(ctx: Context, letters: list[DeadLetter]) -> list[DeadLetter]:
    """The letters with `applied` set from the inbox: the webhook was applied since, by a
    replay or a redelivery (a `rejected` record is not applied: it was refused as it is)."""
    ids = [letter.notification_id for letter in letters if letter.notification_id]
    outcomes = await ctx.views.webhook_outcomes(ids)
    return [
        letter.model_copy(update={"applied": _applied(outcomes.get(letter.notification_id))})
        if letter.notification_id
        else letter
        for letter in letters
    ]


def _applied(outcome: str | None) -> bool:
    return outcome is not None and not outcome.startswith("rejected")


def _matches(letter: DeadLetter, shop_id: str | None, reason: str | None) -> bool:
    if shop_id is not None and letter.shop_id != shop_id:
        return False
    return reason is None or reason.casefold() in letter.reason.casefold()


async def list_dead_letters(cmd: c.ListDeadLetters, ctx: Context) -> r.DeadLettersReply:
    """`deadLetters.list`: the letters matching `reason` (and `shopId`, and only those not
    applied since with `pending`), newest first, a page at a time, with how many matched and
    how many of them are still pending."""
    matched = [
        letter
        for letter in await ctx.dead_letters.letters()
        if _matches(letter, cmd.shop_id, cmd.reason)
    ]
    matched = await _with_outcomes(ctx, matched)
    pending = [letter for letter in matched if not letter.applied]
    letters = pending if cmd.pending else matched
    letters.reverse()  # the archive answers oldest first
    start = (cmd.page - 1) * cmd.limit
    return r.DeadLettersReply(
        dead_letters=letters[start : start + cmd.limit], total=len(letters), pending=len(pending)
    )


async def get_dead_letter(cmd: c.GetDeadLetter, ctx: Context) -> r.DeadLetterReply:
    """`deadLetters.get`: one letter with its headers and original message; `not_found` when
    the topic no longer holds it (or it belongs to another shop than `shopId`)."""
    letter = await ctx.dead_letters.letter(cmd.id)
    if letter is None or not _matches(letter, cmd.shop_id, None):
        raise NotFound(f"Dead letter {cmd.id} not found")
    if letter.notification_id:
        outcomes = await ctx.views.webhook_outcomes([letter.notification_id])
        letter = letter.model_copy(
            update={"applied": _applied(outcomes.get(letter.notification_id))}
        )
    return r.DeadLetterReply(dead_letter=letter)


async def replay_dead_letters(cmd: c.ReplayDeadLetters, ctx: Context) -> r.ReplayedReply:
    """`deadLetters.replay`: publish the chosen letters again to their origin topics.

    With `ids`, every id must name a letter (else `not_found`, and nothing is published).
    Answers the ids published (oldest first) and those skipped with why.
    """
    if cmd.ids is not None:
        wanted = list(dict.fromkeys(cmd.ids))
        known = {
            letter.id
            for letter in await ctx.dead_letters.letters()
            if _matches(letter, cmd.shop_id, None)
        }
        missing = [letter_id for letter_id in wanted if letter_id not in known]
        if missing:
            raise NotFound(f"Dead letter {', '.join(missing[:10])} not found")
    else:
        wanted = [
            letter.id
            for letter in await ctx.dead_letters.letters()
            if _matches(letter, cmd.shop_id, cmd.reason)
        ]
    outcomes = await ctx.dead_letters.replay(wanted) if wanted else {}
    replayed = [letter_id for letter_id in wanted if outcomes.get(letter_id) is None]
    skipped = [
        r.ReplaySkipped(id=letter_id, reason=why)
        for letter_id in wanted
        if (why := outcomes.get(letter_id)) is not None
    ]
    log.info("dead letters replayed", replayed=len(replayed), skipped=len(skipped))
    return r.ReplayedReply(replayed=replayed, skipped=skipped)
