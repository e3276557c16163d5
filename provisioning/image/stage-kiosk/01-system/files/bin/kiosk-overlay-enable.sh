#!/bin/bash
# After enrolment (kiosk-overlay.service): make the root filesystem read-only (overlayroot) and reboot.
# State lives on /data; writes to / vanish at reboot from now on.
set -euo pipefail

DATA_DIR="${KIOSK_DATA_DIR:-/data}"
CMDLINE="${KIOSK_PROC_CMDLINE:-/proc/cmdline}"
RASPI_CONFIG="${RASPI_CONFIG:-raspi-config}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"

if [[ ! -e "${DATA_DIR}/identity/cert.pem" ]]; then
	echo "kiosk-overlay: not enrolled yet; the root stays writable" >&2
	exit 1
fi
if grep -qw 'overlayroot=tmpfs' "${CMDLINE}"; then
	echo "kiosk-overlay: overlay already active"
	exit 0
fi
"${RASPI_CONFIG}" nonint do_overlayfs 0
echo "kiosk-overlay: overlay enabled; rebooting"
"${SYSTEMCTL}" --no-block reboot
