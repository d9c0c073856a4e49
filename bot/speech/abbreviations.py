"""Spoken forms of the abbreviations found in Vietnamese policy answers.

Owns three tables: plain abbreviations (NKT, BHYT, UBND, ...), the document types that open a
legal reference code ("NĐ" in "20/2021/NĐ-CP") and the bodies that issue documents ("CP",
"BLĐTBXH", "QH13"). Keys are case-sensitive: only the upper-case forms used in official
writing are expanded, so ordinary words are never touched.
"""

from __future__ import annotations

import re

from bot.speech.numbers import number_to_words

# Abbreviations read the same wherever they stand. "TT", "CT", "CP" and "QH" are not here: they
# are only safe inside a document reference (see DOCUMENT_TYPES / ISSUERS).
ABBREVIATIONS: dict[str, str] = {
    "NKT": "người khuyết tật",
    "ĐBN": "đặc biệt nặng",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "UBHC": "Ủy ban hành chính",
    "NĐ-CP": "Nghị định của Chính phủ",
    "TGXH": "trợ giúp xã hội",
    "TCXH": "trợ cấp xã hội",
    "TGPL": "trợ giúp pháp lý",
    "QĐ": "quyết định",
    "NQ": "nghị quyết",
    "NĐ": "nghị định",
    "TTLT": "thông tư liên tịch",
    "LĐTBXH": "lao động thương binh và xã hội",
    "BLĐTBXH": "Bộ Lao động Thương binh và Xã hội",
    "VNĐ": "đồng",
    "VND": "đồng",
    "CCCD": "căn cước công dân",
    "CMND": "chứng minh nhân dân",
    "THPT": "trung học phổ thông",
    "THCS": "trung học cơ sở",
    "NHCSXH": "Ngân hàng Chính sách xã hội",
    "HĐGĐYK": "Hội đồng giám định y khoa",
    "PHCN": "phục hồi chức năng",
    "KCB": "khám chữa bệnh",
    "GDNN": "giáo dục nghề nghiệp",
    "GTVT": "giao thông vận tải",
    "QCVN": "quy chuẩn Việt Nam",
    "SĐT": "số điện thoại",
    "TP": "thành phố",
    "Tp": "thành phố",
    "VN": "Việt Nam",
    "HN": "Hà Nội",
    "TW": "Trung ương",
    "VD": "ví dụ",
    "BYT": "Bộ Y tế",
    "BTC": "Bộ Tài chính",
    "BTP": "Bộ Tư pháp",
    "BXD": "Bộ Xây dựng",
    "BGDĐT": "Bộ Giáo dục và Đào tạo",
    "BGTVT": "Bộ Giao thông vận tải",
    "BTTTT": "Bộ Thông tin và Truyền thông",
}

# The first part of a reference code such as "NĐ-CP" or "TTLT-BYT-BLĐTBXH".
DOCUMENT_TYPES: dict[str, str] = {
    "NĐ": "nghị định",
    "TT": "thông tư",
    "TTLT": "thông tư liên tịch",
    "QĐ": "quyết định",
    "NQ": "nghị quyết",
    "CT": "chỉ thị",
    "KH": "kế hoạch",
    "HD": "hướng dẫn",
    "CV": "công văn",
    "TB": "thông báo",
    "KL": "kết luận",
}

# Party documents are written "18-TT/TU": there "TT" is a "thông tri", not a "thông tư".
PARTY_DOCUMENT_TYPES: dict[str, str] = {**DOCUMENT_TYPES, "TT": "thông tri"}

ISSUERS: dict[str, str] = {
    "CP": "Chính phủ",
    "TTg": "Thủ tướng Chính phủ",
    "UB": "Ủy ban nhân dân",
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "UBHC": "Ủy ban hành chính",
    "TU": "Thành ủy",
    "TW": "Trung ương",
    "BLĐTBXH": "Bộ Lao động Thương binh và Xã hội",
    "BYT": "Bộ Y tế",
    "BTC": "Bộ Tài chính",
    "BTP": "Bộ Tư pháp",
    "BXD": "Bộ Xây dựng",
    "BCA": "Bộ Công an",
    "BNV": "Bộ Nội vụ",
    "BQP": "Bộ Quốc phòng",
    "BCT": "Bộ Công Thương",
    "BGDĐT": "Bộ Giáo dục và Đào tạo",
    "BGTVT": "Bộ Giao thông vận tải",
    "BTTTT": "Bộ Thông tin và Truyền thông",
    "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch",
    "BHXH": "Bảo hiểm xã hội Việt Nam",
    "NHCSXH": "Ngân hàng Chính sách xã hội",
}

_ASSEMBLY = re.compile(r"(UBTVQH|QH)(\d*)")


def issuer_words(code: str) -> str:
    """Spoken issuer for one code part: "CP" -> "Chính phủ", "QH13" -> "Quốc hội khóa mười ba".

    Unknown codes are returned unchanged (the voice spells them).
    """
    if code in ISSUERS:
        return ISSUERS[code]
    match = _ASSEMBLY.fullmatch(code)
    if match:
        body = "Ủy ban Thường vụ Quốc hội" if match.group(1) == "UBTVQH" else "Quốc hội"
        term = match.group(2)
        return f"{body} khóa {number_to_words(int(term))}" if term else body
    return ABBREVIATIONS.get(code, code)
