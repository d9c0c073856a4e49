"""The staff tools as the engine sees them: admin commands, buttons, uploads, the question log.

`StaffTools.install()` registers `/admin`, `/reload`, `/export`, `/stats`, `/unanswered` (admin
only: for anyone else the handlers return None and the engine answers as for any unknown
command), the `stf:` buttons of `/unanswered` (propose -> confirm -> the variant is written into
the entry's YAML, validated, backed up and reloaded), admin uploads of .yaml files and
spreadsheets, the question-log hook, and the background job that reloads on file changes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from bot.core.formatting import number_buttons, numbered
from bot.core.knowledge import Entry
from bot.core.messages import Button, Incoming, MediaKind, Reply
from bot.core.text import fold
from bot.staff import sheets
from bot.staff.admin import admin_help, admin_only, is_admin
from bot.staff.questionlog import QuestionLog, day_start
from bot.staff.reload import Reloader, change_text, outcome_text, problems_text
from bot.staff.report import collect_stats, group_unanswered, stats_text, unanswered_text
from bot.staff.updates import (
    ApplyOutcome,
    KnowledgeWriter,
    UploadError,
    export_name,
    export_zip,
    upload_target,
)
from bot.staff.xlsx import XlsxError
from bot.staff.yamledit import EditError, add_question

log = logging.getLogger(__name__)

PAYLOAD = "stf"
ADD_LABEL = "Thêm làm câu hỏi của: {title}"
UNANSWERED_DAYS = 30
_MAX_NAMES = 10_000

_PROPOSALS = """
CREATE TABLE IF NOT EXISTS staff_proposals (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    created REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
)
"""


def entry_file(folder: Path, entry: Entry) -> str:
    """The path of the entry's file relative to the knowledge folder."""
    shown = Path(entry.path)
    if shown.is_absolute():
        return str(shown.relative_to(folder))
    parts = shown.parts
    return str(Path(*parts[1:])) if parts and parts[0] == folder.name else str(shown)


class StaffTools:
    """Everything issue 5 adds to a running App."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.settings = app.settings
        self.folder = Path(app.settings.knowledge_dir)
        self.reloader = Reloader(app)
        self.writer = KnowledgeWriter(app.settings, self.reloader)
        self.qlog = QuestionLog(app.store, app.settings.data_dir, app.settings.log_retention_days)
        app.store.add_schema(_PROPOSALS)
        self._names: dict[int, str] = {}

    def install(self) -> None:
        engine = self.app.engine
        for name, handler in (
            ("admin", self.cmd_admin),
            ("reload", self.cmd_reload),
            ("export", self.cmd_export),
            ("stats", self.cmd_stats),
            ("unanswered", self.cmd_unanswered),
        ):
            engine.extra_commands[name] = admin_only(self.settings, handler)
        engine.extra_payloads[PAYLOAD] = admin_only(self.settings, self.on_payload)
        engine.extra_words.append(self.on_words)
        previous = engine.on_question

        def on_question(event: Any) -> None:
            try:
                if previous is not None:
                    previous(event)
            finally:
                self.on_question(event)

        engine.on_question = on_question
        self.app.background.append(self.reloader.watch)

    # -- the question log ------------------------------------------------------------------------

    def on_question(self, event: Any) -> None:
        name = getattr(event, "user_name", "") or self._names.pop(event.user_id, "")
        self.qlog.record(event.user_id, event.question, event.decision, [name] if name else [])

    def on_words(self, incoming: Incoming, text: str) -> list[Reply] | None:
        if incoming.media == MediaKind.DOCUMENT:
            return self.on_document(incoming)
        if text and incoming.user_name and incoming.chat_id == incoming.user_id:
            # Kept only until the question is logged, to mask the name if the user typed it.
            if len(self._names) > _MAX_NAMES:
                self._names.clear()
            self._names[incoming.user_id] = incoming.user_name
        return None

    # -- commands --------------------------------------------------------------------------------

    def cmd_admin(self, incoming: Incoming, arg: str) -> list[Reply]:
        return [Reply(admin_help(self.app.engine.extra_commands))]

    def cmd_reload(self, incoming: Incoming, arg: str) -> list[Reply]:
        return [Reply(outcome_text(self.reloader.reload()))]

    def cmd_export(self, incoming: Incoming, arg: str) -> list[Reply]:
        kind = " ".join(fold(arg).split())
        if kind in ("excel", "xlsx", "sheet", "bang tinh"):
            data = sheets.export_bytes(self.app.knowledge.kb, "xlsx")
            text = (
                "Bảng tính kho kiến thức: mỗi dòng một mục. Sửa xong gửi lại tệp này cho trợ lý "
                "để nhập."
            )
            return [Reply(text, attachment=(export_name("xlsx"), data))]
        if kind == "csv":
            data = sheets.export_bytes(self.app.knowledge.kb, "csv")
            return [
                Reply(
                    "Bảng tính CSV (UTF-8) của kho kiến thức.",
                    attachment=(export_name("csv"), data),
                )
            ]
        data = export_zip(self.folder)
        text = "Các tệp kiến thức hiện tại (tệp zip). Gõ /export excel để lấy bảng tính."
        return [Reply(text, attachment=(export_name("zip"), data))]

    def cmd_stats(self, incoming: Incoming, arg: str) -> list[Reply]:
        stats = collect_stats(self.qlog, self.app.store)
        return [Reply(stats_text(stats, self.app.knowledge.kb))]

    def cmd_unanswered(self, incoming: Incoming, arg: str) -> list[Reply]:
        kb, matcher = self.app.knowledge.pair()
        rows = self.qlog.unanswered(day_start(time.time(), UNANSWERED_DAYS - 1))
        groups = group_unanswered(rows, kb, matcher)
        items = []
        for group in groups:
            if group.proposal is None:
                continue
            pid = self._propose(group.question, group.proposal)
            title = kb.entries[group.proposal].title
            items.append((ADD_LABEL.format(title=title), f"{PAYLOAD}:add:{pid}"))
        text = unanswered_text(groups, kb, UNANSWERED_DAYS)
        buttons = number_buttons(items)
        if buttons:
            text += "\n\n" + numbered(buttons)
        return [Reply(text, buttons)]

    # -- the /unanswered buttons -----------------------------------------------------------------

    def _propose(self, question: str, entry_id: str) -> int:
        with self.app.store.transaction() as db:
            db.execute("DELETE FROM staff_proposals WHERE created < ?", (time.time() - 30 * 86400,))
            cursor = db.execute(
                "INSERT INTO staff_proposals(question, entry_id, created) VALUES (?, ?, ?)",
                (question, entry_id, time.time()),
            )
            return int(cursor.lastrowid or 0)

    def _proposal(self, value: str) -> tuple[int, str, str, bool] | None:
        try:
            pid = int(value)
        except ValueError:
            return None
        rows = self.app.store.query(
            "SELECT question, entry_id, done FROM staff_proposals WHERE id = ?", (pid,)
        )
        return (pid, rows[0][0], rows[0][1], bool(rows[0][2])) if rows else None

    def on_payload(self, incoming: Incoming, value: str) -> list[Reply] | None:
        action, _, rest = value.partition(":")
        proposal = self._proposal(rest)
        if proposal is None:
            return [Reply("Đề xuất này không còn nữa. Gõ /unanswered để xem danh sách mới.")]
        pid, question, entry_id, done = proposal
        entry = self.app.knowledge.kb.entries.get(entry_id)
        if done:
            return [Reply(f'Câu "{question}" đã được thêm rồi.')]
        if entry is None:
            return [Reply(f"Mục {entry_id} không còn trong kho. Gõ /unanswered để xem lại.")]
        if action == "add":
            buttons = (
                Button("Đồng ý thêm", f"{PAYLOAD}:ok:{pid}", 1),
                Button("Không thêm", f"{PAYLOAD}:no:{pid}", 2),
            )
            text = (
                f'Thêm câu "{question}" làm một cách hỏi của mục "{entry.title}" ({entry_id}), '
                f"tệp {entry_file(self.folder, entry)}?\n" + numbered(buttons)
            )
            return [Reply(text, buttons)]
        if action == "ok":
            return [Reply(self.add_variant(pid, entry, question))]
        if action == "no":
            return [Reply("Đã bỏ qua, không thay đổi gì.")]
        return None

    def add_variant(self, pid: int, entry: Entry, question: str) -> str:
        rel = entry_file(self.folder, entry)
        try:
            text = (self.folder / rel).read_text(encoding="utf-8")
            new_text = add_question(text, entry.id, question)
        except (OSError, EditError) as exc:
            return f"Chưa thêm được: {exc}"
        outcome = self.writer.apply({rel: new_text.encode("utf-8")})
        if not outcome.ok:
            return (
                "Chưa thêm được vì kho kiến thức sẽ có lỗi; không có gì thay đổi:\n"
                + problems_text(outcome.problems)
            )
        with self.app.store.transaction() as db:
            db.execute("UPDATE staff_proposals SET done = 1 WHERE id = ?", (pid,))
        return (
            f'Đã thêm câu "{question}" vào mục "{entry.title}" và nạp lại kho kiến thức. '
            f"Bản cũ của tệp ở {self._shown(outcome)}."
        )

    # -- uploads ---------------------------------------------------------------------------------

    def on_document(self, incoming: Incoming) -> list[Reply] | None:
        if not is_admin(self.settings, incoming.user_id) or not incoming.file_name:
            return None
        name = incoming.file_name
        suffix = Path(name).suffix.lower()
        if suffix not in (".yaml", ".yml", ".xlsx", ".csv"):
            return None
        if incoming.file_bytes is None:
            return [Reply("Tệp quá lớn (tối đa 2 MB) hoặc chưa tải được. Bạn thử gửi lại nhé.")]
        if suffix in (".xlsx", ".csv"):
            return [Reply(self.import_upload(name, incoming.file_bytes))]
        try:
            rel = upload_target(self.folder, name)
        except UploadError as exc:
            return [Reply(f"Chưa dùng tệp {name}: {exc}")]
        # Windows editors may add a byte-order mark and CRLF line ends: store plain UTF-8 lines.
        data = incoming.file_bytes.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
        outcome = self.writer.apply({rel: data})
        if not outcome.ok:
            return [
                Reply(
                    f"Tệp {name} có lỗi nên chưa dùng; kho kiến thức không thay đổi:\n"
                    + problems_text(outcome.problems)
                )
            ]
        return [
            Reply(
                f"Đã kiểm tra và dùng tệp {name} (thay cho {rel}). Bản cũ được sao lưu ở "
                f"{self._shown(outcome)}.\n{change_text(outcome.change)}"
            )
        ]

    def import_upload(self, name: str, data: bytes) -> str:
        try:
            result = sheets.import_sheet(self.settings, data, name, self.writer)
        except (sheets.SheetError, XlsxError) as exc:
            return f"Chưa nhập được bảng tính {name}: {exc}"
        if not result.ok:
            lines = "\n".join(str(p) for p in result.problems[:25])
            return f"Bảng tính {name} có lỗi nên chưa nhập; kho kiến thức không thay đổi:\n{lines}"
        if result.applied is None:
            return f"Bảng tính {name} giống hệt kho kiến thức hiện tại: không có gì để nhập."
        return (
            f"Đã nhập bảng tính {name}. Bản cũ được sao lưu ở {self._shown(result.applied)}.\n"
            + change_text(result.applied.change)
        )

    def _shown(self, outcome: ApplyOutcome) -> str:
        if outcome.backup is None:
            return "(không có)"
        try:
            return str(outcome.backup.relative_to(self.settings.data_dir))
        except ValueError:
            return str(outcome.backup)
