"""`kiosk diag card`, `kiosk diag card auth` and `kiosk card-emulator` as a person runs them."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import persona_by_name
from kiosk_app.cli import main
from tests.fixtures.pcsc import InsertCard, PcscDaemon, wait_card_state

KIOSK = str(Path(sys.executable).parent / "kiosk")


def _kiosk(*args: str, stdin: str = "", env_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script (a real process, as staff would)."""
    env = dict(os.environ)
    if env_dir is not None:
        env["MADOGUCHI_CARD_EMULATOR_DIR"] = str(env_dir)
    return subprocess.run([KIOSK, *args], input=stdin, capture_output=True, text=True, timeout=60, env=env)


def _main(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """Run `kiosk ARGS` in-process with `stdin` (faster than a process; same parser and handlers)."""
    monkeypatch.setenv("MADOGUCHI_CARD_EMULATOR_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_diag_auth_with_emulated_card_returns_a_verifiable_signature(tmp_path: Path) -> None:
    """GIVEN the PIN on stdin WHEN the `kiosk diag card auth --emulate valid-adult --json` console
    script runs THEN the PEM certificate's key verifies the signature and 3 tries are left."""
    done = _kiosk(
        "diag", "card", "auth", "--emulate", "valid-adult", "--pin-stdin", "--challenge", "c0ffee", "--json",
        stdin="1234\n", env_dir=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    key = x509.load_pem_x509_certificate(out["certificate_pem"].encode()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(
        bytes.fromhex(out["signature_hex"]), bytes.fromhex("c0ffee"), padding.PKCS1v15(), hashes.SHA256()
    )
    assert out["tries_left"] == 3
    assert "1234" not in done.stderr


def test_diag_auth_wrong_pin_explains_in_japanese_and_english(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """GIVEN the one-try persona WHEN a wrong PIN is piped THEN exit 1 with the lock message (ja + en)."""
    code, out, _ = _main(
        monkeypatch, capsys, tmp_path,
        "diag", "card", "auth", "--emulate", "pin-one-try", "--pin-stdin", "--challenge", "00", stdin="9999\n",
    )  # fmt: skip
    assert code == 1
    assert "card.pin_blocked" in out and "窓口" in out and "counter" in out
    assert "9999" not in out


def test_diag_auth_refuses_a_pin_without_stdin_and_bad_challenge(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """GIVEN no --pin-stdin or a non-hex challenge THEN a clear error and exit 2; argv has no PIN option."""
    base = ("diag", "card", "auth", "--emulate", "valid-adult")
    code, _, err = _main(monkeypatch, capsys, tmp_path, *base, "--challenge", "00", stdin="1234\n")
    assert code == 2 and "stdin" in err
    code, _, err = _main(monkeypatch, capsys, tmp_path, *base, "--pin-stdin", "--challenge", "xyz")
    assert code == 2 and "not hex" in err
    with pytest.raises(SystemExit):
        main(["diag", "card", "auth", "--help"])
    helptext = capsys.readouterr().out
    assert "--pin-stdin" in helptext and "--pin " not in helptext and "--pin=" not in helptext


def test_diag_card_status_of_emulated_cards(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """GIVEN emulated cards WHEN `kiosk diag card --emulate P --json` THEN kind and tries are shown."""
    seen = {}
    for persona in ("pin-locked", "smartphone", "not-my-number"):
        code, out, _ = _main(monkeypatch, capsys, tmp_path, "diag", "card", "--emulate", persona, "--json")
        assert code == 0
        (report,) = json.loads(out)["readers"]
        seen[persona] = (report["card_kind"], report["auth_tries_left"])
    expected = {
        "pin-locked": ("my_number_card", 0),
        "smartphone": ("smartphone_jpki", 3),
        "not-my-number": ("other", None),
    }
    assert seen == expected


@pytest.mark.pcsc
def test_card_emulator_command_inserts_until_interrupted(pcsc_daemon: PcscDaemon, tmp_path: Path) -> None:
    """GIVEN `kiosk card-emulator --persona pin-one-try` on the second vpcd port WHEN `kiosk diag card
    --json` runs THEN it shows a My Number card with 1 try; Ctrl-C removes the card."""
    reader = pcsc_daemon.readers[1]
    env = dict(os.environ, MADOGUCHI_CARD_EMULATOR_DIR=str(tmp_path))
    argv = [KIOSK, "card-emulator", "--persona", "pin-one-try", "--vpcd-port", str(pcsc_daemon.port + 1)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_card_state(reader, present=True, timeout=20)
        done = _kiosk("diag", "card", "--json")
        assert done.returncode == 0, done.stderr
        readers = {r["reader"]: r for r in json.loads(done.stdout)["readers"]}
        assert readers[reader]["card_kind"] == "my_number_card"
        assert readers[reader]["auth_tries_left"] == 1
        assert readers[pcsc_daemon.readers[0]]["card_present"] is False
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        wait_card_state(reader, present=False)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "card removed" in (proc.stdout.read() if proc.stdout else "")


def test_card_emulator_lists_personas(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """GIVEN --list-personas WHEN run THEN every required persona is offered."""
    code, out, _ = _main(monkeypatch, capsys, tmp_path, "card-emulator", "--list-personas", "--json")
    assert code == 0
    names = {p["name"] for p in json.loads(out)}
    assert {"valid-adult", "pin-one-try", "pin-locked", "expired-cert", "revoked-cert", "under-15", "moved-out",
            "support-measures", "rare-kanji", "smartphone", "not-my-number"} <= names  # fmt: skip


@pytest.mark.pcsc
def test_diag_auth_uses_the_reader_and_json_given_before_the_sub_command(
    insert_card: InsertCard, pcsc_daemon: PcscDaemon, card_ca: JpkiTestCa
) -> None:
    """GIVEN another card in reader 00 00 and valid-adult in reader 00 01 WHEN staff run `kiosk diag card
    --reader '…00 01' --json auth --pin-stdin` THEN the card in 00 01 is authenticated (its certificate, 3
    tries) and the answer is JSON."""
    insert_card("not-my-number", slot=0)
    adult = insert_card("valid-adult", slot=1)
    done = _kiosk(
        "diag", "card", "--reader", pcsc_daemon.readers[1], "--json",
        "auth", "--pin-stdin", "--challenge", "c0ffee", stdin="1234\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    shown = x509.load_pem_x509_certificate(out["certificate_pem"].encode())
    assert shown.public_bytes(Encoding.DER) == card_ca.material(adult.card.persona).auth_cert
    assert out["tries_left"] == 3


@pytest.mark.pcsc
def test_card_emulator_keeps_its_keys_in_the_data_dir_given(pcsc_daemon: PcscDaemon, tmp_path: Path) -> None:
    """GIVEN `kiosk card-emulator --persona valid-adult --data-dir DIR` on the second vpcd port WHEN staff
    authenticate the inserted card through pcscd THEN it answers with keys kept in DIR (not in
    $MADOGUCHI_CARD_EMULATOR_DIR), and Ctrl-C removes it."""
    reader = pcsc_daemon.readers[1]
    data_dir, env_dir = tmp_path / "given", tmp_path / "from-env"
    env = dict(os.environ, MADOGUCHI_CARD_EMULATOR_DIR=str(env_dir))
    argv = [
        KIOSK, "card-emulator", "--persona", "valid-adult", "--data-dir", str(data_dir),
        "--vpcd-port", str(pcsc_daemon.port + 1),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        try:
            wait_card_state(reader, present=True, timeout=20)
        except TimeoutError:
            proc.kill()
            raise AssertionError(f"no card inserted: {proc.communicate()[1][-2000:]}") from None
        done = _kiosk("diag", "card", "auth", "--reader", reader, "--pin-stdin", "--challenge", "00", "--json",
                      stdin="1234\n")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        shown = x509.load_pem_x509_certificate(
            json.loads(done.stdout)["certificate_pem"].encode()
        ).public_key()
        kept = JpkiTestCa(data_dir).material(persona_by_name("valid-adult")).auth_key.public_key()
        assert isinstance(shown, rsa.RSAPublicKey) and shown.public_numbers() == kept.public_numbers()
        assert not env_dir.exists()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        wait_card_state(reader, present=False)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
