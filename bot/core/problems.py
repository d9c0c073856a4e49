"""Problems found while loading or validating content, each pointing at a file and line.

Every validator in the project (FAQ entries, categories, synonyms, entitlement rules) reports
`Problem` values, so staff always see `path:line: entry-id: what is wrong`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    entry_id: str
    message: str

    def __str__(self) -> str:
        entry = self.entry_id or "-"
        return f"{self.path}:{self.line}: {entry}: {self.message}"
