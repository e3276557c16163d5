"""The pi-gen kiosk stage on x86: shellcheck, bats, a dry run into a root folder, unit/udev/polkit checks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.broker_fleet import FleetBroker
from central_broker.catalog_push import SigningKeys, build_release, publish_release
from central_broker.ingest import Ingest
from central_broker.pki import Pki
from central_broker.releases import ReleaseFiles, ReleaseRollout
from central_broker.store import FleetStore
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth
from kiosk_app.agent.fleet_services import attach_fleet_services
from kiosk_app.agent.release_update import PENDING_FILE
from madoguchi.config.kiosk import load_kiosk_config
from madoguchi.errors import UserError
from provisioning.updates import build_bundle, open_bundle, sign_bundle
from provisioning.updates.keys import generate_key, load_private_key, load_public_keys
from tests.fixtures.fleet import new_device_id, running_agent, wait_for
from tests.fixtures.fleet_signing import catalog_body
from tests.provisioning_cli import command, wait_listening
from tests.release_wheels import make_wheel
from tests.test_release_rollout import service_broker

REPO = Path(__file__).resolve().parent.parent
IMAGE = REPO / "provisioning" / "image"
STAGE = IMAGE / "stage-kiosk"
UNITS = sorted((STAGE / "01-system" / "files" / "units").iterdir())
EPOCH = 1767225600  # 2026-01-01, the build's SOURCE_DATE_EPOCH
SSH_FROM = "10.20.0.0/16 fd00:20::/64"  # the city's maintenance networks (KIOSK_SSH_FROM)


def _shell_files() -> list[Path]:
    files = [*IMAGE.rglob("*.sh"), IMAGE / "config", *(REPO / "tests" / "provisioning").glob("*.bats")]
    return sorted([*files, REPO / "tests" / "provisioning" / "helpers.bash"])


def _need_root_tools() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "the image dry run needs root (mount namespace, overlayfs, chroot); run the suite as root"
        )


def test_every_shell_script_passes_shellcheck() -> None:
    """GIVEN every script of the image, its config and the bats files WHEN shellchecked THEN nothing is reported."""
    files = _shell_files()
    assert len(files) >= 12
    result = subprocess.run(
        ["shellcheck", "-x", *map(str, files)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout


def test_bats_suite_for_the_image_scripts_passes() -> None:
    result = subprocess.run(
        ["bats", "--tap", str(REPO / "tests" / "provisioning")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not ok" not in result.stdout
    assert result.stdout.count("\nok ") >= 14


def test_pi_gen_config_builds_a_japanese_arm64_image_with_the_kiosk_stage() -> None:
    """GIVEN provisioning/image/config WHEN sourced by bash as pi-gen does THEN Japan settings and our stage."""
    names = "RELEASE LOCALE_DEFAULT TIMEZONE_DEFAULT KEYBOARD_KEYMAP WPA_COUNTRY STAGE_LIST PUBKEY_ONLY_SSH"
    script = f'source "{IMAGE / "config"}"; for v in {names}; do printf "%s=%s\\n" "$v" "${{!v}}"; done'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    values = dict(line.split("=", 1) for line in out.splitlines())
    assert values["LOCALE_DEFAULT"] == "ja_JP.UTF-8"
    assert values["TIMEZONE_DEFAULT"] == "Asia/Tokyo"
    assert values["KEYBOARD_KEYMAP"] == "jp"
    assert values["WPA_COUNTRY"] == "JP"
    assert values["PUBKEY_ONLY_SSH"] == "1"
    assert values["STAGE_LIST"].split() == ["stage0", "stage1", "stage2", str(STAGE)]
    assert (STAGE / "EXPORT_IMAGE").is_file()
    assert "pcscd" in (STAGE / "00-packages" / "00-packages-nr").read_text().split()


def test_the_image_installs_every_font_the_screens_and_the_printer_draw_with() -> None:
    """GIVEN the font files the kiosk screens and the receipt printer use (Nepali, Tiếng Việt included)
    WHEN each is looked up in the Debian package database of this machine THEN its package is in the
    image's package list, so a flashed kiosk draws and prints every tier-1 language."""
    from device_drivers.printer.fonts import FONT_PATHS
    from kiosk_app.ui.fonts import _CANDIDATES

    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not available")
    wanted = set(FONT_PATHS) | {paths[0] for paths in _CANDIDATES.values()}
    packages = set((STAGE / "00-packages" / "00-packages-nr").read_text().split())
    missing = {}
    for path in sorted(wanted):
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        assert owner.returncode == 0, f"{path} belongs to no installed package: run scripts/bootstrap.sh"
        package = owner.stdout.split(":", 1)[0]
        if package not in packages:
            missing[path] = package
    assert missing == {}


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory, fleet_pki: Pki, signing_keys: SigningKeys) -> Path:
    """Run provisioning/image/dry-run.sh: the stage's host and chroot scripts into a root folder. The image
    pins the test fleet's CA root and trusts its signing root (`catalog keys`) and a release key."""
    _need_root_tools()
    work = tmp_path_factory.mktemp("image")
    wheels = make_wheel(work / "wheels", "0.9.0").parent
    generate_key(work / "keys" / "release-2026.key")
    (work / "fleet-root").mkdir()
    shutil.copyfile(signing_keys.root_public, work / "fleet-root" / "root.pub")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        KIOSK_WHEELHOUSE=str(wheels),
        KIOSK_APP_VERSION="0.9.0",
        KIOSK_APP_REQUIREMENT="kioskfake==0.9.0",
        KIOSK_ROOT_CA=str(fleet_pki.dir / "root" / "root.pem"),
        KIOSK_RELEASE_KEYS=str(work / "keys"),
        KIOSK_FLEET_ROOT_KEYS=str(work / "fleet-root"),
        KIOSK_NTP_SERVERS="ntp1.city.example ntp2.city.example",
        KIOSK_ENROL_URL="https://enrol.city.example:8443",
        KIOSK_PAYMENT_USB="0403:6001:A10K5XQ2",
        KIOSK_PRINTER_USB="0416:5011",
        SOURCE_DATE_EPOCH=str(EPOCH),
        KIOSK_SSH_FROM=SSH_FROM,
    )
    root = work / "root"
    result = subprocess.run(
        [str(IMAGE / "dry-run.sh"), str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_dry_run_installs_units_scripts_and_rules_with_their_modes(rootfs: Path) -> None:
    expected = {
        **{f"etc/systemd/system/{u.name}": 0o644 for u in UNITS},
        "usr/lib/madoguchi/kiosk-enrol.sh": 0o755,
        "usr/lib/madoguchi/kiosk-data-setup.sh": 0o755,
        "usr/lib/madoguchi/kiosk-data-layout.sh": 0o755,
        "usr/lib/madoguchi/kiosk-overlay-enable.sh": 0o755,
        "etc/systemd/system.conf.d/10-kiosk-watchdog.conf": 0o644,
        "etc/systemd/journald.conf.d/10-kiosk-journal.conf": 0o644,
        "etc/systemd/system/systemd-time-wait-sync.service.d/10-kiosk-time-wait.conf": 0o644,
        "usr/lib/madoguchi/kiosk-journal.sh": 0o755,
        "etc/systemd/timesyncd.conf.d/10-kiosk-ntp.conf": 0o644,
        "etc/systemd/system/systemd-timesyncd.service.d/10-kiosk-clock.conf": 0o644,
        "etc/tmpfiles.d/kiosk-timesync.conf": 0o644,
        "etc/udev/rules.d/70-kiosk-devices.rules": 0o644,
        "etc/polkit-1/rules.d/60-kiosk-pcscd.rules": 0o644,
        "etc/polkit-1/rules.d/61-kiosk-reboot.rules": 0o644,
        "etc/polkit-1/rules.d/62-kiosk-update.rules": 0o644,
        "etc/modprobe.d/kiosk-blacklist-usblp.conf": 0o644,
        "etc/madoguchi/root.pem": 0o644,
        "etc/madoguchi/kiosk.env": 0o644,
        "etc/madoguchi/release-keys/release-2026.pub": 0o644,
    }
    modes = {name: _mode(rootfs / name) for name in expected if (rootfs / name).exists()}
    assert modes == expected
    assert (
        "RuntimeWatchdogSec=14s" in (rootfs / "etc/systemd/system.conf.d/10-kiosk-watchdog.conf").read_text()
    )
    ntp = (rootfs / "etc/systemd/timesyncd.conf.d/10-kiosk-ntp.conf").read_text()
    assert "NTP=ntp1.city.example ntp2.city.example" in ntp
    assert int((rootfs / "var/lib/systemd/timesync/clock").stat().st_mtime) == EPOCH
    clock = (rootfs / "etc/systemd/system/systemd-timesyncd.service.d/10-kiosk-clock.conf").read_text()
    assert (
        "BindPaths=-/data/timesync:/var/lib/systemd/timesync" in clock and "RequiresMountsFor=/data" in clock
    )
    tmpfiles = (rootfs / "etc/tmpfiles.d/kiosk-timesync.conf").read_text()
    assert "d /data/timesync 0755 systemd-timesync systemd-timesync -" in tmpfiles
    assert not list((rootfs / "etc/madoguchi/release-keys").glob("*.key")), (
        "private keys never enter the image"
    )


def _unit_settings(path: Path) -> dict[str, list[str]]:
    """`key → values` of a unit or drop-in file (sections merged; enough for single-section checks)."""
    values: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_a_kiosk_without_network_starts_its_app_after_a_bounded_wait_for_the_clock(rootfs: Path) -> None:
    """GIVEN the image WHEN no NTP server answers at boot THEN the wait for time-sync.target (which the app is
    ordered after) ends within 2 minutes: upstream systemd-time-wait-sync waits forever."""
    upstream = Path("/lib/systemd/system/systemd-time-wait-sync.service")
    if upstream.exists():
        assert _unit_settings(upstream)["TimeoutStartSec"] == ["infinity"]  # the fact the drop-in answers
    drop_in = rootfs / "etc/systemd/system/systemd-time-wait-sync.service.d/10-kiosk-time-wait.conf"
    (timeout,) = _unit_settings(drop_in)["TimeoutStartSec"]
    assert timeout.endswith("s") and 0 < int(timeout[:-1]) <= 120
    ui = _unit_settings(rootfs / "etc/systemd/system/kiosk-ui.service")
    assert "time-sync.target" in " ".join(ui["After"])


def test_an_enrolment_that_succeeds_on_a_retry_starts_the_app_without_a_power_cycle(rootfs: Path) -> None:
    """GIVEN kiosk-ui and kiosk-overlay skipped at boot (no identity yet) WHEN kiosk-enrol succeeds on a later
    retry THEN the enrolment unit starts both (without blocking on them)."""
    enrol = _unit_settings(rootfs / "etc/systemd/system/kiosk-enrol.service")
    assert enrol["Restart"] == ["on-failure"]
    (post,) = enrol["ExecStartPost"]
    words = post.split()
    assert words[0].endswith("systemctl") and "--no-block" in words and "start" in words
    assert {"kiosk-ui.service", "kiosk-overlay.service"} <= set(words)


def test_the_journal_survives_a_reboot_on_the_data_partition_and_is_capped(rootfs: Path) -> None:
    """GIVEN the image WHEN it boots THEN kiosk-journal binds /data/journal over /var/log/journal and flushes,
    and journald keeps at most 16 MB there, so the reason for a watchdog reboot is still readable after it."""
    journald = _unit_settings(rootfs / "etc/systemd/journald.conf.d/10-kiosk-journal.conf")
    assert journald["Storage"] == ["auto"] and journald["SystemMaxUse"] == ["16M"]
    assert not (rootfs / "etc/systemd/journald.conf.d/10-kiosk-volatile.conf").exists()
    unit = _unit_settings(rootfs / "etc/systemd/system/kiosk-journal.service")
    assert unit["RequiresMountsFor"] == ["/data"] and unit["ExecStart"] == [
        "/usr/lib/madoguchi/kiosk-journal.sh"
    ]
    script = (rootfs / "usr/lib/madoguchi/kiosk-journal.sh").read_text()
    assert 'mount --bind "${DATA_DIR}/journal" "${JOURNAL_DIR}"' in script and "journalctl --flush" in script


def test_dry_run_turns_blanking_off_and_root_growth_off(rootfs: Path) -> None:
    words = (rootfs / "boot/firmware/cmdline.txt").read_text().split()
    assert "consoleblank=0" in words
    assert "resize" not in words
    assert "rootwait" in words


def test_dry_run_creates_the_kiosk_user_with_its_device_groups(rootfs: Path) -> None:
    passwd = {
        line.split(":")[0]: line.split(":") for line in (rootfs / "etc/passwd").read_text().splitlines()
    }
    assert passwd["kiosk"][6] == "/usr/sbin/nologin"
    groups = {
        line.split(":")[0]: line.split(":")[3].split(",")
        for line in (rootfs / "etc/group").read_text().splitlines()
    }
    for group in ("video", "render", "input", "dialout", "lp"):
        assert "kiosk" in groups[group], group


def test_dry_run_locks_the_maintenance_accounts_throwaway_password(rootfs: Path) -> None:
    """GIVEN the maintenance account pi-gen's stage1 made with the config's random FIRST_USER_PASS WHEN the
    stage has run THEN its password is locked ('!' in shadow): it logs in only with its SSH keys."""
    shadow = {
        line.split(":")[0]: line.split(":") for line in (rootfs / "etc/shadow").read_text().splitlines()
    }
    assert shadow["kadmin"][1].startswith("!")
    assert len(shadow["kadmin"][1]) > 2, "a hash stays behind the lock, as after usermod --lock"


def test_dry_run_enables_the_units_and_masks_the_console(rootfs: Path) -> None:
    system = rootfs / "etc/systemd/system"
    for wants, unit in [
        ("multi-user.target.wants", "kiosk-ui.service"),
        ("multi-user.target.wants", "kiosk-update.path"),
        ("multi-user.target.wants", "kiosk-pair.service"),
        ("multi-user.target.wants", "kiosk-enrol.service"),
        ("multi-user.target.wants", "kiosk-overlay.service"),
        ("multi-user.target.wants", "kiosk-data-layout.service"),
        ("multi-user.target.wants", "kiosk-journal.service"),
        ("local-fs.target.wants", "kiosk-data.service"),
        ("local-fs.target.wants", "data.mount"),
        ("timers.target.wants", "kiosk-renew.timer"),
        ("sysinit.target.wants", "systemd-time-wait-sync.service"),
        ("sockets.target.wants", "pcscd.socket"),
    ]:
        assert (system / wants / unit).is_symlink(), f"{unit} not enabled in {wants}"
    assert os.readlink(system / "getty@tty1.service") == "/dev/null"


def test_dry_run_builds_the_app_venv_from_the_baked_wheels_offline(rootfs: Path) -> None:
    release = rootfs / "opt/madoguchi/releases/0.9.0"
    assert json.loads((release / "manifest.json").read_text())["version"] == "0.9.0"
    out = subprocess.run(
        [str(release / "venv/bin/python"), "-c", "import kioskfake; print(kioskfake.VERSION)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "0.9.0"
    assert (release / "venv/bin/pip").exists(), "updates build their venvs with this pip"


def test_dry_run_masks_what_a_read_only_kiosk_must_not_run_and_enables_the_firewall(rootfs: Path) -> None:
    """GIVEN the image WHEN it boots THEN apt's daily runs (updates come as images and releases), avahi (mDNS)
    and Bluetooth are masked, and nftables.service loads /etc/nftables.conf before the network."""
    system = rootfs / "etc/systemd/system"
    masked = ["apt-daily.timer", "apt-daily-upgrade.timer", "apt-daily.service", "apt-daily-upgrade.service",
              "avahi-daemon.service", "avahi-daemon.socket", "bluetooth.service"]  # fmt: skip
    assert {unit: os.readlink(system / unit) for unit in masked if (system / unit).is_symlink()} == {
        unit: "/dev/null" for unit in masked
    }
    assert (system / "sysinit.target.wants/nftables.service").is_symlink()
    assert "nftables" in (STAGE / "00-packages" / "00-packages-nr").read_text().split()


_NFT_LOAD = r"""
nft -f "$1" && nft list ruleset
"""


def test_the_firewall_loads_into_a_kernel_and_lets_ssh_in_only_from_the_maintenance_networks(
    rootfs: Path, tmp_path: Path
) -> None:
    """GIVEN the image's /etc/nftables.conf (KIOSK_SSH_FROM = two networks) WHEN nft loads it into a throwaway
    network namespace THEN inbound is dropped by default, SSH is accepted only from those networks, and ND,
    DHCP replies and outbound traffic pass; a broken copy is refused by `nft -c`, so the check can fail."""
    if shutil.which("nft") is None:
        pytest.fail("nft is missing (scripts/bootstrap.sh installs the nftables package)")
    conf = rootfs / "etc/nftables.conf"
    assert _mode(conf) == 0o755
    loaded = subprocess.run(["unshare", "--net", "bash", "-c", _NFT_LOAD, "_", str(conf)],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    listing = loaded.stdout
    assert "type filter hook input priority filter; policy drop;" in listing
    assert "type filter hook output priority filter; policy accept;" in listing
    assert "10.20.0.0/16" in listing and "fd00:20::/64" in listing
    ssh_rules = [line.strip() for line in listing.splitlines() if "dport 22" in line]
    assert ssh_rules == [
        "tcp dport 22 ip saddr @ssh_from_v4 ct state new accept",
        "tcp dport 22 ip6 saddr @ssh_from_v6 ct state new accept",
    ]
    for needed in ("nd-neighbor-solicit", "nd-router-advert", "udp sport 67 udp dport 68 accept",
                   "udp sport 547 udp dport 546 accept", "iif \"lo\" accept"):  # fmt: skip
        assert needed in listing, needed
    broken = tmp_path / "broken.nft"
    broken.write_text(conf.read_text().replace("policy drop;", "policy dorp;"))
    refused = subprocess.run(["unshare", "--net", "nft", "-c", "-f", str(broken)], capture_output=True, text=True,
                             timeout=60, check=False)  # fmt: skip
    assert refused.returncode != 0


_SSHD = r"""
mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd
sshd="$(command -v sshd || echo /usr/sbin/sshd)"
"$sshd" -t -f "$1" -h "$2" && "$sshd" -T -f "$1" -h "$2" -C "user=kadmin,host=maint,addr=$3"
"""


def _sshd_effective(main: Path, host_key: Path, addr: str) -> dict[str, list[str]]:
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", _SSHD, "_", str(main), str(host_key), addr],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    values: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        values.setdefault(key, []).append(value)
    return values


def test_sshd_takes_only_kadmins_keys_from_the_maintenance_networks_even_after_cloud_init(
    rootfs: Path, tmp_path: Path
) -> None:
    """GIVEN Debian's sshd_config including the image's drop-in folder, plus the drop-in cloud-init writes
    when Imager asks for password logins (50-cloud-init.conf) WHEN sshd tests the configuration THEN it is
    valid, and the effective settings are keys only, no root, only kadmin and only from KIOSK_SSH_FROM."""
    if shutil.which("sshd") is None and not Path("/usr/sbin/sshd").exists():
        pytest.fail("sshd is missing (scripts/bootstrap.sh installs the openssh-server package)")
    drop_ins = tmp_path / "sshd_config.d"
    shutil.copytree(rootfs / "etc/ssh/sshd_config.d", drop_ins)
    (drop_ins / "50-cloud-init.conf").write_text("PasswordAuthentication yes\n")
    debian = Path("/etc/ssh/sshd_config")
    base = debian.read_text() if debian.exists() else "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n"
    main = tmp_path / "sshd_config"
    main.write_text(base.replace("Include /etc/ssh/sshd_config.d/*.conf", f"Include {drop_ins}/*.conf"))
    assert f"Include {drop_ins}/*.conf" in main.read_text()
    host_key = tmp_path / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    effective = _sshd_effective(main, host_key, "10.20.3.4")
    assert effective["passwordauthentication"] == ["no"]
    assert effective["kbdinteractiveauthentication"] == ["no"]
    assert effective["authenticationmethods"] == ["publickey"]
    assert effective["permitrootlogin"] == ["no"]
    assert effective["allowusers"] == ["kadmin@10.20.0.0/16", "kadmin@fd00:20::/64"]
    assert effective["maxauthtries"] == ["3"]
    assert effective["x11forwarding"] == ["no"] and effective["allowtcpforwarding"] == ["local"]


def test_the_maintenance_account_becomes_root_with_sudo_and_nothing_else_does(rootfs: Path) -> None:
    """GIVEN kadmin (SSH keys only, password locked) WHEN the image is built THEN a sudoers drop-in that
    visudo accepts lets exactly kadmin run anything as root without a password, and is 0440."""
    if shutil.which("visudo") is None and not Path("/usr/sbin/visudo").exists():
        pytest.fail("visudo is missing (scripts/bootstrap.sh installs the sudo package)")
    sudoers = rootfs / "etc/sudoers.d/010_kadmin-nopasswd"
    assert _mode(sudoers) == 0o440
    rules = [line for line in sudoers.read_text().splitlines() if line and not line.startswith("#")]
    assert rules == ["kadmin ALL=(ALL:ALL) NOPASSWD: ALL"]
    visudo = shutil.which("visudo") or "/usr/sbin/visudo"
    checked = subprocess.run([visudo, "-c", "-f", str(sudoers)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


_VERIFY = r"""
root="$1"; scratch="$2"; shift 2
mkdir -p "$scratch/upper" "$scratch/work"
mount -t overlay overlay -o "lowerdir=$root/usr:/usr,upperdir=$scratch/upper,workdir=$scratch/work" "$root/usr"
for unit in "$@"; do
  echo "== $unit"
  SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no --root="$root" "$unit" 2>&1
  echo "rc=$?"
done
"""


def _verify(rootfs: Path, tmp_path: Path, units: list[str]) -> dict[str, list[str]]:
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", _VERIFY, "_", str(rootfs), str(tmp_path), *units],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    report: dict[str, list[str]] = {}
    for block in result.stdout.split("== ")[1:]:
        name, *lines = block.strip().splitlines()
        report[name] = lines
    return report


def test_every_unit_passes_systemd_analyze_verify_without_any_output(rootfs: Path, tmp_path: Path) -> None:
    """GIVEN the dry-run root (app binaries on /data stubbed: they arrive at first boot) WHEN each unit is
    verified THEN there is no output at all; a deliberately broken unit proves the check reports problems."""
    stub = rootfs / "data/releases/current/venv/bin/kiosk"
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    broken = rootfs / "etc/systemd/system/zz-broken.service"
    broken.write_text("[Service]\nType=notify\nStartLimitIntervalSec=5\nExecStart=/nonexistent/kiosk\n")
    try:
        report = _verify(rootfs, tmp_path, [u.name for u in UNITS] + ["zz-broken.service"])
    finally:
        broken.unlink()
    assert report.pop("zz-broken.service") != ["rc=0"], "the check must be able to fail"
    assert report == {u.name: ["rc=0"] for u in UNITS}


_UDEV = r"""
rules="$1"
mkdir -p /run/udev/rules.d
mount --bind "$rules" /run/udev/rules.d
udevadm test --action=add /sys/class/tty/tty 2>&1 | grep -F "/run/udev/rules.d/" || true
"""


def test_udev_rules_parse_cleanly_with_udevadm(rootfs: Path, tmp_path: Path) -> None:
    """GIVEN the generated rules and a broken control file WHEN udevadm (Debian 12: no `verify`) loads them
    THEN only the control file is reported."""
    if shutil.which("udevadm") is None:
        pytest.fail("udevadm is missing (scripts/bootstrap.sh installs the udev package)")
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(rootfs / "etc/udev/rules.d/70-kiosk-devices.rules", rules)
    (rules / "71-control.rules").write_text('SUBSYSTEM=="tty", ATTRS{idVendor}="0403", SYMLINK+="kiosk/x"\n')
    out = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", _UDEV, "_", str(rules)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "Reading rules file: /run/udev/rules.d/70-kiosk-devices.rules" in out
    problems = [line for line in out.splitlines() if not line.startswith("Reading rules file")]
    assert problems and all("71-control.rules" in line for line in problems), problems
    generated = (rules / "70-kiosk-devices.rules").read_text()
    assert 'ATTRS{serial}=="A10K5XQ2", SYMLINK+="kiosk/payment", GROUP="dialout", MODE="0660"' in generated
    assert 'SYMLINK+="kiosk/printer", GROUP="lp"' in generated


_POLKIT = """
const fs = require("fs");
const rules = [];
global.polkit = { Result: { YES: "yes", NOT_HANDLED: "not_handled" }, addRule: (f) => rules.push(f) };
eval(fs.readFileSync(process.argv[1], "utf8"));
const ask = (id, user) => rules[0]({ id }, { user });
console.log(JSON.stringify([
  ask("org.debian.pcsc-lite.access_pcsc", "kiosk"), ask("org.debian.pcsc-lite.access_card", "kiosk"),
  ask("org.debian.pcsc-lite.access_pcsc", "pi"), ask("org.freedesktop.login1.reboot", "kiosk"),
]));
"""


def test_polkit_rule_lets_only_the_kiosk_user_use_the_card_reader(rootfs: Path) -> None:
    """GIVEN the polkit rule WHEN evaluated by node as polkit would THEN kiosk may use pcscd, nobody else, nothing more."""
    rule = rootfs / "etc/polkit-1/rules.d/60-kiosk-pcscd.rules"
    out = subprocess.run(
        ["node", "-e", _POLKIT, str(rule)], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["yes", "yes", "not_handled", "not_handled"]


_POLKIT_REBOOT = """
const fs = require("fs");
const rules = [];
global.polkit = { Result: { YES: "yes", NOT_HANDLED: "not_handled" }, addRule: (f) => rules.push(f) };
eval(fs.readFileSync(process.argv[1], "utf8"));
const ask = (id, user) => rules[0]({ id }, { user });
console.log(JSON.stringify([
  ask("org.freedesktop.login1.reboot", "kiosk"), ask("org.freedesktop.login1.reboot-multiple-sessions", "kiosk"),
  ask("org.freedesktop.login1.power-off", "kiosk"), ask("org.freedesktop.login1.reboot-ignore-inhibit", "kiosk"),
  ask("org.freedesktop.login1.reboot", "pi"),
]));
"""


def test_polkit_rule_lets_the_kiosk_user_reboot_and_nothing_more(rootfs: Path) -> None:
    """GIVEN the reboot polkit rule WHEN evaluated as polkit would THEN kiosk may reboot (the centre's signed
    `reboot` command), but not power off or override inhibitors, and no other user gains anything."""
    rule = rootfs / "etc/polkit-1/rules.d/61-kiosk-reboot.rules"
    out = subprocess.run(
        ["node", "-e", _POLKIT_REBOOT, str(rule)], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["yes", "yes", "not_handled", "not_handled", "not_handled"]


_POLKIT_UPDATE = """
const fs = require("fs");
const rules = [];
global.polkit = { Result: { YES: "yes", NOT_HANDLED: "not_handled" }, addRule: (f) => rules.push(f) };
eval(fs.readFileSync(process.argv[1], "utf8"));
const ask = (unit, verb, user) => rules[0]({ id: "org.freedesktop.systemd1.manage-units",
  lookup: (k) => ({ unit, verb })[k] }, { user });
const other = rules[0]({ id: "org.freedesktop.systemd1.manage-unit-files", lookup: () => "kiosk-ui.service" },
  { user: "kiosk" });
console.log(JSON.stringify([
  ask("kiosk-ui.service", "restart", "kiosk"), ask("kiosk-ui.service", "stop", "kiosk"),
  ask("ssh.service", "restart", "kiosk"), ask("kiosk-ui.service", "restart", "pi"), other,
]));
"""


def test_polkit_rule_lets_the_installer_restart_the_app_and_nothing_more(rootfs: Path) -> None:
    """GIVEN the update polkit rule WHEN evaluated as polkit would THEN the kiosk user may restart
    kiosk-ui.service (the installer's switch and rollback), but not stop it, not touch other units or unit
    files, and no other user gains anything."""
    rule = rootfs / "etc/polkit-1/rules.d/62-kiosk-update.rules"
    out = subprocess.run(
        ["node", "-e", _POLKIT_UPDATE, str(rule)], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["yes", "not_handled", "not_handled", "not_handled", "not_handled"]


def test_release_installer_runs_when_the_app_hands_over_a_verified_bundle(rootfs: Path) -> None:
    """GIVEN the image's units THEN kiosk-update.path watches the file the app writes after verifying a
    bundle and starts the installer, which runs `kiosk update apply-pending` as the kiosk user."""
    path_unit = (rootfs / "etc/systemd/system/kiosk-update.path").read_text()
    assert "PathExists=/data/releases/pending.json" in path_unit and "Unit=kiosk-update.service" in path_unit
    service = (rootfs / "etc/systemd/system/kiosk-update.service").read_text()
    assert "User=kiosk" in service and "Type=oneshot" in service
    assert "ExecStart=/data/releases/current/venv/bin/kiosk update apply-pending --data-dir /data" in service
    assert PENDING_FILE == "pending.json"


def test_pairing_screen_starts_only_on_a_kiosk_without_enrol_json_and_knows_where_to_enrol(
    rootfs: Path,
) -> None:
    """GIVEN the image THEN kiosk-pair.service shows the pairing screen only while the kiosk has no certificate
    and its card carried no enrol.json, reads the enrolment address the image was built with, runs as the
    kiosk user, and once paired switches to the read-only root and reboots (kiosk-overlay.service)."""
    unit = (rootfs / "etc/systemd/system/kiosk-pair.service").read_text()
    for line in (
        "ConditionPathExists=!/data/identity/cert.pem",
        "ConditionPathExists=!/boot/firmware/kiosk/enrol.json",
        "OnSuccess=kiosk-overlay.service",
        "EnvironmentFile=-/etc/madoguchi/kiosk.env",
        "User=kiosk",
        "ExecStart=/data/releases/current/venv/bin/kiosk pair --data-dir /data --fullscreen",
    ):
        assert line in unit, line
    assert (
        rootfs / "etc/madoguchi/kiosk.env"
    ).read_text() == "KIOSK_ENROL_URL=https://enrol.city.example:8443\n"


def test_release_keys_baked_into_the_image_accept_only_bundles_of_their_signing_key(rootfs: Path) -> None:
    """GIVEN the image's /etc/madoguchi/release-keys WHEN bundles are opened as `kiosk update apply` does THEN
    one signed with the centre's key verifies and one signed with another key is refused."""
    work = rootfs.parent
    keys = load_public_keys(rootfs / "etc/madoguchi/release-keys")
    bundle = work / "1.0.0.tar"
    wheels = make_wheel(work / "wheels-1.0.0", "1.0.0").parent  # the app at the release version
    build_bundle(wheels, "1.0.0", bundle, app="kioskfake")
    sign_bundle(bundle, load_private_key(work / "keys" / "release-2026.key"))
    assert open_bundle(bundle, keys).manifest.version == "1.0.0"
    sign_bundle(bundle, Ed25519PrivateKey.generate())
    with pytest.raises(UserError, match="no valid signature"):
        open_bundle(bundle, keys)


def test_timesync_folder_on_the_data_partition_is_created_for_the_timesync_user(tmp_path: Path) -> None:
    """GIVEN the image's tmpfiles rule WHEN systemd-tmpfiles applies it at boot (here: against a root folder
    with the systemd-timesync user) THEN /data/timesync exists, owned by that user, for the clock file."""
    root = tmp_path / "root"
    (root / "etc/tmpfiles.d").mkdir(parents=True)
    rule = (
        Path(__file__).resolve().parent.parent
        / "provisioning/image/stage-kiosk/01-system/files/conf/kiosk-timesync.tmpfiles"
    )
    shutil.copy(rule, root / "etc/tmpfiles.d/kiosk-timesync.conf")
    (root / "etc/passwd").write_text(
        "root:x:0:0::/root:/bin/sh\nsystemd-timesync:x:997:997::/:/usr/sbin/nologin\n"
    )
    (root / "etc/group").write_text("root:x:0:\nsystemd-timesync:x:997:\n")
    subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create", "kiosk-timesync.conf"], check=True)
    made = (root / "data/timesync").stat()
    assert (made.st_uid, made.st_mode & 0o777) == (997, 0o755)


@pytest.mark.mosquitto
def test_a_kiosk_from_the_image_enrols_and_accepts_a_signed_catalog_and_release(
    rootfs: Path,
    fleet_broker: FleetBroker,
    fleet_pki: Pki,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN the dry-run image (fleet CA root, fleet signing root, release key baked in) WHEN its first boot runs
    kiosk-data-layout and kiosk-enrol against enrol-serve, and the kiosk agent starts with the configuration
    enrolment wrote THEN a catalog published with the centre's signing keys is applied, and a release rolled
    out to it is downloaded over mutual TLS and verified against the image's release key — nothing is copied
    by hand."""
    data = tmp_path / "data"
    layout_env = {**os.environ, "KIOSK_DATA_DIR": str(data), "KIOSK_OWNER": "root",
                  "KIOSK_FACTORY_DIR": str(rootfs / "opt/madoguchi/releases"),
                  "KIOSK_FLEET_ROOT_DIR": str(rootfs / "etc/madoguchi/fleet-root")}  # fmt: skip
    subprocess.run([str(rootfs / "usr/lib/madoguchi/kiosk-data-layout.sh")], env=layout_env, check=True,
                   capture_output=True, timeout=30)  # fmt: skip
    device = new_device_id()
    central_data = tmp_path / "central"
    if not (fleet_pki.dir / "services" / "enrol-image").is_dir():
        fleet_pki.issue_service("enrol-image", hosts=["127.0.0.1"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"https://127.0.0.1:{port}"
    serve = subprocess.Popen(
        [*command("kiosk-central"), "enrol-serve", "--port", str(port), "--pki-dir", str(fleet_pki.dir),
         "--data-dir", str(central_data), "--cert-name", "enrol-image", "--broker-url", fleet_broker.url,
         "--signing-dir", str(signing_keys.dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    ingest = Ingest(central_store, service_broker(fleet_broker, fleet_pki, "svc-ingest"))
    ingest.start()
    try:
        wait_listening(serve, port, "enrol-serve")
        assert ingest.subscribed.wait(10), fleet_broker.log_text()
        token_file = tmp_path / "bootfs" / "kiosk" / "enrol.json"
        subprocess.run(
            [*command("kiosk-central"), "enrol-token", "--device", device, "--branch", "本庁舎", "--central", url,
             "--data-dir", str(central_data), "--pki-dir", str(fleet_pki.dir), "--signing-dir", str(signing_keys.dir),
             "--out", str(token_file)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        enrol_env = {**layout_env, "KIOSK_TOKEN_FILE": str(token_file), "KIOSK_BIN": str(Path(sys.executable).parent / "kiosk"),
                     "KIOSK_CA_FILE": str(rootfs / "etc/madoguchi/root.pem")}  # fmt: skip
        enrolled = subprocess.run([str(rootfs / "usr/lib/madoguchi/kiosk-enrol.sh")], env=enrol_env,
                                  capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr

        config = load_kiosk_config(data / "config" / "kiosk.toml")
        # The one path outside /data in the enrolled configuration is the image's, here under the dry-run root.
        assert config.updates.release_keys == Path("/etc/madoguchi/release-keys")
        config = config.model_copy(update={"updates": config.updates.model_copy(
            update={"release_keys": rootfs / "etc/madoguchi/release-keys"})})  # fmt: skip
        agent = FleetAgent(config, SimulatedDeviceHealth(config),
                           options=AgentOptions(reconnect_min_s=0.2, tick_s=0.05, drain_start_delay=lambda: 0.0))  # fmt: skip
        idle = threading.Event()  # no resident: the catalog is applied at once
        idle.set()
        services = attach_fleet_services(agent, idle=idle.is_set, clock_is_synced=lambda: True)
        try:
            with running_agent(agent):
                wait_for(agent.connected.is_set, f"{device} connected over mTLS with its enrolled identity")
                catalog_broker = service_broker(fleet_broker, fleet_pki, "svc-catalog")
                release = build_release(catalog_body(71), signing_keys.catalog_key())
                publish_release(catalog_broker, signing_keys, release, [device], central_store)
                wait_for(lambda: services.catalogs.version() == 71, "the signed catalog applied")
                idle.clear()  # a resident arrives: the release is fetched and verified, then waits

                work = rootfs.parent
                wheels = make_wheel(work / "wheels-9.1.0", "9.1.0").parent
                bundle = tmp_path / "release-9.1.0.tar"
                build_bundle(wheels, "9.1.0", bundle, app="kioskfake")
                sign_bundle(bundle, load_private_key(work / "keys" / "release-2026.key"))
                rollout = ReleaseRollout(central_store, catalog_broker, signing_keys,
                                         ReleaseFiles(central_data / "releases"))  # fmt: skip
                rollout.start(bundle, load_public_keys(work / "keys"), url, [device], test_device=device,
                              percents=(100,))  # fmt: skip

                def acks() -> list[str]:
                    return [a.status for a in central_store.acks(device, "release-9.1.0")]

                wait_for(lambda: "WAITING_IDLE" in acks(), "the release verified, waiting for the resident")
                assert acks()[:4] == ["QUEUED", "DOWNLOADING", "VERIFIED", "WAITING_IDLE"]
                assert not [a for a in central_store.alerts(device_id=device) if a.code == "keys_rejected"]
        finally:
            services.releases.wait_idle()
    finally:
        ingest.stop()
        serve.terminate()
        serve.wait(timeout=10)
        if serve.stderr:
            serve.stderr.close()
