"""The report in Markdown: the same sections as the HTML page, without the pictures."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

_SPECIAL = "\\`*_[]<>|#"


def md(value: Any) -> str:
    """Text that Markdown shows as typed: special characters escaped, one line."""
    text = "" if value is None else str(value)
    for char in _SPECIAL:
        text = text.replace(char, "\\" + char)
    return " ".join(text.splitlines())


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(md(v) for v in row) + " |" for row in rows]
    return out


def render_markdown(data: dict[str, Any], findings: list[dict[str, Any]], *, title: str) -> str:
    """The whole report as Markdown."""
    by_record: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        by_record[f.get("record")].append(f)
    names = {p["id"]: p["name"] for p in data["parties"]}
    out = [f"# {md(title)}", "", "## Summary", ""]
    counts = [(len(data[k]), k) for k in ("concessions", "exchanges", "parties", "sources")]
    out.append("- " + ", ".join(f"{n} {k}" for n, k in counts) + f", {len(findings)} audit findings")
    out += ["", "## Balance", ""]
    lines = data["balance"]["lines"]
    for scope in dict.fromkeys(line["exchange"] for line in lines):
        out += [f"### {md(data['balance']['titles'].get(scope, 'In total (each concession counted once)'))}", ""]
        out += _table(
            ["side", "direction", "what"],
            [[x["side_name"], x["direction"], x["text"]] for x in lines if x["exchange"] == scope],
        )
        out.append("")
    out += ["### Outstanding promises", ""]
    out += _table(
        ["side", "concession", "status", "due", "summary"],
        [[o["side_name"], o["id"], o["status"], o["due"], o["summary"]] for o in data["balance"]["outstanding"]],
    )
    out += ["", "## Concessions", ""]
    for c in data["concessions"]:
        amount = f", {c['quantity']} {c['unit']}" if c.get("quantity") is not None else ""
        out.append(
            f"- **{md(c['id'])}** ({md(c['status'])}{md(amount)}; date: {md(c['date']['shown'])}): "
            f"{md(names.get(c['giver'], c['giver']))} → {md(names.get(c['receiver'], c['receiver']))}: "
            f"{md(c['summary'])}; exchanges: {md(', '.join(c['exchanges']) or 'none')}"
        )
        out += [f"  - {md(f['severity'])} `{f['check']}`: {md(f['message'])}" for f in by_record.pop(c["id"], [])]
    if data.get("totals"):
        out += ["", "## Reported totals", ""]
        out += _table(
            ["total", "giver", "kind", "value", "period", "source"],
            [[t["id"], t["giver"], t["kind"] or "any", f"{t['value']} {t['unit']}",
              f"{t['since']['shown']} – {t['until']['shown']}", t["source"]] for t in data["totals"]],
        )  # fmt: skip
    out += ["", "## Sources and their quotes", ""]
    for s in data["sources"]:
        out.append(f"### {md(s['title'])}")
        out += ["", f"`{s['id']}` · {md(s.get('publisher') or 'publisher unknown')} · "
                f"published {md(s['published']['shown'])}", ""]  # fmt: skip
        out += [f"> {md(q.get('quote') or '(no quote)')} (backs `{q['record']}`)\n" for q in s["quotes"]]
    out += ["## Audit findings", ""]
    rest = [f for items in by_record.values() for f in items]
    out += _table(
        ["severity", "check", "record", "message"],
        [[f["severity"], f["check"], f.get("record") or "", f["message"]] for f in rest],
    )
    return "\n".join(out) + "\n"
