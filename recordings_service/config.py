"""Settings: one frozen object built from CALLVAULT_* environment variables with embedded defaults."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

PREFIX = "CALLVAULT_"
SECRETS_FILE = "secrets.env"
# Settings that take one of a few words; anything else is refused when the settings are built.
CHOICES: dict[str, frozenset[str]] = {
    "redaction_audio": frozenset({"mute", "tone"}),
    # An unknown format fell back to text unsaid (and an unknown level, below, was a traceback naming no setting).
    "log_format": frozenset({"auto", "json", "text"}),
}
# Python's own names, WARN and FATAL included (a deployment's CALLVAULT_LOG_LEVEL=warn worked before it was checked).
LOG_LEVELS = frozenset({"NOTSET", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"})
PORTS = frozenset({"port", "s3_port"})


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a KEY=VALUE file (the generated secrets); blank lines and # comments are skipped."""
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for raw_line in path.read_text().splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by this user only (mode 600) from its creation on."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file left from before keeps its mode through O_CREAT
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


class SettingsError(ValueError):
    """A CALLVAULT_* setting that is malformed: its message names the variable and the value."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    s3_port: int = 8333
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = "callvault"
    s3_access_key: str = ""
    s3_secret_key: str = field(default="", repr=False)
    master_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    # Audit trail: the HMAC key that signs new events (generated into secrets.env when embedded), retired keys
    # that still verify the events they signed (comma-separated), and the days each chain-head anchor is kept
    # under Object Lock.
    audit_key: str = field(default="", repr=False)
    audit_keys_old: str = field(default="", repr=False)
    audit_anchor_retention_days: int = 3650
    ffmpeg: str = ""
    log_level: str = "INFO"
    log_format: str = "auto"
    https: bool = False
    # Login throttling counts; memory:// is per process: use e.g. redis://host:6379 with several workers.
    ratelimit_storage_uri: str = "callvault-db://"
    # Reverse proxies in front of the web process whose X-Forwarded-For/-Proto are believed; 0 believes none,
    # since anyone can send those headers to a process that is reachable directly.
    trusted_proxies: int = 0
    # Any request body larger than this is refused with 413 (ingest uploads have max_upload_bytes instead);
    # the largest other body is a 10 MB custody certificate.
    max_request_bytes: int = 16 * 1024**2
    # Seconds a web worker's thread waits for the next bytes of a request body (or for a client to take the next
    # bytes of an answer) before it gives the connection up: a client that stops sending holds a thread no longer.
    body_stall_s: float = 60.0
    # Transcription: engine name ("faster-whisper", "openai-whisper" or "module:Class"), model (empty for
    # the bundled Whisper base, else a name or local path), and decoding knobs.
    transcribe_engine: str = "faster-whisper"
    transcribe_model: str = ""
    transcribe_device: str = "auto"
    transcribe_compute_type: str = "auto"
    transcribe_beam_size: int = 5
    transcribe_threads: int = 0
    # 30 s windows decoded at once, all channels of a call together; 1 decodes each channel on its own, one
    # window after another; 0 lets the jobs process choose from the device and CPU count.
    transcribe_batch_size: int = 0
    transcribe_language: str = "auto"
    transcribe_lease_s: float = 120.0
    # Ingest: upload and probe limits, purposes by queue ("queue=purpose+purpose;..."), the inbox
    # directory (empty: <data_dir>/inbox) and how old its files must be. Retention periods are not
    # settings: they live in the retention policy table (recordings_service/privacy/retention.py).
    max_upload_bytes: int = 1024**3
    max_audio_duration_s: float = 6 * 3600.0
    probe_timeout_s: float = 300.0
    probe_memory_bytes: int = 512 * 1024**2
    default_purposes: str = "verification"
    queue_purposes: str = ""
    inbox_dir: str = ""
    inbox_min_age_s: float = 10.0
    # How long an imported call's dropped files (plaintext audio, the sidecar) stay in the inbox's done/ beside their
    # receipt; the receipt stays.
    inbox_keep_done_hours: float = 24.0
    # How long a refused item (its files and the note saying why) stays in failed/ for the operator to correct.
    inbox_keep_failed_days: float = 30.0
    orphan_grace_s: float = 3600.0
    # Redaction: a call with card data has its original replaced by a copy muted over the card spans
    # (PCI DSS 3.3.1); redacted audio silences each finding ("mute") or covers it with a 1 kHz tone ("tone").
    pci_replace_original: bool = True
    # Customer numbers as the CRM writes them (a regex; a group named `number` marks the span): empty keeps
    # the default rule (a cue such as "asiakasnumero" / "kundnummer" / "customer number" and 6-10 digits).
    customer_number_pattern: str = ""
    redaction_audio: str = "mute"
    # Research custody: where partners reach Callvault (links in package READMEs and reminders; empty:
    # http://host:port), the days after a study's end before a missing confirmation is overdue, and the
    # SMTP server for reminders (smtp://user:pass@host:port or smtps://…; empty: reminders are only logged).
    public_url: str = ""
    research_grace_days: int = 14
    smtp_url: str = field(default="", repr=False)
    mail_from: str = "callvault@localhost"
    # Training library: customers who objected to marketing are never sampled; research objections are honoured
    # too when this is true. Trainers see agents as stable pseudonyms unless agents may be shown by name.
    training_honours_research_objection: bool = False
    training_show_agents: bool = False
    # The organisation's time zone (an IANA name): the UI shows every time in it, with UTC on hover.
    timezone: str = "Europe/Helsinki"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from the environment, then `$CALLVAULT_DATA_DIR/secrets.env`, then defaults.

        Variables already in the environment win over the secrets file, so an operator can override any
        generated value.
        """
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get(PREFIX + "DATA_DIR", "var")).resolve()
        merged = {**read_env_file(data_dir / SECRETS_FILE), **env}
        values: dict[str, object] = {"data_dir": data_dir}
        for spec in fields(cls):
            raw = merged.get(PREFIX + spec.name.upper())
            if raw is None or spec.name == "data_dir":
                continue
            values[spec.name] = _coerce(spec.name, spec.type, raw)
        values.update(overrides)
        return cls(**values).with_derived_defaults()  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                choices = " or ".join(sorted(allowed))
                raise SettingsError(f"{PREFIX}{name.upper()} must be {choices}, got {getattr(self, name)!r}")
        try:
            if self.database_url:  # empty: the data directory's SQLite file (`with_derived_defaults`)
                make_url(self.database_url).get_dialect()
        except (ValueError, ArgumentError, NoSuchModuleError) as exc:
            # Said by SQLAlchemy without the setting ("invalid literal for int() with base 10: '5432:99'").
            raise SettingsError(f"{PREFIX}DATABASE_URL: {exc}") from None
        if self.public_url and not re.match(r"https?://[^/]", self.public_url, re.IGNORECASE):
            # Without its scheme the links the CLI prints ("callvault.example.org/enrol/…") open nothing.
            raise SettingsError(f"{PREFIX}PUBLIC_URL must begin with https:// (or http://), got {self.public_url!r}")
        if self.log_level.upper() not in LOG_LEVELS:
            levels = ", ".join(sorted(LOG_LEVELS))
            raise SettingsError(f"{PREFIX}LOG_LEVEL must be one of {levels}, got {self.log_level!r}")
        try:
            re.compile(self.customer_number_pattern)
        except re.error as exc:
            raise SettingsError(f"{PREFIX}CUSTOMER_NUMBER_PATTERN is not a regular expression: {exc}") from None
        try:
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise SettingsError(
                f"{PREFIX}TIMEZONE must name a time zone such as Europe/Helsinki, got {self.timezone!r}"
            ) from None

    @staticmethod
    def external_store() -> bool:
        """Whether the objects live in a store of the operator's (CALLVAULT_S3_ENDPOINT set), not in the embedded
        one `callvault run` keeps in the data directory. Empty is unset, as `with_derived_defaults` reads it: an empty
        endpoint was taken for an external store by the backup, the restore and `run`, each on its own rule."""
        return bool(os.environ.get(PREFIX + "S3_ENDPOINT"))

    def with_derived_defaults(self) -> Settings:
        """Fill settings whose default depends on other settings."""
        derived: dict[str, object] = {}
        if not self.database_url:
            derived["database_url"] = f"sqlite:///{self.data_dir / 'callvault.db'}"
        if not self.s3_endpoint:
            derived["s3_endpoint"] = f"http://127.0.0.1:{self.s3_port}"
        if not self.public_url:
            derived["public_url"] = f"http://{self.host}:{self.port}"
        return replace(self, **derived) if derived else self  # type: ignore[arg-type]

    @property
    def zone(self) -> ZoneInfo:
        """CALLVAULT_TIMEZONE: the organisation's calendar, in which days, weeks and periods of months are counted."""
        return ZoneInfo(self.timezone)

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def secrets_path(self) -> Path:
        return self.data_dir / SECRETS_FILE

    @property
    def customer_number_rule(self) -> str | None:
        """The CRM's customer-number regex for redaction, or None for the default rule."""
        return self.customer_number_pattern or None

    def ffmpeg_path(self) -> str:
        """The ffmpeg binary: the configured one, else the one imageio-ffmpeg ships through pip."""
        if self.ffmpeg:
            return self.ffmpeg
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())


def _coerce(name: str, annotation: object, raw: str) -> object:
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    # No count, size, port or duration is negative or infinite: CALLVAULT_TRUSTED_PROXIES=-1 made every request
    # through the proxy a 500, CALLVAULT_BODY_STALL_S=nan switched the stall limit off, a port of 99999 was taken.
    if kind == "int":
        try:
            number = int(raw)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name.upper()} must be an integer, got {raw!r}") from None
        if name in PORTS and not 0 < number < 65536:
            raise SettingsError(f"{PREFIX}{name.upper()} must be a port from 1 to 65535, got {raw!r}")
        if number < 0:
            raise SettingsError(f"{PREFIX}{name.upper()} must not be negative, got {raw!r}")
        return number
    if kind == "float":
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name.upper()} must be a number, got {raw!r}") from None
        if not math.isfinite(value) or value < 0:
            raise SettingsError(f"{PREFIX}{name.upper()} must be a number of 0 or more, got {raw!r}")
        return value
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise SettingsError(f"{PREFIX}{name.upper()} must be true or false, got {raw!r}")
        return lowered in {"1", "true", "yes", "on"}
    if kind == "Path":
        return Path(raw)
    return raw
