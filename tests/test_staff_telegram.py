"""Staff tools through the real python-telegram-bot stack against the Bot API stand-in.

The bot runs as in production (long polling, the background reload watcher started with the
Telegram channel); the tests speak as Telegram users: an admin uploads files, presses buttons,
people ask questions while the knowledge files change under the bot.
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from tests.harness import running_bot
from tests.standin import BotApiStandin
from tests.test_staff import (
    ADMIN,
    BUS_ID,
    BUS_QUESTION,
    USER,
    bus_file,
    line_in_entry,
    retitled,
    set_line,
)

logging.getLogger("httpx").setLevel(logging.WARNING)


@pytest.fixture
async def bot_app(
    bot_env: Path, knowledge_copy: Path, standin: BotApiStandin, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[App]:
    """The bot on a writable copy of the knowledge, with ADMIN as its admin; yields its App."""
    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(knowledge_copy))
    monkeypatch.setenv("BOT_ADMIN_IDS", str(ADMIN))
    async with running_bot(standin, speech="default") as bot:
        yield bot.app


async def ask(standin: BotApiStandin, user: int, text: str, contains: str | None = None) -> str:
    mark = standin.mark()
    standin.send_text(user, text)
    call = await standin.wait_for_message_async(user, contains, timeout=5, after_index=mark)
    return str(call.params["text"])


async def test_admin_commands_are_refused_to_others_over_telegram(bot_app, standin):
    unknown = await ask(standin, USER, "/khonglenhnay")
    for name in ("admin", "stats", "unanswered", "reload", "export"):
        refused = await ask(standin, USER, f"/{name}")
        assert refused == unknown.replace("/khonglenhnay", f"/{name}")
    assert "Thống kê câu hỏi" in await ask(standin, ADMIN, "/stats")
    assert not standin.calls_of("sendDocument")


async def test_uploads_broken_refused_with_line_then_good_applied_with_backup(bot_app, standin):
    path = bus_file(bot_app)
    original = path.read_bytes()
    title = bot_app.knowledge.kb.entries[BUS_ID].title
    bad_line = line_in_entry(original.decode(), BUS_ID, "  reviewed:")
    broken = set_line(original.decode(), bad_line, "  reviewed: 2026-13-45").encode()

    mark = standin.mark()
    standin.send_document(ADMIN, "doi-song.yaml", broken, "application/x-yaml")
    call = await standin.wait_for_message_async(ADMIN, "có lỗi", timeout=5, after_index=mark)
    assert f"knowledge/faq/doi-song.yaml:{bad_line}: {BUS_ID}: '2026-13-45'" in call.params["text"]
    assert path.read_bytes() == original
    assert (await ask(standin, USER, BUS_QUESTION)).startswith(title)

    good = retitled(original.decode(), " (bản tải lên)").encode()
    mark = standin.mark()
    standin.send_document(ADMIN, "doi-song.yaml", good, "application/x-yaml")
    call = await standin.wait_for_message_async(ADMIN, "Đã kiểm tra", timeout=5, after_index=mark)
    assert f"Sửa 1: {BUS_ID}" in call.params["text"]
    assert path.read_bytes() == good
    saved = list((Path(bot_app.settings.data_dir) / "backups").glob("*/faq/doi-song.yaml"))
    assert [p.read_bytes() for p in saved] == [original]
    assert (await ask(standin, USER, BUS_QUESTION)).startswith(f"{title} (bản tải lên)")
    # the same file sent by someone else is not even downloaded, and changes nothing
    mark = standin.mark()
    standin.send_document(USER, "doi-song.yaml", broken, "application/x-yaml")
    await standin.wait_for_message_async(USER, "tin nhắn chữ", timeout=5, after_index=mark)
    assert path.read_bytes() == good


async def test_unanswered_groups_and_a_confirmed_variant_is_answered(bot_app, standin):
    for i, question in enumerate(("lương hưu", "luong huu", "Lương hưu ạ", "đổi bằng lái xe")):
        await ask(standin, USER + i, question)
    mark = standin.mark()
    standin.send_text(ADMIN, "/unanswered")
    call = await standin.wait_for_message_async(ADMIN, "gộp lại", timeout=5, after_index=mark)
    assert '1. "lương hưu" (3 lần)' in call.params["text"]
    rows = call.params["reply_markup"]["inline_keyboard"]
    assert rows[0][0]["text"].startswith("1. Thêm làm câu hỏi của: ")
    mark = standin.mark()
    standin.press_button(ADMIN, rows[0][0]["callback_data"])
    call = await standin.wait_for_message_async(ADMIN, "Đồng ý thêm", timeout=5, after_index=mark)
    ok = call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    mark = standin.mark()
    standin.press_button(ADMIN, ok)
    await standin.wait_for_message_async(ADMIN, "Đã thêm câu", timeout=5, after_index=mark)
    best = bot_app.knowledge.kb.entries[
        bot_app.knowledge.matcher.decide("lương hưu").candidates[0].id
    ]
    assert (await ask(standin, USER, "luong huu")).startswith(best.title)
    assert not standin.unanswered_callbacks()


async def test_automatic_reload_reaches_telegram_users_within_2_s(bot_app, standin):
    path = bus_file(bot_app)
    original = path.read_text(encoding="utf-8")
    title = bot_app.knowledge.kb.entries[BUS_ID].title
    mark = standin.mark()
    started = time.monotonic()
    path.write_text(retitled(original, " (sửa trực tiếp)"), "utf-8")
    while not (await ask(standin, USER, BUS_QUESTION)).startswith(f"{title} (sửa trực tiếp)"):
        assert time.monotonic() - started < 2.0, "the edit was not seen within 2 s"
    latency = time.monotonic() - started
    notice = await standin.wait_for_message_async(ADMIN, "tự nạp lại", timeout=5, after_index=mark)
    assert f"Sửa 1: {BUS_ID}" in notice.params["text"]
    # a broken edit: the admin gets the line, users keep getting the last good answer
    bad_line = line_in_entry(original, BUS_ID, "  reviewed:")
    mark = standin.mark()
    path.write_text(set_line(original, bad_line, "  reviewed: 2026-13-45"), "utf-8")
    notice = await standin.wait_for_message_async(ADMIN, "có lỗi", timeout=5, after_index=mark)
    assert f"doi-song.yaml:{bad_line}: {BUS_ID}" in notice.params["text"]
    assert (await ask(standin, USER, BUS_QUESTION)).startswith(f"{title} (sửa trực tiếp)")
    print(f"telegram automatic reload latency: {latency:.2f} s")


async def test_export_sends_a_zip_document(bot_app, standin):
    mark = standin.mark()
    standin.send_text(ADMIN, "/export")
    call = await standin.wait_for_async(
        lambda c: c.method == "sendDocument", timeout=5, after_index=mark
    )
    with zipfile.ZipFile(io.BytesIO(call.files["document"])) as archive:
        assert "knowledge/faq/doi-song.yaml" in archive.namelist()
