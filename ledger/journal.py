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
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidInput
from ledger.models import JournalEntry

GENESIS_HASH = "0" * 64


#: Largest integer magnitude a payload may hold: JSON numbers are exact (IEEE 754 doubles) up to here.
MAX_SAFE_INTEGER = 2**53 - 1


def canonical(value: Any) -> str:
    """The canonical JSON text of ``value`` (JCS for the journal's value domain, which is enforced)."""
    check_domain(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def check_domain(value: Any, where: str = "payload") -> None:
    """InvalidInput unless ``value`` is in the journal's JSON domain.

    The domain: None, booleans, integers within +-(2**53 - 1), strings without lone surrogates, lists,
    and objects with ASCII string keys. No floats: their JCS form (ECMAScript number printing) is not
    what Python prints, and none of the ledger's values needs one.
    """
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return
        raise InvalidInput(f"{where}: {value} is outside the exact JSON integer range +-(2**53 - 1)")
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidInput(f"{where}: the text is not valid Unicode (a lone surrogate)") from None
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_domain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise InvalidInput(f"{where}: the key {key!r} is not ASCII text")
            check_domain(item, f"{where}.{key}")
        return
    raise InvalidInput(f"{where}: a {type(value).__name__} cannot be journalled (no floats, dates as text)")


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
    state: str | None = None,
) -> str:
    """SHA-256 (hex) of the JCS text of the entry; ``payload`` is already canonical JSON and is embedded as is.

    The keys are written in JCS order by hand (this runs once per entry when verifying a chain). ``state``
    (canonical JSON too) is part of the entry only when present, so entries written before it existed
    keep their hashes.
    """
    tail = "}" if state is None else f',"state":{state}}}'
    text = (
        f'{{"at":{_string(at)},"author":{_string(author)},"op":{_string(op)},"payload":{payload},'
        f'"prev_hash":{_string(prev_hash)},"record_slug":{_nullable(record_slug)},'
        f'"record_type":{_nullable(record_type)},"seq":{int(seq)}{tail}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _string(value: str) -> str:
    return encode_basestring(value)


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
    session: Session,
    op: str,
    payload: dict[str, Any],
    *,
    record_type: str | None,
    record_slug: str | None,
    state: dict[str, str | None] | None = None,
) -> Head:
    """Append one entry in the caller's transaction and return the new head.

    ``state`` maps each record the change touched to the digest of its rows (``ledger.ops.state``).
    The head is cached on the session so a batch of appends reads the chain once.
    """
    previous: Head = session.info.get("journal_head") or head(session)
    at = session.info.get("journal_time") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    author = session.info.get("author") or default_author()
    payload_text = canonical(payload)
    state_text = None if state is None else canonical(state)
    seq = previous.seq + 1
    digest = entry_hash(
        seq=seq, at=at, author=author, op=op, record_type=record_type, record_slug=record_slug,
        payload=payload_text, prev_hash=previous.hash, state=state_text,
    )  # fmt: skip
    session.execute(
        _INSERT,
        {
            "seq": seq, "at": at, "author": author, "op": op, "record_type": record_type, "record_slug": record_slug,
            "payload": payload_text, "prev_hash": previous.hash, "hash": digest, "state": state_text,
        },
    )  # fmt: skip
    new_head = Head(seq, digest)
    session.info["journal_head"] = new_head
    return new_head


#: The INSERT of one entry, built once (its values are bound per append).
_INSERT = insert(JournalEntry)


@dataclass(frozen=True)
class ChainProblem:
    """One place where the stored chain does not verify."""

    seq: int
    record_slug: str | None
    message: str


def verify_chain(
    session: Session,
    *,
    batch: int = 10_000,
    on_entry: Callable[[int, str | None, str | None], None] | None = None,
) -> Iterator[ChainProblem]:
    """Recompute every hash in sequence order, streaming in constant memory; yield each broken entry.

    An entry is broken when sequence numbers before it are missing, when it does not link to the entry
    before it (removed, reordered or inserted entries), or when its content no longer matches its hash.
    A journal rewritten and re-hashed end to end verifies here: only a checkpoint can catch that.
    ``on_entry(seq, record_slug, state)`` sees every entry as it streams past (one read for two uses).
    """
    t = JournalEntry.__table__.c
    stmt = select(t.seq, t.at, t.author, t.op, t.record_type, t.record_slug, t.payload, t.prev_hash, t.hash, t.state)
    # Statement-level option: Connection.execution_options() would change the session's connection for good
    # (on PostgreSQL every later statement, SAVEPOINTs included, would go through a server-side cursor).
    rows = session.connection().execute(stmt.order_by(t.seq).execution_options(yield_per=batch))
    expected_prev, expected_seq = GENESIS_HASH, 1
    for seq, at, author, op, record_type, record_slug, payload, prev_hash, stored, state in rows:
        recomputed = entry_hash(
            seq=seq, at=at, author=author, op=op, record_type=record_type, record_slug=record_slug,
            payload=payload, prev_hash=prev_hash, state=state,
        )  # fmt: skip
        if seq != expected_seq or prev_hash != expected_prev or recomputed != stored:
            yield ChainProblem(seq, record_slug, _describe_break(seq, expected_seq, prev_hash == expected_prev,
                                                                 recomputed == stored, op))  # fmt: skip
        if on_entry is not None:
            on_entry(seq, record_slug, state)
        expected_prev, expected_seq = stored, seq + 1


def _describe_break(seq: int, expected_seq: int, links: bool, intact: bool, op: str) -> str:
    parts = []
    if seq > expected_seq:
        missing = str(expected_seq) if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
        parts.append(f"entries {missing} before it are missing")
    elif seq < expected_seq:
        parts.append("it repeats an earlier sequence number")
    if not links:
        parts.append("it does not link to the entry before it (entries removed, reordered or inserted)")
    if not intact:
        parts.append("its content does not match its hash (edited or moved after writing)")
    return f"{op} entry is broken: " + "; ".join(parts)


CHECKPOINT_PREFIX = "ledger-checkpoint v1"
_CHECKPOINT = re.compile(r"^ledger-checkpoint v1 seq=(\d+) sha256=([0-9a-f]{64})$")


def checkpoint_line(head: Head) -> str:
    """The publishable one-line form of a head: ``ledger-checkpoint v1 seq=N sha256=HASH``."""
    return f"{CHECKPOINT_PREFIX} seq={head.seq} sha256={head.hash}"


def parse_checkpoint(line: str) -> Head:
    """Read a checkpoint line; InvalidInput when it is not one."""
    match = _CHECKPOINT.match(line.strip())
    if not match:
        raise InvalidInput(
            f"--checkpoint: not a checkpoint line: {line.strip()[:100]!r}",
            hint=f"expected: {CHECKPOINT_PREFIX} seq=N sha256=<64 hex digits> (from `ledger checkpoint`)",
        )
    return Head(int(match.group(1)), match.group(2))


def verify_checkpoint(session: Session, checkpoint: Head) -> ChainProblem | None:
    """None when the journal still holds the checkpointed entry unchanged (so it extends that head)."""
    if checkpoint.seq == 0:  # the empty journal's head: every journal extends it
        ok = checkpoint.hash == GENESIS_HASH
        return None if ok else ChainProblem(0, None, "a checkpoint of entry 0 must carry the genesis hash (64 zeros)")
    row = session.execute(
        select(JournalEntry.hash, JournalEntry.record_slug).where(JournalEntry.seq == checkpoint.seq)
    ).first()
    if row is None:
        last = head(session)
        return ChainProblem(
            checkpoint.seq, None,
            f"the journal ends at entry {last.seq} but the checkpoint names entry {checkpoint.seq}: "
            f"entries {last.seq + 1}..{checkpoint.seq} were removed",
        )  # fmt: skip
    if row.hash != checkpoint.hash:
        return ChainProblem(
            checkpoint.seq, row.record_slug,
            f"entry {checkpoint.seq} no longer has the checkpointed hash: the journal was rewritten "
            f"at or before entry {checkpoint.seq}",
        )  # fmt: skip
    return None


def latest_payload(session: Session, record_slug: str, ops: tuple[str, ...]) -> dict[str, Any] | None:
    """The payload of the newest entry of one of ``ops`` that touched ``record_slug``."""
    text = session.execute(
        select(JournalEntry.payload)
        .where(JournalEntry.record_slug == record_slug, JournalEntry.op.in_(ops))
        .order_by(JournalEntry.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if text is None else dict(json.loads(text))
