"""Speech text normalisation: what the voice says for numbers, money, dates, codes, symbols."""

from __future__ import annotations

import random
import re

import pytest

from bot.speech.normalize import (
    MAX_SPEECH_CHARS,
    TRUNCATION_NOTICE,
    limit_for_speech,
    text_for_speech,
)
from bot.speech.numbers import decimal_to_words, number_to_words, roman_to_int

NUMBERS = [
    (0, "không"),
    (1, "một"),
    (4, "bốn"),
    (5, "năm"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (31, "ba mươi mốt"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (115, "một trăm mười lăm"),
    (999, "chín trăm chín mươi chín"),
    (1000, "một nghìn"),
    (1005, "một nghìn không trăm linh năm"),
    (2011, "hai nghìn không trăm mười một"),
    (2021, "hai nghìn không trăm hai mươi mốt"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (10_000, "mười nghìn"),
    (17_500, "mười bảy nghìn năm trăm"),
    (500_000, "năm trăm nghìn"),
    (1_000_000, "một triệu"),
    (1_000_050, "một triệu không trăm năm mươi"),
    (1_250_000, "một triệu hai trăm năm mươi nghìn"),
    (2_000_500, "hai triệu năm trăm"),
    (1_000_000_000, "một tỷ"),
    (3_200_000_000, "ba tỷ hai trăm triệu"),
    (5_000_000_000_000, "năm nghìn tỷ"),
]


@pytest.mark.parametrize(("number", "words"), NUMBERS)
def test_number_to_words(number: int, words: str) -> None:
    assert number_to_words(number) == words


@pytest.mark.parametrize(
    ("integer", "fraction", "words"),
    [
        ("2", "5", "hai phẩy năm"),
        ("1", "25", "một phẩy hai mươi lăm"),
        ("0", "05", "không phẩy không năm"),
        ("3", "125", "ba phẩy một hai năm"),
    ],
)
def test_decimal_to_words(integer: str, fraction: str, words: str) -> None:
    assert decimal_to_words(integer, fraction) == words


@pytest.mark.parametrize(
    ("numeral", "value"), [("XIII", 13), ("XV", 15), ("IV", 4), ("MMXXIV", 2024), ("IIII", None)]
)
def test_roman_to_int(numeral: str, value: int | None) -> None:
    assert roman_to_int(numeral) == value


SPEECH = [
    # money and numbers
    ("500.000 đồng", "năm trăm nghìn đồng."),
    ("1.250.000 đồng", "một triệu hai trăm năm mươi nghìn đồng."),
    ("500.000đ", "năm trăm nghìn đồng."),
    ("360.000 Đ.", "ba trăm sáu mươi nghìn đồng."),
    ("2,5 triệu VNĐ", "hai phẩy năm triệu đồng."),
    ("500k", "năm trăm nghìn."),
    ("1,250,000 đồng", "một triệu hai trăm năm mươi nghìn đồng."),
    ("2,5", "hai phẩy năm."),
    ("80%", "tám mươi phần trăm."),
    ("2,5%", "hai phẩy năm phần trăm."),
    ("3x4", "ba nhân bốn."),
    ("ảnh 3 x 4", "ảnh ba nhân bốn."),
    ("Điều 3-6", "Điều ba đến sáu."),
    ("mẫu 1a đến 1đ", "mẫu một a đến một đ."),
    ("0243", "không hai bốn ba."),
    ("Hỗ trợ 500.000đ/tháng", "Hỗ trợ năm trăm nghìn đồng mỗi tháng."),
    # dates and times
    ("1/7/2024", "ngày một tháng bảy năm hai nghìn không trăm hai mươi tư."),
    ("01/01/2011", "ngày một tháng một năm hai nghìn không trăm mười một."),
    ("từ ngày 1/7/2024", "từ ngày một tháng bảy năm hai nghìn không trăm hai mươi tư."),
    ("2026-11-29", "ngày hai mươi chín tháng mười một năm hai nghìn không trăm hai mươi sáu."),
    ("ngày 1/7", "ngày một tháng bảy."),
    ("tháng 7/2024", "tháng bảy năm hai nghìn không trăm hai mươi tư."),
    ("7h30-17h", "bảy giờ ba mươi đến mười bảy giờ."),
    ("lúc 11:45", "lúc mười một giờ bốn mươi lăm."),
    # phone numbers, digit by digit in their groups
    ("Gọi 0912 345 678", "Gọi không chín một hai, ba bốn năm, sáu bảy tám."),
    # legal document references
    (
        "20/2021/NĐ-CP",
        "số hai mươi năm hai nghìn không trăm hai mươi mốt, nghị định của Chính phủ.",
    ),
    (
        "Nghị định số 20/2021/NĐ-CP",
        "Nghị định số hai mươi năm hai nghìn không trăm hai mươi mốt của Chính phủ.",
    ),
    (
        "Theo Nghị định 20/2021/NĐ-CP,",
        "Theo Nghị định số hai mươi năm hai nghìn không trăm hai mươi mốt của Chính phủ.",
    ),
    (
        "Thông tư 01/2019/TT-BLĐTBXH",
        "Thông tư số một năm hai nghìn không trăm mười chín của Bộ Lao động Thương binh và Xã hội.",
    ),
    (
        "Luật số 51/2010/QH12",
        "Luật số năm mươi mốt năm hai nghìn không trăm mười của Quốc hội khóa mười hai.",
    ),
    (
        "1019/QĐ-TTg",
        "số một nghìn không trăm mười chín, quyết định của Thủ tướng Chính phủ.",
    ),
    ("Thông tri số 18-TT/TU", "Thông tri số mười tám của Thành ủy."),
    (
        "QCVN 10:2014/BXD",
        "quy chuẩn Việt Nam số mười năm hai nghìn không trăm mười bốn của Bộ Xây dựng.",
    ),
    (
        "TT 01/2019",
        "thông tư số một năm hai nghìn không trăm mười chín.",
    ),
    ("NĐ-CP", "Nghị định của Chính phủ."),
    ("Quốc hội khóa XIII", "Quốc hội khóa mười ba."),
    # abbreviations
    ("NKT được cấp thẻ BHYT", "người khuyết tật được cấp thẻ bảo hiểm y tế."),
    ("UBND xã và HĐND", "Ủy ban nhân dân xã và Hội đồng nhân dân."),
    ("mức TGXH", "mức trợ giúp xã hội."),
    ("theo QĐ và NQ", "theo quyết định và nghị quyết."),
    ("Sở LĐTBXH", "Sở lao động thương binh và xã hội."),
    ("bản sao CCCD", "bản sao căn cước công dân."),
    ("học THPT", "học trung học phổ thông."),
    ("vay NHCSXH", "vay Ngân hàng Chính sách xã hội."),
    ("TTLT", "thông tư liên tịch."),
    ("TP. Hà Nội", "thành phố Hà Nội."),
    ("TT", "TT."),  # "TT" alone is ambiguous: only expanded inside document references
    # links, symbols, lists and whitespace
    ("Xem https://example.gov.vn/a?b=1 nhé", "Xem nhé."),
    ("Toàn văn trên hanoi.gov.vn.", "Toàn văn trên."),
    ("Gửi thư tới hotro@example.vn hôm nay", "Gửi thư tới hôm nay."),
    ("- Tờ khai\n- Bản sao CCCD\n\nNộp ở xã", "Tờ khai. Bản sao căn cước công dân. Nộp ở xã."),
    ("Hồ sơ:\n• Tờ khai\n• Ảnh", "Hồ sơ: Tờ khai. Ảnh."),
    ("**Lưu ý**: mang theo giấy tờ ✅", "Lưu ý: mang theo giấy tờ."),
    ("kinh tế - xã hội (NKT)", "kinh tế, xã hội, người khuyết tật."),
    ("ông/bà và/hoặc con", "ông hoặc bà và hoặc con."),
    ("  nhiều    khoảng\t trắng  ", "nhiều khoảng trắng."),
    ("", ""),
    ("... !!", ""),
]


@pytest.mark.parametrize(("text", "spoken"), SPEECH)
def test_text_for_speech(text: str, spoken: str) -> None:
    assert text_for_speech(text) == spoken


def test_realistic_answer_has_no_digits_or_known_abbreviations_left() -> None:
    answer = (
        "Theo Nghị định 20/2021/NĐ-CP, từ ngày 1/7/2024 mức chuẩn TGXH là 500.000 đồng/tháng.\n"
        "- NKT đặc biệt nặng: hệ số 2,5 (1.250.000 đ).\n"
        "- NKT nặng: hệ số 2,0.\n"
        "Nộp hồ sơ tại UBND xã; hỏi thêm qua số 0243 825 1234 hoặc https://dichvucong.gov.vn."
    )
    spoken = text_for_speech(answer)
    assert not re.search(r"\d", spoken)
    assert not re.search(r"\b(NKT|TGXH|UBND|NĐ|CP)\b", spoken)
    assert "http" not in spoken and "/" not in spoken
    assert "một triệu hai trăm năm mươi nghìn đồng" in spoken
    assert spoken.count(".") >= 4  # each list line is its own sentence


def test_normaliser_never_raises_on_odd_input() -> None:
    rng = random.Random(7)
    alphabet = "0123456789./,:-–%xđĐ NKTQHăâêôơưáàạ()[]*_#@+/\n\t😀"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        spoken = text_for_speech(text)
        assert spoken == " ".join(spoken.split())


def test_limit_for_speech_cuts_at_a_sentence_end() -> None:
    sentence = "Người khuyết tật được hưởng trợ cấp xã hội hằng tháng theo quy định. "
    text = (sentence * 100).strip()
    limited = limit_for_speech(text)
    assert len(limited) <= MAX_SPEECH_CHARS
    assert limited.endswith(TRUNCATION_NOTICE)
    head = limited[: -len(TRUNCATION_NOTICE)].rstrip()
    assert head.endswith("theo quy định.")
    assert text.startswith(head)


def test_limit_for_speech_without_sentence_ends_cuts_at_a_word() -> None:
    text = "chữ " * 2000
    limited = limit_for_speech(text, max_chars=500)
    assert len(limited) <= 500
    assert limited.endswith("chữ. " + TRUNCATION_NOTICE)


def test_short_text_is_not_limited() -> None:
    assert limit_for_speech("Xin chào.") == "Xin chào."
