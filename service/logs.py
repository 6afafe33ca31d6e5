"""Structured logs: one line per event, with the context bound for the message being handled."""

import logging
import sys

import structlog
from opentelemetry import trace


def _trace_ids(
    logger: object, method: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """With tracing on, a line written inside a span names its trace and span, so logs and
    traces meet (beside the correlation id, which every line of a message carries)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


def configure(level: str = "INFO", *, json: bool = False) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        _trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka reports every reconnect attempt at ERROR; our own lines say what matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    # PyMongo's DEBUG lines hold whole command documents and replies, a shop's access and
    # refresh tokens among them: never below INFO, whatever LOG_LEVEL asks.
    logging.getLogger("pymongo").setLevel(max(logging.INFO, root.level))
    # httpx writes a line per request at INFO (every TikTok call, hundreds a minute under load)
    # and httpcore its connection steps at DEBUG: heard only when LOG_LEVEL asks for DEBUG.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(
            logging.NOTSET if root.level <= logging.DEBUG else max(logging.WARNING, root.level)
        )
    structlog.configure(
        # Lines below the level are dropped first, before any processor runs: a DEBUG line in
        # a hot path then costs next to nothing.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
