"""`[queue]` of central.toml: the example file, times, caps, and how it maps to the core's `QueueConfig`."""

from __future__ import annotations

from datetime import time
from importlib import resources
from pathlib import Path

import pytest

from central_broker.queue import NoShowPolicy
from central_broker.queue_link import demo_section, public_base, queue_config
from madoguchi.config import ConfigFileError, load_central_config

BASE = '[central]\ndata_dir = "state"\nstore_url = "sqlite:///central.db"\n[broker]\nurl = "mqtt://127.0.0.1:1883"\n'


def test_the_example_file_sets_the_public_status_page_address(tmp_path: Path) -> None:
    """GIVEN the shipped example WHEN loaded THEN tickets link to its public URL with the default hours."""
    example = resources.files("provisioning.data") / "central.example.toml"
    path = tmp_path / "central.toml"
    path.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_central_config(path)

    assert public_base(config) == "https://madoguchi.city.example"
    assert queue_config(config.queue).opening_time == time(8, 30)


def test_queue_settings_map_to_the_core_config(tmp_path: Path) -> None:
    """GIVEN hours (one as a TOML time), caps, a no-show rule WHEN loaded THEN `QueueConfig` carries them."""
    config = load_central_config(
        _write(tmp_path, '[queue]\nopening_time = 09:00:00\nclosing_time = "16:00"\ndaily_cap = 300\n'
               'category_caps = { moving = 50 }\nno_show = "cancel"\nno_show_recalls = 1\n'
               'closed_categories = ["tax"]\nservice_minutes = { hoken = 15.0 }\n')
    )  # fmt: skip

    core = queue_config(config.queue)

    assert (core.opening_time, core.closing_time) == (time(9, 0), time(16, 0))
    assert (core.cap_for("moving"), core.cap_for("tax"), core.default_service_for("hoken")) == (50, 300, 15.0)
    assert core.no_show_policy is NoShowPolicy.CANCEL and core.closed_categories == frozenset({"tax"})
    assert public_base(config) == "http://127.0.0.1:8080"  # no public_url: the web's own address


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ('[queue]\nopening_time = "17:00"\nclosing_time = "08:00"\n', "closing_time"),
        ('[queue]\nopening_time = "8.30"\n', "opening_time"),
        ("[queue]\ndaily_cap = 1000\n", "daily_cap"),
        ('[queue]\npublic_url = "ftp://x"\n', "public_url"),
    ],
)
def test_bad_queue_settings_are_named(tmp_path: Path, extra: str, named: str) -> None:
    """GIVEN a closing time before opening, a malformed time, a cap over 999 or a non-web URL WHEN loaded
    THEN the error names the key."""
    with pytest.raises(ConfigFileError, match=named):
        load_central_config(_write(tmp_path, extra))


def test_the_demo_configuration_issues_at_every_hour(tmp_path: Path) -> None:
    """GIVEN `[issuance] demo = true` and no `[queue]` (what `madoguchi-demo` writes) THEN the queue is always
    open; an explicit `[queue]` table is taken as written."""
    for name in ("sign.pem", "audit.key"):
        (tmp_path / name).write_text("x")
    issuance = '[issuance]\ndemo = true\nsigning_key = "sign.pem"\naudit_key = "audit.key"\n'

    demo = load_central_config(_write(tmp_path, issuance))
    explicit = load_central_config(_write(tmp_path, issuance + '[queue]\nopening_time = "09:00"\n'))

    assert demo_section(demo).always_open
    assert queue_config(demo_section(demo)).closing_time == time(23, 59, 59, 999999)
    assert not demo_section(explicit).always_open


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "central.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path
