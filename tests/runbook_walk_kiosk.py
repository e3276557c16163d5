"""The branch-office runbook walked as the device side: card seeding, first boot, pairing, a refused card.

Used by tests/test_runbook_walk.py. Each kiosk's card is a folder (see `Walk.new_card`); the image's first-boot
scripts run as their systemd units run them, with the `KIOSK_*` paths pointing into that folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from central_broker.cli import main
from madoguchi.config.kiosk import load_kiosk_config
from tests.runbook_walk import Mapping
from tests.runbook_walk_site import BRANCH, CARD_SEED, IMAGE_BIN, Walk, branch, branch_command

__all__ = ["kiosk_with_enrol_json", "kiosk_with_pairing_code", "reused_card_copy"]


def kiosk_with_enrol_json(w: Walk, enrol_json: Path, device: str, *, image_root: bool) -> Path:
    """Branch runbook 1-2 for one kiosk with enrol.json; returns its identity folder."""
    w.log.heading(f"Branch-office runbook — {device} with enrol.json (card {w.cards + 1})")
    card = w.new_card(image_root)
    w.log.skipped(branch_command("xzcat"), "no card is written: the card is a folder "
                  f"`$WALK/card-{w.cards}` with `boot/firmware` (bootfs), `etc/madoguchi` (the image's root.pem"
                  + (", fleet-root/root.pub" if image_root else "") + "), the factory release, and an empty `data`")  # fmt: skip
    seed = branch_command("kiosk-card-seed.sh")
    bootfs = card / "boot/firmware"
    w.script(seed.where, seed.text, card, [str(CARD_SEED), str(bootfs), str(enrol_json)],
             "bootfs/kiosk/enrol.json written; user-data names the host, not the token")  # fmt: skip
    user_data = (bootfs / "user-data").read_text(encoding="utf-8")
    assert f"hostname: {device}" in user_data, f"{seed.where}: user-data does not set the host name {device}"
    assert w.issued[device]["token"] not in user_data, f"{seed.where}: the token is in user-data"
    assert (bootfs / "kiosk/enrol.json").read_bytes() == enrol_json.read_bytes()
    shutil.copyfile(enrol_json, w.root / f"kept-copy-{w.cards}.json")  # the messages table's "already used"
    first_boot(w, card, device)
    return card / "data/identity"


def first_boot(w: Walk, card: Path, device: str) -> None:
    """Branch runbook 2: the first-boot units' scripts, in their order, and what each step promises."""
    w.log.note(branch("The card is split"), "not run: `kiosk-data-setup.sh` repartitions a real card; "
               "here `/data` is the card folder's `data`")  # fmt: skip
    layout = w.script(branch("The card is split"), "kiosk-data-layout.service", card, [str(IMAGE_BIN / "kiosk-data-layout.sh")],
                      "folders on /data, `releases/current` → the factory release")  # fmt: skip
    assert (card / "data/releases/current/venv/bin/kiosk").exists(), layout
    w.log.note(branch("waits for the network and for the correct time"), "the test host's clock is set (NTP "
               "stands in); `kiosk enrol --clock-wait 300` returns at once")  # fmt: skip
    bootfs_token = card / "boot/firmware/kiosk/enrol.json"
    where = branch("It deletes `enrol.json`")
    w.script(branch("It creates its own key"), "kiosk-enrol.service", card, [str(IMAGE_BIN / "kiosk-enrol.sh")],
             "key made on the kiosk (0600), certificate with CN = device id, kiosk.toml with the branch; "
             "enrol.json erased from bootfs")  # fmt: skip
    check_enrolled(w, card, device, where)
    assert not bootfs_token.exists(), f"{where}: enrol.json is still on bootfs"
    overlay_and_reboot(w, card)
    w.start_kiosk(card)
    confirm = branch_command("kiosk-central fleet")
    w.confirm_online(device, confirm.where, confirm.text)


def check_enrolled(w: Walk, card: Path, device: str, where: str) -> None:
    """The kiosk holds its key, a certificate for its id, its branch configuration and the fleet signing root."""
    identity = w.identity_of[device] = card / "data/identity"
    assert (identity / "key.pem").stat().st_mode & 0o777 == 0o600, f"{where}: the key is not private"
    cert = x509.load_pem_x509_certificate((identity / "cert.pem").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == device, f"{where}: wrong CN"
    config = load_kiosk_config(card / "data/config/kiosk.toml")
    assert (config.kiosk.device_id, config.kiosk.branch) == (device, "本庁舎"), f"{where}: {config.kiosk}"
    assert config.broker.url == f"mqtts://127.0.0.1:{w.device_port}", f"{where}: broker {config.broker.url}"
    roots = card / "data/kiosk/trust/root"
    assert [p.name for p in roots.glob("*.pub")], f"{where}: no fleet signing root in {roots}"
    w.capsys.readouterr()
    assert main(["ca", "list", "--json"]) == 0
    assert device in w.capsys.readouterr().out, f"{where}: the centre's ledger does not list {device}"
    accepted = w.publish(identity)
    assert accepted.returncode == 0, f"{where}: the broker refuses the enrolled {device}: {accepted.stderr}"
    w.log.note(where, f"checked: {device}'s certificate is in `kiosk-central ca list`, and the broker's device "
               "listener accepts it (`mosquitto_pub` with the enrolled files → exit 0)")  # fmt: skip


def overlay_and_reboot(w: Walk, card: Path) -> None:
    """kiosk-overlay.service with raspi-config and systemctl as stubs that record their arguments."""
    stubs, calls = card / "stubs", card / "stubs.log"
    stubs.mkdir()
    for tool in ("raspi-config", "systemctl"):
        (stubs / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >>"{calls}"\n', encoding="utf-8")
        (stubs / tool).chmod(0o755)
    (card / "cmdline.txt").write_text("console=tty1 root=PARTUUID=x rootwait\n", encoding="utf-8")
    where = branch("switches its system partition to read-only")
    w.script(where, "kiosk-overlay.service", card, [str(IMAGE_BIN / "kiosk-overlay-enable.sh")],
             "stood in: raspi-config and systemctl are stubs recording their calls",
             RASPI_CONFIG=str(stubs / "raspi-config"), SYSTEMCTL=str(stubs / "systemctl"),
             KIOSK_PROC_CMDLINE=str(card / "cmdline.txt"))  # fmt: skip
    assert calls.read_text().splitlines() == [
        "raspi-config nonint do_overlayfs 0",
        "systemctl --no-block reboot",
    ], f"{where}: {calls.read_text()}"
    w.log.note(where, "checked: `raspi-config nonint do_overlayfs 0` then `systemctl --no-block reboot` were called; "
               "the reboot itself is not simulated (the next step starts the app directly)")  # fmt: skip


def kiosk_with_pairing_code(w: Walk, device: str) -> None:
    """Branch runbook 'With a pairing code': no enrol.json; the console command enrols with the code."""
    w.log.heading(f"Branch-office runbook — {device} with a pairing code (card {w.cards + 1})")
    card = w.new_card(with_image_root=False)
    w.script(branch("The card is split"), "kiosk-data-layout.service", card, [str(IMAGE_BIN / "kiosk-data-layout.sh")],
             "an image without a fleet root: the root folder is left to enrolment")  # fmt: skip
    said = w.script(branch("When no `enrol.json` is on the card"), "kiosk-enrol.service", card,
                    [str(IMAGE_BIN / "kiosk-enrol.sh")], "no enrol.json: the pairing screen is named")  # fmt: skip
    assert "pairing code" in said, said
    pair = branch_command("sudo ")
    kiosk = Mapping(card, urls=w.map.urls, words={"sudo": "", "CODE": w.issued[device]["pairing_code"],
                                                    "jp-131016-k03": device, "kiosk": "root"})  # fmt: skip
    # ("kiosk" as a whole word is only the value of --owner: the test host has no kiosk user)
    argv = [word for word in kiosk.argv(pair) if word]
    argv += ["--data-dir", str(card / "data"), "--ca-file", str(card / "etc/madoguchi/root.pem")]
    w.log.note(pair.where, "the touchscreen's keypad is not driven here (tests/test_enrolment.py types on the "
               "pairing form); the console fallback runs, `--owner root` (no kiosk user on the test host) and the "
               "defaults `--data-dir /data --ca-file /etc/madoguchi/root.pem` of the card")  # fmt: skip
    w.script(pair.where, pair.text, card, argv, "enrolled with the code; the fleet root came with the answer")
    check_enrolled(w, card, device, pair.where)
    w.start_kiosk(card)
    w.confirm_online(device, branch("confirms on the fleet dashboard"))


def table_message(phrase: str) -> re.Pattern[str]:
    """The branch runbook's message (section 3 table) saying `phrase`, as a pattern (`…` = anything)."""
    rows = re.findall(r"^\| `([^`]+)` \|", BRANCH.read_text(encoding="utf-8"), flags=re.M)
    found = [row for row in rows if phrase in row]
    assert found, f"docs/runbook-branch-office.md: no message saying {phrase!r} in the table"
    return re.compile(".*?".join(re.escape(part) for part in found[0].split("…")))


def reused_card_copy(w: Walk) -> None:
    """Branch runbook 3: a kept copy of the first card's (used) enrol.json on a new card is refused as used."""
    where = branch("was already used")
    w.log.heading(
        f"Branch-office runbook — 3. What the messages mean: a kept copy of a used enrol.json (card {w.cards + 1})"
    )
    card = w.new_card(with_image_root=True)
    (card / "boot/firmware/kiosk").mkdir()
    shutil.copyfile(w.root / "kept-copy-1.json", card / "boot/firmware/kiosk/enrol.json")
    w.script(where, "kiosk-data-layout.service", card, [str(IMAGE_BIN / "kiosk-data-layout.sh")], "")
    result = subprocess.run([str(IMAGE_BIN / "kiosk-enrol.sh")], capture_output=True, text=True, timeout=120,
                            check=False, env=w.card_env(card))  # fmt: skip
    pattern = table_message("was already used")
    assert result.returncode != 0 and pattern.search(result.stderr), f"{where}: {result.stderr}"
    assert (card / "boot/firmware/kiosk/enrol.json").exists(), f"{where}: a refused enrol.json was erased"
    w.log.skipped(branch_command("journalctl"), "no journal here: the unit's output is recorded below")
    w.log.ran(where, "kiosk-enrol.service", [str(IMAGE_BIN / "kiosk-enrol.sh")], result.returncode, result.stderr,
              "a kept copy of the first card's enrol.json is refused with the table's message; the unit fails "
              "(systemd retries it) and the file stays")  # fmt: skip
