"""Both runbooks walked for real: the centre's set-up, a kiosk flashed, enrolled, replaced and revoked.

The operator runbook's sections 0-3 and the branch-office runbook are read at run time. Every complete
`kiosk-central` command of those sections runs in document order (in-process through `central_broker.cli.main`;
`enrol-serve` and Mosquitto as child processes on free loopback ports), with every documented absolute path moved
under one test folder and the documented host names on 127.0.0.1. The kiosk side runs the card-seeding script and
the first-boot scripts of the image the way their systemd units run them, with the venv's real `kiosk`. Each step
checks what the runbook promises and fails naming the runbook line.

`MADOGUCHI_WRITE_WALKTHROUGH=1` writes the transcript docs/runbook-walkthrough.md from the walk; `KEEP_WALK=1`
keeps the walk folder (/tmp/runbook-walk-*, with the child processes' logs in logs/) for a look afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from central_broker.broker import find_mosquitto
from central_broker.cli import main
from tests.runbook_walk import RunbookCommand, find_line, listed_commands, section_commands
from tests.runbook_walk_kiosk import kiosk_with_enrol_json, kiosk_with_pairing_code, reused_card_copy
from tests.runbook_walk_site import BRANCH, BRANCH_SECTIONS, OPERATOR, VENV_BIN, Walk

WALKTHROUGH = Path(__file__).resolve().parents[1] / "docs" / "runbook-walkthrough.md"
OPERATOR_SECTIONS = ("0.", "1.", "2.", "3.")
STOLEN = "jp-131016-k04"  # the operator runbook's DEVICE in section 3, paired with a code


@pytest.fixture
def walk(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Walk]:
    """A walk folder Mosquitto's own user can read (as /etc/mosquitto is), with the centre's default paths in it."""
    if find_mosquitto() is None or shutil.which("mosquitto_pub") is None:
        pytest.skip("mosquitto and mosquitto-clients are not installed (scripts/bootstrap.sh installs them)")
    root = Path(tempfile.mkdtemp(prefix="runbook-walk-"))
    root.chmod(0o755)
    state = Walk(root, capsys)
    state.map.words["DEVICE"] = STOLEN
    for name, value in state.env.items():
        monkeypatch.setenv(name, value)
    try:
        yield state
    finally:
        state.stop()
        if not os.environ.get("KEEP_WALK"):
            shutil.rmtree(root, ignore_errors=True)


# --- the operator runbook ---------------------------------------------------------------------------------------


def run_operator_command(w: Walk, command: RunbookCommand) -> None:
    """One command of the operator runbook, run as the walk runs it, then the check of what it promises."""
    words = command.words
    sub = tuple(words[1:3])
    if not command.is_mention and words[0] != "chown":
        w.ensure_broker()
    if command.is_mention:
        w.log.skipped(command, "named in the text, not a step of its own (or written with a placeholder)")
    elif words[0] == "systemctl":
        if words[1:] == ["reload", "mosquitto"] and w.broker is not None:
            os.kill(w.mosquitto_pid(), signal.SIGHUP)
            w.log.ran(command.where, command.text, ["kill", "-HUP", str(w.broker.pid)], 0, "",
                      "stood in for the unit's reload: SIGHUP, on which Mosquitto re-reads its CRLs")  # fmt: skip
        else:
            w.log.skipped(command, "no systemd in the test; the CRL timer's commands are walked in section 2 "
                          "(`ca crl --broker-dir`) and by tests/test_runbook_routine.py (`ca check`)")  # fmt: skip
    elif sub == ("broker", "config"):
        w.write_broker_config(command)
    elif words[0] == "chown":
        argv = w.map.argv(command)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        w.log.ran(command.where, command.text, argv, done.returncode, done.stderr, "owned by that user now")
        assert done.returncode == 0, f"{command.where}: `{command.text}` → {done.stderr}"
    elif words[1] == "enrol-serve":
        w.start_enrol_serve(command)
    elif words[1] == "serve":
        w.start_serve(command)
    elif words[1] == "enrol-token":
        enrol_json = w.enrol_token(command, words[words.index("--device") + 1])
        kiosk_with_enrol_json(w, enrol_json, words[words.index("--device") + 1], image_root=True)
    else:
        if command.text.startswith("kiosk-central config check") and not w.central_toml.exists():
            w.write_central_toml(command.where)
        if "PIDOF_MOSQUITTO" in words:
            w.map.words["PIDOF_MOSQUITTO"] = str(w.mosquitto_pid())
        w.central(command, check=operator_check(w, command))


def operator_check(w: Walk, command: RunbookCommand) -> str:
    """What the walk checks after `command` (checked by the caller's later assertions); '' for exit 0 only."""
    words = command.words
    if words[1:3] == ["ca", "init"]:
        return "the root key is on the offline media and nowhere in the PKI folder"
    if words[1:3] == ["ca", "issue-service"] and "--owner" in words:
        return "the key is owned by the --owner user"
    return ""


def check_operator_command(w: Walk, command: RunbookCommand) -> None:
    """The promises of a set-up line, once it ran."""
    words = command.words
    if words[1:3] == ["ca", "init"]:
        offline = w.map.path(words[words.index("--root-key-out") + 1])
        assert offline.is_file(), f"{command.where}: no root key at {offline}"
        assert not list(w.pki.rglob("root.key")), (
            f"{command.where}: the root key was also left in the PKI folder"
        )
    elif words[1:3] == ["ca", "issue-service"] and "--owner" in words:
        key = w.pki / "services" / words[3] / "key.pem"
        assert key.stat().st_uid == int(
            subprocess.check_output(["id", "-u", words[words.index("--owner") + 1]])
        ), f"{command.where}: {key} is not owned by {words[words.index('--owner') + 1]}"
    elif words[1:3] == ["catalog", "keys"] and not command.is_mention:
        folder = w.map.path(words[words.index("--dir") + 1])
        assert {"root.pub", "root.key", "catalog.key", "catalog.pub"} <= {p.name for p in folder.iterdir()}, (
            f"{command.where}: {folder} lacks root.key/.pub or catalog.key/.pub"
        )
    elif words[1:3] == ["release", "keygen"]:
        key = w.map.path(words[words.index("--out") + 1])
        assert key.is_file() and key.with_suffix(".pub").is_file(), f"{command.where}: no {key} and .pub"


def section_token_command(commands: list[RunbookCommand]) -> RunbookCommand:
    """The `enrol-token` line of section 1 (sections 2 and 3 say to issue one the same way)."""
    return next(c for c in commands if c.words[1:2] == ["enrol-token"])


def after_replace(w: Walk, commands: list[RunbookCommand]) -> None:
    """Section 2, steps 3-4: a new token for the same id, a new card; the old certificate is refused, the new one welcome."""
    old_identity = w.root / "card-1/data/identity"
    step4 = f"docs/runbook-operator.md:{find_line(OPERATOR, 'Confirm it online on the dashboard')}"
    step3 = find_line(OPERATOR, "Issue a new token for the **same** device id")
    w.log.note(
        f"docs/runbook-operator.md:{step3}", "step 3: the section 1 line again for the same id, a new card"
    )
    enrol_json = w.enrol_token(section_token_command(commands), "jp-131016-k03")
    new = kiosk_with_enrol_json(w, enrol_json, "jp-131016-k03", image_root=True)
    refused = w.publish(old_identity)
    assert refused.returncode != 0, (
        f"docs/runbook-operator.md:{step3}: the broker still accepts the replaced unit"
    )
    w.log.note(f"docs/runbook-operator.md:{step3}", "checked: the broker refuses the replaced unit's certificate "
               f"(`mosquitto_pub` with it: exit {refused.returncode}, {refused.stderr.strip()[:80]!r}) and accepts "
               f"the replacement's, same device id (exit {w.publish(new).returncode})")  # fmt: skip
    w.confirm_online("jp-131016-k03", step4, "step 4: confirm it online (the dashboard's fleet view)")
    reused_card_copy(w)


def before_replace(w: Walk) -> None:
    """Section 2 starts with a broken unit: the first kiosk, power-cycled once in its life, is switched off."""
    where = f"docs/runbook-operator.md:{find_line(OPERATOR, '## 2. Replace a kiosk')}"
    w.log.heading("Before section 2: the first unit breaks")
    card = w.root / "card-1"
    w.stop_kiosk(card)
    w.start_kiosk(card)  # its second connection (epoch 2): see test_a_replacement_whose_first_epoch_…
    w.confirm_online("jp-131016-k03", where, "fleet view after a power cycle")
    w.stop_kiosk(card)
    w.log.note(where, "the first unit (card-1) was power-cycled once (its fleet link's second connection), "
               "then switched off for good: its hardware failed. With no power cycle the replacement's first "
               "connection has the same epoch as the failed unit's last, and the fleet view ignores it "
               "(test_a_replacement_whose_first_epoch_equals_the_failed_units_last_shows_online, xfail)")  # fmt: skip


def before_revoke(w: Walk, commands: list[RunbookCommand]) -> None:
    """A second kiosk, paired with a code at the console, to be the stolen DEVICE of section 3."""
    enrol_json = w.enrol_token(section_token_command(commands), STOLEN)
    enrol_json.unlink()  # this branch was given the pairing code, not the file
    kiosk_with_pairing_code(w, STOLEN)


def after_revoke(w: Walk) -> None:
    """Section 3: the stolen kiosk is refused by the broker, shown revoked, and cannot renew."""
    where = f"docs/runbook-operator.md:{find_line(OPERATOR, 'its next TLS handshake is refused')}"
    identity = w.identity_of[STOLEN]
    refused = w.publish(identity)
    assert refused.returncode != 0, f"{where}: the broker still accepts the revoked kiosk {STOLEN}"
    w.capsys.readouterr()
    assert main(["fleet", "--config", str(w.central_toml), "--json"]) == 0
    fleet = w.capsys.readouterr().out
    assert re.search(rf'"{STOLEN}".*?"revoked"', fleet, flags=re.S), (
        f"{where}: fleet does not show {STOLEN} revoked\n{fleet}"
    )
    renew = subprocess.run([str(VENV_BIN / "kiosk"), "renew", "--data-dir", str(identity.parent), "--force"],
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    promised = "certificate-rejected: the device certificate was revoked"
    assert renew.returncode != 0 and "revoked" in renew.stderr, (
        f"{where}: renewal not refused: {renew.stderr}"
    )
    w.log.note(where, f"checked: `mosquitto_pub` with {STOLEN}'s certificate → exit {refused.returncode}; "
               f"`kiosk-central fleet --config … --json` shows it revoked; `kiosk renew --force` on the kiosk → exit "
               f"{renew.returncode}: {renew.stderr.strip().splitlines()[0][:120]!r} (runbook: `{promised}`)")  # fmt: skip


def broker_kept_its_retained_messages(w: Walk) -> None:
    """Section 0 'persistence on': stopped as its service stops it, Mosquitto (as its own user) saved its database."""
    where = w.broker_config_line
    log = w.stop_broker()
    saved = w.broker_dir / "persistence" / "mosquitto.db"
    assert "Error saving" not in log and saved.is_file(), (
        f"{where}: Mosquitto could not save its persistence:\n{log}"
    )
    w.log.heading("End of the walk")
    w.log.note(where, f"checked: Mosquitto stopped (SIGTERM) saved its retained messages and sessions to "
               f"`{saved}` as the mosquitto user")  # fmt: skip


# --- the walk ---------------------------------------------------------------------------------------------------

INTRO = """# Runbook walkthrough — recorded

Generated by `MADOGUCHI_WRITE_WALKTHROUGH=1 .venv/bin/python -m pytest --no-cov tests/test_runbook_walk.py`
({when}). It is the record of one run of that test, which walks `docs/runbook-operator.md` sections 0-3 and
`docs/runbook-branch-office.md` on one host; the test itself runs on every test run and fails naming the runbook
line whose step failed. `tests/test_runbook_walk.py::test_the_walkthrough_lists_every_runbook_command` fails when
this file no longer lists the commands the runbooks name: regenerate it.

What stood in for what:
- every absolute path of the runbooks lives under one temporary folder `$WALK` (`/var/lib/madoguchi` is
  `$WALK/var/lib/madoguchi`, the offline media `$WALK/media/offline-usb`, …), the centre's default folders through
  `MADOGUCHI_DATA_DIR`/`MADOGUCHI_PKI_DIR`;
- `enrol.city.example` and `broker.city.example` are 127.0.0.1; the ports 8443, 8883 and 8884 are free loopback ports;
- Mosquitto, `enrol-serve` and `kiosk-central serve` run as child processes (not systemd units); Mosquitto drops
  to the `mosquitto` user as its service does; `systemctl reload mosquitto` is a SIGHUP to it;
- each kiosk's microSD card is a folder `$WALK/card-N`: `boot/firmware` is bootfs, `etc/madoguchi` holds what the
  image bakes in, `opt/madoguchi/releases/0.1.0` is the factory release (its `venv/bin/kiosk` is the test venv's real
  `kiosk`), `data` is the data partition. Nothing is flashed, no Pi boots, no touchscreen is touched: the first-boot
  units' scripts run in their unit order with `KIOSK_*` paths pointing into the card folder and `KIOSK_OWNER=root`;
  `raspi-config` and `systemctl` are stubs that record their calls. After the (not simulated) reboot, the kiosk
  runs `kiosk-ui.service`'s command with `--ui off`: its fleet link, without screen or devices, so the dashboard
  shows it online but its card reader, printer and payment terminal are not checked;
- no `kiosk` user exists on the test host: `--owner kiosk` becomes `--owner root`.

Not walked here: the operator runbook from section 4 on (releases, catalogs, kill switch, routine: their own tests,
the routine block by tests/test_runbook_routine.py), Imager and `dd`, Wi-Fi, a network blocking NTP, the touchscreen
keypad (tests/test_enrolment.py types a code on the pairing form), the other rows of the messages table
(tests/test_enrolment.py), the devices' health on the dashboard and the test transaction with the test card.

Tokens and pairing codes are replaced by `<secret>`; output is trimmed to 6 lines; `$WALK` is the walk folder.
"""


@pytest.mark.mosquitto
@pytest.mark.slow
def test_the_runbooks_walk_from_an_empty_centre_to_a_replaced_and_a_revoked_kiosk(walk: Walk) -> None:
    """GIVEN an empty host WHEN the operator runbook's sections 0-3 and the branch-office runbook's steps run in
    document order THEN each command exits 0 and does what its text promises: the PKI, broker and endpoint come up,
    a kiosk enrols from its card and erases enrol.json, a replaced unit is refused while its replacement is welcome,
    and a stolen kiosk is refused by the broker, shown revoked and cannot renew."""
    commands = section_commands(OPERATOR, OPERATOR_SECTIONS)
    assert [c for c in commands if c.words[1:2] == ["enrol-serve"]], "operator runbook: no enrol-serve line"
    current = ""
    for command in commands:
        if command.section != current:
            if current.startswith("2."):
                after_replace(walk, commands)
            if command.section.startswith("2."):
                before_replace(walk)
            if command.section.startswith("3."):
                before_revoke(walk, commands)
            current = command.section
            walk.log.heading(f"Operator runbook — {current}")
        run_operator_command(walk, command)
        check_operator_command(walk, command)
    after_revoke(walk)
    broker_kept_its_retained_messages(walk)
    if os.environ.get("MADOGUCHI_WRITE_WALKTHROUGH") == "1":
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        WALKTHROUGH.write_text(walk.log.render(INTRO.format(when=when)), encoding="utf-8")


def test_the_walkthrough_lists_every_runbook_command() -> None:
    """GIVEN the committed transcript WHEN compared with the runbooks as they are now THEN it lists every command of
    the walked sections (run, or not run with the reason), so a changed runbook asks for a new recording."""
    if not WALKTHROUGH.is_file():
        pytest.fail(
            "docs/runbook-walkthrough.md is missing: MADOGUCHI_WRITE_WALKTHROUGH=1 pytest tests/test_runbook_walk.py"
        )
    listed = set(listed_commands(WALKTHROUGH.read_text(encoding="utf-8")))
    named = section_commands(OPERATOR, OPERATOR_SECTIONS) + section_commands(BRANCH, BRANCH_SECTIONS)
    missing = [f"{c.where}: {c.text}" for c in named if c.text not in listed]
    stale = sorted(listed - {c.text for c in named})
    assert (missing, stale) == ([], []), (
        "docs/runbook-walkthrough.md is out of date; regenerate it with MADOGUCHI_WRITE_WALKTHROUGH=1 "
        "(missing from it, then no longer in the runbooks)"
    )
