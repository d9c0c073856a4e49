"""Changing knowledge files safely: validate in a copy, back up, write, reload.

`KnowledgeWriter.apply(changes)` takes new contents for some files (relative path -> bytes, or
None to delete), validates the whole knowledge folder with those changes in a temporary copy
(same validator, same `path:line` messages), and only when it is valid backs up the files it
replaces under `BOT_DATA_DIR/backups/<timestamp>/`, writes the new ones atomically and reloads.
If the reload still fails (someone edited another file at the same moment), the backup is put
back. Also: where an uploaded file goes (`upload_target`) and the `/export` zip.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.knowledge import LoadResult, load_knowledge
from bot.core.problems import Problem
from bot.staff.questionlog import LOCAL_TZ
from bot.staff.reload import Change, Reloader, ReloadOutcome

log = logging.getLogger(__name__)

ROOT_FILES = ("categories.yaml", "synonyms.yaml", "entitlements.yaml")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\.ya?ml$")

Changes = dict[str, bytes | None]


class UploadError(Exception):
    """An uploaded file cannot be placed (bad name, ambiguous); the message is Vietnamese."""


@dataclass(frozen=True)
class ApplyOutcome:
    ok: bool
    problems: tuple[Problem, ...] = ()
    change: Change = Change()
    backup: Path | None = None
    written: tuple[str, ...] = ()


def upload_target(folder: Path, file_name: str) -> str:
    """The relative path an uploaded YAML file replaces (or creates, under faq/)."""
    name = Path(file_name.replace("\\", "/")).name
    if not _SAFE_NAME.match(name):
        raise UploadError(
            "Tên tệp chỉ được gồm chữ không dấu, số, dấu gạch ngang và kết thúc bằng .yaml, "
            "ví dụ tro-cap.yaml."
        )
    found = sorted(
        str(p.relative_to(folder))
        for p in Path(folder).rglob(name)
        if p.is_file() and not any(part.startswith(".") for part in p.parts)
    )
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise UploadError(f"Có nhiều tệp tên {name} trong kho: {', '.join(found)}.")
    if name in ROOT_FILES:
        return name
    return f"faq/{name}"


def _stamp() -> str:
    return datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M%S-%f")


class KnowledgeWriter:
    """Applies validated changes to the knowledge folder (with or without a running bot)."""

    def __init__(self, settings: Any, reloader: Reloader | None = None) -> None:
        self.settings = settings
        self.folder = Path(settings.knowledge_dir)
        self.reloader = reloader

    @property
    def backups(self) -> Path:
        return Path(self.settings.data_dir) / "backups"

    def _outside(self, changes: Changes) -> tuple[Problem, ...]:
        root = self.folder.resolve()
        return tuple(
            Problem(rel, 1, "", "this path is outside the knowledge folder")
            for rel in changes
            if not (root / rel).resolve().is_relative_to(root)
        )

    def validate(self, changes: Changes) -> LoadResult:
        """Load the folder as it would be with `changes`, in a temporary copy."""
        outside = self._outside(changes)
        if outside:
            return LoadResult(None, outside)
        Path(self.settings.data_dir).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.settings.data_dir, prefix="check-") as tmp:
            # Same folder name, so problems read knowledge/faq/x.yaml:12 as they would live.
            copy = Path(tmp) / self.folder.name
            shutil.copytree(self.folder, copy, ignore=shutil.ignore_patterns(".*"))
            for rel, data in changes.items():
                target = copy / rel
                if data is None:
                    target.unlink(missing_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
            return load_knowledge(copy)

    def apply(self, changes: Changes) -> ApplyOutcome:
        """Validate, back up, write and reload; nothing changes when anything is wrong."""
        lock = self.reloader.lock if self.reloader is not None else _NoLock()
        with lock:
            result = self.validate(changes)
            if not result.ok:
                problems = result.problems or (
                    Problem(str(self.folder.name), 1, "", "nothing usable loaded"),
                )
                return ApplyOutcome(False, tuple(problems))
            old = load_knowledge(self.folder) if self.reloader is None else None
            backup = self._backup(changes)
            written = self._write(changes)
            outcome = self._after_write(backup, changes)
            if not outcome.ok:
                return ApplyOutcome(False, outcome.problems, backup=backup)
            change = outcome.change
            if old is not None and old.kb is not None and result.kb is not None:
                from bot.staff.reload import diff

                change = diff(old.kb, result.kb)
            log.info("knowledge files replaced: %s (backup %s)", ", ".join(written), backup)
            return ApplyOutcome(True, (), change, backup, written)

    def _backup(self, changes: Changes) -> Path:
        target = self.backups / _stamp()
        target.mkdir(parents=True, exist_ok=False)
        for rel in changes:
            source = self.folder / rel
            if source.is_file():
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / rel)
        return target

    def _write(self, changes: Changes) -> tuple[str, ...]:
        written = []
        for rel, data in changes.items():
            target = self.folder / rel
            if data is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.tmp")
                tmp.write_bytes(data)
                os.replace(tmp, target)  # readers see the old file or the new one, never half
            written.append(rel)
        return tuple(written)

    def _after_write(self, backup: Path, changes: Changes) -> ReloadOutcome:
        if self.reloader is not None:
            outcome = self.reloader.reload()
        else:
            result = load_knowledge(self.folder)
            outcome = ReloadOutcome(result.ok, problems=result.problems)
        if outcome.ok:
            return outcome
        log.error("knowledge invalid right after a validated write: restoring %s", backup)
        for rel in changes:
            saved = backup / rel
            if saved.is_file():
                shutil.copy2(saved, self.folder / rel)
            else:
                (self.folder / rel).unlink(missing_ok=True)
        if self.reloader is not None:
            self.reloader.reload()
        return outcome


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def export_zip(folder: Path) -> bytes:
    """Every file of the knowledge folder in a zip, paths under the folder's name."""
    folder = Path(folder)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                archive.write(path, str(Path(folder.name) / rel))
    return out.getvalue()


def export_name(suffix: str) -> str:
    return f"kien-thuc-{datetime.now(LOCAL_TZ).strftime('%Y%m%d-%H%M')}.{suffix}"
