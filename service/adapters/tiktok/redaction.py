"""Keep credentials that TikTok's auth host takes in the query string out of httpx's logs.

httpx logs every request URL at INFO; for ``/api/v2/token/*`` that URL holds the app secret and
a refresh token or authorization code.
"""

import logging
import re
from typing import Final

_SECRET_PARAM: Final = re.compile(
    r"((?:app_secret|refresh_token|auth_code|access_token)=)[^&\s\"']+", re.IGNORECASE
)


def redact(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(arg)) if _SECRET_PARAM.search(str(arg)) else arg for arg in record.args
            )
        if isinstance(record.msg, str) and _SECRET_PARAM.search(record.msg):
            record.msg = redact(record.msg)
        return True


def install(logger_name: str = "httpx") -> None:
    """Idempotent: one filter per logger."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
