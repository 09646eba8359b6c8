"""The docs name the files the daemon really writes."""

from __future__ import annotations

import re
from pathlib import Path

from taskflow.daemon.app import DB_NAME

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_database_file_named_in_the_docs_is_the_real_one() -> None:
    wrong = [
        f"{doc.relative_to(ROOT)}:{n}: {name}"
        for doc in DOCS
        for n, line in enumerate(doc.read_text().splitlines(), 1)
        for name in re.findall(r"[\w.-]+\.db\b", line)
        if name != DB_NAME
    ]
    assert not wrong, f"the database is {DB_NAME}: " + "; ".join(wrong)
