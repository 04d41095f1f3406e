"""The audit as a report: rows for tooling (JSON, JSONL, CSV) and a Markdown or HTML document a
journalist can attach to a story.

The document goes exchange by exchange: what each side gave (with quantity, status and date), the
sources behind it, then the findings about the exchange, its concessions and its links. Findings
about records in no exchange follow. Every piece of user text is escaped for the format.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session, aliased

from ledger.audit.registry import AuditOptions, CheckInfo, Finding, Severity
from ledger.models import Citation, Concession, Exchange, ExchangeMember, ExchangeSide, Link, Party, Record, Source
from ledger.schemas import fuzzy_from

COLUMNS = ["severity", "check", "record_type", "record", "message", "details"]


@dataclass
class Given:
    """One concession as the report shows it."""

    slug: str
    summary: str
    quantity: str
    status: str
    date: str


@dataclass
class ExchangeView:
    """One exchange: each side's concessions, the sources behind them, and the findings about it."""

    slug: str
    title: str
    summary: str | None
    sides: dict[str, list[Given]] = field(default_factory=lambda: defaultdict(list))
    sources: list[str] = field(default_factory=list)
    records: set[tuple[str, str]] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Report:
    """Everything a rendered audit shows."""

    as_of: str
    checks: list[str]
    findings: list[Finding]
    exchanges: list[ExchangeView]
    elsewhere: list[Finding]


def finding_row(finding: Finding) -> dict[str, Any]:
    """A finding as a flat row (JSON, JSONL, CSV)."""
    return {"severity": finding.severity.value, "check": finding.check, "record_type": finding.record_type,
            "record": finding.record_id, "message": finding.message, "details": finding.details}  # fmt: skip


def summary_line(findings: list[Finding], checks: list[CheckInfo] | list[str]) -> str:
    """``25 findings from 9 checks: 1 error, 13 warning, 11 info; aliases 2, conflict 1, ...``"""
    return summary_of(Counter(f.severity for f in findings), Counter(f.check for f in findings), len(checks))


def summary_of(by_severity: Counter[Severity], by_check: Counter[str], checks: int) -> str:
    """The summary line from the counts of findings by severity and by check."""
    total = sum(by_check.values())
    severities = ", ".join(f"{by_severity[s]} {s.value}" for s in Severity)
    per_check = ", ".join(f"{name} {n}" for name, n in sorted(by_check.items()) if n)
    plural = ("s" if total != 1 else "", "s" if checks != 1 else "")
    head = f"{total} finding{plural[0]} from {checks} check{plural[1]}: {severities}"
    return head + (f"; {per_check}" if per_check else "")


def _exchanges(session: Session) -> dict[int, ExchangeView]:
    views = {
        key: ExchangeView(slug, title, summary)
        for key, slug, title, summary in session.execute(
            select(Exchange.id, Exchange.slug, Exchange.title, Exchange.summary)
            .where(Exchange.retracted.is_(False))
            .order_by(Exchange.slug)
        )
    }
    side, given = aliased(Party, flat=True), aliased(Concession, flat=True)
    rows = session.execute(
        select(
            ExchangeMember.exchange_id,
            side.name,
            given.slug,
            given.summary,
            given.quantity,
            given.unit,
            given.status,
            given.date_text,
            given.date_on,
            given.date_precision,
        )  # fmt: skip
        .join(ExchangeSide, ExchangeSide.id == ExchangeMember.side_id)
        .join(side, side.id == ExchangeSide.party_id)
        .join(given, given.id == ExchangeMember.concession_id)
        .where(given.retracted.is_(False))
        .order_by(side.name, given.slug)
    )
    for key, side_name, slug, summary, quantity, unit, status, *date in rows:
        if key in views:
            amount = f"{quantity} {unit}" if quantity is not None else "quantity unknown"
            when = fuzzy_from(*date).describe()
            views[key].sides[side_name].append(Given(slug, summary, amount, status.value, when))
            views[key].records.add(("concession", slug))
    for key, slug in session.execute(select(Link.exchange_id, Link.slug).where(Link.retracted.is_(False))):
        if key in views:
            views[key].records.add(("link", slug))
    return views


def _sources(session: Session, views: dict[int, ExchangeView]) -> None:
    """The sources cited by each exchange's concessions and links, with what each relays."""
    cites, cited = Citation.__table__, aliased(Record)
    live = (
        select(cites.c.record_id, cites.c.source_id)
        .join(cited, cited.id == cites.c.id)
        .where(cited.retracted.is_(False))
        .subquery()
    )
    by_member = select(ExchangeMember.exchange_id, live.c.source_id).join(
        live, live.c.record_id == ExchangeMember.concession_id
    )
    by_link = select(Link.exchange_id, live.c.source_id).join(live, live.c.record_id == Link.id)
    pairs = union(by_member, by_link).subquery()
    source, relayed = aliased(Source, flat=True), aliased(Source, flat=True)
    rows = session.execute(
        select(pairs.c.exchange_id, source.slug, source.publisher, source.title, relayed.publisher, relayed.title)
        .join(source, source.id == pairs.c.source_id)
        .outerjoin(relayed, relayed.id == source.relays_id)
        .order_by(pairs.c.exchange_id, source.slug)
    )
    for key, slug, publisher, title, relay_publisher, relay_title in rows:
        if key in views:
            shown = f"{publisher}: {title} ({slug})" if publisher else f"{title} ({slug})"
            if relay_title is not None:
                shown += f", relaying {relay_publisher or relay_title}"
            views[key].sources.append(shown)


def build_report(session: Session, findings: list[Finding], options: AuditOptions, checks: list[CheckInfo]) -> Report:
    """Group the findings under the exchanges they concern; the rest go to "records in no exchange"."""
    views = _exchanges(session)
    _sources(session, views)
    owners: dict[tuple[str, str], list[ExchangeView]] = defaultdict(list)
    for view in views.values():
        owners[("exchange", view.slug)].append(view)
        for record in view.records:
            owners[record].append(view)
    elsewhere = []
    for finding in findings:
        placed = owners.get((finding.record_type or "", finding.record_id or ""), [])
        for view in placed:
            view.findings.append(finding)
        if not placed:
            elsewhere.append(finding)
    ordered = sorted(views.values(), key=lambda v: v.slug)
    return Report(options.as_of.isoformat(), [c.name for c in checks], findings, ordered, elsewhere)


# --- Markdown --------------------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_MD_BLOCK_START = re.compile(r"^([#>+=-])")
_MD_LIST_NUMBER = re.compile(r"^(\d+)([.)])")


def md(text: Any) -> str:
    """User text made inert in Markdown: inline markup and HTML escaped, a block marker at the start
    escaped, all on one line."""
    escaped = _MD_INLINE.sub(r"\\\1", " ".join(str(text).split()))
    return _MD_LIST_NUMBER.sub(r"\1\\\2", _MD_BLOCK_START.sub(r"\\\1", escaped))


def _md_findings(findings: list[Finding]) -> list[str]:
    if not findings:
        return ["No findings."]
    return [f"- **{f.severity.value}** {md(f.check)} ({md(f.record_type or '')} {md(f.record_id or '')}): "
            f"{md(f.message)}" for f in findings]  # fmt: skip


def to_markdown(report: Report) -> str:
    """The audit as a Markdown document."""
    lines = [
        "# Audit of the ledger",
        "",
        f"As of {md(report.as_of)}. {md(summary_line(report.findings, report.checks))}",
    ]
    for view in report.exchanges:
        lines += ["", f"## {md(view.title)}", "", f"Exchange `{view.slug}`."]
        if view.summary:
            lines += ["", md(view.summary)]
        lines += ["", "### What each side gave"] + ([] if view.sides else ["", "Nothing recorded."])
        for side, gifts in sorted(view.sides.items()):
            lines += ["", f"**{md(side)}**", ""]
            lines += [f"- {md(g.summary)}: {md(g.quantity)}; {md(g.status)}; {md(g.date)} (`{g.slug}`)" for g in gifts]
        lines += ["", "### Sources", ""]
        lines += [f"- {md(s)}" for s in view.sources] or ["None cited."]
        lines += ["", "### Findings", "", *_md_findings(view.findings)]
    lines += ["", "## Findings about records in no exchange", "", *_md_findings(report.elsewhere)]
    return "\n".join(lines)


# --- HTML ------------------------------------------------------------------------------------------


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _html_findings(findings: list[Finding]) -> list[str]:
    if not findings:
        return ["<p>No findings.</p>"]
    items = [f'<li class="{_h(f.severity.value)}"><strong>{_h(f.severity.value)}</strong> {_h(f.check)} '
             f"({_h(f.record_type or '')} <code>{_h(f.record_id or '')}</code>): {_h(f.message)}</li>"
             for f in findings]  # fmt: skip
    return ["<ul>", *items, "</ul>"]


def to_html(report: Report) -> str:
    """The audit as a standalone HTML document."""
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head><meta charset="utf-8"><title>Audit of the ledger</title>',
           "<style>body{font-family:sans-serif;max-width:60em;margin:auto}.error{color:#a00}"
           ".warning{color:#850}</style></head>", "<body>", "<h1>Audit of the ledger</h1>",
           f"<p>As of {_h(report.as_of)}. {_h(summary_line(report.findings, report.checks))}</p>"]  # fmt: skip
    for view in report.exchanges:
        out += [f"<section><h2>{_h(view.title)}</h2>", f"<p>Exchange <code>{_h(view.slug)}</code>.</p>"]
        if view.summary:
            out.append(f"<p>{_h(view.summary)}</p>")
        out.append("<h3>What each side gave</h3>" + ("" if view.sides else "<p>Nothing recorded.</p>"))
        for side, gifts in sorted(view.sides.items()):
            out += [f"<h4>{_h(side)}</h4>", "<ul>"]
            out += [f"<li>{_h(g.summary)}: {_h(g.quantity)}; {_h(g.status)}; {_h(g.date)} "
                    f"<code>{_h(g.slug)}</code></li>" for g in gifts]  # fmt: skip
            out.append("</ul>")
        out += ["<h3>Sources</h3>", "<ul>", *(f"<li>{_h(s)}</li>" for s in view.sources), "</ul>"]
        out += ["<h3>Findings</h3>", *_html_findings(view.findings), "</section>"]
    out += ["<h2>Findings about records in no exchange</h2>", *_html_findings(report.elsewhere), "</body>", "</html>"]
    return "\n".join(out)
