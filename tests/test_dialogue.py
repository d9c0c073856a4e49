"""Conversations with the channel-independent engine, read as exchanges: user says X, bot says Y."""

from __future__ import annotations

from bot.core.dialogue import LABEL_CONTACT, LABEL_VOICE_ON
from bot.core.messages import Incoming, MediaKind

USER = 42


def say(app, text: str, user: int = USER):
    return app.engine.handle(Incoming(user, user, text=text))


def press(app, payload: str, user: int = USER):
    return app.engine.handle(Incoming(user, user, payload=payload))


def texts(replies) -> str:
    return "\n---\n".join(r.text for r in replies)


def test_start_welcomes_shows_keyboard_and_numbered_menu(app):
    replies = say(app, "/start")
    assert "Xin chào" in replies[0].text
    assert replies[0].keyboard is not None
    labels = [label for row in replies[0].keyboard for label in row]
    assert LABEL_VOICE_ON in labels and LABEL_CONTACT in labels
    menu = replies[-1]
    assert menu.buttons and all(b.number for b in menu.buttons)
    assert "1. " in menu.text
    assert not any(len(b.label.strip()) < 3 for b in menu.buttons)  # no emoji-only labels


def test_question_answered_with_source_and_review_date(app):
    reply = say(app, "the bao hiem y te cho nguoi khuyet tat")[0]
    assert reply.text.startswith("Thẻ bảo hiểm y tế")
    assert "Nguồn:" in reply.text and "Cập nhật:" in reply.text
    assert reply.speak is None  # voice is off by default


def test_number_picks_from_the_last_numbered_list(app):
    menu = say(app, "/menu")[0]
    first_category = menu.buttons[0]
    topics = say(app, "1")[0]
    assert first_category.label in topics.text
    second_topic = topics.buttons[1]
    answer = say(app, "2")[0]
    assert answer.text.startswith(second_topic.label)


def test_keyboard_label_routes_to_its_action_not_the_matcher(app):
    kb = app.knowledge.kb
    category = kb.categories[0]
    reply = say(app, category.title)[0]
    assert reply.text.startswith(category.title)
    assert len(reply.buttons) == len(category.entry_ids)


def test_voice_toggle_persists_and_answers_carry_speech(app):
    assert "Đã bật giọng đọc" in say(app, "/voice on")[0].text
    reply = say(app, "muc chuan tro giup xa hoi la gi")[0]
    assert reply.speak and "đồng" in reply.speak
    assert "Đã tắt" in say(app, "/voice")[0].text
    assert say(app, "muc chuan tro giup xa hoi la gi")[0].speak is None


def test_old_button_for_a_removed_topic_says_so(app):
    replies = press(app, "faq:chu-de-da-xoa")
    assert "thay đổi hoặc gỡ bỏ" in replies[0].text
    assert replies[-1].buttons  # the menu follows


def test_unknown_payload_and_unknown_command(app):
    assert "đã cũ" in press(app, "zzz:1")[0].text
    reply = say(app, "/khongco")[0]
    assert "Tôi chưa biết lệnh /khongco" in reply.text and "/voice" in reply.text


def test_media_gets_a_kind_reply(app):
    for kind in (MediaKind.STICKER, MediaKind.PHOTO, MediaKind.VOICE, MediaKind.LOCATION):
        reply = app.engine.handle(Incoming(USER, USER, media=kind))[0]
        assert reply.text and ("gõ câu hỏi" in reply.text)


def test_out_of_scope_declined_kindly_with_menu_and_contact(app):
    reply = say(app, "Dự báo thời tiết ngày mai")[0]
    assert reply.text.startswith("Xin lỗi, tôi chưa có thông tin")
    payloads = [b.payload for b in reply.buttons]
    assert "menu:" in payloads and "contact:" in payloads


def test_long_message_is_handled(app):
    replies = say(app, "trợ cấp " + "rất dài " * 600)
    assert replies and replies[0].text


def test_suggest_offers_numbered_candidates_and_the_number_answers(app):
    matcher = app.knowledge.matcher
    question = next(
        q
        for q in ("tro cap", "giay to", "ho tro nguoi khuyet tat", "khuyet tat", "mien phi")
        if matcher.decide(q).decision == "suggest"
    )
    reply = say(app, question)[0]
    assert reply.buttons[0].number == 1 and "1. " in reply.text
    chosen = reply.buttons[0]
    answer = say(app, "1")[0]
    assert answer.text.startswith(chosen.label)


def test_deep_link_start_opens_the_topic(app):
    replies = say(app, "/start xe-buyt-mien-phi-ha-noi")
    assert replies[0].text.startswith("Xe buýt miễn phí")


def test_forget_deletes_settings_and_confirms(app):
    say(app, "/voice on")
    say(app, "/menu")
    reply = say(app, "/forget")[0]
    assert "đã xóa" in reply.text
    assert app.store.settings(USER).voice is False
    assert app.store.get_state(USER) == {}


def test_group_chat_gets_no_answers(app):
    replies = app.engine.handle(Incoming(USER, -100, text="trợ cấp người khuyết tật"))
    assert replies == []


def test_checker_runs_in_the_console_engine_too(app):
    first = say(app, "/check")[0]
    assert first.buttons
    say(app, "1")  # đặc biệt nặng
    say(app, "2")  # 16-59
    say(app, "1")  # not pregnant
    result = say(app, "1")  # carer: household (or next option)
    assert any("đồng" in r.text for r in result)
    assert "checker" not in app.store.get_state(USER)


def test_console_chat_runs_the_checker_to_a_result(app):
    """The console adapter itself, fed like a pipe: /check answered by typed numbers."""
    import io

    from bot.adapters.console import run_console

    out = io.StringIO()
    run_console(app, io.StringIO("/check\n2\n70\n1\n"), out)
    shown = out.getvalue()
    assert "Câu 1" in shown and "Câu 2" in shown and "Câu 3" in shown
    assert "1.300.000 đồng" in shown  # khuyết tật nặng, 60+: hệ số 2 x 650.000 (Hà Nội 2026)
    assert "UBND" in shown
    assert shown.rstrip().endswith("Tạm biệt!")


def test_small_talk_gets_a_friendly_line_not_a_decline(app):
    for text, expected in (
        ("Xin chào!", "Xin chào"),
        ("cam on ban nhieu", "Không có gì"),
        ("ok ạ", "Vâng"),
        ("dạ", "Vâng"),
        ("Tạm biệt", "Tạm biệt"),
    ):
        replies = say(app, text)
        assert len(replies) == 1 and replies[0].text.startswith(expected), (text, replies)
    assert say(app, "xin chào, cho em hỏi về trợ cấp khuyết tật nặng")[0].text != "Xin chào"
