"""Reading an uploaded image's format and size from its bytes, and multipart form bodies.

Standard library only: enough of each format's header to know what TikTok's upload checks need
(JPEG, PNG, WEBP, BMP, HEIC), and ``email``'s MIME parser for ``multipart/form-data``.
"""

import email.parser
import email.policy
import struct
from dataclasses import dataclass


class UnreadableImage(ValueError):
    """The bytes claim an image format but its header cannot be read."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # JPEG, PNG, WEBP, BMP or HEIC
    width: int
    height: int


def _png(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise UnreadableImage("PNG without an IHDR chunk")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# JPEG start-of-frame markers carry the size; C4 (DHT), C8 and CC are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise UnreadableImage("JPEG segment without a marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _SOF:
            if at + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise UnreadableImage("JPEG without a frame header")


def _webp(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise UnreadableImage("WEBP without a readable VP8 header")


def _bmp(data: bytes) -> tuple[int, int]:
    if len(data) < 26:
        raise UnreadableImage("BMP header cut short")
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)


def _heic(data: bytes) -> tuple[int, int]:
    # The image spatial extents property: 4 bytes version and flags, then width and height.
    at = data.find(b"ispe")
    if at < 0 or at + 16 > len(data):
        raise UnreadableImage("HEIC without an ispe box")
    width, height = struct.unpack(">II", data[at + 8 : at + 16])
    return width, height


def sniff(data: bytes) -> ImageInfo | None:
    """The image's format and size; None when the bytes are no format TikTok takes.

    Raises :class:`UnreadableImage` when the format is known but its header is broken.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageInfo("PNG", *_png(data))
    if data.startswith(b"\xff\xd8"):
        return ImageInfo("JPEG", *_jpeg(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageInfo("WEBP", *_webp(data))
    if data.startswith(b"BM"):
        return ImageInfo("BMP", *_bmp(data))
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim"):
        return ImageInfo("HEIC", *_heic(data))
    return None


def form_parts(body: bytes, content_type: str) -> dict[str, bytes]:
    """The named parts of a ``multipart/form-data`` body, each part's raw bytes.

    Raises ValueError when the body is not multipart or its boundary is missing.
    """
    if "multipart/form-data" not in content_type.lower() or "boundary=" not in content_type:
        raise ValueError("expected multipart/form-data with a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("the multipart body has no parts")
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        parts[name] = payload if isinstance(payload, bytes) else b""
    return parts
