"""Statements of the streaming import, shaped so the driver runs them fast.

Batched INSERTs: a Core ``insert()`` compiled once, run by the driver's executemany.

``session.execute(insert(table), rows)`` assembles every row's parameters in SQLAlchemy (a dictionary per
row, looked up bind by bind), which costs about as much as the driver's own ``executemany``. Here the
statement is the same Core ``insert()``, compiled once per table and set of columns for the connection's
dialect; each row becomes the tuple (positional drivers such as sqlite3) or dictionary (named ones such as
psycopg) the driver takes, with each column type's bind processor applied where the dialect has one, so
the values stored are exactly those ``session.execute`` would store. No SQL text is written here.

IN lists: every batch looks IDs up with ``column.in_(values)``, which SQLAlchemy renders with one
placeholder per value. A new number of values is a new statement text, which the driver prepares again and
keeps in its statement cache (sqlite3 keeps 128; a prepared IN of thousands of values is hundreds of KB, and
a streamed import used tens of MB on them). ``in_list`` pads the values to one of a few lengths (eight per doubling).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

T = TypeVar("T", bound=Hashable)

#: A bind processor: a Python value to what the driver stores.
Processor = Callable[[Any], Any]


class _Compiled:
    """One compiled INSERT: its SQL, how to turn a row dictionary into driver parameters."""

    def __init__(self, dialect: Dialect, table: Table, columns: tuple[str, ...]) -> None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        # A column with a Python-side default would be bound too (its value computed per row by SQLAlchemy).
        if set(compiled.binds) != set(columns):
            raise LookupError(f"{table.name}: the INSERT binds {sorted(compiled.binds)}, not the columns {columns}")
        names: Sequence[str] = (compiled.positiontup or []) if self.positional else columns
        self.names = tuple(names)
        self.get = itemgetter(*self.names)
        processors: dict[int, Processor] = {}
        for i, name in enumerate(self.names):
            bind_type = compiled.binds[name].type
            processor = bind_type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[i] = processor
        self.processors = tuple(processors.items())

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        """The driver's parameters for ``rows`` (each with exactly the compiled columns)."""
        single = len(self.names) == 1
        if self.positional and not self.processors and not single:
            return [self.get(row) for row in rows]  # itemgetter of several keys: a tuple
        out: list[Any] = []
        for row in rows:
            values = [self.get(row)] if single else list(self.get(row))
            for i, process in self.processors:
                value = values[i]
                if value is not None:
                    values[i] = process(value)
            out.append(tuple(values) if self.positional else dict(zip(self.names, values, strict=True)))
        return out


@functools.lru_cache(maxsize=128)
def _compiled(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Compiled:
    return _Compiled(dialect, table, columns)


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dictionaries with the same keys: column names) into ``table`` with one executemany."""
    if not rows:
        return
    connection = session.connection()
    compiled = _compiled(connection.dialect, table, tuple(rows[0]))
    connection.exec_driver_sql(compiled.sql, compiled.parameters(rows))


def in_list(values: Iterable[T]) -> list[T]:
    """The distinct values for ``column.in_()``, padded (the last repeated) to one of a few lengths: a multiple
    of 16 and of an eighth of the power of two below (so fewer than 16, or at most an eighth, more values)."""
    distinct = list(dict.fromkeys(values))
    step = max(16, 1 << max(0, len(distinct).bit_length() - 4))
    size = -(-len(distinct) // step) * step
    return distinct + distinct[-1:] * (size - len(distinct))
