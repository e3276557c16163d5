"""Benchmark: bytes and milliseconds per queue ticket (render + encode) in raster and kanji mode,
and milliseconds per certificate PDF.

Run: .venv/bin/python benchmarks/print_ticket.py [--rounds N]

Targets on a developer x86_64 machine: ticket render+encode <= 80 ms; raster ticket <= 35 KB;
kanji-mode ticket <= 2 KB; certificate PDF <= 300 ms. Fonts are loaded once before timing (as a
running kiosk has them loaded); the first, cold call is reported separately.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device_drivers.printer import encode_kanji, encode_raster, profile_for
from device_drivers.printer.a4 import render_certificate
from device_drivers.printer.samples import sample_document
from madoguchi.certificates.models import CertificateKind
from madoguchi.certificates.samples import sample_certificate


def _time(fn: Callable[[], object], rounds: int) -> tuple[float, float, float, object]:
    start = time.perf_counter()
    result = fn()
    cold = (time.perf_counter() - start) * 1000
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return cold, statistics.median(samples), max(samples), result


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    raster_profile, kanji_profile = profile_for("tm-t20ii"), profile_for("tm-t20ii-j")

    print(f"{'case':<34} {'bytes':>8} {'cold ms':>9} {'median ms':>10} {'max ms':>8}  target")
    for lang in ("ja", "en"):
        for label, profile, encode, target in (
            ("raster", raster_profile, encode_raster, "<= 80 ms, <= 35 KB"),
            ("kanji", kanji_profile, encode_kanji, "<= 80 ms, <= 2 KB"),
        ):
            cold, median, worst, job = _time(
                lambda p=profile, e=encode, lg=lang: e(sample_document("ticket", lg), p), args.rounds
            )  # type: ignore[misc]
            size = len(job)  # type: ignore[arg-type]
            print(
                f"{'ticket ' + label + ' (' + lang + ')':<34} {size:>8} {cold:>9.1f} {median:>10.1f} {worst:>8.1f}  {target}"
            )
    receipt = _time(lambda: encode_raster(sample_document("receipt", "ja"), raster_profile), args.rounds)
    print(
        f"{'receipt raster (ja)':<34} {len(receipt[3]):>8} {receipt[0]:>9.1f} {receipt[1]:>10.1f} {receipt[2]:>8.1f}"
    )  # type: ignore[arg-type]

    key = Ed25519PrivateKey.generate()
    rounds = max(3, args.rounds // 4)
    for kind in CertificateKind:
        cert = sample_certificate(kind)
        cold, median, worst, rendered = _time(lambda c=cert: render_certificate(c, key), rounds)  # type: ignore[misc]
        size = len(rendered.pdf)  # type: ignore[attr-defined]
        print(
            f"{'certificate PDF ' + kind.value:<34} {size:>8} {cold:>9.1f} {median:>10.1f} {worst:>8.1f}  <= 300 ms"
        )


if __name__ == "__main__":
    main()
