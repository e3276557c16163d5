"""Command lines whose command modules are imported only when their command runs.

`kiosk --help` lists every command from a table of names and one-line helps; `kiosk run ...` imports
only `run`'s module, which registers its full sub-parser. Importing every command module up front
(and with them Kivy, python-escpos, pydantic models, ...) cost about a second per start.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from madoguchi.cli import Command, build_parser

__all__ = ["LazyCommand", "build_lazy_parser", "chosen_command", "command_modules", "import_commands"]


@dataclass(frozen=True)
class LazyCommand:
    """One top-level command: its name, the module that registers it and its one-line help."""

    name: str
    module: str
    help: str


def command_modules(commands: Sequence[LazyCommand]) -> tuple[str, ...]:
    """The command modules of `commands`, each once, in table order."""
    return tuple(dict.fromkeys(command.module for command in commands))


def import_commands(commands: Sequence[LazyCommand]) -> list[Command]:
    """Import every command module of `commands` (the full tree, e.g. to walk every sub-command)."""
    return [importlib.import_module(module) for module in command_modules(commands)]


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first word that is not an option (top-level options take no value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


class _Table:
    """Registers the chosen command through its module and every other one by name and help only."""

    def __init__(self, commands: Sequence[LazyCommand], chosen: str | None) -> None:
        self.commands = commands
        self.chosen = chosen

    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add one sub-parser per command, importing only the chosen command's module."""
        chosen = next((command.module for command in self.commands if command.name == self.chosen), None)
        for command in self.commands:
            if command.module != chosen:
                subparsers.add_parser(command.name, help=command.help, description=command.help)
            elif command.name not in subparsers.choices:  # a module may register several commands
                module: Command = importlib.import_module(command.module)
                module.register(subparsers)


def build_lazy_parser(
    prog: str, description: str, commands: Sequence[LazyCommand], argv: Sequence[str]
) -> argparse.ArgumentParser:
    """A parser listing every command, with the full sub-parser only for the one `argv` names."""
    return build_parser(prog, description, [_Table(commands, chosen_command(argv))])
