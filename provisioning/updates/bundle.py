"""Signed release bundles: a tar of wheels plus a manifest signed with Ed25519 in a DSSE envelope.

Layout of `madoguchi-<version>.tar`::

    manifest.json          the manifest body (what `release sign` signs)
    manifest.dsse.json     DSSE envelope, payloadType application/vnd.madoguchi.release.v1+json
    wheels/<file>.whl      every wheel the manifest lists (name, sha256, length)
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from madoguchi.contracts.base import ContractError
from madoguchi.contracts.signed import Envelope, ManifestFile, PayloadType, sign, verify
from madoguchi.errors import UserError

if TYPE_CHECKING:
    from provisioning.updates.targets import TargetPlatform

__all__ = [
    "ReleaseManifest",
    "VerifiedBundle",
    "build_bundle",
    "check_bundle_wheels",
    "check_manifest",
    "extract_wheels",
    "open_bundle",
    "sign_bundle",
    "version_key",
]

VERSION_PATTERN = r"^\d{1,6}\.\d{1,6}\.\d{1,6}$"
_WHEEL_NAME = re.compile(r"^[A-Za-z0-9_.+-]+\.whl$")
MANIFEST = "manifest.json"
ENVELOPE = "manifest.dsse.json"


class ReleaseManifest(BaseModel):
    """What a release contains; `version` only ever goes up (contract §5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=VERSION_PATTERN)
    app: str = Field(default="madoguchi", pattern=r"^[A-Za-z0-9_.-]+$", description="distribution to install")
    extras: str = Field(default="", pattern=r"^[a-z0-9,_-]*$", description="extras to install, e.g. kiosk")
    created: int = Field(ge=0)
    min_os: str = ""
    files: list[ManifestFile] = Field(min_length=1)

    def requirement(self) -> str:
        """The pip requirement that installs exactly this release."""
        extras = f"[{self.extras}]" if self.extras else ""
        return f"{self.app}{extras}=={self.version}"


def version_key(version: str) -> tuple[int, ...]:
    """Comparable form of `MAJOR.MINOR.PATCH`."""
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose envelope verified against a trusted key."""

    path: Path
    manifest: ReleaseManifest


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def build_bundle(
    wheel_dir: Path,
    version: str,
    out: Path,
    app: str = "madoguchi",
    extras: str = "",
    target: TargetPlatform | None = None,
) -> ReleaseManifest:
    """Write an unsigned bundle of every wheel in `wheel_dir`; sign it with `sign_bundle`.

    Raises:
        UserError: no wheels, a bad version, a wheel the target kiosks cannot install, or no wheel of `app`.
    """
    wheels = sorted(wheel_dir.glob("*.whl"))
    if not wheels:
        raise UserError(f"no wheels in {wheel_dir}", "build them first: pip wheel -w DIR '.[kiosk]'")
    check_bundle_wheels([w.name for w in wheels], app, version, target)
    try:
        manifest = ReleaseManifest(
            version=version,
            app=app,
            extras=extras,
            created=int(time.time()),
            files=[
                ManifestFile(
                    name=w.name, sha256=hashlib.sha256(w.read_bytes()).hexdigest(), length=w.stat().st_size
                )
                for w in wheels
            ],
        )
    except ValidationError as exc:
        raise UserError(
            f"release {version!r} is not valid: {exc.errors()[0]['msg']}", "versions look like 1.4.2"
        ) from None
    with tarfile.open(out, "w") as tar:
        _add(tar, MANIFEST, manifest.model_dump_json(indent=2).encode())
        for wheel in wheels:
            tar.add(wheel, f"wheels/{wheel.name}")
    return manifest


def check_bundle_wheels(names: list[str], app: str, version: str, target: TargetPlatform | None) -> None:
    """Refuse wheels the target cannot install and a bundle without its app (see `targets.check_wheels`).

    `packaging` is imported here, not at module level: the kiosk opens bundles without it.
    """
    from provisioning.updates.targets import TargetPlatform, check_wheels

    check_wheels(names, app, version, target or TargetPlatform())


def check_manifest(manifest: ReleaseManifest, target: TargetPlatform | None = None) -> None:
    """`check_bundle_wheels` for a signed manifest (`release verify`, `release rollout start`)."""
    check_bundle_wheels([f.name for f in manifest.files], manifest.app, manifest.version, target)


def sign_bundle(bundle: Path, key: Ed25519PrivateKey) -> ReleaseManifest:
    """Sign the bundle's manifest.json and add (or replace) manifest.dsse.json."""
    with tarfile.open(bundle) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    body = members.get(MANIFEST)
    if body is None:
        raise UserError(f"{bundle} has no {MANIFEST}", "build it with `kiosk-central release build`")
    manifest = ReleaseManifest.model_validate_json(body)
    members[ENVELOPE] = sign(PayloadType.RELEASE, body, key).to_bytes()
    tmp = bundle.with_name(bundle.name + ".tmp")
    with tarfile.open(tmp, "w") as tar:
        for name in (MANIFEST, ENVELOPE, *sorted(n for n in members if n.startswith("wheels/"))):
            _add(tar, name, members[name])
    tmp.replace(bundle)
    return manifest


def open_bundle(bundle: Path, keys: dict[str, Ed25519PublicKey]) -> VerifiedBundle:
    """Verify type and signature of the envelope; return the signed manifest (not the unsigned copy)."""
    try:
        with tarfile.open(bundle) as tar:
            member = tar.getmember(ENVELOPE)
            handle = tar.extractfile(member)
            raw = handle.read() if handle else b""
    except FileNotFoundError:
        raise UserError(f"bundle {bundle} does not exist", "check the path") from None
    except KeyError:
        raise UserError(
            f"bundle {bundle} is not signed", "sign it with `kiosk-central release sign`"
        ) from None
    except tarfile.TarError as exc:
        raise UserError(f"bundle {bundle} is not a release tar ({exc})", "download it again") from None
    try:
        body = verify(Envelope.from_bytes(raw), PayloadType.RELEASE, keys)
        manifest = ReleaseManifest.model_validate_json(body)
    except ContractError as exc:
        raise UserError(
            f"bundle {bundle} is refused: {exc}",
            "install only bundles signed with a release key this kiosk trusts",
        ) from None
    except ValidationError as exc:
        raise UserError(
            f"bundle {bundle} has an invalid manifest ({exc.errors()[0]['msg']})", "rebuild it"
        ) from None
    return VerifiedBundle(bundle, manifest)


def extract_wheels(bundle: VerifiedBundle, dest: Path) -> None:
    """Extract exactly the listed wheels into `dest`, checking each length and sha256."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(bundle.path) as tar:
        for entry in bundle.manifest.files:
            if not _WHEEL_NAME.fullmatch(entry.name):
                raise UserError(
                    f"bundle lists a file that is not a wheel: {entry.name!r}", "rebuild the bundle"
                )
            try:
                member = tar.getmember(f"wheels/{entry.name}")
            except KeyError:
                raise UserError(f"bundle is missing {entry.name}", "download the bundle again") from None
            if not member.isfile() or member.size != entry.length:
                raise UserError(
                    f"{entry.name} in the bundle has the wrong length", "the bundle was tampered with"
                )
            handle = tar.extractfile(member)
            data = handle.read(entry.length + 1) if handle else b""
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                raise UserError(
                    f"{entry.name} in the bundle does not match its sha256", "the bundle was tampered with"
                )
            (dest / entry.name).write_bytes(data)
