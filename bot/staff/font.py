"""A tiny built-in bitmap font that writes Vietnamese, for captions under QR codes.

Letters are 5x7 pixel drawings (lower case with two rows of descender); Vietnamese letters are
drawn from their Unicode decomposition (NFD): the base letter, then its marks: circumflex and
breve above, the tone mark (grave, acute, hook, tilde) above those, dot below under it, and the
horn at the top right of o and u. So "Người khuyết tật" needs no extra drawings. `render_lines`
wraps text to a pixel width and returns a bitmap (rows of booleans, True = ink).
"""

from __future__ import annotations

import unicodedata

Bitmap = list[list[bool]]

_GLYPHS: dict[str, str] = {
    "0": ".###./#...#/#..##/#.#.#/##..#/#...#/.###.",
    "1": "..#../.##../..#../..#../..#../..#../.###.",
    "2": ".###./#...#/....#/...#./..#../.#.../#####",
    "3": "#####/...#./..#../...#./....#/#...#/.###.",
    "4": "...#./..##./.#.#./#..#./#####/...#./...#.",
    "5": "#####/#..../####./....#/....#/#...#/.###.",
    "6": "..##./.#.../#..../####./#...#/#...#/.###.",
    "7": "#####/....#/...#./..#../.#.../.#.../.#...",
    "8": ".###./#...#/#...#/.###./#...#/#...#/.###.",
    "9": ".###./#...#/#...#/.####/....#/...#./.##..",
    "A": ".###./#...#/#...#/#####/#...#/#...#/#...#",
    "B": "####./#...#/#...#/####./#...#/#...#/####.",
    "C": ".###./#...#/#..../#..../#..../#...#/.###.",
    "D": "###../#..#./#...#/#...#/#...#/#..#./###..",
    "E": "#####/#..../#..../####./#..../#..../#####",
    "F": "#####/#..../#..../####./#..../#..../#....",
    "G": ".###./#...#/#..../#.###/#...#/#...#/.####",
    "H": "#...#/#...#/#...#/#####/#...#/#...#/#...#",
    "I": "###/.#./.#./.#./.#./.#./###",
    "J": "..###/...#./...#./...#./...#./#..#./.##..",
    "K": "#...#/#..#./#.#../##.../#.#../#..#./#...#",
    "L": "#..../#..../#..../#..../#..../#..../#####",
    "M": "#...#/##.##/#.#.#/#.#.#/#...#/#...#/#...#",
    "N": "#...#/#...#/##..#/#.#.#/#..##/#...#/#...#",
    "O": ".###./#...#/#...#/#...#/#...#/#...#/.###.",
    "P": "####./#...#/#...#/####./#..../#..../#....",
    "Q": ".###./#...#/#...#/#...#/#.#.#/#..#./.##.#",
    "R": "####./#...#/#...#/####./#.#../#..#./#...#",
    "S": ".####/#..../#..../.###./....#/....#/####.",
    "T": "#####/..#../..#../..#../..#../..#../..#..",
    "U": "#...#/#...#/#...#/#...#/#...#/#...#/.###.",
    "V": "#...#/#...#/#...#/#...#/#...#/.#.#./..#..",
    "W": "#...#/#...#/#...#/#.#.#/#.#.#/#.#.#/.#.#.",
    "X": "#...#/#...#/.#.#./..#../.#.#./#...#/#...#",
    "Y": "#...#/#...#/.#.#./..#../..#../..#../..#..",
    "Z": "#####/....#/...#./..#../.#.../#..../#####",
    "Đ": ".###../.#..#./.#...#/###..#/.#...#/.#..#./.###..",
    "a": "...../...../.###./....#/.####/#...#/.####",
    "b": "#..../#..../####./#...#/#...#/#...#/####.",
    "c": "...../...../.###./#..../#..../#...#/.###.",
    "d": "....#/....#/.####/#...#/#...#/#...#/.####",
    "e": "...../...../.###./#...#/#####/#..../.###.",
    "f": "..##./.#..#/.#.../###../.#.../.#.../.#...",
    "g": "...../...../.####/#...#/#...#/#...#/.####/....#/.###.",
    "h": "#..../#..../#.##./##..#/#...#/#...#/#...#",
    "i": ".#./.../##./.#./.#./.#./###",
    "ı": ".../.../##./.#./.#./.#./###",
    "j": "...#/..../..##/...#/...#/...#/...#/#..#/.##.",
    "k": "#.../#.../#..#/#.#./##../#.#./#..#",
    "l": "##./.#./.#./.#./.#./.#./###",
    "m": "...../...../##.#./#.#.#/#.#.#/#.#.#/#.#.#",
    "n": "...../...../#.##./##..#/#...#/#...#/#...#",
    "o": "...../...../.###./#...#/#...#/#...#/.###.",
    "p": "...../...../####./#...#/#...#/#...#/####./#..../#....",
    "q": "...../...../.####/#...#/#...#/#...#/.####/....#/....#",
    "r": "...../...../#.##./##..#/#..../#..../#....",
    "s": "...../...../.####/#..../.###./....#/####.",
    "t": ".#.../.#.../###../.#.../.#.../.#..#/..##.",
    "u": "...../...../#...#/#...#/#...#/#..##/.##.#",
    "v": "...../...../#...#/#...#/#...#/.#.#./..#..",
    "w": "...../...../#...#/#...#/#.#.#/#.#.#/.#.#.",
    "x": "...../...../#...#/.#.#./..#../.#.#./#...#",
    "y": "...../...../#...#/#...#/#...#/#...#/.####/....#/.###.",
    "z": "...../...../#####/...#./..#../.#.../#####",
    "đ": "....#/..###/.####/#...#/#...#/#...#/.####",
    " ": ".../.../.../.../.../.../...",
    ".": "../../../../../##/##",
    ",": "../../../../../.#/.#/#.",
    ":": "../../##/##/../##/##",
    ";": "../../##/##/../##/##/.#/#.",
    "-": "..../..../..../####/..../..../....",
    "–": "..../..../..../####/..../..../....",
    "/": "....#/...#./...#./..#../.#.../.#.../#....",
    "(": "..#/.#./#../#../#../.#./..#",
    ")": "#../.#./..#/..#/..#/.#./#..",
    "[": "###/#../#../#../#../#../###",
    "]": "###/..#/..#/..#/..#/..#/###",
    "?": ".###./#...#/....#/...#./..#../...../..#..",
    "!": "#/#/#/#/#/./#",
    '"': "#.#/#.#/.../.../.../.../...",
    "'": "#/#/./././././",
    "%": "##..#/##..#/...#./..#../.#.../#..##/#..##",
    "&": ".##../#..#./#.#../.#.../#.#.#/#..#./.##.#",
    "+": "...../..#../..#../#####/..#../..#../.....",
    "=": "...../...../#####/...../#####/...../.....",
    "_": "...../...../...../...../...../...../#####",
    "*": "...../#.#.#/.###./#####/.###./#.#.#/.....",
}
# Marks drawn above (or below) a base letter, 5 pixels wide.
_MARKS: dict[str, str] = {
    "\u0300": ".#.../..#..",  # grave (huyền)
    "\u0301": "...#./..#..",  # acute (sắc)
    "\u0303": ".##.#/#..#.",  # tilde (ngã)
    "\u0309": ".##../...#./..#..",  # hook above (hỏi)
    "\u0302": "..#../.#.#.",  # circumflex (â, ê, ô)
    "\u0306": "#...#/.###.",  # breve (ă)
    "\u0323": "..#..",  # dot below (nặng)
}
_FIRST_ABOVE = ("\u0302", "\u0306")
_TONES_ABOVE = ("\u0300", "\u0301", "\u0303", "\u0309")
_HORN = "\u031b"
_DOT_BELOW = "\u0323"
ROWS_ABOVE = 7  # room for two stacked marks over a capital letter
GLYPH_ROWS = 9  # 7 rows and 2 of descender
ROWS_BELOW = 2  # the dot below a descender
LINE_ROWS = ROWS_ABOVE + GLYPH_ROWS + ROWS_BELOW
SPACING = 1


def _shape(spec: str) -> list[str]:
    return spec.split("/")


def _char_cell(char: str) -> tuple[int, list[tuple[int, int]]]:
    """(width, ink pixels as (x, y)) of one character; y counts from the top of the line."""
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if base in ("Đ", "đ"):
        base, marks = char[0], ""
    if base == "i" and any(m in _TONES_ABOVE + _FIRST_ABOVE for m in marks):
        base = "ı"  # i loses its dot under a tone mark
    rows = _shape(_GLYPHS.get(base) or _GLYPHS["?"])
    width = max(len(r) for r in rows)
    ink = [(x, y) for y, row in enumerate(rows) for x, c in enumerate(row) if c == "#"]
    above = [m for m in marks if m in _FIRST_ABOVE] + [m for m in marks if m in _TONES_ABOVE]
    cell = max(width, 5) if above or _DOT_BELOW in marks else width
    shift = (cell - width) // 2
    pixels = [(x + shift, y + ROWS_ABOVE) for x, y in ink]
    top = min((y for _, y in ink), default=0)
    bottom = max((y for _, y in ink), default=6)
    mark_x = (cell - 5) // 2
    y_next = top - 1  # one empty row between the letter and its marks
    for mark in above:
        shape = _shape(_MARKS[mark])
        y_next -= len(shape)
        pixels += [
            (mark_x + x, ROWS_ABOVE + y_next + dy)
            for dy, row in enumerate(shape)
            for x, c in enumerate(row)
            if c == "#"
        ]
        y_next -= 1
    if _DOT_BELOW in marks:
        pixels.append((mark_x + 2, ROWS_ABOVE + bottom + 2))
    if _HORN in marks:
        pixels += [(shift + width, ROWS_ABOVE + top - 1), (shift + width, ROWS_ABOVE + top)]
        cell = max(cell, shift + width + 1)
    pixels = [(x, y) for x, y in pixels if 0 <= y < LINE_ROWS]
    return cell, pixels


def text_width(text: str) -> int:
    return sum(_char_cell(c)[0] + SPACING for c in unicodedata.normalize("NFC", text)) - SPACING


def wrap(text: str, max_width: int) -> list[str]:
    """Words on lines no wider than `max_width` pixels (a longer word gets a line alone)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and text_width(trial) > max_width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def render_line(text: str) -> Bitmap:
    text = unicodedata.normalize("NFC", text)
    width = max(text_width(text), 1)
    bitmap = [[False] * width for _ in range(LINE_ROWS)]
    x0 = 0
    for char in text:
        cell, pixels = _char_cell(char)
        for x, y in pixels:
            if 0 <= x0 + x < width:
                bitmap[y][x0 + x] = True
        x0 += cell + SPACING
    return bitmap


def render_lines(text: str, max_width: int) -> list[Bitmap]:
    return [render_line(line) for line in wrap(text, max_width)]
