"""Small, formatting-preserving edits of FAQ YAML files, and writing entries as YAML.

Staff files carry comments, blank lines and a layout people chose; re-dumping a whole file
would lose them. `add_question` appends one line under an entry's `questions:` (block or flow
list) and leaves every other byte alone; `replace_entries` swaps only the text blocks of the
entries that changed; `dump_entry` writes an entry in the layout the project's files use
(block lists, `|` blocks for answers). Every edit is checked by parsing the result again: the
data must be exactly what was intended, or the edit is refused (`EditError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import yaml

from bot.core.yamlsource import LineDict, LineList, YamlSyntaxError, load_yaml_text

FIELD_ORDER = (
    "id",
    "category",
    "title",
    "questions",
    "keywords",
    "answer",
    "voice",
    "sources",
    "reviewed",
    "related",
)


class EditError(Exception):
    """The edit could not be made safely; the message is Vietnamese, for staff."""


def plain(value: Any) -> Any:
    """Comparable form: plain dicts and lists, strings stripped, dates as ISO text."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float):
        return str(value)  # the loader reads list items as text: 5 and "5" are the same
    return value


def scalar(text: str, flow: bool = False) -> str:
    """`text` as a one-line YAML scalar: plain when that reads back identical, else quoted."""
    if text == text.strip() and "\n" not in text and " #" not in text and text:
        probe = f"[{text}]" if flow else f"- {text}"
        try:
            if load_yaml_text(probe, "probe") == [text]:
                return text
        except YamlSyntaxError:
            pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _parse(text: str) -> LineList:
    try:
        data = load_yaml_text(text, "tệp")
    except YamlSyntaxError as exc:
        raise EditError(f"Tệp đang có lỗi cú pháp YAML (dòng {exc.line}).") from exc
    if not isinstance(data, LineList):
        raise EditError("Tệp không phải danh sách các mục (- id: ...).")
    return data


def _find(data: LineList, entry_id: str) -> int:
    for i, item in enumerate(data):
        if isinstance(item, LineDict) and str(item.get("id", "")).strip() == entry_id:
            return i
    raise EditError(f"Không tìm thấy mục {entry_id} trong tệp.")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def add_question(text: str, entry_id: str, question: str) -> str:
    """`text` with `question` appended to the `questions:` list of `entry_id`."""
    question = " ".join(question.split())
    if not question:
        raise EditError("Câu hỏi trống.")
    data = _parse(text)
    index = _find(data, entry_id)
    item = data[index]
    questions = item.get("questions")
    if not isinstance(questions, LineList) or not questions:
        raise EditError(f"Mục {entry_id} chưa có danh sách questions để thêm vào.")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    key_line = item.line_of("questions")
    last = questions.line_of(len(questions) - 1)
    if last == key_line:  # flow list on the key's line: questions: [a, b]
        line = lines[key_line - 1]
        close = line.rfind("]")
        if close < 0:
            raise EditError("Không sửa tự động được danh sách questions viết trên nhiều dòng.")
        lines[key_line - 1] = f"{line[:close]}, {scalar(question, flow=True)}{line[close:]}"
    else:
        item_line = lines[last - 1]
        match = re.match(r"^(\s*-\s+)", item_line)
        if match is None:
            raise EditError("Không sửa tự động được danh sách questions của mục này.")
        dash = _indent(item_line)
        end = last  # index of the line after the last item, continuation lines included
        while (
            end < len(lines)
            and (not lines[end].strip() or _indent(lines[end]) > dash)
            and not lines[end].lstrip().startswith("#")
        ):
            end += 1
        while end > last and not lines[end - 1].strip():
            end -= 1
        lines.insert(end, f"{match.group(1)}{scalar(question)}\n")
    new_text = "".join(lines)
    _check(data, index, new_text, lambda old: {**old, "questions": [*old["questions"], question]})
    return new_text


def _check(before: LineList, index: int, new_text: str, expect: Any) -> None:
    after = _parse(new_text)
    wanted = plain(before)
    wanted[index] = expect(wanted[index])
    if plain(after) != wanted:
        raise EditError("Không sửa tự động được tệp này; hãy sửa tay hoặc gửi tệp đã sửa.")


# -- writing entries ----------------------------------------------------------------------------


def _block(text: str, indent: str) -> str | None:
    """A `|` literal block for multi-line text, or None when one cannot hold it exactly."""
    body = text.strip("\n")
    if not body or body[0] in " \t" or "\t" in body or "\r" in body:
        return None
    lines = [f"{indent}{line}" if line else "" for line in body.split("\n")]
    return "|\n" + "\n".join(lines)


def _flow_ok(values: Sequence[str]) -> bool:
    return all(scalar(v, flow=True) == v and "," not in v for v in values)


def dump_entry(entry: Mapping[str, Any]) -> str:
    """One entry as `- id: ...` YAML text (ending with a newline), checked by re-parsing."""
    text = _emit(entry)
    try:
        parsed = load_yaml_text(text, "entry")  # the bot's own loader: it reads what we check
    except YamlSyntaxError:
        parsed = None
    if plain(parsed) != [plain(entry)]:
        text = yaml.safe_dump([dict(entry)], allow_unicode=True, sort_keys=False, width=4096)
    return text


def _emit(entry: Mapping[str, Any]) -> str:
    out: list[str] = []
    keys = [k for k in FIELD_ORDER if k in entry] + [k for k in entry if k not in FIELD_ORDER]
    for n, key in enumerate(keys):
        value = entry[key]
        lead = "- " if n == 0 else "  "
        if isinstance(value, date):
            out.append(f"{lead}{key}: {value.isoformat()}")
        elif isinstance(value, str):
            block = _block(value, "    ") if "\n" in value.strip() else None
            out.append(f"{lead}{key}: {block if block is not None else scalar(value.strip())}")
        elif isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            if key in ("keywords", "related") and _flow_ok(value):
                out.append(f"{lead}{key}: [{', '.join(value)}]")
            else:
                out.append(f"{lead}{key}:")
                out.extend(f"    - {scalar(v)}" for v in value)
        elif isinstance(value, list | tuple) and all(isinstance(v, Mapping) for v in value):
            out.append(f"{lead}{key}:")
            for source in value:
                for i, (k, v) in enumerate(source.items()):
                    out.append(f"    {'- ' if i == 0 else '  '}{k}: {scalar(str(v).strip())}")
        else:
            out.append(f"{lead}{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(out) + "\n"


def header_of(text: str) -> str:
    """The comment lines (and blank lines) at the top of a file, kept when it is rewritten."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#") or not line.strip():
            lines.append(line)
        else:
            break
    return "".join(lines)


def dump_file(entries: Sequence[Mapping[str, Any]], header: str = "") -> str:
    body = "\n".join(dump_entry(e) for e in entries)
    head = header.rstrip("\n") + "\n\n" if header.strip() else ""
    return head + body


def replace_entries(text: str, new_entries: Mapping[str, Mapping[str, Any]]) -> str:
    """Replace the text blocks of some entries (by id), keeping everything else as it is."""
    data = _parse(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    starts = [data.line_of(i) - 1 for i in range(len(data))]
    spans = []
    for i, item in enumerate(data):
        eid = str(item.get("id", "")).strip() if isinstance(item, LineDict) else ""
        if eid not in new_entries:
            continue
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        while end > starts[i] + 1 and (
            not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
        ):
            end -= 1  # blank lines and comments before the next entry stay where they are
        spans.append((starts[i], end, dump_entry(new_entries[eid])))
    for start, end, block in sorted(spans, reverse=True):
        lines[start:end] = [block]
    return "".join(lines)
