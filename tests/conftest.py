"""Shared fixtures: the real knowledge base (loaded once), a scratch data dir, an App."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.yaml"


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
