"""Download a file named by hash over mutual TLS, bounded by the signed length and checked by hash.

App release bundles (`fetch_release`) and catalog bodies too large for MQTT (`fetch_by_hash`). The URL
comes from a signed `down/desired` document; the server must chain to the fleet root the kiosk pins,
and the kiosk presents its own device certificate (the centre serves these files to current device
certificates only). The file is streamed to `<sha256>.part`, never read past the signed length,
checked against the signed SHA-256, then renamed to `<sha256><suffix>`. A download cut off by the
network keeps its `.part` and the next attempt resumes it (HTTP Range); anything that is not what was
signed deletes it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import ReleaseRef

__all__ = ["FetchError", "fetch_by_hash", "fetch_release", "tls_context"]

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
        FetchError: network or server error, cut off, or (integrity) too long, wrong hash.
    """
    if not ref.url.startswith("https://"):
        raise FetchError(
            f"refusing to download from {ref.url!r}: releases come over https only", integrity=True
        )
    return fetch_by_hash(ref.url, ref.sha256, ref.length, folder / f"{ref.sha256}.tar", context, timeout_s)


def fetch_by_hash(
    url: str, sha256: str, length: int, target: Path, context: ssl.SSLContext, timeout_s: float = 60.0
) -> Path:
    """Fetch `url` into `target` (already there with that hash: no download), resuming a `.part` left.

    Raises:
        FetchError: network or server error, or cut off (the part is kept for the next attempt), or
            (integrity) not https, too long, wrong hash (the part is deleted).
    """
    if not url.startswith("https://"):
        raise FetchError(f"refusing to download from {url!r}: only https is allowed", integrity=True)
    if target.is_file() and _sha256(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f"{sha256}.part")
    try:
        _download(url, sha256, length, part, context, timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # the part does not fit what the server has: start over next time
            part.unlink(missing_ok=True)
        raise FetchError(f"the centre answered HTTP {exc.code} for {url}") from exc
    except (urllib.error.URLError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
        raise FetchError(f"download from {url} failed: {getattr(exc, 'reason', exc)}") from exc
    except FetchError as exc:
        if not exc.integrity:
            raise
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    return target


def _download(
    url: str, sha256: str, length: int, part: Path, context: ssl.SSLContext, timeout_s: float
) -> None:
    have = part.stat().st_size if part.is_file() else 0
    if have > length:
        part.unlink()
        have = 0
    headers = {"Range": f"bytes={have}-"} if 0 < have < length else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - https only (checked by the caller)
    with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:  # noqa: S310
        if headers and response.status != 206:  # the server sends the whole file: start over
            have = 0
        digest = hashlib.sha256()
        if have:
            with part.open("rb") as kept:
                for block in iter(lambda: kept.read(_BLOCK), b""):
                    digest.update(block)
        received = have
        with part.open("ab" if have else "wb") as out:
            while block := response.read(min(_BLOCK, length + 1 - received)):
                received += len(block)
                if received > length:
                    raise FetchError(f"the server sent more than the signed {length} bytes", integrity=True)
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    if received < length:  # cut off: the next attempt resumes from here
        raise FetchError(f"download cut off at {received} of {length} bytes")
    if digest.hexdigest() != sha256:
        raise FetchError(f"sha256 {digest.hexdigest()[:16]}… does not match the signed hash", integrity=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
