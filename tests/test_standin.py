"""Tests for the Bot API stand-in, driven by the real python-telegram-bot stack over HTTP."""

from __future__ import annotations

import array
import asyncio
import datetime as dtm
import hashlib
import io
import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import av
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.standin import BotApiStandin

logging.getLogger("httpx").setLevel(logging.WARNING)
USER = 111


@pytest.fixture
def standin() -> Iterator[BotApiStandin]:
    with BotApiStandin() as server:
        yield server


@pytest.fixture
async def bot(standin: BotApiStandin) -> AsyncIterator[Bot]:
    async with Bot(
        standin.token, base_url=standin.url + "/bot", base_file_url=standin.url + "/file/bot"
    ) as direct:
        yield direct


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text("Xin chào! Tôi là trợ lý chính sách.")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Đã nhận.")
    await query.edit_message_text(f"Bạn đã chọn: {query.data}")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.document is not None
    document = update.message.document
    data = await (await context.bot.get_file(document.file_id)).download_as_bytearray()
    digest = hashlib.sha256(bytes(data)).hexdigest()
    await update.message.reply_text(f"{document.file_name}: {len(data)} byte {digest}")


@pytest.fixture
async def app(standin: BotApiStandin) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = (
        ApplicationBuilder()
        .token(standin.token)
        .base_url(standin.url + "/bot")
        .base_file_url(standin.url + "/file/bot")
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    application.add_handler(MessageHandler(filters.Document.ALL, _document))
    application.add_handler(CallbackQueryHandler(_button))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        yield application
        await application.updater.stop()
        await application.stop()


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _opus(seconds: float) -> bytes:
    """Encode ``seconds`` of a 440 Hz tone as OGG/Opus, the way a voice note is made."""
    count = int(48000 * seconds)
    tone = array.array(
        "h", (int(8000 * math.sin(i * 440 * math.tau / 48000)) for i in range(count))
    )
    frame = av.AudioFrame(format="s16", layout="mono", samples=count)
    frame.planes[0].update(tone.tobytes())
    frame.rate = 48000
    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000, layout="mono")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


def _raw(standin: BotApiStandin, method: str, token: str | None = None, **params: Any) -> Any:
    url = f"{standin.url}/bot{token or standin.token}/{method}"
    body = json.dumps(params).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        return json.load(err)


# ----------------------------------------------------------------------- through the Application
async def test_echo_round_trip(standin: BotApiStandin, app: Application) -> None:
    standin.send_text(USER, "Tôi muốn hỏi về trợ cấp", first_name="Lan")
    call = await standin.wait_for_message_async(USER, "trợ cấp")
    assert call.params["chat_id"] == USER
    assert standin.messages_to(USER) == ["Tôi muốn hỏi về trợ cấp"]
    assert standin.calls_of("getMe") and standin.calls_of("deleteWebhook")
    assert call.result["chat"] == {"id": USER, "type": "private", "first_name": "Lan"}


async def test_command_reaches_command_handler(standin: BotApiStandin, app: Application) -> None:
    standin.send_text(USER, "/start")
    await standin.wait_for_message_async(USER, "Xin chào")
    assert standin.messages_to(USER) == ["Xin chào! Tôi là trợ lý chính sách."]


async def test_button_press_is_answered_and_edits_the_bots_message(
    standin: BotApiStandin, app: Application
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("1. Trợ cấp", callback_data="a:1")]])
    sent = await app.bot.send_message(USER, "Chọn một mục:", reply_markup=keyboard)
    recorded = standin.calls_of("sendMessage")[-1]
    assert recorded.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a:1"

    standin.press_button(USER, "a:1", message_id=sent.message_id)
    edit = await standin.wait_for_message_async(USER, "Bạn đã chọn: a:1")
    assert edit.method == "editMessageText"
    assert edit.params["message_id"] == sent.message_id
    assert len(standin.calls_of("answerCallbackQuery")) == 1
    assert standin.unanswered_callbacks() == []


async def test_pushed_document_is_fetched_with_get_file(
    standin: BotApiStandin, app: Application
) -> None:
    data = b"%PDF-1.4\n" + bytes(range(256)) * 40
    standin.send_document(USER, "giay-xac-nhan.pdf", data, mime_type="application/pdf")
    digest = hashlib.sha256(data).hexdigest()
    await standin.wait_for_message_async(USER, f"giay-xac-nhan.pdf: {len(data)} byte {digest}")
    file_call = standin.calls_of("getFile")[0]
    assert file_call.result["file_path"]


async def test_300_messages_from_100_users(standin: BotApiStandin, app: Application) -> None:
    mark = standin.mark()
    users = range(1000, 1100)
    started = time.monotonic()
    for round_ in range(3):
        for user in users:
            standin.send_text(user, f"câu hỏi {round_} của {user}")
    answered = [0]

    def echo_done(call: Any) -> bool:
        answered[0] += call.method == "sendMessage" and call.status == 200
        return answered[0] == 300

    await standin.wait_for_async(echo_done, timeout=15, after_index=mark)
    elapsed = time.monotonic() - started
    for user in users:
        assert standin.messages_to(user) == [f"câu hỏi {r} của {user}" for r in range(3)]
    print(f"\n300 echoes in {elapsed:.2f} s = {300 / elapsed:.0f} answers/s")
    print(f"peak sendMessage per second: {standin.rate_per_second(('sendMessage',))}")
    assert set(standin.per_chat_counts().values()) == {3}


# ----------------------------------------------------------------------- direct Bot calls
async def test_429_raises_retry_after_then_recovers(
    standin: BotApiStandin, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # the v23 behaviour, without deprecation warnings
    standin.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "lần một")
    assert _seconds(caught.value.retry_after) == 3
    await bot.send_message(USER, "lần hai")
    assert [c.status for c in standin.calls_of("sendMessage")] == [429, 200]
    assert standin.messages_to(USER) == ["lần hai"]


async def test_blocked_chat_raises_forbidden(standin: BotApiStandin, bot: Bot) -> None:
    standin.block_chat(222)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(222, "xin chào")
    with pytest.raises(Forbidden):
        await bot.send_voice(222, voice=b"OggS")
    await bot.send_message(USER, "vẫn gửi được")
    standin.unblock_chat(222)
    await bot.send_message(222, "đã mở lại")
    assert standin.messages_to(222) == ["đã mở lại"]


async def test_voice_upload_then_resend_by_file_id(
    standin: BotApiStandin, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    ogg = _opus(1.5)
    first = await bot.send_voice(USER, voice=ogg, caption="Câu trả lời")
    assert first.voice is not None and first.voice.file_id.startswith("voice-")
    assert first.voice.mime_type == "audio/ogg" and first.voice.file_size == len(ogg)
    assert _seconds(first.voice.duration) == 2  # 1.5 s plus Opus pre-skip, rounded up
    second = await bot.send_voice(USER, voice=first.voice.file_id)
    assert second.voice is not None and second.voice.file_id == first.voice.file_id
    assert standin.voices_to(USER) == [(None, ogg), (first.voice.file_id, None)]
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_voice(USER, voice="voice-from-another-run")
    sent = await bot.get_file(first.voice.file_id)
    assert await sent.download_as_bytearray() == bytearray(ogg)


async def test_edits_follow_telegram_rules(standin: BotApiStandin, bot: Bot) -> None:
    message = await bot.send_message(USER, "Một")
    edited = await bot.edit_message_text("Hai", chat_id=USER, message_id=message.message_id)
    assert edited.text == "Hai" and edited.edit_date is not None
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Hai", chat_id=USER, message_id=message.message_id)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(USER, "a" * 4097)
    assert await bot.delete_message(USER, message.message_id)
    assert standin.messages_to(USER) == ["Một", "Hai"]


async def test_commands_descriptions_and_misc(standin: BotApiStandin, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Bắt đầu"), ("help", "Hướng dẫn")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    await bot.set_my_description("Trợ lý chính sách người khuyết tật")
    await bot.set_my_short_description("Hỏi đáp chính sách")
    assert standin.descriptions["description:"] == "Trợ lý chính sách người khuyết tật"
    await bot.send_chat_action(USER, "record_voice")
    original = await bot.send_message(USER, "Gốc")
    copied = await bot.copy_message(-100, USER, original.message_id)
    forwarded = await bot.forward_message(-100, USER, original.message_id)
    assert copied.message_id != forwarded.message_id != original.message_id
    assert forwarded.chat.type == "group" and forwarded.text == "Gốc"


async def test_unknown_method_and_wrong_token(standin: BotApiStandin, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendSomethingNew")
    assert standin.unknown_methods == ["sendSomethingNew"]
    assert standin.calls[-1].status == 404
    reply = _raw(standin, "getMe", token="999:WRONG")
    assert reply == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_rate_and_per_chat_counts(standin: BotApiStandin, bot: Bot) -> None:
    await asyncio.gather(*(bot.send_message(chat, "tin") for chat in (1, 1, 2, 3) * 3))
    assert standin.rate_per_second() == 12
    assert standin.per_chat_counts() == {1: 6, 2: 3, 3: 3}


# ----------------------------------------------------------------------- raw HTTP, no PTB
def test_long_poll_waits_then_honours_offset_limit_and_allowed_updates(
    standin: BotApiStandin,
) -> None:
    timer = threading.Timer(0.2, standin.send_text, (USER, "muộn"))
    timer.start()
    started = time.monotonic()
    first = _raw(standin, "getUpdates", timeout=5)["result"]
    assert 0.15 < time.monotonic() - started < 2
    assert [u["message"]["text"] for u in first] == ["muộn"]

    standin.send_sticker(USER)
    standin.press_button(USER, "x")
    standin.send_location(USER)
    offset = first[-1]["update_id"] + 1
    limited = _raw(standin, "getUpdates", offset=offset, limit=2)["result"]
    assert [next(k for k in u if k != "update_id") for u in limited] == [
        "message",
        "callback_query",
    ]
    only_buttons = _raw(standin, "getUpdates", offset=offset, allowed_updates=["callback_query"])
    assert [u["callback_query"]["data"] for u in only_buttons["result"]] == ["x"]
    started = time.monotonic()
    empty = _raw(standin, "getUpdates", offset=limited[-1]["update_id"] + 2, timeout=0.3)
    assert empty["result"] == [] and time.monotonic() - started >= 0.25
    assert standin.pending_updates() == 0


def test_stop_is_quick_while_a_poll_is_held() -> None:
    standin = BotApiStandin().start()
    replies: list[Any] = []
    poller = threading.Thread(
        target=lambda: replies.append(_raw(standin, "getUpdates", timeout=30))
    )
    poller.start()
    time.sleep(0.2)  # let the poll arrive and be held
    started = time.monotonic()
    standin.stop()
    poller.join(timeout=2)
    assert time.monotonic() - started < 1.0 and replies == [{"ok": True, "result": []}]


def test_a_newer_poll_ends_an_older_one_with_409(standin: BotApiStandin) -> None:
    replies: list[Any] = []
    old = threading.Thread(target=lambda: replies.append(_raw(standin, "getUpdates", timeout=10)))
    old.start()
    time.sleep(0.2)
    assert _raw(standin, "getUpdates", timeout=0)["result"] == []
    old.join(timeout=2)
    assert replies[0]["error_code"] == 409


def test_updates_look_like_telegrams(standin: BotApiStandin) -> None:
    standin.send_text(-500, "/start@nkt_test_bot xin", chat_id=-500)
    standin.send_photo(USER, caption="ảnh")
    standin.send_voice(USER)
    reply = _raw(standin, "sendMessage", chat_id=USER, text="Bạn cần gì?")["result"]
    standin.send_text(USER, "Trợ cấp", reply_to_message_id=reply["message_id"])
    updates = _raw(standin, "getUpdates")["result"]
    command = updates[0]["message"]
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 19}]
    assert command["chat"]["type"] == "group" and command["from"]["language_code"] == "vi"
    assert [p["width"] for p in updates[1]["message"]["photo"]] == [90, 800]
    voice = updates[2]["message"]["voice"]
    assert voice["mime_type"] == "audio/ogg"
    assert _raw(standin, "getFile", file_id=voice["file_id"])["result"]["file_path"]
    assert updates[3]["message"]["reply_to_message"]["text"] == "Bạn cần gì?"


def test_wait_for_times_out_with_a_summary(standin: BotApiStandin) -> None:
    _raw(standin, "sendMessage", chat_id=USER, text="có rồi")
    with pytest.raises(AssertionError, match=r"sendMessage \[200\]"):
        standin.wait_for_message(USER, "không có", timeout=0.2)
    assert standin.wait_for_message(USER, "có rồi").params["text"] == "có rồi"
    standin.clear()
    assert standin.calls == []
