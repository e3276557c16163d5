"""`madoguchi-demo` (`python -m madoguchi_demo`, `make demo`): run a broker, the central and one simulated
kiosk, and show how to look at them."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk_app.kiosk_main import display_available
from madoguchi.cli import add_json_flag, run_main
from madoguchi.signals import stop_on_signals
from madoguchi_demo.stack import DemoStack, console_script
from madoguchi_demo.summary import demo_summary

__all__ = ["build_parser", "main"]

DESCRIPTION = (
    "Start Mosquitto (loopback, free port), `kiosk-central serve` (fleet, dashboard, certificate "
    "issuance against the card emulator's test CA, payment orders, visit queue) and one "
    "`kiosk run --simulate`: its touchscreen window when there is a display, else autopilot residents "
    "who take certificates and visit numbers and pay register orders; simulated counter staff call "
    "and serve the numbers. Wait until the kiosk is online in the central store and the web answers "
    "(20 s at most), print what runs, where printed certificates and receipts appear, the display "
    "board, a status page and how to look at it, and run until Ctrl-C (or --for). Stopping shuts "
    "the kiosk down cleanly first; a summary of what happened is printed at the end."
)


def build_parser() -> argparse.ArgumentParser:
    """The `madoguchi-demo` command line."""
    demo = argparse.ArgumentParser(
        prog="madoguchi-demo",
        description=DESCRIPTION,
        epilog="--json prints one JSON object per line: {event: ready, ...} then {event: stopped, ...}.",
    )
    demo.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    demo.add_argument(
        "--headless", action="store_true", help="autopilot residents even when a display is available"
    )
    demo.add_argument(
        "--residents",
        type=int,
        default=50,
        help="autopilot: how many certificate + register pairs (default 50; a visit number with every 4th)",
    )
    demo.add_argument("--screenshots", type=Path, help="autopilot: save a PNG of every screen here")
    demo.add_argument(
        "--link-only", action="store_true", help="the kiosk runs only its fleet link (no app, no residents)"
    )
    demo.add_argument(
        "--for", dest="duration", type=float, metavar="SECONDS", help="stop by itself after SECONDS"
    )
    demo.add_argument(
        "--data-dir", type=Path, help="keep data and logs here (default: a temporary folder, removed)"
    )
    add_json_flag(demo)
    demo.set_defaults(func=_demo)
    return demo


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `madoguchi-demo` console script."""
    return run_main(build_parser(), argv)


def _line(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _ready_info(stack: DemoStack, online_after: float) -> dict[str, Any]:
    b = stack.broker
    return {
        "event": "ready",
        "device_id": stack.device_id,
        "online_after_s": round(online_after, 2),
        "broker_url": b.url,
        "data_dir": str(stack.data_dir),
        "store_url": stack.store_url,
        "web_url": stack.web_url,
        "board_url": stack.queue.board_url,
        "status_url": stack.queue.status_url,
        "accounts": [
            {"user": user, "role": role, "password": pw} for role, (user, pw) in stack.accounts.items()
        ],
        "processes": [{"name": "mosquitto", "pid": b.pid, "command": ["mosquitto", "-c", str(b.config_path)]}]
        + [
            {"name": c.name, "pid": c.process.pid, "command": c.command, "log": str(c.log_path)}
            for c in stack.children
        ],
        "printed": {
            "certificates": str(stack.kiosk_dir / "printed" / "a4"),
            "receipts": str(stack.kiosk_dir / "printed" / "receipts"),
        },
        "kiosk_mode": stack.kiosk_mode,
        "look": {
            "fleet": f"{' '.join(console_script('kiosk-central'))} fleet --store {stack.store_url} --json",
            "mqtt": f"mosquitto_sub -h 127.0.0.1 -p {b.port} -t 'kiosk/v1/#' -v",
        },
    }


def _print_ready(info: dict[str, Any]) -> None:
    rows = [
        f"Madoguchi demo: kiosk {info['device_id']} online in the central store after {info['online_after_s']} s",
        "",
    ]
    rows.append("running:")
    for p in info["processes"]:
        rows.append(f"  {p['name']:<10} pid {p['pid']:<8} {' '.join(p['command'])}")
    rows += [
        "",
        f"broker    {info['broker_url']}  (loopback development listener)",
        f"data      {info['data_dir']}",
        f"store     {info['store_url']}",
        f"dashboard {info['web_url']}  (operators: fleet and KPIs; staff: register and counter pages)",
        f"board     {info['board_url']}",
        f"status    {info['status_url']}  (first ticket, from reception; kiosk tickets carry theirs in the QR)",
        f"queue     simulated staff work every counter; KPIs at {info['web_url']}queue/kpi (operators)",
        f"guide     {info['web_url']}guide  (residents' procedure guide, phone-sized, nine languages); "
        f"preview {info['web_url']}catalog/guide, KPIs {info['web_url']}kpi/guide (operators)",
        f"kiosk     {info['kiosk_mode']}",
        f"printed   certificates (PDF + PNG) in {info['printed']['certificates']}",
        f"          receipts, slips and visit tickets (PNG) in {info['printed']['receipts']}",
        *(f"          sign in as {a['user']} / {a['password']}  ({a['role']})" for a in info["accounts"]),
        "",
        "look at it (in another terminal):",
        f"  {info['look']['fleet']}",
        f"  {info['look']['mqtt']}",
        "",
        "Ctrl-C stops everything (the kiosk shuts down cleanly first).",
    ]
    print("\n".join(rows), flush=True)


def _demo(args: argparse.Namespace) -> int:
    keep = args.data_dir is not None
    data_dir = args.data_dir.absolute() if keep else Path(tempfile.mkdtemp(prefix="madoguchi-demo-"))
    if args.link_only:
        mode = "link"
    elif args.headless or not display_available():
        mode = "autopilot"
    else:
        mode = "window"
    stack = DemoStack(data_dir, kiosk_mode=mode, residents=args.residents, screenshots=args.screenshots)
    status = 0
    try:
        # Signals stay caught while stopping: a second SIGTERM (`timeout make demo`) must not cut the shutdown.
        with stop_on_signals() as stop:
            try:
                online_after = stack.start(online_timeout=20.0)
                info = _ready_info(stack, online_after)
                _line(info) if args.json else _print_ready(info)
                deadline = None if args.duration is None else time.monotonic() + args.duration
                while not stop.wait(0.5):
                    stack.check_children()
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                if not args.json:
                    print("stopping: kiosk, central, broker …", flush=True)
                summary = demo_summary(stack.store_url, stack.central.issuance_db, stack.kiosk_dir)
            finally:
                record = stack.stop()
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    final = {
        "event": "stopped",
        "device_id": stack.device_id,
        "kiosk_mode": mode,
        "kiosk_status": record.status.value if record else "unknown",
        "offline_reason": record.offline_reason if record else None,
        "data_dir": str(data_dir) if keep else None,
        **summary,
    }
    if args.json:
        _line(final)
    else:
        kept = (
            f"data kept in {data_dir}" if keep else "temporary data removed (use --data-dir DIR to keep it)"
        )
        reason = f" ({final['offline_reason']})" if final["offline_reason"] else ""
        certs, pay = summary["certificates"], summary["payments"]
        print(
            f"sessions completed {summary['sessions_completed']}, certificates issued {certs['issued']} "
            f"(printed {certs['printed_files']}, QR verified {certs['verified']}), payments approved "
            f"{pay['approved']} ({pay['amount_yen']:,} yen), statistics ingested {summary['statistics_ingested']}"
        )
        queue = summary["queue"]
        print(
            f"visit numbers issued {queue['issued']}, called {queue['called']}, "
            f"served {queue['done']} (visits finished {queue['finished']})"
        )
        print(f"stopped; the store shows the kiosk {final['kiosk_status']}{reason}; {kept}")
    return status
