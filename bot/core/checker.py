"""The /check conversation: a few plain questions, then what the person is entitled to.

Owns the checker's dialogue as a pure, channel-independent state machine: `start()` gives the
first question, `handle()` takes the user's typed text or button payload and returns the next
state (None when finished or cancelled) and the replies. `CheckerState` is a small frozen value
that converts to and from a JSON-ready dict, so the caller can store it and resume after a
restart. Nothing the user answered survives the result: the state becomes None.

```mermaid
stateDiagram-v2
    [*] --> level: start()
    level --> [*]: "Chưa biết" (explain the assessment, link to the procedure)
    level --> age
    age --> family: the level can get pregnancy / young-child support
    age --> carer: family skipped, the level can get carer support
    age --> result: nothing else can matter (nhẹ)
    family --> carer: the level can get carer support (đặc biệt nặng)
    family --> result
    carer --> result
    result --> [*]
    note right of level: every step: "Quay lại" goes to the previous question, "Hủy" ends
```
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.entitlements import Profile, ProfileError, Rules, evaluate
from bot.core.messages import Button, Reply
from bot.core.placeholders import format_coef, format_date, format_money
from bot.core.text import fold_key

logger = logging.getLogger(__name__)

STEPS = ("level", "age", "family", "carer")
PREFIX = "chk:"
BACK = "chk:back"
CANCEL = "chk:cancel"
MAX_AGE = 130

_BACK_WORDS = {"quay lai", "tro lai", "lui lai", "back"}
_CANCEL_WORDS = {"huy", "huy bo", "thoat", "dung", "dung lai", "cancel", "stop"}
_NEGATIVE = re.compile(r"^-\s*\d")
_AGE_TYPED = re.compile(r"^(\d{1,3})\s*(tuoi)?$")
_FAMILY_VALUES = {
    "none": (False, 0),
    "pregnant": (True, 0),
    "one_child": (False, 1),
    "both": (False, 2),
}

_HINT = 'Bấm một nút hoặc gõ số. Gõ "quay lại" để sửa câu trước, "hủy" để dừng.'
_INVALID = "Xin lỗi, tôi chưa hiểu câu trả lời này."
_INTRO = (
    "Kiểm tra quyền lợi. Tôi sẽ hỏi vài câu ngắn, rồi cho biết số tiền và các quyền lợi "
    "người khuyết tật có thể được hưởng."
)
_CANCELLED = "Đã dừng kiểm tra quyền lợi. Các câu trả lời không được lưu. Gõ /check để làm lại."
_FIRST = "Đây là câu hỏi đầu tiên."
_WENT_BACK = "Quay lại câu trước."
_REMINDER = (
    "Số tiền cuối cùng do UBND xã, phường nơi người khuyết tật cư trú xét duyệt và xác nhận."
)
_NOT_KEPT = "Các câu trả lời của bạn không được lưu lại."
_UNKNOWN_LEVEL = (
    "Mức độ khuyết tật do Hội đồng xác định mức độ khuyết tật của UBND xã, phường đánh giá. "
    "Gia đình nộp đơn đề nghị tại UBND xã, phường nơi người đó cư trú. Hội đồng xem người đó "
    "tự làm các việc hằng ngày ra sao, rồi cấp Giấy xác nhận khuyết tật. Khi đã biết mức độ, "
    "hãy gõ /check để kiểm tra lại."
)
_LEVEL_WORDS = {"dac_biet_nang": "đặc biệt nặng", "nang": "nặng", "nhe": "nhẹ"}
_AGE_WORDS = {
    "child": "là trẻ em",
    "adult": "trong độ tuổi lao động",
    "elderly": "là người cao tuổi",
}
_REGION_WORDS = {"ha-noi": "Hà Nội", "national": "mức chung toàn quốc"}


@dataclass(frozen=True)
class _Option:
    value: str
    label: str
    explain: str = ""
    aliases: tuple[str, ...] = ()


_LEVEL_OPTIONS = (
    _Option(
        "dac_biet_nang",
        "Đặc biệt nặng",
        "không tự ăn, mặc, đi lại, vệ sinh được, cần người chăm sóc hoàn toàn",
        ("dac biet nang",),
    ),
    _Option("nang", "Nặng", "tự làm được một số việc hằng ngày, cần người giúp một phần"),
    _Option("nhe", "Nhẹ", "tự làm được hầu hết các việc hằng ngày"),
    _Option(
        "unknown",
        "Chưa biết / chưa được xác định",
        "",
        ("chua biet", "khong biet", "chua duoc xac dinh", "chua xac dinh"),
    ),
)
_FAMILY_OPTIONS = (
    _Option("none", "Không", aliases=("khong co",)),
    _Option("pregnant", "Đang mang thai", aliases=("mang thai", "co thai")),
    _Option("one_child", "Nuôi 1 con dưới 36 tháng", aliases=("nuoi 1 con", "1 con", "mot con")),
    _Option(
        "both",
        "Mang thai và nuôi con nhỏ, hoặc nuôi từ 2 con nhỏ",
        aliases=("2 con", "hai con", "mang thai va nuoi con"),
    ),
)
_CARER_OPTIONS = (
    _Option("household", "Gia đình tự chăm sóc", aliases=("gia dinh",)),
    _Option("foster", "Có người nhận nuôi dưỡng", aliases=("nhan nuoi", "nuoi duong")),
    _Option("none", "Không ai, tự lo", aliases=("khong ai", "tu lo")),
)
_STORED_VALUES = {
    "level": tuple(o.value for o in _LEVEL_OPTIONS if o.value != "unknown"),
    "family": tuple(o.value for o in _FAMILY_OPTIONS),
    "carer": tuple(o.value for o in _CARER_OPTIONS),
}
_QUESTIONS = {
    "level": "Người khuyết tật được xác định ở mức độ nào? Nếu đã có Giấy xác nhận khuyết tật, "
    "hãy chọn mức ghi trên giấy.",
    "age": "Người khuyết tật bao nhiêu tuổi? Gõ số tuổi, ví dụ: 45 tuổi. Hoặc chọn nhóm tuổi:",
    "family": "Người khuyết tật có đang mang thai, hoặc đang nuôi con dưới 36 tháng tuổi không?",
    "carer": "Ai đang chăm sóc người khuyết tật hằng ngày?",
}


@dataclass(frozen=True)
class CheckerState:
    """Where the conversation is: the current `step`, the answers so far, the steps behind."""

    step: str = "level"
    answers: tuple[tuple[str, str], ...] = ()
    history: tuple[str, ...] = ()

    def answer(self, name: str) -> str | None:
        return dict(self.answers).get(name)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "answers": dict(self.answers), "history": list(self.history)}

    @classmethod
    def from_dict(cls, data: Any) -> CheckerState:
        """Rebuild a stored state; raise ValueError when it is not a checker state."""
        if not isinstance(data, dict):
            raise ValueError("checker state must be a mapping")
        step, answers, history = data.get("step"), data.get("answers", {}), data.get("history", [])
        if step not in STEPS:
            raise ValueError(f"unknown checker step {step!r}")
        if not isinstance(answers, dict) or not all(
            name in STEPS and isinstance(value, str) for name, value in answers.items()
        ):
            raise ValueError("checker answers must map step names to text")
        if not isinstance(history, list) or not all(name in STEPS for name in history):
            raise ValueError("checker history must list step names")
        if set(history) != set(answers) or step in answers:
            raise ValueError("checker answers do not match the steps behind")
        for name, value in answers.items():
            if value not in _STORED_VALUES.get(name, ()) and not (
                name == "age" and value.isdigit()
            ):
                raise ValueError(f"unknown checker answer {value!r} for {name}")
        return cls(step, tuple(answers.items()), tuple(history))


def start() -> tuple[CheckerState, Reply]:
    """The first question."""
    state = CheckerState()
    return state, _question(state, None, _INTRO)


def handle(
    state: CheckerState, text_or_payload: str, rules: Rules, today: date, default_region: str
) -> tuple[CheckerState | None, list[Reply]]:
    """One user turn: typed text or a `chk:` payload. None as the state = finished."""
    raw = text_or_payload.strip()
    folded = fold_key(raw)
    if raw == CANCEL or folded in _CANCEL_WORDS:
        return None, [Reply(_CANCELLED, speak=_CANCELLED)]
    if raw == BACK or folded in _BACK_WORDS:
        return _back(state, rules)
    value, echo = _read_answer(state.step, raw, rules)
    if value is None:
        return state, [_question(state, rules, _invalid_hint(state.step, rules))]
    if state.step == "level" and value == "unknown":
        return None, [_unknown_level(rules)]
    answers = dict(state.answers)
    answers[state.step] = value
    history = state.history + (state.step,)
    following = _next_step(state.step, answers, rules, default_region)
    if following is None:
        return None, [_result(answers, rules, today, default_region)]
    new_state = CheckerState(following, tuple(answers.items()), history)
    return new_state, [_question(new_state, rules, f"Đã ghi: {echo}.")]


def _back(state: CheckerState, rules: Rules) -> tuple[CheckerState, list[Reply]]:
    if not state.history:
        return state, [_question(state, rules, _FIRST)]
    previous = state.history[-1]
    dropped = set(STEPS[STEPS.index(previous) :])
    answers = tuple((name, value) for name, value in state.answers if name not in dropped)
    new_state = CheckerState(previous, answers, state.history[:-1])
    return new_state, [_question(new_state, rules, _WENT_BACK)]


def _options(step: str, rules: Rules | None) -> tuple[_Option, ...]:
    if step == "level":
        return _LEVEL_OPTIONS
    if step == "family":
        return _FAMILY_OPTIONS
    if step == "carer":
        return _CARER_OPTIONS
    child, elderly = (rules.child_under, rules.elderly_from) if rules else (16, 60)
    return (
        _Option("child", f"Dưới {child} tuổi", aliases=("tre em", f"duoi {child}")),
        _Option("adult", f"Từ {child} đến {elderly - 1} tuổi", aliases=("nguoi lon",)),
        _Option("elderly", f"Từ {elderly} tuổi trở lên", aliases=("nguoi cao tuoi",)),
    )


def _read_answer(step: str, raw: str, rules: Rules) -> tuple[str | None, str]:
    """(stored value, words to echo) or (None, "") when the input is not an answer."""
    options = _options(step, rules)
    if raw.startswith(PREFIX):
        parts = raw.split(":")
        chosen = next(
            (o for o in options if len(parts) == 3 and parts[1:] == [step, o.value]), None
        )
        return _stored(step, chosen, rules)
    if _NEGATIVE.match(raw):  # folding would drop the minus sign
        return None, ""
    folded = fold_key(raw)
    if step == "age":
        typed = _AGE_TYPED.match(folded)
        if typed and (typed.group(2) or int(typed.group(1)) > len(options)):
            years = int(typed.group(1))
            return (str(years), f"{years} tuổi") if years <= MAX_AGE else (None, "")
    if folded.isdigit() and 1 <= int(folded) <= len(options):
        return _stored(step, options[int(folded) - 1], rules)
    for option in options:
        if folded == fold_key(option.label) or folded in option.aliases:
            return _stored(step, option, rules)
    return None, ""


def _stored(step: str, option: _Option | None, rules: Rules) -> tuple[str | None, str]:
    if option is None:
        return None, ""
    if step != "age":
        return option.value, option.label
    years = {
        "child": rules.child_under - 1,
        "adult": rules.child_under,
        "elderly": rules.elderly_from,
    }[option.value]
    return str(max(years, 0)), option.label


def _next_step(after: str, answers: dict[str, str], rules: Rules, region: str) -> str | None:
    facts = {"level": answers["level"], "region": region}
    if "age" in answers:
        facts["age_group"] = rules.age_group(int(answers["age"]))
    for step in STEPS[STEPS.index(after) + 1 :]:
        if step == "age" or _can_matter(step, facts, rules):
            return step
    return None


def _can_matter(field: str, facts: dict[str, str], rules: Rules) -> bool:
    """True when some care-support item depends on `field` and could apply to these facts."""
    return any(
        item.when.uses(field) and item.when.could_match(facts)
        for group in rules.care_groups
        for item in group.items
    )


def _question(state: CheckerState, rules: Rules | None, prefix: str = "") -> Reply:
    options = _options(state.step, rules)
    lines = [prefix] if prefix else []
    lines.append(f"Câu {len(state.history) + 1}. {_QUESTIONS[state.step]}")
    for number, option in enumerate(options, start=1):
        explain = f": {option.explain}." if option.explain else ""
        lines.append(f"{number}. {option.label}{explain}")
    lines.append(_HINT)
    buttons = tuple(
        Button(option.label, f"{PREFIX}{state.step}:{option.value}", number)
        for number, option in enumerate(options, start=1)
    ) + (Button("Quay lại", BACK), Button("Hủy", CANCEL))
    text = "\n".join(lines)
    return Reply(text, buttons=buttons, speak=text)


def _invalid_hint(step: str, rules: Rules) -> str:
    count = len(_options(step, rules))
    extra = ", hoặc gõ số tuổi, ví dụ: 45 tuổi" if step == "age" else ""
    return f"{_INVALID} Hãy bấm một nút hoặc gõ số từ 1 đến {count}{extra}."


def _unknown_level(rules: Rules) -> Reply:
    entry = rules.links.get("assess_level", "")
    label = "Thủ tục xác định mức độ khuyết tật"
    buttons = (Button(label, f"faq:{entry}", 1),) if entry else ()
    text = f"{_UNKNOWN_LEVEL}\n1. {label}" if entry else _UNKNOWN_LEVEL
    return Reply(text, buttons=buttons, speak=_UNKNOWN_LEVEL)


def _result(answers: dict[str, str], rules: Rules, today: date, region: str) -> Reply:
    pregnant, children = _FAMILY_VALUES[answers.get("family", "none")]
    profile = Profile(
        level=answers["level"],
        age=int(answers["age"]),
        pregnant=pregnant,
        children_under_36_months=children,
        carer=answers.get("carer", "none"),
        region=region,
        date=today,
    )
    try:
        result = evaluate(rules, profile)
    except ProfileError as exc:
        logger.warning("checker could not evaluate: %s", exc.message)
        text = "Xin lỗi, tôi chưa tính được quyền lợi lúc này. " + _REMINDER
        return Reply(text, speak=text)

    said: list[str] = [
        f"Kết quả ước tính cho người khuyết tật {_LEVEL_WORDS[profile.level]}, "
        f"{_AGE_WORDS[rules.age_group(profile.age)]}, ở {_REGION_WORDS.get(region, region)}, "
        f"tính theo ngày {format_date(today)}.",
        f"Mức chuẩn trợ giúp xã hội: {format_money(result.base_rate)}.",
    ]
    for item in result.items:
        sentence = (
            f"Mỗi tháng: {format_money(item.amount)} {_lower_first(item.name)}, "
            f"hệ số {format_coef(item.coefficient)}."
        )
        if item.kind == "care":
            who = "chính người khuyết tật" if item.recipient == "person" else "người chăm sóc"
            sentence += f" Khoản này trả cho {who}."
        said.append(sentence)
    if not result.items:
        said.append("Không có khoản tiền hằng tháng theo mức độ khuyết tật.")
    said.append(f"Tổng mỗi tháng: {format_money(result.total_monthly)}.")
    shown = said + ["Căn cứ: " + "; ".join(result.bases) + "."]  # not read aloud: too long

    names = [_other_name(rules, entry) for entry in result.other_entitlements]
    if names:
        shown.append("Quyền lợi khác, chọn số để xem chi tiết:")
        shown.extend(f"{number}. {name}" for number, name in enumerate(names, start=1))
        said.append("Quyền lợi khác: " + "; ".join(_lower_first(n) for n in names) + ".")
    buttons = [
        Button(name, f"faq:{entry}", number)
        for number, (entry, name) in enumerate(
            zip(result.other_entitlements, names, strict=True), start=1
        )
    ]
    apply_entry = rules.links.get("apply", "")
    if apply_entry:
        buttons.append(Button("Cách làm hồ sơ hưởng trợ cấp", f"faq:{apply_entry}", len(names) + 1))
        shown.append(f"{len(names) + 1}. Cách làm hồ sơ hưởng trợ cấp")
        said.append("Cách làm hồ sơ: xem mục Cách làm hồ sơ hưởng trợ cấp.")
    if result.notes:
        shown.append("Lưu ý:")
        shown.extend(f"- {note}" for note in result.notes)
        said.extend(result.notes)
    for tail in (_REMINDER, _NOT_KEPT):
        shown.append(tail)
        said.append(tail)
    return Reply("\n".join(shown), buttons=tuple(buttons), speak=" ".join(said))


def _other_name(rules: Rules, entry: str) -> str:
    other = rules.other_named(entry)
    return other.name if other is not None else entry


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
