"""index for the default listing order: concessions by date (unknown dates last)

`ledger list` pages concessions ``ORDER BY date_on IS NULL, date_on, slug``. Without an index that
matches the first two keys, every page sorts the whole table (about 0.5 s per 100,000 concessions on
the benchmark machine); with it, SQLite and PostgreSQL walk the index and sort only the ties.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the expression index behind the listing order."""
    op.create_index("ix_concessions_date_order", "concessions", [sa.text("(date_on IS NULL)"), "date_on"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_concessions_date_order", table_name="concessions")
