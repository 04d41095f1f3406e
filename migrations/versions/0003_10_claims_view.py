"""documented view v_claims: every live claim with its rank and whether the ledger uses its value

``in_use`` is 1 for the claims of the best rank present for their record and attribute (preferred
if any live claim is preferred, else normal) and 0 otherwise; deprecated claims are never in use.
Retracted claims are left out.

Revision ID: 0003_10
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_10"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

V_CLAIMS = """
SELECT cr.slug AS id, rr.slug AS record, rr.type AS record_type, c.attribute, c.value,
       sr.slug AS source, c.quote, c.rank, c.rank_reason, c.rank_author,
       CASE
         WHEN c.rank = 'deprecated' THEN 0
         WHEN c.rank = 'preferred' THEN 1
         WHEN EXISTS (SELECT 1 FROM claims o JOIN records orr ON orr.id = o.id AND NOT orr.retracted
                       WHERE o.record_id = c.record_id AND o.attribute = c.attribute AND o.rank = 'preferred')
           THEN 0
         ELSE 1
       END AS in_use
  FROM claims c
  JOIN records cr ON cr.id = c.id AND NOT cr.retracted
  JOIN records rr ON rr.id = c.record_id
  JOIN records sr ON sr.id = c.source_id"""


def upgrade() -> None:
    """Create v_claims."""
    op.execute(f"CREATE VIEW v_claims AS {V_CLAIMS}")


def downgrade() -> None:
    """Drop v_claims."""
    op.execute("DROP VIEW IF EXISTS v_claims")
