"""Enrolment and renewal decisions, independent of HTTP: token checks, clock check, CSR signing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from central_broker.enrolment.branch_config import BranchDefaults, kiosk_toml
from central_broker.enrolment.tokens import EnrolmentRefused, TokenRecord, TokenStore
from central_broker.pki import IssuedCertificate, Pki
from central_broker.pki.x509 import common_name, pem
from madoguchi.enrolment import MIN_PLAUSIBLE_YEAR, EnrolRequest, EnrolResponse, RefusalCode, RenewRequest
from madoguchi.errors import UserError

__all__ = ["MAX_CLOCK_SKEW_S", "EnrolmentService"]

_logger = logging.getLogger(__name__)

MAX_CLOCK_SKEW_S = 600
_MIN_PLAUSIBLE_EPOCH = 1735689600  # 2025-01-01T00:00:00Z
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: beyond this a "time" is garbage, not a wrong clock
assert time.gmtime(_MIN_PLAUSIBLE_EPOCH).tm_year == MIN_PLAUSIBLE_YEAR


class EnrolmentService:
    """Signs device CSRs for valid tokens (enrol) or for current device certificates (renew)."""

    def __init__(
        self,
        pki: Pki,
        tokens: TokenStore,
        defaults: BranchDefaults,
        clock: Callable[[], float] = time.time,
        fleet_roots: dict[str, Ed25519PublicKey] | None = None,
    ) -> None:
        self.pki = pki
        self.tokens = tokens
        self.defaults = defaults
        self.clock = clock
        self.fleet_roots = dict(fleet_roots or {})

    def enrol(self, request: EnrolRequest) -> EnrolResponse:
        """First enrolment with a one-time token or pairing code.

        Raises:
            EnrolmentRefused: clock not set, bad CSR, or a token that is unknown, used, expired or
                bound to another device. The token stays unused unless a certificate is returned.
        """
        now = self.clock()
        self._check_clock(request.device_time, now)
        if (request.token is None) == (request.pairing_code is None):
            raise EnrolmentRefused(RefusalCode.BAD_REQUEST, "send exactly one of token or pairing_code")
        self._check_fleet_root(request.fleet_root_ids)
        csr = self._csr(request.csr_pem, request.device_id)
        secret = request.token or request.pairing_code or ""

        def issue(record: TokenRecord) -> tuple[IssuedCertificate, str]:
            return self._sign(csr, request.device_id), record.branch

        issued, branch = self.tokens.redeem(
            secret, request.pairing_code is not None, request.device_id, now, issue
        )
        _logger.info("enrolled %s (branch %s)", request.device_id, branch)
        config = kiosk_toml(request.device_id, branch, request.data_dir, self.defaults)
        roots = [
            key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
            for key in self.fleet_roots.values()
        ]
        return self._response(request.device_id, issued, branch, config).model_copy(
            update={"fleet_root_keys": roots}
        )

    def _check_fleet_root(self, trusted: list[str]) -> None:
        """Refuse (before the token is spent) a device that trusts fleet roots this central does not sign under."""
        if not trusted or not self.fleet_roots or set(trusted) & set(self.fleet_roots):
            return
        raise EnrolmentRefused(
            RefusalCode.FLEET_ROOT_MISMATCH,
            f"this kiosk trusts the fleet signing root {', '.join(sorted(trusted))}; this central signs under"
            f" {', '.join(sorted(self.fleet_roots))}",
            "enrol it with the central its image (KIOSK_FLEET_ROOT_KEYS) and enrol.json were made for, or build"
            " the image with this central's <signing dir>/root.pub; the token is still unused",
        )

    def renew(self, client_cert_pem: str | None, request: RenewRequest) -> EnrolResponse:
        """Renewal: the TLS client certificate (already chain-verified by TLS) must be a current device cert."""
        self._check_clock(request.device_time, self.clock())
        device_id = self.device_of(client_cert_pem, "renewal")
        csr = self._csr(request.csr_pem, device_id)
        _logger.info("renewing the certificate of %s", device_id)
        return self._response(device_id, self._sign(csr, device_id), "", "")

    def device_of(self, client_cert_pem: str | None, purpose: str) -> str:
        """The device id of a current (not revoked, not expired) device certificate presented over TLS.

        Raises:
            EnrolmentRefused: no client certificate, or not a current device certificate.
        """
        if not client_cert_pem:
            raise EnrolmentRefused(
                RefusalCode.CERTIFICATE_REQUIRED,
                f"{purpose} needs the device's current certificate over mutual TLS",
                "connect with the device certificate and key; an expired device must enrol again",
            )
        try:
            return self.pki.verify_device(x509.load_pem_x509_certificate(client_cert_pem.encode()))
        except UserError as exc:
            raise EnrolmentRefused(RefusalCode.CERTIFICATE_REJECTED, exc.message, exc.hint) from None

    def _sign(self, csr: x509.CertificateSigningRequest, device_id: str) -> IssuedCertificate:
        try:
            return self.pki.issue_device(csr, device_id)
        except UserError as exc:
            raise EnrolmentRefused(RefusalCode.BAD_REQUEST, exc.message, exc.hint) from None

    @staticmethod
    def _check_clock(device_time: int, now: float) -> None:
        if not 0 <= device_time <= _MAX_EPOCH:
            raise EnrolmentRefused(
                RefusalCode.BAD_REQUEST,
                f"device_time must be whole seconds since 1970-01-01 UTC between 0 and {_MAX_EPOCH}",
                "send the device clock as integer epoch seconds (e.g. int(time.time())); update the kiosk software",
            )
        if device_time < _MIN_PLAUSIBLE_EPOCH or abs(device_time - now) > MAX_CLOCK_SKEW_S:
            shown = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(device_time))
            raise EnrolmentRefused(
                RefusalCode.CLOCK_NOT_SET,
                f"the device clock says {shown}, which is not the current time",
                "let the device synchronise its clock (NTP servers reachable?) and try again",
            )

    @staticmethod
    def _csr(csr_pem: str, device_id: str) -> x509.CertificateSigningRequest:
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError:
            raise EnrolmentRefused(
                RefusalCode.BAD_REQUEST, "the certificate request is not a PEM CSR"
            ) from None
        if common_name(csr.subject) != device_id:
            raise EnrolmentRefused(
                RefusalCode.BAD_REQUEST,
                f"the certificate request names {common_name(csr.subject)!r}, not {device_id!r}",
                "the CSR's CN must be the device id",
            )
        return csr

    def _response(self, device_id: str, issued: IssuedCertificate, branch: str, config: str) -> EnrolResponse:
        not_before = int(issued.cert.not_valid_before_utc.timestamp())
        not_after = int(issued.cert.not_valid_after_utc.timestamp())
        return EnrolResponse(
            device_id=device_id,
            cert_pem=pem(issued.cert).decode(),
            chain_pem=b"".join(pem(c) for c in issued.chain[:-1]).decode(),
            root_pem=pem(issued.chain[-1]).decode(),
            not_after=not_after,
            renew_after=not_before + (not_after - not_before) * 2 // 3,
            branch=branch,
            config_toml=config,
        )
