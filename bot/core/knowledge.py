"""Load and validate the knowledge base: FAQ entries, categories, synonyms, entitlement rules.

`load_knowledge(folder)` returns a `LoadResult`: the immutable `KnowledgeBase` (or None when
nothing usable loaded) and every `Problem` found, each naming `path:line: entry-id: what is
wrong`. The same function serves `validate`, start-up, reload and the tests, so staff see the
same messages everywhere. Answers keep their `{{...}}` amount placeholders as templates; they
are rendered from `entitlements.yaml` for a given day (rates change on set dates).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.core import entitlements as ent
from bot.core import placeholders
from bot.core.problems import Problem
from bot.core.text import Normalizer
from bot.core.yamlsource import LineDict, LineList, YamlSyntaxError, load_yaml

TELEGRAM_LIMIT = 4096
ANSWER_SOFT_LIMIT = 1500
MIN_QUESTIONS = 5
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("id", "category", "title", "questions", "answer", "sources", "reviewed")
_OPTIONAL = ("keywords", "related", "voice")
_KNOWN_FIELDS = set(_REQUIRED) | set(_OPTIONAL)


@dataclass(frozen=True)
class Source:
    title: str
    ref: str

    def __str__(self) -> str:
        return f"{self.title}, {self.ref}" if self.ref else self.title


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    title: str
    questions: tuple[str, ...]
    answer_template: str
    sources: tuple[Source, ...]
    reviewed: date
    keywords: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    voice_template: str | None = None
    path: str = ""
    line: int = 0

    def fingerprint(self) -> str:
        """A hash of the content, to tell which entries changed between two loads."""
        parts = [self.category, self.title, *self.questions, self.answer_template]
        parts += [str(s) for s in self.sources] + [self.reviewed.isoformat(), *self.keywords]
        parts += [*self.related, self.voice_template or ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated, immutable knowledge base. Swap the whole object to reload."""

    entries: dict[str, Entry]
    categories: tuple[Category, ...]
    synonyms: tuple[tuple[str, ...], ...]
    rules: Any  # bot.core.entitlements.Rules
    normalizer: Normalizer = field(compare=False)
    domain_words: tuple[str, ...] = ()
    folder: str = ""
    _rendered: dict[tuple[str, date], str] = field(default_factory=dict, compare=False, repr=False)

    def entry(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def answer(self, entry: Entry, on: date | None = None) -> str:
        """The entry's answer with every amount filled in for the day `on` (default today)."""
        return _render(self, entry.answer_template, on or date.today())

    def voice(self, entry: Entry, on: date | None = None) -> str | None:
        if entry.voice_template is None:
            return None
        return _render(self, entry.voice_template, on or date.today())

    def source_line(self, entry: Entry) -> str:
        """One short line: the legal source(s) and the review date."""
        sources = "; ".join(str(s) for s in entry.sources[:2])
        reviewed = entry.reviewed.strftime("%d/%m/%Y")
        return f"Nguồn: {sources}. Cập nhật: {reviewed}."


def _render(kb: KnowledgeBase, template: str, on: date) -> str:
    """Fill the placeholders for day `on`; cached per base (rates only change on set dates)."""
    if "{{" not in template:
        return template
    key = (template, on)
    text = kb._rendered.get(key)
    if text is None:
        if len(kb._rendered) > 4096:
            kb._rendered.clear()
        text = kb._rendered[key] = placeholders.render(template, kb.rules, on)
    return text


@dataclass(frozen=True)
class LoadResult:
    kb: KnowledgeBase | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()
    files: int = 0

    @property
    def ok(self) -> bool:
        return self.kb is not None and not self.problems


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def add(self, path: str, line: int, entry_id: str, message: str) -> None:
        self.problems.append(Problem(path, line, entry_id, message))

    def warn(self, path: str, line: int, entry_id: str, message: str) -> None:
        self.warnings.append(Problem(path, line, entry_id, message))

    def load(self, path: Path) -> Any:
        try:
            return load_yaml(path, self.rel(path))
        except YamlSyntaxError as exc:
            self.add(exc.path, exc.line, "", exc.message)
        except OSError as exc:
            self.add(self.rel(path), 1, "", f"cannot read the file ({exc.strerror})")
        return None


def load_knowledge(folder: Path) -> LoadResult:
    """Load and validate everything under `folder`. Never raises on bad content."""
    folder = Path(folder)
    col = _Collector(folder)
    categories = _load_categories(folder / "categories.yaml", col)
    synonyms = _load_synonyms(folder / "synonyms.yaml", col)
    normalizer = Normalizer(synonyms)
    domain_words = _load_word_list(folder / "domain.yaml", col)
    faq_files = sorted((folder / "faq").glob("*.yaml")) + sorted((folder / "faq").glob("*.yml"))
    if not faq_files:
        col.add(col.rel(folder / "faq"), 1, "", "no FAQ files (*.yaml) in this folder")
    entries: dict[str, Entry] = {}
    for path in faq_files:
        for entry in _load_faq_file(path, col, categories):
            other = entries.get(entry.id)
            if other is not None:
                col.add(
                    entry.path,
                    entry.line,
                    entry.id,
                    f"duplicate id, also at {other.path}:{other.line}",
                )
                continue
            entries[entry.id] = entry
    _check_related(entries, col)
    _check_duplicate_questions(entries, normalizer, col, faq_files)
    rules_path = folder / "entitlements.yaml"
    rules = None
    if rules_path.exists():
        rules, rule_problems = ent.load_rules(rules_path)
        col.problems.extend(_relabel(rule_problems, col, rules_path))
        if rules is not None:
            checked = ent.check_entry_ids(rules, set(entries), col.rel(rules_path))
            col.problems.extend(checked)
    else:
        col.add(col.rel(rules_path), 1, "", "the entitlement rules file is missing")
    if rules is not None:
        _check_placeholders(entries, rules, col, faq_files)
    cats = tuple(
        Category(cid, title, tuple(e.id for e in entries.values() if e.category == cid))
        for cid, (title, _line) in categories.items()
    )
    kb = None
    if entries and rules is not None:
        kb = KnowledgeBase(
            entries=entries,
            categories=cats,
            synonyms=tuple(tuple(g) for g in synonyms),
            rules=rules,
            normalizer=normalizer,
            domain_words=tuple(domain_words),
            folder=str(folder),
        )
    files = len(faq_files) + 3 + (folder / "domain.yaml").exists()
    return LoadResult(kb, tuple(col.problems), tuple(col.warnings), files)


def _relabel(problems: Iterable[Problem], col: _Collector, path: Path) -> list[Problem]:
    shown = col.rel(path)
    return [Problem(shown, p.line, p.entry_id, p.message) for p in problems]


def _load_categories(path: Path, col: _Collector) -> dict[str, tuple[str, int]]:
    shown = col.rel(path)
    data = col.load(path)
    result: dict[str, tuple[str, int]] = {}
    if data is None:
        return result
    if not isinstance(data, LineList):
        col.add(shown, 1, "", "the file must be a list of categories (- id: ..., title: ...)")
        return result
    for i, item in enumerate(data):
        line = data.line_of(i)
        if not isinstance(item, LineDict) or not item.get("id") or not item.get("title"):
            col.add(shown, line, "", "each category needs an `id` and a `title`")
            continue
        cid = str(item["id"])
        if cid in result:
            col.add(shown, line, cid, f"duplicate category id, also at line {result[cid][1]}")
            continue
        result[cid] = (str(item["title"]).strip(), line)
    return result


def _load_synonyms(path: Path, col: _Collector) -> list[list[str]]:
    shown = col.rel(path)
    data = col.load(path) if path.exists() else LineList()
    groups: list[list[str]] = []
    if data is None:
        return groups
    if not isinstance(data, LineList):
        col.add(shown, 1, "", "the file must be a list of groups, e.g. - [bảo hiểm y tế, bhyt]")
        return groups
    seen: dict[str, int] = {}
    for i, group in enumerate(data):
        line = data.line_of(i)
        if not isinstance(group, list) or len(group) < 2:
            col.add(shown, line, "", "a synonym group must be a list of at least two words")
            continue
        words = [str(w).strip() for w in group if str(w).strip()]
        for word in words:
            key = Normalizer().normalize(word)
            if key in seen and seen[key] != line:
                col.add(shown, line, "", f"'{word}' is already in the group at line {seen[key]}")
            seen.setdefault(key, line)
        groups.append(words)
    return groups


def _load_word_list(path: Path, col: _Collector) -> list[str]:
    if not path.exists():
        return []
    shown = col.rel(path)
    data = col.load(path)
    if data is None:
        return []
    if not isinstance(data, LineList):
        col.add(shown, 1, "", "the file must be a list of words (- khuyết tật)")
        return []
    words = []
    for i, item in enumerate(data):
        if not isinstance(item, str | int) or not str(item).strip():
            col.add(shown, data.line_of(i), "", "each item must be a word or a short phrase")
            continue
        words.append(str(item).strip())
    return words


def _load_faq_file(
    path: Path, col: _Collector, categories: dict[str, tuple[str, int]]
) -> list[Entry]:
    shown = col.rel(path)
    data = col.load(path)
    if data is None:
        return []
    if not isinstance(data, LineList):
        col.add(
            shown, getattr(data, "line", 1), "", "the file must be a list of entries (- id: ...)"
        )
        return []
    result = []
    for i, item in enumerate(data):
        line = data.line_of(i)
        if not isinstance(item, LineDict):
            col.add(shown, line, "", "this item is not an entry (expected `- id: ...` with fields)")
            continue
        entry = _parse_entry(item, shown, line, col, categories)
        if entry is not None:
            result.append(entry)
    return result


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_entry(
    item: LineDict, shown: str, line: int, col: _Collector, cats: dict[str, tuple[str, int]]
) -> Entry | None:
    eid = _text(item.get("id"))
    before = len(col.problems)

    def bad(key: str, message: str) -> None:
        col.add(shown, item.line_of(key), eid, message)

    for key in item:
        if key not in _KNOWN_FIELDS:
            bad(key, f"unknown field '{key}' (known: {', '.join(_REQUIRED + _OPTIONAL)})")
    for key in _REQUIRED:
        value = item.get(key)
        if value is None or (isinstance(value, str | list | dict) and not value):
            where = item.line_of(key) if key in item else line
            col.add(shown, where, eid, f"required field '{key}' is missing or empty")
    if eid and not _ID_RE.match(eid):
        bad(
            "id",
            f"id '{eid}' must be lower-case ASCII words joined by '-' (e.g. tro-cap-hang-thang)",
        )
    category = _text(item.get("category"))
    if category and category not in cats:
        bad("category", f"unknown category '{category}' (see knowledge/categories.yaml)")
    questions = _string_list(item, "questions", shown, eid, col)
    if "questions" in item and 0 < len(questions) < MIN_QUESTIONS:
        bad(
            "questions",
            f"only {len(questions)} questions; write at least {MIN_QUESTIONS} ways to ask",
        )
    keywords = _string_list(item, "keywords", shown, eid, col)
    related = _string_list(item, "related", shown, eid, col)
    answer = item.get("answer")
    if answer is not None and not isinstance(answer, str):
        bad("answer", "the answer must be text")
        answer = None
    elif isinstance(answer, str):
        if len(answer) > TELEGRAM_LIMIT:
            bad(
                "answer",
                f"the answer has {len(answer)} characters; Telegram allows {TELEGRAM_LIMIT}",
            )
        elif len(answer) > ANSWER_SOFT_LIMIT:
            col.warn(shown, item.line_of("answer"), eid, f"long answer ({len(answer)} characters)")
    voice = item.get("voice")
    if voice is not None and not isinstance(voice, str):
        bad("voice", "the voice text must be text")
        voice = None
    sources = _sources(item, shown, eid, col)
    reviewed = _date(item.get("reviewed"))
    if "reviewed" in item and item.get("reviewed") and reviewed is None:
        bad(
            "reviewed", f"'{item.get('reviewed')}' is not a date; write YYYY-MM-DD, e.g. 2026-11-29"
        )
    if len(col.problems) > before or not eid:
        return None
    return Entry(
        id=eid,
        category=category,
        title=_text(item.get("title")),
        questions=tuple(questions),
        answer_template=str(answer).strip(),
        sources=tuple(sources),
        reviewed=reviewed or date.min,
        keywords=tuple(keywords),
        related=tuple(related),
        voice_template=str(voice).strip() if voice else None,
        path=shown,
        line=line,
    )


def _string_list(item: LineDict, key: str, shown: str, eid: str, col: _Collector) -> list[str]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        col.add(shown, item.line_of(key), eid, f"'{key}' must be a list (lines starting with '- ')")
        return []
    result = []
    for i, v in enumerate(value):
        text = _text(v)
        if not text or isinstance(v, dict | list):
            where = value.line_of(i) if isinstance(value, LineList) else item.line_of(key)
            col.add(shown, where, eid, f"item {i + 1} of '{key}' is empty or not plain text")
            continue
        result.append(text)
    return result


def _sources(item: LineDict, shown: str, eid: str, col: _Collector) -> list[Source]:
    value = item.get("sources")
    if value is None or value == []:
        return []
    if not isinstance(value, list):
        col.add(shown, item.line_of("sources"), eid, "'sources' must be a list of {title, ref}")
        return []
    result = []
    for i, src in enumerate(value):
        where = value.line_of(i) if isinstance(value, LineList) else item.line_of("sources")
        if not isinstance(src, dict) or not _text(src.get("title")) or not _text(src.get("ref")):
            col.add(
                shown,
                where,
                eid,
                f"source {i + 1} needs a 'title' (document) and a 'ref' (article)",
            )
            continue
        result.append(Source(_text(src["title"]), _text(src["ref"])))
    return result


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _check_related(entries: dict[str, Entry], col: _Collector) -> None:
    for entry in entries.values():
        for rid in entry.related:
            if rid == entry.id:
                col.add(entry.path, entry.line, entry.id, "'related' lists the entry itself")
            elif rid not in entries:
                col.add(entry.path, entry.line, entry.id, f"related id '{rid}' does not exist")


def _field_lines(files: Iterable[Path], col: _Collector) -> dict[str, LineDict]:
    """Re-read entries to find the line of each question (only used to report problems)."""
    lines: dict[str, LineDict] = {}
    for path in files:
        try:
            data = load_yaml(path, col.rel(path))
        except (YamlSyntaxError, OSError):
            continue
        if isinstance(data, LineList):
            for item in data:
                if isinstance(item, LineDict) and item.get("id"):
                    lines.setdefault(str(item["id"]), item)
    return lines


def _check_duplicate_questions(
    entries: dict[str, Entry], normalizer: Normalizer, col: _Collector, files: list[Path]
) -> None:
    seen: dict[str, tuple[str, int]] = {}
    clashes: list[tuple[Entry, int, str, tuple[str, int]]] = []
    for entry in entries.values():
        for i, question in enumerate(entry.questions):
            key = normalizer.normalize(question)
            if not key:
                continue
            other = seen.get(key)
            if other is not None and other[0] != entry.id:
                clashes.append((entry, i, question, other))
            seen.setdefault(key, (entry.id, i))
    if not clashes:
        return
    lines = _field_lines(files, col)
    for entry, i, question, (other_id, other_i) in clashes:
        here = _question_line(lines.get(entry.id), i, entry.line)
        other = entries[other_id]
        there = _question_line(lines.get(other_id), other_i, other.line)
        col.add(
            entry.path,
            here,
            entry.id,
            f"question '{question}' is also under '{other_id}' ({other.path}:{there})",
        )


def _question_line(item: LineDict | None, index: int, default: int) -> int:
    if item is None:
        return default
    questions = item.get("questions")
    if isinstance(questions, LineList):
        return questions.line_of(index)
    return item.line_of("questions")


def _check_placeholders(
    entries: dict[str, Entry], rules: Any, col: _Collector, files: list[Path]
) -> None:
    lines: dict[str, LineDict] | None = None
    for entry in entries.values():
        for key, text in (("answer", entry.answer_template), ("voice", entry.voice_template)):
            if not text or "{" not in text:
                continue
            messages = placeholders.check(text, rules)
            if not messages:
                continue
            if lines is None:
                lines = _field_lines(files, col)
            item = lines.get(entry.id)
            line = item.line_of(key) if item is not None else entry.line
            for message in messages:
                col.add(entry.path, line, entry.id, message)
