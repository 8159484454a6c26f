"""The backup and restore drill: a data directory with ingested calls (real encrypted objects in SeaweedFS) is backed
up, its store stopped, and the backup restored into a fresh data directory with a fresh embedded store, where the
audit trail verifies intact, every original re-hashes to its ingest SHA-256, an evidence package matches and the
audit anchors are retained in Object Lock again (the drill found them restored as plain objects)."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result
from sqlalchemy import select

from recordings_service import schema
from recordings_service.audit import Actor
from recordings_service.audit_anchors import ANCHOR_PREFIX
from recordings_service.calls.evidence import MANIFEST, export_evidence
from recordings_service.config import Settings
from recordings_service.models import AuditEvent, Recording
from recordings_service.runtime import Runtime
from recordings_service.storage.embedded import PORT_SPAN, EmbeddedS3, ensure_secrets
from tests.conftest import free_port_block
from tests.factories.recordings import STEREO, ingest_file
from tests.factories.reviews import make_transcribed_call
from web import cli

OFFICER = Actor(id=None, name="drill", role="compliance")


class Site:
    """A data directory and the port of its embedded store, as `callvault run` would use them."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port_block(PORT_SPAN)
        self.server: EmbeddedS3 | None = None

    @property
    def env(self) -> dict[str, str | None]:
        return {
            "CALLVAULT_DATA_DIR": str(self.data_dir),
            "CALLVAULT_S3_PORT": str(self.port),
            "CALLVAULT_S3_ENDPOINT": None,
        }

    def settings(self) -> Settings:
        return Settings.from_env({key: value for key, value in self.env.items() if value is not None})

    def start_store(self) -> None:
        secrets = ensure_secrets(self.data_dir)
        self.server = EmbeddedS3.from_settings(self.settings(), secrets["CALLVAULT_S3_JWT_KEY"])
        self.server.start()

    def stop_store(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def runtime(self) -> Runtime:
        return Runtime.from_settings(self.settings())

    def callvault(self, *args: str) -> Result:
        return CliRunner().invoke(cli.main, list(args), env=self.env)


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[tuple[Site, Site]]:
    source, target = Site(tmp_path / "source"), Site(tmp_path / "restored")
    yield source, target
    source.stop_store()
    target.stop_store()


def test_a_backup_restores_into_a_fresh_data_directory_with_the_trail_intact_and_hashes_matching(
    sites: tuple[Site, Site], tmp_path: Path
) -> None:
    source, target = sites
    source.start_store()
    runtime = source.runtime()
    runtime.store.ensure_bucket()  # type: ignore[attr-defined]
    schema.upgrade(runtime.engine)
    with runtime.sessions() as session:
        ingested = [ingest_file(session, runtime.store, runtime.envelope, runtime.settings).recording for _ in range(2)]
        transcribed = make_transcribed_call(session, runtime.store, runtime.envelope)
        session.commit()
        originals = {call.id: (call.storage_key, call.sha256) for call in [*ingested, transcribed]}
    assert source.callvault("audit", "verify").exit_code == 0  # the chain head is anchored in the store too

    backup_dir = tmp_path / "backup"
    made = source.callvault("backup", str(backup_dir))
    assert made.exit_code == 0, made.output
    assert "database (sqlite)" in made.output
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    objects = {entry["key"]: entry for entry in manifest["objects"]}
    for key, _ in originals.values():
        entry = objects[key]
        assert entry["version_id"] and entry["size"] == (backup_dir / entry["file"]).stat().st_size
        assert hashlib.sha256((backup_dir / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert any(key.startswith(ANCHOR_PREFIX) for key in objects)
    for private in (backup_dir / "keys" / "secrets.env", backup_dir / "manifest.json", backup_dir / "database.sqlite"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    assert source.callvault("backup", str(backup_dir)).exit_code == 1  # never into a used directory
    source.stop_store()  # the source is gone: the restore has only the backup

    restored = target.callvault("restore", str(backup_dir))
    assert restored.exit_code == 0, restored.output
    # A fresh embedded store knows no deletion made after the backup: the restore says so, and where to look.
    assert "the ledger came from the backup itself" in restored.output
    assert "start `callvault run`, then run `callvault audit verify`" in restored.output
    refused = target.callvault("restore", str(backup_dir))
    assert refused.exit_code == 1 and "not empty" in refused.output

    target.start_store()
    verified = target.callvault("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("intact (")
    checked = target.callvault("integrity", "check")
    assert checked.exit_code == 0, checked.output
    assert checked.output.strip() == f"checked={len(originals)} mismatched=0 missing=0"

    runtime = target.runtime()
    # The anchors are back in Object Lock, as at the source: deletable, the restored trail could be cut to match.
    anchors = [info.key for info in runtime.store.list(ANCHOR_PREFIX)]
    assert anchors
    with pytest.raises(ClientError, match="AccessDenied"):
        runtime.store.delete(anchors[0])
    with runtime.sessions() as session:
        rows = {row.id: (row.storage_key, row.sha256) for row in session.scalars(select(Recording))}
        assert rows == originals
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
        # The backup's own trail shows it was taken, and the restore is the next event in the same chain.
        assert actions.index("backup.started") + 1 == actions.index("backup.restored")
        package = io.BytesIO()
        evidence = export_evidence(
            session,
            runtime.store,
            runtime.envelope,
            actor=OFFICER,
            recording_id=ingested[0].id,
            destination=package,
            work_dir=tmp_path,
            zone=UTC,
        )
        session.commit()
    assert (
        evidence.files["original.wav"]
        == hashlib.sha256(STEREO.read_bytes()).hexdigest()
        == originals[ingested[0].id][1]
    )
    with zipfile.ZipFile(package) as archive:
        for name, digest in evidence.files.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
        assert json.loads(archive.read(MANIFEST))["sha256_at_ingest"] == originals[ingested[0].id][1]
