"""Which wheels a kiosk can install: the target's platform tags, checked at `release build|verify|rollout start`.

The kiosks are Raspberry Pi OS Trixie images (aarch64, glibc 2.41) running CPython 3.13 by default. A wheel
belongs in a bundle when one of its tags is among the target's supported tags (`packaging.tags`), and every
bundle must carry the app itself (`<app>-<version>-*.whl`), or pip on the kiosk fails with nothing to install.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from madoguchi.errors import UserError

__all__ = ["DEFAULT_PLATFORM", "DEFAULT_PYTHON", "TargetPlatform", "check_wheels"]

DEFAULT_PYTHON = "3.13"
DEFAULT_PLATFORM = "manylinux_2_41_aarch64"


@dataclass(frozen=True)
class TargetPlatform:
    """The kiosk's interpreter and platform, e.g. CPython 3.13 on `manylinux_2_41_aarch64`."""

    python: str = DEFAULT_PYTHON
    platform: str = DEFAULT_PLATFORM

    def describe(self) -> str:
        """`cp313 manylinux_2_41_aarch64` for messages."""
        return f"cp{self.python.replace('.', '')} {self.platform}"

    def platforms(self) -> list[str]:
        """The platform tag and every older one it accepts (manylinux_2_X down to 2_17, its aliases, linux)."""
        name = self.platform
        if not name.startswith("manylinux_"):
            return [name]
        try:
            _, major, minor, arch = name.split("_", 3)
            glibc = (int(major), int(minor))
        except ValueError:
            raise UserError(
                f"--target-platform {name!r} is not a platform tag", "use e.g. manylinux_2_41_aarch64"
            ) from None
        tags = [f"manylinux_{glibc[0]}_{m}_{arch}" for m in range(glibc[1], 16, -1)]
        if glibc >= (2, 17):
            tags.append(f"manylinux2014_{arch}")
        return [*tags, f"linux_{arch}"]

    def tags(self) -> frozenset[Tag]:
        """Every tag a wheel may carry to install on the target."""
        try:
            version = tuple(int(p) for p in self.python.split("."))
        except ValueError:
            raise UserError(f"--target-python {self.python!r} is not a version", "use e.g. 3.13") from None
        if len(version) != 2 or version[0] != 3:
            raise UserError(f"--target-python {self.python!r} is not a Python 3 version", "use e.g. 3.13")
        platforms = self.platforms()
        interpreter = f"cp{version[0]}{version[1]}"
        return frozenset(
            [
                *cpython_tags(version, platforms=platforms),
                *compatible_tags(version, interpreter=interpreter, platforms=platforms),
            ]
        )


def check_wheels(names: Iterable[str], app: str, version: str, target: TargetPlatform) -> None:
    """Refuse wheels the target cannot install, and a bundle without `app` at exactly `version`.

    Raises:
        UserError: naming the first wheel that is not a wheel or does not fit, or the missing app.
    """
    supported = target.tags()
    wanted = canonicalize_name(app)
    app_versions: list[str] = []
    for name in names:
        try:
            dist, wheel_version, _build, tags = parse_wheel_filename(name)
        except (InvalidWheelFilename, InvalidVersion) as exc:
            raise UserError(
                f"{name} is not a valid wheel file name ({exc})", "rebuild it with pip wheel"
            ) from None
        if not tags & supported:
            shown = ", ".join(sorted(str(t) for t in tags))
            raise UserError(
                f"{name} cannot install on the kiosks ({target.describe()}): its tags are {shown}",
                "build the wheels for the kiosk (pip wheel on a Pi, or pip download --platform "
                f"{target.platform} --python-version {target.python} --only-binary=:all:), "
                "or set --target-platform/--target-python",
            )
        if dist == wanted:
            app_versions.append(str(wheel_version))
    if not app_versions:
        raise UserError(
            f"the bundle has no wheel of the app {app!r}: the kiosks would have nothing to install",
            f"add the app's wheel ({wanted}-{version}-*.whl), e.g. pip wheel -w DIR '.[kiosk]'",
        )
    if Version(version) not in {Version(v) for v in app_versions}:
        raise UserError(
            f"the bundle's {app} wheel is version {', '.join(app_versions)}, not the release version {version}",
            "build the app at the release version, or give --version the app's version",
        )
