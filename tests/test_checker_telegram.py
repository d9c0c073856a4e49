"""The /check conversation through the real PTB stack and the Bot API stand-in: buttons and
typed numbers, a restart in the middle (the step is kept in SQLite), the result with amounts,
and nothing of the answers kept afterwards."""

from __future__ import annotations

from pathlib import Path

from tests.harness import bot_environment, inline_buttons, running_bot, texts
from tests.standin import BotApiStandin


def _button(call, starts: str) -> str:
    return next(data for label, data in inline_buttons(call) if starts in label)


async def test_check_by_buttons_and_numbers_across_a_restart(tmp_path: Path) -> None:
    with BotApiStandin() as standin, bot_environment(tmp_path / "data", standin):
        async with running_bot(standin) as bot:
            first = await bot.say("/check")
            assert "Câu 1" in texts(first)[-1]
            level = _button(first[-1], "Đặc biệt nặng")
            second = await bot.press(level)
            assert "Câu 2" in texts(second)[-1]
            state = bot.app.store.get_state(bot.user)
            assert "checker" in state
        # The bot restarts between two answers: the conversation goes on where it was.
        async with running_bot(standin) as bot:
            third = await bot.say("3")  # age band: 60 or older
            assert "Câu 3" in texts(third)[-1]
            fourth = await bot.say("1")  # not pregnant, no small children
            assert "Câu 4" in texts(fourth)[-1]
            result = await bot.press(_button(fourth[-1], "Gia đình"))
            shown = "\n".join(texts(result))
            # 2.5 x 650.000 (Hà Nội 2026) + household care 1.0 x 650.000
            assert "1.625.000 đồng" in shown and "650.000 đồng" in shown
            assert "UBND" in shown
            assert bot.app.store.get_state(bot.user).get("checker") is None
            assert standin.unanswered_callbacks() == []
