"""Placeholders in FAQ answers: rendering from the rules file and checking for mistakes."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.entitlements import Rules
from bot.core.placeholders import (
    check,
    check_with_lines,
    format_coef,
    format_date,
    format_money,
    render,
)
from tests.conftest import TODAY


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "0 đồng"),
        (500, "500 đồng"),
        (1000, "1.000 đồng"),
        (650_000, "650.000 đồng"),
        (1_300_000, "1.300.000 đồng"),
        (10_000_000, "10.000.000 đồng"),
        (-5000, "-5.000 đồng"),
    ],
)
def test_format_money(amount: int, text: str) -> None:
    assert format_money(amount) == text


@pytest.mark.parametrize(
    ("coefficient", "text"), [(2.0, "2"), (2.5, "2,5"), (1.5, "1,5"), (20, "20"), (1.25, "1,25")]
)
def test_format_coef(coefficient: float, text: str) -> None:
    assert format_coef(coefficient) == text


def test_format_date() -> None:
    assert format_date(date(2024, 7, 1)) == "01/07/2024"


@pytest.mark.parametrize(
    ("placeholder", "today", "expected"),
    [
        ("{{rate:national}}", TODAY, "500.000 đồng"),
        ("{{rate:ha-noi}}", TODAY, "650.000 đồng"),
        ("{{rate:ha-noi}}", date(2025, 3, 1), "500.000 đồng"),
        ("{{rate:national@2022-01-01}}", TODAY, "360.000 đồng"),
        ("{{rate:ha-noi@2022-01-01}}", TODAY, "440.000 đồng"),
        ("{{rate:ha-noi@2014-06-01}}", TODAY, "270.000 đồng"),
        ("{{since:national}}", TODAY, "01/07/2024"),
        ("{{since:ha-noi}}", TODAY, "01/01/2026"),
        ("{{since:ha-noi@2022-01-01}}", TODAY, "01/07/2021"),
        (
            "{{basis:ha-noi}}",
            TODAY,
            "Nghị quyết 63/2025/NQ-HĐND của HĐND TP Hà Nội, Điều 2 khoản 1",
        ),
        (
            "{{basis:national}}",
            TODAY,
            "Nghị định 76/2024/NĐ-CP, Điều 1 (sửa Điều 4 Nghị định 20/2021/NĐ-CP)",
        ),
        ("{{amount:dac_biet_nang}}", TODAY, "1.300.000 đồng"),
        ("{{amount:dac_biet_nang_tre_em_nguoi_cao_tuoi}}", TODAY, "1.625.000 đồng"),
        ("{{amount:nang}}", TODAY, "975.000 đồng"),
        ("{{amount:nang:national}}", TODAY, "750.000 đồng"),
        ("{{amount:nang:ha-noi}}", TODAY, "975.000 đồng"),
        ("{{amount:nang_tre_em_nguoi_cao_tuoi:national}}", TODAY, "1.000.000 đồng"),
        ("{{amount:ho_gia_dinh_cham_soc}}", TODAY, "650.000 đồng"),
        ("{{amount:nhan_cham_soc_tre_em:national}}", TODAY, "1.250.000 đồng"),
        ("{{amount:mang_thai_va_nuoi_con:national}}", TODAY, "1.000.000 đồng"),
        ("{{amount:mai_tang:national}}", TODAY, "10.000.000 đồng"),
        ("{{amount:mai_tang:national@2022-01-01}}", TODAY, "7.200.000 đồng"),
        ("{{amount:dac_biet_nang}}", date(2025, 3, 1), "1.000.000 đồng"),
        ("{{coef:dac_biet_nang_tre_em_nguoi_cao_tuoi}}", TODAY, "2,5"),
        ("{{coef:dac_biet_nang}}", TODAY, "2"),
        ("{{coef:mai_tang}}", TODAY, "20"),
        ("{{ coef:nang }}", TODAY, "1,5"),
    ],
)
def test_render_each_kind(rules: Rules, placeholder: str, today: date, expected: str) -> None:
    assert render(f"Mức: {placeholder}.", rules, today) == f"Mức: {expected}."
    assert check(placeholder, rules) == []


def test_render_a_whole_answer(rules: Rules) -> None:
    text = (
        "Từ {{since:ha-noi}}, mức chuẩn ở Hà Nội là {{rate:ha-noi}}.\n"
        "Người khuyết tật đặc biệt nặng nhận {{amount:dac_biet_nang}} (hệ số {{coef:dac_biet_nang}})."
    )
    assert render(text, rules, TODAY) == (
        "Từ 01/01/2026, mức chuẩn ở Hà Nội là 650.000 đồng.\n"
        "Người khuyết tật đặc biệt nặng nhận 1.300.000 đồng (hệ số 2)."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{rate:hcm}}", "unknown region 'hcm'"),
        ("{{amount:rat_nang}}", "unknown key 'rat_nang'"),
        ("{{coef:nang:national}}", "write {{coef:KEY}}"),
        ("{{amount:nang:national:x}}", "write {{amount:KEY}}"),
        ("{{price:nang}}", "unknown kind 'price'"),
        ("{{nang}}", "missing kind"),
        ("{{rate:national@2021-02-30}}", "not a real date"),
        ("{{rate:national@01/07/2024}}", "YYYY-MM-DD"),
        ("{{rate:national@2009-12-31}}", "no base rate is known for 2009-12-31"),
        ("{{rate:national:x}}", "write {{rate:REGION}}"),
        ("Mức {{rate:national} đồng", "'{{' without its pair"),
        ("Mức {rate:national}} đồng", "'}}' without its pair"),
        ("Mức {{rate:national", "'{{' without its pair"),
        ("{{rate:\nnational}}", "'{{' without its pair"),
    ],
)
def test_check_reports_problems(rules: Rules, text: str, message: str) -> None:
    problems = check(text, rules)
    assert len(problems) >= 1
    assert message in problems[0], problems


def test_check_accepts_plain_text_and_single_braces(rules: Rules) -> None:
    assert check("Không có số tiền nào {ở đây}.", rules) == []
    assert check("", rules) == []


def test_check_with_lines(rules: Rules) -> None:
    text = "Dòng một {{rate:national}}.\nDòng hai {{amount:x}}.\nDòng ba {{rate:ha-noi"
    found = check_with_lines(text, rules)
    assert [line for line, _ in found] == [2, 3]
    assert "unknown key 'x'" in found[0][1]


def test_render_leaves_a_broken_placeholder_visible(rules: Rules) -> None:
    assert (
        render("A {{amount:x}} B {{rate:national}}", rules, TODAY)
        == "A {{amount:x}} B 500.000 đồng"
    )
    assert render("{{rate:national}}", rules, date(2000, 1, 1)) == "{{rate:national}}"
