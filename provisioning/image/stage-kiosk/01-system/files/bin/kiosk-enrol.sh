#!/bin/bash
# First-boot enrolment (kiosk-enrol.service): use bootfs/kiosk/enrol.json when present; without it
# the touchscreen shows the pairing screen and enrols with the code the operator gives.
set -euo pipefail

TOKEN_FILE="${KIOSK_TOKEN_FILE:-/boot/firmware/kiosk/enrol.json}"
DATA_DIR="${KIOSK_DATA_DIR:-/data}"
CA_FILE="${KIOSK_CA_FILE:-/etc/madoguchi/root.pem}"
KIOSK_BIN="${KIOSK_BIN:-${DATA_DIR}/releases/current/venv/bin/kiosk}"
OWNER="${KIOSK_OWNER:-kiosk}"

if [[ -e "${DATA_DIR}/identity/cert.pem" ]]; then
	echo "kiosk-enrol: already enrolled (${DATA_DIR}/identity/cert.pem exists)"
	exit 0
fi
if [[ ! -f "${TOKEN_FILE}" ]]; then
	echo "kiosk-enrol: no ${TOKEN_FILE}; enrol with a pairing code on the touchscreen"
	exit 0
fi
exec "${KIOSK_BIN}" enrol --token-file "${TOKEN_FILE}" --data-dir "${DATA_DIR}" \
	--ca-file "${CA_FILE}" --owner "${OWNER}" --clock-wait 300
