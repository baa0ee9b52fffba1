"""Reading and writing engine documents as JSON, numbers kept exact."""

from __future__ import annotations

import json
from decimal import Decimal

from .validation import Problem, ScoringError


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number a ledger accepts")


def loads(text: str) -> object:
    """Parse a JSON document with every fractional number as an exact Decimal."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ScoringError(
            [
                Problem.of(
                    "",
                    "json.invalid",
                    detail=f"{error.msg} (line {error.lineno}, column {error.colno})",
                )
            ]
        ) from None
    except (ValueError, RecursionError) as error:
        raise ScoringError([Problem.of("", "json.invalid", detail=str(error))]) from None


def dumps(shown: object) -> str:
    """Serialize an engine answer as the CLI prints it (UTF-8 text, Chinese kept)."""
    return json.dumps(shown, ensure_ascii=False, indent=1)
