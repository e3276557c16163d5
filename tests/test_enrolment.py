"""Enrolment end to end: `kiosk-central enrol-serve` on a free loopback port, `kiosk enrol` as a device."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from central_broker.catalog_push.signing import SigningKeys, fleet_root_keys
from central_broker.enrolment import TokenStore
from kiosk_app.agent.trust import load_root_keys
from kiosk_app.enrolment import EnrolmentError, enrol
from kiosk_app.enrolment.fleet_root import fleet_root_folder
from kiosk_app.enrolment.identity import csr_pem, new_key
from kiosk_app.enrolment.pairing import PairingForm
from madoguchi.config.kiosk import load_kiosk_config
from madoguchi.enrolment import RENEW_PATH, RefusalCode, normalise_code
from provisioning.updates.keys import generate_key
from tests.provisioning_cli import command, wait_listening
from tests.tls_broker import TlsBroker, publish

DEVICE = "jp-131016-k03"


@dataclass(frozen=True)
class Central:
    url: str
    pki: Path
    data: Path

    @property
    def root(self) -> Path:
        return self.pki / "root" / "root.pem"

    @property
    def fleet_root(self) -> Path:
        """The fleet signing root's public key (`catalog keys`), which enrol-serve hands to kiosks."""
        return self.data / "signing" / "root.pub"

    def token(self, device: str, out: Path | None = None, expires: str = "7d") -> dict[str, str]:
        args = [
            "enrol-token",
            "--device",
            device,
            "--branch",
            "本庁舎",
            "--expires",
            expires,
            "--central",
            self.url,
        ]
        args += ["--data-dir", str(self.data), "--pki-dir", str(self.pki), "--json"]
        if out:
            args += ["--out", str(out)]
        answer: dict[str, str] = json.loads(central_cli(*args).stdout)
        return answer


def central_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command("kiosk-central", *args), capture_output=True, text=True, timeout=60, check=check
    )


def kiosk_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command("kiosk", *args), capture_output=True, text=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    """A PKI, an enrolment server certificate and `kiosk-central enrol-serve` on a free port."""
    base = tmp_path_factory.mktemp("central")
    pki, data = base / "pki", base / "data"
    central_cli("ca", "init", "--dir", str(pki))
    SigningKeys.init(data / "signing")  # `catalog keys`, in the default --signing-dir of enrol-token/serve
    central_cli(
        "ca", "issue-service", "enrol", "--host", "127.0.0.1", "--host", "localhost", "--dir", str(pki)
    )
    port = _free_port()
    proc = subprocess.Popen(
        [*command("kiosk-central"), "enrol-serve", "--port", str(port), "--pki-dir", str(pki), "--data-dir", str(data),
         "--broker-url", "mqtts://broker.test.invalid:8883"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_listening(proc, port, "enrol-serve")
        yield Central(f"https://127.0.0.1:{port}", pki, data)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def _enrol_with_file(
    central: Central, token_file: Path, data: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return kiosk_cli(
        "enrol",
        "--token-file",
        str(token_file),
        "--data-dir",
        str(data),
        "--ca-file",
        str(central.root),
        *extra,
    )


def test_device_enrols_with_its_token_file_and_gets_a_cert_chaining_to_the_root(
    central: Central, tmp_path: Path
) -> None:
    """GIVEN enrol.json from `enrol-token --out` WHEN the device runs `kiosk enrol` THEN it holds a cert for
    its own key with CN = device id that chains to the root, its branch config, and the token file is gone."""
    token_file = tmp_path / "bootfs" / "kiosk" / "enrol.json"
    central.token(DEVICE, token_file)
    data = tmp_path / "data"
    result = _enrol_with_file(central, token_file, data, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["device_id"] == DEVICE
    assert not token_file.exists(), "the token file must be erased after enrolment"
    identity = data / "identity"
    assert (identity / "key.pem").stat().st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificate((identity / "cert.pem").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == DEVICE
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(central.root), "-untrusted", str(central.pki / "device-ca" / "ca.pem"),
         "-purpose", "sslclient", str(identity / "cert.pem")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert (identity / "ca.pem").read_bytes() == central.root.read_bytes()
    config = load_kiosk_config(data / "config" / "kiosk.toml")  # also checks the TLS files it names exist
    assert (config.kiosk.device_id, config.kiosk.branch) == (DEVICE, "本庁舎")
    assert config.broker.url == "mqtts://broker.test.invalid:8883"
    assert config.broker.key_file == identity / "key.pem"
    assert config.broker.ca_file == identity / "ca.pem"


def test_reused_token_is_refused(central: Central, tmp_path: Path) -> None:
    """GIVEN a token already used WHEN a second device presents a copy THEN it is refused as used."""
    token_file = tmp_path / "enrol.json"
    central.token("jp-131016-k04", token_file)
    copy = tmp_path / "copy.json"
    copy.write_bytes(token_file.read_bytes())
    assert _enrol_with_file(central, token_file, tmp_path / "a").returncode == 0
    second = _enrol_with_file(central, copy, tmp_path / "b")
    assert second.returncode == 2
    assert "already used" in second.stderr
    assert "ask the operator for a new token" in second.stderr
    assert not (tmp_path / "b" / "identity" / "cert.pem").exists()


def test_expired_token_is_refused(central: Central, tmp_path: Path) -> None:
    """GIVEN a token that expired an hour ago WHEN the device presents it THEN it is refused as expired."""
    issued = TokenStore(central.data / "enrolment.db").issue(
        "jp-131016-k05", "本庁舎", 60, now=time.time() - 3600
    )
    token_file = tmp_path / "enrol.json"
    token_file.write_text(
        json.dumps({"device_id": "jp-131016-k05", "token": issued.token, "central_url": central.url})
    )
    result = _enrol_with_file(central, token_file, tmp_path / "d")
    assert result.returncode == 2
    assert "expired" in result.stderr
    assert token_file.exists(), "a refused token file is kept so the operator can see what was used"


def test_token_for_another_device_is_refused(central: Central, tmp_path: Path) -> None:
    """GIVEN a pairing code issued for k06 WHEN device k07 types it THEN it is refused, naming both devices."""
    code = central.token("jp-131016-k06")["pairing_code"]
    result = kiosk_cli(
        "enrol", "--pairing-code", code, "--device", "jp-131016-k07", "--central", central.url,
        "--data-dir", str(tmp_path / "d"), "--ca-file", str(central.root),
    )  # fmt: skip
    assert result.returncode == 2
    assert "is for device jp-131016-k06, not jp-131016-k07" in result.stderr
    # The right device can still use it (a refusal does not burn the token), typed sloppily.
    ok = kiosk_cli(
        "enrol", "--pairing-code", code.lower().replace("-", " "), "--device", "jp-131016-k06",
        "--central", central.url, "--data-dir", str(tmp_path / "d6"), "--ca-file", str(central.root),
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr


def test_device_with_unset_clock_refuses_before_sending_anything(central: Central, tmp_path: Path) -> None:
    """GIVEN a device whose clock says 1970 (no RTC, no NTP) WHEN it enrols THEN it refuses with a clock
    message, and the token is still usable once the clock is right."""
    token = central.token("jp-131016-k08")["token"]
    with pytest.raises(EnrolmentError) as caught:
        enrol(central.url, tmp_path / "d", "jp-131016-k08", central.root, token=token, clock=lambda: 86400.0)
    assert caught.value.code is RefusalCode.CLOCK_NOT_SET
    assert "clock is not set" in str(caught.value)
    state = enrol(central.url, tmp_path / "d", "jp-131016-k08", central.root, token=token)
    assert state.device_id == "jp-131016-k08"


def test_central_refuses_a_device_whose_clock_is_wrong(central: Central, tmp_path: Path) -> None:
    """GIVEN a device clock two days behind (plausible year, but wrong) WHEN it enrols THEN the central refuses."""
    token = central.token("jp-131016-k09")["token"]
    with pytest.raises(EnrolmentError) as caught:
        enrol(
            central.url,
            tmp_path / "d",
            "jp-131016-k09",
            central.root,
            token=token,
            clock=lambda: time.time() - 2 * 86400,
        )
    assert caught.value.code is RefusalCode.CLOCK_NOT_SET
    assert "not the current time" in str(caught.value)


def test_device_refuses_a_central_that_is_not_under_its_pinned_root(central: Central, tmp_path: Path) -> None:
    """GIVEN a device image pinning another fleet's root WHEN it enrols THEN TLS fails with a clear message."""
    other = tmp_path / "other-pki"
    central_cli("ca", "init", "--dir", str(other))
    token = central.token("jp-131016-k10")["token"]
    with pytest.raises(EnrolmentError) as caught:
        enrol(central.url, tmp_path / "d", "jp-131016-k10", other / "root" / "root.pem", token=token)
    assert "pinned fleet root" in str(caught.value)


def test_certificate_renews_over_mutual_tls_and_not_after_revocation(
    central: Central, tmp_path: Path
) -> None:
    """GIVEN an enrolled device WHEN it renews THEN it gets a new cert for a new key; without a client
    certificate renewal is refused; after `ca revoke` its renewal is refused."""
    device, data = "jp-131016-k11", tmp_path / "d"
    enrol(central.url, data, device, central.root, token=central.token(device)["token"])
    before = x509.load_pem_x509_certificate((data / "identity" / "cert.pem").read_bytes())
    key_before = (data / "identity" / "key.pem").read_bytes()
    not_due = kiosk_cli("renew", "--data-dir", str(data), "--json")
    assert not_due.returncode == 0 and json.loads(not_due.stdout)["renewed"] is False
    renewed = kiosk_cli("renew", "--data-dir", str(data), "--force", "--json")
    assert renewed.returncode == 0, renewed.stderr
    after = x509.load_pem_x509_certificate((data / "identity" / "cert.pem").read_bytes())
    assert after.serial_number != before.serial_number
    assert (data / "identity" / "key.pem").read_bytes() != key_before
    assert after.subject == before.subject

    context = ssl.create_default_context(cafile=str(central.root))
    body = json.dumps({"csr_pem": "x", "device_time": int(time.time())}).encode()
    request = urllib.request.Request(central.url + RENEW_PATH, body, {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert json.loads(anonymous.value.read())["code"] == "certificate-required"

    revoked = central_cli("ca", "revoke", device, "--dir", str(central.pki), "--json")
    assert len(json.loads(revoked.stdout)["revoked"]) == 2
    refused = kiosk_cli("renew", "--data-dir", str(data), "--force")
    assert refused.returncode == 2
    assert "revoked" in refused.stderr


@pytest.mark.mosquitto
def test_enrolled_identity_connects_to_the_fleet_broker(central: Central, tmp_path: Path) -> None:
    """GIVEN a device enrolled through the endpoint WHEN it connects to Mosquitto's device listener (cafile =
    device CA chain, CRL) with the files enrolment stored THEN the broker accepts it."""
    device, data = "jp-131016-k12", tmp_path / "d"
    enrol(central.url, data, device, central.root, token=central.token(device)["token"])
    broker_pki = tmp_path / "pki"
    shutil.copytree(central.pki, broker_pki)
    (broker_pki / "services" / "enrol").rename(
        broker_pki / "services" / "broker"
    )  # a server cert for 127.0.0.1
    broker = TlsBroker(broker_pki, tmp_path)
    broker.start()
    try:
        identity = data / "identity"
        result = publish(broker, identity / "ca.pem", identity / "chain.pem", identity / "key.pem")
    finally:
        broker.stop()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "jp-131016/k01", "--branch", "本庁舎"], "not allowed as a certificate name"),
        (
            ["--device", "jp-131016-k01", "--branch", "本庁舎", "--expires", "7 days"],
            "duration '7 days' is not understood",
        ),
        (["--device", "jp-131016-k01", "--branch", " "], "the branch name is empty"),
    ],
)
def test_enrol_token_refuses_bad_input_with_the_fix(args: list[str], message: str, tmp_path: Path) -> None:
    """GIVEN a device id with '/', a duration in words or an empty branch WHEN `enrol-token` runs THEN it exits 2
    naming the problem and the fix, and stores nothing."""
    result = central_cli("enrol-token", *args, "--data-dir", str(tmp_path), check=False)
    assert result.returncode == 2
    assert message in result.stderr and "fix:" in result.stderr
    assert TokenStore(tmp_path / "enrolment.db").tokens() == []


def test_token_is_stored_hashed_and_enrol_json_is_private(central: Central, tmp_path: Path) -> None:
    """GIVEN `enrol-token --out` WHEN the token table and the file are inspected THEN neither the token nor the
    pairing code is in the database, and enrol.json is readable by its owner only."""
    out = tmp_path / "enrol.json"
    issued = central.token("jp-131016-k13", out)
    db = b"".join(p.read_bytes() for p in central.data.glob("enrolment.db*"))
    assert issued["token"].encode() not in db
    assert issued["pairing_code"].replace("-", "").encode() not in db
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["ca_fingerprint"] == central_fingerprint(central)


def central_fingerprint(central: Central) -> str:
    return x509.load_pem_x509_certificate(central.root.read_bytes()).fingerprint(hashes.SHA256()).hex()


def test_renewal_with_a_service_certificate_is_refused(central: Central, tmp_path: Path) -> None:
    """GIVEN a certificate of the service CA (same root) WHEN used for mutual TLS renewal THEN the central refuses:
    only device-CA certificates may renew, so no service key can mint device identities."""
    svc = central.pki / "services" / "enrol"
    context = ssl.create_default_context(cafile=str(central.root))
    context.load_cert_chain(str(svc / "chain.pem"), str(svc / "key.pem"))
    key = new_key()
    body = json.dumps({"csr_pem": csr_pem(key, "enrol"), "device_time": int(time.time())}).encode()
    request = urllib.request.Request(central.url + RENEW_PATH, body, {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, context=context, timeout=10)
    answer = json.loads(refused.value.read())
    assert answer["code"] == "certificate-rejected"
    assert "not issued by the device CA" in answer["message"]


def test_card_prepared_for_another_fleet_root_is_refused_before_contacting_the_central(
    central: Central, tmp_path: Path
) -> None:
    """GIVEN enrol.json whose ca_fingerprint is not the image's pinned root WHEN enrolling THEN the device refuses
    and keeps the (unused) token file."""
    token_file = tmp_path / "enrol.json"
    central.token("jp-131016-k14", token_file)
    raw = json.loads(token_file.read_text())
    token_file.write_text(json.dumps({**raw, "ca_fingerprint": "00" * 32}))
    result = _enrol_with_file(central, token_file, tmp_path / "d")
    assert result.returncode == 2
    assert "is not the one enrol.json was made for" in result.stderr
    assert token_file.exists()
    assert TokenStore(central.data / "enrolment.db").tokens("jp-131016-k14")[0].used_at is None


def test_pairing_form_enrols_with_the_code_typed_on_the_keypad(central: Central, tmp_path: Path) -> None:
    """GIVEN a pairing code from `enrol-token` WHEN it is typed on the pairing screen's keypad (with a look-alike
    O for 0, separators ignored) and submitted THEN the kiosk is enrolled under the typed device id; a wrong code
    is refused with the centre's reason and the form is ready for another try."""
    issued = central.token("jp-131016-k21")
    data = tmp_path / "data"

    def pair(device_id: str, code: str) -> str:
        state = enrol(central.url, data, device_id, central.root, pairing_code=code)
        return f"{state.device_id} ({state.branch})"

    form = PairingForm(device_id="jp-131016-k21", enrol=pair)
    for char in "ZZZZZZZZZZ":
        form.press(char)
    assert form.submit()
    form.wait()
    assert form.outcome is not None and not form.outcome.ok
    assert "not known" in form.outcome.message and form.code == "" and form.active == "code"
    assert not (data / "identity" / "cert.pem").exists()

    for char in issued["pairing_code"].replace("0", "O") + "-U":
        form.press(char)  # 'U' is not in the alphabet and the code is full anyway
    assert form.code == normalise_code(issued["pairing_code"])
    assert form.submit()
    form.wait()
    assert form.outcome is not None and form.outcome.ok, form.outcome
    assert form.outcome.message == "jp-131016-k21 (本庁舎)"
    assert (data / "identity" / "cert.pem").is_file()
    incomplete = PairingForm(device_id="", enrol=pair)
    assert not incomplete.submit() and "not of the form" in (
        incomplete.outcome.message if incomplete.outcome else ""
    )


def test_kiosk_whose_image_has_no_fleet_root_gets_the_centrals_pinned_by_enrol_json(
    central: Central, tmp_path: Path
) -> None:
    """GIVEN an image built without KIOSK_FLEET_ROOT_KEYS and enrol.json from `enrol-token` WHEN the kiosk
    enrols THEN enrol.json names the central's fleet root, and the kiosk trusts exactly that key afterwards
    (where its fleet services look for it), so signed catalogs and releases are not refused."""
    token_file = tmp_path / "enrol.json"
    central.token("jp-131016-k31", token_file)
    (expected_id,) = fleet_root_keys(central.data / "signing")
    assert json.loads(token_file.read_text())["fleet_root_id"] == expected_id
    data = tmp_path / "data"
    result = _enrol_with_file(central, token_file, data)
    assert result.returncode == 0, result.stderr
    assert list(load_root_keys(fleet_root_folder(data))) == [expected_id]
    config = load_kiosk_config(data / "config" / "kiosk.toml")
    assert fleet_root_folder(data) == config.kiosk.data_dir / "trust" / "root"


def test_kiosk_whose_image_trusts_another_fleet_root_is_refused_before_its_token_is_spent(
    central: Central, tmp_path: Path
) -> None:
    """GIVEN a kiosk whose image brought another fleet's signing root WHEN it enrols with this central THEN the
    central refuses with the reason and the fix, nothing is written, and the token still works once the image's
    root is this central's."""
    token_file = tmp_path / "enrol.json"
    central.token("jp-131016-k32", token_file)
    raw = json.loads(token_file.read_text())
    token_file.write_text(json.dumps({k: v for k, v in raw.items() if k != "fleet_root_id"}))
    data = tmp_path / "data"
    foreign = fleet_root_folder(data)
    foreign.mkdir(parents=True)
    generate_key(tmp_path / "other-fleet" / "root.key")
    shutil.copyfile(tmp_path / "other-fleet" / "root.pub", foreign / "root.pub")
    result = _enrol_with_file(central, token_file, data)
    assert result.returncode == 2
    assert "this central signs under" in result.stderr and "token is still unused" in result.stderr
    assert not (data / "identity" / "cert.pem").exists()
    assert TokenStore(central.data / "enrolment.db").tokens("jp-131016-k32")[0].used_at is None

    shutil.copyfile(central.fleet_root, foreign / "root.pub")  # the right image
    result = _enrol_with_file(central, token_file, data)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["root.pub"], "the image's root is kept as it is"


def test_enrol_json_pinning_another_fleet_root_is_refused_before_its_token_is_spent(
    central: Central, tmp_path: Path
) -> None:
    """GIVEN enrol.json whose fleet_root_id is not the central's (a card made for another fleet) WHEN the kiosk
    without an image root enrols THEN it is refused, no root is installed and the token stays unused."""
    token_file = tmp_path / "enrol.json"
    central.token("jp-131016-k33", token_file)
    raw = json.loads(token_file.read_text())
    token_file.write_text(json.dumps({**raw, "fleet_root_id": "0123456789abcdef"}))
    data = tmp_path / "data"
    result = _enrol_with_file(central, token_file, data)
    assert result.returncode == 2 and "0123456789abcdef" in result.stderr
    assert load_root_keys(fleet_root_folder(data)) == {}
    assert TokenStore(central.data / "enrolment.db").tokens("jp-131016-k33")[0].used_at is None


def test_enrol_serve_refuses_a_signing_dir_without_a_root_key(tmp_path: Path) -> None:
    """GIVEN --signing-dir naming a folder without root.pub WHEN enrol-token runs THEN it says what to create."""
    result = central_cli("enrol-token", "--device", "jp-131016-k34", "--branch", "b", "--data-dir", str(tmp_path),
                         "--signing-dir", str(tmp_path / "nothing"), check=False)  # fmt: skip
    assert result.returncode == 2
    assert "no fleet root key" in result.stderr and "kiosk-central catalog keys --dir" in result.stderr
