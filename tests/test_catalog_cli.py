"""`kiosk-central catalog validate|show`: exit codes, summaries and JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from central_broker.cli import main
from madoguchi.contracts.catalog import sample_catalog_path

SAMPLE = str(sample_catalog_path())


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    data: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    data["certificate_types"][2]["fees"][0]["amount_yen"] = -200
    data["eligibility_rules"][3]["applies_to"] = ["jumin"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_validate_prints_version_counts_and_fees_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "validate", SAMPLE, "--at", "2026-11-24T10:00")
    assert code == 0
    assert "catalog OK: みどり市 (999999) version 1" in out
    assert "6 certificate types" in out
    assert "kiosk ¥250 from 2027-04-01" in out


def test_validate_json_shows_the_fee_table_at_a_time(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "validate", SAMPLE, "--json", "--at", "2027-04-01T09:00")
    assert code == 0
    summary = json.loads(out)
    assert summary["valid"] is True and summary["version"] == 1
    assert summary["counts"]["certificate_types"] == 6
    fees = {row["id"]: row for row in summary["fees_now"]}
    assert fees["juminhyo"]["kiosk_yen"] == 250 and fees["juminhyo"]["counter_yen"] == 300
    assert summary["warnings"] == []


def test_validate_warns_when_no_fee_is_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "validate", SAMPLE, "--json", "--at", "2026-01-10T09:00")
    assert code == 0
    warnings = json.loads(out)["warnings"]
    assert any(w.startswith("juminhyo: no kiosk fee in force on 2026-01-10") for w in warnings)


def test_validate_broken_catalog_exits_2_listing_each_field(
    capsys: pytest.CaptureFixture[str], broken: Path
) -> None:
    code, out, err = _run(capsys, "catalog", "validate", str(broken))
    assert code == 2 and out == ""
    assert "certificate_types[2].fees[0].amount_yen" in err
    assert "fix:" in err


def test_validate_broken_catalog_json_lists_problems(
    capsys: pytest.CaptureFixture[str], broken: Path
) -> None:
    code, out, _ = _run(capsys, "catalog", "validate", str(broken), "--json")
    assert code == 2
    result = json.loads(out)
    assert result["valid"] is False
    assert [p["path"] for p in result["problems"]] == ["certificate_types[2].fees[0].amount_yen"]
    assert result["problems"][0]["hint"]


def test_validate_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "catalog", "validate", str(tmp_path / "none.json"))
    assert code == 2 and "cannot read" in err


def test_show_lists_fee_and_open_state_in_a_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "show", "--at", "2026-12-30T10:00", "--lang", "en", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)["certificate_types"]}
    assert rows["juminhyo"]["name"] == "Certificate of Residence (Juminhyo)"
    assert rows["juminhyo"]["open"] is False and rows["juminhyo"]["closed_reason"] == "closed_period"
    assert rows["juminhyo"]["next_open"] == "2027-01-04T06:30:00+09:00"
    assert rows["koseki_zenbu"]["kiosk_yen"] == 350


def test_show_text_marks_koseki_closed_in_the_evening(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "catalog", "show", SAMPLE, "--at", "2026-11-24T18:00")
    assert code == 0
    lines = {
        line.split()[0]: line for line in out.splitlines()[1:] if line.strip() and not line.startswith("   ")
    }
    assert "open" in lines["juminhyo"] and "closed (outside_hours" in lines["koseki_zenbu"]


def test_bad_time_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "catalog", "show", "--at", "tomorrow")
    assert code == 2 and "--at 'tomorrow' is not an ISO date-time" in err


def test_console_script_validates_the_sample() -> None:
    """The installed `kiosk-central` entry point runs the same command."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kiosk-central"), "catalog", "validate", SAMPLE, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["municipality"]["code"] == "999999"


def test_validate_warns_about_gaps_in_the_kiosk_fee_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """GIVEN a fee change that starts 9 days late and a fee that ends WHEN validated THEN both gaps are warned."""
    data: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    data["certificate_types"][0]["fees"][1]["effective_from"] = "2027-04-10"
    data["certificate_types"][2]["fees"][0]["effective_to"] = "2028-03-31"
    path = tmp_path / "gaps.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, _ = _run(capsys, "catalog", "validate", str(path), "--json", "--at", "2026-11-24T10:00")
    assert code == 0
    assert json.loads(out)["warnings"] == [
        "juminhyo: no kiosk fee for 2027-04-01..2027-04-09; it cannot be sold then (R-01)",
        "kazei: no kiosk fee from 2028-04-01 on; it cannot be sold then (R-01)",
    ]
