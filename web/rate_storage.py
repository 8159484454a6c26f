"""The login throttle's counts in the database (`recordings_service.rate_counts`), as a storage of the `limits`
library Flask-Limiter counts with: `callvault-db://`, the default of `CALLVAULT_RATELIMIT_STORAGE_URI`.

Flask-Limiter's `memory://` counted in each web worker: with `callvault run`'s two workers an address got twice the
allowance, and more with more workers. The database is the one store every worker shares without another service
(`redis://` still works where one runs)."""

from __future__ import annotations

import time

from limits.storage import Storage
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from recordings_service import rate_counts
from web.database import db, runtime


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["callvault-db"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count the hit and commit it at once: it counts however the request it came with ends."""
        session, now = db(), time.time()
        count = rate_counts.add(session, _stored(key), amount=amount, window_s=expiry, now=now)
        session.commit()
        rate_counts.forget_ended(session, now=now)
        session.commit()
        return count

    def get(self, key: str) -> int:
        return rate_counts.current(db(), _stored(key), now=time.time())[0]

    def get_expiry(self, key: str) -> float:
        return rate_counts.current(db(), _stored(key), now=time.time())[1]

    def check(self) -> bool:
        db().execute(select(1))
        return True

    def reset(self) -> int | None:
        cleared = rate_counts.clear(db())
        db().commit()
        return cleared

    def clear(self, key: str) -> None:
        rate_counts.clear(db(), _stored(key))
        db().commit()


def _stored(key: str) -> str:
    """The library's key names the address: kept as a hash keyed by the installation's secret."""
    return rate_counts.stored_key(runtime().settings.secret_key, key)
