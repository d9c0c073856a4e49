"""The rules file is the only home of an amount: change the base rate there, reload, and every
answer, voice note text and checker result follows, with no code change."""

from __future__ import annotations

from bot.app import build_app
from bot.config import load_settings
from bot.core.knowledge import load_knowledge
from bot.core.messages import Incoming
from bot.speech.normalize import text_for_speech

USER = 9


def _say(app, text):
    return app.engine.handle(Incoming(USER, USER, text=text))


def _checker_result(app) -> str:
    _say(app, "/check")
    _say(app, "1")  # đặc biệt nặng
    _say(app, "2")  # 16-59 tuổi
    _say(app, "1")  # không mang thai, không nuôi con nhỏ
    replies = _say(app, "3")  # không ai nhận chăm sóc / tự lo
    return "\n".join(r.text for r in replies)


def test_changing_the_base_rate_changes_answers_voice_and_checker(env, knowledge_copy, monkeypatch):
    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(knowledge_copy))
    app = build_app(load_settings())
    try:
        _say(app, "/voice on")
        before = _say(app, "người khuyết tật đặc biệt nặng được trợ cấp bao nhiêu tiền")[0]
        assert "1.300.000 đồng" in before.text  # 2 x 650.000 (Hà Nội, 2026)
        assert "1.300.000 đồng" in _checker_result(app)

        rules = knowledge_copy / "entitlements.yaml"
        text = rules.read_text(encoding="utf-8")
        assert text.count("amount: 650000") == 1
        rules.write_text(text.replace("amount: 650000", "amount: 700000"), encoding="utf-8")
        result = load_knowledge(knowledge_copy)
        assert result.ok, result.problems
        app.knowledge.swap(result.kb)

        after = _say(app, "người khuyết tật đặc biệt nặng được trợ cấp bao nhiêu tiền")[0]
        assert "1.400.000 đồng" in after.text and "1.300.000 đồng" not in after.text
        assert after.speak and "một triệu bốn trăm nghìn đồng" in text_for_speech(after.speak)
        assert "1.400.000 đồng" in _checker_result(app)
    finally:
        app.close()
