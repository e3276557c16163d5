"""The kiosk wheelhouse: what to download for it, and proof that it installs offline on the kiosk.

Helpers of `provisioning/image/wheelhouse.sh`:

    python -m provisioning.updates.wheelhouse requirements --pyproject pyproject.toml --extra kiosk
    python -m provisioning.updates.wheelhouse platforms            # manylinux_2_41_aarch64 … linux_aarch64
    python -m provisioning.updates.wheelhouse check DIR --app madoguchi --version 0.1.0 --extra kiosk

`check` is what a kiosk would do, done on any machine: `pip install --dry-run --no-index --find-links DIR`
for CPython 3.13 on aarch64 (`--platform …`, `--only-binary=:all:`), then every wheel's tags against the
target (`provisioning.updates.targets`, as `kiosk-central release build` does) and every file against
SHA256SUMS. It runs no aarch64 code, so it proves resolution and tags, not that the code runs on a Pi.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from packaging.utils import parse_wheel_filename

from madoguchi.errors import UserError
from provisioning.updates.sums import SUMS_NAME, verify_sums
from provisioning.updates.targets import TargetPlatform, check_wheels

__all__ = ["WheelhouseReport", "check_wheelhouse", "kiosk_requirements", "offline_resolution"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WheelhouseReport:
    """A wheelhouse that passed `check_wheelhouse`: its wheels by kind and what pip resolved from it."""

    pure: tuple[str, ...]
    binary: tuple[str, ...]
    resolved: tuple[str, ...]
    unused: tuple[str, ...]


def kiosk_requirements(pyproject: Path, extras: Sequence[str]) -> list[str]:
    """The project's dependencies plus those of `extras`, as written in pyproject.toml."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read [project] from {pyproject}: {exc}", "run from the repository") from None
    requirements = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise UserError(
                f"{pyproject} has no extra {extra!r}", f"use one of {', '.join(sorted(optional))}"
            )
        requirements.extend(optional[extra])
    return requirements


def _pip_platform_args(target: TargetPlatform) -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", target.python]
    args += ["--abi", f"cp{target.python.replace('.', '')}"]
    for platform in target.platforms():
        args += ["--platform", platform]
    return args


def offline_resolution(
    wheelhouse: Path, requirement: str, target: TargetPlatform, python: str = sys.executable
) -> list[dict[str, object]]:
    """Resolve `requirement` from `wheelhouse` alone for the target, as the kiosk's pip would; return pip's report.

    Raises:
        UserError: with pip's error lines when something is missing or does not fit the target.
    """
    with tempfile.TemporaryDirectory(prefix="wheelhouse-check-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [
            python, "-m", "pip", "--isolated", "--disable-pip-version-check", "install", "--dry-run",
            "--ignore-installed", "--no-index", "--find-links", str(wheelhouse), "--target", str(Path(tmp) / "t"),
            *_pip_platform_args(target), "--report", str(report), "--quiet", requirement,
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            raise UserError(
                f"{requirement} does not install offline from {wheelhouse} on {target.describe()}: "
                + ("; ".join(errors) or done.stderr.strip()[-400:]),
                "a dependency has no wheel for the kiosk: add one (see docs/security.md, offline wheelhouse)",
            )
        install = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    return list(install)


def _wheel_path(item: dict[str, object]) -> Path:
    info = item.get("download_info")
    url = str(info.get("url", "")) if isinstance(info, dict) else ""
    return Path(unquote(urlparse(url).path))


def check_wheelhouse(
    wheelhouse: Path, app: str, version: str, extras: Sequence[str], target: TargetPlatform | None = None
) -> WheelhouseReport:
    """Refuse a wheelhouse that would not install `app[extras]==version` offline on the kiosk.

    Checks, in order: every file against SHA256SUMS (when present); every wheel's tags against the target
    and the app's own wheel at `version`; pip's offline resolution; that pip took every package from
    the wheelhouse.

    Raises:
        UserError: naming the first problem.
    """
    target = target or TargetPlatform()
    wheelhouse = wheelhouse.resolve()
    if (wheelhouse / SUMS_NAME).exists():
        verify_sums(wheelhouse / SUMS_NAME)
    wheels = sorted(p.name for p in wheelhouse.glob("*.whl"))
    check_wheels(wheels, app, version, target)
    pure: list[str] = []
    binary: list[str] = []
    for name in wheels:
        tags = parse_wheel_filename(name)[3]
        (pure if all(t.platform == "any" for t in tags) else binary).append(name)
    requirement = f"{app}[{','.join(extras)}]=={version}" if extras else f"{app}=={version}"
    resolved = []
    for item in offline_resolution(wheelhouse, requirement, target):
        path = _wheel_path(item)
        if path.parent != wheelhouse:
            raise UserError(f"pip took {path} from outside {wheelhouse}", "check the pip configuration")
        resolved.append(path.name)
    unused = sorted(set(wheels) - set(resolved))
    return WheelhouseReport(tuple(pure), tuple(binary), tuple(sorted(resolved)), tuple(unused))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m provisioning.updates.wheelhouse requirements|platforms|check`."""
    parser = argparse.ArgumentParser(prog="python -m provisioning.updates.wheelhouse")
    sub = parser.add_subparsers(dest="command", required=True)
    p_req = sub.add_parser("requirements", help="the dependencies to download, one per line")
    p_req.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    p_req.add_argument("--extra", action="append", default=[])
    p_plat = sub.add_parser("platforms", help="the platform tags the kiosk accepts, newest first")
    p_check = sub.add_parser("check", help="prove the wheelhouse installs offline on the kiosk")
    p_check.add_argument("wheelhouse", type=Path)
    p_check.add_argument("--app", default="madoguchi")
    p_check.add_argument("--version", required=True)
    p_check.add_argument("--extra", action="append", default=[])
    for sub_parser in (p_plat, p_check):
        sub_parser.add_argument("--target-python", default=TargetPlatform.python)
        sub_parser.add_argument("--target-platform", default=TargetPlatform.platform)
    args = parser.parse_args(argv)
    try:
        if args.command == "requirements":
            print("\n".join(kiosk_requirements(args.pyproject, args.extra)))
            return 0
        target = TargetPlatform(python=args.target_python, platform=args.target_platform)
        if args.command == "platforms":
            print("\n".join(target.platforms()))
            return 0
        report = check_wheelhouse(args.wheelhouse, args.app, args.version, args.extra, target)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"OK: {args.app}[{','.join(args.extra)}]=={args.version} installs offline on {target.describe()} "
        f"from {args.wheelhouse}: {len(report.resolved)} packages; {len(report.binary)} aarch64 wheels, "
        f"{len(report.pure)} pure"
    )
    for name in report.unused:
        print(f"note: {name} is not needed by the requirement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
