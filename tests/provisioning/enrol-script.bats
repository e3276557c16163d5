#!/usr/bin/env bats
# kiosk-enrol.sh: first-boot enrolment with bootfs/kiosk/enrol.json, or leave it to the pairing screen.

load helpers

setup() {
	setup_stubs
	stub kiosk
	export KIOSK_BIN="${STUBS}/kiosk" KIOSK_DATA_DIR="${BATS_TEST_TMPDIR}/data"
	export KIOSK_TOKEN_FILE="${BATS_TEST_TMPDIR}/boot/kiosk/enrol.json" KIOSK_CA_FILE=/etc/madoguchi/root.pem
}

@test "with enrol.json the kiosk enrols with the token file, pinned root and kiosk as owner" {
	mkdir -p "$(dirname "${KIOSK_TOKEN_FILE}")" && echo '{}' >"${KIOSK_TOKEN_FILE}"
	run "${FILES}/kiosk-enrol.sh"
	[ "$status" -eq 0 ]
	[ "$(cat "${CALLS}")" = "kiosk enrol --token-file ${KIOSK_TOKEN_FILE} --data-dir ${KIOSK_DATA_DIR} --ca-file /etc/madoguchi/root.pem --owner kiosk --clock-wait 300" ]
}

@test "without enrol.json nothing is run and the pairing screen is named" {
	run "${FILES}/kiosk-enrol.sh"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pairing code"* ]]
	[ ! -s "${CALLS}" ]
}

@test "an enrolled kiosk is left alone" {
	mkdir -p "${KIOSK_DATA_DIR}/identity" "$(dirname "${KIOSK_TOKEN_FILE}")"
	touch "${KIOSK_DATA_DIR}/identity/cert.pem" "${KIOSK_TOKEN_FILE}"
	run "${FILES}/kiosk-enrol.sh"
	[ "$status" -eq 0 ]
	[[ "$output" == *"already enrolled"* ]]
	[ ! -s "${CALLS}" ]
}

@test "a failed enrolment fails the unit so systemd retries it" {
	stub kiosk 2
	mkdir -p "$(dirname "${KIOSK_TOKEN_FILE}")" && echo '{}' >"${KIOSK_TOKEN_FILE}"
	run "${FILES}/kiosk-enrol.sh"
	[ "$status" -eq 2 ]
}
