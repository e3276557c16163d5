"""`kiosk-central config`: check the central configuration file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from madoguchi.cli import add_json_flag, group
from madoguchi.config.central import CentralConfig, describe_central, load_central_config
from madoguchi.config.check import check_config_file

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `config check`."""
    sub = group(subparsers, "config", "check the central configuration file (TOML)")
    check = sub.add_parser(
        "check",
        help="load a central configuration file; print its effective settings or every problem (exit 2)",
        description="Load the central TOML file and print its effective settings, or every problem with its fix.",
    )
    check.add_argument("file", type=Path, help="the central TOML file, e.g. /etc/madoguchi/central.toml")
    check.add_argument(
        "--no-file-check",
        action="store_true",
        help="do not require the TLS and catalog files it names to exist (checking on another machine)",
    )
    add_json_flag(check)
    check.set_defaults(func=_check)


def _redact(config: CentralConfig, data: dict[str, Any]) -> None:
    data["central"]["store_url"] = config.central.store_url_redacted


def _check(args: argparse.Namespace) -> int:
    return check_config_file(
        args.file,
        load_central_config,
        describe_central,
        as_json=args.json,
        check_files=not args.no_file_check,
        redact=_redact,
    )
