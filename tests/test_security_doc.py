"""docs/security.md names the tests that prove each ASVS chapter: every one it names must exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def test_every_test_the_security_page_names_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    references = TEST_REFERENCE.findall(text)
    assert len(references) > 40
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).exists() or (name and f"def {name}(" not in (ROOT / path).read_text())
    ]
    assert missing == []


def test_every_asvs_chapter_is_answered() -> None:
    headings = re.findall(r"^### (V\d+) ", (ROOT / "docs" / "security.md").read_text(), flags=re.MULTILINE)
    assert headings == [f"V{number}" for number in range(1, 18)]
