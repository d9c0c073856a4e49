"""The SQLite store: settings survive a reopen; a failed write leaves nothing half done."""

import pytest

from bot.storage.sqlite import SqliteStore


def test_settings_and_state_survive_reopen(tmp_path):
    path = tmp_path / "bot.sqlite3"
    store = SqliteStore(path)
    store.set_voice(7, True)
    store.set_state(7, {"options": ["faq:a"]})
    store.set_file_id("espeak-abc", "file-1")
    store.close()
    again = SqliteStore(path)
    assert again.settings(7).voice is True
    assert again.get_state(7) == {"options": ["faq:a"]}
    assert again.get_file_id("espeak-abc") == "file-1"
    assert again.query("PRAGMA journal_mode")[0][0] == "wal"


def test_crash_mid_transaction_rolls_back(tmp_path):
    store = SqliteStore(tmp_path / "bot.sqlite3")
    store.set_voice(1, False)
    with pytest.raises(RuntimeError):
        with store.transaction() as db:
            db.execute("UPDATE users SET voice = 1 WHERE user_id = 1")
            raise RuntimeError("crash")
    assert store.settings(1).voice is False


def test_forget_removes_every_row_about_the_user(tmp_path):
    store = SqliteStore(tmp_path / "bot.sqlite3")
    store.set_voice(5, True)
    store.set_state(5, {"checker": {"step": "age"}})
    store.set_voice(6, True)
    assert store.forget(5) == 2
    assert store.settings(5).voice is False and store.get_state(5) == {}
    assert store.settings(6).voice is True
