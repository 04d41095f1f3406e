"""The report as one self-contained HTML page: inline CSS and SVG, no script, no network, no fonts."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from ledger.io.report.svg import STATUS_COLOURS, esc, graph_svg, timeline_svg

CSS = """
:root{color-scheme:light;--ink:#1d1d1f;--muted:#5b5b60;--line:#d8d8dc;--bg:#fff;--soft:#f6f6f8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:62rem;padding:1rem;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg);overflow-wrap:break-word}
h1{font-size:1.6rem;line-height:1.2}h2{margin-top:2rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
h3{margin-bottom:.3rem}
.muted,figcaption{color:var(--muted);font-size:.9rem}
figure{margin:1rem 0}
figure svg{display:block;width:100%;height:auto;background:#fff}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
.scroll svg.graph{min-width:36rem}.scroll table{min-width:22rem}.scroll svg.timeline{min-width:34rem}
svg text{font:14px system-ui,sans-serif;fill:#222}svg .tick{font-size:13px;fill:#555}
svg .lane{font-size:15px;font-weight:600}svg .num{font-size:11px;font-weight:700}svg .name{font-size:14px}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.95rem}
th,td{border:1px solid var(--line);padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:var(--soft)}
.cards{display:grid;gap:.8rem}
.card{border:1px solid var(--line);border-radius:.5rem;padding:.6rem .8rem}
.card h4{margin:0 0 .3rem;font-size:1rem}
.status{display:inline-block;border-radius:1rem;padding:0 .5rem;font-size:.85rem;color:#fff;background:#777}
.legend{display:flex;flex-wrap:wrap;gap:.3rem .9rem;list-style:none;padding:0;font-size:.9rem}
.legend i{display:inline-block;width:.9rem;height:.9rem;border-radius:50%;vertical-align:-.1rem;margin-right:.3rem}
blockquote{margin:.3rem 0;padding:.2rem .7rem;border-left:3px solid var(--line);color:#333}
.finding{margin:.3rem 0;padding:.3rem .6rem;border-radius:.3rem;font-size:.92rem}
.finding.error{background:#fde8e8;border-left:4px solid #b2182b}
.finding.warning{background:#fff4e0;border-left:4px solid #e08214}
.finding.info{background:#e8f0fb;border-left:4px solid #4575b4}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.summary dt{font-weight:600}
dl.summary dd{margin:0}
code{overflow-wrap:anywhere;font-size:.9em;background:var(--soft);padding:0 .2rem;border-radius:.2rem}
ol.numbers{padding-left:2rem;font-size:.92rem}
@media (max-width:40rem){body{padding:.6rem}h1{font-size:1.3rem}table{font-size:.85rem}
dl.summary{grid-template-columns:1fr}dl.summary dd{margin-bottom:.4rem}}
@media print{body{max-width:none;padding:0;font-size:11pt}h2{break-after:avoid}
figure,.card,tr,.finding{break-inside:avoid}.scroll{overflow:visible}.scroll svg{min-width:0!important}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}a{color:inherit}
a[href^="http"]::after{content:" (" attr(href) ")";font-size:.8em}}
"""


def status_badge(status: str) -> str:
    """A coloured status label."""
    return f'<span class="status" style="background:{STATUS_COLOURS.get(status, "#777")}">{esc(status)}</span>'


class Findings:
    """The audit findings, handed out next to the records they concern; the rest go to the end."""

    def __init__(self, findings: list[dict[str, Any]]) -> None:
        self.by_record: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
        for f in findings:
            self.by_record[f.get("record")].append(f)
        self.shown: set[str | None] = set()

    def html(self, record: str) -> str:
        """The findings about ``record`` as coloured notes."""
        self.shown.add(record)
        return "".join(
            f'<div class="finding {esc(f["severity"])}"><strong>{esc(f["severity"])}</strong> '
            f"<code>{esc(f['check'])}</code>: {esc(f['message'])}</div>"
            for f in self.by_record.get(record, [])
        )

    def rest(self) -> list[dict[str, Any]]:
        """Findings whose record was shown nowhere else (or that concern no record)."""
        return [f for key, items in self.by_record.items() if key not in self.shown for f in items]


def render_html(data: dict[str, Any], findings: list[dict[str, Any]], *, title: str) -> str:
    """The whole report page."""
    notes = Findings(findings)
    names = {p["id"]: p["name"] for p in data["parties"]}
    body = [
        f"<h1>{esc(title)}</h1>",
        _summary(data, findings),
        _pictures(data, names),
        _balance(data),
        _exchanges(data, notes),
        _parties(data, notes),
        _totals(data, notes),
        _sources(data, notes),
    ]
    rest = notes.rest()
    if rest:
        body.append("<h2 id='other-findings'>Other findings</h2>")
        body += [
            f'<div class="finding {esc(f["severity"])}"><strong>{esc(f["severity"])}</strong> '
            f"<code>{esc(f['check'])}</code> {esc(f.get('record') or '')}: {esc(f['message'])}</div>"
            for f in rest
        ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )


def _summary(data: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    statuses = Counter(c["status"] for c in data["concessions"])
    severities = Counter(f["severity"] for f in findings)
    unpaired = sum(1 for c in data["concessions"] if not c["exchanges"])
    rows = [
        ("Concessions", f"{len(data['concessions'])} ("
         + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) + f"); {unpaired} in no exchange"),
        ("Exchanges", str(len(data["exchanges"]))),
        ("Parties", str(len(data["parties"]))),
        ("Sources", f"{len(data['sources'])}, with {sum(len(s['quotes']) for s in data['sources'])} quotes"),
        ("Audit", ", ".join(f"{severities.get(s, 0)} {s}" for s in ("error", "warning", "info"))),
        ("Outstanding promises", str(len(data["balance"]["outstanding"]))),
    ]  # fmt: skip
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<h2 id="summary">Summary</h2><dl class="summary">{items}</dl>'


def _pictures(data: dict[str, Any], names: dict[str, str]) -> str:
    concessions = data["concessions"]
    legend = "".join(
        f'<li><i style="background:{colour}"></i>{esc(status)}</li>' for status, colour in STATUS_COLOURS.items()
    )
    sides = {p["id"]: {"name": p["name"], "side": p["acts_for"] or p["id"]} for p in data["parties"]}
    links = [link for x in data["exchanges"] for link in x["links"]]
    numbers = "".join(
        f"<li><code>{esc(c['id'])}</code> {esc(names.get(c['giver'], c['giver']))} → "
        f"{esc(names.get(c['receiver'], c['receiver']))}: {esc(c['summary'])} {status_badge(c['status'])}</li>"
        for c in concessions
    )
    return (
        '<h2 id="timeline">Timeline</h2><figure><div class="scroll">'
        + timeline_svg(concessions, names)
        + "</div><figcaption>Each mark is one concession, in the lane of the side that gave it (a person or "
        "body counts for the party it acts for). Dates the sources leave vague are drawn as ranges; "
        "unknown dates sit in their own box.</figcaption></figure>"
        f'<ul class="legend">{legend}</ul>'
        '<h2 id="graph">Exchange graph</h2><figure><div class="scroll">'
        + graph_svg(concessions, links, sides)
        + "</div><figcaption>Arrows run from giver to receiver, numbered as in the list below; lines join "
        "paired concessions (solid: stated by a source, dashed: inferred, dotted red: denied).</figcaption>"
        f'</figure><ol class="numbers">{numbers}</ol>'
    )


def _balance(data: dict[str, Any]) -> str:
    lines, titles = data["balance"]["lines"], data["balance"]["titles"]
    parts = ['<h2 id="balance">Balance</h2>']
    scopes = list(dict.fromkeys(line["exchange"] for line in lines))
    for scope in scopes:
        heading = titles.get(scope, "In total (each concession counted once)")
        rows = defaultdict(lambda: {"gave": [], "received": []})  # type: ignore[var-annotated]
        for line in lines:
            if line["exchange"] == scope:
                rows[line["side_name"]][line["direction"]].append(line["text"])
        body = "".join(
            f"<tr><td>{esc(side)}</td><td>{'<br>'.join(esc(t) for t in v['gave']) or '—'}</td>"
            f"<td>{'<br>'.join(esc(t) for t in v['received']) or '—'}</td></tr>"
            for side, v in rows.items()
        )
        parts.append(
            f"<h3>{esc(heading)}</h3><p class='muted'><code>{esc(scope)}</code></p>"
            f"<div class='scroll'><table><thead><tr><th>Side</th><th>Gave</th><th>Received</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
    outstanding = data["balance"]["outstanding"]
    parts.append("<h3>Outstanding promises</h3>")
    if not outstanding:
        parts.append("<p>None.</p>")
    else:
        parts.append(
            "<div class='scroll'><table><thead><tr><th>Side</th><th>Concession</th><th>Status</th><th>Due</th></tr>"
            "</thead><tbody>"
            + "".join(
                f"<tr><td>{esc(o['side_name'])}</td><td><code>{esc(o['id'])}</code> {esc(o['summary'])}</td>"
                f"<td>{status_badge(o['status'])}</td><td>{esc(o['due'])}</td></tr>"
                for o in outstanding
            )
            + "</tbody></table></div>"
        )
    return "".join(parts)


def _concession_card(c: dict[str, Any], names: dict[str, str], notes: Findings, *, anchor: bool = True) -> str:
    """One concession with its findings and quotes; only its first card in the page carries its anchor."""
    ident = ' id="c-' + esc(c["id"]) + '"' if anchor else ""
    quantity = f" · {c['quantity']} {esc(c['unit'])}" if c.get("quantity") is not None else ""
    quotes = "".join(
        f"<blockquote>{esc(q.get('quote') or '(no quote)')}<br><span class='muted'>— {esc(q['source'])}"
        f"{', ' + esc(q['locator']) if q.get('locator') else ''}</span></blockquote>"
        for q in c["citations"]
    )
    return (
        f'<article class="card"{ident}><h4>{esc(c["summary"])}</h4>'
        f"<div>{status_badge(c['status'])} <code>{esc(c['id'])}</code> · {esc(names.get(c['giver'], c['giver']))} → "
        f"{esc(names.get(c['receiver'], c['receiver']))} · {esc(c['kind'])}{quantity} · date: {esc(c['date']['shown'])}"
        f"</div>{notes.html(c['id'])}{quotes}</article>"
    )


def _exchanges(data: dict[str, Any], notes: Findings) -> str:
    names = {p["id"]: p["name"] for p in data["parties"]}
    by_id = {c["id"]: c for c in data["concessions"]}
    parts = ['<h2 id="exchanges">Exchanges and concessions</h2>']
    shown: set[str] = set()
    for x in data["exchanges"]:
        links = "".join(
            f"<li><code>{esc(link['quid'])}</code> ↔ <code>{esc(link['quo'])}</code>: {esc(link['basis'])}"
            f"{' — ' + esc(link['reason']) if link.get('reason') else ''}{notes.html(link['id'])}</li>"
            for link in x["links"]
        )
        members = [by_id[m] for m in by_id if x["id"] in by_id[m]["exchanges"]]
        cards = [_concession_card(m, names, notes, anchor=m["id"] not in shown) for m in members]
        shown |= {m["id"] for m in members}
        parts.append(
            f'<section id="x-{esc(x["id"])}"><h3>{esc(x["title"])}</h3><p class="muted"><code>{esc(x["id"])}</code>'
            f"</p><p>{esc(x.get('summary') or '')}</p>{notes.html(x['id'])}<ul>{links}</ul><div class='cards'>"
            + "".join(cards)
            + "</div></section>"
        )
    rest = [c for c in data["concessions"] if c["id"] not in shown]
    if rest:
        parts.append("<h3>In no exchange</h3><div class='cards'>")
        parts += [_concession_card(c, names, notes) for c in rest]
        parts.append("</div>")
    return "".join(parts)


def _parties(data: dict[str, Any], notes: Findings) -> str:
    aliases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alias in data.get("aliases", []):
        aliases[alias["party"]].append(alias)
    rows = "".join(
        f"<tr><td><code>{esc(p['id'])}</code></td><td>{esc(p['name'])}{notes.html(p['id'])}</td>"
        f"<td>{esc(p['kind'])}</td><td>{esc(p['acts_for'] or '')}</td><td>"
        + "<br>".join(f"{esc(a['name'])}{notes.html(a['id'])}" for a in aliases[p["id"]])
        + "</td></tr>"
        for p in data["parties"]
    )
    return (
        '<h2 id="parties">Parties</h2><div class="scroll"><table><thead><tr><th>ID</th><th>Name</th><th>Kind</th>'
        f"<th>Acts for</th><th>Aliases</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _totals(data: dict[str, Any], notes: Findings) -> str:
    totals = data.get("totals", [])
    if not totals:
        return ""
    rows = "".join(
        f"<tr><td><code>{esc(t['id'])}</code>{notes.html(t['id'])}</td><td>{esc(t['giver'])}</td>"
        f"<td>{esc(t['kind'] or 'any')}</td><td>{esc(t['value'])} {esc(t['unit'])}</td>"
        f"<td>{esc(t['since']['shown'])} – {esc(t['until']['shown'])}</td><td><code>{esc(t['source'])}</code></td></tr>"
        for t in totals
    )
    return (
        '<h2 id="totals">Reported totals</h2><p class="muted">Aggregates the sources state, which the audit checks '
        'against the ledger\'s own records.</p><div class="scroll"><table><thead><tr><th>ID</th><th>Giver</th>'
        f"<th>Kind</th><th>Total</th><th>Period</th><th>Source</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _sources(data: dict[str, Any], notes: Findings) -> str:
    parts = ['<h2 id="sources">Sources and their quotes</h2>']
    for s in data["sources"]:
        link = f' · <a href="{esc(s["url"])}">{esc(s["url"])}</a>' if s.get("url") else ""
        relays = f" · relays <code>{esc(s['relays'])}</code>" if s.get("relays") else ""
        quotes = "".join(
            f"<blockquote>{esc(q.get('quote') or '(no quote)')}<br><span class='muted'>backs {esc(q['record_type'])} "
            f"<code>{esc(q['record'])}</code>{', ' + esc(q['locator']) if q.get('locator') else ''}</span></blockquote>"
            for q in s["quotes"]
        )
        parts.append(
            f'<section class="card" id="s-{esc(s["id"])}"><h4>{esc(s["title"])}</h4><div><code>{esc(s["id"])}</code>'
            f" · {esc(s.get('publisher') or 'publisher unknown')} · published {esc(s['published']['shown'])}"
            f"{relays}{link}</div>{notes.html(s['id'])}{quotes}</section>"
        )
    return "".join(parts)
