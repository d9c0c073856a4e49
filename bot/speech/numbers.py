"""Vietnamese number reading: integers, digit strings, decimals and Roman numerals as words.

Owns the spoken form of numbers ("mười", "mươi", "mốt", "tư", "lăm", "linh", "không trăm",
"nghìn", "triệu", "tỷ") so the speech normaliser never hands digits to a voice that would read
them one by one.
"""

from __future__ import annotations

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES: tuple[tuple[int, str], ...] = ((1_000_000, "triệu"), (1_000, "nghìn"), (1, ""))
_BILLION = 1_000_000_000
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def number_to_words(n: int) -> str:
    """Read a whole number: 2024 -> "hai nghìn không trăm hai mươi tư"."""
    if n < 0:
        return "âm " + number_to_words(-n)
    if n == 0:
        return DIGITS[0]
    words: list[str] = []
    billions, rest = divmod(n, _BILLION)
    if billions:
        words.append(number_to_words(billions))
        words.append("tỷ")
    for scale, name in _SCALES:
        group = (rest // scale) % 1000
        if group == 0:
            continue
        words.extend(_read_triple(group, full=bool(words)))
        if name:
            words.append(name)
    return " ".join(words)


def _read_triple(group: int, *, full: bool) -> list[str]:
    """Read 0..999; `full` means a higher group was read, so "không trăm" / "linh" are spoken."""
    hundreds, tens, units = group // 100, (group // 10) % 10, group % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def digits_to_words(digits: str) -> str:
    """Read a digit string one digit at a time: "0912" -> "không chín một hai"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def decimal_to_words(integer: str, fraction: str) -> str:
    """Read a decimal with "phẩy": ("2", "5") -> "hai phẩy năm", ("0", "05") -> "... không năm".

    A short fraction without a leading zero is read as a number, as people say it aloud;
    anything else is read digit by digit so the value stays unambiguous.
    """
    head = number_to_words(int(integer.replace(".", "") or "0"))
    if len(fraction) <= 2 and not fraction.startswith("0"):
        tail = number_to_words(int(fraction))
    else:
        tail = digits_to_words(fraction)
    return f"{head} phẩy {tail}"


def integer_to_words(digits: str) -> str:
    """Read an integer token as written: "1.250.000" as a number, "0243" digit by digit."""
    plain = digits.replace(".", "")
    if (len(plain) > 1 and plain.startswith("0")) or len(plain) > 15:
        return digits_to_words(plain)
    return number_to_words(int(plain))


def roman_to_int(numeral: str) -> int | None:
    """Value of a well-formed Roman numeral up to 3999, or None ("XIII" -> 13)."""
    if not numeral or any(c not in _ROMAN for c in numeral):
        return None
    total = 0
    for i, char in enumerate(numeral):
        value = _ROMAN[char]
        if i + 1 < len(numeral) and _ROMAN[numeral[i + 1]] > value:
            total -= value
        else:
            total += value
    if not 0 < total < 4000 or _int_to_roman(total) != numeral:
        return None
    return total


def _int_to_roman(n: int) -> str:
    pairs = (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    )
    out: list[str] = []
    for value, symbol in pairs:
        count, n = divmod(n, value)
        out.append(symbol * count)
    return "".join(out)
