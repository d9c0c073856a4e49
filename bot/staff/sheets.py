"""The knowledge base as a spreadsheet, for staff who prefer Excel: export and import.

One row per FAQ entry: id, category, title, questions (one per line in the cell), answer,
sources (one per line, "document | article"), reviewed (YYYY-MM-DD), then keywords, related and
voice, so a round trip keeps everything. CSV is UTF-8 (with the mark Excel needs to show
Vietnamese); .xlsx goes through the small reader/writer in `xlsx.py`. Import treats the sheet
as the whole list of FAQ entries: it rewrites only the entries that changed (in the file that
holds them, comments and layout elsewhere kept), puts new ones in `faq/<category>.yaml`, removes
rows that are gone, validates everything and reports errors by row number, writing nothing then.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.core.knowledge import Entry, KnowledgeBase, load_knowledge
from bot.core.problems import Problem
from bot.core.yamlsource import LineDict, LineList, YamlSyntaxError, load_yaml_text
from bot.staff.updates import ApplyOutcome, Changes, KnowledgeWriter
from bot.staff.xlsx import read_xlsx, write_xlsx
from bot.staff.yamledit import (
    EditError,
    dump_entry,
    dump_file,
    header_of,
    plain,
    replace_entries,
)

COLUMNS = (
    "id",
    "category",
    "title",
    "questions",
    "answer",
    "sources",
    "reviewed",
    "keywords",
    "related",
    "voice",
)
REQUIRED_COLUMNS = COLUMNS[:7]
WIDTHS = (24, 18, 30, 45, 70, 45, 12, 30, 24, 50)
LIST_COLUMNS = ("questions", "keywords", "related")
SOURCE_SEPARATOR = " | "
_EXCEL_EPOCH = date(1899, 12, 30)
_FILE_STEM = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class SheetError(Exception):
    """The sheet cannot be read at all (format, header); the message is Vietnamese."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    entry_id: str
    message: str

    def __str__(self) -> str:
        who = f" ({self.entry_id})" if self.entry_id else ""
        return f"dòng {self.row}{who}: {self.message}"


@dataclass(frozen=True)
class ImportOutcome:
    ok: bool
    problems: tuple[RowProblem | Problem, ...] = ()
    applied: ApplyOutcome | None = None
    files: tuple[str, ...] = ()


# -- export -------------------------------------------------------------------------------------


def entry_row(entry: Entry) -> list[str]:
    sources = "\n".join(f"{s.title}{SOURCE_SEPARATOR}{s.ref}" for s in entry.sources)
    return [
        entry.id,
        entry.category,
        entry.title,
        "\n".join(entry.questions),
        entry.answer_template,
        sources,
        entry.reviewed.isoformat(),
        "\n".join(entry.keywords),
        "\n".join(entry.related),
        entry.voice_template or "",
    ]


def export_rows(kb: KnowledgeBase) -> list[list[str]]:
    return [list(COLUMNS)] + [entry_row(e) for e in kb.entries.values()]


def export_bytes(kb: KnowledgeBase, fmt: str) -> bytes:
    rows = export_rows(kb)
    if fmt == "xlsx":
        return write_xlsx(rows, WIDTHS, "Kien thuc")
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


# -- reading ------------------------------------------------------------------------------------


def read_rows(data: bytes, file_name: str) -> list[list[str]]:
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xlsx":
        return read_xlsx(data)
    if suffix != ".csv":
        raise SheetError("Chỉ nhận bảng tính .xlsx hoặc .csv.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(
            "Tệp CSV không phải mã UTF-8. Trong Excel chọn Lưu thành > CSV UTF-8."
        ) from exc
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _lines(cell: str) -> list[str]:
    return [line.strip() for line in cell.replace("\r", "\n").split("\n") if line.strip()]


def parse_reviewed(cell: str) -> str | date:
    cell = cell.strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", cell) and 20000 < float(cell) < 80000:
        # A date typed into Excel comes back as a serial number of days (1954-2119 here).
        return _EXCEL_EPOCH + timedelta(days=int(float(cell)))
    local = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", cell)  # 29/11/2026, as Excel shows it
    try:
        if local is not None:
            return date(int(local.group(3)), int(local.group(2)), int(local.group(1)))
        return date.fromisoformat(cell[:10]) if len(cell) >= 10 else cell
    except ValueError:
        return cell


def parse_rows(rows: Sequence[Sequence[str]]) -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """Rows -> (row number, entry dict) and row-numbered problems (header is row 1)."""
    if not rows:
        raise SheetError("Bảng tính trống.")
    header = [str(h).strip().lower() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise SheetError(
            f"Dòng 1 thiếu cột: {', '.join(missing)}. Các cột cần có: {', '.join(COLUMNS)}."
        )
    where = {name: header.index(name) for name in COLUMNS if name in header}
    entries: list[tuple[int, dict]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], 2):
        cells = {name: (row[i] if i < len(row) else "") for name, i in where.items()}
        if not any(str(v).strip() for v in cells.values()):
            continue  # an empty line
        eid = cells["id"].strip()
        if not eid:
            problems.append(RowProblem(number, "", "thiếu id"))
            continue
        if eid in seen:
            problems.append(RowProblem(number, eid, f"id trùng với dòng {seen[eid]}"))
            continue
        seen[eid] = number
        entry: dict[str, Any] = {"id": eid}
        for name in ("category", "title"):
            entry[name] = cells[name].strip()
        entry["questions"] = _lines(cells["questions"])
        for name in ("keywords", "related"):
            if _lines(cells.get(name, "")):
                entry[name] = _lines(cells[name])
        entry["answer"] = cells["answer"].strip()
        if cells.get("voice", "").strip():
            entry["voice"] = cells["voice"].strip()
        sources = []
        for line in _lines(cells["sources"]):
            title, sep, ref = line.partition(SOURCE_SEPARATOR.strip())
            if not sep or not title.strip() or not ref.strip():
                problems.append(
                    RowProblem(number, eid, f'nguồn "{line}" cần dạng: tên văn bản | điều khoản')
                )
                continue
            sources.append({"title": title.strip(), "ref": ref.strip()})
        entry["sources"] = sources
        entry["reviewed"] = parse_reviewed(cells["reviewed"])
        entries.append((number, {k: v for k, v in entry.items() if v not in ("", [])}))
    return entries, problems


# -- planning the file changes ------------------------------------------------------------------


def _current_files(folder: Path) -> dict[str, tuple[str, list[str]]]:
    """relative path -> (text, entry ids in order) for every FAQ file."""
    out: dict[str, tuple[str, list[str]]] = {}
    for path in sorted((folder / "faq").glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        try:
            data = load_yaml_text(text, path.name)
        except YamlSyntaxError:
            data = None
        ids = []
        if isinstance(data, LineList):
            ids = [str(i.get("id", "")).strip() for i in data if isinstance(i, LineDict)]
        out[str(path.relative_to(folder))] = (text, ids)
    return out


def _parsed(text: str) -> dict[str, Any]:
    try:
        data = load_yaml_text(text, "x")
    except YamlSyntaxError:
        return {}
    if not isinstance(data, LineList):
        return {}
    return {str(i.get("id", "")).strip(): plain(i) for i in data if isinstance(i, LineDict)}


def plan_changes(folder: Path, entries: list[tuple[int, dict]]) -> Changes:
    """The file contents that make the FAQ folder hold exactly `entries`."""
    current = _current_files(folder)
    home = {eid: rel for rel, (_, ids) in current.items() for eid in ids}
    wanted: dict[str, list[dict]] = {rel: [] for rel in current}
    for _, entry in entries:
        category = str(entry.get("category", ""))
        # A new entry goes to its category's file; the name is checked so it stays in faq/.
        stem = category if _FILE_STEM.fullmatch(category) else "moi"
        rel = home.get(entry["id"]) or f"faq/{stem}.yaml"
        wanted.setdefault(rel, []).append(entry)
    changes: Changes = {}
    for rel, new in wanted.items():
        text, old_ids = current.get(rel, ("", []))
        if not new:
            if rel in current:
                changes[rel] = None
            continue
        old = _parsed(text)
        new_ids = [e["id"] for e in new]
        if old_ids and new_ids[: len(old_ids)] == old_ids:
            # Same entries in the same order, maybe new ones at the end: edit in place.
            kept, added = new[: len(old_ids)], new[len(old_ids) :]
            changed = {e["id"]: e for e in kept if old.get(e["id"]) != plain(e)}
            updated = replace_entries(text, changed) if changed else text
            if added:
                updated = updated.rstrip("\n") + "\n\n" + "\n".join(dump_entry(e) for e in added)
            if updated != text:
                changes[rel] = updated.encode("utf-8")
            continue
        changes[rel] = dump_file(new, header_of(text)).encode("utf-8")
    return changes


def import_sheet(
    settings: Any,
    data: bytes,
    file_name: str,
    writer: KnowledgeWriter | None = None,
    check_only: bool = False,
) -> ImportOutcome:
    """Validate a spreadsheet against the whole base and apply it (unless `check_only`)."""
    rows = read_rows(data, file_name)
    entries, problems = parse_rows(rows)
    if problems:
        return ImportOutcome(False, tuple(problems))
    folder = Path(settings.knowledge_dir)
    try:
        changes = plan_changes(folder, entries)
    except EditError as exc:
        return ImportOutcome(False, (RowProblem(1, "", str(exc)),))
    writer = writer or KnowledgeWriter(settings)
    files = tuple(sorted(changes))
    if not changes:
        return ImportOutcome(True, files=())
    row_of = {entry["id"]: number for number, entry in entries}
    if check_only:
        result = writer.validate(changes)
        return ImportOutcome(result.ok, _by_row(result.problems, row_of), files=files)
    applied = writer.apply(changes)
    return ImportOutcome(applied.ok, _by_row(applied.problems, row_of), applied, files)


def _by_row(
    problems: Sequence[Problem], row_of: dict[str, int]
) -> tuple[RowProblem | Problem, ...]:
    out: list[RowProblem | Problem] = []
    for p in problems:
        if p.entry_id in row_of:
            out.append(
                RowProblem(row_of[p.entry_id], p.entry_id, f"{p.message} ({p.path}:{p.line})")
            )
        else:
            out.append(p)
    return tuple(sorted(out, key=lambda p: (getattr(p, "row", 0), str(p))))


def current_kb(settings: Any) -> KnowledgeBase:
    result = load_knowledge(Path(settings.knowledge_dir))
    if result.kb is None or result.problems:
        from bot.errors import KnowledgeError

        raise KnowledgeError(list(result.problems))
    return result.kb
