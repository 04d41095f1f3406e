"""Alembic environment: metadata from ledger.models, batch mode on SQLite, our engine settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from ledger.db import make_engine, resolve_url
from ledger.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(_obj: object, name: str | None, type_: str, reflected: bool, _compare_to: object) -> bool:
    # Views are created by migrations with plain SQL and are not part of the ORM metadata.
    return not (type_ == "table" and reflected and name is not None and name.startswith("v_"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the connection `ledger init` passes in, or one made from LEDGER_DB / -x db=."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = resolve_url(context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url"))
    engine = make_engine(url, create=True)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported; run against a database")
run_migrations_online()
