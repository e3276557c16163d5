"""Benchmark: one full JPKI authentication (kind, certificate, tries, VERIFY, sign).

Prints APDU count, bytes each way and milliseconds, over pcscd + vpcd (a private pcscd started
here) and in-process, with short and extended APDUs. Time spent inside the emulated card is
measured separately (RSA signing on its own), so "host overhead" = total - card time.
Targets: <= 14 APDUs short, <= 8 extended; host overhead <= 50 ms per authentication.

    .venv/bin/python benchmarks/card_auth.py [--rounds 20] [--skip-pcsc]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from device_drivers.card.channel import Transport
from device_drivers.card.emulator.card import EmulatedCard
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.emulator.transport import EmulatedTransport
from device_drivers.card.pin import Pin
from device_drivers.card.session import CardSession


@dataclass
class TimedCard:
    """Wraps an EmulatedCard and accumulates the time it spends (and the RSA part)."""

    card: EmulatedCard
    card_s: float = 0.0
    rsa_s: float = 0.0
    atr: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.atr = self.card.atr
        self.persona = self.card.persona

    def power_off(self) -> None:
        self.card.power_off()

    def power_on(self) -> None:
        self.card.power_on()

    def reset(self) -> None:
        self.card.reset()

    def process(self, apdu: bytes) -> bytes:
        started = time.perf_counter()
        answer = self.card.process(apdu)
        spent = time.perf_counter() - started
        self.card_s += spent
        if len(apdu) > 1 and apdu[1] == 0x2A:
            self.rsa_s += spent
        return answer


@dataclass
class Row:
    path: str
    mode: str
    apdus: int
    bytes_out: int
    bytes_in: int
    total_ms: float
    card_ms: float
    rsa_ms: float

    @property
    def overhead_ms(self) -> float:
        return self.total_ms - self.card_ms


def _measure(
    path: str, mode: str, timed: TimedCard, open_transport: Callable[[], Transport], rounds: int
) -> Row:
    totals, cards, rsas = [], [], []
    stats = None
    for i in range(rounds + 1):
        timed.card_s = timed.rsa_s = 0.0
        started = time.perf_counter()
        with CardSession(open_transport()) as session:
            session.authenticate(Pin.from_digits("1234"), f"nonce-{i}".encode())
            stats = session.stats
        if i == 0:
            continue  # warm-up
        totals.append(time.perf_counter() - started)
        cards.append(timed.card_s)
        rsas.append(timed.rsa_s)
    assert stats is not None
    return Row(
        path,
        mode,
        stats.apdus,
        stats.bytes_out,
        stats.bytes_in,
        statistics.median(totals) * 1000,
        statistics.median(cards) * 1000,
        statistics.median(rsas) * 1000,
    )


def _in_process(ca: JpkiTestCa, rounds: int) -> list[Row]:
    persona = persona_by_name("valid-adult")
    rows = []
    for extended in (False, True):
        timed = TimedCard(EmulatedCard(persona, ca.material(persona)))

        def transport(timed: TimedCard = timed, extended: bool = extended) -> Transport:
            return EmulatedTransport(timed, extended_length=extended)  # type: ignore[arg-type]

        rows.append(_measure("in-process", "extended" if extended else "short", timed, transport, rounds))
    return rows


def _pcsc(ca: JpkiTestCa, rounds: int) -> list[Row]:
    from device_drivers.card.emulator.pcscd import PrivatePcscd, can_unshare, free_port_pair, wait_card_state
    from device_drivers.card.emulator.vpcd import VpcdLink
    from device_drivers.card.pcsc import PcscTransport

    workdir = Path(tempfile.mkdtemp(prefix="card-bench-"))
    daemon = PrivatePcscd(workdir, free_port_pair(), private=can_unshare())
    os.environ.update(daemon.client_env())
    persona = persona_by_name("valid-adult")
    timed = TimedCard(EmulatedCard(persona, ca.material(persona)))
    link = VpcdLink(timed, "127.0.0.1", daemon.port)
    rows = []
    try:
        daemon.start()
        link.insert()
        wait_card_state(daemon.reader, present=True)
        for extended in (False, True):
            mode = "extended" if extended else "short"

            def transport(extended: bool = extended) -> Transport:
                return PcscTransport(daemon.reader, extended_length=extended).open()

            rows.append(_measure("pcscd+vpcd", mode, timed, transport, rounds))
    finally:
        link.remove()
        daemon.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="authentications per configuration")
    parser.add_argument("--skip-pcsc", action="store_true", help="only the in-process transport")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        ca = JpkiTestCa(Path(data))
        cert_len = len(ca.material(persona_by_name("valid-adult")).auth_cert)
        rows = _in_process(ca, args.rounds)
        if not args.skip_pcsc:
            rows += _pcsc(ca, args.rounds)
    print(f"full JPKI authentication, auth certificate {cert_len} bytes, median of {args.rounds} rounds")
    print("(each round: connect, SELECT, token, certificate, tries, VERIFY, SELECT key, SIGN, reset)")
    head = f"{'path':<12} {'mode':<9} {'APDUs':>5} {'out B':>6} {'in B':>6} {'total ms':>9}"
    print(head + f" {'card ms':>8} {'RSA ms':>7} {'host ms':>8}")
    for r in rows:
        print(
            f"{r.path:<12} {r.mode:<9} {r.apdus:>5} {r.bytes_out:>6} {r.bytes_in:>6} {r.total_ms:>9.1f}"
            f" {r.card_ms:>8.1f} {r.rsa_ms:>7.1f} {r.overhead_ms:>8.1f}"
        )
    short_ok = all(r.apdus <= 14 for r in rows if r.mode == "short")
    ext_ok = all(r.apdus <= 8 for r in rows if r.mode == "extended")
    host_ok = all(r.overhead_ms <= 50 for r in rows)
    print(
        f"targets: short <= 14 APDUs {'met' if short_ok else 'MISSED'}; extended <= 8 {'met' if ext_ok else 'MISSED'};"
    )
    print(f"         host overhead <= 50 ms {'met' if host_ok else 'MISSED'}")


if __name__ == "__main__":
    main()
