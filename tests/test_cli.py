"""The CLI contract, run as a real subprocess the way staff and scripts use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.conftest import ROOT


def run(args: list[str], stdin: str = "", env: dict[str, str] | None = None, **kw):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "run_bot.py", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        **kw,
    )


KEYS = {"question", "id", "score", "decision", "candidates", "answer"}


def test_ask_plain_prints_decision_and_answer():
    out = run(["ask", "Người khuyết tật đặc biệt nặng được trợ cấp bao nhiêu tiền mỗi tháng?"])
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("answer")
    assert "[tro-cap-hang-thang]" in out.stdout
    assert "Nguồn:" in out.stdout


def test_ask_json_object_shape():
    out = run(["ask", "--json", "the bao hiem y te cho nguoi khuyet tat"])
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) == KEYS
    assert obj["decision"] in ("answer", "suggest", "decline")
    assert 0 <= obj["score"] <= 100
    assert 1 <= len(obj["candidates"]) <= 3
    assert all(set(c) == {"id", "score"} for c in obj["candidates"])
    scores = [c["score"] for c in obj["candidates"]]
    assert scores == sorted(scores, reverse=True)
    if obj["decision"] == "answer":
        assert obj["id"] == obj["candidates"][0]["id"] and obj["answer"]
    else:
        assert obj["id"] is None and obj["answer"] is None


def test_ask_jsonl_one_object_per_line_in_order_empty_line_declined():
    questions = ["muc chuan tro giup xa hoi la bao nhieu", "", "qwertyuiop", "thẻ xe buýt miễn phí"]
    out = run(["ask", "--jsonl"], stdin="\n".join(questions) + "\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == len(questions)
    objs = [json.loads(line) for line in lines]
    assert [o["question"] for o in objs] == questions
    assert objs[1]["decision"] == "decline" and objs[1]["id"] is None
    assert objs[2]["decision"] == "decline"
    for obj in objs:
        assert set(obj) == KEYS
        if obj["decision"] != "answer":
            assert obj["id"] is None


def test_ask_jsonl_300_questions_fast():
    questions = [f"trợ cấp người khuyết tật nặng câu {i}" for i in range(150)]
    questions += [f"thẻ bảo hiểm y tế cho trẻ khuyết tật {i}" for i in range(150)]
    start = time.perf_counter()
    out = run(["ask", "--jsonl"], stdin="\n".join(questions) + "\n")
    elapsed = time.perf_counter() - start
    assert out.returncode == 0
    assert len(out.stdout.splitlines()) == 300
    assert elapsed < 3.0, f"300 questions took {elapsed:.2f} s"


def test_env_overrides_knowledge_dir(tmp_path):
    out = run(["validate"], env={"BOT_KNOWLEDGE_DIR": str(tmp_path / "missing")})
    assert out.returncode == 1
    assert "no FAQ files" in out.stdout


def test_bad_config_names_the_key(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("match_answr: 50\n", encoding="utf-8")
    out = run(["validate"], env={"BOT_CONFIG": str(cfg)})
    assert out.returncode == 2
    assert "match_answr" in out.stderr


def test_entitlements_cli_and_invalid_profile():
    ok = run(["entitlements", "--json"], stdin='{"level": "nang", "age": 40, "date": "2025-01-01"}')
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["base_rate"] == 500000 and result["monthly_allowance"] == 750000
    bad = run(["entitlements", "--json"], stdin='{"level": "rat-nang", "age": 40}')
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


def test_console_via_make_run_style_pipe(tmp_path):
    """`run` without a token opens the console chat; a piped question gets its answer."""
    out = run(
        ["run"],
        stdin="muc chuan tro giup xa hoi la bao nhieu\n",
        env={"BOT_DATA_DIR": str(tmp_path / "data")},
    )
    assert out.returncode == 0, out.stderr
    assert "TELEGRAM_BOT_TOKEN" in out.stderr  # one line saying how to connect Telegram
    assert "Mức chuẩn trợ giúp xã hội" in out.stdout
    assert "Nguồn:" in out.stdout
