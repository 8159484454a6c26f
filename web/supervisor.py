"""Runs the embedded S3, web and jobs processes for `callvault run`."""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from types import FrameType

import click
from sqlalchemy.exc import SQLAlchemyError

from recordings_service import accounts, mfa, schema
from recordings_service.audit import Actor
from recordings_service.backup import portable
from recordings_service.config import Settings, read_env_file, write_private
from recordings_service.logs import configure_logging
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime, refuse_shared_directory
from recordings_service.storage.embedded import EmbeddedS3, die_with_parent, ensure_secrets
from recordings_service.storage.object_store import S3ObjectStore
from web import run_preflight
from web.ui.auth import enrolment_url

# gunicorn for `callvault run` (bench/ingest.py measures the same): threaded workers, because a request
# mostly waits (upload, S3, the probe worker, the database) with the GIL released, and a sync worker
# would hold a whole ~130 MiB process per request, playback streams included.
WEB_WORKERS = 2
WEB_THREADS = 4
# gunicorn closes an idle connection after 2 s by default; a client that reuses it a moment later (a browser
# between two clicks, a telephony client between two calls) races the close and sees the connection drop
# (bench/load.py counted 5 such errors in 8 827 requests). A gthread worker keeps idle connections in its
# poller, not in a thread, so holding them longer costs a socket each.
WEB_KEEP_ALIVE_S = 75
# Settings and keys checked once, in gunicorn's master, before a worker starts (web/gunicorn_hooks.py).
GUNICORN_HOOKS = ("--config", "python:web.gunicorn_hooks")
FIRST_ADMIN_NOTICE = "first-admin.txt"  # in the data directory, when stdout is not a terminal
WEB_OPTIONS = (
    *("--worker-class", "gthread", "--keep-alive", str(WEB_KEEP_ALIVE_S)),
    *("--logger-class", "web.gunicorn_logs.PrivateLogger"),
    *GUNICORN_HOOKS,
)


def run_all(*, workers: int, threads: int, actor: Actor) -> None:
    """Start the embedded S3 (unless CALLVAULT_S3_ENDPOINT is set), web and jobs; stop them all when one exits."""
    base = Settings.from_env()
    refuse_shared_directory(base.data_dir)  # before secrets are written into it
    _refuse_lost_secrets(base)
    generated = ensure_secrets(base.data_dir)
    # Children read the same secrets; variables already set by the operator win.
    for name, value in generated.items():
        os.environ.setdefault(name, value)
    os.environ["CALLVAULT_DATA_DIR"] = str(base.data_dir)
    settings = Settings.from_env()
    configure_logging(settings)
    embedded_store = not Settings.external_store()
    _clear_the_way(settings, embedded_store=embedded_store)
    runtime = Runtime.from_settings(settings)
    # The keys of a database that holds a schema are checked before it is migrated too: refused afterwards, an
    # installation could not go back to the release it came from, whose migrations are then behind the database.
    if schema.current_revisions(runtime.engine):
        runtime.check_keys()
    schema.upgrade(runtime.engine)
    # Before anything starts: web and jobs would each refuse the key, one traceback apiece.
    runtime.check_keys()
    embedded = None
    if embedded_store:
        embedded = EmbeddedS3.from_settings(settings, os.environ["CALLVAULT_S3_JWT_KEY"])
        click.echo(f"starting SeaweedFS on {embedded.endpoint} (data in {settings.store_dir})")
        embedded.start()
    children: list[subprocess.Popen[bytes]] = []
    try:
        S3ObjectStore.from_settings(settings).ensure_bucket()
        _ensure_admin(runtime, actor=actor)
        python = sys.executable
        children.append(
            _spawn(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "web.wsgi:app",
                    "--bind",
                    f"{settings.host}:{settings.port}",
                    "--workers",
                    str(workers),
                    *WEB_OPTIONS,
                    "--threads",
                    str(threads),
                    "--timeout",
                    "300",
                    "--graceful-timeout",
                    "20",
                    "--no-control-socket",
                ]
            )
        )
        children.append(_spawn([python, "-m", "jobs"]))
        click.echo(f"Callvault is running on http://{settings.host}:{settings.port}  (Ctrl-C stops everything)")
        if not _supervise(children):
            raise click.ClickException("a process of the run exited on its own; the others were stopped")
    finally:
        _stop(children)
        if embedded is not None:
            click.echo("stopping SeaweedFS…")
            embedded.stop()


def _refuse_lost_secrets(settings: Settings) -> None:
    """Refuse to generate new keys beside a database that holds Callvault's data: with `secrets.env` lost (or a
    restore without its keys), a new master key would open none of the stored calls, and a new audit key sign the
    trail on where nobody could verify it; the refusal named the audit key only, after writing the new file."""
    kept = read_env_file(settings.secrets_path)
    unset = [
        name for name in ("CALLVAULT_MASTER_KEY", "CALLVAULT_AUDIT_KEY") if not (kept.get(name) or os.environ.get(name))
    ]
    if not unset:
        return
    try:
        used = portable.holds_tables(settings.database_url)
    except SQLAlchemyError:
        return  # a database not reachable yet: the key checks after the migration still stand
    if used:
        raise click.ClickException(
            f"{' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} neither in {settings.secrets_path} nor set, "
            "but the database holds Callvault's data: put that file back (a backup's keys/secrets.env) or set the "
            "installation's keys; new keys would open none of the stored calls"
        )


def _clear_the_way(settings: Settings, *, embedded_store: bool) -> None:
    """Stop what a killed earlier run on this data directory left behind; fail naming any other port holder."""
    try:
        stopped = run_preflight.stop_leftovers(settings.data_dir, store_dir=settings.store_dir)
        if stopped:
            click.echo(f"stopped {len(stopped)} process(es) an earlier run on {settings.data_dir} left behind")
        ports = {settings.port: "web"}
        if embedded_store:
            ports |= run_preflight.embedded_store_ports(settings.s3_port)
        run_preflight.check_ports_free(ports, wait_s=5.0 if stopped else 0.0)
    except run_preflight.PortsBusy as exc:
        raise click.ClickException(str(exc)) from None


def _ensure_admin(runtime: Runtime, *, actor: Actor) -> None:
    with runtime.sessions() as session:
        if accounts.has_active_admin(session):
            return
        # Only disabled administrators left (or a name "admin" taken by another account): nobody can administer,
        # so a new admin is made under a free name rather than failing on the taken one.
        replaces = any(each.role == Role.ADMIN for each in accounts.list_users(session))
        username = next(name for name in _admin_names() if accounts.find_user(session, name) is None)
        password = os.environ.get("CALLVAULT_ADMIN_PASSWORD") or secrets.token_urlsafe(15)
        admin = accounts.create_user(
            session, actor=actor, username=username, role="admin", password=password, display_name="Administrator"
        )
        # Every person enrols TOTP through a one-time link, the first admin too.
        token = mfa.issue_enrolment_link(session, runtime.envelope, actor=actor, user_id=admin.id)
        session.commit()
    link = enrolment_url(runtime.settings.public_url, token)
    given = "CALLVAULT_ADMIN_PASSWORD" in os.environ
    shown = "the one in CALLVAULT_ADMIN_PASSWORD" if given else f"'{password}' (shown once)"
    # The operator signs in at the link with both, so the username stands beside it whatever the password.
    created = "No active admin account was left; admin account created" if replaces else "First admin account created"
    notice = (
        f"{created}: username '{admin.username}', password {shown}.\n"
        f"Open {link} within 24 hours and sign in as '{admin.username}' to set up its authenticator app;\n"
        f"`callvault users enrolment-link {admin.username}` prints a new link.\n"
    )
    if sys.stdout.isatty():
        click.echo("\n" + textwrap.indent(notice, "  "))
        return
    # Under a service manager stdout is a journal or a log file that others read: whoever opened the link first
    # would enrol as the admin. The notice goes to a file only this user can read.
    path = runtime.settings.data_dir / FIRST_ADMIN_NOTICE
    write_private(path, notice)
    click.echo(
        f"\n  {created}: username '{admin.username}'. Its password and one-time enrolment link\n"
        f"  are in {path} (readable by this user only; not printed, as stdout is not a terminal).\n"
        "  Delete the file once the admin has enrolled.\n"
    )


def _admin_names() -> Iterator[str]:
    yield "admin"
    yield from (f"admin{number}" for number in itertools.count(2))


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    # The supervisor is single-threaded, so preexec_fn is safe here.
    return subprocess.Popen(command, start_new_session=True, preexec_fn=die_with_parent)  # noqa: PLW1509


def _supervise(children: list[subprocess.Popen[bytes]]) -> bool:
    """Wait for Ctrl-C or SIGTERM (True) or for a child to exit (False)."""
    stopping = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stopping:
        if any(child.poll() is not None for child in children):
            return False
        time.sleep(0.3)
    return True


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
