"""Shared fixtures: a real SeaweedFS server, real SQLite and PostgreSQL databases, the Flask app.

Migrations run once per database per test session (`Databases`); each test runs inside a transaction that is
rolled back (views' commits only release a savepoint), so tests do not see each other's rows. What a test commits
outside it (a live server, a second connection, a process of its own) stays for the worker's later test files: a
test reads such shared things from where it began (`tests.factories.audit.newest_seq` for the trail), never whole.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_engine
from recordings_service.runtime import SESSION_ENVELOPE, Runtime
from recordings_service.storage.embedded import PORT_SPAN, EmbeddedS3
from recordings_service.storage.encryption import Envelope, generate_master_key
from recordings_service.storage.object_store import S3ObjectStore, make_client
from web import create_app

# The browser fixture (Debian's chromium through Playwright), and the scan of the run's application log.
pytest_plugins = [
    "tests.browser_support",
    "tests.log_scan",
    "tests.factories.staff",
    "tests.factories.audit",
    "tests.factories.own_database",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first: `make test` hands files to its workers in this order (`--dist loadfile
    --no-loadscope-reorder`), so the minutes-long ones run beside the many short ones, not after them. By
    default pytest-xdist orders files by their number of tests, which left the one-test files of the cluster
    and fault tests for the end, one worker running them alone while the other waited (16.5 minutes)."""
    items.sort(key=lambda item: (item.get_closest_marker("cluster") is None, item.get_closest_marker("slow") is None))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`make test`'s workers (`-n auto`): half as many again as cores, three on the 2-core CI machine. The long tests
    mostly wait (a killed jobs process's lease to expire, a 30 s store outage, servers starting and stopping), and with
    one worker a core, a core stood idle meanwhile; the third worker's files fill that time (README, Set-up)."""
    cores = os.cpu_count() or 1
    return cores + cores // 2


DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() == "true"
DATA_DIR = Path(__file__).parent / "data"


def free_port_block(span: int) -> int:
    """A port P such that P..P+span-1 are all free on 127.0.0.1 (SeaweedFS opens that many), below the kernel's
    ephemeral range: a server started seconds after the choice (a restored store, a cluster whose servers dial
    each other) once found a port of its block taken by some process's outgoing connection."""
    lowest_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        base = random.randrange(20000, lowest_ephemeral - span)
        with ExitStack() as held:
            try:
                for port in range(base, base + span):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise RuntimeError("no free block of ports")


# ---------------------------------------------------------------- object store


TEST_BUCKET = "callvault-test"


# The tests make a bucket of their own wherever a backup, restore or fault needs one, each taking a volume (43 in
# one worker's server over a whole run): weed's own count, about one volume per GB of free disk, ran out in CI.
TEST_STORE_VOLUMES = 1000


def new_embedded_s3(store_dir: Path, *, name: str, bucket: str = "") -> EmbeddedS3:
    """A private embedded SeaweedFS (not started yet) on free ports, with generated credentials named `name`."""
    return EmbeddedS3(
        store_dir=store_dir,
        port=free_port_block(PORT_SPAN),
        access_key=name + secrets.token_hex(6),
        secret_key=secrets.token_urlsafe(24),
        jwt_key=secrets.token_urlsafe(24),
        bucket=bucket,
        max_volumes=TEST_STORE_VOLUMES,
    )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    server = new_embedded_s3(tmp_path_factory.mktemp("seaweedfs"), name="test", bucket=TEST_BUCKET)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_settings(s3_server: EmbeddedS3, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("var"),
        s3_port=s3_server.port,
        s3_bucket=TEST_BUCKET,
        s3_access_key=s3_server._access_key,
        s3_secret_key=s3_server._secret_key,
        master_key=generate_master_key(),
        secret_key=secrets.token_urlsafe(32),
        log_format="json",
    ).with_derived_defaults()
    from tests.log_scan import remember_secret  # a plugin module: imported once pytest has registered it

    remember_secret(settings.s3_secret_key, settings.master_key, settings.secret_key)
    return settings


@pytest.fixture(scope="session")
def store(base_settings: Settings) -> S3ObjectStore:
    real = S3ObjectStore(make_client(base_settings), base_settings.s3_bucket)
    real.ensure_bucket()
    return real


@pytest.fixture(scope="session")
def envelope(base_settings: Settings) -> Envelope:
    return Envelope(base_settings.master_key)


# ---------------------------------------------------------------- databases


def postgres_url_or_skip() -> str:
    url = os.environ.get("CALLVAULT_TEST_DATABASE_URL", DEFAULT_PG_URL)
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        reason = f"PostgreSQL unreachable at {url.split('@')[-1]}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true requires PostgreSQL)")
        pytest.skip(reason)
    return url


class Databases:
    """Each kind of database, made and migrated on first use and kept until the test session ends.

    `database_url` is a session fixture with a parameter, and pytest tears such a fixture down whenever the next
    test has the other parameter: with files handed to workers one at a time, that was twice a file, and every
    file's first test on each kind paid for a new database, its migrations, its engine and its app (about a
    quarter of the suite's time). The databases now outlive those switches, as the module's docstring says.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, cleanup: ExitStack) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._cleanup = cleanup
        self._urls: dict[str, str] = {}
        self._engines: dict[str, Engine] = {}

    def url(self, kind: str) -> str:
        if kind not in self._urls:
            self._urls[kind] = self._make(kind)
        return self._urls[kind]

    def engine(self, url: str) -> Engine:
        if url not in self._engines:
            self._engines[url] = engine = make_engine(url)
            self._cleanup.callback(engine.dispose)
        return self._engines[url]

    def _make(self, kind: str) -> str:
        if kind == "postgresql":
            return self._cleanup.enter_context(private_postgres_schema("t_"))
        url = f"sqlite:///{self._tmp_path_factory.mktemp('sqlite') / 'callvault.db'}"
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        return url


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    with ExitStack() as cleanup:
        yield Databases(tmp_path_factory, cleanup)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, databases: Databases) -> str:
    """A migrated database of each kind (PostgreSQL: a private schema), one per test session."""
    return databases.url(request.param)


@contextmanager
def private_postgres_schema(prefix: str) -> Iterator[str]:
    """A migrated PostgreSQL schema of its own (dropped afterwards), as a URL other processes can use too."""
    admin_url = postgres_url_or_skip()
    schema_name = prefix + secrets.token_hex(6)
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema_name}"))
    separator = "&" if "?" in admin_url else "?"
    url = f"{admin_url}{separator}options=-csearch_path%3D{schema_name}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema_name} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str, databases: Databases) -> Engine:
    return databases.engine(database_url)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def sessions(connection: Connection, envelope: Envelope) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={SESSION_ENVELOPE: envelope},
    )


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def db_kind(engine: Engine) -> str:
    return engine.dialect.name


# ---------------------------------------------------------------- the app


@pytest.fixture
def settings(base_settings: Settings, database_url: str) -> Settings:
    return Settings(**{**base_settings.__dict__, "database_url": database_url})


@pytest.fixture
def runtime(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], store: S3ObjectStore, envelope: Envelope
) -> Runtime:
    return Runtime(settings=settings, engine=engine, sessions=sessions, store=store, envelope=envelope)


@pytest.fixture(scope="session")
def apps_by_settings() -> dict[Settings, Flask]:
    return {}


@pytest.fixture
def app(settings: Settings, runtime: Runtime, apps_by_settings: dict[Settings, Flask]) -> Iterator[Flask]:
    """The app for these settings, made once per test session (its routes and compiled templates are a tenth of
    a second a test) and lent to each test with that test's runtime and its configuration as made (the login
    attempts it counts are in the test's database, rolled back after it); a test's changes to the configuration
    are undone after it."""
    app = apps_by_settings.get(settings)
    if app is None:
        app = apps_by_settings[settings] = create_app(settings, runtime=runtime)
        app.config.update(TESTING=True)
    made = dict(app.config)
    app.extensions["callvault"] = runtime
    yield app
    app.config.clear()
    app.config.update(made)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
