"""The validator: the real base is clean; each deliberately broken file is reported at its line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.knowledge import load_knowledge
from tests.conftest import KNOWLEDGE, ROOT

BROKEN = sorted((ROOT / "tests" / "data" / "broken").glob("*.yaml"))


def _expectations(path: Path) -> list[tuple[int, str]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"# expect: (\d+): (.+)$", line)
        if match:
            found.append((int(match.group(1)), match.group(2).strip()))
    return found


def test_real_knowledge_validates():
    result = load_knowledge(KNOWLEDGE)
    assert result.problems == ()
    assert result.kb is not None and len(result.kb.entries) >= 39


def test_every_required_topic_has_its_entry(real_kb):
    import yaml

    topics = yaml.safe_load((ROOT.parent / "shared" / "spec" / "topics.yaml").read_text())
    missing = [t["id"] for t in topics["topics"] if t["id"] not in real_kb.entries]
    assert missing == []
    for entry in real_kb.entries.values():
        assert len(entry.questions) >= 5, entry.id
        assert entry.sources, entry.id


@pytest.mark.parametrize("broken", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_reported_with_file_and_line(broken: Path, knowledge_copy: Path):
    target = knowledge_copy / "faq" / f"zz-{broken.name}"
    shutil.copyfile(broken, target)
    result = load_knowledge(knowledge_copy)
    shown = [str(p) for p in result.problems]
    expected = _expectations(broken)
    assert expected, "the broken file must say what it expects"
    for line, text in expected:
        prefix = f"knowledge/faq/zz-{broken.name}:{line}: "
        assert any(s.startswith(prefix) and text in s for s in shown), (prefix, text, shown)


def test_duplicate_id_names_both_places(knowledge_copy: Path):
    shutil.copyfile(ROOT / "tests/data/broken/duplicate_id.yaml", knowledge_copy / "faq/zz.yaml")
    problems = [str(p) for p in load_knowledge(knowledge_copy).problems]
    assert any(
        "zz.yaml:2: tro-cap-hang-thang: duplicate id, also at knowledge/faq/tro-cap.yaml:" in p
        for p in problems
    ), problems


def test_validate_cli_exit_codes(knowledge_copy: Path, tmp_path: Path):
    ok = subprocess.run(
        [sys.executable, "run_bot.py", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "BOT_KNOWLEDGE_DIR": str(KNOWLEDGE)},
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK:") and len(ok.stdout.strip().splitlines()) == 1
    shutil.copyfile(ROOT / "tests/data/broken/bad_date.yaml", knowledge_copy / "faq/zz.yaml")
    bad = subprocess.run(
        [sys.executable, "run_bot.py", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "BOT_KNOWLEDGE_DIR": str(knowledge_copy)},
    )
    assert bad.returncode == 1
    assert "knowledge/faq/zz.yaml:8: ngay-sai: '2026-13-45' is not a date" in bad.stdout


def test_unknown_category_in_categories_and_bad_synonyms(knowledge_copy: Path):
    (knowledge_copy / "synonyms.yaml").write_text(
        "- [chỉ một từ]\n- not a list\n", encoding="utf-8"
    )
    problems = [str(p) for p in load_knowledge(knowledge_copy).problems]
    assert any(p.startswith("knowledge/synonyms.yaml:1: ") for p in problems), problems
    assert any(p.startswith("knowledge/synonyms.yaml:2: ") for p in problems), problems


def test_entitlement_rules_problem_has_its_line(knowledge_copy: Path):
    path = knowledge_copy / "entitlements.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if "entry: tro-cap-hang-thang" in line)
    lines[index] = lines[index].replace("tro-cap-hang-thang", "khong-co-muc-nay")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = [str(p) for p in load_knowledge(knowledge_copy).problems]
    assert any(
        p.startswith(f"knowledge/entitlements.yaml:{index + 1}:") and "khong-co-muc-nay" in p
        for p in problems
    ), problems


def test_the_broken_cases_are_there():
    """The parametrised cases above must not silently vanish (e.g. an ignore rule)."""
    assert len(BROKEN) >= 10
