"""FollowTheMoney and PLOVER exports of the seeds, checked against the FtM schema and the CAMEO table."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run


def _lines(run: Run, fmt: str) -> list[dict[str, Any]]:
    result = run("export", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_ftm_entities_validate_against_the_real_schema(run: Run, seeded_copy: Path) -> None:
    ftm = pytest.importorskip("followthemoney", reason="install the ftm extra: pip install -e '.[ftm]'")
    model = ftm.model
    entities = _lines(run, "ftm")
    merged: dict[str, Any] = {}
    for data in entities:
        proxy = model.get_proxy(data, cleaned=False)  # raises on unknown schemata or properties
        for prop, values in data["properties"].items():
            prop_type = proxy.schema.properties[prop].type
            for value in values:
                assert prop_type.clean(value) is not None, (data["id"], prop, value)
        merged[data["id"]] = merged[data["id"]].merge(proxy) if data["id"] in merged else proxy
    for proxy in merged.values():
        for prop, value in proxy.itervalues():
            if prop.type.name == "entity":
                assert value in merged, f"{proxy.id}.{prop.name} -> {value} is not in the export"
                assert merged[value].schema.is_a(prop.range), (proxy.id, prop.name, merged[value].schema)
    schemata = {p.schema.name for p in merged.values()}
    assert {"PublicBody", "Person", "Article", "Event", "Documentation", "Sanction", "UnknownLink", "Note"} <= schemata


def test_ftm_carries_relays_totals_and_claims(run: Run, seeded_copy: Path) -> None:
    entities = {e["id"]: e for e in _lines(run, "ftm")}
    records = _lines(run, "jsonl")
    relays = [r for r in records if r["type"] == "source" and r.get("relays")]
    assert relays
    for row in relays:
        link = entities[f"{row['id']}--relays--{row['relays']}"]
        assert link["schema"] == "UnknownLink" and link["properties"]["role"] == ["relays"]
        assert (link["properties"]["subject"], link["properties"]["object"]) == ([row["id"]], [row["relays"]])
    totals = [r for r in records if r["type"] == "total"]
    assert totals
    for row in totals:
        event = entities[row["id"]]
        assert event["schema"] == "Event" and "reported total" in event["properties"]["keywords"]
        assert event["properties"]["proof"] == [row["source"]] and event["properties"]["organizer"] == [row["giver"]]
        assert str(row["value"]) in event["properties"]["name"][0]
    claims = [r for r in records if r["type"] == "claim"]
    assert claims
    for row in claims:
        note = entities[row["id"]]
        assert note["schema"] == "Note" and note["properties"]["proof"] == [row["source"]]
        assert note["properties"]["description"] == [f"{row['attribute']}: {row['value']}"]
        assert note["properties"]["entity"][0] in entities


@pytest.mark.parametrize("fmt", ["ftm", "plover"])
def test_interchange_exports_of_the_seeds_match_their_golden_files(run: Run, seeded_copy: Path, fmt: str) -> None:
    result = run("export", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    golden = Path(__file__).parent / "golden" / f"seeds-export.{fmt}.jsonl"
    if os.environ.get("LEDGER_UPDATE_GOLDEN") == "1":
        golden.write_text(result.stdout, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run the tests once with LEDGER_UPDATE_GOLDEN=1 and review it"
    assert result.stdout == golden.read_text(encoding="utf-8"), f"regenerate with LEDGER_UPDATE_GOLDEN=1: {golden}"


def test_ftm_keeps_source_references(run: Run, seeded_copy: Path) -> None:
    entities = _lines(run, "ftm")
    documentation = [e for e in entities if e["schema"] == "Documentation"]
    cited = {e["properties"]["entity"][0] for e in documentation}
    assert "by-releases-123-prisoners" in cited
    assert all(e["properties"]["document"] for e in documentation)
    event = next(e for e in entities if e["id"] == "by-releases-123-prisoners")
    assert event["schema"] == "Event" and {"by", "us"} <= set(event["properties"]["involved"])


def test_plover_events_carry_cameo_codes_and_citations(run: Run, seeded_copy: Path) -> None:
    events = _lines(run, "plover")
    kinds = run("sql", "SELECT kind, cameo_code FROM concession_kinds", "--format", "json").json()
    codes = {row["kind"]: row["cameo_code"] for row in kinds}
    concessions = run("sql", "SELECT id, kind, status FROM v_concessions", "--format", "json").json()
    assert {e["id"] for e in events} == {c["id"] for c in concessions}
    for event in events:
        assert set(event) >= {"id", "date", "actor", "recipient", "event_type", "mode", "context", "cite_info"}
        assert event["cameo_code"] == (codes[event["context"][0]] or None)
    release = next(e for e in events if e["id"] == "by-releases-123-prisoners")
    assert (release["event_type"], release["mode"], release["cameo_code"]) == ("CONCEDE", "release", "0841")
    assert release["cite_info"] and all("quote" in c and "source" in c for c in release["cite_info"])
    promised = next(e for e in events if e["id"] == "by-promises-release-14-more")
    assert promised["event_type"] == "AGREE"
