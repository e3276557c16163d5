#!/bin/bash
# Prepare one flashed card's boot partition for one kiosk: cloud-init seed (host name = device id,
# network) and the kiosk's enrol.json. cloud-init sets the host name and network only; the one-time
# token goes in bootfs/kiosk/enrol.json (deleted after enrolment), never into user-data, which
# cloud-init caches on the root filesystem.
#   kiosk-card-seed.sh BOOTFS ENROL_JSON [NETWORK_CONFIG]
# BOOTFS is the mounted FAT partition labelled bootfs; NETWORK_CONFIG a netplan v2 file (default: DHCP
# on the wired port).
set -euo pipefail

fail() {
	echo "kiosk-card-seed: $*" >&2
	exit 2
}

bootfs="${1:-}"
enrol="${2:-}"
network="${3:-}"
[[ -n "${bootfs}" && -n "${enrol}" ]] || fail "usage: kiosk-card-seed.sh BOOTFS ENROL_JSON [NETWORK_CONFIG]"
[[ -d "${bootfs}" ]] || fail "${bootfs} is not a folder: mount the card's bootfs partition first"
[[ -f "${enrol}" ]] || fail "${enrol} does not exist: kiosk-central enrol-token --device ID --branch NAME --out FILE"
device="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["device_id"])' "${enrol}" 2>/dev/null)" ||
	fail "${enrol} is not an enrol.json from kiosk-central enrol-token (no device_id)"
[[ "${device}" =~ ^[a-z0-9-]{3,64}$ ]] || fail "device id ${device} is not valid (a-z, 0-9, '-', 3-64 characters)"

cat >"${bootfs}/user-data" <<YAML
#cloud-config
# Madoguchi kiosk ${device}: host name only (the enrolment token is in kiosk/enrol.json, not here).
hostname: ${device}
preserve_hostname: false
manage_etc_hosts: true
YAML
cat >"${bootfs}/meta-data" <<YAML
dsmode: local
instance_id: madoguchi-${device}-$(date -u +%Y%m%d%H%M%S)
YAML
if [[ -n "${network}" ]]; then
	[[ -f "${network}" ]] || fail "${network} does not exist"
	cp "${network}" "${bootfs}/network-config"
else
	cat >"${bootfs}/network-config" <<'YAML'
network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
      optional: false
YAML
fi
install -d "${bootfs}/kiosk"
install -m 0600 "${enrol}" "${bootfs}/kiosk/enrol.json"
echo "kiosk-card-seed: ${bootfs} prepared for ${device}"
