"""pi-gen's config checks on the shipped image config, and build-image.sh staging for build.sh and build-docker.sh.

provisioning/image/check-config.sh repeats the checks of pi-gen's build.sh (arm64 branch) plus our own; the
fake pi-gen trees here have pi-gen's layout, and their build.sh / build-docker.sh only record how they
were called. Docker does not run here: the container is simulated by a copy of the pi-gen tree (its
/pi-gen) and a lone copy of the generated config (its /config).
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioning.updates.keys import generate_key
from provisioning.updates.sums import verify_sums

REPO = Path(__file__).resolve().parent.parent
IMAGE = REPO / "provisioning" / "image"
CONFIG = IMAGE / "config"
CHECKER = IMAGE / "check-config.sh"
WRAPPER = IMAGE / "build-image.sh"
# The last commit with the config pi-gen refused (issue 17 item 2).
BROKEN_CONFIG_COMMIT = "9a7aab54c5cdf0ea51b93b4646c5efa67ee410fc"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFGqJYMMayeb7VIKFlAPydwAGnk5ZKM5k6aWSyQZURjv ops@city.example"
PATH_VARS = (
    "KIOSK_WHEELHOUSE",
    "KIOSK_ROOT_CA",
    "KIOSK_RELEASE_KEYS",
    "KIOSK_FLEET_ROOT_KEYS",
    "KIOSK_SSH_PUBKEY_FILE",
)

# What the fake build.sh / build-docker.sh do: record arguments, working directory and (build.sh) the
# settings pi-gen's stages would see after sourcing -c the way build.sh does (BASE_DIR exported first).
FAKE_BUILD = """#!/bin/bash -e
export ARCH=arm64
BASE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export BASE_DIR
printf '%s\\n' "$@" >"${BASE_DIR}/called.args"
pwd >"${BASE_DIR}/called.cwd"
while getopts c: flag; do source "${OPTARG}"; done
for v in STAGE_LIST FIRST_USER_NAME FIRST_USER_PASS DISABLE_FIRST_BOOT_USER_RENAME PUBKEY_ONLY_SSH \\
	PUBKEY_SSH_FIRST_USER IMG_NAME KIOSK_WHEELHOUSE KIOSK_ROOT_CA KIOSK_RELEASE_KEYS KIOSK_FLEET_ROOT_KEYS \\
	KIOSK_SSH_PUBKEY_FILE KIOSK_APP_REQUIREMENT KIOSK_PAYMENT_USB; do
	printf '%s=%s\\n' "$v" "${!v}"
done >"${BASE_DIR}/called.env"
if [[ -z "${FAKE_NO_IMAGE:-}" ]]; then  # what pi-gen's export-image leaves in deploy/
	mkdir -p "${BASE_DIR}/deploy"
	printf 'image of %s\\n' "${IMG_NAME}" >"${BASE_DIR}/deploy/image_2026-12-06-${IMG_NAME}.img.xz"
	printf 'Packages:\\n' >"${BASE_DIR}/deploy/2026-12-06-${IMG_NAME}.info"
fi
exec "${MADOGUCHI_CHECKER}" --base-dir "${BASE_DIR}" "${2}"
"""
FAKE_BUILD_DOCKER = """#!/usr/bin/env bash
set -eu
DIR="$(cd "$(dirname "$0")" && pwd)"
printf '%s\\n' "$@" >"${DIR}/called.args"
pwd >"${DIR}/called.cwd"
mkdir -p "${DIR}/deploy"  # build-docker.sh copies the container's deploy/ out
printf 'image\\n' >"${DIR}/deploy/image_2026-12-06-madoguchi-kiosk.img.xz"
"""


def _pigen(root: Path, *, arm64: bool = True) -> Path:
    """A pi-gen tree with the layout build.sh reads: stage0-2 (stage2 exports the Lite image), export-image."""
    for stage in ("stage0", "stage1", "stage2"):
        (root / stage / "00-base").mkdir(parents=True)
        prerun = root / stage / "prerun.sh"
        prerun.write_text("#!/bin/bash -e\n")
        prerun.chmod(0o755)
    (root / "stage2" / "EXPORT_IMAGE").write_text('IMG_SUFFIX="-lite"\n')
    (root / "export-image" / "05-finalise").mkdir(parents=True)
    for name, text in (("build.sh", FAKE_BUILD), ("build-docker.sh", FAKE_BUILD_DOCKER)):
        (root / name).write_text(text if arm64 else text.replace("export ARCH=arm64", "export ARCH=armhf"))
        (root / name).chmod(0o755)
    return root


@pytest.fixture
def pigen(tmp_path: Path) -> Path:
    return _pigen(tmp_path / "pi-gen")


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    """Every input of the kiosk stage, as the KIOSK_* settings that point at them."""
    folder = tmp_path / "dist"
    (folder / "wheelhouse").mkdir(parents=True)
    (folder / "wheelhouse" / "madoguchi-0.1.0-py3-none-any.whl").write_bytes(b"PK\x05\x06" + bytes(18))
    (folder / "wheelhouse" / "SHA256SUMS").write_text("0" * 64 + "  madoguchi-0.1.0-py3-none-any.whl\n")
    (folder / "root.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (folder / "release-keys").mkdir()
    (folder / "release-keys" / "release-2026.pub").write_text("release key\n")
    (folder / "fleet-root").mkdir()
    (folder / "fleet-root" / "root.pub").write_text("fleet root\n")
    (folder / "ssh").mkdir()
    (folder / "ssh" / "kadmin.pub").write_text(SSH_KEY + "\n")
    return {
        "KIOSK_WHEELHOUSE": str(folder / "wheelhouse"),
        "KIOSK_ROOT_CA": str(folder / "root.pem"),
        "KIOSK_RELEASE_KEYS": str(folder / "release-keys"),
        "KIOSK_FLEET_ROOT_KEYS": str(folder / "fleet-root"),
        "KIOSK_SSH_PUBKEY_FILE": str(folder / "ssh" / "kadmin.pub"),
    }


def _env(inputs: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "FIRST_USER_", "PUBKEY_"))}
    return {**env, **inputs, "MADOGUCHI_CHECKER": str(CHECKER), **extra}


def _check(
    env: dict[str, str], base: Path, *configs: Path, docker: bool = False
) -> subprocess.CompletedProcess[str]:
    args = [str(CHECKER), "--base-dir", str(base), *(["--docker"] if docker else []), *map(str, configs)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)


def _errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("check-config: ERROR: ")]


def _overlay(tmp_path: Path, text: str) -> Path:
    """A second config layered after the shipped one, as `build.sh -c` layers files."""
    path = tmp_path / "overlay.config"
    path.write_text(text + "\n")
    return path


# --- the shipped config ------------------------------------------------------------------------------


def test_shipped_config_passes_pi_gens_checks(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN provisioning/image/config with its inputs and stage2/SKIP_IMAGES WHEN sourced as pi-gen's
    build.sh sources it and checked THEN every pi-gen rule and ours passes."""
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    result = _check(_env(inputs), pigen, CONFIG)
    assert result.returncode == 0, result.stderr
    assert _errors(result) == []
    assert "madoguchi-kiosk, xz" in result.stdout


def test_shipped_config_gives_a_random_hex_throwaway_password_per_sourcing() -> None:
    """GIVEN the config WHEN sourced twice THEN FIRST_USER_PASS is 32 hex digits, different each time
    (nothing to leak: the stage locks it), and the maintenance account keeps its rename disabled."""
    script = f'source "{CONFIG}"; echo "$FIRST_USER_PASS $DISABLE_FIRST_BOOT_USER_RENAME"'
    env = _env({})
    first, second = (
        subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    )
    assert re.fullmatch("[0-9a-f]{32}", first[0]) and re.fullmatch("[0-9a-f]{32}", second[0])
    assert first[0] != second[0]
    assert first[1] == "1"


def test_config_before_the_fix_fails_exactly_pi_gens_two_checks(
    pigen: Path, inputs: dict[str, str], tmp_path: Path
) -> None:
    """GIVEN the config of commit 9a7aab5, which pi-gen refused at once WHEN checked THEN the two messages
    pi-gen's build.sh stopped with (FIRST_USER_PASS, PUBKEY_SSH_FIRST_USER) and nothing else."""
    shown = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{BROKEN_CONFIG_COMMIT}:provisioning/image/config"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        pytest.skip(f"git history without {BROKEN_CONFIG_COMMIT[:7]}")
    old = tmp_path / "old.config"
    old.write_text(shown.stdout)
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    env = _env({**inputs, "MADOGUCHI_DIR": str(REPO)})
    del env["KIOSK_SSH_PUBKEY_FILE"]  # the old config had no such setting
    result = _check(env, pigen, old)
    assert result.returncode == 1
    assert [e.removeprefix("check-config: ERROR: ") for e in _errors(result)] == [
        "To disable user rename on first boot, FIRST_USER_PASS needs to be set",
        "Must set 'PUBKEY_SSH_FIRST_USER' to a valid SSH public key if using PUBKEY_ONLY_SSH",
    ]


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        # pi-gen build.sh
        ("FIRST_USER_PASS=''", "To disable user rename on first boot, FIRST_USER_PASS needs to be set"),
        ("unset FIRST_USER_PASS", "To disable user rename on first boot, FIRST_USER_PASS needs to be set"),
        ("PUBKEY_SSH_FIRST_USER=''", "Must set 'PUBKEY_SSH_FIRST_USER' to a valid SSH public key"),
        ("FIRST_USER_NAME=Kadmin", "Invalid FIRST_USER_NAME: Kadmin"),
        ("FIRST_USER_NAME=9admin", "Invalid FIRST_USER_NAME: 9admin"),
        ("WPA_PASSWORD=short", "WPA_PASSWORD must be between 8 and 63 characters"),
        (f"WPA_PASSWORD={'x' * 64}", "WPA_PASSWORD must be between 8 and 63 characters"),
        (
            "EXPORT_CONFIG_DIR=/nonexistent/export-image",
            "EXPORT_CONFIG_DIR invalid: /nonexistent/export-image",
        ),
        (
            'STAGE_LIST="stage0 stage1 stage2 stage-nowhere"',
            "STAGE_LIST entry stage-nowhere: no such stage folder",
        ),
        ("APT_PROXY=http://127.0.0.1:9", "Could not reach APT_PROXY server: http://127.0.0.1:9"),
        # pi-gen stage0/prerun.sh, export-image/05-finalise, stage1 scripts (made strict here)
        ("RELEASE=bookworm", "RELEASE=bookworm: the arm64 branch builds trixie"),
        ("DEPLOY_COMPRESSION=bz2", "DEPLOY_COMPRESSION=bz2: pi-gen knows zip, gz, xz, none"),
        ("COMPRESSION_LEVEL=12", "COMPRESSION_LEVEL=12: must be 0 to 9"),
        ("TARGET_HOSTNAME=kiosk_01", "TARGET_HOSTNAME=kiosk_01: not a host name"),
        ("FIRST_USER_PASS='pa$$word'", "FIRST_USER_PASS contains $"),
        # ours
        ("ENABLE_SSH=0", "PUBKEY_ONLY_SSH=1 but ENABLE_SSH=0"),
        ("PUBKEY_SSH_FIRST_USER='-----BEGIN OPENSSH PRIVATE KEY-----'", "is not an OpenSSH public key"),
        ("KIOSK_WHEELHOUSE=/nonexistent/wheels", "no wheels in /nonexistent/wheels: run `make wheelhouse`"),
        ("KIOSK_ROOT_CA=/nonexistent/root.pem", "fleet root /nonexistent/root.pem is missing"),
        ("KIOSK_RELEASE_KEYS=/nonexistent/keys", "no release public keys (*.pub) in /nonexistent/keys"),
        ("KIOSK_APP_VERSION=''", "KIOSK_APP_VERSION and KIOSK_APP_REQUIREMENT must be set"),
        ("KIOSK_SSH_FROM='10.20.0.0/33'", "KIOSK_SSH_FROM entry '10.20.0.0/33': IPv4 prefix above 32"),
        (
            "KIOSK_SSH_FROM='10.20.0.0/16 maint.city.example'",
            "KIOSK_SSH_FROM entry 'maint.city.example' is not",
        ),
    ],
)
def test_each_rule_fails_alone_with_its_message(
    pigen: Path, inputs: dict[str, str], tmp_path: Path, overlay: str, message: str
) -> None:
    """GIVEN the shipped config with one setting broken by a layered config WHEN checked THEN exactly one
    rule fails, with pi-gen's message (or ours) naming the setting."""
    if overlay.startswith("APT_PROXY") and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    result = _check(_env(inputs), pigen, CONFIG, _overlay(tmp_path, overlay))
    assert result.returncode == 1
    errors = _errors(result)
    assert len(errors) == 1 and message in errors[0], result.stderr


def test_a_missing_ssh_key_file_says_how_to_make_one(
    pigen: Path, inputs: dict[str, str], tmp_path: Path
) -> None:
    """GIVEN KIOSK_SSH_PUBKEY_FILE naming no file WHEN checked THEN pi-gen's PUBKEY_SSH_FIRST_USER rule fails
    and ours names the file and the ssh-keygen command."""
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    result = _check(_env({**inputs, "KIOSK_SSH_PUBKEY_FILE": str(tmp_path / "none.pub")}), pigen, CONFIG)
    errors = "\n".join(_errors(result))
    assert result.returncode == 1
    assert "Must set 'PUBKEY_SSH_FIRST_USER'" in errors
    assert f"no SSH public key for kadmin at {tmp_path / 'none.pub'}: ssh-keygen -t ed25519" in errors


def test_no_fleet_root_key_only_warns_as_the_stage_does(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN no fleet signing root WHEN checked THEN a warning (kiosks trust the root handed over at
    enrolment, as stage-kiosk/02-app says) and no error."""
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    result = _check(_env({**inputs, "KIOSK_FLEET_ROOT_KEYS": "/nonexistent/fleet-root"}), pigen, CONFIG)
    assert result.returncode == 0, result.stderr
    assert "warning: no fleet root key" in result.stderr


def test_stage2_without_skip_images_would_export_a_second_image(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN pi-gen's stage2 with its EXPORT_IMAGE and no SKIP_IMAGES WHEN checked THEN refused: pi-gen
    would export a Lite image next to the kiosk image."""
    result = _check(_env(inputs), pigen, CONFIG)
    assert [e for e in _errors(result) if "stage2 exports an image too" in e], result.stderr
    assert f"touch {pigen / 'stage2' / 'SKIP_IMAGES'}" in result.stderr


def test_stage_scripts_pi_gen_would_skip_and_clashing_stage_names_are_refused(
    pigen: Path, inputs: dict[str, str], tmp_path: Path
) -> None:
    """GIVEN a stage whose NN-run.sh is not executable and two stages with one name WHEN checked THEN both
    are refused (pi-gen skips the script; both stages would share WORK_DIR/<name>)."""
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    odd = pigen / "extra" / "stage-kiosk"
    (odd / "00-thing").mkdir(parents=True)
    (odd / "00-thing" / "00-run.sh").write_text("#!/bin/bash -e\n")
    (odd / "00-thing" / "00-run.sh").chmod(0o644)
    overlay = _overlay(
        tmp_path, f'STAGE_LIST="stage0 stage1 stage2 {odd} ${{MADOGUCHI_DIR}}/provisioning/image/stage-kiosk"'
    )
    errors = "\n".join(_errors(_check(_env(inputs), pigen, CONFIG, overlay)))
    assert f"{odd}/00-thing/00-run.sh is not executable: pi-gen would skip it" in errors
    assert "two STAGE_LIST entries are named stage-kiosk" in errors


def test_shipped_config_cannot_work_in_docker_as_it_is(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN the shipped config handed straight to build-docker.sh WHEN checked as the container sees it
    (/config alone, the pi-gen tree as /pi-gen) THEN the stage and every input resolve outside the tree:
    the reason for build-image.sh."""
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    result = _check(_env(inputs), pigen, CONFIG, docker=True)
    errors = "\n".join(_errors(result))
    assert result.returncode == 1
    assert "no such stage folder (/provisioning/image/stage-kiosk" in errors
    assert f"{inputs['KIOSK_WHEELHOUSE']} is outside the pi-gen tree" in errors


# --- build-image.sh ----------------------------------------------------------------------------------


def _wrap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRAPPER), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _called_env(pigen: Path) -> dict[str, str]:
    text = (pigen / "called.env").read_text()
    return dict(re.findall(r"^([A-Z_]+)=(.*?)(?=^[A-Z_]+=|\Z)", text, flags=re.M | re.S))


def test_native_build_gets_a_staged_tree_and_a_config_that_passes(
    pigen: Path, inputs: dict[str, str]
) -> None:
    """GIVEN a pi-gen arm64 tree and every input WHEN build-image.sh PI_GEN_DIR THEN it stages the stage, its
    scripts and inputs into PI_GEN_DIR/madoguchi, touches stage2/SKIP_IMAGES and runs `./build.sh -c
    <generated config>` in PI_GEN_DIR, where the config passes pi-gen's checks and points only inside the tree."""
    result = _wrap(_env(inputs, KIOSK_PAYMENT_USB="0403:6001:A1 B"), str(pigen))
    assert result.returncode == 0, result.stdout + result.stderr
    staged = pigen / "madoguchi"
    assert (pigen / "called.args").read_text().splitlines() == ["-c", str(staged / "config")]
    assert (pigen / "called.cwd").read_text().strip() == str(pigen)
    assert (pigen / "stage2" / "SKIP_IMAGES").is_file()
    assert "check-config: OK" in result.stdout  # the fake build.sh ran the checker on what it sourced

    seen = _called_env(pigen)
    assert seen["STAGE_LIST"].split() == [*(f"{pigen}/stage{n}" for n in range(3)), f"{staged}/stage-kiosk"]
    assert re.fullmatch("[0-9a-f]{32}\n", seen["FIRST_USER_PASS"])
    assert seen["PUBKEY_SSH_FIRST_USER"].strip() == SSH_KEY
    assert seen["KIOSK_PAYMENT_USB"].strip() == "0403:6001:A1 B"
    assert seen["KIOSK_APP_REQUIREMENT"].strip() == "madoguchi[kiosk]==0.1.0"
    for var in PATH_VARS:
        assert seen[var].strip().startswith(f"{staged}/inputs/"), var
    assert sorted(p.name for p in (staged / "inputs" / "wheelhouse").iterdir()) == [
        "SHA256SUMS",
        "madoguchi-0.1.0-py3-none-any.whl",
    ]
    assert (staged / "inputs" / "release-keys" / "release-2026.pub").is_file()
    assert (staged / "inputs" / "fleet-root" / "root.pub").is_file()

    compared = filecmp.dircmp(IMAGE / "stage-kiosk", staged / "stage-kiosk")
    assert not compared.left_only and not compared.right_only and not compared.diff_files
    assert os.access(staged / "stage-kiosk" / "01-system" / "00-run.sh", os.X_OK)
    assert os.access(staged / "scripts" / "kiosk-udev-rules.sh", os.X_OK)  # 01-system runs ../../scripts/

    lint = subprocess.run(["shellcheck", str(staged / "config")], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout


def test_docker_build_config_resolves_inside_the_container(
    pigen: Path, inputs: dict[str, str], tmp_path: Path
) -> None:
    """GIVEN build-image.sh --docker WHEN build-docker.sh is called THEN with -c <generated config>; and with
    the tree copied to a stand-in /pi-gen, the config alone as /config and the original tree gone, the config
    passes the checks, every path resolves inside /pi-gen, and build-docker.sh's host-side `set -eu` sourcing
    finds IMG_NAME."""
    result = _wrap(_env(inputs), "--docker", str(pigen))
    assert result.returncode == 0, result.stdout + result.stderr
    config = pigen / "madoguchi" / "config"
    assert (pigen / "called.args").read_text().splitlines() == ["-c", str(config)]

    host = subprocess.run(
        ["bash", "-c", 'set -eu; source "$1"; echo "$IMG_NAME"', "_", str(config)],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )
    assert host.returncode == 0 and host.stdout.strip() == "madoguchi-kiosk", host.stderr

    container = tmp_path / "container"
    shutil.copytree(pigen, container / "pi-gen", symlinks=True)
    shutil.copy(config, container / "config")
    pigen.rename(tmp_path / "gone")
    clean = {k: v for k, v in _env({}).items()}
    checked = _check(clean, container / "pi-gen", container / "config", docker=True)
    assert checked.returncode == 0, checked.stderr
    names = " ".join(PATH_VARS)
    script = f'source "{container / "config"}"; for v in STAGE_LIST {names}; do echo "${{!v}}"; done'
    sourced = subprocess.run(
        ["bash", "-c", script],
        env={**clean, "BASE_DIR": str(container / "pi-gen")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sourced and all(p.startswith(f"{container}/pi-gen/") and Path(p).exists() for p in sourced), (
        sourced
    )


def test_missing_inputs_are_all_named_before_anything_is_copied(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN no wheelhouse and no release keys WHEN build-image.sh runs THEN both are named with how to make
    them, nothing is staged and pi-gen is not called."""
    env = _env(
        {**inputs, "KIOSK_WHEELHOUSE": "/nonexistent/wheels", "KIOSK_RELEASE_KEYS": "/nonexistent/keys"}
    )
    result = _wrap(env, str(pigen))
    assert result.returncode == 1
    assert "no wheels in /nonexistent/wheels: run `make wheelhouse`" in result.stderr
    assert "no release public keys (*.pub) in /nonexistent/keys" in result.stderr
    assert not (pigen / "madoguchi").exists() and not (pigen / "called.args").exists()


def test_a_second_run_replaces_the_staged_tree(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN a staged tree with a stale file WHEN build-image.sh --stage-only runs again THEN the stale file
    is gone, the generated config is the same and pi-gen is not called."""
    assert _wrap(_env(inputs), "--stage-only", str(pigen)).returncode == 0
    first = (pigen / "madoguchi" / "config").read_text()
    (pigen / "madoguchi" / "stage-kiosk" / "03-stale").mkdir()
    again = _wrap(_env(inputs), "--stage-only", str(pigen))
    assert again.returncode == 0, again.stderr
    assert "build with: cd" in again.stdout
    assert not (pigen / "madoguchi" / "stage-kiosk" / "03-stale").exists()
    assert (pigen / "madoguchi" / "config").read_text() == first
    assert not (pigen / "called.args").exists()


def test_the_wrapper_refuses_a_32_bit_pi_gen_and_a_foreign_madoguchi_folder(
    tmp_path: Path, inputs: dict[str, str]
) -> None:
    """GIVEN pi-gen's master (32-bit) branch, or a PI_GEN_DIR/madoguchi it did not make WHEN build-image.sh
    runs THEN it stops with what to do and touches nothing of it."""
    armhf = _pigen(tmp_path / "armhf", arm64=False)
    result = _wrap(_env(inputs), str(armhf))
    assert result.returncode == 1 and f"git -C {armhf} checkout arm64" in result.stderr

    arm64 = _pigen(tmp_path / "arm64")
    (arm64 / "madoguchi").mkdir()
    (arm64 / "madoguchi" / "notes.txt").write_text("mine\n")
    result = _wrap(_env(inputs), str(arm64))
    assert result.returncode == 1 and "was not made by build-image.sh" in result.stderr
    assert (arm64 / "madoguchi" / "notes.txt").read_text() == "mine\n"


# --- SSH source networks -----------------------------------------------------------------------------


def test_ssh_from_anywhere_only_warns_and_a_maintenance_network_passes_quietly(
    pigen: Path, inputs: dict[str, str]
) -> None:
    """GIVEN the shipped config WHEN KIOSK_SSH_FROM is empty THEN a warning names the setting (the firewall
    lets SSH in from anywhere) and no error; WHEN it names IPv4 and IPv6 networks THEN no warning."""
    (pigen / "stage2" / "SKIP_IMAGES").touch()
    anywhere = _check(_env(inputs), pigen, CONFIG)
    assert anywhere.returncode == 0, anywhere.stderr
    assert "warning: KIOSK_SSH_FROM is empty" in anywhere.stderr
    limited = _check(_env(inputs, KIOSK_SSH_FROM="10.20.0.0/16 fd00:20::/64"), pigen, CONFIG)
    assert limited.returncode == 0, limited.stderr
    assert "KIOSK_SSH_FROM" not in limited.stderr


def test_the_ssh_networks_reach_the_stage_through_the_generated_config(
    pigen: Path, inputs: dict[str, str]
) -> None:
    """GIVEN KIOSK_SSH_FROM in the environment WHEN build-image.sh --stage-only THEN the generated config
    exports it for stage-kiosk/01-system (which writes the firewall and sshd's AllowUsers from it)."""
    result = _wrap(_env(inputs, KIOSK_SSH_FROM="10.20.0.0/16 fd00:20::/64"), "--stage-only", str(pigen))
    assert result.returncode == 0, result.stderr
    assert "export KIOSK_SSH_FROM=10.20.0.0/16\\ fd00:20::/64" in (pigen / "madoguchi" / "config").read_text()


# --- build-image.sh: SHA256SUMS and its signature ----------------------------------------------------


def test_a_build_sums_and_signs_only_the_files_it_made(
    pigen: Path, inputs: dict[str, str], tmp_path: Path
) -> None:
    """GIVEN an image of an earlier build in deploy/ and KIOSK_IMAGE_SIGNING_KEY WHEN build-image.sh runs
    THEN deploy/SHA256SUMS lists the new image and its .info (not the old image) and SHA256SUMS.sig
    verifies with the key's public half."""
    key = tmp_path / "keys" / "image-2026.key"
    generate_key(key)
    (pigen / "deploy").mkdir()
    old = pigen / "deploy" / "image_2026-11-01-madoguchi-kiosk.img.xz"
    old.write_text("last month\n")
    os.utime(old, (1, 1))
    result = _wrap(_env(inputs, KIOSK_IMAGE_SIGNING_KEY=str(key)), str(pigen))
    assert result.returncode == 0, result.stdout + result.stderr
    report = verify_sums(pigen / "deploy" / "SHA256SUMS", key.with_suffix(".pub"))
    assert report.files == ("2026-12-06-madoguchi-kiosk.info", "image_2026-12-06-madoguchi-kiosk.img.xz")
    assert report.key_id
    assert "signed:" in result.stdout and "NOT signed" not in result.stderr


def test_an_unsigned_build_is_summed_and_warned_about(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN no KIOSK_IMAGE_SIGNING_KEY and a SHA256SUMS.sig of an earlier build WHEN build-image.sh --docker
    runs THEN SHA256SUMS covers the new image, the stale signature is gone, and the warning says so before
    pi-gen starts and again at the end with the command to sign."""
    (pigen / "deploy").mkdir()
    (pigen / "deploy" / "SHA256SUMS.sig").write_bytes(bytes(64))
    result = _wrap(_env(inputs), "--docker", str(pigen))
    assert result.returncode == 0, result.stdout + result.stderr
    sums = pigen / "deploy" / "SHA256SUMS"
    assert verify_sums(sums).files == ("image_2026-12-06-madoguchi-kiosk.img.xz",)
    assert not (pigen / "deploy" / "SHA256SUMS.sig").exists()
    assert "KIOSK_IMAGE_SIGNING_KEY is not set" in result.stderr
    assert "SHA256SUMS is NOT signed" in result.stderr and f"sums sign {sums} --key KEY" in result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"MADOGUCHI_PYTHON": "/nonexistent/python"}, "no Python with the project at /nonexistent/python"),
        ({"MADOGUCHI_PYTHON": "/bin/true"}, "no Python with the project at /bin/true"),
        (
            {"KIOSK_IMAGE_SIGNING_KEY": "/nonexistent/image.key"},
            "KIOSK_IMAGE_SIGNING_KEY=/nonexistent/image.key",
        ),
    ],
)
def test_what_the_checksum_step_needs_is_checked_before_pi_gen_starts(
    pigen: Path, inputs: dict[str, str], extra: dict[str, str], message: str
) -> None:
    """GIVEN no Python with the project, or a signing key that is not there WHEN build-image.sh runs THEN it
    stops naming it, and pi-gen is never called (not an hour later)."""
    result = _wrap(_env(inputs, **extra), str(pigen))
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert not (pigen / "called.args").exists()


def test_a_build_that_leaves_no_image_fails(pigen: Path, inputs: dict[str, str]) -> None:
    """GIVEN a pi-gen run that exits 0 without a new image in deploy/ WHEN build-image.sh runs THEN it fails
    saying so, and writes no SHA256SUMS."""
    result = _wrap(_env(inputs, FAKE_NO_IMAGE="1"), str(pigen))
    assert result.returncode == 1
    assert "has no new image named *madoguchi-kiosk*.img*" in result.stderr
    assert not (pigen / "deploy" / "SHA256SUMS").exists()
