"""Command-line entry point: `python run_bot.py <command>`.

    run             Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the console chat
    console         the chat in this terminal (works with piped stdin until EOF)
    ask             answer one question, or --jsonl questions from stdin (offline)
    validate        check every knowledge file; one line per problem, exit 1 if any
    entitlements    evaluate a profile given as JSON on stdin (--json)
    speak           write a voice note for a text (-o out.ogg)
    prebuild-voice  fill the voice cache for every answer

Heavy modules (Telegram, speech) are imported only by the commands that need them, so `ask`
and `validate` start fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path

from bot.config import load_settings
from bot.errors import BotError, ConfigError, KnowledgeError

log = logging.getLogger("bot")


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs request URLs at INFO, and Telegram URLs contain the token.
    for noisy in ("httpx", "httpcore", "telegram.ext.ExtBot", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_bot.py", description=__doc__.split("\n\n")[0])
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="start the bot (Telegram if TELEGRAM_BOT_TOKEN is set)")
    sub.add_parser("console", help="chat in the terminal")
    ask = sub.add_parser("ask", help="answer questions offline")
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jsonl", action="store_true", help="one question per stdin line")
    sub.add_parser("validate", help="check the knowledge files")
    ent = sub.add_parser("entitlements", help="evaluate a profile (JSON on stdin)")
    ent.add_argument("--json", action="store_true", help="print JSON (the default)")
    speak = sub.add_parser("speak", help="write a voice note for a text")
    speak.add_argument("text")
    speak.add_argument("-o", "--output", required=True, help="output .ogg file")
    sub.add_parser("prebuild-voice", help="synthesise every answer into the voice cache")
    from bot.app import feature_modules

    for module in feature_modules():
        register = getattr(module, "register_cli", None)
        if register is not None:
            _COMMANDS.update(register(sub))
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    # Commands whose output is read by people or scripts keep the log quiet; so does the
    # console chat (log lines would interleave with the conversation) unless -v is given.
    chat = command == "console" or (command == "run" and not os.environ.get("TELEGRAM_BOT_TOKEN"))
    if chat and not args.verbose:
        # The offline voice taking over from gTTS is expected here: only errors interrupt.
        logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    elif command in ("ask", "validate", "entitlements"):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    else:
        _setup_logging(args.verbose)
    try:
        settings = load_settings()
        handler = _COMMANDS[command]
        return handler(args, settings)
    except ConfigError as exc:
        print(f"Lỗi cấu hình: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print("Kho kiến thức có lỗi, trợ lý chưa thể chạy:", file=sys.stderr)
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 1
    except BotError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _cmd_validate(args, settings) -> int:
    from bot.core.knowledge import load_knowledge

    result = load_knowledge(settings.knowledge_dir)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.problems:
        for problem in sorted(result.problems):
            print(problem)
        print(f"{len(result.problems)} problem(s) found.", file=sys.stderr)
        return 1
    kb = result.kb
    assert kb is not None
    questions = sum(len(e.questions) for e in kb.entries.values())
    cats = sum(1 for c in kb.categories if c.entry_ids)
    print(
        f"OK: {len(kb.entries)} entries, {questions} question variants, {cats} categories, "
        f"{result.files} files checked, no problems."
    )
    return 0


def _load_for_ask(settings):
    from bot.app import load_index

    kb, matcher, _result = load_index(settings)
    return kb, matcher


def _decision_json(kb, decision) -> dict:
    answer = None
    if decision.decision == "answer" and decision.id:
        answer = kb.answer(kb.entries[decision.id])
    return {
        "question": decision.question,
        "id": decision.id if decision.decision == "answer" else None,
        "score": decision.score,
        "decision": decision.decision,
        "candidates": [{"id": c.id, "score": c.score} for c in decision.candidates[:3]],
        "answer": answer,
    }


def _cmd_ask(args, settings) -> int:
    kb, matcher = _load_for_ask(settings)
    if args.jsonl:
        out = sys.stdout
        for line in sys.stdin:
            question = line.rstrip("\r\n")
            decision = matcher.decide(question)
            out.write(json.dumps(_decision_json(kb, decision), ensure_ascii=False) + "\n")
        out.flush()
        return 0
    if args.question is None:
        print(
            'Hãy nhập câu hỏi, ví dụ: python run_bot.py ask "trợ cấp cho NKT nặng"', file=sys.stderr
        )
        return 2
    decision = matcher.decide(args.question)
    if args.json:
        print(json.dumps(_decision_json(kb, decision), ensure_ascii=False))
        return 0
    print(f"{decision.decision} (score {decision.score:.1f})")
    if decision.decision == "answer" and decision.id:
        entry = kb.entries[decision.id]
        print(f"[{entry.id}] {entry.title}\n")
        print(kb.answer(entry))
        print(f"\n{kb.source_line(entry)}")
    elif decision.decision == "suggest":
        print("Có thể bạn muốn hỏi:")
        for i, c in enumerate(decision.candidates, 1):
            print(f"{i}. [{c.id}] {kb.entries[c.id].title} ({c.score:.1f})")
    else:
        print("Chưa có câu trả lời cho câu hỏi này.")
    return 0


def _cmd_entitlements(args, settings) -> int:
    from bot.core import entitlements as ent

    rules, problems = ent.load_rules(settings.knowledge_dir / "entitlements.yaml")
    if rules is None or problems:
        raise KnowledgeError(list(problems))
    try:
        data = json.loads(sys.stdin.read() or "{}")
        if not isinstance(data, dict):
            raise ent.ProfileError("the profile must be a JSON object")
        profile = ent.parse_profile(data, settings.default_region, date.today())
        result = ent.evaluate(rules, profile)
    except json.JSONDecodeError as exc:
        print(f"invalid profile: not JSON ({exc.msg} at line {exc.lineno})", file=sys.stderr)
        return 2
    except ent.ProfileError as exc:
        print(f"invalid profile: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(ent.result_to_json(result), ensure_ascii=False, indent=2))
    return 0


def _cmd_console(args, settings) -> int:
    from bot.adapters.console import run_console
    from bot.app import build_app

    app = build_app(settings)
    try:
        return run_console(app)
    finally:
        app.close()


def _cmd_run(args, settings) -> int:
    if not settings.telegram_token:
        print(
            "Chưa có TELEGRAM_BOT_TOKEN: mở trò chuyện trong cửa sổ dòng lệnh. "
            "Để chạy trên Telegram: export TELEGRAM_BOT_TOKEN=<token từ @BotFather> "
            "rồi chạy lại make run.",
            file=sys.stderr,
        )
        return _cmd_console(args, settings)
    from bot.adapters.telegram import run_telegram
    from bot.app import build_app

    app = build_app(settings)
    try:
        return run_telegram(app)
    finally:
        app.close()


def _cmd_speak(args, settings) -> int:
    from bot.app import build_speech
    from bot.storage.sqlite import SqliteStore

    store = SqliteStore(settings.data_dir / "bot.sqlite3")
    note = build_speech(settings, store).prepare(args.text)
    Path(args.output).write_bytes(Path(note.path).read_bytes())
    print(f"{args.output} ({note.engine})")
    return 0


def _cmd_prebuild(args, settings) -> int:
    from bot.app import build_app

    app = build_app(settings)
    kb = app.knowledge.kb
    texts = [f"{e.title}. {kb.voice(e) or kb.answer(e)}" for e in kb.entries.values()]
    count = app.speech().prebuild(texts)
    print(f"{count} voice notes synthesised, {len(texts) - count} already cached.")
    return 0


_COMMANDS = {
    "run": _cmd_run,
    "console": _cmd_console,
    "ask": _cmd_ask,
    "validate": _cmd_validate,
    "entitlements": _cmd_entitlements,
    "speak": _cmd_speak,
    "prebuild-voice": _cmd_prebuild,
}
