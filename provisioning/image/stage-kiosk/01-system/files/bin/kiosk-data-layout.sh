#!/bin/bash
# Folders on the data partition, owned by the kiosk user, and the image's factory release as the
# first `current` release (kiosk update apply later installs releases next to it).
set -euo pipefail

DATA_DIR="${KIOSK_DATA_DIR:-/data}"
FACTORY_DIR="${KIOSK_FACTORY_DIR:-/opt/madoguchi/releases}"
OWNER="${KIOSK_OWNER:-kiosk}"

install -d -m 0755 -o "${OWNER}" -g "${OWNER}" "${DATA_DIR}/releases" "${DATA_DIR}/kiosk" "${DATA_DIR}/config"
install -d -m 0700 -o "${OWNER}" -g "${OWNER}" "${DATA_DIR}/identity"
if [[ ! -L "${DATA_DIR}/releases/current" ]]; then
	factory=""
	for candidate in "${FACTORY_DIR}"/*/; do
		[[ -f "${candidate}manifest.json" ]] && factory="${candidate%/}"
	done
	if [[ -z "${factory}" ]]; then
		echo "kiosk-data-layout: no factory release in ${FACTORY_DIR}" >&2
		exit 1
	fi
	ln -s "${factory}" "${DATA_DIR}/releases/.current.tmp"
	mv -T "${DATA_DIR}/releases/.current.tmp" "${DATA_DIR}/releases/current"
	echo "kiosk-data-layout: current release is ${factory##*/}"
fi
