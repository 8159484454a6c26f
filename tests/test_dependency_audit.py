"""The CI dependency audit: vulnerabilities fail it, an unreachable database is said loudly and does not."""

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "audit_dependencies.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_vulnerable_package_fails_the_run_and_is_named() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.0", "vulns": []},
            {"name": "jinja2", "version": "2.10", "vulns": [{"id": "PYSEC-2019-217"}]},
        ]
    }
    status, summary = load_script().verdict(report)
    assert status == 1
    assert "jinja2 2.10" in summary


def test_an_unreachable_database_is_reported_and_does_not_fail() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.0)"},
            {"name": "boto3", "skip_reason": "Dependency not found on PyPI and could not be audited: boto3 (1.0)"},
        ]
    }
    status, summary = load_script().verdict(report)
    assert status == 0
    assert "NOT AUDITED" in summary


def test_clean_audit_counts_the_packages_checked() -> None:
    report = {
        "dependencies": [{"name": "flask", "version": "3.1.0", "vulns": []}, {"name": "x", "skip_reason": "local"}]
    }
    status, summary = load_script().verdict(report)
    assert status == 0
    assert "no known vulnerabilities in 1 packages (1 could not be audited)" in summary
