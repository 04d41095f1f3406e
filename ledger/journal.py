"""The append-only, hash-chained journal: every change to the ledger is one entry.

An entry's hash is the SHA-256 of the canonical JSON (RFC 8785 / JCS) of the entry itself, previous
hash included, so any tool can recompute the chain. Payloads hold only strings, integers within
+-(2**53 - 1), booleans, nulls, lists and objects with ASCII keys; for that domain the encoding below
(sorted keys, no whitespace, UTF-8, minimal escapes) is exactly JCS.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.models import JournalEntry

GENESIS_HASH = "0" * 64


def canonical(value: Any) -> str:
    """The canonical JSON text of ``value`` (JCS for the journal's value domain)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def entry_hash(
    *,
    seq: int,
    at: str,
    author: str,
    op: str,
    record_type: str | None,
    record_slug: str | None,
    payload: str,
    prev_hash: str,
) -> str:
    """SHA-256 of the canonical entry; ``payload`` is already canonical JSON text and is embedded as is."""
    head = canonical({"at": at, "author": author, "op": op})[:-1]
    tail = canonical({"prev_hash": prev_hash, "record_slug": record_slug, "record_type": record_type, "seq": seq})[1:]
    return hashlib.sha256(f'{head},"payload":{payload},{tail}'.encode()).hexdigest()


def default_author() -> str:
    """``LEDGER_AUTHOR``, else the operating-system user."""
    author = os.environ.get("LEDGER_AUTHOR")
    if author:
        return author
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Head:
    """The newest entry of the chain: its sequence number and hash."""

    seq: int
    hash: str


def head(session: Session) -> Head:
    """The current head of the chain (sequence 0 and the genesis hash when empty)."""
    row = session.execute(
        select(JournalEntry.seq, JournalEntry.hash).order_by(JournalEntry.seq.desc()).limit(1)
    ).first()
    return Head(0, GENESIS_HASH) if row is None else Head(row.seq, row.hash)


def append(
    session: Session, op: str, payload: dict[str, Any], *, record_type: str | None, record_slug: str | None
) -> Head:
    """Append one entry in the caller's transaction and return the new head.

    The head is cached on the session so a batch of appends reads the chain once.
    """
    previous: Head = session.info.get("journal_head") or head(session)
    at = session.info.get("journal_time") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    author = session.info.get("author") or default_author()
    payload_text = canonical(payload)
    seq = previous.seq + 1
    digest = entry_hash(
        seq=seq, at=at, author=author, op=op, record_type=record_type, record_slug=record_slug,
        payload=payload_text, prev_hash=previous.hash,
    )  # fmt: skip
    session.execute(
        insert(JournalEntry).values(
            seq=seq, at=at, author=author, op=op, record_type=record_type, record_slug=record_slug,
            payload=payload_text, prev_hash=previous.hash, hash=digest,
        )
    )  # fmt: skip
    new_head = Head(seq, digest)
    session.info["journal_head"] = new_head
    return new_head


@dataclass(frozen=True)
class ChainProblem:
    """One place where the stored chain does not verify."""

    seq: int
    record_slug: str | None
    message: str


def verify_chain(session: Session, *, batch: int = 10_000) -> Iterator[ChainProblem]:
    """Recompute every hash in order, streaming; yield each break (gap, wrong link, wrong hash)."""
    expected_prev, expected_seq = GENESIS_HASH, 1
    rows = session.execute(select(JournalEntry).order_by(JournalEntry.seq).execution_options(yield_per=batch)).scalars()
    for entry in rows:
        if entry.seq != expected_seq:
            yield ChainProblem(entry.seq, entry.record_slug, f"entries {expected_seq}..{entry.seq - 1} are missing")
        if entry.prev_hash != expected_prev:
            yield ChainProblem(entry.seq, entry.record_slug, "does not link to the entry before it")
        recomputed = entry_hash(
            seq=entry.seq, at=entry.at, author=entry.author, op=entry.op, record_type=entry.record_type,
            record_slug=entry.record_slug, payload=entry.payload, prev_hash=entry.prev_hash,
        )  # fmt: skip
        if recomputed != entry.hash:
            yield ChainProblem(
                entry.seq, entry.record_slug, "its content does not match its hash (edited after writing)"
            )
        expected_prev, expected_seq = entry.hash, entry.seq + 1


def latest_payload(session: Session, record_slug: str, ops: tuple[str, ...]) -> dict[str, Any] | None:
    """The payload of the newest entry of one of ``ops`` that touched ``record_slug``."""
    text = session.execute(
        select(JournalEntry.payload)
        .where(JournalEntry.record_slug == record_slug, JournalEntry.op.in_(ops))
        .order_by(JournalEntry.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if text is None else dict(json.loads(text))
