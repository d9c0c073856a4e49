"""The /check conversation as exchanges: the user answers, the bot asks the next question or
gives the result. Also: the state survives a JSON round trip, and a new base rate in the rules
file changes both FAQ placeholders and checker results with no code change.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.core import checker
from bot.core.checker import CheckerState
from bot.core.entitlements import Rules, load_rules
from bot.core.messages import Reply
from bot.core.placeholders import render
from tests.conftest import RULES_FILE, TODAY


class Chat:
    """A user talking to the checker; remembers every reply and counts the answers given."""

    def __init__(self, rules: Rules, region: str = "ha-noi", today: date = TODAY) -> None:
        self.rules, self.region, self.today = rules, region, today
        self.state, first = checker.start()
        self.replies: list[Reply] = [first]
        self.answers = 0

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    def say(self, text: str) -> Reply:
        self.answers += 1
        self.state, replies = checker.handle(self.state, text, self.rules, self.today, self.region)
        assert len(replies) == 1
        self.replies.extend(replies)
        return replies[0]


def _assert_question(reply: Reply, step: str) -> None:
    numbered = [b for b in reply.buttons if b.number]
    assert [b.number for b in numbered] == list(range(1, len(numbered) + 1))
    for button in numbered:
        assert button.payload.startswith(f"chk:{step}:")
        assert f"{button.number}. {button.label}" in reply.text
    assert {b.payload for b in reply.buttons if not b.number} == {"chk:back", "chk:cancel"}
    assert {b.label for b in reply.buttons if not b.number} == {"Quay lại", "Hủy"}


def test_first_question_lists_levels_with_explanations() -> None:
    state, reply = checker.start()
    assert state == CheckerState(step="level")
    _assert_question(reply, "level")
    assert "1. Đặc biệt nặng: không tự ăn" in reply.text
    assert "4. Chưa biết / chưa được xác định" in reply.text
    assert [b.payload for b in reply.buttons][:3] == [
        "chk:level:dac_biet_nang",
        "chk:level:nang",
        "chk:level:nhe",
    ]


def test_full_conversation_with_buttons(rules: Rules) -> None:
    chat = Chat(rules)
    reply = chat.say("chk:level:dac_biet_nang")
    assert chat.state.step == "age" and reply.text.startswith("Đã ghi: Đặc biệt nặng.")
    _assert_question(reply, "age")
    _assert_question(chat.say("chk:age:elderly"), "family")
    _assert_question(chat.say("chk:family:none"), "carer")
    result = chat.say("chk:carer:household")
    assert chat.state is None
    assert chat.answers == 4 <= 6
    assert "Mỗi tháng: 1.625.000 đồng trợ cấp xã hội hằng tháng" in result.text
    assert "Mỗi tháng: 650.000 đồng hỗ trợ hộ gia đình trực tiếp chăm sóc" in result.text
    assert "Khoản này trả cho người chăm sóc." in result.text
    assert "Tổng mỗi tháng: 2.275.000 đồng." in result.text
    assert "Căn cứ: Nghị quyết 63/2025/NQ-HĐND" in result.text
    assert "UBND xã, phường" in result.text
    assert result.speak and "2.275.000 đồng" in result.speak
    payloads = [b.payload for b in result.buttons]
    assert payloads[-1] == "faq:ho-so-tro-cap-hang-thang"
    assert "faq:bao-hiem-y-te" in payloads and "faq:ho-tro-mai-tang" in payloads
    assert [b.number for b in result.buttons] == list(range(1, len(payloads) + 1))
    for button in result.buttons:
        assert f"{button.number}. {button.label}" in result.text


def test_typed_numbers_back_and_invalid_input(rules: Rules) -> None:
    chat = Chat(rules)
    chat.say("2")  # Nặng
    assert chat.state.answer("level") == "nang"
    reply = chat.say("bốn mươi")
    assert reply.text.startswith("Xin lỗi, tôi chưa hiểu")
    assert chat.state.step == "age"
    _assert_question(reply, "age")
    reply = chat.say("Quay Lại")
    assert chat.state == CheckerState(step="level")
    assert reply.text.startswith("Quay lại câu trước.")
    chat.say("3")  # Nhẹ
    reply = chat.say("45 tuổi")
    assert chat.state is None
    assert "Tổng mỗi tháng: 0 đồng." in reply.text
    assert "nhóm khác" in reply.text
    assert chat.answers == 5 <= 6


def test_nang_with_two_young_children_typed(rules: Rules) -> None:
    chat = Chat(rules, region="national")
    chat.say("nặng")
    chat.say("30")
    assert chat.state.step == "family"
    reply = chat.say("4")
    assert chat.state is None  # no carer question below đặc biệt nặng
    assert "Mỗi tháng: 750.000 đồng trợ cấp" in reply.text
    assert "Mỗi tháng: 1.000.000 đồng hỗ trợ người khuyết tật vừa mang thai" in reply.text
    assert "Khoản này trả cho chính người khuyết tật." in reply.text
    assert "Tổng mỗi tháng: 1.750.000 đồng." in reply.text
    assert "faq:xe-buyt-mien-phi-ha-noi" not in [b.payload for b in reply.buttons]


def test_age_step_numbers_and_years(rules: Rules) -> None:
    asked_age = CheckerState("age", (("level", "nang"),), ("level",))
    typed_answers = [
        ("1", "15"),
        ("2", "16"),
        ("3", "60"),
        ("4", "4"),
        ("2 tuổi", "2"),
        ("70", "70"),
        ("Từ 60 tuổi trở lên", "60"),
        ("tre em", "15"),
    ]
    for typed, stored in typed_answers:
        state, replies = checker.handle(asked_age, typed, rules, TODAY, "ha-noi")
        assert state is not None and state.step == "family", typed
        assert state.answer("age") == stored, typed
        assert replies[0].speak
    for wrong in ("200 tuổi", "chk:age:teen", "chk:x", "tuổi", "-5"):
        state, replies = checker.handle(asked_age, wrong, rules, TODAY, "ha-noi")
        assert state == asked_age, wrong
        assert replies[0].text.startswith("Xin lỗi"), wrong


@pytest.mark.parametrize("word", ["hủy", "Huỷ", "HUY", "thoát", "thoat", "chk:cancel"])
def test_cancel_at_any_step(rules: Rules, word: str) -> None:
    for steps in ([], ["1"], ["1", "3"], ["1", "3", "1"]):
        chat = Chat(rules)
        for answer in steps:
            chat.say(answer)
        reply = chat.say(word)
        assert chat.state is None
        assert reply.text.startswith("Đã dừng kiểm tra quyền lợi")
        assert reply.buttons == ()


def test_back_at_the_first_question_and_back_twice(rules: Rules) -> None:
    chat = Chat(rules)
    reply = chat.say("quay lai")
    assert chat.state == CheckerState(step="level")
    assert reply.text.startswith("Đây là câu hỏi đầu tiên.")
    chat.say("1")
    chat.say("3")
    chat.say("1")
    assert chat.state.step == "carer"
    chat.say("chk:back")
    chat.say("chk:back")
    assert chat.state.step == "age"
    assert chat.state.answers == (("level", "dac_biet_nang"),)
    assert "Câu 2." in chat.last.text
    chat.say("1")  # now a child: the answers after the change are asked again
    chat.say("1")
    result = chat.say("2")  # foster carer for a child
    assert chat.state is None
    assert "Mỗi tháng: 1.625.000 đồng hỗ trợ người nhận chăm sóc, nuôi dưỡng trẻ em" in result.text


def test_stale_button_from_another_step_is_asked_again(rules: Rules) -> None:
    chat = Chat(rules)
    chat.say("chk:level:nang")
    reply = chat.say("chk:level:nhe")
    assert chat.state.step == "age" and chat.state.answer("level") == "nang"
    assert reply.text.startswith("Xin lỗi")


def test_unknown_level_explains_and_links(rules: Rules) -> None:
    chat = Chat(rules)
    reply = chat.say("chưa biết")
    assert chat.state is None
    assert "Hội đồng xác định mức độ khuyết tật" in reply.text
    assert [b.payload for b in reply.buttons] == ["faq:thu-tuc-xac-dinh-muc-do"]
    assert reply.speak


def test_every_path_reaches_a_result_within_six_answers(rules: Rules) -> None:
    """Walk every combination of buttons: each ends in a result or an explanation."""
    pending = [(*checker.start(), 0)]
    finished = 0
    longest = 0
    while pending:
        state, reply, depth = pending.pop()
        for button in reply.buttons:
            if not button.number:
                continue
            new_state, replies = checker.handle(state, button.payload, rules, TODAY, "ha-noi")
            if new_state is None:
                finished += 1
                longest = max(longest, depth + 1)
                assert replies[0].speak
                assert replies[0].buttons
            else:
                pending.append((new_state, replies[0], depth + 1))
    assert longest <= 6
    assert longest == 4
    # 1 unknown + nhẹ 3 bands + nặng 3 x 4 + đặc biệt nặng 3 x 4 x 3
    assert finished == 1 + 3 + 12 + 36


def test_state_survives_a_restart(rules: Rules) -> None:
    chat = Chat(rules)
    chat.say("1")
    chat.say("25 tuổi")
    stored = json.dumps(chat.state.to_dict(), ensure_ascii=False)
    restored = CheckerState.from_dict(json.loads(stored))
    assert restored == chat.state
    state, _ = checker.handle(restored, "3", rules, TODAY, "ha-noi")  # one child
    state, replies = checker.handle(state, "3", rules, TODAY, "ha-noi")  # nobody
    assert state is None
    assert "Tổng mỗi tháng: 2.275.000 đồng." in replies[0].text  # 1.300.000 + 975.000


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"step": "result"},
        {"step": "age", "answers": {"name": "An"}},
        {"step": "age", "answers": {"level": 1}},
        {"step": "age", "history": ["start"]},
    ],
)
def test_bad_stored_state_is_rejected(data: object) -> None:
    with pytest.raises(ValueError):
        CheckerState.from_dict(data)


def test_new_base_rate_changes_placeholders_and_checker(tmp_path: Path) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert text.count("amount: 650000") == 1
    copy = tmp_path / "entitlements.yaml"
    copy.write_text(text.replace("amount: 650000", "amount: 700000"), encoding="utf-8")
    changed, problems = load_rules(copy)
    assert problems == [] and changed is not None
    original, _ = load_rules(RULES_FILE)
    assert original is not None
    answer = "Mức chuẩn {{rate:ha-noi}}; đặc biệt nặng {{amount:dac_biet_nang}}."
    assert (
        render(answer, original, TODAY) == "Mức chuẩn 650.000 đồng; đặc biệt nặng 1.300.000 đồng."
    )
    assert render(answer, changed, TODAY) == "Mức chuẩn 700.000 đồng; đặc biệt nặng 1.400.000 đồng."

    results = []
    for rules in (original, changed):
        chat = Chat(rules)
        for answer_text in ("1", "2", "1", "3"):
            chat.say(answer_text)
        results.append(chat.last.text)
    assert "Mỗi tháng: 1.300.000 đồng" in results[0]
    assert "Mỗi tháng: 1.400.000 đồng" in results[1]
    assert "Mức chuẩn trợ giúp xã hội: 700.000 đồng." in results[1]
