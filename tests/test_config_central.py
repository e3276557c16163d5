"""Central configuration file: relative paths, database URLs, every problem named, secrets redacted."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from madoguchi.config import ConfigFileError, load_central_config, local_central_config
from madoguchi.config.central import CentralConfig


def test_example_central_file_loads(tmp_path: Path) -> None:
    example = resources.files("provisioning.data") / "central.example.toml"
    path = tmp_path / "central.toml"
    path.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_central_config(path)
    assert config.central.sqlite_path == Path("/var/lib/madoguchi/central.db")
    assert config.central.catalog_file is None
    assert config.fleet.stale_after_s == 180


CENTRAL_TOML = """\
[central]
data_dir = "state"
store_url = "sqlite:///db/central.db"
catalog_file = "catalog.json"

[broker]
url = "mqtt://127.0.0.1:1883"

[fleet]
stale_after_s = 300
"""


def test_central_relative_paths_and_sqlite_url_resolve(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text("{}")
    path = tmp_path / "central.toml"
    path.write_text(CENTRAL_TOML, encoding="utf-8")
    config = load_central_config(path)
    assert config.central.data_dir == tmp_path / "state"
    assert config.central.sqlite_path == tmp_path / "db" / "central.db"
    assert config.central.store_url == f"sqlite:///{tmp_path}/db/central.db"
    assert config.central.catalog_file == tmp_path / "catalog.json"


def test_bad_central_file_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "central.toml"
    text = CENTRAL_TOML.replace("sqlite:///db/central.db", "mysql://db/x").replace("300", "5")
    path.write_text(text.replace("[fleet]", "[fleet]\nstale_after = 1"), encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_central_config(path)
    found = {p.key: p for p in caught.value.problems}
    assert set(found) == {
        "central.store_url",
        "central.catalog_file",
        "fleet.stale_after_s",
        "fleet.stale_after",
    }
    assert "postgresql://user@host/db" in found["central.store_url"].fix
    assert "did you mean 'stale_after_s'" in found["fleet.stale_after"].fix
    assert found["central.catalog_file"].problem == "file does not exist"


def test_postgres_password_is_redacted_for_output() -> None:
    config = CentralConfig.model_validate(
        {
            "central": {
                "data_dir": "/srv",
                "store_url": "postgresql://madoguchi:s3cret@db.city.example/fleet",
            },
            "broker": {"url": "mqtt://127.0.0.1"},
        }
    )
    assert config.central.store_url_redacted == "postgresql://madoguchi:***@db.city.example/fleet"
    assert config.central.sqlite_path is None


def test_local_central_defaults_use_sqlite_in_data_dir(tmp_path: Path) -> None:
    config = local_central_config(tmp_path, "mqtt://127.0.0.1:1883")
    assert config.central.sqlite_path == tmp_path / "central.db"
    assert config.broker.port == 1883 and not config.broker.tls


def test_issuance_section_needs_trust_anchors_and_names_missing_files(tmp_path: Path) -> None:
    """GIVEN an [issuance] section with a missing signing key, then without JPKI CA and CRL WHEN loaded THEN
    each problem is reported with how to fix it; with demo = true and the files present it loads."""
    base = '[central]\ndata_dir = "state"\nstore_url = "sqlite:///c.db"\n[broker]\nurl = "mqtt://127.0.0.1:1883"\n'
    path = tmp_path / "central.toml"
    path.write_text(
        base + '[issuance]\nsigning_key = "sign.pem"\naudit_key = "audit.key"\n', encoding="utf-8"
    )
    (tmp_path / "audit.key").write_text("x")
    with pytest.raises(ConfigFileError) as caught:
        load_central_config(path)
    assert "signing_key" in str(caught.value) and "file does not exist" in str(caught.value)
    (tmp_path / "sign.pem").write_text("x")
    with pytest.raises(ConfigFileError) as caught:
        load_central_config(path)
    assert "no JPKI CA certificate or CRL" in str(caught.value) and "jpki_ca" in str(caught.value)

    path.write_text(
        base + '[issuance]\nsigning_key = "sign.pem"\naudit_key = "audit.key"\ndemo = true\n',
        encoding="utf-8",
    )
    config = load_central_config(path)
    assert config.issuance is not None and config.issuance.signing_key == tmp_path / "sign.pem"
    assert config.issuance.render_processes == 0 and config.issuance.reprint_window_s == 600
