#!/usr/bin/env bats
# kiosk-data-setup.sh (data partition), kiosk-data-layout.sh (folders, factory release), kiosk-overlay-enable.sh.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	setup_stubs
	export BLKID="${STUBS}/blkid" FINDMNT="${STUBS}/findmnt" LSBLK="${STUBS}/lsblk" SFDISK="${STUBS}/sfdisk"
	export PARTX="${STUBS}/partx" RESIZE2FS="${STUBS}/resize2fs" MKFS="${STUBS}/mkfs" UDEVADM="${STUBS}/udevadm"
	for tool in partx resize2fs mkfs udevadm; do stub "$tool"; done
	stub_stdin sfdisk
	stub findmnt 0 /dev/mmcblk0p2
	stub lsblk 0 mmcblk0
}

@test "first boot sizes root and turns the rest of the card into kdata" {
	stub blkid 2
	KIOSK_ROOT_SIZE_MIB=4096 run "${FILES}/kiosk-data-setup.sh"
	[ "$status" -eq 0 ]
	grep -qx "sfdisk --no-reread --no-tell-kernel -N 2 /dev/mmcblk0" "${CALLS}"
	grep -qx "sfdisk --no-reread --no-tell-kernel --append /dev/mmcblk0" "${CALLS}"
	grep -qx "partx --update /dev/mmcblk0" "${CALLS}"
	grep -qx "resize2fs /dev/mmcblk0p2" "${CALLS}"
	grep -qx "mkfs -q -F -L kdata /dev/mmcblk0p3" "${CALLS}"
	[ "$(cat "${CALLS}.stdin")" = "$(printf ',4096MiB\n,')" ]
}

@test "an existing kdata partition is never touched again" {
	stub blkid 0 /dev/mmcblk0p3
	run "${FILES}/kiosk-data-setup.sh"
	[ "$status" -eq 0 ]
	run ! grep -q -e sfdisk -e mkfs "${CALLS}"
}

@test "a root that is not partition 2 is refused without partitioning" {
	stub blkid 2
	stub findmnt 0 /dev/sda1
	stub lsblk 0 sda
	run "${FILES}/kiosk-data-setup.sh"
	[ "$status" -eq 1 ]
	[[ "$output" == *"expected the root on partition 2"* ]]
	run ! grep -q sfdisk "${CALLS}"
}

@test "layout creates the folders and points current at the factory release, once" {
	data="${BATS_TEST_TMPDIR}/data" factory="${BATS_TEST_TMPDIR}/opt/releases"
	mkdir -p "${factory}/0.1.0" && echo '{}' >"${factory}/0.1.0/manifest.json"
	KIOSK_DATA_DIR="$data" KIOSK_FACTORY_DIR="$factory" KIOSK_OWNER=root run "${FILES}/kiosk-data-layout.sh"
	[ "$status" -eq 0 ]
	[ "$(readlink "${data}/releases/current")" = "${factory}/0.1.0" ]
	[ "$(stat -c %a "${data}/identity")" = "700" ]
	ln -sfn 0.2.0 "${data}/releases/current"   # an update happened since
	KIOSK_DATA_DIR="$data" KIOSK_FACTORY_DIR="$factory" KIOSK_OWNER=root run "${FILES}/kiosk-data-layout.sh"
	[ "$status" -eq 0 ]
	[ "$(readlink "${data}/releases/current")" = "0.2.0" ]
}

@test "layout installs the image's fleet root read-only for the app and drops stray roots at each boot" {
	data="${BATS_TEST_TMPDIR}/data" factory="${BATS_TEST_TMPDIR}/opt/releases" roots="${BATS_TEST_TMPDIR}/fleet-root"
	mkdir -p "${factory}/0.1.0" "${roots}" && echo '{}' >"${factory}/0.1.0/manifest.json"
	echo "ROOT KEY" >"${roots}/root.pub"
	layout() { KIOSK_DATA_DIR="$data" KIOSK_FACTORY_DIR="$factory" KIOSK_OWNER=daemon KIOSK_FLEET_ROOT_DIR="$roots" \
		"${FILES}/kiosk-data-layout.sh"; }
	run layout
	[ "$status" -eq 0 ]
	[ "$(cat "${data}/kiosk/trust/root/root.pub")" = "ROOT KEY" ]
	[ "$(stat -c '%U %a' "${data}/kiosk/trust/root")" = "root 755" ]
	[ "$(stat -c '%U %a' "${data}/kiosk/trust/root/root.pub")" = "root 644" ]
	[ "$(stat -c %U "${data}/kiosk/trust")" = "daemon" ]   # the app keeps its accepted keys.json here
	echo "PLANTED" >"${data}/kiosk/trust/root/evil.pub"
	run layout
	[ "$status" -eq 0 ]
	[ ! -e "${data}/kiosk/trust/root/evil.pub" ]
	[ -e "${data}/kiosk/trust/root/root.pub" ]
}

@test "layout without an image fleet root leaves the root folder to enrolment, owned by the kiosk user" {
	data="${BATS_TEST_TMPDIR}/data" factory="${BATS_TEST_TMPDIR}/opt/releases"
	mkdir -p "${factory}/0.1.0" && echo '{}' >"${factory}/0.1.0/manifest.json"
	KIOSK_DATA_DIR="$data" KIOSK_FACTORY_DIR="$factory" KIOSK_OWNER=daemon \
		KIOSK_FLEET_ROOT_DIR="${BATS_TEST_TMPDIR}/none" run "${FILES}/kiosk-data-layout.sh"
	[ "$status" -eq 0 ]
	[ "$(stat -c %U "${data}/kiosk/trust/root")" = "daemon" ]
	run ls "${data}/kiosk/trust/root"
	[ "$output" = "" ]
}

@test "layout without a factory release fails clearly" {
	KIOSK_DATA_DIR="${BATS_TEST_TMPDIR}/d" KIOSK_FACTORY_DIR="${BATS_TEST_TMPDIR}/none" KIOSK_OWNER=root \
		run "${FILES}/kiosk-data-layout.sh"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no factory release"* ]]
}

@test "overlay is enabled and the kiosk reboots only once enrolled and not yet read-only" {
	stub raspi-config
	stub systemctl
	export RASPI_CONFIG="${STUBS}/raspi-config" SYSTEMCTL="${STUBS}/systemctl" KIOSK_DATA_DIR="${BATS_TEST_TMPDIR}/data"
	export KIOSK_PROC_CMDLINE="${BATS_TEST_TMPDIR}/cmdline"
	echo "console=tty1 root=PARTUUID=1-02 quiet" >"${KIOSK_PROC_CMDLINE}"
	run "${FILES}/kiosk-overlay-enable.sh"
	[ "$status" -eq 1 ]
	[ ! -s "${CALLS}" ]
	mkdir -p "${KIOSK_DATA_DIR}/identity" && touch "${KIOSK_DATA_DIR}/identity/cert.pem"
	run "${FILES}/kiosk-overlay-enable.sh"
	[ "$status" -eq 0 ]
	[ "$(cat "${CALLS}")" = "$(printf 'raspi-config nonint do_overlayfs 0\nsystemctl --no-block reboot')" ]
	: >"${CALLS}"
	echo "overlayroot=tmpfs console=tty1 quiet" >"${KIOSK_PROC_CMDLINE}"
	run "${FILES}/kiosk-overlay-enable.sh"
	[ "$status" -eq 0 ]
	[ ! -s "${CALLS}" ]
}
