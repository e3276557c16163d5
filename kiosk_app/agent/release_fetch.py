"""Download an app release bundle over mutual TLS, bounded by the signed length and checked by hash.

The URL comes from a signed `down/desired` document; the server must chain to the fleet root the
kiosk pins, and the kiosk presents its own device certificate (the centre serves bundles to current
device certificates only). The bundle is streamed to `<sha256>.part`, never read past the signed
length, checked against the signed SHA-256, then renamed to `<sha256>.tar`.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import ReleaseRef

__all__ = ["FetchError", "fetch_release", "tls_context"]

_BLOCK = 1 << 16


class FetchError(Exception):
    """The bundle could not be fetched; `integrity` when what arrived is not what was signed."""

    def __init__(self, message: str, *, integrity: bool = False) -> None:
        super().__init__(message)
        self.integrity = integrity


def tls_context(broker: BrokerConfig) -> ssl.SSLContext:
    """Pinned fleet root and this kiosk's certificate, from the broker settings (the same identity)."""
    if broker.ca_file is None or broker.cert_file is None or broker.key_file is None:
        raise FetchError(
            "the kiosk has no TLS identity ([broker] ca_file, cert_file, key_file); enrol it first"
        )
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(broker.ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(broker.cert_file), str(broker.key_file))
    return context


def fetch_release(ref: ReleaseRef, folder: Path, context: ssl.SSLContext, timeout_s: float = 60.0) -> Path:
    """Fetch the bundle `ref` names into `folder`; return its path (already there: no download).

    Raises:
        FetchError: network or server error, or (integrity) too long, truncated, wrong hash.
    """
    if not ref.url.startswith("https://"):
        raise FetchError(
            f"refusing to download from {ref.url!r}: releases come over https only", integrity=True
        )
    target = folder / f"{ref.sha256}.tar"
    if target.is_file() and _sha256(target) == ref.sha256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{ref.sha256}.part"
    digest = hashlib.sha256()
    received = 0
    try:
        with (
            urllib.request.urlopen(ref.url, timeout=timeout_s, context=context) as response,  # noqa: S310 - https only
            part.open("wb") as out,
        ):
            while block := response.read(min(_BLOCK, ref.length + 1 - received)):
                received += len(block)
                if received > ref.length:
                    raise FetchError(
                        f"the server sent more than the signed {ref.length} bytes", integrity=True
                    )
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise FetchError(f"the centre answered HTTP {exc.code} for {ref.url}") from exc
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        part.unlink(missing_ok=True)
        raise FetchError(f"download from {ref.url} failed: {getattr(exc, 'reason', exc)}") from exc
    except FetchError:
        part.unlink(missing_ok=True)
        raise
    if received < ref.length:
        part.unlink(missing_ok=True)
        raise FetchError(f"download truncated: {received} of {ref.length} bytes", integrity=True)
    if digest.hexdigest() != ref.sha256:
        part.unlink(missing_ok=True)
        raise FetchError(f"sha256 {digest.hexdigest()[:16]}… does not match the signed hash", integrity=True)
    os.replace(part, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
