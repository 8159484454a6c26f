"""Alembic environment: runs on the connection handed over by `recordings_service.schema`."""

from alembic import context

from recordings_service import models  # noqa: F401  (registers every table on Base.metadata)
from recordings_service.db import Base
from recordings_service.schema import include_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
