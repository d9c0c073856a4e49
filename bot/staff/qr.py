"""QR codes in pure Python: byte mode, error correction level M, versions 1 to 10.

Enough for the bot's deep links (`https://t.me/<bot>?start=<topic-id>`, up to 213 bytes),
with no imaging package. `encode(data)` returns the module matrix (True = dark), built as ISO/IEC
18004 describes: data bits with padding, Reed-Solomon error correction over GF(256) per block,
interleaving, function patterns (finders, timing, alignment, version information), the zig-zag
data placement, the mask with the lowest penalty, and the format information. Level M survives
about 15 % damage: a creased or dirty poster still scans.
"""

from __future__ import annotations

from dataclasses import dataclass

Matrix = list[list[bool]]

# Level M per version: (error correction codewords per block, [(blocks, data codewords), ...]).
BLOCKS_M: dict[int, tuple[int, tuple[tuple[int, int], ...]]] = {
    1: (10, ((1, 16),)),
    2: (16, ((1, 28),)),
    3: (26, ((1, 44),)),
    4: (18, ((2, 32),)),
    5: (24, ((2, 43),)),
    6: (16, ((4, 27),)),
    7: (18, ((4, 31),)),
    8: (22, ((2, 38), (2, 39))),
    9: (22, ((3, 36), (2, 37))),
    10: (26, ((4, 43), (1, 44))),
}
ALIGNMENT: dict[int, tuple[int, ...]] = {
    1: (),
    2: (6, 18),
    3: (6, 22),
    4: (6, 26),
    5: (6, 30),
    6: (6, 34),
    7: (6, 22, 38),
    8: (6, 24, 42),
    9: (6, 26, 46),
    10: (6, 28, 50),
}
MAX_VERSION = 10
_EC_LEVEL_M = 0b00
_FORMAT_MASK = 0b101010000010010

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


class QrError(ValueError):
    """The data does not fit in a version 1-10 QR code at level M."""


@dataclass(frozen=True)
class QrCode:
    version: int
    mask: int
    modules: Matrix

    @property
    def size(self) -> int:
        return len(self.modules)


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _generator(degree: int) -> list[int]:
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            nxt[j + 1] ^= _gf_mul(coef, _EXP[i])
        poly = nxt
    return poly


def rs_remainder(data: list[int], degree: int) -> list[int]:
    """Reed-Solomon error correction codewords for `data`."""
    gen = _generator(degree)
    rem = [0] * degree
    for byte in data:
        factor = byte ^ rem[0]
        rem = rem[1:] + [0]
        for i in range(degree):
            rem[i] ^= _gf_mul(gen[i + 1], factor)
    return rem


def capacity(version: int) -> int:
    """Bytes of data a version holds at level M in byte mode."""
    _, groups = BLOCKS_M[version]
    data_bits = 8 * sum(n * k for n, k in groups)
    count_bits = 8 if version < 10 else 16
    return (data_bits - 4 - count_bits) // 8


def data_codewords(data: bytes, version: int) -> list[int]:
    _, groups = BLOCKS_M[version]
    total = sum(n * k for n, k in groups)
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend((value >> (length - 1 - i)) & 1 for i in range(length))

    put(0b0100, 4)  # byte mode
    put(len(data), 8 if version < 10 else 16)
    for byte in data:
        put(byte, 8)
    put(0, min(4, total * 8 - len(bits)))  # terminator
    put(0, (-len(bits)) % 8)
    words = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = 0xEC
    while len(words) < total:
        words.append(pad)
        pad ^= 0xEC ^ 0x11
    return words


def codewords(data_words: list[int], version: int) -> list[int]:
    """Data split into blocks, error correction added, both interleaved."""
    ec_len, groups = BLOCKS_M[version]
    blocks: list[list[int]] = []
    pos = 0
    for count, length in groups:
        for _ in range(count):
            blocks.append(data_words[pos : pos + length])
            pos += length
    ecs = [rs_remainder(block, ec_len) for block in blocks]
    out: list[int] = []
    for i in range(max(len(b) for b in blocks)):
        out.extend(b[i] for b in blocks if i < len(b))
    for i in range(ec_len):
        out.extend(e[i] for e in ecs)
    return out


def _bch(value: int, poly: int, shift: int) -> int:
    rem = value << shift
    top = poly.bit_length() - 1
    for bit in range(rem.bit_length() - 1, top - 1, -1):
        if rem >> bit & 1:
            rem ^= poly << (bit - top)
    return (value << shift) | rem


def format_bits(mask: int) -> int:
    return _bch(_EC_LEVEL_M << 3 | mask, 0x537, 10) ^ _FORMAT_MASK


def version_bits(version: int) -> int:
    return _bch(version, 0x1F25, 12)


class _Grid:
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = 17 + 4 * version
        self.dark = [[False] * self.size for _ in range(self.size)]
        self.function = [[False] * self.size for _ in range(self.size)]

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y][x] = dark
        self.function[y][x] = True

    def draw_functions(self) -> None:
        n = self.size
        for i in range(n):
            self.set(6, i, i % 2 == 0)
            self.set(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (n - 4, 3), (3, n - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < n and 0 <= y < n:
                        ring = max(abs(dx), abs(dy))
                        self.set(x, y, ring not in (2, 4))
        centers = ALIGNMENT[self.version]
        last = len(centers) - 1
        for i, cx in enumerate(centers):
            for j, cy in enumerate(centers):
                if (i, j) in ((0, 0), (0, last), (last, 0)):
                    continue  # those corners hold the finder patterns
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self.set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
        self.draw_format(0)  # reserve the format areas; drawn for real after masking
        if self.version >= 7:
            bits = version_bits(self.version)
            for i in range(18):
                dark = bool(bits >> i & 1)
                a, b = n - 11 + i % 3, i // 3
                self.set(a, b, dark)
                self.set(b, a, dark)

    def draw_format(self, mask: int) -> None:
        bits = format_bits(mask)
        n = self.size

        def bit(i: int) -> bool:
            return bool(bits >> i & 1)

        for i in range(6):
            self.set(8, i, bit(i))
        self.set(8, 7, bit(6))
        self.set(8, 8, bit(7))
        self.set(7, 8, bit(8))
        for i in range(9, 15):
            self.set(14 - i, 8, bit(i))
        for i in range(8):
            self.set(n - 1 - i, 8, bit(i))
        for i in range(8, 15):
            self.set(8, n - 15 + i, bit(i))
        self.set(8, n - 8, True)  # the dark module

    def place(self, words: list[int]) -> None:
        n = self.size
        i = 0
        total = len(words) * 8
        right = n - 1
        while right >= 1:
            if right == 6:
                right = 5  # skip the vertical timing pattern
            upward = (right + 1) & 2 == 0
            for vert in range(n):
                y = n - 1 - vert if upward else vert
                for x in (right, right - 1):
                    if not self.function[y][x] and i < total:
                        self.dark[y][x] = bool(words[i >> 3] >> (7 - (i & 7)) & 1)
                        i += 1
            right -= 2


_MASKS = (
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
)


def _masked(grid: _Grid, mask: int) -> Matrix:
    test = _MASKS[mask]
    return [
        [grid.dark[y][x] ^ (not grid.function[y][x] and test(x, y)) for x in range(grid.size)]
        for y in range(grid.size)
    ]


_FINDER_A = [True, False, True, True, True, False, True, False, False, False, False]
_FINDER_B = _FINDER_A[::-1]


def penalty(m: Matrix) -> int:
    """The ISO penalty score of a masked symbol (lower is easier to scan)."""
    n = len(m)
    score = 0
    lines = m + [list(col) for col in zip(*m, strict=True)]
    for line in lines:
        run = 1
        for i in range(1, n + 1):
            if i < n and line[i] == line[i - 1]:
                run += 1
                continue
            if run >= 5:
                score += 3 + run - 5
            run = 1
        for i in range(n - 10):
            window = line[i : i + 11]
            if window == _FINDER_A or window == _FINDER_B:
                score += 40
    for y in range(n - 1):
        for x in range(n - 1):
            c = m[y][x]
            if c == m[y][x + 1] == m[y + 1][x] == m[y + 1][x + 1]:
                score += 3
    dark = sum(map(sum, m))
    score += 10 * (abs(dark * 20 - n * n * 10) // (n * n))
    return score


def build(version: int, words: list[int], mask: int | None = None) -> QrCode:
    """Place final codewords in a symbol; choose the mask with the lowest penalty if not given."""
    grid = _Grid(version)
    grid.draw_functions()
    grid.place(words)
    masks = range(8) if mask is None else (mask,)
    best: tuple[int, int, Matrix] | None = None
    for candidate in masks:
        grid.draw_format(candidate)
        matrix = _masked(grid, candidate)
        score = penalty(matrix) if mask is None else 0
        if best is None or score < best[0]:
            best = (score, candidate, matrix)
    assert best is not None
    return QrCode(version, best[1], best[2])


def encode(data: bytes | str, min_version: int = 1) -> QrCode:
    """The smallest version (1-10) at level M that holds `data` (text is UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    for version in range(min_version, MAX_VERSION + 1):
        if len(raw) <= capacity(version):
            return build(version, codewords(data_codewords(raw, version), version))
    raise QrError(
        f"{len(raw)} bytes do not fit a version {MAX_VERSION} QR code (max {capacity(10)})"
    )
