"""One sentence for an operator from whatever a TikTok call raised."""


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
