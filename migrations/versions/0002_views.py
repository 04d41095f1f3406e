"""documented views: v_concessions, v_exchanges, v_links, v_sides, v_citations

Flat, join-free shapes for people who query the ledger with plain SQL; docs/data-model.md describes
every column. Retracted records are left out of every view.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("v_concessions", "v_exchanges", "v_links", "v_sides", "v_citations")


def _agg(expr: str) -> str:
    """String aggregation: group_concat on SQLite, string_agg on PostgreSQL."""
    if op.get_bind().dialect.name == "sqlite":
        return f"group_concat({expr}, '; ')"
    return f"string_agg({expr}, '; ')"


def _definitions() -> dict[str, str]:
    live = "NOT {0}.retracted"
    return {
        "v_concessions": f"""
SELECT r.slug AS id, c.kind, k.cameo_code, c.kind_detail, c.summary,
       gr.slug AS giver, g.name AS giver_name, rr.slug AS receiver, rc.name AS receiver_name,
       c.quantity, c.unit, c.status,
       c.date_text, c.date_on, c.date_precision, c.due_text, c.due_on, c.due_precision,
       c.instrument, c.release_form,
       (SELECT min(xr.slug) FROM exchange_members m JOIN records xr ON xr.id = m.exchange_id
         WHERE m.concession_id = c.id) AS exchange,
       (SELECT {_agg("t.summary")} FROM (
          SELECT DISTINCT oc.summary AS summary FROM links l
            JOIN records lr ON lr.id = l.id AND {live.format("lr")}
            JOIN concessions oc ON oc.id = CASE WHEN l.quid_id = c.id THEN l.quo_id ELSE l.quid_id END
           WHERE (l.quid_id = c.id OR l.quo_id = c.id) AND l.basis <> 'denied') t) AS counterparts,
       (SELECT count(*) FROM citations ci JOIN records cr ON cr.id = ci.id AND {live.format("cr")}
         WHERE ci.record_id = c.id) AS citation_count
  FROM concessions c
  JOIN records r ON r.id = c.id
  JOIN concession_kinds k ON k.kind = c.kind
  JOIN parties g ON g.id = c.giver_id JOIN records gr ON gr.id = g.id
  JOIN parties rc ON rc.id = c.receiver_id JOIN records rr ON rr.id = rc.id
 WHERE {live.format("r")}""",
        "v_exchanges": f"""
SELECT xr.slug AS exchange, x.title, sr.slug AS side, sp.name AS side_name,
       cr.slug AS concession, c.kind, c.summary, c.quantity, c.unit, c.status,
       g.name AS giver_name, rc.name AS receiver_name, c.date_text, c.date_on, c.date_precision
  FROM exchange_members m
  JOIN exchanges x ON x.id = m.exchange_id JOIN records xr ON xr.id = x.id AND {live.format("xr")}
  JOIN exchange_sides s ON s.id = m.side_id
  JOIN parties sp ON sp.id = s.party_id JOIN records sr ON sr.id = sp.id
  JOIN concessions c ON c.id = m.concession_id JOIN records cr ON cr.id = c.id AND {live.format("cr")}
  JOIN parties g ON g.id = c.giver_id
  JOIN parties rc ON rc.id = c.receiver_id""",
        "v_links": f"""
SELECT lr.slug AS id, xr.slug AS exchange, qr.slug AS quid, q.summary AS quid_summary,
       pr.slug AS quo, p.summary AS quo_summary, l.basis, l.reason,
       (SELECT count(*) FROM citations ci JOIN records cr ON cr.id = ci.id AND {live.format("cr")}
         WHERE ci.record_id = l.id) AS citation_count
  FROM links l
  JOIN records lr ON lr.id = l.id AND {live.format("lr")}
  JOIN records xr ON xr.id = l.exchange_id
  JOIN concessions q ON q.id = l.quid_id JOIN records qr ON qr.id = q.id
  JOIN concessions p ON p.id = l.quo_id JOIN records pr ON pr.id = p.id""",
        "v_sides": f"""
SELECT xr.slug AS exchange, x.title, sr.slug AS side, sp.name AS side_name,
       count(*) AS concessions,
       sum(CASE WHEN c.status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
       sum(CASE WHEN c.status IN ('offered', 'promised', 'in_progress') THEN 1 ELSE 0 END) AS outstanding,
       {_agg("c.summary || ' (' || c.status || ')'")} AS gave
  FROM exchange_members m
  JOIN exchanges x ON x.id = m.exchange_id JOIN records xr ON xr.id = x.id AND {live.format("xr")}
  JOIN exchange_sides s ON s.id = m.side_id
  JOIN parties sp ON sp.id = s.party_id JOIN records sr ON sr.id = sp.id
  JOIN concessions c ON c.id = m.concession_id JOIN records cr ON cr.id = c.id AND {live.format("cr")}
 GROUP BY xr.slug, x.title, sr.slug, sp.name""",
        "v_citations": f"""
SELECT cr.slug AS id, rr.slug AS record, rr.type AS record_type, sr.slug AS source, s.title AS source_title,
       s.publisher, ci.quote, ci.locator
  FROM citations ci
  JOIN records cr ON cr.id = ci.id AND {live.format("cr")}
  JOIN records rr ON rr.id = ci.record_id
  JOIN sources s ON s.id = ci.source_id JOIN records sr ON sr.id = s.id""",
    }


def upgrade() -> None:
    """Create the documented views."""
    for name, body in _definitions().items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    """Drop the documented views."""
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
