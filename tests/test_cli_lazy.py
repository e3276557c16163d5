"""`kiosk` and `kiosk-central` import only the module of the command that runs.

Start-up time itself is measured in `benchmarks/cli_startup.py`; these tests check what a start loads.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from central_broker import cli as central_cli
from kiosk_app import cli as kiosk_cli
from madoguchi.cli import build_parser
from madoguchi.lazy_commands import LazyCommand

CLIS = {"kiosk": kiosk_cli, "kiosk-central": central_cli}
# Heavy libraries a bare `--help` used to load through the command modules.
HEAVY = ("kivy", "escpos", "sqlalchemy", "fastapi", "weasyprint", "argon2")


def _loaded_after(module: str, argv: list[str]) -> set[str]:
    """The modules loaded by `module.main(argv)` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        f"from {module} import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(loaded)


def _top_level(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [(choice.dest, choice.help or "") for choice in sub._choices_actions]


@pytest.mark.parametrize("prog", sorted(CLIS))
def test_help_loads_no_command_module_and_no_heavy_library(prog: str) -> None:
    """GIVEN `PROG --help` WHEN it runs THEN it lists the commands without importing any command module,
    Kivy, python-escpos, SQLAlchemy, FastAPI, WeasyPrint or argon2."""
    package = "kiosk_app" if prog == "kiosk" else "central_broker"
    loaded = _loaded_after(f"{package}.cli", ["--help"])
    assert not {m for m in loaded if m.startswith(f"{package}.commands.")}
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_a_command_loads_only_its_own_module() -> None:
    """GIVEN `kiosk pair --help` (a command registered by enrol_cmd with `enrol` and `renew`) WHEN it runs
    THEN only enrol_cmd is imported among the command modules."""
    loaded = _loaded_after("kiosk_app.cli", ["pair", "--help"])
    assert {m for m in loaded if m.startswith("kiosk_app.commands.")} == {"kiosk_app.commands.enrol_cmd"}


@pytest.mark.parametrize("prog", sorted(CLIS))
def test_command_table_matches_what_the_modules_register(prog: str) -> None:
    """GIVEN the lazy command table WHEN compared with the parser the modules build THEN the names, their
    order and the one-line helps are the same (the table cannot drift from the modules)."""
    cli = CLIS[prog]
    commands: tuple[LazyCommand, ...] = cli.COMMANDS
    full = build_parser(prog, cli.DESCRIPTION, cli._commands())
    assert _top_level(full) == [(c.name, c.help) for c in commands]


def test_an_unknown_command_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN `kiosk frobnicate` WHEN parsed THEN argparse refuses it and lists the real commands."""
    with pytest.raises(SystemExit) as exited:
        kiosk_cli.main(["frobnicate"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err and "run" in err and "print-test" in err
