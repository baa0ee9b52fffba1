"""Command line: ``python -m evaluation.scoring [FILE]`` (stdin when FILE is absent or -).

Prints the result JSON and exits 0; on invalid input prints
``{"errors": [{"path", "message"}, ...]}`` listing every problem and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .engine import evaluate
from .json_io import dumps, loads
from .validation import Problem, ScoringError

EXIT_INVALID = 2


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.buffer.read().decode("utf-8-sig")
    with open(source, encoding="utf-8-sig") as handle:
        return handle.read()


def read_document(source: str) -> object:
    """The JSON document at ``source`` (``-``: stdin), or a ScoringError saying why not."""
    try:
        text = _read(source)
    except (OSError, UnicodeDecodeError) as error:
        raise ScoringError(
            [Problem.of("", "file.unreadable", file=source, detail=str(error))]
        ) from None
    return loads(text)


def refuse(error: ScoringError) -> int:
    """Print every problem as ``{"errors": [...]}`` and give the exit status for bad input."""
    _print(dumps({"errors": [problem.as_dict() for problem in error.problems]}))
    return EXIT_INVALID


def _print(text: str) -> None:
    # Write UTF-8 whatever the locale, so Chinese names survive a C locale.
    sys.stdout.buffer.write(text.encode("utf-8") + b"\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the engine on one JSON document and print the result or every problem."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.scoring",
        description=(
            "Score, rank and flag units from one engine document (docs/rules.md#engine-document)."
        ),
    )
    parser.add_argument("file", nargs="?", default="-", help="JSON document (default: stdin)")
    arguments = parser.parse_args(argv)
    try:
        result = evaluate(read_document(arguments.file))
    except ScoringError as error:
        return refuse(error)
    _print(dumps(result.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
