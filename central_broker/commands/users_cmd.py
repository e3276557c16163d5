"""`kiosk-central users add|list|unlock|branches`: local accounts of the central web (operator, staff, auditor).

The password is read from standard input (one line, when it is not a terminal) or asked twice at
a prompt: never from the command line, where other users and shell history would see it.

Staff work the queue counters of the branches assigned to them (`add --branch`, `branches --add/--remove`);
operators work every branch. Accounts made before branches existed have none: `list` flags such staff.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from central_broker.accounts import MIN_PASSWORD_LENGTH, Account, AccountStore, Role
from central_broker.store import FleetStore, open_store
from central_broker.web.context import time_text
from central_broker.web.setup import open_accounts
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.config.central import CentralConfig, load_central_config, local_central_config
from madoguchi.errors import UserError

__all__ = ["add_store_args", "config_from_args", "read_password", "register"]

_LOCAL_BROKER = "mqtt://127.0.0.1:1883"  # unused by these commands; the local config needs one


def add_store_args(parser: argparse.ArgumentParser) -> None:
    """`--config FILE` or `--data-dir DIR` (the local set-up of `kiosk-central serve --data-dir`)."""
    parser.add_argument("--config", type=Path, help="central TOML file")
    parser.add_argument("--data-dir", type=Path, help="data folder of a local set-up (its central.db)")


def config_from_args(args: argparse.Namespace) -> CentralConfig:
    """The central config from `--config` or `--data-dir`."""
    if (args.config is None) == (args.data_dir is None):
        raise UserError(
            "give exactly one of --config FILE or --data-dir DIR",
            "e.g. --config /etc/madoguchi/central.toml",
        )
    if args.config is not None:
        return load_central_config(args.config)
    return local_central_config(args.data_dir, _LOCAL_BROKER)


def read_password(stdin_is_tty: bool | None = None) -> str:
    """The new password: one line from a pipe, or typed twice at a prompt."""
    tty = sys.stdin.isatty() if stdin_is_tty is None else stdin_is_tty
    if not tty:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserError(
                "no password on standard input", "pipe one line, or run in a terminal to be asked"
            )
        return password
    first = getpass.getpass(f"New password (at least {MIN_PASSWORD_LENGTH} characters): ")
    if getpass.getpass("Repeat it: ") != first:
        raise UserError("the two passwords differ", "run the command again")
    return first


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `users`."""
    users = group(subparsers, "users", "manage local accounts of the central web (operator, staff, auditor)")
    add = users.add_parser(
        "add",
        help="create an account; the password comes from stdin or a prompt, never the command line",
        description="Create a web account. Pipe the password on stdin or type it at the prompt.",
    )
    add.add_argument("username", help="user name (lower-case letters, digits, . _ -)")
    add.add_argument("--role", required=True, choices=[r.value for r in Role], help="what the account may do")
    add.add_argument(
        "--branch",
        action="append",
        default=[],
        metavar="BRANCH",
        help="a branch whose counters the account works (as the kiosks report it; repeat for more)",
    )
    add_store_args(add)
    add_json_flag(add)
    add.set_defaults(func=_add)

    listing = users.add_parser("list", help="list accounts with role, last sign-in and lockout")
    add_store_args(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_list)

    unlock = users.add_parser("unlock", help="clear the lockout of an account after repeated wrong passwords")
    unlock.add_argument("username")
    add_store_args(unlock)
    unlock.set_defaults(func=_unlock)

    branches = users.add_parser(
        "branches",
        help="show or change the branches whose counters an account works (operators work every branch)",
        description="Without --add/--remove, show the account's branches.",
    )
    branches.add_argument("username")
    branches.add_argument("--add", action="append", default=[], metavar="BRANCH", help="repeat for more")
    branches.add_argument("--remove", action="append", default=[], metavar="BRANCH", help="repeat for more")
    add_store_args(branches)
    add_json_flag(branches)
    branches.set_defaults(func=_branches)


def _open(args: argparse.Namespace) -> tuple[FleetStore, AccountStore]:
    config = config_from_args(args)
    store = open_store(config.central.store_url, stale_after_s=config.fleet.stale_after_s)
    return store, open_accounts(store, config)


def _account_dict(account: Account) -> dict[str, object]:
    return {
        "username": account.username,
        "role": account.role.value,
        "created_at": account.created_at,
        "last_login": account.last_login,
        "locked_until": account.locked_until,
        "branches": list(account.branches),
    }


def _where(account: Account) -> str:
    """Where an account works counters, for the listing."""
    if account.role is Role.OPERATOR:
        return "every branch"
    if account.role is Role.STAFF and not account.branches:
        return f"NO BRANCH: kiosk-central users branches {account.username} --add BRANCH"
    return ", ".join(account.branches) or "-"


def _add(args: argparse.Namespace) -> int:
    password = read_password()
    store, accounts = _open(args)
    try:
        account = accounts.add_user(
            args.username, password, Role(args.role), actor="cli", branches=tuple(args.branch)
        )
    finally:
        store.close()
    emit(_account_dict(account), args.json, f"created {account.username} ({account.role.value})")
    return 0


def _list(args: argparse.Namespace) -> int:
    store, accounts = _open(args)
    try:
        found = accounts.users()
    finally:
        store.close()

    def table() -> str:
        if not found:
            return "no accounts yet; create one with `kiosk-central users add NAME --role operator`"
        return "\n".join(
            f"{a.username:<20}{a.role.value:<10}last sign-in {time_text(a.last_login)}"
            + (f"  locked until {time_text(a.locked_until)}" if a.locked_until else "")
            + f"  branches: {_where(a)}"
            for a in found
        )

    emit([_account_dict(a) for a in found], args.json, table)
    return 0


def _unlock(args: argparse.Namespace) -> int:
    store, accounts = _open(args)
    try:
        accounts.unlock(args.username, actor="cli")
    finally:
        store.close()
    print(f"unlocked {args.username}")
    return 0


def _branches(args: argparse.Namespace) -> int:
    store, accounts = _open(args)
    try:
        if args.add or args.remove:
            now = accounts.change_branches(
                args.username, add=tuple(args.add), remove=tuple(args.remove), actor="cli"
            )
        else:
            found = next((a for a in accounts.users() if a.username == args.username), None)
            if found is None:
                raise UserError(
                    f"there is no user {args.username!r}", "check the name with `kiosk-central users list`"
                )
            now = found.branches
    finally:
        store.close()
    text = f"{args.username} works at: {', '.join(now)}" if now else f"{args.username} works at no branch"
    emit({"username": args.username, "branches": list(now)}, args.json, text)
    return 0
