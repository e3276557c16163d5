"""SHA256SUMS files and their detached Ed25519 signatures, for the kiosk image and the wheelhouse.

`write` produces the format of `sha256sum` (`<hex>  <name>`, names relative to the file's folder), so
`sha256sum -c SHA256SUMS` checks it anywhere. `sign` writes `SHA256SUMS.sig`: the raw 64-byte Ed25519
signature over the exact bytes of SHA256SUMS, made with a key from `kiosk-central release keygen`
(`provisioning.updates.keys`). A security office can check it without this project:

    openssl pkeyutl -verify -pubin -inkey image-2026.pub -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
    sha256sum -c SHA256SUMS

A raw signature over a SUMS file can never pass for a release or fleet document: those are DSSE envelopes
whose signed bytes start with `DSSEv1 `, while a SUMS file starts with hex digits.

    python -m provisioning.updates.sums write deploy/madoguchi-kiosk.img.xz deploy/madoguchi-kiosk.bmap
    python -m provisioning.updates.sums sign deploy/SHA256SUMS --key /secure/image-2026.key
    python -m provisioning.updates.sums verify deploy/SHA256SUMS --keys image-2026.pub
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature

from madoguchi.errors import UserError
from provisioning.updates.keys import load_private_key, load_public_keys

__all__ = ["SUMS_NAME", "SumsReport", "sign_sums", "verify_sums", "write_sums"]

_logger = logging.getLogger(__name__)

SUMS_NAME = "SHA256SUMS"
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")
_CHUNK = 1 << 20
_KEY_HINT = "create one with `kiosk-central release keygen --out /secure/image-2026.key`"


@dataclass(frozen=True)
class SumsReport:
    """What `verify_sums` found: the files that matched, and the key id of a good signature (if checked)."""

    files: tuple[str, ...]
    key_id: str | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_sums(files: Iterable[Path], out: Path | None = None) -> Path:
    """Write `SHA256SUMS` for `files` (all in one folder, the folder of `out`); return its path."""
    paths = sorted({Path(f).resolve() for f in files})
    if not paths:
        raise UserError("no files to checksum", "name the image (and .bmap) or the wheelhouse's files")
    target = (out or paths[0].parent / SUMS_NAME).resolve()
    lines = []
    for path in paths:
        if path.parent != target.parent:
            raise UserError(
                f"{path} is not in {target.parent}",
                "keep SHA256SUMS in the same folder as the files it lists",
            )
        if not path.is_file():
            raise UserError(f"{path} is not a file", "name regular files only")
        if path == target or path.name == f"{SUMS_NAME}.sig":
            continue
        lines.append(f"{_sha256(path)}  {path.name}\n")
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, target)
    _logger.info("wrote %s (%d files)", target, len(lines))
    return target


def sign_sums(sums: Path, key_path: Path) -> Path:
    """Sign the exact bytes of `sums` with an Ed25519 key; write `<sums>.sig` (64 raw bytes)."""
    key = load_private_key(key_path, hint=_KEY_HINT)
    signature = key.sign(sums.read_bytes())
    sig_path = sums.with_name(f"{sums.name}.sig")
    sig_path.write_bytes(signature)
    return sig_path


def _parse(sums: Path) -> list[tuple[str, str]]:
    entries = []
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        match = _LINE.match(line)
        if not match or "/" in match.group(2) or match.group(2) in {".", ".."}:
            raise UserError(f"{sums}:{number} is not a sha256sum line for a file in its folder", "rewrite it")
        entries.append((match.group(1), match.group(2)))
    if not entries:
        raise UserError(f"{sums} lists no files", "write it with `python -m provisioning.updates.sums write`")
    return entries


def verify_sums(sums: Path, keys: Path | None = None) -> SumsReport:
    """Check `<sums>.sig` against trusted keys (when given), then every listed file's SHA-256.

    Raises:
        UserError: naming a missing or bad signature, a missing file or the first hash mismatch.
    """
    if not sums.is_file():
        raise UserError(f"{sums} does not exist", "write it with `python -m provisioning.updates.sums write`")
    good_key: str | None = None
    if keys is not None:
        sig_path = sums.with_name(f"{sums.name}.sig")
        if not sig_path.is_file():
            raise UserError(f"{sig_path} does not exist", "sign SHA256SUMS with the image key")
        signature = sig_path.read_bytes()
        body = sums.read_bytes()
        for kid, public in load_public_keys(keys).items():
            try:
                public.verify(signature, body)
            except InvalidSignature:
                continue
            good_key = kid
            break
        if good_key is None:
            raise UserError(
                f"{sig_path} is not a valid signature of {sums.name} by a key in {keys}",
                "the file was changed after signing, or it was signed with another key: do not use it",
            )
    names = []
    for expected, name in _parse(sums):
        path = sums.parent / name
        if not path.is_file():
            raise UserError(f"{name} (listed in {sums.name}) is missing", "copy the complete set of files")
        if _sha256(path) != expected:
            raise UserError(
                f"{name} does not match its SHA-256 in {sums.name}",
                "download or copy it again; do not use it",
            )
        names.append(name)
    return SumsReport(files=tuple(names), key_id=good_key)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m provisioning.updates.sums write|sign|verify`."""
    parser = argparse.ArgumentParser(
        prog="python -m provisioning.updates.sums", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_write = sub.add_parser("write", help="write SHA256SUMS for files of one folder")
    p_write.add_argument("files", nargs="+", type=Path)
    p_write.add_argument("--out", type=Path, help="SHA256SUMS path (default: next to the files)")
    p_sign = sub.add_parser("sign", help="write SHA256SUMS.sig (Ed25519, raw 64 bytes)")
    p_sign.add_argument("sums", type=Path)
    p_sign.add_argument("--key", type=Path, required=True, help="Ed25519 private key (PEM)")
    p_verify = sub.add_parser("verify", help="check the signature (with --keys) and every file's hash")
    p_verify.add_argument("sums", type=Path)
    p_verify.add_argument("--keys", type=Path, help="trusted .pub file or folder of .pub files")
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            print(write_sums(args.files, args.out))
        elif args.command == "sign":
            print(sign_sums(args.sums, args.key))
        else:
            report = verify_sums(args.sums, args.keys)
            signed = f", signature by key {report.key_id}" if report.key_id else ", signature not checked"
            print(f"OK: {len(report.files)} files match {args.sums.name}{signed}")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
