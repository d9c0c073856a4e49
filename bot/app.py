"""The composition root: the only module that knows every concrete class.

Builds Settings -> KnowledgeBase (validated; the last good copy is kept in BOT_DATA_DIR so a bad
edit never stops a restart) -> Matcher -> SqliteStore -> Engine, and the speech service for
adapters that speak. Heavy imports (speech, Telegram) happen only when asked for.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.dialogue import Engine, KnowledgeHolder
from bot.core.knowledge import KnowledgeBase, LoadResult, load_knowledge
from bot.core.matching import Matcher, Thresholds
from bot.errors import KnowledgeError
from bot.storage.sqlite import SqliteStore

log = logging.getLogger(__name__)

LAST_GOOD = "last-good-knowledge"
# Feature packages that plug into the engine, the channels and the CLI. Each may define
# `install(app)` (register commands, payload handlers, background jobs) and
# `register_cli(subparsers) -> dict[name, handler(args, settings) -> int]`.
FEATURES = ("bot.staff", "bot.outreach")


def feature_modules() -> list[Any]:
    import importlib
    import importlib.util

    return [importlib.import_module(n) for n in FEATURES if importlib.util.find_spec(n)]


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        answer=settings.match_answer,
        suggest=settings.match_suggest,
        margin=settings.match_margin,
        answer_no_domain=settings.match_answer_no_domain,
        suggest_no_domain=settings.match_suggest_no_domain,
    )


def matcher_factory(settings: Settings):
    limits = thresholds(settings)
    return lambda kb: Matcher(kb, limits)


def _folder_digest(folder: Path) -> str:
    """Hash of every YAML file under `folder` (names and contents)."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.y*ml")):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


_CACHE_SOURCES = (
    "core/knowledge.py",
    "core/text.py",
    "core/matching.py",
    "core/yamlsource.py",
    "core/entitlements.py",
    "core/entitlement_rules.py",
    "core/placeholders.py",
)


def _cache_key(folder: Path) -> str:
    """Hash of every knowledge file and of the code that builds the index from them."""
    h = hashlib.sha256(_folder_digest(folder).encode())
    code = Path(__file__).resolve().parent
    for name in _CACHE_SOURCES:
        h.update((code / name).read_bytes())
    return h.hexdigest()[:32]


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or unpickling a big object graph:
    it would otherwise walk the growing heap again and again (2-3x slower at 10,000 entries)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_index(settings: Settings) -> tuple[KnowledgeBase, Matcher, LoadResult]:
    """The validated base and its matcher index, from a cache when nothing has changed.

    Parsing YAML and building the index grow with the base (tens of seconds at 10,000
    entries); unpickling the cached index takes a fraction of that. The cache is keyed by a hash
    of the knowledge files and the indexing code, so any edit rebuilds it. Only a base without
    problems is cached. Falls back to the last good copy like `load_knowledge_safely`.
    """
    cache_dir = settings.data_dir / "cache"
    try:
        key = _cache_key(settings.knowledge_dir)
    except OSError:
        key = ""
    cached = cache_dir / f"knowledge-{key}.pickle"
    if key and cached.exists():
        try:
            with cached.open("rb") as fh, _no_gc():
                kb, matcher = pickle.load(fh)
            matcher.thresholds = thresholds(settings)
            files = len(list(settings.knowledge_dir.rglob("*.y*ml")))
            return kb, matcher, LoadResult(kb, (), (), files)
        except Exception as exc:  # a stale or damaged cache is only a slower start
            log.warning("knowledge cache unusable (%s); rebuilding", exc.__class__.__name__)
    with _no_gc():
        kb, result = load_knowledge_safely(settings)
        matcher = matcher_factory(settings)(kb)
    if key and result.ok:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            kb.normalizer._cache.clear()
            kb._rendered.clear()
            tmp = cached.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump((kb, matcher), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cached)
            for old in cache_dir.glob("knowledge-*.pickle"):
                if old != cached:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not write the knowledge cache: %s", exc)
    return kb, matcher, result


def load_knowledge_safely(settings: Settings) -> tuple[KnowledgeBase, LoadResult]:
    """Load the knowledge folder; on problems fall back to the last good copy, if any.

    Raises KnowledgeError when the folder has problems and no good copy exists yet.
    """
    folder = settings.knowledge_dir
    result = load_knowledge(folder)
    backup = settings.data_dir / LAST_GOOD
    if result.ok and result.kb is not None:
        try:
            if not backup.exists() or _folder_digest(backup) != _folder_digest(folder):
                tmp = settings.data_dir / (LAST_GOOD + ".tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                shutil.copytree(folder, tmp, ignore=shutil.ignore_patterns("*.md"))
                shutil.rmtree(backup, ignore_errors=True)
                tmp.rename(backup)
        except OSError as exc:
            log.warning("could not keep a copy of the knowledge base: %s", exc)
        return result.kb, result
    for problem in result.problems:
        log.error("knowledge problem: %s", problem)
    if backup.exists():
        fallback = load_knowledge(backup)
        if fallback.ok and fallback.kb is not None:
            log.error("serving the last good knowledge base from %s", backup)
            return fallback.kb, result
    raise KnowledgeError(list(result.problems))


@dataclass
class App:
    settings: Settings
    store: SqliteStore
    knowledge: KnowledgeHolder
    engine: Engine
    load_result: LoadResult
    _speech: Any = None
    # Long-running jobs a channel starts once it runs: async callables taking the `Channel`
    # (see bot.adapters.channel). Used e.g. for the broadcast queue and knowledge reloads.
    background: list[Any] = field(default_factory=list)
    # Shutdown hooks (called by close()).
    closers: list[Any] = field(default_factory=list)

    def speech(self) -> Any:
        """The SpeechService, built on first use (imports PyAV and eSpeak NG)."""
        if self._speech is None:
            self._speech = build_speech(self.settings, self.store)
        return self._speech

    def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:  # closing must go on
                log.exception("shutdown hook failed")
        self.store.close()


def build_speech(settings: Settings, index: Any) -> Any:
    from bot.speech.engines import EspeakEngine, FallbackSynthesizer, GTTSEngine
    from bot.speech.service import SpeechService

    engines = []
    for name in settings.voice_engines:
        if name == "gtts":
            engines.append(GTTSEngine(timeout=settings.gtts_timeout_seconds))
        elif name == "espeak":
            engines.append(EspeakEngine())
    if not any(e.name == "espeak" for e in engines):
        engines.append(EspeakEngine())  # the offline voice is always the last resort
    synth = FallbackSynthesizer(engines, cooldown_s=settings.gtts_cooldown_seconds)
    return SpeechService(settings.data_dir / "voice-cache", index, synth)


def build_app(settings: Settings) -> App:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    kb, matcher, result = load_index(settings)
    store = SqliteStore(settings.data_dir / "bot.sqlite3")
    holder = KnowledgeHolder(kb, matcher_factory(settings), matcher)
    engine = Engine(holder, store, default_region=settings.default_region)
    app = App(settings, store, holder, engine, result)
    for module in feature_modules():
        install = getattr(module, "install", None)
        if install is not None:
            install(app)
    return app
