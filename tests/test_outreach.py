"""Outreach, the hand-off and subscriptions: dialogue-level exchanges, then through Telegram.

The first tests drive the real engine with the outreach package installed (real SQLite in a
temp dir); the last ones run the real bot against the Bot API stand-in, including a ticket
that survives a restart between the question and the staff reply. `outreach_config`,
`declined_question`, `running` and the `app` / `tg_env` fixtures are shared with
tests/test_outreach_broadcast.py and benchmarks/bench_broadcast.py; the Telegram harness is
tests/harness.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import App, build_app
from bot.config import load_settings
from bot.core.messages import Incoming, Reply
from tests.harness import RunningBot, point_env_at, running_bot, sends, texts
from tests.standin import BotApiStandin

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 900_001
OTHER_ADMIN = 900_002
STAFF = 4_321  # a staff member in the staff group who is not an admin
STAFF_CHAT = -100_777
USER = 5_001
NONSENSE = (
    "cá sấu bay lên trời lúc nửa đêm",
    "xyzzy plugh qwerty",
    "con mèo nhà hàng xóm tên là gì",
    "giá vé máy bay đi sao hỏa",
)


def outreach_config(tmp_path: Path, staff_chat: int | None = STAFF_CHAT) -> Path:
    """The project's config.yaml with the real knowledge, eSpeak only and a staff chat."""
    values = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    values.update(
        knowledge_dir=str(ROOT / "knowledge"), voice_engines=["espeak"], staff_chat_id=staff_chat
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    return path


def declined_question(app: App) -> str:
    for question in NONSENSE:
        if app.knowledge.matcher.decide(question).decision == "decline":
            return question
    raise AssertionError("no test question is declined by the current knowledge")


def _configure(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    admins: str = f"{ADMIN},{OTHER_ADMIN}",
    staff_chat: int | None = STAFF_CHAT,
) -> None:
    monkeypatch.setenv("BOT_CONFIG", str(outreach_config(tmp_path, staff_chat)))
    monkeypatch.setenv("BOT_ADMIN_IDS", admins)


@pytest.fixture
def app(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    _configure(monkeypatch, tmp_path)
    built = build_app(load_settings())
    yield built
    built.close()


def say(app: App, text: str, user: int = USER, chat: int | None = None, **kw: Any) -> list[Reply]:
    return app.engine.handle(Incoming(user, user if chat is None else chat, text=text, **kw))


def press(app: App, payload: str, user: int = USER) -> list[Reply]:
    return app.engine.handle(Incoming(user, user, payload=payload))


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def rows(app: App, sql: str, args: tuple = ()) -> list[tuple]:
    return app.store.query(sql, args)


# -- the hand-off, in the dialogue ------------------------------------------------------------


def test_a_declined_question_is_kept_off_disk_until_the_user_agrees(app: App) -> None:
    question = declined_question(app)

    decline, offer = say(app, question)

    assert "chưa có thông tin" in decline.text
    assert offer.text.endswith("3. Gửi câu hỏi này cho cán bộ")
    assert "giờ hành chính" in offer.text
    assert [b.payload for b in offer.buttons] == ["handoff:send"]
    assert rows(app, "SELECT COUNT(*) FROM outreach_tickets") == [(0,)]
    kept = [value for (value,) in rows(app, "SELECT value FROM outreach_pending")]
    assert kept and question not in kept  # a token, never the question

    (created,) = say(app, "3")  # the typed number of the offer is the consent

    assert "số phiếu 1" in created.text and "giờ hành chính" in created.text
    assert rows(app, "SELECT id, user_id, question, status FROM outreach_tickets") == [
        (1, USER, question, "open")
    ]
    assert rows(app, "SELECT COUNT(*) FROM outreach_pending") == [(0,)]


def test_the_offer_number_only_counts_while_the_decline_is_on_screen(app: App) -> None:
    say(app, declined_question(app))
    say(app, "1")  # the menu: its options replace the decline's

    replies = say(app, "3")

    assert rows(app, "SELECT COUNT(*) FROM outreach_tickets") == [(0,)]
    assert "số phiếu" not in joined(replies)
    # The button under the offer still works afterwards: pressing it is explicit consent.
    assert "số phiếu 1" in joined(press(app, "handoff:send"))


def test_contact_lets_the_user_write_a_question_or_change_their_mind(app: App) -> None:
    say(app, "/subscribe")
    contact = say(app, "/contact")
    offer = contact[-1]
    number = offer.text.rsplit("\n", 1)[1].split(".")[0]
    assert offer.text.endswith(f"{number}. Gửi câu hỏi cho cán bộ")

    (prompt,) = say(app, number)
    assert "viết câu hỏi" in prompt.text and "1. Thôi, không gửi" in prompt.text
    (cancelled,) = say(app, "hủy")  # here "hủy" cancels the question, not the subscription
    assert "không gửi gì" in cancelled.text
    assert app.outreach.subscriptions.is_subscribed(USER)

    press(app, "handoff:start")
    assert "ngắn quá" in say(app, "ờ")[0].text
    (created,) = say(app, "Con tôi 7 tuổi bị tự kỷ, xin hỏi trường nào ở Cầu Giấy nhận học?")
    assert "số phiếu 1" in created.text
    assert rows(app, "SELECT question FROM outreach_tickets") == [
        ("Con tôi 7 tuổi bị tự kỷ, xin hỏi trường nào ở Cầu Giấy nhận học?",)
    ]
    # The question prompt is over: the next message is a question for the bot again.
    say(app, "trợ cấp hằng tháng")
    assert rows(app, "SELECT COUNT(*) FROM outreach_tickets") == [(1,)]


def test_contact_after_a_decline_offers_that_question_or_a_new_one(app: App) -> None:
    question = declined_question(app)
    say(app, question)
    press(app, "contact:")  # "2. Liên hệ cán bộ" under the decline

    (confirm,) = press(app, "handoff:start")

    assert question in confirm.text
    assert [b.payload for b in confirm.buttons] == [
        "handoff:send",
        "handoff:write",
        "handoff:cancel",
    ]
    say(app, "2")  # write another one
    say(app, "Tôi muốn hỏi về việc làm cho người khiếm thị ở Đông Anh")
    assert rows(app, "SELECT question FROM outreach_tickets") == [
        ("Tôi muốn hỏi về việc làm cho người khiếm thị ở Đông Anh",)
    ]


def test_staff_commands_are_refused_to_others_like_unknown_commands(app: App) -> None:
    say(app, "Xin hỏi chế độ cho người khiếm thính học nghề ở Sóc Sơn", user=USER)
    for command in ("/tickets", "/broadcast Thông báo giả", "/traloi 1 Xin chào"):
        (refused,) = say(app, command)
        head = command.split()[0]
        assert refused.text.startswith(f"Tôi chưa biết lệnh {head}.")
    assert rows(app, "SELECT COUNT(*) FROM outreach_broadcasts") == [(0,)]


def test_forget_removes_subscription_tickets_and_the_offer(app: App) -> None:
    question = declined_question(app)
    say(app, "/subscribe")
    press(app, "handoff:start")
    say(app, "Câu hỏi riêng về hồ sơ của mẹ tôi ở Thanh Xuân")
    say(app, question)  # an offer is pending

    say(app, "/forget")

    for table in ("outreach_subscribers", "outreach_tickets", "outreach_pending"):
        assert rows(app, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (USER,)) == [(0,)]
    # The offered question is gone too: its button asks to write the question again.
    (again,) = press(app, "handoff:send")
    assert again.text.startswith("Tôi không còn giữ câu hỏi vừa rồi")
    assert rows(app, "SELECT COUNT(*) FROM outreach_tickets") == [(0,)]


def test_subscription_words_only_count_as_a_whole_message(app: App) -> None:
    say(app, "Đăng ký xác nhận mức độ khuyết tật thế nào?")
    assert not app.outreach.subscriptions.is_subscribed(USER)
    say(app, "ĐĂNG KÝ!")
    assert app.outreach.subscriptions.is_subscribed(USER)
    say(app, "huy dang ky")
    assert not app.outreach.subscriptions.is_subscribed(USER)
    (group,) = say(app, "/subscribe", chat=-100_123)
    assert "nhắn riêng" in group.text
    assert not app.outreach.subscriptions.is_subscribed(USER)


# -- through Telegram -------------------------------------------------------------------------


def running(standin: BotApiStandin) -> AbstractAsyncContextManager[RunningBot]:
    """The real bot polling the stand-in with the configured voice (eSpeak only here)."""
    return running_bot(standin, speech="default")


@pytest.fixture
def tg_env(bot_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bot of its own pointed at `standin` (tests/conftest.py), configured for outreach."""
    _configure(monkeypatch, tmp_path)
    return bot_env


async def test_subscribe_and_unsubscribe_by_command_and_by_words(
    tg_env: Path, standin: BotApiStandin
) -> None:
    async with running(standin) as bot:
        steps = [
            ("/subscribe", "Bạn đã đăng ký nhận thông báo.", True),
            ("/subscribe", "đã đăng ký nhận thông báo rồi", True),
            ("Hủy", "Bạn đã hủy đăng ký.", False),
            ("huy", "Bạn chưa đăng ký", False),
            ("đăng ký", "Bạn đã đăng ký nhận thông báo.", True),
            ("/unsubscribe", "Bạn đã hủy đăng ký.", False),
            ("dang ky", "Bạn đã đăng ký nhận thông báo.", True),
            ("hủy đăng ký", "Bạn đã hủy đăng ký.", False),
        ]
        for text, expected, subscribed in steps:
            (reply,) = texts(await bot.say(text, USER))
            assert expected in reply, (text, reply)
            assert bot.app.outreach.subscriptions.is_subscribed(USER) is subscribed, text


async def test_a_ticket_survives_a_restart_and_the_staff_reply_reaches_a_voice_user(
    tg_env: Path, standin: BotApiStandin
) -> None:
    async with running(standin) as bot:
        await bot.say("/voice on", USER)
        question = declined_question(bot.app)
        offer = texts(await bot.say(question, USER))[-1]
        assert "3. Gửi câu hỏi này cho cán bộ" in offer
        confirmed = texts(await bot.press("handoff:send", USER))
        assert "số phiếu 1" in confirmed[0] and "giờ hành chính" in confirmed[0]
        notice = await standin.wait_for_message_async(STAFF_CHAT, "Phiếu #1")
        text = str(notice.params["text"])
        assert question in text and "giọng đọc" in text
        assert str(USER) not in text and "User" not in text  # no id, no name
        staff_message = int(notice.result["message_id"])

    voices_before = len(standin.voices_to(USER))
    async with running(standin) as bot:  # a new process: nothing carried over in memory
        mark = standin.mark()
        sent_at = time.monotonic()
        standin.send_text(
            STAFF,
            "Chào bạn, bạn liên hệ UBND phường để được hướng dẫn nhé.",
            chat_id=STAFF_CHAT,
            reply_to_message_id=staff_message,
        )
        relayed = await standin.wait_for_message_async(
            USER, "UBND phường", timeout=5.0, after_index=mark
        )
        latency = relayed.time - sent_at
        assert "phiếu số 1" in str(relayed.params["text"])
        await standin.wait_for_async(
            lambda c: c.method == "sendVoice" and c.params.get("chat_id") == USER,
            after_index=mark,
        )
        await standin.wait_for_message_async(STAFF_CHAT, "Phiếu #1 đã đóng", after_index=mark)
        ticket = bot.app.outreach.tickets.get(1)
        assert ticket is not None and ticket.status == "closed"
        assert len(standin.voices_to(USER)) == voices_before + 1

        # A second reply to the same notice is refused, not relayed.
        mark = standin.mark()
        standin.send_text(STAFF, "Bổ sung", chat_id=STAFF_CHAT, reply_to_message_id=staff_message)
        await standin.wait_for_message_async(STAFF_CHAT, "đã được trả lời", after_index=mark)
        assert [t for t in texts(sends(standin, USER, mark)) if "Bổ sung" in t] == []
    print(f"\nstaff reply relayed {latency * 1000:.0f} ms after it was sent (after a restart)")
    assert latency < 2.0


async def test_without_a_staff_chat_every_admin_gets_the_ticket_and_can_answer(
    env: dict[str, str], tmp_path: Path, standin: BotApiStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, tmp_path, staff_chat=None)
    point_env_at(monkeypatch, standin)
    async with running(standin) as bot:
        await bot.press("handoff:start", USER)
        await bot.say("Xin hỏi về hỗ trợ sửa nhà cho người khuyết tật ở Ba Vì", USER)
        await bot.press("handoff:start", USER)
        await bot.say("Thủ tục xin xe lăn miễn phí ở đâu?", USER)
        for admin in (ADMIN, OTHER_ADMIN):
            await standin.wait_for_message_async(admin, "Phiếu #2")
        first = await standin.wait_for_message_async(OTHER_ADMIN, "Phiếu #1")

        listing = texts(await bot.say("/tickets", ADMIN))[0]
        assert "Phiếu đang mở: 2." in listing and "#1 ·" in listing and "xe lăn" in listing

        # One admin answers by replying in their private chat, the other with /traloi.
        mark = standin.mark()
        standin.send_text(
            OTHER_ADMIN, "Bạn hỏi UBND xã nhé.", reply_to_message_id=int(first.result["message_id"])
        )
        await standin.wait_for_message_async(USER, "Bạn hỏi UBND xã nhé.", after_index=mark)
        await bot.say("/traloi 2 Bạn gọi Hội Người khuyết tật TP nhé.", ADMIN)
        await standin.wait_for_message_async(USER, "Hội Người khuyết tật TP", after_index=mark)
        await standin.wait_for_message_async(ADMIN, "Phiếu #2 đã đóng", after_index=mark)
        assert texts(await bot.say("/tickets", ADMIN)) == ["Không có phiếu nào đang mở."]
        assert standin.voices_to(USER) == []  # this user has voice off
