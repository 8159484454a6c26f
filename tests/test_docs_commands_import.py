"""Every `from recordings_service… import …` an operator is told to run (README, infra/, docs/, the env example)
names a module and a name that exist.

Found by exploratory testing: infra/README.md and callvault.env.example told the operator to make the master key
with `from recordings_service.encryption import generate_master_key`, a module that does not exist (it is
`recordings_service.storage.encryption`): the first step of a production install failed with ModuleNotFoundError."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [
    REPO / "README.md",
    *sorted((REPO / "infra").rglob("*.md")),
    *sorted((REPO / "docs").rglob("*.md")),
    REPO / "infra" / "systemd" / "callvault.env.example",
]
IMPORT = re.compile(r"from ((?:recordings_service|web|jobs)(?:\.\w+)*) import (\w+)")


def _imports() -> list[tuple[str, str, str]]:
    return [
        (path.relative_to(REPO).as_posix(), module, name)
        for path in DOCS
        for module, name in IMPORT.findall(path.read_text())
    ]


def test_the_documents_name_imports() -> None:
    assert ("infra/README.md", "recordings_service.storage.encryption", "generate_master_key") in _imports()


@pytest.mark.parametrize(("document", "module", "name"), _imports())
def test_each_import_an_operator_is_told_to_run_works(document: str, module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"{document}: from {module} import {name}"
