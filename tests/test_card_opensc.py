"""OpenSC (Debian `opensc`) reads our emulated card through pcscd: independent proof that the
emulator behaves like a JPKI card other software accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import persona_by_name
from tests.fixtures.pcsc import InsertCard, PcscDaemon

pytestmark = [
    pytest.mark.pcsc,
    pytest.mark.skipif(
        shutil.which("pkcs15-tool") is None, reason="OpenSC is not installed (apt-get install opensc)"
    ),
]


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_opensc_identifies_the_card_as_jpki(insert_card: InsertCard, pcsc_daemon: PcscDaemon) -> None:
    """GIVEN valid-adult WHEN `opensc-tool -n` asks THEN OpenSC's jpki driver takes the card."""
    insert_card("valid-adult")
    assert "jpki" in _run("opensc-tool", "--reader", pcsc_daemon.reader, "-n").lower()


def test_pkcs15_tool_lists_and_reads_the_auth_certificate(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon, card_ca: JpkiTestCa
) -> None:
    """GIVEN valid-adult WHEN pkcs15-tool lists and reads certificate 01 THEN it is our auth certificate,
    byte for byte, and both PINs are listed with their tries."""
    insert_card("valid-adult")
    reader = ["--reader", pcsc_daemon.reader, "--no-cache"]
    listing = _run("pkcs15-tool", *reader, "--list-certificates")
    auth_entry = listing.split("X.509 Certificate [User Authentication Certificate]")[1].split("X.509")[0]
    assert re.search(r"Path\s+: 000a", auth_entry) and re.search(r"ID\s+: 01", auth_entry)
    assert "Digital Signature Certificate CA" in listing
    pem = _run("pkcs15-tool", *reader, "--read-certificate", "01")
    cert = x509.load_pem_x509_certificate(pem[pem.index("-----BEGIN") :].encode())
    expected = card_ca.material(persona_by_name("valid-adult")).auth_cert
    assert cert.public_bytes(Encoding.DER) == expected
    pins = _run("pkcs15-tool", *reader, "--list-pins")
    tries = re.findall(r"Tries left\s+: (\d+)", pins)
    assert tries == ["3", "5"], pins  # auth PIN, signature password
