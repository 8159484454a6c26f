"""Settings from the environment: defaults, the generated secrets file, overrides and clear errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from recordings_service.config import Settings
from recordings_service.storage.embedded import ensure_secrets
from web.supervisor import GUNICORN_HOOKS

REPO = Path(__file__).resolve().parents[1]


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"CALLVAULT_DATA_DIR": str(tmp_path)})
    assert settings.data_dir == tmp_path.resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'callvault.db'}"
    assert settings.s3_endpoint == "http://127.0.0.1:8333"
    assert (settings.host, settings.port, settings.s3_bucket) == ("127.0.0.1", 8000, "callvault")


def test_ports_and_urls_follow_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"CALLVAULT_DATA_DIR": str(tmp_path), "CALLVAULT_S3_PORT": "9444", "CALLVAULT_PORT": "9000"}
    )
    assert settings.s3_endpoint == "http://127.0.0.1:9444"
    assert settings.port == 9000


def test_generated_secrets_are_private_reused_and_overridable(tmp_path: Path) -> None:
    first = ensure_secrets(tmp_path)
    secrets_file = tmp_path / "secrets.env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert ensure_secrets(tmp_path) == first
    settings = Settings.from_env({"CALLVAULT_DATA_DIR": str(tmp_path)})
    assert settings.s3_secret_key == first["CALLVAULT_S3_SECRET_KEY"]
    assert settings.master_key == first["CALLVAULT_MASTER_KEY"]
    overridden = Settings.from_env({"CALLVAULT_DATA_DIR": str(tmp_path), "CALLVAULT_S3_SECRET_KEY": "from-env"})
    assert overridden.s3_secret_key == "from-env"


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    ensure_secrets(tmp_path)
    settings = Settings.from_env({"CALLVAULT_DATA_DIR": str(tmp_path)})
    assert settings.master_key not in repr(settings)
    assert settings.secret_key not in repr(settings)
    assert settings.s3_secret_key not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CALLVAULT_PORT", "eighty", "integer"),
        ("CALLVAULT_HTTPS", "maybe", "true or false"),
        ("CALLVAULT_REDACTION_AUDIO", "beep", "mute or tone"),
        ("CALLVAULT_CUSTOMER_NUMBER_PATTERN", "asiakas(\\d+", "regular expression"),
        # Found by a deployment pass: an unknown level was a traceback naming no setting, an unknown format fell back
        # to text unsaid, and a URL with a bad port said only "invalid literal for int()".
        ("CALLVAULT_LOG_LEVEL", "LOUD", "one of CRITICAL, DEBUG"),
        ("CALLVAULT_LOG_FORMAT", "xml", "auto or json or text"),
        ("CALLVAULT_DATABASE_URL", "postgresql+psycopg://db:5432:99/callvault", "invalid literal for int"),
        ("CALLVAULT_DATABASE_URL", "nosuchdb://here", "Can't load plugin"),
        # Taken before: -1 made every request through the proxy a 500, nan switched the stall limit off, and a link
        # without its scheme opened nothing.
        ("CALLVAULT_TRUSTED_PROXIES", "-1", "not be negative"),
        ("CALLVAULT_BODY_STALL_S", "nan", "0 or more"),
        ("CALLVAULT_MAX_UPLOAD_BYTES", "-1", "not be negative"),
        ("CALLVAULT_PORT", "99999", "port from 1 to 65535"),
        ("CALLVAULT_PUBLIC_URL", "callvault.example.org", "https://"),
        ("CALLVAULT_LOG_LEVEL", "verbose", "one of CRITICAL, DEBUG"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"{name}.*{message}"):
        Settings.from_env({"CALLVAULT_DATA_DIR": str(tmp_path), name: value})


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = Settings.from_env({"CALLVAULT_DATA_DIR": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_a_secret_the_environment_sets_is_not_generated_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by testing the restore as an operator: restored with the keys from the environment (a backup without
    keys), or run with them set, the data directory got a secrets.env with a newly generated master and audit key,
    which every command run without those variables then took for the installation's."""
    monkeypatch.setenv("CALLVAULT_MASTER_KEY", "from-the-environment")
    made = ensure_secrets(tmp_path)
    kept = (tmp_path / "secrets.env").read_text()
    assert "CALLVAULT_MASTER_KEY" not in kept and "CALLVAULT_AUDIT_KEY=" in kept
    assert made["CALLVAULT_MASTER_KEY"] == "from-the-environment"


def test_every_secret_set_by_the_environment_needs_no_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator's pass: with every secret in the environment (a service manager's environment file) and
    no secrets.env, `callvault run` stopped at once: "No such file or directory: …/secrets.env" (its mode was set
    whether or not a file had been written)."""
    names = ("S3_ACCESS_KEY", "S3_SECRET_KEY", "MASTER_KEY", "SECRET_KEY", "S3_JWT_KEY", "AUDIT_KEY")
    for name in names:
        monkeypatch.setenv(f"CALLVAULT_{name}", f"{name.lower()} from the environment")
    made = ensure_secrets(tmp_path / "var")
    assert made["CALLVAULT_MASTER_KEY"] == "master_key from the environment"
    assert not (tmp_path / "var" / "secrets.env").exists()


@pytest.mark.parametrize(
    ("entry", "process", "status"),
    [
        (["-m", "jobs"], "jobs", 1),
        # As the unit and `callvault run` start it: the master checks once and starts no worker. With two workers
        # failing to boot at once, gunicorn's arbiter raised its halt again while halting (a traceback, exit 1
        # where 3 was meant): the clean-clone CI of d2b6b39 failed on it.
        (["-m", "gunicorn", *GUNICORN_HOOKS, "--workers", "2", "--bind", "127.0.0.1:0", "web.wsgi:app"], "web", 1),
        # Without the hooks, a worker ends with gunicorn's "worker failed to boot" (3), on which gunicorn stops;
        # on 1 it started worker after worker (a review).
        (["-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "web.wsgi:app"], "web", 3),
    ],
)
def test_the_processes_a_service_manager_starts_say_a_bad_setting_in_one_line(
    tmp_path: Path, entry: list[str], process: str, status: int
) -> None:
    """Found by a deployment pass: `python -m jobs` and gunicorn's `web.wsgi` (what the systemd units start) printed
    a traceback for a malformed setting, gunicorn one per worker; the CLI said it in one line."""
    environment = {**os.environ, "CALLVAULT_DATA_DIR": str(tmp_path), "CALLVAULT_TIMEZONE": "Mars/Base"}
    started = subprocess.run(
        [sys.executable, *entry], check=False, cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == status
    said = "CALLVAULT_TIMEZONE must name a time zone such as Europe/Helsinki, got 'Mars/Base'"
    errors = [line for line in started.stderr.splitlines() if "Traceback" in line or said in line]
    assert errors == [f"{process} process not started: {said}"], started.stderr
    assert ("Booting worker" in started.stderr) == (status == 3), started.stderr


def test_names_python_and_urls_accept_are_still_taken(tmp_path: Path) -> None:
    """Found by a review: `warn` (Python's own name) and `HTTPS://` were refused once they were checked."""
    settings = Settings.from_env(
        {
            "CALLVAULT_DATA_DIR": str(tmp_path),
            "CALLVAULT_LOG_LEVEL": "warn",
            "CALLVAULT_PUBLIC_URL": "HTTPS://cv.example",
        }
    )
    assert (settings.log_level, settings.public_url) == ("warn", "HTTPS://cv.example")
