"""Kiosk and central configuration files: good files load, bad ones name key, value and fix."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from madoguchi.config import (
    ConfigFileError,
    KioskConfig,
    Orientation,
    dump_toml,
    load_kiosk_config,
    simulated_kiosk_config,
)
from madoguchi.config.problems import ConfigProblem
from madoguchi.device_urls import DeviceKind
from madoguchi.errors import ConfigError

KIOSK_TOML = """\
[kiosk]
device_id = "jp-131016-k03"
branch = "本庁舎"
data_dir = "state"

[broker]
url = "mqtts://broker.city.example:8883"
ca_file = "tls/ca.pem"
cert_file = "tls/cert.pem"
key_file = "/ABS/tls/key.pem"
keepalive = 30

[devices]
card_reader = "pcsc://Virtual PCD 00 00"
receipt_printer = "escpos+usb://04b8:0202"
a4_printer = "cups://Kiosk_A4"
payment = "serial:///dev/kiosk/payment?baud=9600"
scanner = "serial:///dev/kiosk/scanner?baud=9600"

[ui]
language = "en"
orientation = "landscape"
idle_timeout_s = 90

[health]
interval_s = 30
"""


@pytest.fixture
def kiosk_dir(tmp_path: Path) -> Path:
    """A folder with the TLS files the good kiosk file names."""
    folder = tmp_path / "etc"
    (folder / "tls").mkdir(parents=True)
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (folder / "tls" / name).write_text("-----BEGIN CERTIFICATE-----\n")
    return folder


def write_kiosk(folder: Path, *edits: tuple[str, str]) -> Path:
    """Write the good kiosk file with each (old, new) text replaced; every `old` must occur."""
    text = KIOSK_TOML.replace("/ABS", str(folder))
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, *, check_files: bool = True) -> list[ConfigProblem]:
    with pytest.raises(ConfigFileError) as caught:
        load_kiosk_config(path, check_files=check_files)
    return list(caught.value.problems)


def test_good_kiosk_file_loads_with_relative_paths_against_its_folder(
    kiosk_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a valid file with relative paths WHEN loaded from another cwd THEN they resolve to its folder."""
    path = write_kiosk(kiosk_dir)
    monkeypatch.chdir(tmp_path)
    config = load_kiosk_config(path)
    assert config.device_id == "jp-131016-k03"
    assert config.municipality == "131016"
    assert config.kiosk.branch == "本庁舎"
    assert config.kiosk.data_dir == kiosk_dir / "state"
    assert config.broker.ca_file == kiosk_dir / "tls" / "ca.pem"
    assert config.broker.key_file == kiosk_dir / "tls" / "key.pem"
    assert (config.broker.host, config.broker.port, config.broker.tls) == ("broker.city.example", 8883, True)
    assert config.devices.url(DeviceKind.RECEIPT_PRINTER).usb_ids == (0x04B8, 0x0202)
    assert config.devices.url(DeviceKind.PAYMENT).int_param("baud", 0) == 9600
    assert config.devices.url(DeviceKind.CARD_READER).target == "Virtual PCD 00 00"
    assert config.ui.orientation is Orientation.LANDSCAPE
    assert config.ui.orientation.size == (1280, 800)
    assert (config.ui.language, config.ui.idle_timeout_s, config.health.interval_s) == ("en", 90, 30)


def test_optional_sections_take_their_defaults(kiosk_dir: Path) -> None:
    """GIVEN a file without [ui] and [health] WHEN loaded THEN Japanese, portrait, 60 s are used."""
    text = KIOSK_TOML.split("[ui]")[0].replace("/ABS", str(kiosk_dir))
    path = kiosk_dir / "short.toml"
    path.write_text(text, encoding="utf-8")
    config = load_kiosk_config(path)
    assert (config.ui.language, config.ui.orientation, config.health.interval_s) == ("ja", "portrait", 60)


def test_config_is_immutable(kiosk_dir: Path) -> None:
    config = load_kiosk_config(write_kiosk(kiosk_dir))
    with pytest.raises(ValueError, match="frozen"):
        config.kiosk.device_id = "jp-000000-k00"  # type: ignore[misc]


BAD_CASES = [
    pytest.param(
        ('branch = "本庁舎"\n', ""),
        "kiosk.branch",
        "(missing)",
        "required key",
        'add branch = "本庁舎" under [kiosk]',
        id="missing-key",
    ),
    pytest.param(
        (KIOSK_TOML[KIOSK_TOML.index("[devices]") : KIOSK_TOML.index("[ui]")], ""),
        "devices",
        "(missing)",
        "required section",
        "add a [devices] section with card_reader =",
        id="missing-section",
    ),
    pytest.param(
        ("keepalive = 30", 'keepalive = "30"'),
        "broker.keepalive",
        '"30"',
        "valid integer",
        "keepalive = 30",
        id="wrong-type",
    ),
    pytest.param(
        ("keepalive = 30", "keepalive = 1"),
        "broker.keepalive",
        "1",
        "greater than or equal to 5",
        "from 5 to 300",
        id="out-of-range",
    ),
    pytest.param(
        ('"jp-131016-k03"', '"Kiosk_3"'),
        "kiosk.device_id",
        '"Kiosk_3"',
        "not a valid device id",
        "jp-<6-digit municipality code>-kNN",
        id="bad-device-id",
    ),
    pytest.param(
        ('"JP-131016-K03"'.lower(), '"JP-131016-K03"'),
        "kiosk.device_id",
        '"JP-131016-K03"',
        "not a valid device id",
        "did you mean 'jp-131016-k03'",
        id="device-id-upper-case",
    ),
    pytest.param(
        ('"jp-131016-k03"', '"jp-131016-k03\\n"'),
        "kiosk.device_id",
        "jp-131016-k03",
        "not a valid device id",
        "did you mean 'jp-131016-k03'",
        id="device-id-trailing-newline",
    ),
    pytest.param(
        ('payment = "serial:', 'payment = "cups:'),
        "devices.payment",
        "cups:///dev/kiosk/payment",
        "scheme 'cups' cannot drive a payment",
        "serial:///dev/kiosk/payment?baud=9600",
        id="scheme-not-for-slot",
    ),
    pytest.param(
        ('"escpos+usb://04b8:0202"', '"escpos+usb://epson"'),
        "devices.receipt_printer",
        "escpos+usb://epson",
        "vendor:product in hex",
        "escpos+tcp://127.0.0.1:9100",
        id="malformed-device-url",
    ),
    pytest.param(
        ('cert_file = "tls/cert.pem"\n', ""),
        "broker.cert_file",
        "(missing)",
        "mqtts needs",
        'add cert_file = "/data/identity/cert.pem" under [broker]',
        id="mqtts-without-cert",
    ),
    pytest.param(
        ('"tls/ca.pem"', '"tls/nope.pem"'),
        "broker.ca_file",
        '"tls/nope.pem"',
        "file does not exist",
        "tls/nope.pem or correct the path (relative paths count from",
        id="tls-file-missing",
    ),
    pytest.param(
        ('"mqtts://broker.city.example:8883"', '"mqtt://broker.city.example"'),
        "broker.url",
        "mqtt://broker.city.example",
        "plaintext MQTT is only allowed on loopback",
        "use mqtts:// with the device certificate",
        id="plaintext-remote",
    ),
    pytest.param(
        ('"mqtts://broker.city.example:8883"', '"http://broker.city.example"'),
        "broker.url",
        "http://",
        "not an MQTT broker URL",
        "mqtts://broker.city.example:8883",
        id="not-mqtt",
    ),
    pytest.param(
        ('"mqtts://broker', '"mqtts://kiosk:secret@broker'),
        "broker.url",
        "kiosk:secret@",
        "password in the URL",
        "log in with their certificate",
        id="password-in-url",
    ),
    pytest.param(
        ('language = "en"', 'language = "fr"'),
        "ui.language",
        '"fr"',
        "language not supported",
        "ja, ja-x-easy, en, zh, ko, vi, pt, tl, ne",
        id="language",
    ),
    pytest.param(
        ('"landscape"', '"sideways"'),
        "ui.orientation",
        '"sideways"',
        "must be 'portrait' or 'landscape'",
        "use one of 'portrait' or 'landscape'",
        id="orientation",
    ),
    pytest.param(
        ('data_dir = "state"', 'data_dir = ""'),
        "kiosk.data_dir",
        '""',
        "a path cannot be empty",
        "write a",
        id="empty-path",
    ),
    pytest.param(
        ("[health]", "[health]\nintervall_s = 5"),
        "health.intervall_s",
        "5",
        "unknown key",
        "did you mean 'interval_s'?",
        id="unknown-key-suggestion",
    ),
    pytest.param(
        ("[health]", "[helth]"),
        "helth",
        "(table)",
        "unknown section",
        "did you mean 'health'?",
        id="unknown-section-suggestion",
    ),
    pytest.param(
        ("[health]", "[health]\ncolour = 5"),
        "health.colour",
        "5",
        "unknown key",
        "remove it; the keys allowed in [health] are interval_s",
        id="unknown-key-no-match",
    ),
    pytest.param(
        [("[health]\ninterval_s = 30\n", ""), ("[kiosk]", 'health = "often"\n[kiosk]')],
        "health",
        '"often"',
        "must be a table",
        "write it as a [health] section",
        id="section-not-a-table",
    ),
]


@pytest.mark.parametrize(("edit", "key", "value", "problem", "fix"), BAD_CASES)
def test_bad_kiosk_file_names_key_value_and_fix(
    kiosk_dir: Path,
    edit: tuple[str, str] | list[tuple[str, str]],
    key: str,
    value: str,
    problem: str,
    fix: str,
) -> None:
    """GIVEN a file with one mistake WHEN loaded THEN exactly one problem names the key, value and fix."""
    path = write_kiosk(kiosk_dir, *(edit if isinstance(edit, list) else [edit]))
    found = problems_of(path)
    assert len(found) == 1, [str(p) for p in found]
    only = found[0]
    assert only.source == str(path)
    assert only.key == key
    assert value in only.value
    assert problem in only.problem
    assert fix in only.fix
    line = str(only)
    assert line.startswith(f"{path}: {key}")
    assert line.index(problem) < line.index("; fix: ") < line.rindex(fix)


def test_all_problems_are_reported_at_once(kiosk_dir: Path) -> None:
    """GIVEN five mistakes in different sections WHEN loaded THEN one ConfigError lists all five, a line each."""
    path = write_kiosk(
        kiosk_dir,
        ('"jp-131016-k03"', '"K3"'),
        ('"mqtts://broker.city.example:8883"', '"mqtt://10.0.0.5"'),
        ('scanner = "serial:', 'scanner = "pcsc:'),
        ('language = "en"', 'language = "xx"'),
        ("[health]", "[health]\nextra = 1"),
    )
    with pytest.raises(ConfigError) as caught:
        load_kiosk_config(path)
    text = str(caught.value)
    assert "5 problems" in text
    for key in ("kiosk.device_id", "broker.url", "devices.scanner", "ui.language", "health.extra"):
        assert sum(line.startswith(f"  {path}: {key}") for line in text.splitlines()) == 1, text


def test_toml_syntax_error_gives_line_and_column(kiosk_dir: Path) -> None:
    path = write_kiosk(kiosk_dir, ('device_id = "jp-131016-k03"', "device_id = jp-131016-k03"))
    (only,) = problems_of(path)
    assert "TOML syntax error at line 2, column 13" in only.problem
    assert only.value == "device_id = jp-131016-k03"
    assert "strings in double quotes" in only.fix
    assert str(only).startswith(f"{path}: TOML syntax error at line 2")


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    (only,) = problems_of(tmp_path / "absent.toml")
    assert only.problem == "file not found"
    assert "kiosk config init --out" in only.fix


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sjis.toml"
    path.write_bytes('[kiosk]\nbranch = "本庁舎"\n'.encode("shift_jis"))
    (only,) = problems_of(path)
    assert "not UTF-8" in only.problem and "save the file as UTF-8" in only.fix


def test_utf8_bom_is_accepted(kiosk_dir: Path) -> None:
    path = write_kiosk(kiosk_dir)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_kiosk_config(path).kiosk.branch == "本庁舎"


def test_files_are_not_required_to_exist_without_check_files(kiosk_dir: Path) -> None:
    path = write_kiosk(kiosk_dir, ('"tls/ca.pem"', '"tls/later.pem"'))
    assert load_kiosk_config(path, check_files=False).broker.ca_file == kiosk_dir / "tls" / "later.pem"


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("mqtt://127.0.0.1:1883", "127.0.0.1", 1883),
        ("mqtt://localhost", "localhost", 1883),
        ("mqtt://[::1]:1884", "::1", 1884),
        ("mqtt://127.0.0.2", "127.0.0.2", 1883),
    ],
)
def test_plaintext_is_allowed_to_loopback(tmp_path: Path, url: str, host: str, port: int) -> None:
    broker = simulated_kiosk_config(tmp_path, url).broker
    assert (broker.host, broker.port, broker.tls) == (host, port, False)


def test_simulated_defaults_are_valid_and_only_emulated(tmp_path: Path) -> None:
    """GIVEN the embedded defaults WHEN built THEN every device is emulated and the file form loads back."""
    config = simulated_kiosk_config(tmp_path / "data", "mqtt://127.0.0.1:1883")
    schemes = {kind: config.devices.url(kind).scheme for kind in DeviceKind}
    assert schemes[DeviceKind.PAYMENT] == "pty-sim"
    assert all(s == "emulated" for kind, s in schemes.items() if kind is not DeviceKind.PAYMENT), schemes
    assert config.devices.url(DeviceKind.CARD_READER).params == {"persona": "valid-adult"}
    assert config.kiosk.data_dir == tmp_path / "data"
    assert config.device_id == "jp-999999-k01" and "simulated" in config.kiosk.branch
    path = tmp_path / "sim.toml"
    path.write_text(dump_toml(config), encoding="utf-8")
    assert load_kiosk_config(path) == config


def test_simulated_defaults_refuse_a_remote_plaintext_broker(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as caught:
        simulated_kiosk_config(tmp_path, "mqtt://broker.city.example")
    (only,) = caught.value.problems
    assert (only.source, only.key) == ("simulated defaults", "broker.url")


def test_dump_toml_round_trips_tls_and_awkward_strings(kiosk_dir: Path) -> None:
    """Quotes, backslashes and Japanese in values survive writing and reading back."""
    path = write_kiosk(kiosk_dir, ('branch = "本庁舎"', 'branch = "北\\\\支所 \\"2F\\""'))
    config = load_kiosk_config(path)
    assert config.kiosk.branch == '北\\支所 "2F"'
    text = dump_toml(config, "header line")
    assert text.startswith("# header line\n")
    assert tomllib.loads(text)["kiosk"]["branch"] == '北\\支所 "2F"'
    assert KioskConfig.model_validate(tomllib.loads(text)) == config


def test_example_kiosk_file_loads_and_names_identity_files(tmp_path: Path) -> None:
    """The shipped example loads; checked on a machine without enrolment only the identity files are missing."""
    example = resources.files("provisioning.data") / "kiosk.example.toml"
    path = tmp_path / "kiosk.toml"
    path.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_kiosk_config(path, check_files=False)
    assert config.broker.tls and config.municipality == "131016"
    assert {p.key for p in problems_of(path)} == {"broker.ca_file", "broker.cert_file", "broker.key_file"}
