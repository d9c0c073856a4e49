"""Vietnamese normalisation: NFC, case, accents (đ -> d), fillers, synonyms."""

import unicodedata

import pytest

from bot.core.text import Normalizer, fold

SYNONYMS = [
    ["người khuyết tật", "nkt"],
    ["bảo hiểm y tế", "bhyt"],
    ["trợ cấp", "tiền hỗ trợ"],
    ["khiếm thị", "mù"],
    ["ủy ban nhân dân", "ubnd"],
]


@pytest.fixture(scope="module")
def norm() -> Normalizer:
    return Normalizer(SYNONYMS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Đặc Biệt Nặng", "dac biet nang"),
        ("ĐƯỜNG", "duong"),
        ("người khuyết tật", "nguoi khuyet tat"),
        ("Hỗ trợ", "ho tro"),
    ],
)
def test_fold_removes_accents_and_case(raw, expected):
    assert fold(raw) == expected


def test_nfd_input_is_folded_like_nfc(norm):
    decomposed = unicodedata.normalize("NFD", "Người khuyết tật được trợ cấp")
    assert norm.normalize(decomposed) == norm.normalize("Người khuyết tật được trợ cấp")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Cho em hỏi người khuyết tật được trợ cấp không ạ?",
            "nguoi khuyet tat duoc tro cap khong",
        ),
        ("cho em hoi nkt duoc tro cap khong a", "nguoi khuyet tat duoc tro cap khong"),
        ("NKT có thẻ BHYT không vậy", "nguoi khuyet tat co the bao hiem y te khong"),
        ("tiền hỗ trợ cho người mù", "tro cap cho nguoi khiem thi"),
        ("Xin hỏi: UBND xã ở đâu???", "uy ban nhan dan xa o dau"),
        ("giúp em với", "giup em"),
    ],
)
def test_fillers_punctuation_and_synonyms(norm, raw, expected):
    assert norm.normalize(raw) == expected


def test_loan_word_vay_is_kept_but_final_filler_vay_goes(norm):
    assert norm.normalize("vay vốn ở đâu vậy") == "vay von o dau"
    assert norm.normalize("vay von o dau vay") == "vay von o dau"
    assert norm.normalize("vay von") == "vay von"


def test_empty_and_symbols_only(norm):
    assert norm.tokens("") == []
    assert norm.tokens("?!... ") == []


def test_accented_and_unaccented_give_the_same_tokens(norm):
    assert norm.tokens("Mức chuẩn trợ giúp xã hội là bao nhiêu?") == norm.tokens(
        "muc chuan tro giup xa hoi la bao nhieu"
    )
