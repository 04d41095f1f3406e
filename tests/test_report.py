"""`ledger report`: a self-contained HTML page (and Markdown) whose user text is always escaped."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.io.report import write_atomic
from tests.conftest import Run, checksum

EVIL = "<script>alert(1)</script>"
PIPES = "| x |"


def _report(run: Run, path: Path) -> str:
    result = run("report", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {path}" in result.stderr
    return path.read_text(encoding="utf-8")


@pytest.mark.sqlite_only
def test_seeds_report_is_self_contained_and_complete(run: Run, seeded: Path, tmp_path: Path) -> None:
    before = checksum(seeded)
    page = _report(run, tmp_path / "report.html")
    assert checksum(seeded) == before  # a report only reads
    concessions = run("list", "-f", "json").json()
    # Nothing to fetch: no script, no stylesheet link, no external image, font or import.
    for banned in ("<script", "<link", " src=", "@import", "@font-face", "url(http"):
        assert banned not in page
    assert re.findall(r"https?://", page.replace('xmlns="http://www.w3.org/2000/svg"', "")) == []  # seeds: no URL
    # One timeline mark and one graph arrow per concession; pairs joined.
    assert page.count('<g class="mark"') == len(concessions) == page.count('<g class="arrow"')
    assert page.count('class="pair"') == 7
    for heading in ("Summary", "Timeline", "Exchange graph", "Balance", "Outstanding promises", "Sources"):
        assert f">{heading}<" in page
    # Every quote of every source is in the page (escaped).
    for source in run("list", "sources", "-f", "json").json():
        shown = run("show", source["id"], "-f", "json").json()
        assert html.escape(shown["title"]) in page
    for c in concessions:
        for citation in c["citations"]:
            assert html.escape(citation["quote"]) in page
    # A finding stands in the card of the record it concerns.
    card = page.split('id="c-trump-calls-lukashenko"', 1)[1].split("</article>", 1)[0]
    assert "unpaired" in card and "is in no exchange" in card


@pytest.fixture
def hostile(run: Run, ledger_db: Path) -> Path:
    """A ledger whose user text tries to break out of HTML and Markdown."""
    for args in (
        ("party", "add", "evil", "--name", EVIL, "--kind", "state"),
        ("party", "add", "pipes", "--name", PIPES, "--kind", "state"),
        ("source", "add", "src", "--title", f"{EVIL} & co", "--url", 'https://example.org/?q="><script>alert(1)</script>'),
        ("add", "--id", "gift", "--giver", "evil", "--receiver", "pipes", "--kind", "aid",
         "--summary", f"{PIPES} {EVIL}", "--status", "delivered", "--source", "src", "--quote", f'"{EVIL}" {PIPES}'),
    ):  # fmt: skip
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return ledger_db


def test_html_report_escapes_user_text(run: Run, hostile: Path, tmp_path: Path) -> None:
    page = _report(run, tmp_path / "r.html")
    assert EVIL not in page and "<script" not in page
    assert html.escape(EVIL) in page
    assert 'href="https://example.org/?q=&quot;&gt;&lt;script&gt;' in page
    assert "default-src 'none'" in page


def test_markdown_report_escapes_user_text_and_has_no_pictures(run: Run, hostile: Path, tmp_path: Path) -> None:
    text = _report(run, tmp_path / "r.md")
    assert "<svg" not in text and EVIL not in text
    assert r"\<script\>alert(1)\</script\>" in text
    assert r"\| x \|" in text
    separators = None
    rows = 0
    for line in text.splitlines():
        bars = len(re.findall(r"(?<!\\)\|", line))
        if not line.startswith("|"):
            separators = None
        elif separators is None:
            separators = bars  # a table's header sets how many column separators each row has
        else:
            assert bars == separators, line
            rows += 1
    assert rows > 4


def test_report_format_comes_from_the_extension_or_format(run: Run, seeded: Path, tmp_path: Path) -> None:
    result = run("report", "-o", str(tmp_path / "r.txt"))
    assert result.exit_code == 3 and ".html or .md" in result.stderr
    assert not (tmp_path / "r.txt").exists()
    assert run("report", "-o", str(tmp_path / "r.txt"), "--format", "markdown").exit_code == 0
    assert (tmp_path / "r.txt").read_text(encoding="utf-8").startswith("# Ledger report")
    result = run("report", "-o", str(tmp_path / "missing" / "r.html"))
    assert result.exit_code == 3 and "does not exist" in result.stderr


def test_quiet_silences_the_status_line(run: Run, seeded: Path, tmp_path: Path) -> None:
    result = run("--quiet", "report", "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0 and result.stderr == ""
    assert (tmp_path / "r.html").exists()


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    monkeypatch.undo()
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"


def _concession(slug: str, value: str | None, side: str = "a", status: str = "delivered") -> dict[str, object]:
    return {"id": slug, "summary": slug, "status": status, "giver": side, "receiver": "b", "giver_side": side,
            "date": {"value": value, "shown": value or "unknown"}}  # fmt: skip


def test_timeline_draws_days_as_dots_ranges_as_bars_and_unknown_apart() -> None:
    from ledger.io.report.svg import timeline_svg

    svg = timeline_svg(
        [_concession("day", "2025-03-13"), _concession("month", "2025-06"), _concession("year", "2025"),
         _concession("vague", None), _concession("other", "2025-06-02", side="b")],
        {"a": "Alphaland", "b": "Betaland"},
    )  # fmt: skip
    marks = dict(re.findall(r'<g class="mark" data-id="(\w+)"[^>]*>(?:<title>[^<]*</title>)(<\w+ [^>]*>)', svg))
    assert set(marks) == {"day", "month", "year", "vague", "other"}
    assert marks["day"].startswith("<circle") and marks["vague"].startswith("<circle")
    assert marks["month"].startswith("<rect") and marks["year"].startswith("<rect")
    month, year = (float(re.search(r'width="([\d.]+)"', marks[k]).group(1)) for k in ("month", "year"))  # type: ignore[union-attr]
    assert year > 10 * month  # a year's bar spans the year, a month's its month
    # The year overlaps the day and the month, so they sit on different rows of the lane.
    ys = {k: re.search(r'(?:cy|y)="([\d.]+)"', v).group(1) for k, v in marks.items()}  # type: ignore[union-attr]
    assert ys["year"] != ys["day"] and ys["day"] == ys["month"]
    assert "date unknown" in svg and "Betaland" in svg


@pytest.mark.sqlite_only
def test_html_ids_are_unique(run: Run, seeded: Path, tmp_path: Path) -> None:
    page = _report(run, tmp_path / "report.html")
    ids = re.findall(r'(?<![\w-])id="([^"]+)"', page)
    assert len(ids) == len(set(ids)) and "c-lukashenko-plane-repairs" in ids  # it is in two exchanges


_DATES = st.one_of(
    st.none(),
    st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)).map(lambda d: d.isoformat()),
    st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)).map(lambda d: d.isoformat()[:7]),
    st.integers(1990, 2040).map(str),
)


@given(st.lists(st.tuples(_DATES, st.sampled_from(["a", "b", "c"])), min_size=1, max_size=25))
@settings(max_examples=60, deadline=None)
def test_timeline_marks_stay_inside_the_picture(dates: list[tuple[str | None, str]]) -> None:
    """Whatever the dates and their precision: one mark per concession, every shape inside the drawing."""
    from ledger.io.report.svg import WIDTH, timeline_svg

    svg = timeline_svg([_concession(f"c{i}", d, side) for i, (d, side) in enumerate(dates)], {})
    assert svg.count('<g class="mark"') == len(dates)
    height = float(re.search(r'viewBox="0 0 \d+ ([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    for x in re.findall(r'<(?:circle|rect) (?:cx|x)="([\d.-]+)"', svg):
        assert 0 <= float(x) <= WIDTH
    for x, width in re.findall(r'<rect x="([\d.-]+)" y="[\d.]+" transform="[^"]*" width="([\d.]+)"', svg):
        assert float(x) + float(width) <= WIDTH
    for y in re.findall(r' (?:cy|y)="([\d.-]+)"', svg):
        assert 0 <= float(y) <= height


def test_report_audits_with_the_chosen_checks(run: Run, seeded: Path, tmp_path: Path) -> None:
    page = _report(run, tmp_path / "all.html")
    assert "<code>unpaired</code>" in page
    result = run("report", "-o", str(tmp_path / "some.html"), "--skip", "unpaired")
    assert result.exit_code == 0
    assert "<code>unpaired</code>" not in (tmp_path / "some.html").read_text(encoding="utf-8")
    assert run("report", "-o", str(tmp_path / "x.html"), "--check", "nope").exit_code == 3
