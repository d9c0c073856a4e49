"""Settings: one declared table (name, default, help), loaded from config.yaml with env overrides.

`load_settings()` reads the YAML with `yaml.safe_load`, rejects unknown keys and wrong types with
the key's name, applies environment overrides (BOT_CONFIG, BOT_KNOWLEDGE_DIR, BOT_DATA_DIR,
BOT_ADMIN_IDS, TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL) and returns a frozen `Settings`. Secrets
come only from the environment and are never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = field(default=Path("knowledge"), metadata={"help": "knowledge folder"})
    data_dir: Path = field(default=Path("data"), metadata={"help": "state folder"})
    default_region: str = field(default="ha-noi", metadata={"help": "ha-noi or national"})
    match_answer: float = field(default=54.0, metadata={"help": "score to answer directly"})
    match_suggest: float = field(default=48.0, metadata={"help": "score to suggest"})
    match_margin: float = field(default=3.0, metadata={"help": "lead over the runner-up"})
    match_answer_no_domain: float = field(
        default=70.0, metadata={"help": "score to answer a question with no domain word"}
    )
    match_suggest_no_domain: float = field(
        default=70.0, metadata={"help": "score to suggest for a question with no domain word"}
    )
    voice_engines: tuple[str, ...] = field(default=("gtts", "espeak"), metadata={"help": "order"})
    gtts_timeout_seconds: float = field(default=4.0, metadata={"help": "gTTS timeout"})
    gtts_cooldown_seconds: float = field(
        default=300.0, metadata={"help": "skip gTTS after failure"}
    )
    bot_username: str = field(default="HanoiNKTBot", metadata={"help": "for deep links"})
    admins: tuple[int, ...] = field(default=(), metadata={"help": "admin Telegram user ids"})
    staff_chat_id: int | None = field(default=None, metadata={"help": "staff chat id"})
    log_retention_days: int = field(default=180, metadata={"help": "question-log retention"})
    # From the environment only:
    telegram_token: str | None = field(default=None, repr=False, metadata={"env_only": True})
    telegram_api_url: str | None = field(default=None, metadata={"env_only": True})
    config_path: Path | None = field(default=None, metadata={"env_only": True})


_TYPES: dict[str, type] = {
    "knowledge_dir": Path,
    "data_dir": Path,
    "default_region": str,
    "match_answer": float,
    "match_suggest": float,
    "match_margin": float,
    "match_answer_no_domain": float,
    "match_suggest_no_domain": float,
    "voice_engines": tuple,
    "gtts_timeout_seconds": float,
    "gtts_cooldown_seconds": float,
    "bot_username": str,
    "admins": tuple,
    "staff_chat_id": int,
    "log_retention_days": int,
}


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    if value is None:
        if name == "staff_chat_id":
            return None
        raise ConfigError(f"config key '{name}' must not be empty")
    try:
        if kind is Path:
            return Path(str(value))
        if kind is tuple:
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split() if v]
            if not isinstance(value, list | tuple):
                raise TypeError
            return tuple(int(v) for v in value) if name == "admins" else tuple(map(str, value))
        if kind is float:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if kind is int:
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"config key '{name}' has a wrong value: {value!r}") from None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    config_path = Path(env.get("BOT_CONFIG") or PROJECT_ROOT / "config.yaml")
    values: dict[str, Any] = {}
    if config_path.exists():
        try:
            raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 1
            raise ConfigError(f"{config_path}:{line}: YAML syntax error") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{config_path}: must be a mapping of key: value")
        for key, value in raw.items():
            if key not in _TYPES:
                known = ", ".join(sorted(_TYPES))
                raise ConfigError(f"{config_path}: unknown config key '{key}' (known: {known})")
            values[key] = _coerce(key, value)
    elif "BOT_CONFIG" in env:
        raise ConfigError(f"config file not found: {config_path}")
    base = config_path.parent
    for key in ("knowledge_dir", "data_dir"):
        path = values.get(key, Settings.__dataclass_fields__[key].default)
        values[key] = path if path.is_absolute() else (base / path)
    if env.get("BOT_KNOWLEDGE_DIR"):
        values["knowledge_dir"] = Path(env["BOT_KNOWLEDGE_DIR"]).resolve()
    if env.get("BOT_DATA_DIR"):
        values["data_dir"] = Path(env["BOT_DATA_DIR"]).resolve()
    if env.get("BOT_ADMIN_IDS"):
        extra = _coerce("admins", env["BOT_ADMIN_IDS"])
        values["admins"] = tuple(dict.fromkeys((*values.get("admins", ()), *extra)))
    if values.get("default_region", "ha-noi") not in ("ha-noi", "national"):
        raise ConfigError("config key 'default_region' must be 'ha-noi' or 'national'")
    values["telegram_token"] = env.get("TELEGRAM_BOT_TOKEN") or None
    values["telegram_api_url"] = (env.get("TELEGRAM_API_URL") or "").rstrip("/") or None
    values["config_path"] = config_path
    return Settings(**values)
