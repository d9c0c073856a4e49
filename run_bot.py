"""Start the assistant: python run_bot.py [run|console|ask|validate|...] (see --help)."""

from bot.cli import main

raise SystemExit(main())
