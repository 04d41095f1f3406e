"""Checks on the depth of evidence: expiring concessions, press wording against the legal instrument,
disputed links, and quotes verified against source snapshots."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import case, distinct, func, null, select, tuple_
from sqlalchemy.orm import Session

from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.audit.textmatch import find_normalised, normalise
from ledger.domain import ConcessionKind, FuzzyDate, Instrument, LinkBasis, Precision, RecordType, Status
from ledger.models import Citation, Claim, Concession, Link, Record, Source

#: Statuses after which a concession no longer runs, so its expiry does not matter.
ENDED = (Status.DECLINED, Status.WITHDRAWN, Status.RENEGED)

_R = Record.__table__


def _fuzzy(text: str | None, value: dt.date | None, precision: Precision | str) -> FuzzyDate:
    return FuzzyDate(text=text, value=value, precision=Precision(precision))


# --- expired -------------------------------------------------------------------------------------


def _renewals(session: Session) -> dict[int, list[dt.date | None]]:
    """Renewed concession key -> the earliest known date of each live renewal (None when undated)."""
    c = Concession
    rows = session.execute(
        select(c.renews_id, c.announced_on, c.effective_on, c.date_on).where(
            c.type == RecordType.CONCESSION, c.renews_id.is_not(None), c.retracted.is_(False)
        )
    )
    out: dict[int, list[dt.date | None]] = defaultdict(list)
    for renews_id, announced, effective, date in rows:
        known = [d for d in (announced, effective, date) if d is not None]
        if renews_id is not None:
            out[renews_id].append(min(known) if known else None)
    return out


@check("expired", severity=Severity.WARNING, family="evidence")
def expired(session: Session, options: AuditOptions) -> Iterator[Finding]:
    """A concession (a licence, a waiver, a conditional promise) whose expiry has passed as of --as-of with no
    renewal: no live concession `renews` it, or every renewal is dated after --as-of. Precision is respected:
    an expiry of "2016-04" has passed only once April 2016 has ended. Declined, withdrawn and reneged
    concessions are left out."""
    renewals = _renewals(session)
    rows = session.execute(
        select(
            Concession.id, Concession.slug, Concession.summary, Concession.status,
            Concession.expires_text, Concession.expires_on, Concession.expires_precision,
        )
        .where(
            Concession.type == RecordType.CONCESSION,  # through ix_records_type, not every record in slug order
            Concession.retracted.is_(False), Concession.expires_on.is_not(None), Concession.status.not_in(ENDED),
            Concession.expires_on < options.as_of,
        )
        .order_by(Concession.slug)
    )  # fmt: skip
    for key, slug, summary, status, text, value, precision in rows:
        expiry = _fuzzy(text, value, precision)
        if expiry.end is None or expiry.end >= options.as_of:
            continue
        if any(start is None or start <= options.as_of for start in renewals.get(key, [])):
            continue
        yield Finding(
            "expired", Severity.WARNING, "concession", slug,
            f"{summary!r} ({status}) expired on {expiry.describe()} and nothing renews it as of {options.as_of}",
            {"expires": expiry.iso(), "precision": expiry.precision.value, "as_of": options.as_of.isoformat()},
        )  # fmt: skip


# --- wording -------------------------------------------------------------------------------------

#: Instruments that permit dealings or pause sanctions without removing them, and what they do instead.
NOT_LIFTED = {
    Instrument.GENERAL_LICENCE: "licensed",
    Instrument.SPECIFIC_LICENCE: "licensed",
    Instrument.WAIVER: "waived",
    Instrument.EXEMPTION: "exempted",
    Instrument.SUSPENSION: "suspended",
}
#: Press words that say sanctions are gone.
PRESS_WORDS = re.compile(r"\b(lift(?:s|ed|ing)?|remov(?:e|es|ed|ing)|ended)\b", re.IGNORECASE)


def _quotes_on_relief(session: Session) -> Iterator[tuple[Any, ...]]:
    """(concession slug, summary, instrument, instrument ref, source slug, quote) for every live quote on a
    sanctions relief done by a licence, waiver, exemption or suspension: citations and claims alike."""
    concession, source, quoted = _R.alias("concession"), _R.alias("source"), _R.alias("quoted")
    c = Concession.__table__
    for table in (Citation.__table__, Claim.__table__):
        yield from session.execute(
            select(concession.c.slug, c.c.summary, c.c.instrument, c.c.instrument_ref, source.c.slug, table.c.quote)
            .select_from(c)
            .join(concession, concession.c.id == c.c.id)
            .join(table, table.c.record_id == c.c.id)
            .join(quoted, quoted.c.id == table.c.id)
            .join(source, source.c.id == table.c.source_id)
            .where(
                c.c.kind == ConcessionKind.SANCTIONS_RELIEF.value, c.c.instrument.in_(list(NOT_LIFTED)),
                concession.c.retracted.is_(False), quoted.c.retracted.is_(False), table.c.quote.is_not(None),
            )
            .order_by(concession.c.slug, source.c.slug, quoted.c.slug)
        )  # fmt: skip


@check("wording", severity=Severity.WARNING, family="evidence")
def wording(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """A sanctions relief whose instrument is only a general or specific licence, a waiver, an exemption or a
    suspension, while a source's quote about it says sanctions were "lifted", "removed" or "ended": the press
    wording claims more than the legal instrument does (a licence authorises dealings; it does not unblock
    property or delist anyone)."""
    for slug, summary, instrument, ref, source, quote in _quotes_on_relief(session):
        word = PRESS_WORDS.search(quote)
        if word is None:
            continue
        kind = Instrument(instrument)
        named = kind.value.replace("_", " ") + (f" ({ref})" if ref else "")
        yield Finding(
            "wording", Severity.WARNING, "concession", slug,
            f'{source} says "{word.group(0)}" ("{quote}"), but the instrument of {summary!r} is a {named}: '
            f"the sanctions are {NOT_LIFTED[kind]}, not lifted",
            {"source": source, "quote": quote, "word": word.group(0), "instrument": kind.value, "instrument_ref": ref},
        )  # fmt: skip


# --- disputed-link -------------------------------------------------------------------------------


@check("disputed-link", severity=Severity.WARNING, family="evidence")
def disputed_link(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """Two concessions that one source says were given in return for each other (a `stated` link) while
    another denies it (a `denied` link between the same two, in either direction)."""
    link, quid, quo, source, cited = _R.alias("link"), _R.alias("quid"), _R.alias("quo"), _R.alias("src"), _R.alias()
    links, citations = Link.__table__, Citation.__table__
    # the pair regardless of direction, and the pairs some live link states and another denies (one grouped
    # query): only their links are read, not every stated or denied link of the ledger
    ordered = links.c.quid_id < links.c.quo_id
    low = case((ordered, links.c.quid_id), else_=links.c.quo_id)
    high = case((ordered, links.c.quo_id), else_=links.c.quid_id)
    live = _R.alias("live")
    disputed = (
        select(low, high)
        .select_from(links)
        .join(live, live.c.id == links.c.id)
        .where(live.c.type == RecordType.LINK, live.c.retracted.is_(False), links.c.basis.in_(["stated", "denied"]))
        .group_by(low, high)
        .having(func.count(distinct(links.c.basis)) == 2)
    )
    rows = session.execute(
        select(links.c.quid_id, links.c.quo_id, link.c.slug, quid.c.slug, quo.c.slug, links.c.basis, source.c.slug)
        .select_from(links)
        .join(link, link.c.id == links.c.id)
        .join(quid, quid.c.id == links.c.quid_id)
        .join(quo, quo.c.id == links.c.quo_id)
        .outerjoin(citations, citations.c.record_id == links.c.id)
        .outerjoin(cited, cited.c.id == citations.c.id)
        .outerjoin(source, (source.c.id == citations.c.source_id) & cited.c.retracted.is_(False))
        .where(link.c.type == RecordType.LINK, link.c.retracted.is_(False), links.c.basis.in_(["stated", "denied"]))
        .where(tuple_(low, high).in_(disputed))
        .order_by(link.c.slug, source.c.slug)
    )  # fmt: skip
    pairs: dict[frozenset[int], dict[str, dict[str, set[str]]]] = defaultdict(lambda: defaultdict(dict))
    names: dict[frozenset[int], tuple[str, str]] = {}
    for quid_id, quo_id, slug, quid_slug, quo_slug, basis, source_slug in rows:
        key = frozenset((quid_id, quo_id))
        names.setdefault(key, (quid_slug, quo_slug))
        sources = pairs[key][LinkBasis(basis).value].setdefault(slug, set())
        if source_slug is not None:
            sources.add(source_slug)
    for key, bases in pairs.items():
        if "stated" not in bases or "denied" not in bases:
            continue
        stated, denied = bases["stated"], bases["denied"]
        by = {basis: sorted(set().union(*cited.values())) or ["no cited source"] for basis, cited in bases.items()}
        a, b = names[key]
        yield Finding(
            "disputed-link", Severity.WARNING, "link", sorted(stated)[0],
            f"the link between {a} and {b} is stated by {', '.join(by['stated'])} "
            f"and denied by {', '.join(by['denied'])}",
            {"stated": sorted(stated), "denied": sorted(denied), "stated_by": by["stated"], "denied_by": by["denied"]},
        )  # fmt: skip


# --- quotes --------------------------------------------------------------------------------------


def _snapshots(session: Session) -> Iterator[tuple[Finding | None, str, str | None]]:
    """(hash finding or None, source slug, usable text or None) for every live source with a snapshot."""
    rows = session.execute(
        select(Source.slug, Source.snapshot_text, Source.snapshot_sha256, Source.snapshot_length)
        .where(Source.type == RecordType.SOURCE, Source.retracted.is_(False), Source.snapshot_sha256.is_not(None))
        .order_by(Source.slug)
    )
    for slug, text, sha256, length in rows:
        if text is None:
            yield None, slug, None
            continue
        raw = text.encode("utf-8")
        actual = hashlib.sha256(raw).hexdigest()
        if actual == sha256 and len(raw) == length:
            yield None, slug, text
            continue
        yield (
            Finding(
                "quotes", Severity.ERROR, "source", slug,
                f"the stored snapshot of {slug} no longer matches its SHA-256 and length (it records {sha256}, "
                f"{length} bytes; the text is {actual}, {len(raw)} bytes): it was changed outside the ledger, "
                "so its quotes were not checked",
                {"recorded_sha256": sha256, "recorded_length": length, "sha256": actual, "length": len(raw)},
            ),
            slug,
            None,
        )  # fmt: skip


def _quotes_by_source(session: Session, sources: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Source slug -> (type, slug, record slug, quote, prefix, suffix) of each live citation and claim quoting it."""
    source, quoted, record = _R.alias("source"), _R.alias("quoted"), _R.alias("record")
    citations, claims = Citation.__table__, Claim.__table__
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for table, context in ((citations, (citations.c.prefix, citations.c.suffix)), (claims, (null(), null()))):
        rows = session.execute(
            select(source.c.slug, quoted.c.type, quoted.c.slug, record.c.slug, table.c.quote, *context)
            .select_from(table)
            .join(quoted, quoted.c.id == table.c.id)
            .join(record, record.c.id == table.c.record_id)
            .join(source, source.c.id == table.c.source_id)
            .where(source.c.slug.in_(sources), quoted.c.retracted.is_(False), table.c.quote.is_not(None))
            .order_by(source.c.slug, quoted.c.slug)
        )
        for source_slug, kind, slug, record_slug, quote, prefix, suffix in rows:
            out[source_slug].append((str(getattr(kind, "value", kind)), slug, record_slug, quote, prefix, suffix))
    return out


@check("quotes", severity=Severity.ERROR, family="evidence")
def quotes(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """A citation or claim whose quote is not found verbatim in its source's snapshot (after Unicode NFKC,
    removal of invisible characters, folding of typographic quotes to ' and ", and collapsing whitespace; see
    docs/evidence.md), or found only away from its prefix and suffix; and a source whose stored snapshot no
    longer matches its SHA-256 and length. Quotes of a source kept only as a hash cannot be checked: info."""
    snapshots = list(_snapshots(session))
    quoted = _quotes_by_source(session, [slug for _, slug, _ in snapshots])
    for problem, slug, text in snapshots:
        if problem is not None:
            yield problem
        elif text is None and quoted.get(slug):
            n = len(quoted[slug])
            yield Finding(
                "quotes", Severity.INFO, "source", slug,
                f"{n} quote(s) from {slug} cannot be checked: the ledger keeps only its SHA-256, not its text",
                {"quotes": n},
            )  # fmt: skip
        elif text is not None:
            yield from _check_quotes(slug, text, quoted.get(slug, []))


def _check_quotes(source: str, text: str, quoted: list[tuple[Any, ...]]) -> Iterator[Finding]:
    haystack = normalise(text)
    for kind, slug, record, quote, prefix, suffix in quoted:
        match = find_normalised(haystack, quote, prefix=prefix, suffix=suffix)
        details = {"source": source, "record": record, "quote": quote, "occurrences": match.occurrences}
        if match.occurrences == 0:
            yield Finding(
                "quotes", Severity.ERROR, kind, slug,
                f'the quote on {record} is not in the snapshot of {source}: "{quote}"', details,
            )  # fmt: skip
        elif not match.found:
            yield Finding(
                "quotes", Severity.WARNING, kind, slug,
                f'the quote on {record} is in the snapshot of {source} ({match.occurrences} time(s)) but never '
                f'between its prefix {prefix!r} and suffix {suffix!r}: "{quote}"',
                {**details, "prefix": prefix, "suffix": suffix},
            )  # fmt: skip
