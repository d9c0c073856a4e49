"""QR posters: the encoder against a published symbol, and every PNG decoded back to its link.

The decoder here is written separately from the encoder (its own GF(256) arithmetic, function
pattern map, zig-zag walk and Reed-Solomon syndrome check), so the two would have to be wrong
in the same way for a test to pass with a symbol a phone could not read.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from bot.cli import main
from bot.staff import qr
from bot.staff.poster import MODULE_PX, QUIET_MODULES, deep_link, poster_png

# Version 4-M, byte mode, mask 7: a symbol published with an open-source QR library's tests
# for the Latin-1 text below (62 bytes, the full capacity of 4-M). X = dark.
REFERENCE_TEXT = "Hello world with a longer string using Latin1 Encoding û þ ç Ã"
REFERENCE_4M = """
XXXXXXX--XXX--XX-XXX--XX--XXXXXXX
X-----X-----X--XX-X-XXXXX-X-----X
X-XXX-X--XXXXX-XXXXXX-----X-XXX-X
X-XXX-X--XXX-XXX--X----XX-X-XXX-X
X-XXX-X--X-XX-XX-XX--X-XX-X-XXX-X
X-----X-XXXX-XXXXXXX-X----X-----X
XXXXXXX-X-X-X-X-X-X-X-X-X-XXXXXXX
---------X-XX-X--X---X--X--------
X--X-XX-X--XXXX----X-X---X-X-----
-X-X-X---X--XX--XX--XXX-XXX-----X
--XXXXXXXX----X--X-XX---XXXXXXX-X
X-XXX--------X-XX-XX-X---XX--X-XX
X--XXXX-X-XXX-X-XXXXX---XXX-----X
XX-X---XXX---X---X-XXXX-X--XX---X
XX--X-XXXX-X---XX------X-XXX--XX-
X-XX---XXXXX---X-XXXXX-X--X----X-
XXX--XXXX-XXXXX-XX-XXXXXX-XXXX-X-
XXXX---X--X-----X----X-X-----XXX-
-XX-X-X-X-X-------X-X---XX--X-X-X
XXX----X-X--XXX-X----X-XX--XX--XX
XX---XX---X-XX--X----X-XXX---X-X-
-X---X-X-XXXXXX--XX-X---XXX--X-X-
XXXXXXXXX--X--X----X----XXX-XX--X
-X-----XXXXX-X--X-X--X--XX--XX-X-
X-----XX---X--XX-X-XXXX-XXXXX--X-
--------X-X-------XX--XXX---X-X-X
XXXXXXX----XXX--X-X-XX--X-X-XXXX-
X-----X-XX-XX-XX-XXX-X--X---X--XX
X-XXX-X--X-XX-X-XXXXXXX-XXXXX----
X-XXX-X-X-XXXX--X----X----XXX-X--
X-XXX-X---XXXX-XXXX---XX----XXX-X
X-----X---XXX--XXX-X-XX-X--------
XXXXXXX-X-------X-X--X--XX-X-X-X-
"""


def test_encoder_matches_the_published_4m_symbol():
    data = REFERENCE_TEXT.encode("latin-1")
    words = qr.codewords(qr.data_codewords(data, 4), 4)
    code = qr.build(4, words, mask=7)
    expected = [[c == "X" for c in line] for line in REFERENCE_4M.split()]
    assert code.modules == expected
    assert decode(code.modules) == data
    assert qr.version_bits(7) == 0x07C94  # the value printed in ISO/IEC 18004, Annex D


# -- an independent decoder ---------------------------------------------------------------------

EXP = [1]
for _ in range(255):
    nxt = EXP[-1] * 2
    EXP.append(nxt ^ 0x11D if nxt > 255 else nxt)
LOG = {v: i for i, v in enumerate(EXP[:255])}


def gmul(a: int, b: int) -> int:
    return 0 if not a or not b else EXP[(LOG[a] + LOG[b]) % 255]


def function_map(n: int, version: int) -> set[tuple[int, int]]:
    """(row, col) of every module that is not data."""
    cells: set[tuple[int, int]] = set()
    for r0, c0 in ((0, 0), (0, n - 8), (n - 8, 0)):  # finders with separators
        cells |= {(r, c) for r in range(r0, r0 + 8) for c in range(c0, c0 + 8)}
    cells |= {(6, i) for i in range(n)} | {(i, 6) for i in range(n)}
    cells |= {(8, i) for i in range(9)} | {(i, 8) for i in range(9)}  # format, top-left
    cells |= {(8, n - 1 - i) for i in range(8)} | {(n - 1 - i, 8) for i in range(8)}
    if version >= 2:
        step_positions = qr.ALIGNMENT[version]
        for r in step_positions:
            for c in step_positions:
                if (r, c) in ((6, 6), (6, n - 7), (n - 7, 6)):
                    continue
                cells |= {(r + dr, c + dc) for dr in range(-2, 3) for dc in range(-2, 3)}
    if version >= 7:
        cells |= {(r, c) for r in range(6) for c in range(n - 11, n - 8)}
        cells |= {(r, c) for r in range(n - 11, n - 8) for c in range(6)}
    return cells


MASKS = {
    0: lambda r, c: (r + c) % 2 == 0,
    1: lambda r, c: r % 2 == 0,
    2: lambda r, c: c % 3 == 0,
    3: lambda r, c: (r + c) % 3 == 0,
    4: lambda r, c: (r // 2 + c // 3) % 2 == 0,
    5: lambda r, c: (r * c) % 2 + (r * c) % 3 == 0,
    6: lambda r, c: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
    7: lambda r, c: ((r + c) % 2 + (r * c) % 3) % 2 == 0,
}


def decode(m: list[list[bool]]) -> bytes:
    n = len(m)
    version = (n - 17) // 4
    raw = [m[i][8] for i in range(6)] + [m[7][8], m[8][8], m[8][7]]
    raw += [m[8][14 - i] for i in range(9, 15)]
    fmt = sum(int(b) << i for i, b in enumerate(raw)) ^ 0b101010000010010
    assert fmt >> 13 == 0b00, "not error correction level M"
    mask = MASKS[(fmt >> 10) & 7]
    assert m[n - 8][8], "the dark module is missing"
    skip = function_map(n, version)
    bits: list[int] = []
    col = n - 1
    upward = True
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(n - 1, -1, -1) if upward else range(n)
        for r in rows:
            for c in (col, col - 1):
                if (r, c) not in skip:
                    bits.append(int(m[r][c] ^ mask(r, c)))
        upward = not upward
        col -= 2
    ec_len, groups = qr.BLOCKS_M[version]
    sizes = [k for count, k in groups for _ in range(count)]
    words = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits) - 7, 8)]
    data_blocks: list[list[int]] = [[] for _ in sizes]
    pos = 0
    for i in range(max(sizes)):
        for b, size in enumerate(sizes):
            if i < size:
                data_blocks[b].append(words[pos])
                pos += 1
    ec_blocks: list[list[int]] = [[] for _ in sizes]
    for _ in range(ec_len):
        for b in range(len(sizes)):
            ec_blocks[b].append(words[pos])
            pos += 1
    for data, ec in zip(data_blocks, ec_blocks, strict=True):
        block = data + ec
        for i in range(ec_len):  # every syndrome is zero for an intact block
            syndrome = 0
            for word in block:
                syndrome = gmul(syndrome, EXP[i]) ^ word
            assert syndrome == 0, "Reed-Solomon check failed"
    stream = "".join(f"{w:08b}" for d in data_blocks for w in d)
    assert stream[:4] == "0100", "not byte mode"
    count_bits = 8 if version < 10 else 16
    length = int(stream[4 : 4 + count_bits], 2)
    start = 4 + count_bits
    return bytes(int(stream[start + 8 * i : start + 8 * i + 8], 2) for i in range(length))


def read_png(data: bytes) -> list[list[bool]]:
    """Pixels of a 1-bit grayscale PNG (True = black); only what poster_png writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(
            kind + body
        )
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert (depth, color) == (1, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8 + 1
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0
        rows.append([not (line[1 + x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
    return rows


def modules_from_png(pixels: list[list[bool]]) -> list[list[bool]]:
    width = len(pixels[0])
    qr_side = width  # the QR image is as wide as the picture unless a long word widened it
    side = qr_side // MODULE_PX - 2 * QUIET_MODULES
    offset = QUIET_MODULES * MODULE_PX + MODULE_PX // 2
    return [
        [pixels[offset + r * MODULE_PX][offset + c * MODULE_PX] for c in range(side)]
        for r in range(side)
    ]


@pytest.mark.parametrize("topic", ["tro-cap-hang-thang", "a", "x" * 64, "nghi-quyet-04-2019-hdnd"])
def test_poster_png_decodes_back_to_the_deep_link(topic):
    link = deep_link("HanoiNKTBot", topic)
    pixels = read_png(poster_png(link, "Trợ cấp xã hội hằng tháng"))
    assert decode(modules_from_png(pixels)) == link.encode()
    assert len(pixels) > len(pixels[0])  # the title is printed under the code
    qr_height = len(pixels[0])
    assert any(any(row) for row in pixels[qr_height:])


def test_every_version_up_to_10_decodes_and_longer_data_is_refused():
    for version in range(1, qr.MAX_VERSION + 1):
        data = bytes((i * 7 + 33) % 256 for i in range(qr.capacity(version)))
        code = qr.encode(data)
        assert code.version == version and code.size == 17 + 4 * version
        assert decode(code.modules) == data
    with pytest.raises(qr.QrError):
        qr.encode(b"x" * (qr.capacity(10) + 1))
    with pytest.raises(ValueError):
        deep_link("HanoiNKTBot", "có dấu")


def test_qr_command_writes_the_poster(env, tmp_path, capsys, real_kb):
    entry = next(iter(real_kb.entries.values()))
    out = tmp_path / "poster.png"
    assert main(["qr", entry.id, "-o", str(out)]) == 0
    link = f"https://t.me/HanoiNKTBot?start={entry.id}"
    assert link in capsys.readouterr().out
    assert decode(modules_from_png(read_png(out.read_bytes()))) == link.encode()
    assert main(["qr", "khong-co-muc-nay", "-o", str(tmp_path / "x.png")]) == 2
    assert not Path(tmp_path / "x.png").exists()
