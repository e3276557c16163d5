"""What a new catalog changes in the procedure guide: `diff_guides` and `kiosk-central catalog diff|publish`.

Operators see, before publishing, which procedures, questions and counters are added, removed or changed,
which fields changed and in which languages (issue 19 item 4).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push.guide_diff import diff_guides
from central_broker.store import FleetStore, sqlite_url
from madoguchi.contracts.catalog import parse_catalog, sample_catalog_path
from tests.test_fleet_catalog_cli import run

SAMPLE: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))


def _edited(version: int) -> dict[str, Any]:
    """The sample as `version`: 転居届's fee reworded in Korean and Tagalog, a counter moved to floor 2,
    the dog question dropped with what depends on it, and a new question for 転出 with its procedure."""
    data = copy.deepcopy(SAMPLE)
    data["version"] = version
    guide = data["procedures"]
    by_id = {p["id"]: p for p in guide["procedures"]}
    by_id["tenkyo"]["fee"] |= {"ko": "무료입니다", "tl": "Walang bayad"}
    next(c for c in guide["counters"] if c["id"] == "kankyo")["floor"] = 2
    guide["questions"] = [q for q in guide["questions"] if q["id"] != "dog"]
    guide["procedures"] = [p for p in guide["procedures"] if p["id"] != "dog"]
    question = copy.deepcopy(next(q for q in guide["questions"] if q["id"] == "deceased_head"))
    guide["questions"].append(question | {"id": "car", "life_events": ["moving_out"]})
    procedure = copy.deepcopy(by_id["tenshutsu"]) | {"id": "car_plate", "route": 3,
                                                     "conditions": [{"question": "car", "answer": "yes"}]}  # fmt: skip
    procedure.pop("form", None)
    guide["procedures"].append(procedure)
    return data


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_diff_names_entries_added_removed_and_the_changed_fields_with_their_languages() -> None:
    """GIVEN version 1 and an edited version 2 WHEN compared THEN each change is listed once, text fields
    with the languages that changed, other fields as before → after."""
    old = parse_catalog(json.dumps(SAMPLE).encode())
    new = parse_catalog(json.dumps(_edited(2)).encode())
    diff = diff_guides(old, new)
    found = {(c.part, c.kind, c.id): [f.text() for f in c.fields] for c in diff.changes}
    assert found == {
        ("questions", "removed", "dog"): [],
        ("questions", "added", "car"): [],
        ("procedures", "removed", "dog"): [],
        ("procedures", "added", "car_plate"): [],
        ("procedures", "changed", "tenkyo"): ["fee (ko, tl)"],
        ("counters", "changed", "kankyo"): ["floor: 3 → 2"],
    }
    assert diff.languages() == ("ko", "tl") and (diff.old_version, diff.new_version) == (1, 2)
    assert diff.counts()["procedures"] == {"added": 1, "removed": 1, "changed": 1}
    assert diff_guides(new, new).empty and diff_guides(new, new).lines()[0].endswith("none")


def test_a_first_publish_lists_every_entry_as_added() -> None:
    new = parse_catalog(json.dumps(SAMPLE).encode())
    diff = diff_guides(None, new, parts=("life_events",))
    assert [c.id for c in diff.changes] == [e.id for e in new.procedures.life_events]
    assert {c.kind for c in diff.changes} == {"added"} and diff.old_version is None


def test_cli_diff_shows_the_changes_in_text_and_json(tmp_path: Path) -> None:
    """GIVEN two catalog files WHEN `catalog diff NEW --against OLD` runs THEN the text names each change and
    --json carries the same; without a baseline it says what to give."""
    old = _write(tmp_path / "v1.json", SAMPLE)
    new = _write(tmp_path / "v2.json", _edited(2))
    text = run("kiosk-central", "catalog", "diff", str(new), "--against", str(old))
    assert text.returncode == 0, text.stderr
    assert "guide changes from version 1 to version 2:" in text.stdout
    assert "~ procedures tenkyo (転居届): fee (ko, tl)" in text.stdout and "+ questions car" in text.stdout
    data = json.loads(
        run("kiosk-central", "catalog", "diff", str(new), "--against", str(old), "--json").stdout
    )
    assert data["languages"] == ["ko", "tl"] and data["counts"]["counters"]["changed"] == 1
    missing = run("kiosk-central", "catalog", "diff", str(new))
    assert missing.returncode != 0 and "--against OLD" in missing.stderr


@pytest.mark.mosquitto
def test_publish_shows_the_diff_against_the_last_published_and_dry_run_sends_nothing(
    central_store: FleetStore, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN version 1 published with `catalog publish` WHEN version 2 is published with --dry-run THEN the
    output lists the guide changes from version 1 and the kiosk is still told version 1; publishing it for
    real prints the same changes."""
    keys_dir = tmp_path / "signing"
    assert run("kiosk-central", "catalog", "keys", "--dir", str(keys_dir)).returncode == 0
    config = tmp_path / "central.toml"
    config.write_text(
        f'[central]\ndata_dir = "{tmp_path}"\nstore_url = "{sqlite_url(tmp_path / "central" / "central.db")}"\n'
        f'[broker]\nurl = "{mosquitto.url}"\n'
    )
    common = ("--devices", "jp-999999-k01", "--config", str(config), "--keys", str(keys_dir))
    first = run("kiosk-central", "catalog", "publish", str(sample_catalog_path()), *common)
    assert first.returncode == 0, first.stderr
    assert "guide changes from nothing published to version 1:" in first.stdout
    new = _write(tmp_path / "v2.json", _edited(2))
    dry = run("kiosk-central", "catalog", "publish", str(new), *common, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "guide changes from version 1 to version 2:" in dry.stdout and "- procedures dog" in dry.stdout
    assert "dry run: nothing published" in dry.stdout
    assert central_store.desired_devices() == {1: ["jp-999999-k01"]}
    real = run("kiosk-central", "catalog", "publish", str(new), *common, "--json")
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout)["guide"]["counts"]["questions"] == {"added": 1, "removed": 1, "changed": 0}
    assert central_store.desired_devices() == {2: ["jp-999999-k01"]}
