"""Every route of a fully configured app, for the tests that walk them all (access matrix, refusal audit)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from werkzeug.routing import Rule

from recordings_service.config import Settings
from recordings_service.storage.encryption import generate_master_key
from web import create_app


def _rules() -> list[Rule]:
    """The routes of a fully configured app (the url_map does not depend on the database or store)."""
    with tempfile.TemporaryDirectory(prefix="callvault-routes-") as data_dir:
        settings = Settings(
            data_dir=Path(data_dir), master_key=generate_master_key(), secret_key="collect-only"
        ).with_derived_defaults()
        app = create_app(settings)
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


RULES = _rules()
