"""The vote link as a QR code image, to show on a live stream.

segno makes it: pure Python with no dependencies, maintained, typed, and it writes PNG itself
(qrcode would need Pillow or pypng for that). Error correction is at least Q (25 % of the code
may be lost: a stream's compression, a logo over a corner), raised by segno when the text leaves
room. Always a full QR code, never a Micro QR, which phone cameras do not all read.
"""

from __future__ import annotations

import io

import segno

from bot.core.errors import BadInput


def qr_png(text: str, *, scale: int = 10, border: int = 4) -> bytes:
    """A PNG of `text` as a QR code: black modules `scale` pixels wide, a quiet zone of `border` modules."""
    if not text:
        raise BadInput("nothing to encode: give the vote's link")
    try:
        code = segno.make_qr(text, error="q", boost_error=True)
    except segno.DataOverflowError:
        raise BadInput(f"a link of {len(text)} characters does not fit in a QR code; use a shorter link") from None
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()
