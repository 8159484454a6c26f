"""Audit the installed packages (the pinned requirements and their dependencies) with pip-audit.

Vulnerabilities fail the run. A vulnerability database that cannot be reached (no internet beyond the
package mirror) is reported loudly and does not fail it: the check must not make an offline CI red.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

UNREACHABLE_MARKERS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out")


def verdict(report: dict[str, list[dict[str, object]]]) -> tuple[int, str]:
    """(exit status, one-line summary) for a pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if vulnerable:
        names = ", ".join(f"{d['name']} {d.get('version', '')}".strip() for d in vulnerable)
        return 1, f"pip-audit: {len(vulnerable)} vulnerable package(s): {names}"
    if dependencies and len(skipped) == len(dependencies):
        return 0, (
            f"pip-audit: NOT AUDITED — the vulnerability database could not be reached "
            f"({len(skipped)} of {len(dependencies)} packages skipped); not failing the run"
        )
    return 0, (
        f"pip-audit: no known vulnerabilities in {len(dependencies) - len(skipped)} packages"
        + (f" ({len(skipped)} could not be audited)" if skipped else "")
    )


def main() -> int:
    pip_audit = Path(sys.executable).parent / "pip-audit"
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "report.json"
        completed = subprocess.run(
            [str(pip_audit), "--progress-spinner", "off", "--format", "json", "--output", str(output)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if not output.exists() or not output.read_text().strip():
            if any(marker in completed.stderr for marker in UNREACHABLE_MARKERS):
                print("pip-audit: NOT AUDITED — the vulnerability database could not be reached; not failing the run")
                return 0
            print(completed.stderr[-2000:], file=sys.stderr)
            return 1
        status, summary = verdict(json.loads(output.read_text()))
    print(summary)
    return status


if __name__ == "__main__":
    sys.exit(main())
