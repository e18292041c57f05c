"""The shared value types: MessageState is the one spelling of the message states."""

from __future__ import annotations

import re
from pathlib import Path

from mailer.db import open_db
from mailer.models import MessageState


def test_the_states_are_those_the_database_accepts(tmp_path: Path) -> None:
    db = open_db(tmp_path / "contacts.db")
    schema = db.execute("SELECT sql FROM sqlite_master WHERE name = 'message'").fetchone()[0]
    db.close()
    allowed = re.search(r"CHECK \(state IN\s*\(([^)]*)\)\)", schema)
    assert allowed, schema
    assert re.findall(r"'(\w+)'", allowed[1]) == [state.value for state in MessageState]
