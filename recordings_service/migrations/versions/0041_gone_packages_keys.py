"""Packages gone before this release lose their data keys too (crypto-shredding): an access package that expired, failed
or was withdrawn, and a research package whose objects were purged, kept its wrapped key, and a copy of its object on
the store's disks (until a compaction) or in a store backup could be decrypted with the database and the master key.
Packages now lose it as they go (`package_queue.forget_package_key`, `lifecycle.mark_purged`); this does it for those
that went before.

Revision ID: 0041_gone_packages_keys
Revises: 0040_drop_mfa_pending_seed
Create Date: 2026-12-06 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041_gone_packages_keys"
down_revision: str | Sequence[str] | None = "0040_drop_mfa_pending_seed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the tables stood at this revision.
subject_requests = sa.table(
    "subject_requests",
    sa.column("package_state"),
    sa.column("package_wrapped_key"),
    sa.column("package_master_key_id"),
)
research_batches = sa.table(
    "research_batches",
    sa.column("package_purged_at"),
    sa.column("package_wrapped_key"),
    sa.column("package_master_key_id"),
)
GONE = ("expired", "failed", "withdrawn")


def upgrade() -> None:
    op.execute(
        subject_requests.update()
        .where(subject_requests.c.package_state.in_(GONE), subject_requests.c.package_wrapped_key.is_not(None))
        .values(package_wrapped_key=None, package_master_key_id=None)
    )
    op.execute(
        research_batches.update()
        .where(research_batches.c.package_purged_at.is_not(None), research_batches.c.package_wrapped_key.is_not(None))
        .values(package_wrapped_key=None, package_master_key_id=None)
    )


def downgrade() -> None:
    """Nothing: a destroyed key cannot come back."""
