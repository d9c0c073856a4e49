"""Shared fixtures: the real knowledge base (loaded once), a scratch data dir, an App, and the
Bot API stand-in with bots running against it (the harness itself is tests/harness.py)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from bot.core.knowledge import KnowledgeBase, load_knowledge
from tests.harness import RunningBot, bot_environment, point_env_at, running_bot
from tests.standin import BotApiStandin

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.yaml"
RULES_FILE = KNOWLEDGE / "entitlements.yaml"
TODAY = date(2026, 11, 29)  # the day the rules tests are written for


@pytest.fixture(scope="session")
def rules():
    """The real entitlement rules, loaded once and checked clean."""
    from bot.core.entitlements import load_rules

    loaded, problems = load_rules(RULES_FILE)
    assert problems == [] and loaded is not None
    return loaded


@pytest.fixture(scope="session")
def real_kb() -> KnowledgeBase:
    result = load_knowledge(KNOWLEDGE)
    assert result.ok, [str(p) for p in result.problems]
    assert result.kb is not None
    return result.kb


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A writable copy of the real knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for a bot with its own data dir and no Telegram token."""
    data = tmp_path / "data"
    monkeypatch.setenv("BOT_DATA_DIR", str(data))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_API_URL", raising=False)
    monkeypatch.delenv("BOT_ADMIN_IDS", raising=False)
    monkeypatch.delenv("BOT_KNOWLEDGE_DIR", raising=False)
    monkeypatch.delenv("BOT_CONFIG", raising=False)
    return {"BOT_DATA_DIR": str(data)}


@pytest.fixture
def app(env):
    from bot.app import build_app
    from bot.config import load_settings

    application = build_app(load_settings())
    yield application
    application.close()


@pytest.fixture
def standin() -> Iterator[BotApiStandin]:
    with BotApiStandin() as server:
        yield server


@pytest.fixture
def bot_env(env: dict[str, str], standin: BotApiStandin, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of a bot of its own, pointed at `standin`; returns BOT_DATA_DIR."""
    point_env_at(monkeypatch, standin)
    return Path(env["BOT_DATA_DIR"])


@pytest.fixture(scope="module")
def shared_standin() -> Iterator[BotApiStandin]:
    with BotApiStandin() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_bot(
    shared_standin: BotApiStandin, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningBot]:
    """A bot running for the whole test module (start-up costs about half a second)."""
    with bot_environment(tmp_path_factory.mktemp("bot-data"), shared_standin):
        async with running_bot(shared_standin) as running:
            yield running


@pytest.fixture
def bot(shared_bot: RunningBot) -> RunningBot:
    """The module's running bot, talking to a user it has never seen."""
    return shared_bot.as_new_user()
