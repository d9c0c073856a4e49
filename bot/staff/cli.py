"""The staff tools' subcommands of `python run_bot.py`.

    import-sheet FILE.xlsx|FILE.csv [--check]   validate a spreadsheet and write it as YAML
    export-sheet [-o FILE.xlsx|FILE.csv]        the knowledge base as a spreadsheet
    report [--days 30] [--csv]                  what people asked (same as /stats + /unanswered)
    qr TOPIC-ID [-o FILE.png] [--no-title]      a QR code of the topic's deep link, for posters

Imports happen inside the commands, so other commands start as fast as before. They work on
the files and the database directly, with or without the bot running: a running
bot picks up an import by its automatic reload.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> dict[str, Any]:
    p = subparsers.add_parser("import-sheet", help="import a spreadsheet (.xlsx or .csv)")
    p.add_argument("file", help="the .xlsx or .csv file")
    p.add_argument("--check", action="store_true", help="only validate, write nothing")
    p = subparsers.add_parser("export-sheet", help="write the knowledge base as a spreadsheet")
    p.add_argument("-o", "--output", default="kien-thuc.xlsx", help=".xlsx or .csv file")
    p = subparsers.add_parser("report", help="questions asked: figures and unanswered ones")
    p.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    p.add_argument("--csv", action="store_true", help="print CSV instead of text")
    p = subparsers.add_parser("qr", help="PNG QR code of a topic's deep link")
    p.add_argument("topic", help="the entry id, e.g. tro-cap-xa-hoi-hang-thang")
    p.add_argument("-o", "--output", help="the .png file (default <topic>.png)")
    p.add_argument("--no-title", action="store_true", help="no title under the code")
    return {
        "import-sheet": cmd_import_sheet,
        "export-sheet": cmd_export_sheet,
        "report": cmd_report,
        "qr": cmd_qr,
    }


def cmd_export_sheet(args: argparse.Namespace, settings: Any) -> int:
    from bot.staff import sheets

    kb = sheets.current_kb(settings)
    output = Path(args.output)
    fmt = "csv" if output.suffix.lower() == ".csv" else "xlsx"
    output.write_bytes(sheets.export_bytes(kb, fmt))
    print(f"{output}: {len(kb.entries)} mục.")
    return 0


def cmd_import_sheet(args: argparse.Namespace, settings: Any) -> int:
    from bot.staff import sheets
    from bot.staff.xlsx import XlsxError

    path = Path(args.file)
    try:
        data = path.read_bytes()
        result = sheets.import_sheet(settings, data, path.name, check_only=args.check)
    except OSError as exc:
        print(f"Không đọc được {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except (sheets.SheetError, XlsxError) as exc:  # messages written for staff
        print(f"Chưa nhập được: {exc}", file=sys.stderr)
        return 1
    if not result.ok:
        for problem in result.problems:
            print(problem)
        print(f"{len(result.problems)} lỗi; chưa ghi gì.", file=sys.stderr)
        return 1
    if not result.files:
        print("Bảng tính giống hệt kho kiến thức: không có gì thay đổi.")
        return 0
    if args.check:
        print(f"Hợp lệ. Sẽ ghi: {', '.join(result.files)}.")
        return 0
    from bot.staff.reload import change_text

    applied = result.applied
    assert applied is not None
    print(f"Đã ghi: {', '.join(result.files)}. Bản cũ ở {applied.backup}.")
    print(change_text(applied.change))
    return 0


def cmd_report(args: argparse.Namespace, settings: Any) -> int:
    from bot.app import load_knowledge_safely, matcher_factory
    from bot.staff.questionlog import QuestionLog, day_start
    from bot.staff.report import collect_stats, group_unanswered, report_csv, report_text
    from bot.storage.sqlite import SqliteStore

    days = max(1, args.days)
    kb, _ = load_knowledge_safely(settings)
    store = SqliteStore(Path(settings.data_dir) / "bot.sqlite3")
    try:
        qlog = QuestionLog(store, settings.data_dir, settings.log_retention_days)
        stats = collect_stats(qlog, store, days)
        import time

        rows = qlog.unanswered(day_start(time.time(), days - 1))
        groups = group_unanswered(rows, kb, matcher_factory(settings)(kb))
    finally:
        store.close()
    print(report_csv(stats, groups, kb) if args.csv else report_text(stats, groups, kb), end="")
    if not args.csv:
        print()
    return 0


def cmd_qr(args: argparse.Namespace, settings: Any) -> int:
    from bot.core.knowledge import load_knowledge
    from bot.staff.poster import deep_link, poster_png

    kb = load_knowledge(Path(settings.knowledge_dir)).kb
    entry = kb.entries.get(args.topic) if kb is not None else None
    if entry is None:
        print(f"Không có mục '{args.topic}' trong kho kiến thức.", file=sys.stderr)
        return 2
    link = deep_link(settings.bot_username, entry.id)
    output = Path(args.output or f"{entry.id}.png")
    output.write_bytes(poster_png(link, "" if args.no_title else entry.title))
    print(f"{output}: {link}")
    return 0
