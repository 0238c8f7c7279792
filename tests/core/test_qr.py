"""The vote link's QR code, read back by a real decoder (zxing-cpp) from the PNG bytes."""

from __future__ import annotations

import numpy as np
import png
import pytest
import zxingcpp

from bot.core.errors import BadInput
from bot.core.qr import qr_png


def decode(data: bytes) -> list[str]:
    width, height, rows, _ = png.Reader(bytes=data).asRGB8()
    pixels = np.array([np.frombuffer(bytes(row), dtype=np.uint8) for row in rows]).reshape(height, width, 3)
    grey = pixels.mean(axis=2).astype(np.uint8)
    return [result.text for result in zxingcpp.read_barcodes(grey)]


@pytest.mark.parametrize("url", [
    "https://numhack.example.org/vote/community-favorite",
    "https://lb.example.org/vote/community-favorite?ref=stream&lang=fr",
    "http://127.0.0.1:8080/vote/cf",
])
def test_the_png_decodes_to_the_vote_link(url):
    data = qr_png(url)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert decode(data) == [url]


def test_scale_and_border_set_the_image_size():
    width_small, _, _, _ = png.Reader(bytes=qr_png("https://x.example/vote/a", scale=4, border=4)).read()
    width_big, _, _, _ = png.Reader(bytes=qr_png("https://x.example/vote/a", scale=8, border=4)).read()
    assert width_big == 2 * width_small
    assert len(qr_png("https://x.example/vote/a", scale=20)) < 10 * 1024 * 1024  # far below Discord's upload limit


def test_a_link_too_long_or_empty_is_refused():
    with pytest.raises(BadInput, match="does not fit"):
        qr_png("https://x.example/" + "a" * 5000)
    with pytest.raises(BadInput):
        qr_png("")
