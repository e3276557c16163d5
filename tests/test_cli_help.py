"""`kiosk --help` and `kiosk-central --help` describe every sub-command, on every level."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from central_broker.cli import COMMAND_MODULES as CENTRAL_MODULES
from central_broker.cli import DESCRIPTION as CENTRAL_DESCRIPTION
from central_broker.cli import _commands as central_commands
from central_broker.cli import main as central_main
from kiosk_app.cli import COMMAND_MODULES as KIOSK_MODULES
from kiosk_app.cli import DESCRIPTION as KIOSK_DESCRIPTION
from kiosk_app.cli import _commands as kiosk_commands
from kiosk_app.cli import main as kiosk_main
from madoguchi.cli import build_parser

BIN = Path(sys.executable).parent


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """Yield (command path, help text, usage) for every sub-command below `parser`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), helps.get(name) or "", sub.format_help()
                yield from _walk(sub, (*path, name))


PARSERS = {
    "kiosk": lambda: build_parser("kiosk", KIOSK_DESCRIPTION, kiosk_commands()),
    "kiosk-central": lambda: build_parser("kiosk-central", CENTRAL_DESCRIPTION, central_commands()),
}


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_every_subcommand_has_a_help_text(prog: str) -> None:
    """GIVEN the command tree WHEN walked THEN each sub-command has a one-line help and its own usage."""
    commands = list(_walk(PARSERS[prog]()))
    assert commands, f"{prog} has no sub-commands"
    missing = [" ".join(path) for path, help_text, _ in commands if not help_text.strip()]
    assert missing == [], f"{prog}: sub-commands without help: {missing}"
    for path, _, usage in commands:
        assert usage.startswith(f"usage: {prog} {' '.join(path)}"), usage


@pytest.mark.parametrize(("prog", "modules"), [("kiosk", KIOSK_MODULES), ("kiosk-central", CENTRAL_MODULES)])
def test_top_level_help_lists_every_command_module(prog: str, modules: tuple[str, ...]) -> None:
    """The installed console script's --help names every registered command."""
    out = subprocess.run(
        [str(BIN / prog), "--help"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    top_level = {path[0] for path, _, _ in _walk(PARSERS[prog]())}
    assert len(top_level) >= len(modules)
    for name in top_level:
        assert name in out, f"{prog} --help does not mention {name}"


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_help_works_on_every_level(prog: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` on every sub-command prints its usage and exits 0 (in-process: one interpreter start)."""
    main = kiosk_main if prog == "kiosk" else central_main
    for path, _, _ in _walk(PARSERS[prog]()):
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0, f"{prog} {' '.join(path)} --help failed"
        assert capsys.readouterr().out.startswith(f"usage: {prog} {' '.join(path)}")


def test_bare_group_prints_its_help_and_fails() -> None:
    result = subprocess.run([str(BIN / "kiosk"), "diag"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "usage: kiosk diag" in result.stdout


def _help_of(prog: str, *path: str) -> str:
    parser = PARSERS[prog]()
    return next(usage for p, _, usage in _walk(parser) if p == path)


def test_broker_run_help_names_only_its_own_options() -> None:
    """GIVEN `kiosk-central broker run`, which has no TLS option WHEN its help is read THEN it names no
    `--pki` (an option of `broker config` only) and says it is the loopback development listener."""
    text = " ".join(_help_of("kiosk-central", "broker", "run").split())
    assert "--pki" not in text
    assert "127.0.0.1" in text and "broker config" in text


def test_kiosk_run_help_describes_the_touchscreen_app() -> None:
    """GIVEN `kiosk run` WHEN its help is read THEN it describes the touchscreen app and the fleet link it
    runs now, not a headless placeholder."""
    text = " ".join(_help_of("kiosk", "run").split())
    assert "headless for now" not in text.lower()
    assert "touchscreen app" in text and "fleet link" in text and "--ui" in text
