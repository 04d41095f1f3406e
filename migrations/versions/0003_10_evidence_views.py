"""documented views v_claims and v_concession_terms: claims in use, and the evidence terms of concessions

v_claims: every live claim with its rank; ``in_use`` is 1 for the claims of the best rank present
for their record and attribute (preferred if any live claim is preferred, else normal) and 0
otherwise; deprecated claims are never in use.

v_concession_terms: every live concession's conditions, expiry, renewal chain, legal instrument
(authority, programme, reference, announced and effective dates), release form and destination, and
its roster (named beneficiaries) beside the stated quantity.

Retracted records are left out of both.

Revision ID: 0003_10
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_10"
down_revision: str | None = "0003"
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


V_CONCESSION_TERMS = """
SELECT r.slug AS id, c.kind, c.summary, c.status, c.conditions,
       c.expires_text, c.expires_on, c.expires_precision,
       rn.slug AS renews,
       (SELECT min(nr.slug) FROM concessions n JOIN records nr ON nr.id = n.id AND NOT nr.retracted
         WHERE n.renews_id = c.id) AS renewed_by,
       c.instrument, c.authority, c.programme, c.instrument_ref,
       c.announced_text, c.announced_on, c.announced_precision,
       c.effective_text, c.effective_on, c.effective_precision,
       c.release_form, c.destination, c.quantity, c.unit,
       (SELECT count(*) FROM beneficiaries b WHERE b.concession_id = c.id) AS named
  FROM concessions c
  JOIN records r ON r.id = c.id AND NOT r.retracted
  LEFT JOIN records rn ON rn.id = c.renews_id"""

VIEWS = {"v_claims": V_CLAIMS, "v_concession_terms": V_CONCESSION_TERMS}


def upgrade() -> None:
    """Create the views."""
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    """Drop the views."""
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
