"""The report's two pictures as inline SVG: a timeline in party lanes and an exchange graph.

Every piece of user text goes through ``esc`` (``html.escape`` with quotes), so a party named
``<script>`` stays text. Each concession is one ``<g class="mark">`` in the timeline and one
``<g class="arrow">`` in the graph, which the browser test counts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from html import escape
from typing import Any

from ledger.domain import FuzzyDate

#: Fill colour of each status (kept readable in print and for common colour blindness: hue and lightness differ).
STATUS_COLOURS = {
    "delivered": "#1b7837", "in_progress": "#5aae61", "promised": "#e08214", "offered": "#fdb863",
    "requested": "#b2abd2", "considered": "#bababa", "declined": "#b2182b", "withdrawn": "#d6604d",
    "reneged": "#67001f",
}  # fmt: skip
BASIS_STYLES = {
    "stated": 'stroke="#222" stroke-width="2"',
    "inferred": 'stroke="#555" stroke-width="2" stroke-dasharray="6 4"',
    "denied": 'stroke="#b2182b" stroke-width="2" stroke-dasharray="2 4"',
}


def esc(value: Any) -> str:
    """Text made safe for HTML and SVG, attributes included."""
    return escape("" if value is None else str(value), quote=True)


def short(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- timeline ------------------------------------------------------------------------------------

WIDTH, LABEL_W, LANE_H, TOP = 900, 150, 34, 30
UNKNOWN_W = 230


def _range(c: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    """First and last day a concession's (possibly fuzzy) date may stand for; None when unknown."""
    date = FuzzyDate.parse(c["date"].get("value"))
    return (date.start, date.end) if date.start and date.end else None


ROW_H, PAD = 22, 6


def timeline_svg(concessions: list[dict[str, Any]], party_names: dict[str, str]) -> str:
    """One lane per giving side; a dot for a day, a bar for a month or year, unknown dates in their own zone.
    Marks that would overlap in a lane go on a new row of that lane."""
    lanes = sorted({c["giver_side"] for c in concessions}, key=lambda p: (party_names.get(p) or p).lower())
    dated = [c for c in concessions if _range(c)]
    has_unknown = len(dated) < len(concessions)
    unknown_w = (UNKNOWN_W if dated else WIDTH - LABEL_W - 30) if has_unknown else 0
    x0, x1 = LABEL_W + 10, WIDTH - 10 - unknown_w
    span = _span(dated)
    shapes: dict[str, list[tuple[int, dict[str, Any], str]]] = {}
    for lane in lanes:
        mine = [c for c in concessions if c["giver_side"] == lane]
        shapes[lane] = _lane_marks(mine, span, x0, x1, unknown_w)
    heights = {lane: ROW_H * (1 + max((row for row, _, _ in shapes[lane]), default=0)) + 2 * PAD for lane in lanes}
    height = TOP + sum(heights.values()) + 30
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="tl-title" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="tl-title">Timeline of {len(concessions)} concessions '
        "by giving side, coloured by status</title>"
    ]
    y = TOP
    marks: list[str] = []
    for i, lane in enumerate(lanes):
        fill = "#f4f4f4" if i % 2 == 0 else "#ffffff"
        parts.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{heights[lane]}" fill="{fill}"/>')
        parts.append(
            f'<text x="6" y="{y + PAD + ROW_H / 2 + 5}" class="lane">{esc(short(party_names.get(lane, lane), 20))}'
            "</text>"
        )
        # Shapes hold no user text, so placing them by replacing {Y} cannot touch a name or summary.
        marks += [_mark(c, shape.replace("{Y}", f"{y + PAD + row * ROW_H + ROW_H / 2:.1f}"))
                  for row, c, shape in shapes[lane]]  # fmt: skip
        y += heights[lane]
    parts += _axis(span, x0, x1, height, unknown_w)
    parts += marks
    parts.append("</svg>")
    return "".join(parts)


def _lane_marks(
    mine: list[dict[str, Any]], span: tuple[dt.date, dt.date] | None, x0: float, x1: float, unknown_w: float
) -> list[tuple[int, dict[str, Any], str]]:
    """(row, concession, shape) for each concession of one lane; ``{Y}`` stands for the row's middle."""
    out: list[tuple[int, dict[str, Any], str]] = []
    row_ends: list[float] = []
    dated = sorted((c for c in mine if _range(c)), key=lambda c: _range(c) or ())
    for c in dated:
        assert span is not None
        left, right, shape = _dated_shape(c, span, x0, x1)
        row = next((i for i, end in enumerate(row_ends) if end < left - 4), len(row_ends))
        if row == len(row_ends):
            row_ends.append(right)
        row_ends[row] = right
        out.append((row, c, shape))
    unknown = [c for c in mine if not _range(c)]
    per_row = max(int((unknown_w - 20) // 20), 1)
    for i, c in enumerate(unknown):
        cx = x1 + 20 + 20 * (i % per_row) + 10
        colour = STATUS_COLOURS.get(c["status"], "#777")
        out.append((i // per_row, c, f'<circle cx="{cx:.1f}" cy="{{Y}}" r="7" fill="{colour}"/>'))
    return out


def _mark(c: dict[str, Any], shape: str) -> str:
    tip = f"{c['id']}: {c['summary']} ({c['status']}; {c['date']['shown']})"
    return (
        f'<g class="mark" data-id="{esc(c["id"])}" data-status="{esc(c["status"])}"><title>{esc(tip)}</title>'
        f"{shape}</g>"
    )


def _span(dated: list[dict[str, Any]]) -> tuple[dt.date, dt.date] | None:
    """The drawn period: from the first day any date may stand for to the day after the last (exclusive),
    widened by a day each side when only one day is drawn."""
    if not dated:
        return None
    ranges = [r for c in dated if (r := _range(c))]
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges) + dt.timedelta(days=1)
    if (high - low).days <= 1:
        low, high = low - dt.timedelta(days=1), high + dt.timedelta(days=1)
    return low, high


def _x(day: dt.date, span: tuple[dt.date, dt.date], x0: float, x1: float) -> float:
    total = (span[1] - span[0]).days or 1
    return x0 + (x1 - x0) * (day - span[0]).days / total


def _dated_shape(c: dict[str, Any], span: tuple[dt.date, dt.date], x0: float, x1: float) -> tuple[float, float, str]:
    """Left and right edge in pixels and the shape: a dot for a day, a bar over a month's or year's range."""
    known = _range(c)
    assert known is not None
    start, end = known
    colour = STATUS_COLOURS.get(c["status"], "#777")
    if start == end:
        x = _x(start, span, x0, x1)
        return x - 7, x + 7, f'<circle cx="{x:.1f}" cy="{{Y}}" r="7" fill="{colour}"/>'
    left, right = _x(start, span, x0, x1), _x(end + dt.timedelta(days=1), span, x0, x1)
    width = max(right - left, 8)
    left = min(left, x1 - width)  # a short range at the very end stays inside the axis
    shape = (
        f'<rect x="{left:.1f}" y="{{Y}}" transform="translate(0 -6)" width="{width:.1f}" height="12" rx="6" '
        f'fill="{colour}" fill-opacity="0.75" stroke="{colour}"/>'
    )
    return left, left + width, shape


def _axis(span: tuple[dt.date, dt.date] | None, x0: float, x1: float, height: float, unknown_w: float) -> list[str]:
    parts = []
    base = height - 22
    if span is not None:
        parts.append(f'<line x1="{x0}" y1="{base}" x2="{x1}" y2="{base}" stroke="#888"/>')
        ticks = 4 if (span[1] - span[0]).days > 3 else 1
        for i in range(ticks + 1):
            day = span[0] + (span[1] - span[0]) * i / ticks
            x = _x(day, span, x0, x1)
            anchor = "start" if i == 0 else "end" if i == ticks else "middle"
            parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{base + 4}" stroke="#ddd"/>')
            parts.append(f'<text x="{x:.1f}" y="{base + 18}" class="tick" text-anchor="{anchor}">{day}</text>')
        parts.append(f'<text x="{x0}" y="18" class="tick">dot: a day · bar: a month or year</text>')
    if unknown_w:
        zone = x1 + 10
        parts.append(
            f'<rect x="{zone}" y="{TOP}" width="{unknown_w}" height="{base - TOP}" fill="none" stroke="#999" '
            'stroke-dasharray="4 3"/>'
        )
        parts.append(f'<text x="{zone + unknown_w / 2}" y="18" class="tick" text-anchor="middle">date unknown</text>')
    return parts


# --- exchange graph ------------------------------------------------------------------------------

G_W, G_H, NODE_R = 900, 640, 24


def graph_svg(
    concessions: list[dict[str, Any]], links: list[dict[str, Any]], parties: dict[str, dict[str, Any]]
) -> str:
    """Parties as nodes on a circle (grouped by side), concessions as numbered arrows, pairs joined by lines."""
    involved = {c["giver"] for c in concessions} | {c["receiver"] for c in concessions}
    at = _layout(concessions, involved, parties)
    order = sorted(at)
    parts = [
        f'<svg class="graph" viewBox="0 0 {G_W} {G_H}" role="img" aria-labelledby="gr-title" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="gr-title">Exchange graph: {len(involved)} parties, '
        f"{len(concessions)} concessions</title><defs>"
        + "".join(
            f'<marker id="ah-{s}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>'
            for s, colour in STATUS_COLOURS.items()
        )
        + "</defs>"
    ]
    middles, arrows = _arrows(concessions, at)
    parts += arrows
    for link in links:
        a, b = middles.get(link["quid"]), middles.get(link["quo"])
        if a and b:
            parts.append(
                f'<line class="pair" data-basis="{esc(link["basis"])}" x1="{a[0]:.1f}" y1="{a[1]:.1f}" '
                f'x2="{b[0]:.1f}" y2="{b[1]:.1f}" {BASIS_STYLES.get(link["basis"], "")} opacity="0.55">'
                f"<title>{esc(link['id'])}: {esc(link['quid'])} ↔ {esc(link['quo'])} ({esc(link['basis'])})</title>"
                "</line>"
            )
    for number, c in enumerate(concessions, start=1):
        x, y = middles[c["id"]]
        parts.append(
            f'<g class="label"><circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="#fff" '
            f'stroke="{STATUS_COLOURS.get(c["status"], "#777")}" stroke-width="2"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" class="num">{number}</text></g>'
        )
    for p in order:
        x, y = at[p]
        name = parties.get(p, {}).get("name", p)
        is_side = parties.get(p, {}).get("side") == p
        parts.append(
            f'<g class="node" data-id="{esc(p)}"><title>{esc(name)} ({esc(p)})</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" fill="{"#dbe9f6" if is_side else "#f2f2f2"}" '
            f'stroke="#345"/><text x="{x:.1f}" y="{y + NODE_R + 16:.1f}" text-anchor="middle" class="name">'
            f"{esc(short(name, 22))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _layout(
    concessions: list[dict[str, Any]], involved: set[str], parties: dict[str, dict[str, Any]]
) -> dict[str, tuple[float, float]]:
    """Node positions on an ellipse: the two sides that gave most face each other (left, right), each with
    the people and bodies acting for it around it; every other party on the top and bottom arcs."""
    side = {p: parties.get(p, {}).get("side") or p for p in involved}
    weight: dict[str, int] = defaultdict(int)
    for c in concessions:
        weight[side[c["giver"]]] += 1
    main = sorted(weight, key=lambda p: (-weight[p], p))[:2]
    groups = [sorted((p for p in involved if side[p] == m), key=lambda p: (p != m, p)) for m in main]
    others = sorted(p for p in involved if side[p] not in main)
    spread = 50 if others else 80
    arcs = [(180 - spread, 180 + spread), (-spread, spread)]
    placed: dict[str, float] = {}
    for group, (low, high) in zip(groups, arcs, strict=False):
        middle = [*group[1:][: len(group[1:]) // 2], group[0], *group[1:][len(group[1:]) // 2 :]]
        placed |= {p: low + (high - low) * (i + 0.5) / len(middle) for i, p in enumerate(middle)}
    top, bottom = others[::2], others[1::2]
    for group, (low, high) in ((top, (180 + spread + 10, 360 - spread - 10)), (bottom, (spread + 10, 170 - spread))):
        placed |= {p: low + (high - low) * (i + 0.5) / len(group) for i, p in enumerate(group)}
    rx, ry = G_W / 2 - 120, G_H / 2 - 70
    return {
        p: (G_W / 2 + rx * math.cos(math.radians(a)), G_H / 2 + ry * math.sin(math.radians(a)))
        for p, a in placed.items()
    }


def _arrows(
    concessions: list[dict[str, Any]], at: dict[str, tuple[float, float]]
) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """A curved arrow per concession; several between the same two parties fan out."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    middles, parts = {}, []
    for c in concessions:
        (x0, y0), (x2, y2) = at[c["giver"]], at[c["receiver"]]
        pair = (min(c["giver"], c["receiver"]), max(c["giver"], c["receiver"]))
        k = seen[pair]
        seen[pair] += 1
        colour = STATUS_COLOURS.get(c["status"], "#777")
        tip = esc(f"{c['id']}: {c['giver']} → {c['receiver']}: {c['summary']} ({c['status']})")
        if (x0, y0) == (x2, y2):
            middles[c["id"]] = (x0 + 40, y0 - 40 - 14 * k)
            path = f"M{x0:.1f} {y0 - NODE_R:.1f}C{x0 + 60:.1f} {y0 - 90 - 28 * k:.1f} {x0 + 90:.1f} {y0:.1f} "
            path += f"{x0 + NODE_R:.1f} {y0:.1f}"
        else:
            dx, dy = x2 - x0, y2 - y0
            length = math.hypot(dx, dy)
            nx, ny = -dy / length, dx / length
            sign = 1 if c["giver"] < c["receiver"] else -1
            bend = sign * (30 + 44 * k)
            qx, qy = (x0 + x2) / 2 + nx * bend, (y0 + y2) / 2 + ny * bend
            sx, sy = _towards(x0, y0, qx, qy, NODE_R)
            ex, ey = _towards(x2, y2, qx, qy, NODE_R + 2)
            middles[c["id"]] = (0.25 * x0 + 0.5 * qx + 0.25 * x2, 0.25 * y0 + 0.5 * qy + 0.25 * y2)
            path = f"M{sx:.1f} {sy:.1f}Q{qx:.1f} {qy:.1f} {ex:.1f} {ey:.1f}"
        parts.append(
            f'<g class="arrow" data-id="{esc(c["id"])}"><title>{tip}</title><path d="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="2.5" marker-end="url(#ah-{esc(c["status"])})"/></g>'
        )
    return middles, parts


def _towards(x: float, y: float, tx: float, ty: float, distance: float) -> tuple[float, float]:
    length = math.hypot(tx - x, ty - y) or 1
    return x + (tx - x) / length * distance, y + (ty - y) / length * distance
