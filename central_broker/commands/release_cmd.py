"""`kiosk-central release keygen|build|sign|verify`: make signed app release bundles for `kiosk update apply`."""

from __future__ import annotations

import argparse
from pathlib import Path

from madoguchi.cli import add_json_flag, emit, group
from provisioning.updates import build_bundle, open_bundle, sign_bundle
from provisioning.updates.keys import generate_key, load_private_key, load_public_keys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `release` group."""
    sub = group(
        subparsers, "release", "build and sign app release bundles (wheels + Ed25519-signed manifest)"
    )
    keygen = sub.add_parser("keygen", help="create a release-signing key pair (KEY and KEY.pub)")
    keygen.add_argument("--out", type=Path, required=True, help="private key path, e.g. release-signing.key")
    add_json_flag(keygen)
    keygen.set_defaults(func=_keygen)

    build = sub.add_parser(
        "build", help="bundle a folder of wheels as release VERSION (signed when --key given)"
    )
    build.add_argument("--wheels", type=Path, required=True, help="folder with every wheel the app needs")
    build.add_argument(
        "--version", required=True, help="release version MAJOR.MINOR.PATCH, always increasing"
    )
    build.add_argument("--app", default="madoguchi", help="distribution to install (default madoguchi)")
    build.add_argument("--extras", default="kiosk", help="extras to install (default kiosk)")
    build.add_argument("--out", type=Path, required=True, help="bundle file to write (.tar)")
    build.add_argument("--key", type=Path, help="sign right away with this key")
    add_json_flag(build)
    build.set_defaults(func=_build)

    sign = sub.add_parser("sign", help="sign (or re-sign) a bundle's manifest")
    sign.add_argument("bundle", type=Path, help="bundle file")
    sign.add_argument("--key", type=Path, required=True, help="release-signing private key")
    add_json_flag(sign)
    sign.set_defaults(func=_sign)

    verify = sub.add_parser("verify", help="check a bundle's signature as a kiosk would")
    verify.add_argument("bundle", type=Path, help="bundle file")
    verify.add_argument("--keys", type=Path, required=True, help="public key file or folder of *.pub")
    add_json_flag(verify)
    verify.set_defaults(func=_verify)


def _keygen(args: argparse.Namespace) -> int:
    public = generate_key(args.out)
    emit({"key": str(args.out), "public": str(public)}, args.json,
         f"wrote {args.out} (keep it secret) and {public} (bake it into the image: /etc/madoguchi/release-keys/)")  # fmt: skip
    return 0


def _build(args: argparse.Namespace) -> int:
    manifest = build_bundle(args.wheels, args.version, args.out, args.app, args.extras)
    if args.key:
        sign_bundle(args.out, load_private_key(args.key))
    emit({"bundle": str(args.out), "signed": bool(args.key), **manifest.model_dump()}, args.json,
         f"wrote {args.out}: release {manifest.version}, {len(manifest.files)} wheels" + (", signed" if args.key else ""))  # fmt: skip
    return 0


def _sign(args: argparse.Namespace) -> int:
    manifest = sign_bundle(args.bundle, load_private_key(args.key))
    emit(
        {"bundle": str(args.bundle), "version": manifest.version},
        args.json,
        f"signed release {manifest.version}",
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    verified = open_bundle(args.bundle, load_public_keys(args.keys))
    emit(verified.manifest.model_dump(), args.json, f"valid signature: release {verified.manifest.version}")
    return 0
