"""The streamed CSV/JSON Lines audit (cli.audit_lines) writes what rendering all the findings, sorted, writes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.registry import Finding, Severity
from ledger.cli import audit_lines

#: Text that exercises the CSV escaping: formula starts, apostrophes, quotes, commas, line breaks.
_TEXT = st.text(alphabet=st.sampled_from(["a", "b", "'", "=", "+", "-", "@", '"', ",", "\n", "\r", " ", "é", "\u2028"]),
                max_size=6)  # fmt: skip
_FINDING = st.builds(
    Finding,
    st.sampled_from(["unpaired", "chronology", "=odd"]),
    st.sampled_from(list(Severity)),
    st.one_of(st.none(), st.sampled_from(["concession", "link"]), _TEXT),
    st.one_of(st.none(), _TEXT),
    _TEXT,
    st.dictionaries(st.sampled_from(["b", "a", "z"]), st.one_of(st.none(), st.integers(), _TEXT), max_size=3),
)


def _streamed(batches: list[list[Finding]], form: audit_lines.LineFormat, batch: int) -> str:
    done = audit_lines.render_checks([list(b) for b in batches], form, batch=batch)
    try:
        text = "".join(done.chunks())
        assert b"".join(done.byte_chunks()) == text.encode("utf-8")  # what `-o FILE` writes
        return text
    finally:
        done.close()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_FINDING, max_size=12), max_size=4), st.integers(1, 5))
def test_streamed_lines_equal_the_sorted_rendering(batches: list[list[Finding]], batch: int) -> None:
    """Batches stand for checks; a check may report under another check's name, so groups get merged."""
    everything = sorted((f for b in batches for f in b), key=Finding.sort_key)
    for form in (audit_lines.csv_renderer(), audit_lines.jsonl_renderer()):
        assert _streamed(batches, form, batch) == "".join(form.render(everything))


def test_counts_and_threshold() -> None:
    found = [Finding("unpaired", Severity.WARNING, "concession", "b", "m"),
             Finding("unpaired", Severity.INFO, "concession", "a", "m")]  # fmt: skip
    done = audit_lines.render_checks([found], audit_lines.csv_renderer())
    try:
        assert done.by_check == {"unpaired": 2} and not done.fails_at(0) and done.fails_at(1)
        assert "".join(done.chunks()).splitlines()[0].startswith("warning,unpaired,concession,b,")
    finally:
        done.close()


def test_a_group_filled_by_two_checks_is_merged_in_order() -> None:
    """The second batch reports under the first one's name: its lines are merged by the sort key."""
    first = [Finding("unpaired", Severity.WARNING, "concession", r, m) for r, m in [("a", "x\r,y"), ("c", "=z")]]
    second = [Finding("unpaired", Severity.WARNING, "concession", r, m) for r, m in [("b", '"q"'), ("c", "'a\n")]]
    for form in (audit_lines.csv_renderer(), audit_lines.jsonl_renderer()):
        expected = "".join(form.render(sorted(first + second, key=Finding.sort_key)))
        assert _streamed([first, second], form, 1) == expected
        assert [form.key_of(line) for line in form.render(second)] == [("concession", "b", '"q"'),
                                                                      ("concession", "c", "'a\n")]  # fmt: skip


#: Findings with any text at all (surrogates excepted: they cannot be written), beside the escaping-heavy ones.
_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
_ANY_FINDING = st.builds(
    Finding,
    st.one_of(st.sampled_from(["single-origin", "x,y", "\t"]), _ANY_TEXT),
    st.sampled_from(list(Severity)),
    st.one_of(st.none(), _ANY_TEXT),
    st.one_of(st.none(), _ANY_TEXT),
    _ANY_TEXT,
    st.one_of(
        st.dictionaries(
            _ANY_TEXT, st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _ANY_TEXT), max_size=3
        ),
        st.lists(st.integers(), max_size=3),  # a plug-in's details need not be a dictionary
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_FINDING, _ANY_FINDING), max_size=20))
def test_fast_lines_equal_the_general_writers(findings: list[Finding]) -> None:
    """The hand-built CSV and JSON Lines equal what csv.writer and a dictionary per finding write."""
    for fast, general in ((audit_lines.csv_renderer(), audit_lines.csv_renderer(general=True)),
                          (audit_lines.jsonl_renderer(), audit_lines.jsonl_renderer(general=True))):  # fmt: skip
        assert fast.render(findings) == general.render(findings)
