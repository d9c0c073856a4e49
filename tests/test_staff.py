"""Staff tools through the engine: admins, reloads, uploads, /export, the question log.

Each test runs a real App (real knowledge copy in tmp_path, real SQLite) and talks to it as a
user or an admin would: "admin sends /reload", "the bot answers ...".
"""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
import threading
import time
import zipfile
from pathlib import Path

import pytest

from bot.core.messages import Incoming, MediaKind, Reply
from bot.staff import tools_of
from bot.staff.admin import ADMIN_COMMANDS

ADMIN = 4242
USER = 777_001
PHONE = "0912 345 678"
BUS_QUESTION = "Thẻ xe buýt miễn phí"
BUS_ID = "xe-buyt-mien-phi-ha-noi"


@pytest.fixture
def staff_app(env, knowledge_copy, monkeypatch):
    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(knowledge_copy))
    monkeypatch.setenv("BOT_ADMIN_IDS", str(ADMIN))
    from bot.app import build_app
    from bot.config import load_settings

    app = build_app(load_settings())
    yield app
    app.close()


def say(app, user: int, text: str, name: str = "Minh") -> list[Reply]:
    return app.engine.handle(Incoming(user, user, text=text, user_name=name))


def press(app, user: int, payload: str) -> list[Reply]:
    return app.engine.handle(Incoming(user, user, payload=payload))


def upload(app, user: int, name: str, data: bytes | None) -> list[Reply]:
    incoming = Incoming(
        user, user, media=MediaKind.DOCUMENT, file_name=name, file_bytes=data, user_name="Cán bộ"
    )
    return app.engine.handle(incoming)


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def bus_file(app) -> Path:
    return Path(app.settings.knowledge_dir) / "faq" / "doi-song.yaml"


def line_in_entry(text: str, entry_id: str, prefix: str) -> int:
    """1-based number of the first line starting with `prefix` inside `entry_id`."""
    lines = text.splitlines()
    start = lines.index(f"- id: {entry_id}")
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(prefix):
            return i + 1
    raise AssertionError(f"{prefix!r} not found in {entry_id}")


def set_line(text: str, number: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[number - 1] = new + "\n"
    return "".join(lines)


def retitled(text: str, suffix: str) -> str:
    n = line_in_entry(text, BUS_ID, "  title:")
    old = text.splitlines()[n - 1]
    return set_line(text, n, old + suffix)


# -- admins ---------------------------------------------------------------------------------


def test_admin_commands_are_refused_to_others_exactly_like_an_unknown_command(staff_app):
    for name, _ in ADMIN_COMMANDS:
        refused = text_of(say(staff_app, USER, f"/{name}"))
        unknown = text_of(say(staff_app, USER, "/khonglenhnay")).replace(
            "/khonglenhnay", f"/{name}"
        )
        assert refused == unknown
        assert "quản trị" not in refused
        assert text_of(say(staff_app, ADMIN, f"/{name}")) != unknown
    # a staff button and an uploaded file from someone else: the ordinary replies
    assert text_of(press(staff_app, USER, "stf:ok:1")) == text_of(press(staff_app, USER, "zz:1"))
    sticker = staff_app.engine.handle(Incoming(USER, USER, media=MediaKind.DOCUMENT))
    assert text_of(upload(staff_app, USER, "tro-cap.yaml", b"- id: x\n")) == text_of(sticker)
    # an admin gets the list, in Vietnamese
    text = text_of(say(staff_app, ADMIN, "/admin"))
    for name in ("/reload", "/export", "/stats", "/unanswered"):
        assert name in text
    assert "Gửi một tệp .yaml" in text


# -- reload ---------------------------------------------------------------------------------


def test_reload_good_and_bad_while_answers_keep_flowing(staff_app):
    path = bus_file(staff_app)
    original = path.read_text(encoding="utf-8")
    title = staff_app.knowledge.kb.entries[BUS_ID].title
    answers: list[str] = []
    stop = threading.Event()

    def ask_all_the_time() -> None:
        while not stop.is_set():
            answers.append(text_of(say(staff_app, USER, BUS_QUESTION)))

    asker = threading.Thread(target=ask_all_the_time)
    asker.start()
    try:
        bad_line = line_in_entry(original, BUS_ID, "  reviewed:")
        path.write_text(set_line(original, bad_line, "  reviewed: 2026-13-45"), "utf-8")
        refused = text_of(say(staff_app, ADMIN, "/reload"))
        path.write_text(retitled(original, " (bản mới)"), "utf-8")
        applied = text_of(say(staff_app, ADMIN, "/reload"))
    finally:
        stop.set()
        asker.join()
    assert "vẫn trả lời bằng bản cũ" in refused
    assert (
        f"knowledge/faq/doi-song.yaml:{bad_line}: {BUS_ID}: '2026-13-45' is not a date" in refused
    )
    assert "Đã nạp lại" in applied and f"Sửa 1: {BUS_ID}" in applied
    assert len(answers) > 5
    # every answer during the bad edit and the reloads was a real answer, old or new
    assert all(a.startswith(title) for a in answers), {a[:60] for a in answers}
    assert say(staff_app, USER, BUS_QUESTION)[0].text.startswith(f"{title} (bản mới)")


async def test_automatic_reload_is_seen_by_the_next_question_within_2_s(staff_app):
    tools = tools_of(staff_app)
    channel = FakeChannel()
    watcher = asyncio.create_task(tools.reloader.watch(channel))
    path = bus_file(staff_app)
    original = path.read_text(encoding="utf-8")
    title = staff_app.knowledge.kb.entries[BUS_ID].title
    try:
        await asyncio.sleep(0.3)
        started = time.monotonic()
        path.write_text(retitled(original, " (tự nạp)"), "utf-8")
        while True:
            reply = await asyncio.to_thread(say, staff_app, USER, BUS_QUESTION)
            if reply[0].text.startswith(f"{title} (tự nạp)"):
                break
            assert reply[0].text.startswith(title)
            assert time.monotonic() - started < 2.0, "the change was not seen within 2 s"
            await asyncio.sleep(0.02)
        latency = time.monotonic() - started
        await channel.wait_for(1)
        assert channel.sent[0][0] == ADMIN and f"Sửa 1: {BUS_ID}" in channel.sent[0][1].text
        # a broken edit: admins get the line, users keep the last good answers
        bad_line = line_in_entry(original, BUS_ID, "  reviewed:")
        path.write_text(set_line(original, bad_line, "  reviewed: 2026-13-45"), "utf-8")
        await channel.wait_for(2)
        notice = channel.sent[1][1].text
        assert f"knowledge/faq/doi-song.yaml:{bad_line}: {BUS_ID}" in notice
        reply = await asyncio.to_thread(say, staff_app, USER, BUS_QUESTION)
        assert reply[0].text.startswith(f"{title} (tự nạp)")
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    assert latency < 2.0
    print(f"automatic reload latency: {latency:.2f} s")


class FakeChannel:
    """A `Channel` that records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, Reply]] = []

    async def send(self, chat_id: int, reply: Reply) -> list[int]:
        self.sent.append((chat_id, reply))
        return [len(self.sent)]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            assert time.monotonic() < deadline, f"only {len(self.sent)} notices"
            await asyncio.sleep(0.02)


# -- uploads and export ---------------------------------------------------------------------


def test_uploaded_broken_yaml_is_refused_with_its_line_and_nothing_changes(staff_app):
    path = bus_file(staff_app)
    original = path.read_bytes()
    text = original.decode()
    bad_line = line_in_entry(text, BUS_ID, "  reviewed:")
    broken = set_line(text, bad_line, "  reviewed: 2026-13-45").encode()
    reply = text_of(upload(staff_app, ADMIN, "doi-song.yaml", broken))
    assert "có lỗi nên chưa dùng" in reply
    assert f"doi-song.yaml:{bad_line}: {BUS_ID}: '2026-13-45' is not a date" in reply
    syntax = (text + "- id: [mở ngoặc mà không đóng\n").encode()
    reply = text_of(upload(staff_app, ADMIN, "doi-song.yaml", syntax))
    last = len(text.splitlines()) + 1
    assert re.search(rf"doi-song\.yaml:({last}|{last + 1}): -: YAML syntax error", reply), reply
    assert "quá lớn" in text_of(upload(staff_app, ADMIN, "doi-song.yaml", None))
    assert path.read_bytes() == original
    assert not (Path(staff_app.settings.data_dir) / "backups").exists()


def test_uploaded_good_yaml_is_applied_with_a_backup(staff_app):
    path = bus_file(staff_app)
    original = path.read_bytes()
    new = retitled(original.decode(), " (tải lên)").encode()
    reply = text_of(upload(staff_app, ADMIN, "doi-song.yaml", new))
    assert "Đã kiểm tra và dùng tệp doi-song.yaml (thay cho faq/doi-song.yaml)" in reply
    assert f"Sửa 1: {BUS_ID}" in reply
    assert path.read_bytes() == new
    backups = list((Path(staff_app.settings.data_dir) / "backups").glob("*/faq/doi-song.yaml"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert backups[0].parent.parent.name in reply
    assert "(tải lên)" in say(staff_app, USER, BUS_QUESTION)[0].text
    # only the base name counts (no way out of the folder); a new name would go under faq/,
    # and here it is refused because its entries repeat those of doi-song.yaml
    folder = Path(staff_app.settings.knowledge_dir)
    reply = text_of(upload(staff_app, ADMIN, "../evil.yaml", new))
    assert "knowledge/faq/evil.yaml" in reply and "duplicate id" in reply
    assert not (folder.parent / "evil.yaml").exists() and not (folder / "faq/evil.yaml").exists()
    assert text_of(upload(staff_app, ADMIN, "tro cap.yaml", new)).startswith("Chưa dùng tệp")


def test_export_sends_every_knowledge_file_as_a_zip(staff_app):
    replies = say(staff_app, ADMIN, "/export")
    name, data = replies[0].attachment
    assert name.startswith("kien-thuc-") and name.endswith(".zip")
    folder = Path(staff_app.settings.knowledge_dir)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        for path in folder.rglob("*.yaml"):
            arcname = f"knowledge/{path.relative_to(folder)}"
            assert archive.read(arcname) == path.read_bytes()
    assert "knowledge/faq/doi-song.yaml" in names
    sheet = say(staff_app, ADMIN, "/export excel")[0].attachment
    assert sheet[0].endswith(".xlsx") and sheet[1][:2] == b"PK"


# -- the question log -----------------------------------------------------------------------

UNANSWERED = {
    "lương hưu": "lương hưu",
    "luong huu": "lương hưu",
    "lương hưu ạ": "lương hưu",
    "Lương   hưu": "lương hưu",
    "đổi bằng lái xe máy": "đổi bằng lái xe máy",
    "doi bang lai xe may": "đổi bằng lái xe máy",
}


def _ask_unanswered(app) -> None:
    for i, question in enumerate(UNANSWERED):
        decision = app.knowledge.matcher.decide(question)
        assert decision.decision in ("decline", "suggest"), (question, decision)
        say(app, USER + i, question)


def test_unanswered_groups_near_duplicates_and_a_confirmed_variant_is_answered(staff_app):
    _ask_unanswered(staff_app)
    replies = say(staff_app, ADMIN, "/unanswered")
    text = replies[0].text
    assert '1. "lương hưu" (4 lần)' in text
    assert '2. "đổi bằng lái xe máy" (2 lần)' in text or '"doi bang lai xe may" (2 lần)' in text
    labels = [b.label for b in replies[0].buttons]
    assert len(labels) == 2
    assert all(label.startswith("Thêm làm câu hỏi của: ") for label in labels)
    best = staff_app.knowledge.matcher.decide("lương hưu").candidates[0].id
    assert labels[0] == f"Thêm làm câu hỏi của: {staff_app.knowledge.kb.entries[best].title}"
    # the first proposal, confirmed, is written into the entry's file and answered at once
    button = replies[0].buttons[0]
    entry = staff_app.knowledge.kb.entries[best]
    path = Path(staff_app.settings.knowledge_dir) / Path(*Path(entry.path).parts[1:])
    before = path.read_text(encoding="utf-8")
    confirm = press(staff_app, ADMIN, button.payload)[0]
    assert '"lương hưu"' in confirm.text and entry.title in confirm.text
    assert [b.label for b in confirm.buttons] == ["Đồng ý thêm", "Không thêm"]
    done = press(staff_app, ADMIN, confirm.buttons[0].payload)[0].text
    assert done.startswith('Đã thêm câu "lương hưu"')
    after = path.read_text(encoding="utf-8")
    # one line added under the entry's questions, nothing else touched
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - lương hưu"]
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    assert list((Path(staff_app.settings.data_dir) / "backups").rglob(path.name))
    for question in ("lương hưu", "luong huu"):
        reply = say(staff_app, USER, question)[0]
        assert reply.text.startswith(entry.title), question
    # pressing again does not add it twice; the group is gone from /unanswered
    assert "đã được thêm rồi" in press(staff_app, ADMIN, confirm.buttons[0].payload)[0].text
    assert '"lương hưu"' not in say(staff_app, ADMIN, "/unanswered")[0].text


def test_no_raw_user_id_name_or_phone_in_the_log_stats_or_unanswered(staff_app):
    question = f"tôi là Trần Thị Lan, số {PHONE}, email lan.tran@example.com, hỏi lương hưu"
    say(staff_app, USER, question, name="Lan")
    say(staff_app, USER + 1, "Thẻ xe buýt miễn phí", name="Trần Văn Bình")
    say(staff_app, USER + 2, f"gọi {PHONE.replace(' ', '')} giúp tôi về lương hưu", name="Hoa")
    stats = text_of(say(staff_app, ADMIN, "/stats"))
    unanswered = text_of(say(staff_app, ADMIN, "/unanswered"))
    db = sqlite3.connect(Path(staff_app.settings.data_dir) / "bot.sqlite3")
    rows = db.execute("SELECT * FROM question_log").fetchall()
    db.close()
    dump = repr(rows)
    assert len(rows) == 3
    for shown in (dump, stats, unanswered):
        for secret in (str(USER), str(USER + 1), "0912", "345 678", "345678", "Lan", "lan.tran"):
            assert secret not in shown and secret.lower() not in shown
        assert "Bình" not in shown and "bình" not in shown
    assert "***" in dump and "[email]" in dump and "[tên]" in dump
    assert "Hôm nay: 3 câu" in stats
    salt = Path(staff_app.settings.data_dir) / "question-log.salt"
    assert salt.stat().st_mode & 0o077 == 0
    # /forget deletes the user's rows too
    say(staff_app, USER, "/forget")
    db = sqlite3.connect(Path(staff_app.settings.data_dir) / "bot.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM question_log").fetchone()[0] == 2
    db.close()


def test_stats_figures_and_retention(staff_app):
    tools = tools_of(staff_app)
    decision = staff_app.knowledge.matcher.decide(BUS_QUESTION)
    old = time.time() - (staff_app.settings.log_retention_days + 1) * 86400
    tools.qlog.record(USER, BUS_QUESTION, decision, now=old)
    tools.qlog.record(USER, BUS_QUESTION, decision, now=time.time() - 10 * 86400)
    say(staff_app, USER, BUS_QUESTION)
    say(staff_app, USER + 1, BUS_QUESTION)
    say(staff_app, USER + 1, "lương hưu")
    staff_app.store.set_voice(USER, True)
    text = text_of(say(staff_app, ADMIN, "/stats"))
    assert "Hôm nay: 3 câu. 7 ngày: 3 câu. 30 ngày: 4 câu." in text
    assert "trả lời ngay 75% (3)" in text and "chưa trả lời được 25% (1)" in text
    assert "Số người đã hỏi trong 30 ngày: 2." in text
    assert "1. Xe buýt miễn phí ở Hà Nội: 3 lần" in text
    assert "Người dùng bật giọng đọc: 1." in text
    assert tools.qlog.purge() == 1
    assert tools.qlog.count(0) == 4


# -- the report command and the console -----------------------------------------------------


def test_report_command_prints_the_same_figures_as_text_and_csv(staff_app, capsys):
    from bot.cli import main

    _ask_unanswered(staff_app)
    say(staff_app, USER, BUS_QUESTION)
    capsys.readouterr()
    assert main(["report", "--days", "30"]) == 0
    text = capsys.readouterr().out
    assert "Hôm nay: 7 câu" in text and '1. "lương hưu" (4 lần)' in text
    assert "1. Xe buýt miễn phí ở Hà Nội: 1 lần" in text
    assert main(["report", "--days", "30", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "section,item,count,detail"
    assert (
        "questions,today,7," in rows and f"top_topic,{BUS_ID},1,Xe buýt miễn phí ở Hà Nội" in rows
    )
    best = staff_app.knowledge.matcher.decide("lương hưu").candidates[0].id
    assert f"unanswered,lương hưu,4,{best}" in rows
    assert str(USER) not in text + "\n".join(rows)


def test_admin_tools_work_in_the_console_too(env, knowledge_copy, monkeypatch):
    from bot.adapters.console import CONSOLE_USER, run_console
    from bot.app import build_app
    from bot.config import load_settings

    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(knowledge_copy))
    monkeypatch.setenv("BOT_ADMIN_IDS", str(CONSOLE_USER))
    app = build_app(load_settings())
    out = io.StringIO()
    try:
        run_console(app, stdin=io.StringIO("/reload\n/export\n/stats\n"), stdout=out)
    finally:
        app.close()
    text = out.getvalue()
    assert "Đã nạp lại kho kiến thức." in text and "Thống kê câu hỏi" in text
    exported = re.search(r"\[Tệp đính kèm: (.+\.zip)\]", text)
    assert exported is not None and zipfile.is_zipfile(exported.group(1))
