"""journal.state: the digest of every record an entry touched, so verification needs no replay

Each entry written from this revision on records, in ``state`` (canonical JSON, part of the entry's
hash), the digest of the rows of every record it changed (see ``ledger/ops/state.py`` and
docs/journal.md). Entries written before keep ``state`` NULL and their hashes; a ledger with such
entries is verified by replaying the journal. The downgrade refuses a journal that holds digests:
they are hashed into the chain, so dropping them would break it.

Revision ID: 0004_5
Revises: 0003_10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_5"
down_revision: str | None = "0003_10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite's batch mode would copy the table and drop the
    # append-only triggers with it.
    op.add_column("journal", sa.Column("state", sa.Text(), nullable=True))


def downgrade() -> None:
    # The digests are part of the entries' hashes: dropping them would break the chain for good.
    digested = op.get_bind().execute(sa.text("SELECT count(*) FROM journal WHERE state IS NOT NULL")).scalar_one()
    if digested:
        raise RuntimeError(
            f"cannot downgrade below 0004_5: {digested} journal entries carry record digests that are part of "
            "their hashes; dropping them would break the hash chain (restore a backup made before the upgrade)"
        )
    op.drop_column("journal", "state")
