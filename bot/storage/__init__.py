"""Embedded storage (SQLite) behind the small `Store` protocol."""
