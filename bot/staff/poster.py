"""QR posters for leaflets: the deep link's QR code with the topic title under it, as a PNG.

`deep_link(username, topic)` is `https://t.me/<username>?start=<topic>`; `poster_png(link,
title)` draws the QR code (10 pixels a module, the 4-module quiet zone scanners need) and the
title in the built-in Vietnamese bitmap font, wrapped and centred, and writes a black-and-white
PNG (1 bit a pixel, zlib-compressed) with the standard library only.
"""

from __future__ import annotations

import re
import struct
import zlib

from bot.staff import font
from bot.staff.qr import encode

MODULE_PX = 10
QUIET_MODULES = 4
FONT_SCALE = 3
LINE_GAP_PX = 6
_START_PARAM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Pixels = list[list[bool]]  # True = black


def deep_link(username: str, topic_id: str) -> str:
    """The t.me link that opens the bot on `topic_id` (Telegram allows A-Z a-z 0-9 _ -)."""
    if not _START_PARAM.match(topic_id):
        raise ValueError(f"'{topic_id}' cannot be a start parameter (A-Z, a-z, 0-9, _, -)")
    return f"https://t.me/{username.lstrip('@')}?start={topic_id}"


def png_bytes(pixels: Pixels) -> bytes:
    """A 1-bit grayscale PNG of `pixels` (True = black)."""
    height = len(pixels)
    width = len(pixels[0]) if pixels else 0
    raw = bytearray()
    for row in pixels:
        raw.append(0)  # filter type: none
        for start in range(0, width, 8):
            byte = 0
            for bit, dark in enumerate(row[start : start + 8]):
                if not dark:  # in grayscale 1 is white
                    byte |= 0x80 >> bit
            if width - start < 8:  # padding bits of the last byte stay white
                byte |= (1 << (8 - (width - start))) - 1
            raw.append(byte)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def qr_pixels(link: str) -> Pixels:
    code = encode(link)
    side = (code.size + 2 * QUIET_MODULES) * MODULE_PX
    pixels = [[False] * side for _ in range(side)]
    offset = QUIET_MODULES * MODULE_PX
    for y, row in enumerate(code.modules):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(MODULE_PX):
                    line = pixels[offset + y * MODULE_PX + dy]
                    start = offset + x * MODULE_PX
                    line[start : start + MODULE_PX] = [True] * MODULE_PX
    return pixels


def _caption(title: str, width: int) -> Pixels:
    margin = QUIET_MODULES * MODULE_PX // 2
    rows: Pixels = []
    for line in font.render_lines(title, (width - 2 * margin) // FONT_SCALE):
        line_width = len(line[0]) * FONT_SCALE
        left = max((width - line_width) // 2, 0)
        for bitmap_row in line:
            scaled = [False] * max(width, left + line_width)
            for x, ink in enumerate(bitmap_row):
                if ink:
                    start = left + x * FONT_SCALE
                    scaled[start : start + FONT_SCALE] = [True] * FONT_SCALE
            rows.extend([scaled[:] for _ in range(FONT_SCALE)])
        rows.extend([[False] * width for _ in range(LINE_GAP_PX)])
    return rows


def poster_png(link: str, title: str = "") -> bytes:
    """PNG of the QR code for `link`, with `title` printed under it (if any)."""
    pixels = qr_pixels(link)
    width = len(pixels[0])
    if title.strip():
        caption = _caption(title.strip(), width)
        wide = max(len(r) for r in caption)
        if wide > width:  # a single long word: widen the picture, QR centred
            pad = (wide - width) // 2
            pixels = [[False] * pad + r + [False] * (wide - width - pad) for r in pixels]
            width = wide
        pixels += [r + [False] * (width - len(r)) for r in caption]
        pixels += [[False] * width for _ in range(QUIET_MODULES * MODULE_PX)]
    return png_bytes(pixels)
