"""The exception tree.

BotError                  base of everything the bot raises on purpose
├── ConfigError           config.yaml or the environment is wrong (names the key)
├── KnowledgeError        the knowledge base did not validate (carries the problems)
└── StorageError          the SQLite store could not be opened or written
"""

from __future__ import annotations


class BotError(Exception):
    """Base class."""


class ConfigError(BotError):
    """A setting is missing or wrong; the message names the key."""


class KnowledgeError(BotError):
    """The knowledge base has problems; `problems` holds them (path:line: id: message)."""

    def __init__(self, problems: list) -> None:
        super().__init__(f"{len(problems)} problem(s) in the knowledge base")
        self.problems = problems


class StorageError(BotError):
    """The embedded store failed."""
