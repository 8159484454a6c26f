"""Settings from the environment: defaults, the generated secrets file, overrides and clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from recordings_service.config import Settings
from recordings_service.storage.embedded import ensure_secrets


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
