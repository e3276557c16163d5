#!/bin/bash
# Folders on the data partition, owned by the kiosk user, the image's fleet signing root, and the image's
# factory release as the first `current` release (kiosk update apply later installs releases next to it).
set -euo pipefail

DATA_DIR="${KIOSK_DATA_DIR:-/data}"
FACTORY_DIR="${KIOSK_FACTORY_DIR:-/opt/madoguchi/releases}"
OWNER="${KIOSK_OWNER:-kiosk}"
FLEET_ROOT_DIR="${KIOSK_FLEET_ROOT_DIR:-/etc/madoguchi/fleet-root}"

install -d -m 0755 -o "${OWNER}" -g "${OWNER}" "${DATA_DIR}/releases" "${DATA_DIR}/kiosk" "${DATA_DIR}/config"
install -d -m 0700 -o "${OWNER}" -g "${OWNER}" "${DATA_DIR}/identity"
install -d -m 0755 -o "${OWNER}" -g "${OWNER}" "${DATA_DIR}/kiosk/trust"
# The image's fleet signing root is the only one: a root-owned copy the app cannot change, refreshed at
# every boot (stray keys removed). An image without one leaves the folder to enrolment.
trust_root="${DATA_DIR}/kiosk/trust/root"
if compgen -G "${FLEET_ROOT_DIR}/*.pub" >/dev/null; then
	install -d -m 0755 -o root -g root "${trust_root}"
	for key in "${trust_root}"/*.pub; do
		if [[ -e "${key}" && ! -e "${FLEET_ROOT_DIR}/${key##*/}" ]]; then
			rm -f "${key}"
		fi
	done
	install -m 0644 -o root -g root "${FLEET_ROOT_DIR}"/*.pub "${trust_root}/"
else
	install -d -m 0755 -o "${OWNER}" -g "${OWNER}" "${trust_root}"
fi
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
