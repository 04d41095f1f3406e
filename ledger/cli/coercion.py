"""Parse the obvious command-line values without pydantic; Typer parses everything else, as before.

Typer 0.29 converts every parameter's value, even one left at its default, through a pydantic
``TypeAdapter`` built on first use: importing pydantic and building the adapters of one command costs
about 0.1 s of CPU, a third of what a fast command like ``ledger sql`` needs in all. Most values need
no validation library: a ``str`` option given a string, an enum option given one of its values, a
whole number within its range. For those, :class:`Obvious` returns exactly what Typer's adapter would
(tests/test_cli_startup.py compares the two on every parameter of every command); for any other value
(out of range, a wrong choice, a path, a custom parser) it hands over to Typer's own coercion, so
conversions and error messages stay Typer's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin

import typer
from typer._coercion import RuntimeParam, build_runtime_param

#: Returned by :func:`obvious` when the value is not one it can convert with certainty.
UNSURE: Any = object()
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def obvious(annotation: Any, info: Any, value: Any) -> Any:
    """``value`` converted to ``annotation`` as Typer would convert it, or ``UNSURE``."""
    if info.parser is not None:
        return UNSURE
    if get_origin(annotation) is list and isinstance(value, list | tuple):
        (item,) = get_args(annotation)
        items = [obvious(item, info, v) for v in value]
        return UNSURE if any(i is UNSURE for i in items) else items
    if annotation is str:
        return value if isinstance(value, str) else UNSURE
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if isinstance(value, annotation):
            return value
        if isinstance(value, str) and info.case_sensitive:
            return next((m for m in annotation if str(m.value) == value), UNSURE)
        return UNSURE
    if annotation is int or annotation is float:
        if isinstance(value, str):
            if not (_INT if annotation is int else _FLOAT).fullmatch(value):
                return UNSURE
            number: Any = annotation(value)
        elif type(value) is annotation:
            number = value
        else:
            return UNSURE
        if info.clamp or (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            return UNSURE
        return number
    return UNSURE


@dataclass(frozen=True)
class Obvious(RuntimeParam):
    """Coercion that converts obvious values itself and hands every other value to Typer's coercion."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        converted = obvious(self.annotation, self.parameter_info, value)
        if converted is not UNSURE:
            return converted
        full = build_runtime_param(param.type_descriptor)
        param._runtime_param = full  # later values (prompts, repeats) go straight to Typer's coercion
        return full._coerce_value(value, param=param, ctx=ctx)


def lighten(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands :class:`Obvious` coercion (before parsing).

    That includes each command's ``--help`` option, which the command makes (and keeps) on first use.
    """
    help_option = command.get_help_option(typer.Context(command))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = Obvious(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)
    for sub in getattr(command, "commands", {}).values():
        lighten(sub)
