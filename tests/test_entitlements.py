"""Entitlement rules and engine: every coefficient, the base-rate history, care support,
invalid profiles and the validation of broken rules files (with their line numbers).

Expected figures are written out from ../shared/docs/facts.md (sections 3, 4 and 7), not
computed from the rules file, so a wrong value in the file fails here.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.core.entitlements import (
    Profile,
    ProfileError,
    Rules,
    base_rate,
    check_entry_ids,
    evaluate,
    load_rules,
    parse_profile,
    result_to_json,
)
from tests.conftest import RULES_FILE, TODAY

# facts.md section 3 (national) and 7 (Hà Nội): the rate that applies on a day, a day before and
# the day of each change. Before 2015 Hà Nội had no own rate, so the national one applies; from
# 1/7/2024 to 31/12/2025 both are 500,000 (equal).
NATIONAL_RATES = {
    date(2010, 1, 1): 180_000,
    date(2013, 12, 31): 180_000,
    date(2014, 1, 1): 270_000,
    date(2021, 6, 30): 270_000,
    date(2021, 7, 1): 360_000,
    date(2024, 6, 30): 360_000,
    date(2024, 7, 1): 500_000,
    date(2026, 11, 29): 500_000,
}
HA_NOI_RATES = {
    date(2013, 12, 31): 180_000,
    date(2014, 1, 1): 270_000,
    date(2014, 12, 31): 270_000,
    date(2015, 1, 1): 350_000,
    date(2021, 6, 30): 350_000,
    date(2021, 7, 1): 440_000,
    date(2024, 6, 30): 440_000,
    date(2024, 7, 1): 500_000,
    date(2025, 12, 31): 500_000,
    date(2026, 1, 1): 650_000,
}
RATES = {"national": NATIONAL_RATES, "ha-noi": HA_NOI_RATES}

# NĐ 20/2021 Điều 6 khoản 1 điểm e: coefficient by level and age (child < 16, elderly >= 60).
AGES = (0, 15, 16, 59, 60, 90)
COEFFICIENTS = {
    "dac_biet_nang": {0: 2.5, 15: 2.5, 16: 2.0, 59: 2.0, 60: 2.5, 90: 2.5},
    "nang": {0: 2.0, 15: 2.0, 16: 1.5, 59: 1.5, 60: 2.0, 90: 2.0},
    "nhe": {0: 0.0, 15: 0.0, 16: 0.0, 59: 0.0, 60: 0.0, 90: 0.0},
}

ALLOWANCE_CASES = [
    (level, age, region, day, RATES[region][day], COEFFICIENTS[level][age])
    for level in COEFFICIENTS
    for age in AGES
    for region in RATES
    for day in RATES[region]
]


def _profile(level: str, age: int, region: str = "ha-noi", on: date = TODAY, **extra) -> Profile:
    return Profile(level=level, age=age, region=region, date=on, **extra)


@pytest.mark.parametrize(("level", "age", "region", "day", "rate", "coefficient"), ALLOWANCE_CASES)
def test_monthly_allowance_table(
    rules: Rules, level: str, age: int, region: str, day: date, rate: int, coefficient: float
) -> None:
    result = evaluate(rules, _profile(level, age, region, day))
    assert result.base_rate == rate
    assert result.monthly_allowance == round(coefficient * rate)
    allowance = [item for item in result.items if item.kind == "allowance"]
    assert [item.coefficient for item in allowance] == ([coefficient] if coefficient else [])
    assert result.total_monthly == result.monthly_allowance  # no care support in these cases


@pytest.mark.parametrize(
    ("level", "age", "region", "day", "amount"),
    [  # money columns of the facts.md section 3 table
        ("dac_biet_nang", 30, "national", date(2022, 1, 1), 720_000),
        ("dac_biet_nang", 10, "national", date(2022, 1, 1), 900_000),
        ("nang", 30, "national", date(2022, 1, 1), 540_000),
        ("nang", 70, "national", date(2022, 1, 1), 720_000),
        ("dac_biet_nang", 30, "national", TODAY, 1_000_000),
        ("dac_biet_nang", 70, "national", TODAY, 1_250_000),
        ("nang", 30, "national", TODAY, 750_000),
        ("nang", 5, "national", TODAY, 1_000_000),
        ("dac_biet_nang", 30, "ha-noi", TODAY, 1_300_000),
        ("dac_biet_nang", 8, "ha-noi", TODAY, 1_625_000),
        ("nang", 30, "ha-noi", TODAY, 975_000),
        ("nang", 65, "ha-noi", TODAY, 1_300_000),
    ],
)
def test_amounts_quoted_in_facts(
    rules: Rules, level: str, age: int, region: str, day: date, amount: int
) -> None:
    assert evaluate(rules, _profile(level, age, region, day)).monthly_allowance == amount


@pytest.mark.parametrize("region", ["national", "ha-noi"])
def test_no_rate_before_the_first_one(rules: Rules, region: str) -> None:
    with pytest.raises(ProfileError, match="2009-12-31"):
        base_rate(rules, region, date(2009, 12, 31))
    with pytest.raises(ProfileError):
        evaluate(rules, _profile("nang", 30, region, date(2009, 12, 31)))


def test_unknown_region_for_base_rate(rules: Rules) -> None:
    with pytest.raises(ProfileError, match="unknown region"):
        base_rate(rules, "ho-chi-minh", TODAY)


def test_ha_noi_uses_the_national_rate_when_it_is_higher(tmp_path: Path) -> None:
    text = RULES_FILE.read_text(encoding="utf-8").replace(
        "  ha-noi:\n",
        '    - from: 2027-01-01\n      amount: 700000\n      basis: "Nghị định giả định"\n'
        "  ha-noi:\n",
    )
    copy = tmp_path / "entitlements.yaml"
    copy.write_text(text, encoding="utf-8")
    rules, problems = load_rules(copy)
    assert problems == [] and rules is not None
    assert base_rate(rules, "ha-noi", date(2026, 12, 31)) == 650_000
    assert base_rate(rules, "ha-noi", date(2027, 1, 1)) == 700_000
    result = evaluate(rules, _profile("dac_biet_nang", 30, "ha-noi", date(2027, 1, 1)))
    assert result.base_rate_basis == "Nghị định giả định"
    assert result.monthly_allowance == 1_400_000
    # the Hà Nội coefficient note belongs to the city rate, which no longer applies
    assert not any("63/2025" in note for note in result.notes)


def test_equal_rates_use_the_national_entry(rules: Rules) -> None:
    result = evaluate(rules, _profile("nang", 30, "ha-noi", date(2025, 1, 1)))
    assert result.base_rate == 500_000
    assert result.base_rate_basis.startswith("Nghị định 76/2024")
    assert result.base_rate_since == date(2024, 7, 1)


def test_highest_coefficient_only_for_a_90_year_old(rules: Rules) -> None:
    result = evaluate(rules, _profile("dac_biet_nang", 90, "national"))
    assert [(item.coefficient, item.amount) for item in result.items] == [(2.5, 1_250_000)]
    assert result.monthly_allowance == 1_250_000


# (level, age, pregnant, children, carer) -> (care coefficients paid, recipients)
CARE_CASES = [
    ("nang", 30, True, 0, "none", [1.5], ["person"]),
    ("nang", 30, False, 1, "none", [1.5], ["person"]),
    ("nang", 30, True, 1, "none", [2.0], ["person"]),
    ("nang", 30, False, 2, "none", [2.0], ["person"]),
    ("nang", 30, False, 3, "none", [2.0], ["person"]),
    ("dac_biet_nang", 30, True, 2, "none", [2.0], ["person"]),
    ("nhe", 30, True, 1, "none", [], []),
    ("dac_biet_nang", 30, False, 0, "household", [1.0], ["carer"]),
    ("dac_biet_nang", 70, False, 0, "household", [1.0], ["carer"]),
    ("dac_biet_nang", 30, False, 0, "foster", [1.5], ["carer"]),
    ("dac_biet_nang", 75, False, 0, "foster", [1.5], ["carer"]),
    ("dac_biet_nang", 10, False, 0, "foster", [2.5], ["carer"]),
    ("dac_biet_nang", 10, False, 0, "household", [1.0], ["carer"]),
    ("nang", 30, False, 0, "household", [], []),
    ("nang", 10, False, 0, "foster", [], []),
    ("nhe", 10, False, 0, "foster", [], []),
    ("dac_biet_nang", 30, True, 0, "household", [1.5, 1.0], ["person", "carer"]),
    ("dac_biet_nang", 30, False, 2, "foster", [2.0, 1.5], ["person", "carer"]),
]
CARE_DATES = [("national", date(2022, 1, 1), 360_000), ("national", TODAY, 500_000)]
CARE_DATES += [("ha-noi", date(2022, 1, 1), 440_000), ("ha-noi", TODAY, 650_000)]


@pytest.mark.parametrize(("region", "day", "rate"), CARE_DATES)
@pytest.mark.parametrize(
    ("level", "age", "pregnant", "children", "carer", "coefficients", "recipients"), CARE_CASES
)
def test_care_support_table(
    rules: Rules,
    region: str,
    day: date,
    rate: int,
    level: str,
    age: int,
    pregnant: bool,
    children: int,
    carer: str,
    coefficients: list[float],
    recipients: list[str],
) -> None:
    profile = _profile(
        level,
        age,
        region,
        day,
        pregnant=pregnant,
        children_under_36_months=children,
        carer=carer,
    )
    result = evaluate(rules, profile)
    care = [item for item in result.items if item.kind == "care"]
    assert [item.coefficient for item in care] == coefficients
    assert [item.recipient for item in care] == recipients
    assert result.care_support == sum(round(c * rate) for c in coefficients)
    assert result.total_monthly == result.monthly_allowance + result.care_support
    paid_to_carer = any(item.recipient == "carer" for item in care)
    assert paid_to_carer == any("trả cho hộ gia đình" in note for note in result.notes)


@pytest.mark.parametrize(
    ("profile", "allowance", "care", "total"),
    [
        (dict(level="dac_biet_nang", age=30, carer="household"), 1_300_000, 650_000, 1_950_000),
        (dict(level="dac_biet_nang", age=9, carer="foster"), 1_625_000, 1_625_000, 3_250_000),
        (
            dict(level="nang", age=25, pregnant=True, children_under_36_months=1),
            975_000,
            1_300_000,
            2_275_000,
        ),
        (dict(level="nhe", age=40, pregnant=True), 0, 0, 0),
    ],
)
def test_totals_in_ha_noi_today(
    rules: Rules, profile: dict, allowance: int, care: int, total: int
) -> None:
    result = evaluate(rules, parse_profile(profile, "ha-noi", TODAY))
    assert (result.monthly_allowance, result.care_support, result.total_monthly) == (
        allowance,
        care,
        total,
    )


def test_nhe_gets_no_allowance_and_a_note(rules: Rules) -> None:
    result = evaluate(rules, _profile("nhe", 40))
    assert result.items == ()
    assert any("nhóm khác" in note for note in result.notes)
    assert "xe-buyt-mien-phi-ha-noi" in result.other_entitlements
    assert any("xe buýt" in note for note in result.notes)
    assert any("trợ giúp pháp lý" in note for note in result.notes)
    assert "bao-hiem-y-te" not in result.other_entitlements


@pytest.mark.parametrize(
    ("level", "age", "region", "present", "absent"),
    [
        (
            "nang",
            30,
            "ha-noi",
            {
                "bao-hiem-y-te",
                "ho-tro-mai-tang",
                "viec-lam",
                "hoc-nghe",
                "giam-gia-ve-giao-thong",
                "giam-gia-van-hoa-the-thao",
                "xe-buyt-mien-phi-ha-noi",
                "tro-giup-phap-ly",
            },
            set(),
        ),
        ("nang", 30, "national", {"bao-hiem-y-te"}, {"xe-buyt-mien-phi-ha-noi"}),
        (
            "dac_biet_nang",
            8,
            "ha-noi",
            {"mien-giam-hoc-phi", "hoc-bong-do-dung-hoc-tap"},
            {"viec-lam", "hoc-nghe"},
        ),
        (
            "dac_biet_nang",
            70,
            "ha-noi",
            {"kham-chua-benh-phuc-hoi-chuc-nang"},
            {"viec-lam", "mien-giam-hoc-phi"},
        ),
        (
            "nhe",
            30,
            "national",
            {"tro-giup-phap-ly", "kham-chua-benh-phuc-hoi-chuc-nang"},
            {"bao-hiem-y-te", "ho-tro-mai-tang", "giam-gia-ve-giao-thong"},
        ),
    ],
)
def test_other_entitlements(
    rules: Rules, level: str, age: int, region: str, present: set, absent: set
) -> None:
    others = set(evaluate(rules, _profile(level, age, region)).other_entitlements)
    assert present <= others
    assert not absent & others


def test_notes_for_uncertain_rates(rules: Rules) -> None:
    today_notes = evaluate(rules, _profile("nang", 30, "ha-noi")).notes
    assert any("63/2025" in note for note in today_notes)
    assert not any("63/2025" in n for n in evaluate(rules, _profile("nang", 30, "national")).notes)
    old = evaluate(rules, _profile("nang", 30, "ha-noi", date(2016, 5, 1))).notes
    assert any("chưa được đối chiếu" in note for note in old)


def test_result_json_has_exactly_the_issue_keys(rules: Rules) -> None:
    profile = parse_profile(
        {"level": "dac_biet_nang", "age": 70, "carer": "household"}, "ha-noi", TODAY
    )
    data = json.loads(json.dumps(result_to_json(evaluate(rules, profile)), ensure_ascii=False))
    assert list(data) == [
        "base_rate",
        "monthly_allowance",
        "care_support",
        "total_monthly",
        "items",
        "other_entitlements",
        "notes",
    ]
    assert [set(item) for item in data["items"]] == [
        {"name", "coefficient", "amount", "basis", "entry"}
    ] * 2
    assert data["total_monthly"] == 1_625_000 + 650_000
    assert all(isinstance(data[key], int) for key in ("base_rate", "total_monthly"))
    assert all(isinstance(note, str) for note in data["notes"])


def test_parse_profile_defaults() -> None:
    profile = parse_profile({"level": "nang", "age": 40}, "ha-noi", TODAY)
    assert profile == Profile(level="nang", age=40, region="ha-noi", date=TODAY)
    dated = parse_profile({"level": "nhe", "age": 0, "date": "2022-01-01"}, "national", TODAY)
    assert (dated.region, dated.date) == ("national", date(2022, 1, 1))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"level": "rat_nang", "age": 40}, "unknown level"),
        ({"level": "nang", "age": 40, "region": "hcm"}, "unknown region"),
        ({"level": "nang", "age": 40, "carer": "friend"}, "unknown carer"),
        ({"level": "nang", "age": 40, "name": "An"}, "unknown field 'name'"),
        ({"level": "nang", "age": -1}, "cannot be negative"),
        ({"level": "nang", "age": 40.5}, "whole number"),
        ({"level": "nang", "age": "40"}, "whole number"),
        ({"level": "nang", "age": True}, "whole number"),
        ({"level": "nang", "age": 400}, "too large"),
        ({"level": "nang"}, "missing field 'age'"),
        ({"age": 40}, "missing field 'level'"),
        ({"level": "nang", "age": 40, "date": "2024-02-30"}, "not a real date"),
        ({"level": "nang", "age": 40, "date": "01/07/2024"}, "YYYY-MM-DD"),
        ({"level": "nang", "age": 40, "date": 20240701}, "YYYY-MM-DD"),
        ({"level": "nang", "age": 40, "pregnant": "yes"}, "true or false"),
        ({"level": "nang", "age": 40, "children_under_36_months": -2}, "cannot be negative"),
        ([1, 2], "JSON object"),
    ],
)
def test_invalid_profiles(data: object, expected: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(data, "ha-noi", TODAY)
    assert expected in caught.value.message
    assert "\n" not in caught.value.message


def test_real_rules_file_keeps_the_lead_keys(rules: Rules) -> None:
    keys = {item.key for item in rules.all_items()}
    assert keys == {
        "dac_biet_nang",
        "dac_biet_nang_tre_em_nguoi_cao_tuoi",
        "nang",
        "nang_tre_em_nguoi_cao_tuoi",
        "mang_thai_hoac_nuoi_1_con",
        "mang_thai_va_nuoi_con",
        "ho_gia_dinh_cham_soc",
        "nhan_cham_soc",
        "nhan_cham_soc_tre_em",
        "mai_tang",
    }
    assert set(rules.base_rates) == {"national", "ha-noi"}
    assert (rules.child_under, rules.elderly_from) == (16, 60)


# ---- validation of broken rules files ------------------------------------------------------

VALID = """\
base_rates:
  national:
    - from: 2021-07-01
      amount: 360000
      basis: "NĐ 20/2021"
    - from: 2024-07-01
      amount: 500000
      basis: "NĐ 76/2024"
age_groups:
  child: {under: 16}
  elderly: {from: 60}
monthly_allowance:
  rule: highest_only
  basis: "NĐ 20/2021 Điều 6"
  none_note: nhe
  items:
    - key: nang
      name: "Trợ cấp"
      coefficient: 1.5
      when: {level: [nang]}
      basis: "NĐ 20/2021"
      entry: tro-cap-hang-thang
care_support:
  basis: "NĐ 20/2021 Điều 20"
  groups: []
one_off: []
other_entitlements:
  - entry: bao-hiem-y-te
    name: "Thẻ BHYT"
    basis: "Luật BHYT"
links:
  apply: ho-so-tro-cap-hang-thang
  assess_level: thu-tuc-xac-dinh-muc-do
notes:
  nhe: "Người khuyết tật nhẹ không được trợ cấp."
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path, display="rules.yaml")


def _line(text: str, fragment: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(fragment)


def test_minimal_rules_are_valid(tmp_path: Path) -> None:
    rules, problems = _load(tmp_path, VALID)
    assert problems == []
    assert rules is not None and base_rate(rules, "ha-noi", TODAY) == 500_000


@pytest.mark.parametrize(
    ("old", "new", "fragment", "message"),
    [
        ("from: 2024-07-01", "from: 2024-02-30", "2024-02-30", "real date"),
        ("from: 2024-07-01", 'from: "2024-13-01"', "2024-13-01", "real date"),
        ("from: 2024-07-01", "from: 2020-01-01", "2020-01-01", "dates must go up"),
        ("amount: 500000", "amount: -500000", "-500000", "positive whole number"),
        ("amount: 500000", "amount: 500000.5", "500000.5", "positive whole number"),
        ("amount: 500000", 'amount: "500000"', '"500000"', "positive whole number"),
        ("coefficient: 1.5", "coefficient: -1.5", "-1.5", "positive number"),
        ("coefficient: 1.5", "coefficient: 0", "coefficient: 0", "positive number"),
        ("coefficient: 1.5", "coefficient: abc", "abc", "positive number"),
        ("when: {level: [nang]}", "when: {level: [rat_nang]}", "rat_nang", "unknown level"),
        ("when: {level: [nang]}", "when: {colour: [nang]}", "colour", "unknown condition field"),
        ("when: {level: [nang]}", "when: {level: nang}", "when:", "non-empty list"),
        (
            '      basis: "NĐ 20/2021"\n      entry',
            '      basis: "NĐ 20/2021"\n      extra: 1\n      entry',
            "extra: 1",
            "unknown key 'extra'",
        ),
        ("none_note: nhe", "none_note: khong_co", "khong_co", "unknown note"),
        ("rule: highest_only", "rule: sum", "rule: sum", "highest_only"),
        (
            "  national:",
            "  hcm:\n    - {from: 2020-01-01, amount: 1, basis: x}\n  national:",
            "hcm",
            "unknown region",
        ),
        (
            '      basis: "NĐ 76/2024"',
            '      basis: "NĐ 76/2024"\n      uncertain: true',
            "- from: 2024-07-01",
            "uncertain rate needs a 'note'",
        ),
        (
            "  child: {under: 16}",
            "  child: {under: 16}\n  child: {under: 15}",
            "under: 15",
            "appears twice",
        ),
        ("entry: bao-hiem-y-te", "entry: Bao Hiem", "Bao Hiem", "not a valid FAQ entry id"),
    ],
)
def test_broken_rules_report_the_line(
    tmp_path: Path, old: str, new: str, fragment: str, message: str
) -> None:
    assert old in VALID
    text = VALID.replace(old, new, 1)
    rules, problems = _load(tmp_path, text)
    assert rules is None
    assert any(message in p.message for p in problems), problems
    matching = [p for p in problems if message in p.message]
    assert matching[0].line == _line(text, fragment)
    assert matching[0].path == "rules.yaml"
    assert str(matching[0]).startswith(f"rules.yaml:{matching[0].line}: ")


def test_duplicate_item_key(tmp_path: Path) -> None:
    item = VALID[VALID.index("    - key: nang") : VALID.index("care_support:")]
    text = VALID.replace(item, item + item)
    rules, problems = _load(tmp_path, text)
    assert rules is None
    assert [(p.line, p.message) for p in problems] == [
        (
            _line(text, "- key: nang", 2),
            f"duplicate key 'nang' (first on line {_line(text, '- key: nang')})",
        )
    ]


def test_missing_section_and_not_yaml(tmp_path: Path) -> None:
    text = VALID.replace("one_off: []\n", "")
    _, problems = _load(tmp_path, text)
    assert any(p.message == "missing key 'one_off'" and p.line == 1 for p in problems)
    _, problems = _load(tmp_path, "base_rates: [\n")
    assert problems and "YAML syntax error" in problems[0].message


def test_unknown_entry_ids_with_lines(tmp_path: Path) -> None:
    rules, problems = _load(tmp_path, VALID)
    assert rules is not None and problems == []
    known = {"tro-cap-hang-thang", "ho-so-tro-cap-hang-thang", "thu-tuc-xac-dinh-muc-do"}
    found = check_entry_ids(rules, known, "rules.yaml")
    assert [(p.path, p.line, p.entry_id, p.message) for p in found] == [
        (
            "rules.yaml",
            _line(VALID, "entry: bao-hiem-y-te"),
            "other_entitlements",
            "unknown FAQ entry id 'bao-hiem-y-te'",
        )
    ]
    assert check_entry_ids(rules, known | {"bao-hiem-y-te"}, "rules.yaml") == []


def test_real_rules_file_entry_ids(rules: Rules) -> None:
    ids = {ref.entry for ref in rules.entry_refs}
    assert {
        "tro-cap-hang-thang",
        "ho-tro-mai-tang",
        "bao-hiem-y-te",
        "giam-gia-ve-giao-thong",
        "giam-gia-van-hoa-the-thao",
        "xe-buyt-mien-phi-ha-noi",
        "tro-giup-phap-ly",
        "mien-giam-hoc-phi",
        "kham-chua-benh-phuc-hoi-chuc-nang",
        "hoc-bong-do-dung-hoc-tap",
        "viec-lam",
        "hoc-nghe",
        "ho-so-tro-cap-hang-thang",
        "thu-tuc-xac-dinh-muc-do",
    } <= ids
    assert check_entry_ids(rules, ids, RULES_FILE) == []
