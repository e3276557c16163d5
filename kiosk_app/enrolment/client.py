"""First-boot enrolment and certificate renewal against the central, over TLS pinned to the fleet root."""

from __future__ import annotations

import hashlib
import json
import logging
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ValidationError

from kiosk_app.enrolment.fleet_root import RootCheck
from kiosk_app.enrolment.identity import (
    EnrolmentState,
    IdentityPaths,
    check_issued,
    csr_pem,
    key_bytes,
    new_key,
)
from kiosk_app.enrolment.swap import NewFile, recover_identity, swap_identity
from madoguchi.enrolment import (
    ENROL_PATH,
    MIN_PLAUSIBLE_YEAR,
    RENEW_PATH,
    EnrolRequest,
    EnrolResponse,
    Refusal,
    RefusalCode,
    RenewRequest,
)
from madoguchi.errors import UserError

__all__ = [
    "EnrolmentError",
    "TokenFile",
    "absolute_data_dir",
    "enrol",
    "read_token_file",
    "renew",
    "wait_for_clock",
]

_logger = logging.getLogger(__name__)

Clock = Callable[[], float]
TIMEOUT_S = 30


class EnrolmentError(UserError):
    """The central refused (code set) or could not be reached (code None)."""

    def __init__(self, message: str, hint: str = "", code: RefusalCode | None = None) -> None:
        super().__init__(message, hint)
        self.code = code


@dataclass(frozen=True)
class TokenFile:
    """`bootfs/kiosk/enrol.json`, written by `kiosk-central enrol-token --out`."""

    device_id: str
    token: str
    central_url: str = ""
    ca_fingerprint: str = ""
    fleet_root_id: str = ""


def read_token_file(path: Path) -> TokenFile:
    """Read enrol.json with clear errors."""
    try:
        raw = json.loads(path.read_text())
        return TokenFile(
            **{
                k: raw[k]
                for k in ("device_id", "token", "central_url", "ca_fingerprint", "fleet_root_id")
                if k in raw
            }
        )
    except FileNotFoundError:
        raise UserError(
            f"token file {path} does not exist", "put enrol.json on the boot partition or use --pairing-code"
        ) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise UserError(
            f"token file {path} is not a valid enrol.json ({exc})",
            "write it again with `kiosk-central enrol-token --out`",
        ) from None


def wait_for_clock(
    timeout_s: float, clock: Clock = time.time, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Wait until the clock is plausibly set (NTP); refuse with a clear message after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.gmtime(clock()).tm_year < MIN_PLAUSIBLE_YEAR:
        if time.monotonic() >= deadline:
            shown = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(clock()))
            raise EnrolmentError(
                f"the clock is not set (it says {shown}); certificates cannot be checked with a wrong clock",
                "connect the kiosk to a network that reaches its NTP servers, wait for time sync, then retry",
                RefusalCode.CLOCK_NOT_SET,
            )
        sleep(1.0)


def _context(root: Path, client: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(root))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client:
        context.load_cert_chain(str(client[0]), str(client[1]))
    return context


def _post(url: str, body: BaseModel, context: ssl.SSLContext) -> EnrolResponse:
    if not url.startswith("https://"):
        raise UserError(
            f"central URL {url!r} is not https://", "use the https:// enrolment URL of the central"
        )
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body.model_dump_json().encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as answer:  # noqa: S310
            return EnrolResponse.model_validate_json(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            refusal = Refusal.model_validate_json(exc.read())
        except ValidationError:
            raise EnrolmentError(
                f"the central answered HTTP {exc.code}", "check the central URL and its logs"
            ) from None
        raise EnrolmentError(f"the central refused: {refusal.message}", refusal.hint, refusal.code) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            raise EnrolmentError(
                f"the central at {url} does not present a certificate from the pinned fleet root ({exc.reason.verify_message})",
                "check the URL; the root in this image must be the fleet's (--ca-file)",
            ) from None
        raise EnrolmentError(
            f"cannot reach the central at {url} ({exc.reason})", "check the network and the URL"
        ) from None
    except ValidationError:
        raise EnrolmentError(
            "the central's answer is not an enrolment response", "check the central URL"
        ) from None


def _pin(ca_file: Path, expected_fingerprint: str) -> x509.Certificate:
    try:
        root = x509.load_pem_x509_certificate(ca_file.read_bytes())
    except FileNotFoundError:
        raise UserError(
            f"the fleet root {ca_file} does not exist", "pass --ca-file with the root in the image"
        ) from None
    except ValueError:
        raise UserError(
            f"the fleet root {ca_file} is not a PEM certificate", "pass --ca-file with the root in the image"
        ) from None
    if expected_fingerprint:
        actual = hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest()
        if actual != expected_fingerprint.lower().replace(":", ""):
            raise UserError(
                f"the fleet root {ca_file} is not the one enrol.json was made for",
                "this card was prepared for another central; ask the operator for a matching image or token",
            )
    return root


def enrol(
    central_url: str,
    data_dir: Path,
    device_id: str,
    ca_file: Path,
    token: str | None = None,
    pairing_code: str | None = None,
    ca_fingerprint: str = "",
    owner: str | None = None,
    clock: Clock = time.time,
    clock_wait_s: float = 0,
    fleet_root_id: str = "",
) -> EnrolmentState:
    """Generate a key on the device, send the CSR with the token, store cert, chain, root and config, and
    the fleet signing root when the image brought none (`fleet_root_id`: the one enrol.json pins)."""
    data_dir = absolute_data_dir(data_dir)
    paths = IdentityPaths(data_dir)
    if recover_identity(paths.identity) and paths.cert.exists() and paths.state.exists():
        # A power cut after the centre's answer was committed: the enrolment is complete on disk, and the
        # (now used) token would only be refused. A deliberate re-enrolment never has a pending swap.
        state = EnrolmentState.load(paths.state)
        if state.device_id == device_id:
            _logger.info("enrolment of %s completed from its interrupted swap; nothing sent", device_id)
            return state
    root = _pin(ca_file, ca_fingerprint)
    roots = RootCheck(data_dir, fleet_root_id)
    wait_for_clock(clock_wait_s, clock)
    key = new_key()  # kept in memory until the centre answered: a refusal leaves the current identity alone
    request = EnrolRequest(
        device_id=device_id,
        token=token,
        pairing_code=pairing_code,
        csr_pem=csr_pem(key, device_id),
        device_time=int(clock()),
        data_dir=str(data_dir),
        fleet_root_ids=roots.trusted_ids(),
    )
    response = _post(central_url.rstrip("/") + ENROL_PATH, request, _context(ca_file))
    check_issued(response, key, device_id, root)
    state = EnrolmentState(device_id, central_url, response.branch, response.not_after, response.renew_after)
    files = [
        *_identity_files(paths, key, response, root, state),
        NewFile(paths.config, response.config_toml.encode()),
        *roots.files(response.fleet_root_keys),
    ]
    swap_identity(paths.identity, files, owner)
    _logger.info("enrolled as %s; certificate valid until %d", device_id, response.not_after)
    return state


def absolute_data_dir(data_dir: Path) -> Path:
    """`data_dir` as an absolute path (the centre writes it into kiosk.toml), or a clear error."""
    absolute = data_dir.expanduser().absolute()
    if any(c in str(absolute) for c in '\n"\\'):
        raise UserError(
            f"the data folder {str(absolute)!r} contains a newline, quote or backslash",
            "use a plain path such as /data",
        )
    return absolute


def renew(
    data_dir: Path, force: bool = False, owner: str | None = None, clock: Clock = time.time
) -> EnrolmentState | None:
    """Renew the certificate over mutual TLS once 2/3 of its lifetime passed (or `force`); None if not due."""
    paths = IdentityPaths(absolute_data_dir(data_dir))
    recover_identity(paths.identity)
    state = EnrolmentState.load(paths.state)
    now = clock()
    if not force and now < state.renew_after:
        return None
    if now >= state.not_after:
        raise EnrolmentError(
            f"the certificate of {state.device_id} expired; it cannot be renewed",
            "issue a new token (kiosk-central enrol-token) and run `kiosk enrol` again",
        )
    wait_for_clock(0, clock)
    key = new_key()
    request = RenewRequest(csr_pem=csr_pem(key, state.device_id), device_time=int(now))
    context = _context(paths.ca, (paths.chain, paths.key))
    response = _post(state.central_url.rstrip("/") + RENEW_PATH, request, context)
    root = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    check_issued(response, key, state.device_id, root)
    renewed = EnrolmentState(
        state.device_id, state.central_url, state.branch, response.not_after, response.renew_after
    )
    swap_identity(paths.identity, _identity_files(paths, key, response, root, renewed), owner)
    return renewed


def _identity_files(
    paths: IdentityPaths,
    key: ec.EllipticCurvePrivateKey,
    response: EnrolResponse,
    root: x509.Certificate,
    state: EnrolmentState,
) -> list[NewFile]:
    """Key, certificate, chain, root and state of one identity: replaced together by `swap_identity`."""
    return [
        NewFile(paths.key, key_bytes(key), 0o600),
        NewFile(paths.cert, response.cert_pem.encode()),
        NewFile(paths.chain, (response.cert_pem + response.chain_pem).encode()),
        NewFile(paths.ca, root.public_bytes(serialization.Encoding.PEM)),
        NewFile(paths.state, state.to_bytes()),
    ]
