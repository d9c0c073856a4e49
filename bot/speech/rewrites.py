"""The ordered regex rewrites that turn written numbers, codes and abbreviations into words.

Owns the reading of legal document references ("20/2021/NĐ-CP"), dates, times, phone numbers,
money, percentages, ranges, plain numbers and abbreviations. `REWRITES` is applied in order by
`bot.speech.normalize.text_for_speech`; the order matters (a date must be read before its parts
are read as plain numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.speech.abbreviations import (
    ABBREVIATIONS,
    DOCUMENT_TYPES,
    PARTY_DOCUMENT_TYPES,
    issuer_words,
)
from bot.speech.numbers import (
    decimal_to_words,
    digits_to_words,
    integer_to_words,
    number_to_words,
    roman_to_int,
)

_Replacement = str | Callable[[re.Match[str]], str]
_DOC_WORDS = (
    r"nghị định|thông tư liên tịch|thông tư|quyết định|nghị quyết|luật|chỉ thị|thông tri"
    r"|kế hoạch|công văn|số"
)


def _preceding(match: re.Match[str], size: int = 40) -> str:
    return match.string[max(0, match.start() - size) : match.start()].casefold().rstrip()


def _ends_with_word(before: str, word: str) -> bool:
    return before == word or before.endswith((" " + word, "(" + word))


def _document_phrase(
    match: re.Match[str], number: str, year: str | None, type_word: str | None, issuers: list[str]
) -> str:
    """ "số hai mươi năm hai nghìn ..., nghị định của Chính phủ"; skips words already said."""
    before = _preceding(match)
    said_so = _ends_with_word(before, "số")
    before_type = before[:-2].rstrip() if said_so else before
    named = type_word is not None and _ends_with_word(before_type, type_word)
    phrase = ("" if said_so else "số ") + number_to_words(int(number))
    if year:
        phrase += " năm " + number_to_words(int(year))
    if type_word and not named:
        phrase += ", " + type_word
    spoken = [issuer_words(code) for code in issuers if code]
    if spoken:
        phrase += " của " + " và ".join(spoken)
    return f" {phrase} "


def _state_document(match: re.Match[str]) -> str:
    number, year, code = match.groups()
    parts = code.split("-")
    type_word = DOCUMENT_TYPES.get(parts[0])
    return _document_phrase(match, number, year, type_word, parts[1:] if type_word else parts)


def _party_document(match: re.Match[str]) -> str:
    number, kind, issuer = match.groups()
    type_word = PARTY_DOCUMENT_TYPES.get(kind)
    issuers = [issuer] if type_word else [kind, issuer]
    return _document_phrase(match, number, None, type_word, issuers)


def _document_code(match: re.Match[str]) -> str:
    issuers = [issuer_words(code) for code in match.group(2).split("-") if code]
    kind = DOCUMENT_TYPES[match.group(1)]
    return f" {kind[0].upper()}{kind[1:]} của {' và '.join(issuers)} "


def _numbered_document(match: re.Match[str]) -> str:
    prefix, number, year = match.groups()
    so = "" if prefix.casefold().rstrip().endswith("số") else "số "
    return f"{prefix}{so}{number_to_words(int(number))} năm {number_to_words(int(year))} "


def _valid_date(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _date_phrase(match: re.Match[str], day: int, month: int, year: int | None) -> str:
    if not _valid_date(day, month):
        return match.group(0)
    lead = "" if _ends_with_word(_preceding(match), "ngày") else "ngày "
    phrase = f"{lead}{number_to_words(day)} tháng {number_to_words(month)}"
    if year is not None:
        phrase += f" năm {number_to_words(year)}"
    return f" {phrase} "


def _dmy(match: re.Match[str]) -> str:
    day, _sep, month, year = match.groups()
    return _date_phrase(match, int(day), int(month), int(year))


def _iso_date(match: re.Match[str]) -> str:
    year, month, day = match.groups()
    return _date_phrase(match, int(day), int(month), int(year))


def _day_month(match: re.Match[str]) -> str:
    day, month = int(match.group(2)), int(match.group(3))
    if not _valid_date(day, month):
        return match.group(0)
    return f"{match.group(1)}{number_to_words(day)} tháng {number_to_words(month)} "


def _month_year(match: re.Match[str]) -> str:
    month, year = int(match.group(1)), int(match.group(2))
    if 1 <= month <= 12:
        lead = "" if _ends_with_word(_preceding(match), "tháng") else "tháng "
        return f" {lead}{number_to_words(month)} năm {number_to_words(year)} "
    if 1900 <= year <= 2100:
        return f" số {number_to_words(month)} năm {number_to_words(year)} "
    return match.group(0)


def _phone(match: re.Match[str]) -> str:
    raw = match.group(0)
    if not 9 <= sum(c.isdigit() for c in raw) <= 12:
        return raw
    lead = "cộng " if raw.startswith("+") else ""
    groups = [digits_to_words(g) for g in re.split(r"[ .-]", raw.lstrip("+")) if g]
    return f" {lead}{', '.join(groups)} "


def _time(match: re.Match[str]) -> str:
    hour = int(match.group(1))
    minute = int(match.group(2) or 0) if match.re.groups > 1 else 0
    phrase = f"{number_to_words(hour)} giờ"
    if minute:
        phrase += f" {number_to_words(minute)}"
    return f" {phrase} "


def _dong(match: re.Match[str]) -> str:
    amount, unit = match.groups()
    value = int(re.split(r"[,]", amount)[0].replace(".", "") or 0)
    return f"{amount} đồng" if value >= 100 else f"{amount} {unit.lower()}"


def _number(match: re.Match[str]) -> str:
    integer, _sep, fraction = match.groups()
    if fraction:
        return f" {decimal_to_words(integer, fraction)} "
    return f" {integer_to_words(integer)} "


def _roman(match: re.Match[str]) -> str:
    value = roman_to_int(match.group(2))
    return match.group(0) if value is None else f"{match.group(1)} {number_to_words(value)}"


def _abbreviation(match: re.Match[str]) -> str:
    return ABBREVIATIONS[match.group(0)]


_ABBREVIATION = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(?!\w)"
)

REWRITES: tuple[tuple[re.Pattern[str], _Replacement], ...] = (
    # Roman numerals after the words that take them: "Quốc hội khóa XIII".
    (
        re.compile(r"\b((?i:khóa|khoá|chương|phần|mục|thứ))\s+([IVXLCDM]+)\b"),
        _roman,
    ),
    # "NQ04/2019", "TT 01/2019": a document abbreviation written right before its number.
    (
        re.compile(r"(?<!\w)(NĐ|TTLT|TT|QĐ|NQ)\s*(?=\d)"),
        lambda m: DOCUMENT_TYPES[m.group(1)] + " ",
    ),
    # Legal codes: "20/2021/NĐ-CP", "1019/QĐ-TTg", "51/2010/QH12", "QCVN 10:2014/BXD".
    (
        re.compile(
            r"(?<![\w/])(\d+)(?:[/:](\d{4}))?/"
            r"([A-ZĐ][A-Za-zĐđ]+\d*(?:-[A-ZĐ][A-Za-zĐđ]+\d*)*)(?![\w-])"
        ),
        _state_document,
    ),
    # Party documents: "18-TT/TU", "39-CT/TW".
    (re.compile(r"(?<![\w/])(\d+)-([A-ZĐ]{2,})/([A-ZĐ]{2,})(?![\w-])"), _party_document),
    # A code on its own: "TT-BLĐTBXH", "QĐ-TTg".
    (
        re.compile(r"(?<![\w/-])(NĐ|TTLT|TT|QĐ|NQ)((?:-[A-ZĐ][A-Za-zĐđ]+\d*)+)(?![\w-])"),
        _document_code,
    ),
    # "Nghị định 20/2021", "số 04/2019": number and year without the code.
    (
        re.compile(rf"(?<!\w)((?:{_DOC_WORDS})\s+)(\d+)/(\d{{4}})(?![\d/])", re.IGNORECASE),
        _numbered_document,
    ),
    # Dates: "2024-07-01", "1/7/2024", "01.01.2011", "ngày 1/7", "tháng 7/2024".
    (re.compile(r"(?<![\d/.-])(\d{4})-(\d{2})-(\d{2})(?![\d-])"), _iso_date),
    (re.compile(r"(?<![\d/.])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\d/]|\.\d)"), _dmy),
    (re.compile(r"(\bngày\s+)(\d{1,2})/(\d{1,2})(?![\d/])", re.IGNORECASE), _day_month),
    (re.compile(r"(?<![\d/.])(\d{1,2})/(\d{4})(?![\d/])"), _month_year),
    # Phone numbers, read digit by digit in the groups they were written in.
    (re.compile(r"(?<![\w+])(?:\+84[ .-]?|0)\d{1,3}(?:[ .-]?\d{2,4}){2,3}(?!\d)"), _phone),
    # Ranges: "7h30-17h", "Điều 3-6", "2021-2024".
    (re.compile(r"(?<=\d|h)\s*[–—-]\s*(?=\d)"), " đến "),
    # Times: "7h30", "17:30", "8h".
    (re.compile(r"(?<![\d:])([01]?\d|2[0-3])(?:h|:)([0-5]\d)(?![\d:])"), _time),
    (re.compile(r"(?<![\w:])([01]?\d|2[0-3])h(?!\w)"), _time),
    # Money and multipliers: "500.000đ", "2 triệu VNĐ", "500k", "1,5tr".
    (re.compile(r"(\d[\d.,]*)\s*(đ|Đ)(?!\w)"), _dong),
    (re.compile(r"(?<=\d)\s?k(?!\w)"), " nghìn"),
    (re.compile(r"(?<=\d)\s?tr(?!\w)"), " triệu"),
    # Operators between numbers.
    (re.compile(r"(?<=\d)\s*%"), " phần trăm"),
    (re.compile(r"(?<=\d)\s*[xX×]\s*(?=\d)"), " nhân "),
    (re.compile(r"(?<=\d)\s*/\s*(?=\d)"), " trên "),
    (re.compile(r"(?<=\d)\s*\+\s*(?=\d)"), " cộng "),
    (re.compile(r"(?<=\d)([a-zđ])(?!\w)"), r" \1"),
    (
        re.compile(r"(?<!\d)(\d{1,3}(?:,\d{3}){2,})(?![\d,])"),
        lambda m: m.group(1).replace(",", "."),
    ),
    # Numbers: "1.250.000", "2,5", "2024".
    (re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+|\d+)(?:([.,])(\d+))?(?!\d)"), _number),
    (re.compile(r"\d+"), lambda m: f" {integer_to_words(m.group(0))} "),
    # Abbreviations.
    (re.compile(r"(?<!\w)(?:TP|Tp)\.(?=\s+\w)"), "thành phố"),
    (re.compile(r"(?<!\w)v\.v\.?"), "vân vân"),
    (_ABBREVIATION, _abbreviation),
    # Slashes between words: "đồng/tháng" -> "đồng mỗi tháng", "ông/bà" -> "ông hoặc bà".
    (re.compile(r"\bvà\s*/\s*hoặc\b"), "và hoặc"),
    (
        re.compile(
            r"(?<=\w)\s*/\s*(?=(?:tháng|năm|người|ngày|lần|suất|tuần|quý|giờ|hộ|kg)\b)",
            re.IGNORECASE,
        ),
        " mỗi ",
    ),
    (re.compile(r"(?<=[^\W\d_])\s*/\s*(?=[^\W\d_])"), " hoặc "),
    # Dashes: spaced ones are pauses, joining ones are spaces.
    (re.compile(r"\s+[-–—]+\s+"), ", "),
    (re.compile(r"[-–—]"), " "),
)
