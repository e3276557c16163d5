#!/usr/bin/env bats
# kiosk-card-seed.sh: one card's bootfs gets the cloud-init seed (host name = device id) and enrol.json.

load helpers

setup() {
	BOOTFS="${BATS_TEST_TMPDIR}/bootfs"
	mkdir -p "${BOOTFS}"
	ENROL="${BATS_TEST_TMPDIR}/enrol.json"
	printf '{"device_id": "jp-131016-k03", "token": "SECRET-TOKEN", "central_url": "https://e:8443", "ca_fingerprint": "ab"}\n' >"${ENROL}"
}

@test "host name is the device id, the token goes to kiosk/enrol.json and never into user-data" {
	run "${SCRIPTS}/kiosk-card-seed.sh" "${BOOTFS}" "${ENROL}"
	[ "$status" -eq 0 ]
	[[ "$(head -n 1 "${BOOTFS}/user-data")" == "#cloud-config" ]]
	grep -qx "hostname: jp-131016-k03" "${BOOTFS}/user-data"
	run grep -q "SECRET-TOKEN" "${BOOTFS}/user-data" "${BOOTFS}/meta-data" "${BOOTFS}/network-config"
	[ "$status" -eq 1 ]
	grep -q "SECRET-TOKEN" "${BOOTFS}/kiosk/enrol.json"
	grep -q "^instance_id: madoguchi-jp-131016-k03-" "${BOOTFS}/meta-data"
	grep -qx "  version: 2" "${BOOTFS}/network-config"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "${BOOTFS}/kiosk/enrol.json"
}

@test "a network-config of the branch replaces the DHCP default" {
	printf 'network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [10.1.2.3/24]\n' >"${BATS_TEST_TMPDIR}/net.yaml"
	run "${SCRIPTS}/kiosk-card-seed.sh" "${BOOTFS}" "${ENROL}" "${BATS_TEST_TMPDIR}/net.yaml"
	[ "$status" -eq 0 ]
	grep -q "10.1.2.3/24" "${BOOTFS}/network-config"
}

@test "a file that is not an enrol.json, or a bootfs that is not mounted, is refused with the fix" {
	echo '{}' >"${BATS_TEST_TMPDIR}/other.json"
	run "${SCRIPTS}/kiosk-card-seed.sh" "${BOOTFS}" "${BATS_TEST_TMPDIR}/other.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not an enrol.json from kiosk-central enrol-token"* ]]
	run "${SCRIPTS}/kiosk-card-seed.sh" "${BATS_TEST_TMPDIR}/nowhere" "${ENROL}"
	[ "$status" -eq 2 ]
	[[ "$output" == *"mount the card's bootfs partition first"* ]]
	[ ! -e "${BOOTFS}/user-data" ]
}
