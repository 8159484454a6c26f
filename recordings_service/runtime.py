"""The long-lived objects every entry point (web, jobs, CLI) builds once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    envelope: Envelope

    @classmethod
    def from_settings(cls, settings: Settings, *, store: ObjectStore | None = None) -> Runtime:
        engine = make_engine(settings.database_url, pool_pre_ping=True)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            store=store if store is not None else S3ObjectStore.from_settings(settings),
            envelope=Envelope(settings.master_key),
        )
