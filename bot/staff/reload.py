"""Reloading the knowledge base safely: validate first, swap whole, say what changed.

`Reloader.reload()` loads and validates the knowledge folder; when it is valid the whole base
(and its matcher) is swapped in one assignment (`KnowledgeHolder.swap`) and the entries added,
changed (by `Entry.fingerprint()`) and removed are reported; when it is not, the bot keeps
serving the base it has and the `path:line: entry-id: problem` lines are returned. `watch()` is
a background job: it polls the files' size and modification time every quarter second (no
dependency, works on every file system), waits for an edit to settle, reloads, and tells the
staff chat (or every admin) what changed or what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.knowledge import KnowledgeBase
from bot.core.messages import Reply
from bot.core.problems import Problem
from bot.errors import KnowledgeError
from bot.staff.admin import recipients

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
SETTLE_SECONDS = 0.15
MAX_PROBLEMS_SHOWN = 25

Snapshot = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Change:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True)
class ReloadOutcome:
    ok: bool
    change: Change = field(default_factory=Change)
    problems: tuple[Problem, ...] = ()
    seconds: float = 0.0


def diff(old: KnowledgeBase, new: KnowledgeBase) -> Change:
    """Entries added, changed (content fingerprint) and removed between two bases."""
    added = tuple(i for i in new.entries if i not in old.entries)
    removed = tuple(i for i in old.entries if i not in new.entries)
    changed = tuple(
        i
        for i, entry in new.entries.items()
        if i in old.entries and old.entries[i].fingerprint() != entry.fingerprint()
    )
    return Change(added, changed, removed)


def snapshot(folder: Path) -> Snapshot:
    """Name, size and mtime of every YAML file under `folder` (hidden and temp files skipped)."""
    items = []
    for path in Path(folder).rglob("*"):
        if path.suffix not in (".yaml", ".yml") or any(p.startswith(".") for p in path.parts):
            continue
        try:
            st = path.stat()
        except OSError:
            continue  # deleted between listing and stat
        items.append((str(path.relative_to(folder)), st.st_mtime_ns, st.st_size))
    return tuple(sorted(items))


def change_text(change: Change) -> str:
    if change.empty:
        return "Không có mục nào thay đổi."

    def names(ids: tuple[str, ...]) -> str:
        return ", ".join(ids[:15]) + (f" và {len(ids) - 15} mục khác" if len(ids) > 15 else "")

    parts = []
    if change.added:
        parts.append(f"Thêm {len(change.added)}: {names(change.added)}.")
    if change.changed:
        parts.append(f"Sửa {len(change.changed)}: {names(change.changed)}.")
    if change.removed:
        parts.append(f"Gỡ {len(change.removed)}: {names(change.removed)}.")
    return "\n".join(parts)


def problems_text(problems: tuple[Problem, ...] | list[Problem]) -> str:
    shown = [str(p) for p in sorted(problems)[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        shown.append(f"... và {len(problems) - MAX_PROBLEMS_SHOWN} lỗi khác.")
    return "\n".join(shown)


def outcome_text(outcome: ReloadOutcome, automatic: bool = False) -> str:
    if outcome.ok:
        head = (
            "Kho kiến thức vừa được sửa và đã tự nạp lại."
            if automatic
            else "Đã nạp lại kho kiến thức."
        )
        return f"{head}\n{change_text(outcome.change)}"
    head = (
        "Tệp kiến thức vừa sửa có lỗi. Trợ lý vẫn trả lời bằng bản cũ cho đến khi sửa xong:"
        if automatic
        else "Kho kiến thức có lỗi nên chưa nạp lại. Trợ lý vẫn trả lời bằng bản cũ:"
    )
    return f"{head}\n{problems_text(outcome.problems)}"


class Reloader:
    """Validates and swaps the app's knowledge base; one reload at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.folder = Path(app.settings.knowledge_dir)
        self.lock = threading.RLock()
        self._snapshot = snapshot(self.folder)
        self._notified: tuple[Problem, ...] = ()
        self.last: ReloadOutcome | None = None

    def reload(self) -> ReloadOutcome:
        """Validate the folder; swap when valid. Never raises on bad content."""
        from bot.app import load_knowledge_safely  # the same validator and last-good copy

        with self.lock:
            started = time.perf_counter()
            seen = snapshot(self.folder)
            try:
                kb, result = load_knowledge_safely(self.app.settings)
            except KnowledgeError as exc:
                outcome = ReloadOutcome(False, problems=tuple(exc.problems))
            else:
                if result.ok:
                    old = self.app.knowledge.kb
                    self.app.knowledge.swap(kb)
                    outcome = ReloadOutcome(True, diff(old, kb))
                else:
                    outcome = ReloadOutcome(False, problems=tuple(result.problems))
            self._snapshot = seen
            outcome = ReloadOutcome(
                outcome.ok, outcome.change, outcome.problems, time.perf_counter() - started
            )
            self.last = outcome
        log.info(
            "knowledge reload: ok=%s added=%d changed=%d removed=%d problems=%d (%.2f s)",
            outcome.ok,
            len(outcome.change.added),
            len(outcome.change.changed),
            len(outcome.change.removed),
            len(outcome.problems),
            outcome.seconds,
        )
        return outcome

    def changed_on_disk(self) -> bool:
        return snapshot(self.folder) != self._snapshot

    def check_once(self) -> ReloadOutcome | None:
        """Reload if a file changed since the last reload (waiting for the edit to settle)."""
        if not self.changed_on_disk():
            return None
        for _ in range(20):  # at most ~3 s for an editor still writing
            before = snapshot(self.folder)
            time.sleep(SETTLE_SECONDS)
            if snapshot(self.folder) == before:
                break
        with self.lock:
            if not self.changed_on_disk():
                return None  # someone else (an upload, /reload) reloaded it meanwhile
            return self.reload()

    def notice(self, outcome: ReloadOutcome) -> str | None:
        """The staff notice for an automatic reload, or None when there is nothing to say."""
        if outcome.ok:
            self._notified = ()
            return None if outcome.change.empty else outcome_text(outcome, automatic=True)
        if outcome.problems == self._notified:
            return None  # the same problems were already sent
        self._notified = outcome.problems
        return outcome_text(outcome, automatic=True)

    async def watch(self, channel: Any, interval: float = POLL_SECONDS) -> None:
        """Background job: reload on file changes and tell the staff (runs until cancelled)."""
        log.info("watching %s for knowledge changes", self.folder)
        while True:
            await asyncio.sleep(interval)
            try:
                outcome = await asyncio.to_thread(self.check_once)
            except Exception:  # a watcher bug must not stop the bot
                log.exception("knowledge watcher failed")
                continue
            if outcome is None:
                continue
            text = self.notice(outcome)
            if text is not None:
                await notify(channel, self.app.settings, text)


async def notify(channel: Any, settings: Any, text: str) -> int:
    """Send `text` to the staff chat or every admin; returns how many got it."""
    sent = 0
    for chat_id in recipients(settings):
        try:
            await channel.send(chat_id, Reply(text=text))
            sent += 1
        except Exception as exc:  # one unreachable admin must not stop the others
            log.warning("staff notice not delivered: %s", exc.__class__.__name__)
    return sent
