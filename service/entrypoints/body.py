"""Reading a request body up to a limit, without ever holding more than the limit."""

from starlette.requests import Request


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


class BadContentLength(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or `BodyTooLarge` as soon as it is known to exceed `limit` bytes.

    A declared Content-Length over the limit is refused before a byte is read. A body without
    one (chunked) is counted as it streams and refused at the first chunk past the limit, so a
    sender cannot make the ingress buffer an endless body.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        # The HTTP server refuses malformed lengths already; this keeps int() safe regardless.
        if not declared.strip().isdigit():
            raise BadContentLength(declared)
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)
