"""`kiosk-central release keygen|build|sign|verify|rollout`: signed app release bundles, and their staged
rollout to the fleet through `down/desired` (kiosks download them over mutual TLS from `enrol-serve`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from central_broker.catalog_push import SigningKeys
from central_broker.commands.rollout_cmd import (
    add_stage_actions,
    add_stage_options,
    parse_percents,
    rollout_text,
    run_action,
)
from central_broker.releases import ReleaseFiles, ReleaseRollout
from central_broker.releases.rollout import parse_duration
from central_broker.rollout.staged import RolloutError
from central_broker.store import open_store
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.config.central import load_central_config
from madoguchi.errors import UserError
from provisioning.updates import build_bundle, open_bundle, sign_bundle
from provisioning.updates.bundle import check_manifest
from provisioning.updates.keys import generate_key, load_private_key, load_public_keys
from provisioning.updates.targets import DEFAULT_PLATFORM, DEFAULT_PYTHON, TargetPlatform

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
    _add_target_options(build)
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
    _add_target_options(verify)
    add_json_flag(verify)
    verify.set_defaults(func=_verify)
    _register_rollout(sub)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target-platform",
        default=DEFAULT_PLATFORM,
        help=f"platform tag of the kiosks; every wheel must install there (default {DEFAULT_PLATFORM})",
    )
    parser.add_argument(
        "--target-python",
        default=DEFAULT_PYTHON,
        help=f"CPython version of the kiosks, MAJOR.MINOR (default {DEFAULT_PYTHON})",
    )


def _target(args: argparse.Namespace) -> TargetPlatform:
    return TargetPlatform(python=args.target_python, platform=args.target_platform)


def _register_rollout(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rollout = group(
        sub, "rollout", "staged app release rollout: test kiosk, pilot city, then 10, 50 and 100 percent"
    )
    start = rollout.add_parser(
        "start",
        help="verify a signed bundle, store it for download, and send it to the first stage (the test kiosk)",
        description="Verify the bundle against the release keys kiosks trust, store it in <data_dir>/releases "
        "(served by `kiosk-central enrol-serve --data-dir` over mutual TLS), plan the stages over --devices "
        "(default: every kiosk the store knows) and publish the release in the first stage's down/desired.",
    )
    start.add_argument("bundle", type=Path, help="signed release bundle (.tar) from `release build --key`")
    start.add_argument(
        "--url", required=True, help="https:// address kiosks use for enrol-serve, e.g. https://central:8443"
    )
    start.add_argument(
        "--release-keys",
        type=Path,
        help="release public key(s) the kiosks trust (default <data_dir>/signing/release-keys)",
    )
    start.add_argument(
        "--devices", nargs="+", metavar="ID", help="target kiosks (default: every known kiosk)"
    )
    start.add_argument(
        "--test-device", metavar="ID", help="the test kiosk (default: the first in a stable order)"
    )
    add_stage_options(start)
    start.add_argument(
        "--stage-deadline",
        default="0",
        metavar="DURATION",
        help="kiosks still pending this long after their stage went out count as timed-out (= failed), "
        "e.g. 24h; the stage halts if failures and timeouts exceed --max-failure-rate, else it may be "
        "advanced (default 0: no deadline)",
    )
    start.add_argument(
        "--skip-offline",
        default="24h",
        metavar="DURATION",
        help="skip kiosks last seen longer ago than this (revoked kiosks are always skipped); skipped "
        "kiosks do not hold the stage and still update if they come back (default 24h, 0: never)",
    )
    _add_target_options(start)
    start.set_defaults(func=_rollout_start)
    add_stage_actions(rollout, start, _rollout_action)


def _release_rollout(args: argparse.Namespace) -> tuple[ReleaseRollout, Path]:
    config = load_central_config(args.config)
    data_dir = config.central.data_dir
    keys = SigningKeys(args.keys or config.signing_dir)
    files = ReleaseFiles(data_dir / "releases")
    return ReleaseRollout(
        open_store(config.central.store_url), config.broker_for("catalog"), keys, files
    ), data_dir


def _rollout_start(args: argparse.Namespace) -> int:
    rollout, data_dir = _release_rollout(args)
    percents = parse_percents(args.stages)
    try:
        deadline_s, offline_s = parse_duration(args.stage_deadline), parse_duration(args.skip_offline)
    except ValueError as exc:
        rollout.store.close()
        raise UserError(str(exc), "durations look like 24h, 90m or 2d") from None
    try:
        release_keys = load_public_keys(args.release_keys or data_dir / "signing" / "release-keys")
        devices = args.devices or [d.device_id for d in rollout.store.devices()]
        status = rollout.start(
            args.bundle, release_keys, args.url, devices, test_device=args.test_device,
            pilot_municipality=args.pilot, percents=percents, max_failure_rate=args.max_failure_rate,
            target=_target(args), stage_deadline_s=deadline_s, offline_skip_s=offline_s,
        )  # fmt: skip
    except RolloutError as exc:
        raise UserError(str(exc), "see `kiosk-central release rollout status`") from exc
    finally:
        rollout.store.close()
    emit(status.to_dict(), args.json, rollout_text(status))
    return 0


def _rollout_action(args: argparse.Namespace) -> int:
    return run_action(_release_rollout(args)[0], args, "kiosk-central release rollout status")


def _keygen(args: argparse.Namespace) -> int:
    public = generate_key(args.out)
    emit({"key": str(args.out), "public": str(public)}, args.json,
         f"wrote {args.out} (keep it secret) and {public} (bake it into the image: /etc/madoguchi/release-keys/)")  # fmt: skip
    return 0


def _build(args: argparse.Namespace) -> int:
    manifest = build_bundle(args.wheels, args.version, args.out, args.app, args.extras, _target(args))
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
    target = _target(args)
    check_manifest(verified.manifest, target)
    emit(verified.manifest.model_dump(), args.json,
         f"valid signature: release {verified.manifest.version}, every wheel installs on {target.describe()}")  # fmt: skip
    return 0
