"""`kiosk config check|init|show-defaults` and `kiosk-central config check`: output and exit codes."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from central_broker.commands import config_cmd as central_config_cmd
from kiosk_app.commands import config_cmd as kiosk_config_cmd
from madoguchi.cli import build_parser, run_main
from madoguchi.config import load_kiosk_config


def kiosk(*argv: str) -> int:
    """Run `kiosk config ...` in-process through the same error handling as the console script."""
    return run_main(build_parser("kiosk", "test", [kiosk_config_cmd]), ["config", *argv])


def central(*argv: str) -> int:
    return run_main(build_parser("kiosk-central", "test", [central_config_cmd]), ["config", *argv])


def example(name: str, folder: Path) -> Path:
    path = folder / name
    path.write_text(
        (resources.files("provisioning.data") / name).read_text(encoding="utf-8"), encoding="utf-8"
    )
    return path


def test_check_prints_effective_settings_of_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = example("kiosk.example.toml", tmp_path)
    assert kiosk("check", str(path), "--no-file-check") == 0
    out = capsys.readouterr().out
    assert f"{path}: configuration is valid" in out
    assert "jp-131016-k03 (municipality 131016)" in out
    assert "broker.city.example:8883 TLS" in out
    assert "escpos+tcp  127.0.0.1:9100" in out


def test_check_exits_2_and_lists_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a file with a typo'd key and a remote plaintext broker WHEN checked THEN exit 2 and both lines."""
    path = example("kiosk.example.toml", tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "mqtts://broker.city.example:8883", "mqtt://broker.city.example"
    )
    path.write_text(text.replace("idle_timeout_s", "idle_timout_s"), encoding="utf-8")
    assert kiosk("check", str(path), "--no-file-check") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"kiosk: error: {path}: 2 problems")
    assert (
        'broker.url = "mqtt://broker.city.example": plaintext MQTT is only allowed on loopback'
        in captured.err
    )
    assert "ui.idle_timout_s = 60: unknown key; fix: did you mean 'idle_timeout_s'?" in captured.err


def test_check_json_reports_problems_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = example("kiosk.example.toml", tmp_path)
    assert kiosk("check", str(path), "--json") == 2  # identity files do not exist on this machine
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["file"] == str(path)
    assert [p["key"] for p in report["problems"]] == ["broker.ca_file", "broker.cert_file", "broker.key_file"]
    first = report["problems"][0]
    assert first["value"] == '"/data/identity/ca.pem"' and first["problem"] == "file does not exist"
    assert "put the file at /data/identity/ca.pem" in first["fix"]


def test_check_json_prints_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = example("kiosk.example.toml", tmp_path)
    assert kiosk("check", str(path), "--json", "--no-file-check") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["config"]["devices"]["a4_printer"] == "cups://Kiosk_A4"
    assert report["config"]["ui"] == {"language": "ja", "orientation": "portrait", "idle_timeout_s": 60}


def test_check_of_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk("check", str(tmp_path / "nope.toml")) == 2
    assert "file not found; fix: check the path, or write a starting file" in capsys.readouterr().err


def test_init_writes_a_file_that_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "kiosk.toml"
    rc = kiosk(
        "init",
        "--out",
        str(out),
        "--device-id",
        "jp-271004-k12",
        "--branch",
        '北 "出張所"',
        "--data-dir",
        "state",
    )
    assert rc == 0
    assert f"wrote {out}" in capsys.readouterr().out
    config = load_kiosk_config(out)
    assert config.device_id == "jp-271004-k12" and config.municipality == "271004"
    assert config.kiosk.branch == '北 "出張所"'
    assert config.kiosk.data_dir == out.parent / "state"
    assert config.devices.payment == "serial:///dev/kiosk/payment?baud=9600"
    assert out.read_text(encoding="utf-8").startswith("# Madoguchi kiosk configuration")


def test_init_with_mqtts_names_the_identity_files_still_to_come(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kiosk.toml"
    assert kiosk("init", "--out", str(out), "--broker", "mqtts://broker.city.example", "--simulated") == 0
    assert capsys.readouterr().err.count("file does not exist") == 3
    config = load_kiosk_config(out, check_files=False)
    assert config.broker.cert_file == Path("/data/identity/cert.pem")
    assert config.devices.card_reader.startswith("emulated://")


def test_init_refuses_to_overwrite_and_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kiosk.toml"
    out.write_text("keep me")
    assert kiosk("init", "--out", str(out)) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "keep me"
    assert kiosk("init", "--out", str(tmp_path / "other.toml"), "--device-id", "Kiosk 1") == 2
    assert 'kiosk.device_id = "Kiosk 1": not a valid device id' in capsys.readouterr().err
    assert not (tmp_path / "other.toml").exists()


def test_show_defaults_are_all_emulated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert kiosk("show-defaults", "--json", "--data-dir", str(tmp_path)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["broker"]["url"] == "mqtt://127.0.0.1:1883"
    assert data["kiosk"]["data_dir"] == str(tmp_path)
    assert {url.split("://")[0] for url in data["devices"].values()} == {"emulated", "pty-sim"}
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert kiosk("show-defaults") == 0
    text = capsys.readouterr().out
    assert 'payment = "pty-sim://payment"' in text
    assert (
        f'data_dir = "{tmp_path}/xdg/madoguchi/simulated-kiosk"' in text
    )  # where `kiosk run --simulate` keeps it


def test_central_check_text_json_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = example("central.example.toml", tmp_path)
    assert central("check", str(path)) == 0
    assert "sqlite:////var/lib/madoguchi/central.db" in capsys.readouterr().out
    text = path.read_text(encoding="utf-8").replace(
        "sqlite:////var/lib/madoguchi/central.db", "postgresql://fleet:pw@db.city.example/fleet"
    )
    path.write_text(text, encoding="utf-8")
    assert central("check", str(path), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["central"]["store_url"] == "postgresql://fleet:***@db.city.example/fleet"
    path.write_text(text.replace("stale_after_s", "stale_s"), encoding="utf-8")
    assert central("check", str(path)) == 2
    assert "fleet.stale_s = 180: unknown key" in capsys.readouterr().err
