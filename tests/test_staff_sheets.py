"""Spreadsheets and YAML edits: export, edit a cell, import, same base but the edit.

The round trips run the real CLI in-process (`python run_bot.py export-sheet / import-sheet`)
on a copy of the real knowledge folder, and compare the loaded bases entry by entry.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.core.knowledge import load_knowledge
from bot.staff import sheets
from bot.staff.xlsx import read_xlsx, write_xlsx
from bot.staff.yamledit import EditError, add_question, dump_entry, replace_entries

BUS_ID = "xe-buyt-mien-phi-ha-noi"
NEW_ANSWER = "Người khuyết tật đi xe buýt miễn phí.\n\nMang theo giấy xác nhận khuyết tật."


@pytest.fixture
def folder(env, knowledge_copy, monkeypatch) -> Path:
    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(knowledge_copy))
    return knowledge_copy


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.yaml"))
    }


def fingerprints(folder: Path) -> dict[str, str]:
    result = load_knowledge(folder)
    assert result.ok, [str(p) for p in result.problems]
    assert result.kb is not None
    return {i: e.fingerprint() for i, e in result.kb.entries.items()}


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))


def edit_cell(rows: list[list[str]], entry_id: str, column: str, value: str) -> int:
    col = rows[0].index(column)
    for number, row in enumerate(rows[1:], 2):
        if row[0] == entry_id:
            row[col] = value
            return number
    raise AssertionError(entry_id)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_export_edit_a_cell_import_same_base_but_the_edit(folder, tmp_path, suffix):
    before = fingerprints(folder)
    files_before = digests(folder)
    sheet = tmp_path / f"kien-thuc{suffix}"
    assert main(["export-sheet", "-o", str(sheet)]) == 0
    rows = read_csv(sheet) if suffix == ".csv" else read_xlsx(sheet.read_bytes())
    assert rows[0] == list(sheets.COLUMNS) and len(rows) == len(before) + 1
    # unchanged, it imports as "nothing to do"
    assert main(["import-sheet", str(sheet)]) == 0
    assert digests(folder) == files_before
    edit_cell(rows, BUS_ID, "answer", NEW_ANSWER)
    if suffix == ".csv":
        write_csv(sheet, rows)
    else:
        sheet.write_bytes(write_xlsx(rows))
    assert main(["import-sheet", str(sheet)]) == 0
    after = fingerprints(folder)
    assert set(after) == set(before)
    assert [i for i in before if before[i] != after[i]] == [BUS_ID]
    kb = load_knowledge(folder).kb
    assert kb is not None and kb.entries[BUS_ID].answer_template == NEW_ANSWER
    # only the edited file changed, and in it only the edited entry's lines
    files_after = digests(folder)
    assert [f for f in files_before if files_before[f] != files_after[f]] == ["faq/doi-song.yaml"]
    backup = next((Path(folder.parent) / "data" / "backups").glob("*/faq/doi-song.yaml"))
    old_lines = backup.read_text(encoding="utf-8").splitlines()
    new_lines = (folder / "faq/doi-song.yaml").read_text(encoding="utf-8").splitlines()
    assert old_lines[:3] == new_lines[:3]  # the header comment is kept
    start = old_lines.index(f"- id: {BUS_ID}")
    assert old_lines[:start] == new_lines[:start]
    tail = len(old_lines) - old_lines.index(
        next(x for x in old_lines[start + 1 :] if x.startswith("- id:"))
    )
    assert old_lines[-tail:] == new_lines[-tail:]


def test_import_reports_row_numbered_errors_and_writes_nothing(folder, tmp_path, capsys):
    sheet = tmp_path / "kien-thuc.csv"
    assert main(["export-sheet", "-o", str(sheet)]) == 0
    rows = read_csv(sheet)
    files_before = digests(folder)
    row = edit_cell(rows, BUS_ID, "reviewed", "2026-13-45")
    bad_source = edit_cell(rows, "tro-cap-hang-thang", "sources", "Nghị định 20 không có điều")
    rows.append(list(rows[row - 1]))  # a duplicated id at the end
    write_csv(sheet, rows)
    capsys.readouterr()
    assert main(["import-sheet", str(sheet)]) == 1
    out = capsys.readouterr().out
    assert f"dòng {bad_source} (tro-cap-hang-thang): nguồn" in out
    assert f"dòng {len(rows)} ({BUS_ID}): id trùng với dòng {row}" in out
    assert digests(folder) == files_before
    # the duplicate and the source fixed, the date error shows with its row and file line
    rows.pop()
    edit_cell(rows, "tro-cap-hang-thang", "sources", "Nghị định 20/2021/NĐ-CP | Điều 6")
    write_csv(sheet, rows)
    assert main(["import-sheet", str(sheet)]) == 1
    out = capsys.readouterr().out
    assert f"dòng {row} ({BUS_ID}): '2026-13-45' is not a date" in out
    assert "knowledge/faq/doi-song.yaml:" in out
    assert digests(folder) == files_before
    assert not (folder.parent / "data" / "backups").exists()


def test_new_row_goes_to_its_category_file_and_removed_rows_are_removed(folder, tmp_path):
    sheet = tmp_path / "kien-thuc.csv"
    main(["export-sheet", "-o", str(sheet)])
    rows = read_csv(sheet)
    row = list(rows[1])
    row[0] = "muc-moi-thu-nghiem"
    row[3] = "\n".join(f"câu hỏi mới số {n} về thử nghiệm nhập" for n in range(5))
    rows.append(row)
    write_csv(sheet, rows)
    assert main(["import-sheet", "--check", str(sheet)]) == 0
    assert "muc-moi-thu-nghiem" not in fingerprints(folder)
    assert main(["import-sheet", str(sheet)]) == 0
    kb = load_knowledge(folder).kb
    assert kb is not None and kb.entries["muc-moi-thu-nghiem"].title == row[2]
    rows.pop()
    write_csv(sheet, rows)
    assert main(["import-sheet", str(sheet)]) == 0
    assert "muc-moi-thu-nghiem" not in fingerprints(folder)


def test_xlsx_reader_takes_what_excel_saves():
    """Shared strings, rich text, a date typed as a date (serial number), _x000D_ escapes."""
    main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    shared = (
        f'<sst xmlns="{main_ns}"><si><t>id</t></si><si><t>reviewed</t></si>'
        "<si><r><t>câu một</t></r><r><t>_x000D_\ncâu hai</t></r></si></sst>"
    )
    sheet = (
        f'<worksheet xmlns="{main_ns}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="C3" s="1"><v>46355</v></c></row>'
        "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/sharedStrings.xml", shared)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    rows = read_xlsx(out.getvalue())
    assert rows == [["id", "reviewed"], [], ["câu một\ncâu hai", "", "46355"]]
    assert str(sheets.parse_reviewed("46355")) == "2026-11-29"
    assert str(sheets.parse_reviewed("29/11/2026")) == "2026-11-29"


def test_add_question_appends_one_line_and_keeps_the_rest(tmp_path):
    text = (
        "# FAQ thử\n\n"
        "- id: mot\n"
        "  questions:\n"
        "    - câu thứ nhất\n"
        "    - 'câu: thứ hai'\n"
        "    # ghi chú của cán bộ\n"
        "  answer: |\n"
        "    Trả lời.\n\n"
        "- id: hai\n"
        "  questions: [a, b]\n"
        "  answer: x\n"
    )
    new = add_question(text, "mot", "hỏi: có dấu hai chấm")
    assert new.splitlines()[6] == '    - "hỏi: có dấu hai chấm"'
    assert new.replace('    - "hỏi: có dấu hai chấm"\n', "") == text
    flow = add_question(text, "hai", "ba")
    assert "  questions: [a, b, ba]\n" in flow
    assert yaml.safe_load(flow)[1]["questions"] == ["a", "b", "ba"]
    with pytest.raises(EditError):
        add_question(text, "khong-co", "x")


def test_dump_and_replace_entries_read_back_exactly():
    entry = {
        "id": "thu",
        "category": "tro-cap",
        "title": "Tiêu đề: có hai chấm",
        "questions": ["yes", "2019", "câu # có dấu thăng", "- gạch đầu dòng"],
        "keywords": ["a, b", "c"],
        "answer": "Dòng một.\n\n  thụt lề\nDòng ba.",
        "sources": [{"title": "Luật 51/2010/QH12", "ref": "Điều 44: trợ cấp"}],
        "reviewed": "2026-11-29",
    }
    parsed = yaml.safe_load(dump_entry(entry))[0]
    assert parsed["questions"] == entry["questions"] and parsed["keywords"] == entry["keywords"]
    assert parsed["answer"].strip() == entry["answer"] and parsed["title"] == entry["title"]
    assert str(parsed["reviewed"]) == "2026-11-29"
    text = "# đầu tệp\n- id: thu\n  title: cũ\n\n# giữa\n- id: khac\n  title: giữ\n"
    replaced = replace_entries(text, {"thu": {"id": "thu", "title": "mới"}})
    assert replaced == "# đầu tệp\n- id: thu\n  title: mới\n\n# giữa\n- id: khac\n  title: giữ\n"
