"""`kiosk config`: check a kiosk configuration file, write a starting one, show the simulated defaults."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from madoguchi.cli import add_json_flag, emit, group
from madoguchi.config.check import check_config_file
from madoguchi.config.kiosk import (
    describe_kiosk,
    load_kiosk_config,
    simulated_kiosk_config,
    starting_kiosk_config,
)
from madoguchi.config.problems import ConfigFileError
from madoguchi.config.writer import dump_toml
from madoguchi.errors import UserError

__all__ = ["DEFAULT_INIT_BROKER", "register"]

_logger = logging.getLogger(__name__)

DEFAULT_INIT_BROKER = "mqtt://127.0.0.1:1883"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `config check`, `config init` and `config show-defaults`."""
    sub = group(subparsers, "config", "check, write or show the kiosk configuration file (TOML)")

    check = sub.add_parser(
        "check",
        help="load a kiosk configuration file; print its effective settings or every problem (exit 2)",
        description="Load a kiosk TOML file and print its effective settings, or every problem with its fix.",
    )
    check.add_argument("file", type=Path, help="the kiosk TOML file, e.g. /data/config/kiosk.toml")
    check.add_argument(
        "--no-file-check",
        action="store_true",
        help="do not require the TLS files it names to exist (checking a file on another machine)",
    )
    add_json_flag(check)
    check.set_defaults(func=_check)

    init = sub.add_parser(
        "init",
        help="write a starting kiosk configuration file",
        description="Write a commented starting kiosk TOML file that loads; edit it, then run `kiosk config check`.",
    )
    init.add_argument("--out", type=Path, required=True, help="file to write")
    init.add_argument("--device-id", default="jp-999999-k01", help="device id, jp-<municipality>-kNN")
    init.add_argument("--branch", default="本庁舎", help="branch office name (default 本庁舎)")
    init.add_argument("--broker", default=DEFAULT_INIT_BROKER, help="broker URL (default %(default)s)")
    init.add_argument(
        "--data-dir", type=Path, default=Path("/data/kiosk"), help="state folder (default %(default)s)"
    )
    init.add_argument(
        "--simulated", action="store_true", help="emulated devices instead of the reference hardware"
    )
    init.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    init.set_defaults(func=_init)

    show = sub.add_parser(
        "show-defaults",
        help="print the simulated defaults (all devices emulated) used by `kiosk run --simulate` and the demo",
        description="Print the embedded simulated configuration as TOML (or JSON).",
    )
    show.add_argument("--data-dir", type=Path, help="data folder (default: that of `kiosk run --simulate`)")
    show.add_argument("--broker", help="broker URL (default: that of `kiosk run --simulate`)")
    show.add_argument("--device-id", help="device id (default: that of `kiosk run --simulate`)")
    add_json_flag(show)
    show.set_defaults(func=_show_defaults)


def _check(args: argparse.Namespace) -> int:
    return check_config_file(
        args.file, load_kiosk_config, describe_kiosk, as_json=args.json, check_files=not args.no_file_check
    )


def _init(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not args.force:
        raise UserError(f"{out} already exists", "choose another --out, or add --force to overwrite it")
    config = starting_kiosk_config(
        args.device_id, args.branch, args.broker, args.data_dir, simulated=args.simulated
    )
    header = (
        "Madoguchi kiosk configuration, written by `kiosk config init`.\n"
        f"Check after editing: kiosk config check {out}\n"
        "Unknown keys are errors; relative paths count from this file's folder."
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_toml(config, header), encoding="utf-8")
    _logger.info("wrote %s", out)
    print(f"wrote {out}")
    try:
        load_kiosk_config(out)
    except ConfigFileError as exc:  # only files that do not exist yet (e.g. before enrolment)
        for problem in exc.problems:
            print(f"note: {problem}", file=sys.stderr)
    return 0


def _show_defaults(args: argparse.Namespace) -> int:
    # Imported here: `kiosk run` owns the simulated defaults and loads the fleet agent with them.
    from kiosk_app.commands import run_cmd

    config = simulated_kiosk_config(
        args.data_dir or run_cmd.default_sim_data_dir(),
        args.broker or run_cmd.DEFAULT_SIM_BROKER,
        args.device_id or run_cmd.DEFAULT_SIM_DEVICE,
    )
    data: dict[str, Any] = config.model_dump(mode="json")
    emit(data, args.json, lambda: dump_toml(config, "Simulated defaults: every device emulated."))
    return 0
