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
        entries.append(
            {
                "id": f"tong-hop-{i}",
                "category": "quyen-va-ho-tro",
                "title": topic,
                "questions": [
                    f"{topic} {' '.join(rng.choices(words, k=rng.randint(4, 10)))}"
                    for _ in range(5)
                ],
                "answer": " ".join(rng.choices(words, k=60)),
                "sources": [{"title": "Văn bản thử", "ref": "Điều 1"}],
                "reviewed": "2026-11-29",
            }
        )
    text = yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=1000)
    (target / "faq" / "zz-synthetic.yaml").write_text(text, encoding="utf-8")


def _child(folder: str, data: str) -> None:
    """Measure in this process: start-up, engine and plain scan per question, peak memory.

    Start-up is what `python run_bot.py ...` does: validate + index the base, or load the index
    from the cache in BOT_DATA_DIR when the files have not changed since the last start.
    """
    import os

    from rapidfuzz import fuzz, process, utils

    os.environ["BOT_KNOWLEDGE_DIR"] = folder
    os.environ["BOT_DATA_DIR"] = data
    start = time.perf_counter()
    from bot.app import load_index
    from bot.config import load_settings

    kb, matcher, result = load_index(load_settings())
    assert not result.problems, result.problems[:3]
    startup = time.perf_counter() - start
    questions = _questions()
    start = time.perf_counter()
    for q in questions:
        matcher.decide(q)
    engine = (time.perf_counter() - start) / len(questions)
    variants = [q for e in kb.entries.values() for q in e.questions]
    processed = [utils.default_process(v) for v in variants]
    start = time.perf_counter()
    for q in questions:
        process.extractOne(utils.default_process(q), processed, scorer=fuzz.WRatio, processor=None)
    plain = (time.perf_counter() - start) / len(questions)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "entries": len(kb.entries),
                "variants": len(variants),
                "startup_s": startup,
                "engine_ms": engine * 1000,
                "plain_ms": plain * 1000,
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> int:
    if len(sys.argv) > 3 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return 0
    rows = []
    for extra in (0, 1000, 10000):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "knowledge"
            _make_base(extra, folder)
            runs = []
            for _ in ("cold", "warm"):  # the first start builds the index cache
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(folder), str(Path(tmp) / "data")],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            rows.append((extra, runs[0], runs[1]))
    print(
        f"{'extra':>6} {'entries':>7} {'variants':>8} {'cold start s':>12} {'start s':>8} "
        f"{'engine ms/q':>11} {'plain ms/q':>10} {'ratio':>6} {'peak MB':>8} {'cold peak MB':>12}"
    )
    for extra, cold, r in rows:
        ratio = r["engine_ms"] / r["plain_ms"]
        print(
            f"{extra:>6} {r['entries']:>7} {r['variants']:>8} {cold['startup_s']:>12.2f} "
            f"{r['startup_s']:>8.2f} {r['engine_ms']:>11.2f} {r['plain_ms']:>10.2f} "
            f"{ratio:>6.3f} {r['peak_mb']:>8.0f} {cold['peak_mb']:>12.0f}"
        )
    print("cold start: validate + index the YAML; start: index loaded from BOT_DATA_DIR/cache")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
