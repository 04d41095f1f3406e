"""SQLAlchemy 2 typed models: the tables of the ledger, named with the domain's words.

Every record that has a stable ID (party, alias, source, concession, exchange, link, citation, claim,
reported total) is a row in ``records`` (global ID, type, slug, retracted flag) plus a row in its own
table, joined by primary key. Citations and claims point at ``records`` so they can stand on any record.
Fuzzy dates are three columns: ``<name>_text`` (as reported), ``<name>_on`` (normalised start) and
``<name>_precision``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ledger.domain import (
    ClaimRank,
    Instrument,
    LinkBasis,
    PartyKind,
    Precision,
    RecordType,
    ReleaseForm,
    Status,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations can alter constraints by name."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type, name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, storing the enum's values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


PRECISION = _enum(Precision, "precision")


def _date_text() -> Mapped[str | None]:
    return mapped_column(String(200))


def _date_on() -> Mapped[dt.date | None]:
    return mapped_column(Date)


def _date_precision(name: str) -> Mapped[Precision]:
    return mapped_column(
        _enum(Precision, f"{name}_precision"), default=Precision.UNKNOWN, server_default=Precision.UNKNOWN.value
    )


class Record(Base):
    """Identity shared by every citable record: global key, type, stable slug, retracted flag."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[RecordType] = mapped_column(_enum(RecordType, "record_type"), index=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)
    retracted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_seq: Mapped[int | None] = mapped_column(BigInteger)

    __mapper_args__ = {"polymorphic_on": "type"}


class ConcessionKindRow(Base):
    """The closed vocabulary of concession kinds with their CAMEO codes (extended by migration)."""

    __tablename__ = "concession_kinds"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    cameo_code: Mapped[str] = mapped_column(String(10))
    meaning: Mapped[str] = mapped_column(String(200))


class Party(Record):
    """An actor that gives or receives; may act for another party."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PartyKind] = mapped_column(_enum(PartyKind, "party_kind"))
    acts_for_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)

    acts_for: Mapped[Party | None] = relationship(remote_side=[id], foreign_keys=[acts_for_id])

    __mapper_args__ = {"polymorphic_identity": RecordType.PARTY, "inherit_condition": id == Record.id}


class Alias(Record):
    """Another name of a party, with the source that used it and the script it comes from."""

    __tablename__ = "aliases"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    script: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"polymorphic_identity": RecordType.ALIAS}


class Source(Record):
    """A document that reports facts, and the source it relays (a relay is not independent)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    published_text: Mapped[str | None] = _date_text()
    published_on: Mapped[dt.date | None] = _date_on()
    published_precision: Mapped[Precision] = _date_precision("published")
    relays_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    snapshot_text: Mapped[str | None] = mapped_column(Text)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    snapshot_length: Mapped[int | None] = mapped_column(BigInteger)
    retrieved_at: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"polymorphic_identity": RecordType.SOURCE, "inherit_condition": id == Record.id}


class Concession(Record):
    """One act, or stated intent to act, by which a giver grants something to a receiver."""

    __tablename__ = "concessions"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    kind: Mapped[str] = mapped_column(ForeignKey("concession_kinds.kind"), index=True)
    kind_detail: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    unit: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[Status] = mapped_column(_enum(Status, "status"), index=True)
    date_text: Mapped[str | None] = _date_text()
    date_on: Mapped[dt.date | None] = _date_on()
    date_precision: Mapped[Precision] = _date_precision("date")
    due_text: Mapped[str | None] = _date_text()
    due_on: Mapped[dt.date | None] = _date_on()
    due_precision: Mapped[Precision] = _date_precision("due")
    announced_text: Mapped[str | None] = _date_text()
    announced_on: Mapped[dt.date | None] = _date_on()
    announced_precision: Mapped[Precision] = _date_precision("announced")
    effective_text: Mapped[str | None] = _date_text()
    effective_on: Mapped[dt.date | None] = _date_on()
    effective_precision: Mapped[Precision] = _date_precision("effective")
    expires_text: Mapped[str | None] = _date_text()
    expires_on: Mapped[dt.date | None] = _date_on()
    expires_precision: Mapped[Precision] = _date_precision("expires")
    conditions: Mapped[str | None] = mapped_column(Text)
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("concessions.id"), index=True)
    instrument: Mapped[Instrument | None] = mapped_column(_enum(Instrument, "instrument"))
    authority: Mapped[str | None] = mapped_column(String(200))
    programme: Mapped[str | None] = mapped_column(String(200))
    instrument_ref: Mapped[str | None] = mapped_column(String(200))
    release_form: Mapped[ReleaseForm | None] = mapped_column(_enum(ReleaseForm, "release_form"))
    destination: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"polymorphic_identity": RecordType.CONCESSION, "inherit_condition": id == Record.id}


#: The default listing order (``ledger list``): dated concessions first, by date; see migration 0003.
Index("ix_concessions_date_order", Concession.date_on.is_(None), Concession.date_on)


class Beneficiary(Base):
    """A named person (party) on a concession's roster, with the source that names them."""

    __tablename__ = "beneficiaries"
    __table_args__ = (UniqueConstraint("concession_id", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concession_id: Mapped[int] = mapped_column(ForeignKey("concessions.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)


class StatusChange(Base):
    """One step in the history of a concession's status, with its date and source."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concession_id: Mapped[int] = mapped_column(ForeignKey("concessions.id"), index=True)
    status: Mapped[Status] = mapped_column(_enum(Status, "status"))
    date_text: Mapped[str | None] = _date_text()
    date_on: Mapped[dt.date | None] = _date_on()
    date_precision: Mapped[Precision] = _date_precision("date")
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    journal_seq: Mapped[int | None] = mapped_column(BigInteger)


class Exchange(Record):
    """The pairing of what one side gave with what the other gave in return."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"polymorphic_identity": RecordType.EXCHANGE}


class ExchangeSide(Base):
    """One side of an exchange: the party (a state, usually) on whose behalf concessions were given."""

    __tablename__ = "exchange_sides"
    __table_args__ = (UniqueConstraint("exchange_id", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)


class ExchangeMember(Base):
    """A concession placed on one side of an exchange."""

    __tablename__ = "exchange_members"
    __table_args__ = (UniqueConstraint("exchange_id", "concession_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), index=True)
    side_id: Mapped[int] = mapped_column(ForeignKey("exchange_sides.id"), index=True)
    concession_id: Mapped[int] = mapped_column(ForeignKey("concessions.id"), index=True)


class Link(Record):
    """Two concessions paired in an exchange, with the basis (stated, inferred, denied) and reason."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("quid_id", "quo_id", "basis"),)

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), index=True)
    quid_id: Mapped[int] = mapped_column(ForeignKey("concessions.id"), index=True)
    quo_id: Mapped[int] = mapped_column(ForeignKey("concessions.id"), index=True)
    basis: Mapped[LinkBasis] = mapped_column(_enum(LinkBasis, "link_basis"))
    reason: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"polymorphic_identity": RecordType.LINK}


class Citation(Record):
    """A source backing a record, with the exact quote and where it stands in the source."""

    __tablename__ = "citations"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    quote: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(String(200))
    prefix: Mapped[str | None] = mapped_column(String(200))
    suffix: Mapped[str | None] = mapped_column(String(200))

    __mapper_args__ = {"polymorphic_identity": RecordType.CITATION, "inherit_condition": id == Record.id}


class Claim(Record):
    """One value of one attribute of one record as one source states it, with its rank."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    attribute: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    quote: Mapped[str | None] = mapped_column(Text)
    rank: Mapped[ClaimRank] = mapped_column(
        _enum(ClaimRank, "claim_rank"), default=ClaimRank.NORMAL, server_default=ClaimRank.NORMAL.value
    )
    rank_reason: Mapped[str | None] = mapped_column(Text)
    rank_author: Mapped[str | None] = mapped_column(String(200))

    __mapper_args__ = {"polymorphic_identity": RecordType.CLAIM, "inherit_condition": id == Record.id}


Index("ix_claims_record_attribute", Claim.record_id, Claim.attribute)


class ReportedTotal(Record):
    """An aggregate a source states ("156 since November"), checked against the ledger's own sum."""

    __tablename__ = "reported_totals"

    id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    kind: Mapped[str | None] = mapped_column(ForeignKey("concession_kinds.kind"), index=True)
    unit: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(BigInteger)
    period_start_text: Mapped[str | None] = _date_text()
    period_start_on: Mapped[dt.date | None] = _date_on()
    period_start_precision: Mapped[Precision] = _date_precision("period_start")
    period_end_text: Mapped[str | None] = _date_text()
    period_end_on: Mapped[dt.date | None] = _date_on()
    period_end_precision: Mapped[Precision] = _date_precision("period_end")
    statement: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"polymorphic_identity": RecordType.REPORTED_TOTAL}


class AliasJudgement(Base):
    """An analyst's verdict that two names are (or are not) the same party; silences the alias check."""

    __tablename__ = "alias_judgements"
    __table_args__ = (UniqueConstraint("name_a", "name_b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_a: Mapped[str] = mapped_column(String(300))
    name_b: Mapped[str] = mapped_column(String(300))
    same: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    journal_seq: Mapped[int | None] = mapped_column(BigInteger)


class JournalEntry(Base):
    """One change made through the ledger, chained by hash to the entry before it."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[str] = mapped_column(String(40))
    author: Mapped[str] = mapped_column(String(200))
    op: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str | None] = mapped_column(String(20))
    record_slug: Mapped[str | None] = mapped_column(String(128), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Canonical JSON: the digest of each record the entry touched, after it (``ledger.ops.state``).
    state: Mapped[str | None] = mapped_column(Text)
