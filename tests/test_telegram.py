"""The Telegram channel end to end: the real python-telegram-bot stack over HTTP, the stand-in.

Each test reads as an exchange: a user does something (types, presses a button, sends a
sticker), the bot answers. The bot under test is the real composition (`build_app` +
`build_application`) pointed at the Bot API stand-in with `TELEGRAM_API_URL`; nothing in the
adapter or the engine is mocked. One bot runs for the whole module (start-up costs about half a
second) and every test talks to it as a new user (the `bot` fixture, tests/conftest.py); tests
that need their own bot (restarts, logs from start-up) start one with `running_bot`. The harness
is tests/harness.py.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from bot.adapters import telegram as tg
from bot.core.dialogue import COMMANDS, LABEL_CONTACT, LABEL_VOICE_ON
from bot.core.messages import Reply
from tests.harness import (
    RunningBot,
    inline_buttons,
    keyboard_labels,
    question_with,
    running_bot,
    sends,
    texts,
)
from tests.standin import BotApiStandin

pytestmark = pytest.mark.asyncio(loop_scope="module")


# -- commands and menus -----------------------------------------------------------------------


async def test_start_greets_with_the_keyboard_and_the_menu(bot: RunningBot) -> None:
    replies = await bot.say("/start")

    welcome, menu = texts(replies)
    assert welcome.startswith("Xin chào")
    assert "/voice" in welcome
    labels = keyboard_labels(replies[0])
    assert LABEL_VOICE_ON in labels and LABEL_CONTACT in labels
    assert replies[0].params["reply_markup"]["is_persistent"] is True
    categories = [c.title for c in bot.app.knowledge.kb.categories if c.entry_ids]
    assert [label for label, _ in inline_buttons(replies[1])] == [
        f"{n}. {title}" for n, title in enumerate(categories, start=1)
    ]
    assert f"1. {categories[0]}" in menu
    assert all("parse_mode" not in c.params for c in replies)

    registered = next(iter(bot.standin.commands.values()))
    descriptions = {c["command"]: c["description"] for c in registered}
    assert descriptions == dict(bot.app.engine.commands())
    assert dict(COMMANDS).items() <= descriptions.items()
    assert {"start", "voice", "check", "contact", "forget", "help", "menu"} <= descriptions.keys()
    assert "giọng đọc" in descriptions["voice"] and "Xóa" in descriptions["forget"]


async def test_a_question_is_answered_in_plain_text_with_its_source(bot: RunningBot) -> None:
    question, decided = question_with(bot.app, "answer")
    entry = bot.app.knowledge.kb.entries[decided.id]

    replies = await bot.say(question)

    [answer] = texts(replies)
    assert answer.startswith(entry.title)
    source = answer.split("\n\n")[2] if len(answer.split("\n\n")) > 2 else answer
    assert "Nguồn:" in answer and "Cập nhật:" in answer, source
    assert entry.reviewed.strftime("%d/%m/%Y") in answer
    assert all("parse_mode" not in c.params for c in replies)
    assert [c.method for c in replies] == ["sendMessage"]  # voice is off by default


async def test_deep_link_opens_the_topic_and_still_gives_the_keyboard(bot: RunningBot) -> None:
    entry = next(e for e in bot.app.knowledge.kb.entries.values() if e.related)

    replies = await bot.say(f"/start {entry.id}")

    assert texts(replies)[0].startswith(entry.title)
    markups = [c.params.get("reply_markup") or {} for c in replies]
    assert any("keyboard" in m for m in markups), "the reply keyboard reaches the new user"
    assert any("inline_keyboard" in m for m in markups), "related topics stay as buttons"
    assert "Nguồn:" in "\n".join(texts(replies))


async def test_suggest_offers_buttons_and_numbers_and_both_pick(bot: RunningBot) -> None:
    question, decided = question_with(bot.app, "suggest")
    kb = bot.app.knowledge.kb

    [offer] = await bot.say(question)

    buttons = inline_buttons(offer)
    topics = [(label, data) for label, data in buttons if data.startswith("faq:")]
    assert topics, buttons
    for number, (label, _) in enumerate(buttons, start=1):
        assert label.startswith(f"{number}. ")
        assert label in offer.params["text"]  # the numbered list repeats every button
    first_id = topics[0][1].removeprefix("faq:")

    picked = await bot.press(topics[0][1], message_id=offer.result["message_id"])
    assert texts(picked)[0].startswith(kb.entries[first_id].title)
    assert bot.standin.unanswered_callbacks() == []

    await bot.say(question)
    typed = await bot.say("1")
    assert texts(typed)[0].startswith(kb.entries[first_id].title)


async def test_a_keyboard_category_lists_topics_and_a_number_opens_one(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = bot.app.knowledge.kb
    category = next(c for c in kb.categories if len(c.entry_ids) >= 2)
    decide_calls: list[str] = []
    real_decide = bot.app.knowledge.matcher.decide

    def spy(question: str) -> Any:
        decide_calls.append(question)
        return real_decide(question)

    monkeypatch.setattr(bot.app.knowledge.matcher, "decide", spy)

    [listing] = await bot.say(category.title)
    second = kb.entries[category.entry_ids[1]]
    assert f"2. {second.title}" in listing.params["text"]
    assert len(inline_buttons(listing)) == len(category.entry_ids)

    [answer] = await bot.say("2")
    assert answer.params["text"].startswith(second.title)

    await bot.say(LABEL_VOICE_ON)
    await bot.say("Danh mục chủ đề")
    assert decide_calls == [], "button texts and numbers never reach the matcher"


async def test_other_kinds_of_messages_get_one_polite_answer(bot: RunningBot) -> None:
    standin = bot.standin
    for kind, inject in (
        ("sticker", lambda: standin.send_sticker(bot.user)),
        ("photo", lambda: standin.send_photo(bot.user, caption="ảnh giấy tờ")),
        ("voice", lambda: standin.send_voice(bot.user)),
        ("document", lambda: standin.send_document(bot.user, "don.pdf", b"%PDF-1.4")),
        ("location", lambda: standin.send_location(bot.user)),
    ):
        replies = await bot.act(inject)
        assert len(replies) == 1, (kind, texts(replies))
        text = texts(replies)[0]
        assert text.startswith("Xin lỗi") or "gõ câu hỏi" in text, (kind, text)
        assert "sự cố" not in text, kind


async def test_buttons_are_always_answered_and_old_ones_say_they_expired(bot: RunningBot) -> None:
    unknown = await bot.press("zz:from-an-old-version")
    removed = await bot.press("faq:chu-de-da-go-bo")
    removed_category = await bot.press("cat:muc-da-go-bo")

    for replies in (unknown, removed, removed_category):
        notice, menu = texts(replies)
        assert any(w in notice for w in ("cũ", "gỡ bỏ", "không còn")), notice
        assert menu.startswith("Danh mục các chủ đề") or menu.startswith("1. ")
        assert inline_buttons(replies[1])
    assert bot.standin.unanswered_callbacks() == []


async def test_forget_confirms_and_voice_is_off_afterwards(bot: RunningBot) -> None:
    await bot.say("/voice on")
    assert bot.app.store.settings(bot.user).voice is True

    [confirmation] = await bot.say("/forget")
    assert "đã xóa" in confirmation.params["text"]
    assert bot.app.store.settings(bot.user).voice is False
    question, _ = question_with(bot.app, "answer")
    assert [c.method for c in await bot.say(question)] == ["sendMessage"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own
async def test_a_flood_wait_is_waited_out_and_the_answer_still_arrives(bot: RunningBot) -> None:
    question, _ = question_with(bot.app, "answer")
    bot.standin.fail_next("sendMessage", status=429, retry_after=1)

    replies = await bot.say(question)

    assert len(texts(replies)) == 1
    attempts = [
        c for c in bot.standin.calls_of("sendMessage") if c.params.get("chat_id") == bot.user
    ]
    assert [c.status for c in attempts[-2:]] == [429, 200]
    assert attempts[-1].time - attempts[-2].time >= 1.0


async def test_an_engine_failure_gets_one_polite_sentence(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(incoming: object) -> list[Reply]:
        raise RuntimeError("engine broke")

    monkeypatch.setattr(bot.app.engine, "handle", broken)
    replies = await bot.say("trợ cấp")

    assert texts(replies) == [tg.ERROR_TEXT]
    assert tg.ERROR_TEXT.count(".") == 1  # one sentence
    assert "RuntimeError" in caplog.text
    monkeypatch.undo()
    question, _ = question_with(bot.app, "answer")
    assert "Nguồn:" in texts(await bot.say(question))[0], "the bot goes on after a failure"


async def test_the_token_and_message_text_stay_out_of_the_logs(
    bot_env: Path,
    standin: BotApiStandin,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("httpx").setLevel(logging.NOTSET)  # as in a fresh process
    caplog.set_level(logging.INFO)
    secret_question = "Con tôi tên Nguyễn Văn Bí Mật được hưởng trợ cấp gì"
    async with running_bot(standin) as running:
        await running.say("/start")
        answer = texts(await running.say(secret_question))[0]
        await running.say("/voice on")
        await running.say(secret_question)
        await running.press("faq:khong-co")

    out, err = capsys.readouterr()
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "the bot logs something at INFO"
    for where in (logged, out, err):
        assert standin.token not in where
        assert standin.token.split(":")[1] not in where
        assert "Bí Mật" not in where
        assert answer.splitlines()[0] not in where


async def test_a_long_reply_is_split_at_paragraphs(bot: RunningBot) -> None:
    paragraphs = [f"Đoạn {i}: " + "quyền lợi của người khuyết tật " * 8 for i in range(20)]
    long_text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(long_text) > 5000
    reply = Reply(long_text, buttons=(), keyboard=None)
    mark = bot.standin.mark()

    ids = await tg.send_replies(bot.application.bot, bot.app, bot.user, [reply])

    chunks = texts(sends(bot.standin, bot.user, mark))
    assert len(ids) == len(chunks) >= 2
    assert all(len(c) < 4096 for c in chunks)
    assert "\n\n".join(chunks) == long_text  # nothing lost, cut only between paragraphs
    assert all(c.startswith("Đoạn ") for c in chunks)


async def test_chunks_count_emoji_as_telegram_does() -> None:
    text = "\n\n".join(["🙂" * 1500] * 3)  # 4,500 characters but 9,000 UTF-16 units
    chunks = tg.message_chunks(text)
    assert all(len(c.encode("utf-16-le")) // 2 <= 4096 for c in chunks)
    assert "".join(chunks).count("🙂") == 4500


async def test_many_users_at_once_are_all_answered(bot: RunningBot) -> None:
    kb = bot.app.knowledge.kb
    questions = [q for e in kb.entries.values() for q in e.questions][:20]
    users = [bot.as_new_user().user for _ in range(20)]
    mark = bot.standin.mark()
    started = time.perf_counter()

    for i, user in enumerate(users):
        bot.standin.send_text(user, questions[i % len(questions)])
        bot.standin.send_text(user, questions[(i + 7) % len(questions)])
    await bot.settle(timeout=20)
    elapsed = time.perf_counter() - started

    for user in users:
        assert len(texts(sends(bot.standin, user, mark))) == 2
    assert elapsed < 5.0, f"40 answers took {elapsed:.2f} s"
