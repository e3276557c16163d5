"""The operator runbook's daily and weekly routine, walked line by line against a test centre.

Every `kiosk-central` line between the routine markers of docs/runbook-operator.md runs with the
documented default paths mapped onto this test's PKI, broker folder and central configuration, and
must succeed — so the routine an operator follows cannot drift from the commands.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.broker_fleet import FleetTlsFiles, write_fleet_config
from central_broker.catalog_push import SigningKeys
from central_broker.cli import DESCRIPTION as CENTRAL_DESCRIPTION
from central_broker.cli import _commands as central_commands
from central_broker.cli import main
from central_broker.pki.authority import Pki
from central_broker.store import FleetStore
from madoguchi.cli import build_parser
from madoguchi.config.central import SERVICE_NAMES, ServiceIdentities
from tests.fixtures.fleet_signing import catalog_body
from tests.test_fleet_operations import central_toml

pytestmark = pytest.mark.mosquitto

RUNBOOK = Path(__file__).resolve().parents[1] / "docs" / "runbook-operator.md"


def routine_commands() -> list[list[str]]:
    """The `kiosk-central` command lines of the runbook's routine block (comments dropped)."""
    text = RUNBOOK.read_text(encoding="utf-8")
    block = text.split("<!-- routine:start -->", 1)[1].split("<!-- routine:end -->", 1)[0]
    commands = [shlex.split(line, comments=True) for line in block.splitlines()]
    return [c for c in commands if c and c[0] == "kiosk-central"]


def test_the_daily_and_weekly_routine_runs_as_written(
    private_mosquitto: MosquittoBroker,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a centre with a PKI, a fleet broker configuration, a published catalog and kill switch WHEN each
    routine command of the runbook runs THEN each one exits 0 and prints its report."""
    commands = routine_commands()
    assert len(commands) >= 6
    assert {tuple(c[1:3]) for c in commands} >= {
        ("ca", "check"),
        ("issuance", "kill-switch"),
        ("catalog", "refresh"),
    }
    pki = Pki.init(tmp_path / "pki")
    pki.issue_service("broker", hosts=["127.0.0.1"])
    broker_dir = tmp_path / "mosquitto-conf"
    write_fleet_config(broker_dir, FleetTlsFiles.from_pki(pki.dir), user="root")
    keys_dir = tmp_path / "signing"
    shutil.copytree(signing_keys.dir, keys_dir)
    config = central_toml(tmp_path, private_mosquitto, keys_dir)
    catalog = tmp_path / "catalog.json"
    catalog.write_bytes(catalog_body(61))
    assert (
        main(["catalog", "publish", str(catalog), "--devices", "jp-999999-k01", "--config", str(config)]) == 0
    )
    assert main(["issuance", "kill-switch", "off", "--config", str(config), "--wait", "0"]) == 0
    paths = {
        "/etc/madoguchi/central.toml": str(config),
        "/var/lib/madoguchi/pki": str(pki.dir),
        "/etc/mosquitto/madoguchi": str(broker_dir),
    }
    for command in commands:
        argv = [paths.get(word, word) for word in command[1:]]
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, f"{' '.join(command)} → exit {code}\n{out}\n{err}"
        assert out.strip(), f"{' '.join(command)} printed nothing"


def runbook_command_lines(path: Path) -> list[list[str]]:
    """Every `kiosk-central …` command a runbook names, in code blocks (continued with `\\`) or inline."""
    text = path.read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```\n(.*?)```", text, flags=re.S):
        lines += [line.strip() for line in block.replace("\\\n", " ").splitlines()]
    lines += [" ".join(span.split()) for span in re.findall(r"`(kiosk-central [^`]+)`", text)]
    return [shlex.split(line, comments=True) for line in lines if line.startswith("kiosk-central ")]


def _unknown_words(argv: list[str]) -> list[str]:
    """Sub-commands and `--options` of `argv` that the real `kiosk-central` parser does not have."""
    parser = build_parser("kiosk-central", CENTRAL_DESCRIPTION, central_commands())
    words = iter(argv[1:])
    unknown = []
    for word in words:
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if subparsers and not word.startswith("-"):
            if word not in subparsers[0].choices:
                return [word]
            parser = subparsers[0].choices[word]
        elif word.startswith("--") and word.split("=", 1)[0] not in parser._option_string_actions:
            unknown.append(word)
    return unknown


@pytest.mark.parametrize(
    "runbook", [RUNBOOK, RUNBOOK.with_name("runbook-branch-office.md")], ids=lambda p: p.stem
)
def test_every_command_a_runbook_names_exists_with_its_options(runbook: Path) -> None:
    """GIVEN a runbook WHEN every `kiosk-central` command it names is read against the real command tree THEN each
    sub-command and each option exists (e.g. `broker revoke --config`, `catalog keys --dir`)."""
    commands = runbook_command_lines(runbook)
    wrong = {" ".join(c): bad for c in commands if (bad := _unknown_words(c))}
    assert wrong == {}


def test_operator_runbook_creates_the_signing_keys_before_a_release_rollout(tmp_path: Path) -> None:
    """GIVEN the operator runbook WHEN read in order THEN `catalog keys` comes before `release rollout start`, also
    as the rollout step's prerequisite, and the documented line creates the catalog key `rollout start` signs with."""
    text = RUNBOOK.read_text(encoding="utf-8")
    keys_line = "kiosk-central catalog keys --dir /var/lib/madoguchi/signing"
    assert keys_line in text
    assert text.index(keys_line) < text.index("kiosk-central release rollout start")
    step = text.split("4. Start the staged rollout", 1)[1].split("```", 1)[0]
    assert "kiosk-central catalog keys" in " ".join(step.split())
    signing = tmp_path / "signing"
    assert main(["catalog", "keys", "--dir", str(signing)]) == 0
    assert SigningKeys(signing).catalog_key() is not None


def test_operator_runbook_says_which_service_certificate_goes_where_in_central_toml() -> None:
    """GIVEN the operator runbook WHEN it names each service certificate THEN it names the central.toml table the
    real configuration reads for that service's function (svc-ingest → [broker], svc-rpc → [broker.identities.rpc],
    svc-catalog → [broker.identities.catalog]) and keeps the broker's and enrolment certificates out of it."""
    rows = {
        cells[1].strip("` "): cells[2]
        for line in RUNBOOK.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("|") and len(cells := line.strip().split("|")) > 3
    }
    for role, name in SERVICE_NAMES.items():
        assert name in rows, f"no row for {name}"
        assert f"[broker.identities.{role}]" in rows[name] or (
            role == "ingest" and "[broker] cert_file" in rows[name]
        )
        assert role in ServiceIdentities.model_fields
    assert "[broker] ca_file" in rows["root/root.pem"]
    assert "not** central.toml" in rows["broker"] and "not** central.toml" in rows["enrol"]
