"""Matching benchmark: start-up and time per question as the knowledge base grows.

Runs the engine on the real base and with 1,000 and 10,000 synthetic entries added, side by
side with a plain `rapidfuzz.process.extractOne(query, all_variants, scorer=WRatio)` scan over
the same variants, and prints a table. Each size runs in a fresh child process so start-up time
and peak memory (max RSS) are measured honestly. Not part of `make test`; run `make bench`.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "eval" / "dev.yaml"
EXTRA = ROOT / "benchmarks" / "eval_extra.yaml"


def _questions() -> list[str]:
    qs: list[str] = []
    for path in (DEV, EXTRA):
        if path.exists():
            qs += [q for v in yaml.safe_load(path.read_text(encoding="utf-8")).values() for q in v]
    return qs[:200]


def _make_base(extra: int, target: Path) -> None:
    shutil.copytree(ROOT / "knowledge", target)
    if not extra:
        return
    rng = random.Random(extra)
    words: list[str] = []
    for path in (target / "faq").glob("*.yaml"):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            for q in entry["questions"]:
                words += q.replace("?", "").split()
    places = ["Ba Vì", "Sóc Sơn", "Đông Anh", "Gia Lâm", "Thanh Trì", "Mê Linh", "Sơn Tây"]
    entries = []
    for i in range(extra):
        topic = f"chủ đề thử {i} {rng.choice(places)}"
        entries.append({
            "id": f"tong-hop-{i}",
            "category": "quyen-va-ho-tro",
            "title": topic,
            "questions": [
                f"{topic} {' '.join(rng.choices(words, k=rng.randint(4, 10)))}" for _ in range(5)
            ],
            "answer": " ".join(rng.choices(words, k=60)),
            "sources": [{"title": "Văn bản thử", "ref": "Điều 1"}],
            "reviewed": "2026-11-29",
        })
    text = yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=1000)
    (target / "faq" / "zz-synthetic.yaml").write_text(text, encoding="utf-8")


def _child(folder: str) -> None:
    """Measure in this process: start-up, engine and plain scan per question, peak memory."""
    from rapidfuzz import fuzz, process, utils

    from bot.core.knowledge import load_knowledge
    from bot.core.matching import Matcher

    start = time.perf_counter()
    result = load_knowledge(Path(folder))
    assert result.kb is not None and not result.problems, result.problems[:3]
    matcher = Matcher(result.kb)
    startup = time.perf_counter() - start
    questions = _questions()
    start = time.perf_counter()
    for q in questions:
        matcher.decide(q)
    engine = (time.perf_counter() - start) / len(questions)
    variants = [q for e in result.kb.entries.values() for q in e.questions]
    processed = [utils.default_process(v) for v in variants]
    start = time.perf_counter()
    for q in questions:
        process.extractOne(utils.default_process(q), processed, scorer=fuzz.WRatio, processor=None)
    plain = (time.perf_counter() - start) / len(questions)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"entries": len(result.kb.entries), "variants": len(variants),
                      "startup_s": startup, "engine_ms": engine * 1000,
                      "plain_ms": plain * 1000, "peak_mb": peak_mb}))


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2])
        return 0
    rows = []
    for extra in (0, 1000, 10000):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "knowledge"
            _make_base(extra, folder)
            out = subprocess.run([sys.executable, __file__, "--child", str(folder)],
                                 capture_output=True, text=True, check=True)
            rows.append((extra, json.loads(out.stdout.strip().splitlines()[-1])))
    print(f"{'extra':>6} {'entries':>7} {'variants':>8} {'start-up s':>10} {'engine ms/q':>11} "
          f"{'plain ms/q':>10} {'ratio':>6} {'peak MB':>8}")
    for extra, r in rows:
        ratio = r["engine_ms"] / r["plain_ms"]
        print(f"{extra:>6} {r['entries']:>7} {r['variants']:>8} {r['startup_s']:>10.2f} "
              f"{r['engine_ms']:>11.2f} {r['plain_ms']:>10.2f} {ratio:>6.2f} {r['peak_mb']:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
