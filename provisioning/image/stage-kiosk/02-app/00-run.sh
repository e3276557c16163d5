#!/bin/bash -e
# Host side: the wheelhouse, the pinned fleet CA root, the fleet signing root and the release public keys
# go into the image.
# shellcheck disable=SC2154  # ROOTFS_DIR and KIOSK_* come from pi-gen and ../../config

root="${ROOTFS_DIR:?ROOTFS_DIR is not set (run from pi-gen or the dry run)}"
wheelhouse="${KIOSK_WHEELHOUSE:?set KIOSK_WHEELHOUSE to a folder of aarch64 wheels}"
version="${KIOSK_APP_VERSION:?set KIOSK_APP_VERSION}"

compgen -G "${wheelhouse}/*.whl" >/dev/null || {
	echo "02-app: no wheels in ${wheelhouse}" >&2
	exit 1
}
[[ -f "${KIOSK_ROOT_CA:?set KIOSK_ROOT_CA}" ]] || {
	echo "02-app: fleet root ${KIOSK_ROOT_CA} is missing (kiosk-central ca init)" >&2
	exit 1
}
release="${root}/opt/madoguchi/releases/${version}"
install -d -m 0755 "${release}/wheels"
install -m 0644 "${wheelhouse}"/*.whl "${release}/wheels/"
install -D -m 0644 "${KIOSK_ROOT_CA}" "${root}/etc/madoguchi/root.pem"
install -d -m 0755 "${root}/etc/madoguchi/release-keys"
if compgen -G "${KIOSK_RELEASE_KEYS:-/nonexistent}/*.pub" >/dev/null; then
	install -m 0644 "${KIOSK_RELEASE_KEYS}"/*.pub "${root}/etc/madoguchi/release-keys/"
else
	echo "02-app: warning: no release keys in ${KIOSK_RELEASE_KEYS:-<unset>}; kiosk update apply will refuse every bundle" >&2
fi
# The fleet signing root: kiosk-data-layout copies it into /data/kiosk/trust/root at every boot. Without it
# the kiosk takes the root the central hands over at enrolment (pinned by enrol.json's fleet_root_id).
install -d -m 0755 "${root}/etc/madoguchi/fleet-root"
if compgen -G "${KIOSK_FLEET_ROOT_KEYS:-/nonexistent}/*.pub" >/dev/null; then
	install -m 0644 "${KIOSK_FLEET_ROOT_KEYS}"/*.pub "${root}/etc/madoguchi/fleet-root/"
elif [[ -f "${KIOSK_FLEET_ROOT_KEYS:-/nonexistent}" ]]; then
	install -m 0644 "${KIOSK_FLEET_ROOT_KEYS}" "${root}/etc/madoguchi/fleet-root/root.pub"
else
	echo "02-app: warning: no fleet root key in ${KIOSK_FLEET_ROOT_KEYS:-<unset>}; kiosks trust the root their central hands over at enrolment" >&2
fi
