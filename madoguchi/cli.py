"""Small helpers shared by the `kiosk` and `kiosk-central` command lines."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from madoguchi.errors import UserError

__all__ = ["Command", "add_json_flag", "build_parser", "emit", "run_main"]

Handler = Callable[[argparse.Namespace], int]


class Command(Protocol):
    """A command module: registers its sub-parser and sets `func` on it."""

    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add the common `--json` flag for machine-readable output."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def emit(data: Any, as_json: bool, text: str | Callable[[], str] | None = None) -> None:
    """Print a command's result as JSON or as text for a person."""
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return
    out = text() if callable(text) else text
    print(out if out is not None else json.dumps(data, ensure_ascii=False, indent=2, default=str))


def build_parser(prog: str, description: str, commands: Sequence[Command]) -> argparse.ArgumentParser:
    """Build a parser whose sub-commands come from `commands`, each with its own --help."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in commands:
        command.register(sub)
    return parser


def run_main(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse `argv`, run the chosen handler and turn `UserError` into a clear message and exit 2."""
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    # force: some libraries (python-escpos) call basicConfig() at import time.
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    func: Handler | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except UserError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def group(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add a command group (e.g. `diag`) whose bare use prints its own help."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)

    def show_help(_: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=show_help)
    return parser.add_subparsers(title="commands", metavar="COMMAND")
